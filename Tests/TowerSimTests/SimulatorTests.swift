import Foundation
import Testing
import TowerDomain
@testable import TowerSim

@Suite struct LatencyModelTests {
    @Test func fitsTheMedianAndTheTail() {
        let m = LatencyModel(p50Ms: 40, p99Ms: 200)
        #expect(abs(m.quantile(0.5) - 40) < 1e-6)
        #expect(abs(m.quantile(0.99) - 200) < 1e-3)
        var rng = SplitMix64(seed: 1)
        let samples = (0..<20_000).map { _ in m.sample(using: &rng) }.sorted()
        #expect(abs(samples[10_000] - 40) / 40 < 0.05)
        #expect(abs(samples[19_800] - 200) / 200 < 0.1)
    }
}

@Suite struct ScenarioTests {
    @Test func parsesRatesBehavioursAndTimedEvents() throws {
        let s = try Scenario.parse(yaml: """
            rate: 10
            default: {p50Ms: 30, p99Ms: 120, errorRatio: 0.001}
            endpoints:
              alpha: {rate: 50, versions: {v2: {p50Ms: 60, p99Ms: 250, errorRatio: 0.01}}}
            events:
              - {at: 90s, endpoint: alpha, version: v2, latencyFactor: 6, errorRatio: 0.04, for: 2m}
            """)
        #expect(s.rate(of: "alpha") == 50 && s.rate(of: "other") == 10)
        #expect(s.behaviour(endpoint: "alpha", version: "v2", elapsed: 89) == Behaviour(p50Ms: 60, p99Ms: 250, errorRatio: 0.01))
        let during = s.behaviour(endpoint: "alpha", version: "v2", elapsed: 90)
        #expect(during.p99Ms == 1500 && during.errorRatio == 0.04)
        #expect(s.behaviour(endpoint: "alpha", version: "v2", elapsed: 210).p99Ms == 250)
        #expect(s.behaviour(endpoint: "alpha", version: "v1", elapsed: 100) == Behaviour(p50Ms: 30, p99Ms: 120, errorRatio: 0.001))
    }

    @Test(arguments: [
        ("rate: -1", "rate must be"),
        ("default: {p50Ms: 50, p99Ms: 10, errorRatio: 0}", "p99Ms must be at least p50Ms"),
        ("events: [{at: soon, endpoint: a}]", "not a duration"),
        ("endpoints: {a: {versions: {v1: {p50Ms: 1, p99Ms: 2, errorRatio: 2}}}}", "errorRatio must be between 0 and 1"),
        ("rate: [1", "not valid"),
    ])
    func badScenariosSayWhatIsWrong(_ yaml: String, _ message: String) {
        #expect(throws: ScenarioError.self) { try Scenario.parse(yaml: yaml) }
        do { _ = try Scenario.parse(yaml: yaml) } catch { #expect("\(error)".contains(message), "\(error)") }
    }
}

@Suite struct SimulatorTests {
    static func endpoint(_ weights: [(String, Int)], state: EndpointState = .serving, drained: Set<String> = []) throws -> Endpoint {
        try Endpoint(name: "alpha", path: "/v1/models/alpha", owner: "t", state: state, revision: 1, versions: weights.map { name, w in
            Version(name: name, artifact: Artifact(uri: "s3://a", digest: "sha256:" + String(repeating: "0", count: 64)), weight: w,
                    state: drained.contains(name) ? .drained : .serving, gate: .passed, stage: .prod)
        }, updatedAt: Date(timeIntervalSince1970: 0), updatedBy: "t")
    }

    static func counts(_ exposition: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in exposition.split(separator: "\n") where line.hasPrefix("http_requests_total{") {
            let version = line.split(separator: "version=\"")[1].prefix { $0 != "\"" }
            out[String(version), default: 0] += Double(line.split(separator: " ").last!)!
        }
        return out
    }

    @Test func trafficFollowsTheRegistrysWeights() throws {
        var sim = Simulator(scenario: Scenario(rate: 200), seed: 7)
        sim.route([try Self.endpoint([("v1", 90), ("v2", 10)])])
        let t0 = Date(timeIntervalSince1970: 1_795_000_000)
        for i in 0..<100 { sim.advance(seconds: 0.1, now: t0.addingTimeInterval(Double(i) / 10), elapsed: Double(i) / 10) }
        var c = Self.counts(sim.metrics.exposition())
        let v1 = try #require(c["v1"], "no traffic to v1"), v2 = try #require(c["v2"], "no traffic to v2")
        #expect(abs(v2 / (v1 + v2) - 0.10) < 0.03, "v2 share \(v2 / (v1 + v2))")
        #expect(abs(v1 + v2 - 2000) < 200, "Poisson arrivals at 200/s for 10 s")
        #expect(Double(sim.requests) == v1 + v2)

        sim.route([try Self.endpoint([("v1", 0), ("v2", 100)])])
        for i in 0..<10 { sim.advance(seconds: 0.1, now: t0.addingTimeInterval(10 + Double(i) / 10), elapsed: 10) }
        c = Self.counts(sim.metrics.exposition())
        #expect(c["v1"] == v1, "a shift moves traffic at once")
        let after = try #require(c["v2"])
        #expect(abs(after - v2 - 200) < 60, "the whole second's 200 arrivals go to v2: \(after - v2)")
    }

