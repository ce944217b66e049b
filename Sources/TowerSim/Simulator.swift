import Foundation
import TowerDomain

/// The simulated fleet: every `tick`, each endpoint receives a Poisson-distributed number of
/// requests at its scenario rate, routed to versions by the registry's live weights (so a shift in
/// the console moves traffic), each with a latency and outcome drawn from its version's behaviour.
/// Requests become metrics and traces. Pure and seeded: the same inputs give the same fleet.
public struct Simulator: Sendable {
    public var scenario: Scenario
    public private(set) var metrics = SimMetrics()
    public private(set) var spans: SpanStore
    /// Routing as last read from the registry.
    public private(set) var endpoints: [Endpoint] = []
    private var rng: SplitMix64
    private var spanCounter: UInt64 = 0
    public private(set) var requests = 0

    public init(scenario: Scenario, seed: UInt64 = 0x70E4, spanCapacity: Int = 5000) {
        self.scenario = scenario
        rng = SplitMix64(seed: seed)
        spans = SpanStore(capacity: spanCapacity)
    }

    public mutating func route(_ endpoints: [Endpoint]) { self.endpoints = endpoints }

    /// Simulates the requests that arrive in `[now, now + seconds)`, `elapsed` seconds into the run.
    public mutating func advance(seconds: Double, now: Date, elapsed: Double, traceEvery: Int = 10) {
        for e in endpoints where e.state == .serving {
            let serving = e.versions.filter { $0.state == .serving && $0.weight > 0 }
            guard !serving.isEmpty else { continue }
            let n = poisson(scenario.rate(of: e.name) * seconds)
            for i in 0..<n {
                let v = pick(serving)
                let b = scenario.behaviour(endpoint: e.name, version: v.name, elapsed: elapsed)
                let ms = LatencyModel(p50Ms: b.p50Ms, p99Ms: b.p99Ms).sample(using: &rng)
                let failed = Double.random(in: 0..<1, using: &rng) < b.errorRatio
                metrics.record(endpoint: e.name, version: v.name, code: failed ? 500 : 200, seconds: ms / 1000)
                requests += 1
                // Every failure is traced, and one success in `traceEvery`: enough to search without
                // keeping every request.
                if failed || requests % traceEvery == 0 {
                    let start = now.addingTimeInterval(seconds * Double(i) / Double(max(1, n)))
                    spans.add(trace(endpoint: e.name, version: v.name, path: e.path, start: start, ms: ms, failed: failed))
                }
            }
        }
    }

    private mutating func pick(_ versions: [Version]) -> Version {
        let total = versions.reduce(0) { $0 + $1.weight }
        var r = Int.random(in: 0..<total, using: &rng)
        for v in versions {
            if r < v.weight { return v }
            r -= v.weight
        }
        return versions[versions.count - 1]
    }

    /// Knuth's method for small means, a normal approximation for large ones.
    private mutating func poisson(_ mean: Double) -> Int {
        guard mean > 0 else { return 0 }
        if mean > 30 {
            let z = LatencyModel.standardNormal(using: &rng)
            return max(0, Int((mean + z * mean.squareRoot()).rounded()))
        }
        let l = exp(-mean)
        var k = 0, p = 1.0
        repeat { k += 1; p *= Double.random(in: 0..<1, using: &rng) } while p > l
        return k - 1
    }

    private mutating func id(_ digits: Int) -> String {
        spanCounter += 1
        let v = rng.next()
        let hex = String(v, radix: 16)
        let s = String(repeating: "0", count: max(0, 16 - hex.count)) + hex
        return digits == 32 ? String(format: "%016llx", spanCounter) + s : s
    }

    /// A gateway span around the model server's span, which has pre-processing and inference
    /// children: the shape a waterfall needs to show where the time went.
    private mutating func trace(endpoint: String, version: String, path: String, start: Date, ms: Double, failed: Bool) -> Trace {
        let traceID = id(32)
        let t0 = Int64(start.timeIntervalSince1970 * 1_000_000)
        let total = Int64(ms * 1000)
        let rootID = id(16), serverID = id(16), preID = id(16), inferID = id(16)
        let overhead = min(total / 10, 2000)
        let server = total - overhead
        let pre = server / 5
        let status: SpanStatus = failed ? .error : .ok
        let attrs = ["http.status_code": failed ? "500" : "200", "model.version": version]
        return Trace(traceID: traceID, spans: [
            Span(traceID: traceID, spanID: rootID, parentID: nil, service: "gateway", name: "POST \(path)",
                 startMicros: t0, durationMicros: total, status: status, attributes: attrs),
            Span(traceID: traceID, spanID: serverID, parentID: rootID, service: "\(endpoint)-\(version)", name: "predict",
                 startMicros: t0 + overhead / 2, durationMicros: server, status: status, attributes: attrs),
            Span(traceID: traceID, spanID: preID, parentID: serverID, service: "\(endpoint)-\(version)", name: "preprocess",
                 startMicros: t0 + overhead / 2, durationMicros: pre, status: .ok),
            Span(traceID: traceID, spanID: inferID, parentID: serverID, service: "\(endpoint)-\(version)", name: "model.forward",
                 startMicros: t0 + overhead / 2 + pre, durationMicros: server - pre, status: status,
                 attributes: failed ? ["error.message": "inference failed: worker reset"] : [:]),
        ])
    }
}
