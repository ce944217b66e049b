import Foundation
import TowerDomain

/// The simulated fleet: every `tick`, each endpoint receives a Poisson-distributed number of
/// requests at its scenario rate, routed to versions by the registry's live weights (so a shift in
/// the console moves traffic), each with a latency and outcome drawn from its version's behaviour.
/// Requests become metrics and traces. Pure and seeded: the same inputs give the same fleet.
///
/// With `virtualTraffic` off the fleet generates nothing itself: real model servers
/// (`ModelServers`) report the requests they answer through `recordServed`, into the same metrics
/// and traces.
public struct Simulator: Sendable {
    public var scenario: Scenario
    public let virtualTraffic: Bool
    public private(set) var metrics = SimMetrics()
    public private(set) var spans: SpanStore
    /// Routing as last read from the registry.
    public private(set) var endpoints: [Endpoint] = []
    private var rng: SplitMix64
    private var spanCounter: UInt64 = 0
    public private(set) var requests = 0

    public init(scenario: Scenario, seed: UInt64 = 0x70E4, spanCapacity: Int = 5000, virtualTraffic: Bool = true) {
        self.scenario = scenario
        self.virtualTraffic = virtualTraffic
        rng = SplitMix64(seed: seed)
        spans = SpanStore(capacity: spanCapacity)
    }

    public mutating func route(_ endpoints: [Endpoint]) { self.endpoints = endpoints }

    /// Simulates the requests that arrive in `[now, now + seconds)`, `elapsed` seconds into the run.
    public mutating func advance(seconds: Double, now: Date, elapsed: Double, traceEvery: Int = 10) {
        guard virtualTraffic else { return }
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

    /// A request a real model server answered: the same metrics, and the same trace shape, as a
    /// simulated one. With `caller` (the B3 context the gateway sent) the server's spans join the
    /// gateway's trace under its span, and the gateway's own sampling decision holds; without it,
    /// a gateway span is written around the server's, as the simulated fleet does, so traces are
    /// found the same way whether or not the gateway traces.
    public mutating func recordServed(endpoint: String, version: String, method: String, path: String, code: Int, start: Date,
                                      seconds: Double, caller: TraceContext? = nil, traceEvery: Int = 10) {
        metrics.record(endpoint: endpoint, version: version, code: code, seconds: seconds)
        requests += 1
        let failed = code >= 500
        let traced = caller.map { $0.sampled ?? true } ?? (failed || requests % traceEvery == 0)
        guard traced else { return }
        spans.add(trace(endpoint: endpoint, version: version, path: path, start: start, ms: seconds * 1000, failed: failed,
                        method: method, caller: caller, code: code))
    }

    /// Spans from elsewhere (see `SpanStore.add`).
    public mutating func addTrace(_ t: Trace) { spans.add(t) }

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
    /// With a `caller`, the trace is the caller's and the server span hangs under the caller's span,
    /// covering the whole time measured; the gateway span is the gateway's to report.
    private mutating func trace(endpoint: String, version: String, path: String, start: Date, ms: Double, failed: Bool,
                                method: String = "POST", caller: TraceContext? = nil, code: Int? = nil) -> Trace {
        let traceID = caller?.traceID ?? id(32)
        let t0 = Int64(start.timeIntervalSince1970 * 1_000_000)
        let total = Int64(ms * 1000)
        let rootID = caller?.spanID ?? id(16), serverID = id(16), preID = id(16), inferID = id(16)
        let overhead = caller == nil ? min(total / 10, 2000) : 0
        let server = total - overhead
        let pre = server / 5
        let status: SpanStatus = failed ? .error : .ok
        let attrs = ["http.status_code": String(code ?? (failed ? 500 : 200)), "model.version": version]
        var spans: [Span] = []
        if caller == nil {
            spans.append(Span(traceID: traceID, spanID: rootID, parentID: nil, service: "gateway", name: "\(method) \(path)",
                              startMicros: t0, durationMicros: total, status: status, attributes: attrs))
        }
        return Trace(traceID: traceID, spans: spans + [
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

/// The trace a caller (the gateway) propagated in B3 headers: the trace, the caller's span, and
/// its sampling decision when it sent one.
public struct TraceContext: Sendable, Equatable {
    public var traceID: String
    public var spanID: String
    public var sampled: Bool?
    public init(traceID: String, spanID: String, sampled: Bool? = nil) { self.traceID = traceID; self.spanID = spanID; self.sampled = sampled }
}
