import Foundation
import Testing
import TowerDomain
import TowerHTTP
@testable import TowerMetrics

/// `Figures.window`: the counts behind the figures, which the canary statistics weigh.
@Suite struct WindowCountsTests {
    let t = Date(timeIntervalSince1970: 1_767_436_620)

    @Test func prometheusCountsAreRateTimesWindowWithBoundsInMilliseconds() throws {
        let p = try MetricsProfile(kind: .generic, windowSeconds: 60)
        func ev(_ e: String, _ v: String, le: String? = nil) -> [String: String] { PromAnswer.ev(e, v, le: le) }
        let f = p.figures(from: [
            .requestRate: try PromAnswer.response([(ev("alpha", "v1"), "2"), (ev("alpha", "v2"), "0.5")]),
            .errorRate: try PromAnswer.response([(ev("alpha", "v1"), "0.1"), (ev("alpha", "v2"), "0")]),
            .bucketRate: try PromAnswer.response([
                (ev("alpha", "v1", le: "0.1"), "1.5"), (ev("alpha", "v1", le: "0.5"), "1.9"), (ev("alpha", "v1", le: "+Inf"), "2"),
                (ev("alpha", "v2", le: "0.1"), "0.25"), (ev("alpha", "v2", le: "0.5"), "0.5"), (ev("alpha", "v2", le: "+Inf"), "0.5"),
            ]),
        ], readAt: t)
        let v1 = try #require(f[EndpointVersionKey("alpha", "v1")]?.window)
        #expect(v1.seconds == 60)
        #expect(v1.requests == 120)
        #expect(abs((v1.errors ?? -1) - 6) < 1e-9)
        #expect(v1.latencyBuckets == [Bucket(le: 100, count: 90), Bucket(le: 500, count: 114), Bucket(le: .infinity, count: 120)])
        // The endpoint's counts add up its versions'.
        let alpha = try #require(f[EndpointVersionKey("alpha")]?.window)
        #expect(alpha.requests == 150)
        #expect(alpha.latencyBuckets == [Bucket(le: 100, count: 105), Bucket(le: 500, count: 144), Bucket(le: .infinity, count: 150)])
    }

    @Test func envoyBoundsAreAlreadyMillisecondsAndMissingRatesStayNil() throws {
        let p = try MetricsProfile(kind: .envoy, windowSeconds: 300)
        let f = p.figures(from: [
            .bucketRate: try PromAnswer.response([
                (["endpoint": "a", "version": "v1", "le": "25"], "1"), (["endpoint": "a", "version": "v1", "le": "+Inf"], "2"),
            ]),
        ], readAt: t)
        let w = try #require(f[EndpointVersionKey("a", "v1")]?.window)
        #expect(w.seconds == 300)
        #expect(w.latencyBuckets == [Bucket(le: 25, count: 300), Bucket(le: .infinity, count: 600)])
        // No request or error answer: nil, never 0.
        #expect(w.requests == nil && w.errors == nil)
    }

    @Test func scrapeCountsAreTheDeltasOverTheSecondsBetweenScrapes() throws {
        func page(_ ok: Int, _ fail: Int, _ fast: Int, _ all: Int) -> [ExpositionSample] {
            let text = """
                http_requests_total{endpoint="chat",version="v1",code="200"} \(ok)
                http_requests_total{endpoint="chat",version="v1",code="503"} \(fail)
                http_request_duration_seconds_bucket{endpoint="chat",version="v1",le="0.05"} \(fast)
                http_request_duration_seconds_bucket{endpoint="chat",version="v1",le="+Inf"} \(all)

                """
            return (try? ExpositionParser().parse(text).samples) ?? []
        }
        var window = ScrapeWindow(profile: .generic)
        _ = window.update([TargetScrape(target: "a", at: t, samples: page(100, 5, 80, 105))])
        let result = window.update([TargetScrape(target: "a", at: t + 7.5, samples: page(190, 15, 150, 205))])
        let w = try #require(result.rates(endpoint: "chat", version: "v1")?.windowCounts)
        #expect(w == WindowCounts(seconds: 7.5, requests: 100, errors: 10, latencyBuckets: [Bucket(le: 50, count: 70), Bucket(le: .infinity, count: 100)]))
        let figures = ScrapeMetricsSource.figures(try #require(result.rates(endpoint: "chat")))
        #expect(figures.window == w)
    }
}

/// Burn-rate bad ratios: from Prometheus in three queries, from a scrape source's own history.
@Suite struct BurnRateTests {
    final class Recording: HTTPTransport, @unchecked Sendable {
        let lock = NSLock()
        var forms: [String] = []
        let answer: @Sendable (String) -> String
        init(_ answer: @escaping @Sendable (String) -> String) { self.answer = answer }
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            let form = (String(decoding: request.body ?? [], as: UTF8.self).removingPercentEncoding ?? "")
            lock.withLock { forms.append(form) }
            return HTTPResponse(status: 200, headers: ["content-type": "application/json"], body: Array(answer(form).utf8))
        }
    }