    /// Nothing for what must get nothing, while the same fleet otherwise takes its traffic: a
    /// simulator that sent nothing at all must not pass.
    @Test func drainedVersionsAndOutOfServiceEndpointsGetNothing() throws {
        var sim = Simulator(scenario: Scenario(rate: 100), seed: 5)
        sim.route([try Self.endpoint([("v1", 100), ("v2", 0)], drained: ["v2"])])
        sim.advance(seconds: 1, now: Date(), elapsed: 0)
        let c = Self.counts(sim.metrics.exposition())
        #expect(c["v2"] == nil)
        let v1 = try #require(c["v1"], "the serving version gets the traffic")
        #expect(abs(v1 - 100) < 40, "Poisson arrivals at 100/s for 1 s: \(v1)")
        #expect(Double(sim.requests) == v1)

        for state in [EndpointState.serving, .outOfService] {
            var one = Simulator(scenario: Scenario(rate: 100), seed: 5)
            one.route([try Self.endpoint([("v1", 100)], state: state)])
            one.advance(seconds: 1, now: Date(), elapsed: 0)
            if state == .serving { #expect(one.requests > 50, "a serving endpoint gets traffic") } else { #expect(one.requests == 0) }
        }
    }

    @Test func errorsAndLatencyFollowTheBehaviourAndAreTraced() throws {
        let scenario = Scenario(rate: 5000, default: Behaviour(p50Ms: 20, p99Ms: 80, errorRatio: 0.05))
        var sim = Simulator(scenario: scenario, seed: 3)
        sim.route([try Self.endpoint([("v1", 100)])])
        let t0 = Date(timeIntervalSince1970: 1_795_000_000)
        for i in 0..<20 { sim.advance(seconds: 0.1, now: t0.addingTimeInterval(Double(i) / 10), elapsed: 0) }
        let text = sim.metrics.exposition()
        let errors = Double(text.split(separator: "\n").first { $0.contains("code=\"500\"") }!.split(separator: " ").last!)!
        #expect(abs(errors / Double(sim.requests) - 0.05) < 0.006, "error ratio \(errors / Double(sim.requests)) over \(sim.requests)")
        #expect(text.contains("http_request_duration_seconds_bucket{endpoint=\"alpha\",version=\"v1\",le=\"+Inf\"} \(sim.requests)"))
        let failed = sim.spans.search(serviceName: "gateway", spanName: nil, minDurationMicros: nil, endTsMs: 1_795_000_003_000,
                                      lookbackMs: 10_000, errorsOnly: true, limit: 1000)
        #expect(failed.count == Int(errors), "every failure is traced")
        let t = try #require(failed.first)
        #expect(t.spans.count == 4 && t.spans[0].parentID == nil && t.spans[1].parentID == t.spans[0].spanID)
        #expect(t.traceID.count == 32 && t.spans.allSatisfy { $0.spanID.count == 16 })
        #expect(sim.spans.trace(id: t.traceID) == t)
        let slow = sim.spans.search(serviceName: nil, spanName: nil, minDurationMicros: 60_000, endTsMs: 1_795_000_003_000,
                                    lookbackMs: 10_000, errorsOnly: false, limit: 5)
        #expect(slow.allSatisfy { $0.spans[0].durationMicros >= 60_000 } && slow.count <= 5)
    }

    @Test func theSpanStoreIsBounded() {
        var store = SpanStore(capacity: 3)
        for i in 0..<10 {
            store.add(Trace(traceID: String(format: "%032x", i), spans: [Span(traceID: String(format: "%032x", i), spanID: "0000000000000001",
                parentID: nil, service: "s", name: "n", startMicros: Int64(i), durationMicros: 1, status: .ok)]))
        }
        #expect(store.count == 3)
        #expect(store.trace(id: String(format: "%032x", 9)) != nil && store.trace(id: String(format: "%032x", 2)) == nil)
        let json = String(decoding: SpanStore.encode(SpanStore.zipkinJSON(store.trace(id: String(format: "%032x", 9))!.spans)), as: UTF8.self)
        #expect(json.contains("\"localEndpoint\":{\"serviceName\":\"s\"}") && json.contains("\"timestamp\":9"))
    }
}
