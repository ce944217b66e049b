import Foundation
import Testing
import TowerDomain
@testable import TowerMetrics

private let t0 = Date(timeIntervalSince1970: 1_800_000_000)

private func close(_ a: Double?, _ b: Double) -> Bool {
    guard let a else { return false }
    return abs(a - b) <= 1e-12 * max(1, abs(b))
}

private func page(_ text: String) -> [ExpositionSample] {
    (try? ExpositionParser().parse(text).samples) ?? []
}

/// A generic-profile page: requests per (endpoint, version, code) and one latency histogram per version.
private func generic(_ requests: [(String, String, String, Double)], buckets: [(String, String, String, Double)] = []) -> [ExpositionSample] {
    var text = "# TYPE http_requests_total counter\n"
    for (e, v, code, n) in requests { text += "http_requests_total{endpoint=\"\(e)\",version=\"\(v)\",code=\"\(code)\"} \(n)\n" }
    text += "# TYPE http_request_duration_seconds histogram\n"
    for (e, v, le, n) in buckets { text += "http_request_duration_seconds_bucket{endpoint=\"\(e)\",version=\"\(v)\",le=\"\(le)\"} \(n)\n" }
    return page(text)
}

@Suite struct ScrapeWindowTests {
    @Test func genericRatesBetweenTwoScrapes() throws {
        var window = ScrapeWindow(profile: .generic)
        window.record(target: "http://a/metrics", samples: generic(
            [("chat", "v1", "200", 100), ("chat", "v1", "500", 10)],
            buckets: [("chat", "v1", "0.005", 50), ("chat", "v1", "0.1", 90), ("chat", "v1", "+Inf", 110)]), at: t0)
        #expect(window.rates() == ScrapeResult()) // one scrape: no data, not 0

        window.record(target: "http://a/metrics", samples: generic(
            [("chat", "v1", "200", 150), ("chat", "v1", "500", 20)],
            buckets: [("chat", "v1", "0.005", 70), ("chat", "v1", "0.1", 140), ("chat", "v1", "+Inf", 170)]), at: t0 + 10)
        let v1 = try #require(window.rates().rates(endpoint: "chat", version: "v1"))
        #expect(v1.requestRate == 6)
        #expect(v1.errorRate == 1)
        #expect(v1.requests == 60)
        #expect(v1.errors == 10)
        #expect(v1.errorRatio == 1.0 / 6)
        #expect(v1.bucketRates == [Bucket(le: 5, count: 2), Bucket(le: 100, count: 5), Bucket(le: .infinity, count: 6)])
        #expect(v1.observations == 60)
        #expect(v1.readAt == t0 + 10)
        #expect(window.rates().rates(endpoint: "chat") == v1)
    }

    /// Prometheus's rule for a reset between two points: a counter that went down restarted from 0,
    /// so the increase is the new value. Each bucket series resets on its own.
    @Test func counterReset() throws {
        let before = ScrapeSnapshot(samples: generic([("chat", "v1", "200", 1000)], buckets: [("chat", "v1", "0.1", 900), ("chat", "v1", "+Inf", 1000)]),
                                    at: t0, profile: .generic)
        let after = ScrapeSnapshot(samples: generic([("chat", "v1", "200", 30)], buckets: [("chat", "v1", "0.1", 20), ("chat", "v1", "+Inf", 30)]),
                                   at: t0 + 15, profile: .generic)
        let v1 = try #require(ScrapeResult.between(before, after).rates(endpoint: "chat", version: "v1"))
        #expect(v1.requests == 30)
        #expect(v1.requestRate == 2)
        #expect(v1.bucketRates == [Bucket(le: 100, count: 20.0 / 15), Bucket(le: .infinity, count: 2)])
        // Unchanged counters: a real 0.
        let same = ScrapeResult.between(before, ScrapeSnapshot(samples: generic([("chat", "v1", "200", 1000)]), at: t0 + 15, profile: .generic))
        #expect(same.rates(endpoint: "chat", version: "v1")?.requestRate == 0)
        #expect(same.rates(endpoint: "chat", version: "v1")?.errorRate == 0)
        #expect(same.rates(endpoint: "chat", version: "v1")?.errorRatio == nil) // 0/0 is not 0 %
    }