    static func w(_ e: String, _ window: Int, le: String? = nil) -> [String: String] {
        var l = ["endpoint": e, "tower_window": String(window)]
        if let le { l["le"] = le }
        return l
    }

    @Test func genericQueriesTagEachWindowAndJoinThem() throws {
        let q = BurnRateQueries(profile: try MetricsProfile(kind: .generic), windows: [3600, 300, 300])
        #expect(q.windows == [300, 3600])
        #expect(q.queries[.total] == #"label_replace(sum by (endpoint) (increase(http_requests_total[5m])), "tower_window", "300", "", "") or label_replace(sum by (endpoint) (increase(http_requests_total[1h])), "tower_window", "3600", "", "")"#)
        #expect(q.queries[.errors]?.contains(#"increase(http_requests_total{code=~"5.."}[1h])"#) == true)
        #expect(q.queries[.buckets]?.hasPrefix("label_replace(sum by (endpoint, le) (increase(http_request_duration_seconds_bucket[5m]))") == true)
        let envoy = BurnRateQueries(profile: try MetricsProfile(kind: .envoy), windows: [259_200])
        #expect(envoy.queries[.total] == #"label_replace(sum by (endpoint) (label_replace(increase(envoy_cluster_upstream_rq_total{envoy_cluster_name=~".+--.+"}[72h]), "endpoint", "$1", "envoy_cluster_name", "(.+)--(.+)")), "tower_window", "259200", "", "")"#)
    }

    @Test func ratiosFromAnswersReadTheThresholdAtTheBoundBelow() throws {
        let q = BurnRateQueries(profile: try MetricsProfile(kind: .generic), windows: [300, 3600])
        func w(_ e: String, _ window: Int, le: String? = nil) -> [String: String] { Self.w(e, window, le: le) }
        let ratios = q.badRatios(from: [
            .total: try PromAnswer.response([(w("a", 300), "1000"), (w("a", 3600), "12000"), (w("b", 300), "50"), (w("idle", 300), "0")]),
            // b has no 5xx series: 0, not absent.
            .errors: try PromAnswer.response([(w("a", 300), "20"), (w("a", 3600), "60")]),
            .buckets: try PromAnswer.response([
                (w("a", 300, le: "0.1"), "900"), (w("a", 300, le: "0.25"), "950"), (w("a", 300, le: "0.5"), "990"), (w("a", 300, le: "+Inf"), "1000"),
                (w("b", 300, le: "0.5"), "40"), (w("b", 300, le: "+Inf"), "50"),
            ]),
        ], latencyMs: ["a": 300, "b": 100])
        let a = try #require(ratios["a"])
        #expect(a.errors == [300: 0.02, 3600: 0.005])
        // 300 ms lies between 250 and 500: read at 250 ms, so 50 of 1000 are slow.
        #expect(abs((a.slow[300] ?? -1) - 0.05) < 1e-12)
        #expect(a.slow[3600] == nil && a.partial.isEmpty)
        #expect(ratios["b"]?.errors == [300: 0])
        // b's threshold is under its smallest bound: the share cannot be read.
        #expect(ratios["b"]?.slow.isEmpty == true)
        #expect(ratios["idle"] == nil, "no requests: no ratio (0/0 is not 0 %)")
        // Without the 5xx answer there is no error ratio at all.
        #expect(q.badRatios(from: [.total: try PromAnswer.response([(w("a", 300), "10")])], latencyMs: [:])["a"] == nil)
    }

    @Test func prometheusSendsThreeQueriesForSevenWindows() async throws {
        let t = Recording { form in
            if form.contains("code=~") { return PromAnswer.vector([(BurnRateTests.w("a", 300), "3")]) }
            if form.contains("_bucket") { return PromAnswer.vector([]) }
            return PromAnswer.vector([(BurnRateTests.w("a", 300), "100"), (BurnRateTests.w("a", 259_200), "1000")])
        }
        let src = PrometheusMetricsSource(client: PrometheusClient(baseURL: "http://prom", transport: t),
                                          profile: try MetricsProfile(kind: .generic), at: Date(timeIntervalSince1970: 1_800_000_000))
        let windows = [300, 1800, 3600, 7200, 21_600, 86_400, 259_200]
        let r = try await src.badRatios(windows: windows, latencyMs: ["a": 300])
        #expect(t.lock.withLock { t.forms.count } == 3)
        #expect(t.lock.withLock { t.forms.allSatisfy { $0.contains("time=1800000000") } })
        #expect(r["a"]?.errors == [300: 0.03, 259_200: 0])
    }

