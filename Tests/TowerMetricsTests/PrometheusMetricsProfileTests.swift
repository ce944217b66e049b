import Foundation
import Testing
import TowerDomain
import TowerHTTP
@testable import TowerMetrics

/// Builds query answers the way Prometheus would write them.
enum PromAnswer {
    static func vector(_ series: [([String: String], String)], at ts: String = "1767436620.123") -> String {
        let items = series.map { labels, value in
            let metric = labels.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
            return #"{"metric":{\#(metric)},"value":[\#(ts),"\#(value)"]}"#
        }
        return #"{"status":"success","data":{"resultType":"vector","result":[\#(items.joined(separator: ","))]}}"#
    }

    static func response(_ series: [([String: String], String)]) throws -> PrometheusQueryResponse {
        try PrometheusQueryResponse.decode(Array(vector(series).utf8))
    }

    static func ev(_ e: String, _ v: String, le: String? = nil) -> [String: String] {
        var l = ["endpoint": e, "version": v]
        if let le { l["le"] = le }
        return l
    }
}

@Suite struct PrometheusMetricsProfileTests {
    let t = Date(timeIntervalSince1970: 1_767_436_620)

    // MARK: Queries

    @Test func genericQueries() throws {
        let p = try MetricsProfile(kind: .generic)
        #expect(p.queries == [
            .requestRate: "sum by (endpoint, version) (rate(http_requests_total[1m]))",
            .errorRate: #"sum by (endpoint, version) (rate(http_requests_total{code=~"5.."}[1m])) or (0 * sum by (endpoint, version) (rate(http_requests_total[1m])))"#,
            .bucketRate: "sum by (endpoint, version, le) (rate(http_request_duration_seconds_bucket[1m]))",
        ])
        #expect(p.latencyScaleToMs == 1000)
        #expect(p.quantileQuery(0.99) == "histogram_quantile(0.99, sum by (endpoint, version, le) (rate(http_request_duration_seconds_bucket[1m])))")
        #expect(p.quantileQuery(0.5).hasPrefix("histogram_quantile(0.5, "))
    }

    @Test func envoyQueries() throws {
        let p = try MetricsProfile(name: "envoy", windowSeconds: 30)
        #expect(p.latencyScaleToMs == 1)
        let split = { (e: String) in
            #"label_replace(label_replace(\#(e), "endpoint", "$1", "envoy_cluster_name", "(.+)--(.+)"), "version", "$2", "envoy_cluster_name", "(.+)--(.+)")"#
        }
        let total = split(#"rate(envoy_cluster_upstream_rq_total{envoy_cluster_name=~".+--.+"}[30s])"#)
        #expect(p.queries[.requestRate] == "sum by (endpoint, version) (\(total))")
        #expect(p.queries[.errorRate] == "sum by (endpoint, version) (\(split(#"rate(envoy_cluster_upstream_rq_xx{envoy_cluster_name=~".+--.+",envoy_response_code_class="5"}[30s])"#))) or (0 * sum by (endpoint, version) (\(total)))")
        #expect(p.queries[.bucketRate] == "sum by (endpoint, version, le) (\(split(#"rate(envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=~".+--.+"}[30s])"#)))")
    }

    /// Prometheus anchors `label_replace` and `=~` regexes (`^(?:…)$`); with that, the profile's
    /// patterns split every valid cluster name at its "--" and skip clusters not named so.
    @Test func envoyClusterNamesSplitIntoEndpointAndVersion() throws {
        let split = try NSRegularExpression(pattern: "^(?:(.+)--(.+))$")
        for (cluster, endpoint, version) in [("alpha--v1", "alpha", "v1"), ("my-model-2--v12-rc1", "my-model-2", "v12-rc1"), ("a--b", "a", "b")] {
            #expect(Names.problem(with: endpoint, kind: "endpoint") == nil && Names.problem(with: version, kind: "version") == nil)
            let m = try #require(split.firstMatch(in: cluster, range: NSRange(cluster.startIndex..., in: cluster)))
            #expect((cluster as NSString).substring(with: m.range(at: 1)) == endpoint)
            #expect((cluster as NSString).substring(with: m.range(at: 2)) == version)
        }
        for other in ["xds_cluster", "alpha-v1", "--v1", "alpha--"] {
            #expect(split.firstMatch(in: other, range: NSRange(other.startIndex..., in: other)) == nil, "\(other)")
        }
    }

    @Test func overrides() throws {
        let p = try MetricsProfile(kind: .generic, windowSeconds: 300, overrides: ["requestRate": "sum by (endpoint, version) (rate(my_requests[$window]))"])
        #expect(p.queries[.requestRate] == "sum by (endpoint, version) (rate(my_requests[5m]))")
        #expect(p.queries[.bucketRate] == "sum by (endpoint, version, le) (rate(http_request_duration_seconds_bucket[5m]))")
        let b = try MetricsProfile(kind: .envoy, overrides: ["bucketRate": "sum by (endpoint, version, le) (rate(x_bucket[$window]))"])
        #expect(b.quantileQuery(0.99) == "histogram_quantile(0.99, sum by (endpoint, version, le) (rate(x_bucket[1m])))")

        #expect(throws: MetricsProfileError.self) { try MetricsProfile(kind: .generic, overrides: ["requestsRate": "x"]) }
        #expect(throws: MetricsProfileError.self) { try MetricsProfile(kind: .generic, overrides: ["errorRate": "  "]) }
        #expect(throws: MetricsProfileError.self) { try MetricsProfile(name: "istio") }
        #expect(throws: MetricsProfileError.self) { try MetricsProfile(kind: .generic, windowSeconds: 0) }
    }

    @Test func windows() {
        #expect(MetricsProfile.promDuration(seconds: 60) == "1m")
        #expect(MetricsProfile.promDuration(seconds: 90) == "90s")
        #expect(MetricsProfile.promDuration(seconds: 7200) == "2h")
    }

    /// DESIGN §5: a fixed handful of queries per refresh, whatever the number of endpoints.
    @Test func sameQueriesForTenAndAThousandEndpoints() async throws {
        let p = try MetricsProfile(kind: .generic)
        var sent: [[String]] = []
        for n in [10, 1000] {
            let fake = FakePrometheus { request in
                let q = request.promForm["query"] ?? ""
                var series: [([String: String], String)] = []
                for e in 0..<n {
                    for v in ["v1", "v2"] {
                        if q.contains("_bucket") {
                            for (le, c) in [("0.1", "1"), ("0.5", "3"), ("+Inf", "4")] { series.append((PromAnswer.ev("ep\(e)", v, le: le), c)) }
                        } else {
                            series.append((PromAnswer.ev("ep\(e)", v), q.contains("5..") ? "0" : "4"))
                        }
                    }
                }
                return HTTPResponse(status: 200, body: Array(PromAnswer.vector(series).utf8))
            }
            let reading = await p.read(with: PrometheusClient(baseURL: "http://prom:9090", transport: fake), at: t)
            #expect(reading.failures.isEmpty)
            #expect(reading.figures.count == n * 3)
            #expect(reading.figures[EndpointVersionKey(endpoint: "ep7", version: "v2")]?.rps == 4)
            #expect(reading.figures[EndpointVersionKey(endpoint: "ep7")]?.rps == 8)
            sent.append(fake.requests.map { String(decoding: $0.body ?? [], as: UTF8.self) }.sorted())
        }
        #expect(sent[0].count <= 6 && sent[0].count == MetricsQuery.allCases.count)
        #expect(sent[0] == sent[1])
    }

    // MARK: From answers to figures

    @Test func figuresPerVersionAndPerEndpoint() throws {
        let p = try MetricsProfile(kind: .generic)
        func ev(_ e: String, _ v: String, le: String? = nil) -> [String: String] { PromAnswer.ev(e, v, le: le) }
        let results: [MetricsQuery: PrometheusQueryResponse] = [
            .requestRate: try PromAnswer.response([(ev("alpha", "v1"), "10"), (ev("alpha", "v2"), "2"), (ev("beta", "v1"), "NaN")]),
            .errorRate: try PromAnswer.response([(ev("alpha", "v1"), "0.5"), (ev("alpha", "v2"), "0")]),
            .bucketRate: try PromAnswer.response([
                (ev("alpha", "v1", le: "0.125"), "4"), (ev("alpha", "v1", le: "0.25"), "8"), (ev("alpha", "v1", le: "0.5"), "10"), (ev("alpha", "v1", le: "+Inf"), "10"),
                // Buckets but no request series: latency without a rate.
                (ev("gamma", "v1", le: "0.25"), "1"), (ev("gamma", "v1", le: "+Inf"), "2"),
                // No version: cannot be placed, so ignored.
                (["endpoint": "alpha", "le": "+Inf"], "99"),
            ]),
        ]
        let f = p.figures(from: results, readAt: t)
        #expect(Set(f.keys) == Set([
            EndpointVersionKey(endpoint: "alpha", version: "v1"), EndpointVersionKey(endpoint: "alpha", version: "v2"), EndpointVersionKey(endpoint: "alpha"),
            EndpointVersionKey(endpoint: "beta", version: "v1"), EndpointVersionKey(endpoint: "beta"),
            EndpointVersionKey(endpoint: "gamma", version: "v1"), EndpointVersionKey(endpoint: "gamma"),
        ]))

        let v1 = try #require(f[EndpointVersionKey(endpoint: "alpha", version: "v1")])
        #expect(v1.rps == 10 && v1.errorRatio == 0.05)
        // rank 5 in (0.125, 0.25] holding 4 (4…8): 0.125 + 0.125 × 1/4 s; rank 9.5 in (0.25, 0.5]: 0.25 + 0.25 × 1.5/2 s.
        #expect(v1.p50Ms == 156.25 && v1.p95Ms == 437.5)
        let buckets = [Bucket(le: 0.125, count: 4), Bucket(le: 0.25, count: 8), Bucket(le: 0.5, count: 10), Bucket(le: .infinity, count: 10)]
        #expect(v1.p99Ms == Quantile.histogramQuantile(0.99, buckets)! * 1000)
        #expect(v1.samples == 600 && v1.readAt == t)

        let v2 = try #require(f[EndpointVersionKey(endpoint: "alpha", version: "v2")])
        #expect(v2.rps == 2 && v2.errorRatio == 0)
        #expect(v2.p50Ms == nil && v2.p95Ms == nil && v2.p99Ms == nil)
        #expect(v2.samples == 120)

        let alpha = try #require(f[EndpointVersionKey(endpoint: "alpha")])
        #expect(alpha.rps == 12 && alpha.errorRatio == 0.5 / 12)
        #expect(alpha.p50Ms == 156.25 && alpha.samples == 600)

        // NaN is no data, never 0.
        let beta = try #require(f[EndpointVersionKey(endpoint: "beta", version: "v1")])
        #expect(beta.rps == nil && beta.errorRatio == nil && beta.p99Ms == nil && beta.samples == nil)

        let gamma = try #require(f[EndpointVersionKey(endpoint: "gamma", version: "v1")])
        #expect(gamma.rps == nil && gamma.errorRatio == nil)
        #expect(gamma.p50Ms == 250 && gamma.p99Ms == 250 && gamma.samples == 120)
    }

    @Test func endpointSumsBucketsAcrossVersions() throws {
        let p = try MetricsProfile(kind: .generic, windowSeconds: 30)
        func ev(_ e: String, _ v: String, le: String? = nil) -> [String: String] { PromAnswer.ev(e, v, le: le) }
        let f = p.figures(from: [
            .bucketRate: try PromAnswer.response([
                (ev("a", "v1", le: "1"), "2"), (ev("a", "v1", le: "2"), "2"), (ev("a", "v1", le: "+Inf"), "2"),
                (ev("a", "v2", le: "1"), "0"), (ev("a", "v2", le: "2"), "2"), (ev("a", "v2", le: "+Inf"), "2"),
            ]),
        ], readAt: t)
        // Together: 2 ≤ 1 s, 4 ≤ 2 s. p50 = rank 2, reached at le=1: 1 s.
        #expect(f[EndpointVersionKey(endpoint: "a")]?.p50Ms == 1000)
        // p95 = rank 3.8, in (1, 2] holding 2 (2…4): 1 + 1 × 1.8/2 s.
        #expect(abs((f[EndpointVersionKey(endpoint: "a")]?.p95Ms ?? 0) - 1900) < 1e-9)
        #expect(f[EndpointVersionKey(endpoint: "a")]?.samples == 120)
        #expect(f[EndpointVersionKey(endpoint: "a", version: "v2")]?.p50Ms == 1500)
    }

    @Test func aMissingQueryLeavesOnlyItsFiguresEmpty() throws {
        let p = try MetricsProfile(kind: .generic)
        let f = p.figures(from: [.requestRate: try PromAnswer.response([(PromAnswer.ev("a", "v1"), "3")])], readAt: t)
        let v1 = try #require(f[EndpointVersionKey(endpoint: "a", version: "v1")])
        #expect(v1.rps == 3 && v1.errorRatio == nil && v1.p50Ms == nil && v1.samples == 180)
        #expect(p.figures(from: [:], readAt: t).isEmpty)
    }

    @Test func noTrafficIsZeroRateButNoRatioOrLatency() throws {
        let p = try MetricsProfile(kind: .generic)
        func ev(_ e: String, _ v: String, le: String? = nil) -> [String: String] { PromAnswer.ev(e, v, le: le) }
        let f = p.figures(from: [
            .requestRate: try PromAnswer.response([(ev("a", "v1"), "0")]),
            .errorRate: try PromAnswer.response([(ev("a", "v1"), "0")]),
            .bucketRate: try PromAnswer.response([(ev("a", "v1", le: "1"), "0"), (ev("a", "v1", le: "+Inf"), "0")]),
        ], readAt: t)
        let v1 = try #require(f[EndpointVersionKey(endpoint: "a", version: "v1")])
        #expect(v1.rps == 0 && v1.errorRatio == nil && v1.p50Ms == nil && v1.samples == 0)
    }

    /// Envoy answers carry the cluster name too; milliseconds stay milliseconds.
    @Test func envoyAnswersMapToEndpointsAndVersions() throws {
        let p = try MetricsProfile(kind: .envoy)
        func l(_ cluster: String, le: String? = nil) -> [String: String] {
            let parts = cluster.components(separatedBy: "--")
            var labels = PromAnswer.ev(parts[0], parts[1], le: le)
            labels["envoy_cluster_name"] = cluster
            return labels
        }
        let f = p.figures(from: [
            .requestRate: try PromAnswer.response([(l("my-model--v3"), "20")]),
            .errorRate: try PromAnswer.response([(l("my-model--v3"), "1")]),
            .bucketRate: try PromAnswer.response([(l("my-model--v3", le: "25"), "10"), (l("my-model--v3", le: "50"), "20"), (l("my-model--v3", le: "+Inf"), "20")]),
        ], readAt: t)
        let v3 = try #require(f[EndpointVersionKey(endpoint: "my-model", version: "v3")])
        #expect(v3.rps == 20 && v3.errorRatio == 0.05)
        // rank 10 reached at le=25 (ms): 25 × 10/10.
        #expect(v3.p50Ms == 25 && v3.p95Ms == 47.5 && v3.samples == 1200)
        #expect(f[EndpointVersionKey(endpoint: "my-model")]?.p50Ms == 25)
    }

    @Test func failuresAndWarningsOfARefresh() async throws {
        let p = try MetricsProfile(kind: .generic)
        let fake = FakePrometheus { request in
            let q = request.promForm["query"] ?? ""
            if q.contains("_bucket") {
                return HTTPResponse(status: 422, body: Array(#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}"#.utf8))
            }
            let body = #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"endpoint":"a","version":"v1"},"value":[1,"5"]}]},"warnings":["results truncated due to limit"]}"#
            return HTTPResponse(status: 200, body: Array(body.utf8))
        }
        let reading = await p.read(with: PrometheusClient(baseURL: "http://prom:9090", transport: fake), at: t)
        #expect(reading.warnings == ["results truncated due to limit"])
        guard case .api(.execution, _, 422)? = reading.failures[.bucketRate] else { Issue.record("\(reading.failures)"); return }
        #expect(reading.failures.count == 1)
        let v1 = try #require(reading.figures[EndpointVersionKey(endpoint: "a", version: "v1")])
        #expect(v1.rps == 5 && v1.errorRatio == 1 && v1.p99Ms == nil)
        #expect(fake.requests.allSatisfy { $0.promForm["time"] == "1767436620" })
    }
}