    @Test func versionsThatAppearOrDisappearHaveNoData() {
        let before = ScrapeSnapshot(samples: generic([("chat", "v1", "200", 10), ("chat", "old", "200", 5)]), at: t0, profile: .generic)
        let after = ScrapeSnapshot(samples: generic([("chat", "v1", "200", 20), ("chat", "new", "200", 7)]), at: t0 + 10, profile: .generic)
        let result = ScrapeResult.between(before, after)
        #expect(result.rates(endpoint: "chat", version: "v1")?.requestRate == 1)
        #expect(result.rates(endpoint: "chat", version: "old") == nil)
        #expect(result.rates(endpoint: "chat", version: "new") == nil)
        #expect(result.rates(endpoint: "chat")?.requestRate == 1)
        #expect(result.rates(endpoint: "other") == nil)
    }

    /// Inside a version present in both scrapes, a series created since (the first 5xx) counts from 0.
    @Test func seriesCreatedInsideAKnownVersionCountsFromZero() throws {
        let before = ScrapeSnapshot(samples: generic([("chat", "v1", "200", 10)]), at: t0, profile: .generic)
        let after = ScrapeSnapshot(samples: generic([("chat", "v1", "200", 20), ("chat", "v1", "503", 4)]), at: t0 + 2, profile: .generic)
        let v1 = try #require(ScrapeResult.between(before, after).rates(endpoint: "chat", version: "v1"))
        #expect(v1.requestRate == 7)
        #expect(v1.errorRate == 2)
        #expect(v1.bucketRates == nil) // no histogram on the page: no latency data
        #expect(v1.observations == nil)
    }

    @Test func targetsThatDisappearOrAppear() {
        var window = ScrapeWindow(profile: .generic)
        let a = "http://a/metrics", b = "http://b/metrics"
        _ = window.update([TargetScrape(target: a, at: t0, samples: generic([("chat", "v1", "200", 0)]))])
        var result = window.update([TargetScrape(target: a, at: t0 + 10, samples: generic([("chat", "v1", "200", 100)])),
                                    TargetScrape(target: b, at: t0 + 10, samples: generic([("chat", "v1", "200", 5000)]))])
        #expect(result.rates(endpoint: "chat", version: "v1")?.requestRate == 10) // b is new: no data from it yet
        result = window.update([TargetScrape(target: a, at: t0 + 20, samples: generic([("chat", "v1", "200", 200)])),
                                TargetScrape(target: b, at: t0 + 21, samples: generic([("chat", "v1", "200", 5100)]))])
        #expect(result.rates(endpoint: "chat", version: "v1")?.requestRate == 10 + 100.0 / 11)
        #expect(result.rates(endpoint: "chat", version: "v1")?.readAt == t0 + 21)
        // Both fail: no data, not 0.
        result = window.update([])
        #expect(result == ScrapeResult())
        #expect(window.targets.isEmpty)
        // a comes back: one scrape is not enough.
        result = window.update([TargetScrape(target: a, at: t0 + 40, samples: generic([("chat", "v1", "200", 300)]))])
        #expect(result.rates(endpoint: "chat", version: "v1") == nil)
        // A late or duplicate answer is ignored.
        window.record(target: a, samples: generic([("chat", "v1", "200", 0)]), at: t0 + 40)
        window.record(target: a, samples: generic([("chat", "v1", "200", 350)]), at: t0 + 45)
        #expect(window.rates().rates(endpoint: "chat", version: "v1")?.requestRate == 10)
    }