    @Test func aPastWindowIsTheProfilesQueriesAtItsEnd() async throws {
        let t = Recording { form in
            form.contains("code=~") ? PromAnswer.vector([(PromAnswer.ev("a", "v1"), "0.5")]) : PromAnswer.vector([(PromAnswer.ev("a", "v1"), "2")])
        }
        let src = PrometheusMetricsSource(client: PrometheusClient(baseURL: "http://prom", transport: t),
                                          profile: try MetricsProfile(kind: .generic))
        let end = Date(timeIntervalSince1970: 1_800_000_123.5)
        let f = try await src.figures(endingAt: end, windowSeconds: 300)
        let forms = t.lock.withLock { t.forms }
        #expect(forms.count == 3 && forms.allSatisfy { $0.contains("time=1800000123.5") && $0.contains("[5m]") }, "\(forms)")
        let w = try #require(f["a/v1"]?.window)
        #expect(w.seconds == 300 && w.requests == 600 && w.errors == 150)
    }

    // MARK: Scrape history

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// One endpoint's increases over `seconds` ending at `at`.
    static func result(_ at: Date, seconds: Double = 60, requests: Double, errors: Double, fast: Double = 0, all: Double = 0) -> ScrapeResult {
        ScrapeResult(endpoints: ["a": ScrapeRates(requests: requests, errors: errors, readAt: at,
                                                  bucketIncreases: [Bucket(le: 250, count: fast), Bucket(le: .infinity, count: all)],
                                                  seconds: seconds)])
    }

    @Test func scrapeHistoryAnswersWindowsAndMarksThoseLongerThanItHolds() {
        var h = ScrapeHistory()
        // 10 minutes: 100 requests a minute; the last 5 minutes fail 10 % and are 20 % slow.
        for m in 1...10 {
            let bad = m > 5
            h.add(Self.result(Self.t0 + Double(m) * 60, requests: 100, errors: bad ? 10 : 0, fast: bad ? 80 : 100, all: 100))
        }
        #expect(h.span == 600)
        let r = h.badRatios(windows: [300, 600, 1800], latencyMs: ["a": 300])["a"]
        #expect(r?.errors[300] == 0.1)
        #expect(r?.errors[600] == 0.05)
        #expect(abs((r?.slow[300] ?? -1) - 0.2) < 1e-12)
        // 30 minutes asked, 10 held: read over all of it, and said so.
        #expect(r?.errors[1800] == 0.05)
        #expect(r?.partial == [1800])
    }

    @Test func scrapeHistoryFromCannedPagesSurvivesACounterReset() async throws {
        func page(_ ok: Int, _ fail: Int) -> [ExpositionSample] {
            (try? ExpositionParser().parse("""
                http_requests_total{endpoint="chat",version="v1",code="200"} \(ok)
                http_requests_total{endpoint="chat",version="v1",code="500"} \(fail)

                """).samples) ?? []
        }
        var window = ScrapeWindow(profile: .generic)
        var h = ScrapeHistory()
        let pages = [(0, 0), (95, 5), (190, 10), (20, 5) /* restarted */, (70, 55)]
        for (i, p) in pages.enumerated() {
            h.add(window.update([TargetScrape(target: "x", at: Self.t0 + Double(i) * 60, samples: page(p.0, p.1))]))
        }
        // Increases: 100 (5 bad), 100 (5 bad), 25 after the reset (5 bad), 100 (50 bad).
        let r = h.badRatios(windows: [240, 120], latencyMs: [:])["chat"]
        #expect(r?.errors[240] == 65.0 / 325)
        #expect(r?.errors[120] == 55.0 / 125)
        #expect(r?.partial == [])
    }

    @Test func scrapeHistoryIsBoundedOverThreeDaysAndStillReadsThem() {
        var h = ScrapeHistory()
        let minutes = 3 * 1440 + 120
        for m in 1...minutes { h.add(Self.result(Self.t0 + Double(m) * 60, requests: 10, errors: m > minutes - 60 ? 1 : 0)) }
        #expect(h.snapshots.count <= 542, "\(h.snapshots.count) snapshots")
        let r = h.badRatios(windows: [3600, 259_200], latencyMs: [:])["a"]
        #expect(r?.errors[3600] == 0.1)
        #expect(r?.partial == [], "three days are held")
        // The 3-day window starts at a snapshot up to ten minutes early: 60 bad of at most 4,330 minutes.
        let longest = r?.errors[259_200] ?? 0
        #expect(longest <= 60.0 / 43_200 * (1 + 1e-12) && longest >= 60.0 / 43_300)
    }
}
