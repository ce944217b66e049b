import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TowerDomain
@testable import TowerSim

@Suite struct SimServerTests {
    @Test func servesMetricsAndTheZipkinQueryAPI() async throws {
        let t0 = Date(timeIntervalSince1970: 1_795_000_000)
        let live = LiveSimulator(Simulator(scenario: Scenario(rate: 300, default: Behaviour(p50Ms: 20, p99Ms: 90, errorRatio: 0.1)), seed: 9), started: t0)
        live.route([try SimulatorTests.endpoint([("v1", 80), ("v2", 20)])])
        live.advance(to: t0, by: 1)
        let app = Application(router: buildSimRouter(live))
        try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { r in
                #expect(r.status == .ok)
                let text = String(buffer: r.body)
                #expect(text.contains("http_requests_total{endpoint=\"alpha\",version=\"v2\",code=\"500\"}"))
                #expect(text.contains("# TYPE http_request_duration_seconds histogram"))
            }
            let end = Int64(t0.timeIntervalSince1970 * 1000) + 2000
            let traceID = try await client.execute(uri: "/api/v2/traces?annotationQuery=error&limit=3&endTs=\(end)&lookback=60000", method: .get) { r -> String in
                #expect(r.status == .ok)
                let traces = try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as! [[[String: Any]]]
                #expect(traces.count == 3)
                #expect(traces.allSatisfy { t in t.contains { ($0["tags"] as? [String: String])?["error"] == "true" } })
                return traces[0][0]["traceId"] as! String
            }
            try await client.execute(uri: "/api/v2/trace/\(traceID)", method: .get) { r in
                let spans = try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as! [[String: Any]]
                #expect(spans.count == 4 && spans.allSatisfy { $0["traceId"] as? String == traceID })
            }
            try await client.execute(uri: "/api/v2/trace/ffffffffffffffffffffffffffffffff", method: .get) { r in
                #expect(r.status == .notFound)
            }
        }
    }
}
