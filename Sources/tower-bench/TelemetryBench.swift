import ArgumentParser
import Foundation
import TerminalUI
import TowerConsole
import TowerDomain
import TowerHTTP
import TowerSim
import TowerMetrics

/// `tower-bench telemetry`: queries per refresh, parse and decode throughput, answer-to-frame time.
struct TelemetryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telemetry",
        abstract: "Measure the telemetry path: queries per refresh, exposition and Prometheus JSON throughput, answer-to-frame time.")

    /// Counts requests and answers each with a vector of one series per endpoint.
    final class CountingTransport: HTTPTransport, @unchecked Sendable {
        private let lock = NSLock()
        private(set) var count = 0
        let body: [UInt8]
        init(endpoints: Int) {
            let series = (0..<endpoints).map { #"{"metric":{"endpoint":"model-\#($0)","version":"v1","le":"+Inf"},"value":[1795000000,"1"]}"# }
            body = Array((#"{"status":"success","data":{"resultType":"vector","result":["# + series.joined(separator: ",") + "]}}").utf8)
        }
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            lock.withLock { count += 1 }
            return HTTPResponse(status: 200, headers: ["content-type": "application/json"], body: body)
        }
    }

    func run() async throws {
        // 1. Queries per refresh: the profile's queries do not depend on the fleet's size.
        for n in [10, 100, 1000] {
            let transport = CountingTransport(endpoints: n)
            let source = PrometheusMetricsSource(client: PrometheusClient(baseURL: "http://127.0.0.1:9", transport: transport),
                                                 profile: try MetricsProfile(kind: .generic))
            let figures = (try? await source.refresh()) ?? [:]
            print("queries per refresh with \(n) endpoints (\(figures.count) figures back): \(transport.count)  target: constant, <= 6")
        }

        // 2. Exposition parse throughput on the fleet's own /metrics for 500 endpoints × 2 versions.
        var sim = Simulator(scenario: Scenario(rate: 50), seed: 1)
        sim.route(ConsoleBench.fleet(500))
        sim.advance(seconds: 2, now: Date(), elapsed: 0)
        let page = Array(sim.metrics.exposition().utf8)
        let mbps = ExpositionParser.benchmarkThroughput(bytes: page)
        print(String(format: "exposition parse: %.0f MB/s on a %.0f kB page  target >= 50 MB/s", mbps, Double(page.count) / 1000))

        // 3. Prometheus JSON decode throughput: a bucket-rate vector for 1,000 endpoints × 2 versions × 12 buckets.
        var series: [String] = []
        for e in 0..<1000 {
            for v in 1...2 {
                for le in SimMetrics.buckets.map({ String($0) }) + ["+Inf"] {
                    series.append(#"{"metric":{"endpoint":"model-\#(e)","version":"v\#(v)","le":"\#(le)"},"value":[1795000000.123,"\#(Double(e % 97) / 7)"]}"#)
                }
            }
        }
        let json = Array((#"{"status":"success","data":{"resultType":"vector","result":["# + series.joined(separator: ",") + "]}}").utf8)
        let t0 = ContinuousClock.now
        var rounds = 0
        while ContinuousClock.now - t0 < .seconds(1) {
            _ = try PrometheusQueryResponse.decode(json)
            rounds += 1
        }
        let secs = Double((ContinuousClock.now - t0).components.attoseconds) / 1e18 + Double((ContinuousClock.now - t0).components.seconds)
        print(String(format: "Prometheus JSON decode: %.0f MB/s (%d series, %.1f MB per answer)", Double(json.count * rounds) / secs / 1e6,
                     series.count, Double(json.count) / 1e6))

        // 4. From a source's answer to the frame that shows it: update + view, 1,000 endpoints.
        var state = ConsoleState(width: 160, height: 48, now: Date())
        _ = update(&state, .endpointsLoaded(EndpointList(endpoints: ConsoleBench.fleet(1000), auditSeq: 1), at: Date()))
        var figures: [String: Figures] = [:]
        for i in 0..<1000 {
            for key in [EndpointVersionKey("model-\(i)").description, EndpointVersionKey("model-\(i)", "v1").description, EndpointVersionKey("model-\(i)", "v2").description] {
                figures[key] = Figures(rps: Double(i), errorRatio: 0.01, p50Ms: 40, p95Ms: 120, p99Ms: Double(200 + i % 50), samples: 600, readAt: Date())
            }
        }
        var times: [Double] = []
        for _ in 0..<100 {
            let t = ContinuousClock.now
            _ = update(&state, .figuresLoaded(source: "bench", figures, at: Date()))
            _ = view(state)
            let d = ContinuousClock.now - t
            times.append(Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1000)
        }
        times.sort()
        print(String(format: "answer to frame (update + view, 1,000 endpoints, 3,000 figures): median %.2f ms, p99 %.2f ms",
                     times[50], times[98]))
    }
}