    @Test func endpointSumsOverVersionsAndTargets() throws {
        let before = generic([("chat", "v1", "200", 0), ("chat", "v2", "200", 0), ("chat", "v2", "500", 0), ("search", "v1", "200", 0)],
                             buckets: [("chat", "v1", "0.1", 0), ("chat", "v1", "+Inf", 0), ("chat", "v2", "0.1", 0), ("chat", "v2", "0.5", 0), ("chat", "v2", "+Inf", 0)])
        let after = generic([("chat", "v1", "200", 90), ("chat", "v2", "200", 9), ("chat", "v2", "500", 1), ("search", "v1", "200", 30)],
                            buckets: [("chat", "v1", "0.1", 80), ("chat", "v1", "+Inf", 90), ("chat", "v2", "0.1", 2), ("chat", "v2", "0.5", 8), ("chat", "v2", "+Inf", 10)])
        var window = ScrapeWindow(profile: .generic)
        _ = window.update([TargetScrape(target: "a", at: t0, samples: before), TargetScrape(target: "b", at: t0, samples: before)])
        let result = window.update([TargetScrape(target: "a", at: t0 + 10, samples: after), TargetScrape(target: "b", at: t0 + 10, samples: after)])
        // Sums are formed in dictionary order, so compare to within rounding.
        let chat = try #require(result.rates(endpoint: "chat"))
        #expect(close(chat.requestRate, 20))
        #expect(close(chat.errorRate, 0.2))
        #expect(close(chat.errorRatio, 0.01))
        let buckets = try #require(chat.bucketRates)
        #expect(buckets.map(\.le) == [100, 500, .infinity])
        #expect(zip(buckets.map(\.count), [16.4, 1.6, 20]).allSatisfy { close($0, $1) })
        #expect(chat.observations == 200)
        #expect(close(result.rates(endpoint: "chat", version: "v2")?.errorRatio, 0.1))
        #expect(result.rates(endpoint: "search")?.requestRate == 6)
        #expect(result.rates(endpoint: "search")?.bucketRates == nil)
        #expect(Set(result.versions.keys) == [EndpointVersionKey(endpoint: "chat", version: "v1"), EndpointVersionKey(endpoint: "chat", version: "v2"),
                                              EndpointVersionKey(endpoint: "search", version: "v1")])
    }

    @Test func envoyClusterNames() {
        #expect(EndpointVersionKey(envoyClusterName: "chat--v1") == EndpointVersionKey(endpoint: "chat", version: "v1"))
        #expect(EndpointVersionKey(envoyClusterName: "llama-3-chat--canary-2") == EndpointVersionKey(endpoint: "llama-3-chat", version: "canary-2"))
        for ignored in ["chat", "chat-v1", "--v1", "chat--", "a--b--c", "a---b", "a-b--", "-a--b", ""] {
            #expect(EndpointVersionKey(envoyClusterName: ignored) == nil, "\(ignored)")
        }
    }

    @Test func envoyProfile() throws {
        func envoy(total: Double, xx5: Double?, xx2: Double, buckets: [Double]) -> [ExpositionSample] {
            var text = "# TYPE envoy_cluster_upstream_rq_total counter\n"
            text += "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"chat--v1\"} \(total)\n"
            text += "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"xds_cluster\"} 999\n"
            text += "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"a--b--c\"} 999\n\n"
            text += "# TYPE envoy_cluster_upstream_rq_xx counter\n"
            text += "envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"2\",envoy_cluster_name=\"chat--v1\"} \(xx2)\n"
            if let xx5 { text += "envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"5\",envoy_cluster_name=\"chat--v1\"} \(xx5)\n" }
            text += "\n# TYPE envoy_cluster_upstream_rq_time histogram\n"
            for (le, n) in zip(["0.5", "1", "5", "10", "25", "+Inf"], buckets) {
                text += "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"chat--v1\",le=\"\(le)\"} \(n)\n"
            }
            text += "envoy_cluster_upstream_rq_time_sum{envoy_cluster_name=\"chat--v1\"} 1234\n"
            text += "envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"chat--v1\"} \(buckets.last ?? 0)\n\n"
            return try! ExpositionParser().parse(text).samples
        }
        var window = ScrapeWindow(profile: .envoy)
        window.record(target: "envoy", samples: envoy(total: 100, xx5: nil, xx2: 100, buckets: [0, 10, 50, 90, 100, 100]), at: t0)
        window.record(target: "envoy", samples: envoy(total: 300, xx5: 20, xx2: 280, buckets: [0, 20, 150, 250, 290, 300]), at: t0 + 20)
        let result = window.rates()
        #expect(result.versions.keys.map(\.description) == ["chat/v1"])
        let v1 = try #require(result.rates(endpoint: "chat", version: "v1"))
        #expect(v1.requestRate == 10)
        #expect(v1.errorRate == 1) // the 5xx series appeared with the first 5xx: counted from 0
        #expect(v1.bucketRates == [Bucket(le: 0.5, count: 0), Bucket(le: 1, count: 0.5), Bucket(le: 5, count: 5), Bucket(le: 10, count: 8),
                                   Bucket(le: 25, count: 9.5), Bucket(le: .infinity, count: 10)])
        #expect(v1.observations == 200)

        // No 5xx series at all in either scrape: 0 errors, since the cluster has requests.
        var quiet = ScrapeWindow(profile: .envoy)
        quiet.record(target: "envoy", samples: envoy(total: 1, xx5: nil, xx2: 1, buckets: [0, 0, 0, 0, 0, 1]), at: t0)
        quiet.record(target: "envoy", samples: envoy(total: 2, xx5: nil, xx2: 2, buckets: [0, 0, 0, 0, 0, 2]), at: t0 + 1)
        #expect(quiet.rates().rates(endpoint: "chat", version: "v1")?.errorRate == 0)
    }

    @Test func envoyFixtureHasNoClusterSeries() throws {
        let doc = try ExpositionParser().parse(try ExpositionFixture.bytes("envoy_test_prometheus_OutputWithAllMetricTypes.prom"))
        let snapshot = ScrapeSnapshot(samples: doc.samples, at: t0, profile: .envoy)
        #expect(snapshot.versions.isEmpty)
    }

    @Test func nanEverywhereIsNoData() {
        let nan = page("""
        http_requests_total{endpoint="chat",version="v1",code="200"} NaN
        http_requests_total{endpoint="chat",version="v1",code="500"} +Inf
        http_request_duration_seconds_bucket{endpoint="chat",version="v1",le="NaN"} 1
        http_request_duration_seconds_bucket{endpoint="chat",version="v1",le="+Inf"} NaN
        http_requests_total{endpoint="chat",version="v2",code="200"} -5

        """)
        #expect(nan.count == 5)
        let snapshot = ScrapeSnapshot(samples: nan, at: t0, profile: .generic)
        #expect(snapshot.versions.isEmpty)
        var window = ScrapeWindow(profile: .generic)
        window.record(target: "a", samples: nan, at: t0)
        window.record(target: "a", samples: nan, at: t0 + 10)
        #expect(window.rates() == ScrapeResult())
    }

    @Test func labelOrderDoesNotMatterAndOtherLabelsSplitSeries() throws {
        let before = page("""
        http_requests_total{endpoint="chat",version="v1",code="200",pod="a"} 10
        http_requests_total{code="200",version="v1",endpoint="chat",pod="b"} 10
        http_requests_total{endpoint="chat",code="200"} 10

        """)
        let after = page("""
        http_requests_total{version="v1",code="200",endpoint="chat",pod="a"} 20
        http_requests_total{endpoint="chat",version="v1",code="200",pod="b"} 5

        """)
        let v1 = try #require(ScrapeResult.between(ScrapeSnapshot(samples: before, at: t0, profile: .generic),
                                                   ScrapeSnapshot(samples: after, at: t0 + 1, profile: .generic)).rates(endpoint: "chat", version: "v1"))
        #expect(v1.requests == 15) // a: +10; b: reset to 5
    }

    @Test func openMetricsPageGivesTheSameRates() throws {
        func om(_ n: Int) throws -> [ExpositionSample] {
            try ExpositionParser(format: .openMetrics).parse("""
            # TYPE http_requests counter
            http_requests_total{endpoint="chat",version="v1",code="200"} \(n) # {trace_id="abc"} 1 1.5
            http_requests_created{endpoint="chat",version="v1",code="200"} 1.7e9
            # EOF

            """).samples
        }
        var window = ScrapeWindow(profile: .generic)
        window.record(target: "a", samples: try om(10), at: t0)
        window.record(target: "a", samples: try om(40), at: t0 + 3)
        #expect(window.rates().rates(endpoint: "chat", version: "v1")?.requestRate == 10)
    }
}
