import Foundation
import Testing
import TowerDomain
import TowerHTTP
@testable import TowerMetrics

@Suite struct MetricsSourceHistoryTests {
    struct Canned: HTTPTransport {
        let body: String
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            HTTPResponse(status: 200, headers: ["content-type": "application/json"], body: Array(body.utf8))
        }
    }

    @Test func oneRangeQueryBackFillsP99PerVersionAndPerEndpoint() async throws {
        // Two versions, buckets 0.1 s / 0.5 s / +Inf, two steps.
        func series(_ v: String, _ le: String, _ a: String, _ b: String) -> String {
            #"{"metric":{"endpoint":"alpha","version":"\#(v)","le":"\#(le)"},"values":[[1795000000,"\#(a)"],[1795000005,"\#(b)"]]}"#
        }
        let body = #"{"status":"success","data":{"resultType":"matrix","result":["# + [
            series("v1", "0.1", "9", "10"), series("v1", "0.5", "10", "10"), series("v1", "+Inf", "10", "10"),
            series("v2", "0.1", "0", "0"), series("v2", "0.5", "1", "0"), series("v2", "+Inf", "1", "1"),
        ].joined(separator: ",") + "]}}"
        let src = PrometheusMetricsSource(client: PrometheusClient(baseURL: "http://prom", transport: Canned(body: body)),
                                          profile: try MetricsProfile(kind: .generic), interval: 5)
        let h = try await src.history(points: 10)
        let v1 = try #require(h["alpha/v1"])
        #expect(v1.count == 2)
        // Step 1: 9 of 10 under 0.1 s, rank 9.9 falls in (0.1, 0.5]: 0.1 + 0.4 × 0.9 = 0.46 s.
        #expect(abs((v1[0] ?? 0) - 460) < 1e-9)
        // Step 2: all 10 under 0.1 s: 0.1 × 0.99 = 0.099 s.
        #expect(abs((v1[1] ?? 0) - 99) < 1e-9)
        // v2's second step has its only request above 0.5 s: the +Inf rule gives the highest finite bound.
        #expect(h["alpha/v2"]?[1] == 500)
        #expect(h["alpha"]?.count == 2)
    }

    @Test func aScrapeKeepsNoHistory() async throws {
        #expect(try await ScrapeMetricsSource(urls: ["http://127.0.0.1:9/metrics"]).history(points: 10).isEmpty)
    }

    @Test func prometheusWarningsAreKeptForTheHeader() async throws {
        let body = #"{"status":"success","data":{"resultType":"vector","result":[]},"warnings":["results truncated due to limit"]}"#
        let src = PrometheusMetricsSource(client: PrometheusClient(baseURL: "http://prom", transport: Canned(body: body)),
                                          profile: try MetricsProfile(kind: .generic))
        _ = try? await src.refresh()
        #expect(src.warnings == ["results truncated due to limit"])
    }
}

/// With several scrape targets, one failing is not the source failing: the others keep their
/// figures live, and the header names the one that does not answer.
@Suite struct ScrapeTargetWarningTests {
    final class TwoTargets: HTTPTransport, @unchecked Sendable {
        let lock = NSLock()
        var bDown = true
        let page = "http_requests_total{endpoint=\"alpha\",version=\"v1\",code=\"200\"} 10\n"
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            let down = lock.withLock { bDown }
            if request.url.hasPrefix("http://b") && down { throw HTTPTransportError.unreachable("connection refused") }
            return HTTPResponse(status: 200, headers: ["content-type": "text/plain; version=0.0.4"], body: Array(page.utf8))
        }
    }

    @Test func aFailingTargetIsAWarningNamingItAndClearsWhenItAnswers() async throws {
        let t = TwoTargets()
        let src = ScrapeMetricsSource(urls: ["http://a/metrics", "http://b/metrics"], transport: t)
        _ = try await src.refresh()
        #expect(src.warnings.count == 1)
        #expect(src.warnings.first?.hasPrefix("1 of 2 targets failing: http://b/metrics: ") == true, "\(src.warnings)")
        t.lock.withLock { t.bDown = false }
        _ = try await src.refresh()
        #expect(src.warnings.isEmpty)
    }
}
