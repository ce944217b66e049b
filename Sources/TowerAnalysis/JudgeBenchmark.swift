import Foundation
import TowerDomain

/// A micro-benchmark for `tower-bench`: judging a fleet from one refresh. Inputs are built first
/// (seeded, log-normal-ish latencies over Prometheus-like bounds), then only the judging is timed.
public enum JudgeBenchmark {
    public struct Figures: Sendable {
        public let endpoints: Int
        public let judgements: Int
        public let seconds: Double
        public let failed: Int
    }

    /// Endpoints × versions windows with `buckets` bounds each; the first version carries most weight.
    public static func fleet(endpoints: Int, versions: Int, buckets: Int, seed: UInt64) -> [[VersionWindow]] {
        var rng = SplitMix64(seed: seed)
        // Roughly exponential bounds from 1 ms, the last +Inf.
        var bounds: [Double] = (0..<max(1, buckets - 1)).map { (pow(2, Double($0) * 0.6) * 10).rounded() / 10 }
        bounds.append(.infinity)
        return (0..<endpoints).map { _ in
            // Alike versions of one endpoint, except that one canary in four is two buckets slower.
            let endpointCentre = Double(4 + rng.next() % 8)
            let slowed = rng.next() % 4 == 0
            return (0..<versions).map { v in
                let n = Double(200 + rng.next() % 5000)
                let centre = endpointCentre + (v == versions - 1 && slowed ? 2 : 0)
                var cumulative = 0.0
                let bs = bounds.enumerated().map { i, le -> Bucket in
                    let d = Double(i) - centre
                    cumulative += n * (1 / (1 + d * d)) / 3.5
                    return Bucket(le: le, count: cumulative)
                }
                let errs = Double(rng.next() % 20)
                return VersionWindow(name: "v\(v + 1)", weight: v == 0 ? 80 : 10, latencyBuckets: bs, requests: cumulative, errors: errs)
            }
        }
    }

    /// Judges every endpoint `repeats` times and returns the time per pass over the fleet.
    public static func run(endpoints: Int = 1000, versions: Int = 3, buckets: Int = 20, repeats: Int = 5, seed: UInt64 = 1) -> Figures {
        let fleet = fleet(endpoints: endpoints, versions: versions, buckets: buckets, seed: seed)
        let clock = ContinuousClock()
        var best = Double.infinity
        var judgements = 0, failed = 0
        for _ in 0..<max(1, repeats) {
            judgements = 0; failed = 0
            let start = clock.now
            for versions in fleet {
                for (_, j) in Judge.endpoint(versions) {
                    judgements += 1
                    if j.verdict == .fail { failed += 1 }
                }
            }
            let d = clock.now - start
            let s = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
            best = min(best, s)
        }
        return Figures(endpoints: endpoints, judgements: judgements, seconds: best, failed: failed)
    }

}
