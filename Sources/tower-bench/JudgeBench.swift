import ArgumentParser
import Foundation
import TowerAnalysis
import TowerDomain
import TowerSim

/// How often the judge is wrong, how soon it is right, and what it costs: seeded simulations of a
/// canary beside its baseline with no real time passing (requests drawn from the simulator's own
/// latency model into the simulator's own histogram bounds), then one refresh's worth of judging.
struct JudgeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "judge",
        abstract: "Judge seeded A/A and regressed canaries: false-fail rate, power within 3 minutes, time to fail, cost per refresh.")

    @Option(help: "Simulated runs per case.") var runs = 1000
    @Option(help: "Requests per second to the endpoint (the simulator's default scenario rate).") var rate = 20.0
    @Option(help: "The canary's share of traffic, in percent.") var canaryWeight = 10
    @Option(help: "The judged window, in seconds.") var window = 300
    @Option(help: "Seconds between looks while traffic builds up.") var lookEvery = 10
    @Option(help: "A regression counts when judged fail within this many seconds of traffic.") var within = 180
    @Option(help: "Seed of the first run.") var seed: UInt64 = 1

    func run() async throws {
        let healthy = Behaviour.healthy
        print("tower-bench judge: \(runs) seeded runs per case, \(rate) req/s, canary at \(canaryWeight) %, window \(window) s, "
              + "baseline p50 \(healthy.p50Ms) ms p99 \(healthy.p99Ms) ms errors \(healthy.errorRatio * 100) %, bounds \(Self.boundsMs.map { "\(Int($0))" }.joined(separator: ",")) ms")

        let aa = simulate(canary: healthy, looks: [window])
        print(String(format: "A/A, %d-minute window: %.1f %% judged fail (target ≤ 2 %%), %.1f %% pass, %.1f %% inconclusive",
                     window / 60, aa.failShare * 100, aa.share(.pass) * 100, aa.share(.inconclusive) * 100))
        let aaLooks = simulate(canary: healthy, looks: Array(stride(from: lookEvery, through: window, by: lookEvery)))
        print(String(format: "A/A, looked at every %d s up to %d s: %.1f %% judged fail at some look (what a watching console would flag)",
                     lookEvery, window, aaLooks.failShare * 100))

        let slow = Behaviour(p50Ms: healthy.p50Ms * 2.0.squareRoot(), p99Ms: healthy.p99Ms * 2, errorRatio: healthy.errorRatio)
        let failing = Behaviour(p50Ms: healthy.p50Ms, p99Ms: healthy.p99Ms, errorRatio: healthy.errorRatio + 0.01)
        let looks = Array(stride(from: lookEvery, through: within, by: lookEvery))
        for (name, b) in [("p99 ×2 (median ×√2, as the simulator's latencyFactor)", slow), ("+1 point errors", failing)] {
            let r = simulate(canary: b, looks: looks)
            let median = r.medianTimeToFail.map { "\(Int($0)) s" } ?? "—"
            print(String(format: "canary %@: %.1f %% judged fail within %d s (target ≥ 95 %%), median time to fail %@",
                         name, r.failShare * 100, within, median))
        }

        let cost = JudgeBenchmark.run(endpoints: 1000, versions: 3, buckets: 20, repeats: 20)
        print(String(format: "judging %d endpoints × 3 versions (%d judgements) from one refresh: %.2f ms (best of 20; target < 5 ms)",
                     cost.endpoints, cost.judgements, cost.seconds * 1000))
    }

    static let boundsMs: [Double] = SimMetrics.buckets.map { $0 * 1000 }

    struct Outcome {
        var verdicts: [Verdict] = []
        var timesToFail: [Double] = []
        var failShare: Double { verdicts.isEmpty ? 0 : Double(verdicts.filter { $0 == .fail }.count) / Double(verdicts.count) }
        func share(_ v: Verdict) -> Double { verdicts.isEmpty ? 0 : Double(verdicts.filter { $0 == v }.count) / Double(verdicts.count) }
        var medianTimeToFail: Double? {
            // Over every run: a run that never failed counts as "later than any look".
            guard !verdicts.isEmpty else { return nil }
            let sorted = timesToFail.sorted()
            let mid = verdicts.count / 2
            return mid < sorted.count ? sorted[mid] : nil
        }
    }

    /// Per run: traffic second by second from t = 0; at each look the window is what the last
    /// `window` seconds held (all of it, while less has passed). A run's verdict is its first
    /// `fail`, else its last look's verdict.
    func simulate(canary: Behaviour, looks: [Int]) -> Outcome {
        let base = Behaviour.healthy
        let baseModel = LatencyModel(p50Ms: base.p50Ms, p99Ms: base.p99Ms)
        let canaryModel = LatencyModel(p50Ms: canary.p50Ms, p99Ms: canary.p99Ms)
        let last = looks.max() ?? window
        var outcome = Outcome()
        for r in 0..<runs {
            var rng = SplitMix64(seed: seed &+ UInt64(r) &* 0x9E37_79B9)
            // Per second, per version: counts per bucket (last = +Inf), requests, errors.
            var perSecond: [[Arm]] = []
            perSecond.reserveCapacity(last)
            var verdict = Verdict.noData
            var lookIndex = 0
            for second in 1...last {
                var arms = [Arm(), Arm()]
                for _ in 0..<Self.poisson(rate, &rng) {
                    let isCanary = Int(rng.next() % 100) < canaryWeight
                    let (model, b) = isCanary ? (canaryModel, canary) : (baseModel, base)
                    arms[isCanary ? 1 : 0].add(latency: model.sample(using: &rng), error: Double.random(in: 0..<1, using: &rng) < b.errorRatio)
                }
                perSecond.append(arms)
                guard lookIndex < looks.count, looks[lookIndex] == second else { continue }
                lookIndex += 1
                let from = max(0, second - window)
                var sum = [Arm(), Arm()]
                for s in from..<second { sum[0].merge(perSecond[s][0]); sum[1].merge(perSecond[s][1]) }
                let j = Judge.judge(canary: sum[1].window("v2", weight: canaryWeight), baseline: sum[0].window("v1", weight: 100 - canaryWeight))
                verdict = j.verdict
                if verdict == .fail {
                    outcome.timesToFail.append(Double(second))
                    break
                }
            }
            outcome.verdicts.append(verdict)
        }
        return outcome
    }

    struct Arm {
        var counts = [Double](repeating: 0, count: JudgeBench.boundsMs.count + 1)
        var requests = 0.0
        var errors = 0.0

        mutating func add(latency ms: Double, error: Bool) {
            counts[JudgeBench.boundsMs.firstIndex { ms <= $0 } ?? JudgeBench.boundsMs.count] += 1
            requests += 1
            if error { errors += 1 }
        }
        mutating func merge(_ o: Arm) {
            for i in counts.indices { counts[i] += o.counts[i] }
            requests += o.requests; errors += o.errors
        }
        func window(_ name: String, weight: Int) -> VersionWindow {
            var cumulative = 0.0
            let buckets = counts.enumerated().map { i, c -> Bucket in
                cumulative += c
                return Bucket(le: i < JudgeBench.boundsMs.count ? JudgeBench.boundsMs[i] : .infinity, count: cumulative)
            }
            return VersionWindow(name: name, weight: weight, latencyBuckets: buckets, requests: requests, errors: errors)
        }
    }

    /// Knuth's method: exact, and cheap at the tens of requests a second simulated here.
    static func poisson<G: RandomNumberGenerator>(_ lambda: Double, _ rng: inout G) -> Int {
        let limit = exp(-lambda)
        var k = 0
        var p = Double.random(in: 0..<1, using: &rng)
        while p > limit {
            k += 1
            p *= Double.random(in: 0..<1, using: &rng)
        }
        return k
    }
}
