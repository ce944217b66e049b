import Foundation
import TowerDomain

/// The queries a profile sends on every refresh. Raw values are the keys of the config's
/// overrides.
public enum MetricsQuery: String, CaseIterable, Sendable, Hashable {
    /// Requests per second, one series per (endpoint, version).
    case requestRate
    /// 5xx answers per second, one series per (endpoint, version); 0, not absent, where there is
    /// traffic but no 5xx.
    case errorRate
    /// Cumulative histogram bucket rates, one series per (endpoint, version, le).
    case bucketRate
}

public struct MetricsProfileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Maps a platform's metric names to what Tower shows (DESIGN §5). Each refresh sends the same
/// three queries whatever the number of endpoints: everything is aggregated `by (endpoint,
/// version)` in Prometheus, and the three percentiles all come from the one bucket query,
/// computed here with `Quantile.histogramQuantile` (Prometheus's own rules) instead of three more
/// `histogram_quantile` queries.
public struct MetricsProfile: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// `http_requests_total{endpoint,version,code}`,
        /// `http_request_duration_seconds_bucket{endpoint,version,le}` (seconds), as tower-sim exports.
        case generic
        /// Envoy's cluster stats: `envoy_cluster_upstream_rq_total`, `…_rq_xx{envoy_response_code_class}`,
        /// `…_rq_time_bucket` (milliseconds), clusters named `<endpoint>--<version>`.
        case envoy
    }

    public let kind: Kind
    /// The rate window, in seconds.
    public let windowSeconds: Int
    /// The PromQL sent for each query: the profile's own, or the config's override.
    public let queries: [MetricsQuery: String]
    /// What turns a bucket bound into milliseconds: 1000 for seconds, 1 for Envoy's milliseconds.
    public let latencyScaleToMs: Double
    /// The config's overrides as given (with `$window` unfilled), so the same profile can be
    /// rebuilt over another window (`windowed`).
    public let overrides: [String: String]

    /// - Parameter overrides: PromQL keyed by `MetricsQuery` raw value (`requestRate`, `errorRate`,
    ///   `bucketRate`). `$window` in an override becomes the window (`1m`). An override must keep
    ///   the `endpoint` and `version` labels (and `le` for buckets), and the profile's latency unit.
    public init(kind: Kind, windowSeconds: Int = 60, overrides: [String: String] = [:]) throws(MetricsProfileError) {
        guard windowSeconds > 0 else { throw MetricsProfileError("the metrics window must be at least one second") }
        self.kind = kind
        self.windowSeconds = windowSeconds
        let window = Self.promDuration(seconds: windowSeconds)
        var queries = Self.defaultQueries(kind, window: window)
        for (key, promql) in overrides {
            guard let q = MetricsQuery(rawValue: key) else {
                let known = MetricsQuery.allCases.map(\.rawValue).joined(separator: ", ")
                throw MetricsProfileError("unknown metrics query '\(Names.printable(key))' in the overrides; known: \(known)")
            }
            guard !promql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw MetricsProfileError("the override for \(key) is empty")
            }
            queries[q] = promql.replacingOccurrences(of: "$window", with: window)
        }
        self.queries = queries
        self.latencyScaleToMs = kind == .generic ? 1000 : 1
        self.overrides = overrides
    }

    /// The same profile (and overrides) over a window of `seconds`: `tower judge --window`, and
    /// past windows for change impact.
    public func windowed(seconds: Int) throws(MetricsProfileError) -> MetricsProfile {
        try MetricsProfile(kind: kind, windowSeconds: seconds, overrides: overrides)
    }

    /// The profile named in the config (`generic`, `envoy`).
    public init(name: String, windowSeconds: Int = 60, overrides: [String: String] = [:]) throws(MetricsProfileError) {
        guard let kind = Kind(rawValue: name) else {
            throw MetricsProfileError("unknown metrics profile '\(Names.printable(name))'; known: \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try self.init(kind: kind, windowSeconds: windowSeconds, overrides: overrides)
    }

    /// PromQL for Prometheus's own answer to what `figures` computes locally, e.g.
    /// `histogram_quantile(0.99, sum by (endpoint, version, le) (rate(…[1m])))`, so a test against a
    /// real Prometheus can compare the two. Its values are in the bucket unit: multiply by
    /// `latencyScaleToMs`.
    public func quantileQuery(_ q: Double) -> String {
        "histogram_quantile(\(q), \(queries[.bucketRate]!))"
    }

    static func defaultQueries(_ kind: Kind, window w: String) -> [MetricsQuery: String] {
        func by(_ labels: String, _ expr: String) -> String { "sum by (\(labels)) (\(expr))" }
        // 5xx where there were some, else 0 for every (endpoint, version) that had traffic, so that
        // "no errors" reads 0 while "no series" still reads as no data.
        func errors(_ fivexx: String, _ all: String) -> String {
            "\(by("endpoint, version", fivexx)) or (0 * \(by("endpoint, version", all)))"
        }
        switch kind {
        case .generic:
            let total = "rate(http_requests_total[\(w)])"
            return [
                .requestRate: by("endpoint, version", total),
                .errorRate: errors("rate(http_requests_total{code=~\"5..\"}[\(w)])", total),
                .bucketRate: by("endpoint, version, le", "rate(http_request_duration_seconds_bucket[\(w)])"),
            ]
        case .envoy:
            // Endpoint and version come out of the cluster name; names never hold "--" (Names), so
            // the split is unambiguous. Clusters not named so (xDS, admin) are left out.
            func split(_ expr: String) -> String {
                "label_replace(label_replace(\(expr), \"endpoint\", \"$1\", \"envoy_cluster_name\", \"(.+)--(.+)\"), \"version\", \"$2\", \"envoy_cluster_name\", \"(.+)--(.+)\")"
            }
            let clusters = "envoy_cluster_name=~\".+--.+\""
            let total = split("rate(envoy_cluster_upstream_rq_total{\(clusters)}[\(w)])")
            return [
                .requestRate: by("endpoint, version", total),
                .errorRate: errors(split("rate(envoy_cluster_upstream_rq_xx{\(clusters),envoy_response_code_class=\"5\"}[\(w)])"), total),
                .bucketRate: by("endpoint, version, le", split("rate(envoy_cluster_upstream_rq_time_bucket{\(clusters)}[\(w)])")),
            ]
        }
    }

    /// `60` → `1m`, `90` → `90s`.
    static func promDuration(seconds: Int) -> String {
        seconds % 3600 == 0 ? "\(seconds / 3600)h" : seconds % 60 == 0 ? "\(seconds / 60)m" : "\(seconds)s"
    }

    // MARK: From answers to figures

    /// Figures per version and per endpoint from the answers to `queries`. A query with no answer
    /// (left out of `results`) or a series that is absent leaves its figures nil, never 0; NaN and
    /// infinities become nil too.
    /// - rps: the request rate; errorRatio: 5xx rate ÷ request rate (nil without traffic);
    /// - p50/p95/p99: `Quantile.histogramQuantile` over the bucket rates, in milliseconds;
    /// - samples: requests in the window behind the percentiles (the `+Inf` bucket rate × window,
    ///   or the request rate × window without buckets);
    /// - window: the counts behind all that (rate × window for requests, 5xx and each cumulative
    ///   bucket, `le` in ms), for the canary statistics; each count nil where its rate is.
    /// An endpoint's figures add up its versions' rates and buckets.
    public func figures(from results: [MetricsQuery: PrometheusQueryResponse], readAt: Date) -> [EndpointVersionKey: Figures] {
        struct Acc {
            var rps: Double?
            var errors: Double?
            var buckets: [Double: Double] = [:]
        }
        func add(_ a: Double?, _ b: Double) -> Double { (a ?? 0) + b }

        var byVersion: [EndpointVersionKey: Acc] = [:]
        func each(_ q: MetricsQuery, _ body: (EndpointVersionKey, [String: String], Double) -> Void) {
            guard case .vector(let series)? = results[q]?.result else { return }
            for s in series {
                guard let e = s.labels["endpoint"], !e.isEmpty, let v = s.labels["version"], !v.isEmpty,
                      let value = s.samples.first?.value else { continue }
                body(EndpointVersionKey(endpoint: e, version: v), s.labels, value)
            }
        }
        each(.requestRate) { key, _, v in
            var acc = byVersion[key] ?? Acc()
            acc.rps = add(acc.rps, v)
            byVersion[key] = acc
        }
        each(.errorRate) { key, _, v in
            var acc = byVersion[key] ?? Acc()
            acc.errors = add(acc.errors, v)
            byVersion[key] = acc
        }
        each(.bucketRate) { key, labels, v in
            // `le` as PromQL reads it; a series whose `le` is not a number is skipped, as upstream
            // does (and a NaN bound, which no histogram has, with it).
            guard let le = labels["le"].flatMap(PrometheusDecoding.parseFloat), !le.isNaN else { return }
            var acc = byVersion[key] ?? Acc()
            acc.buckets[le, default: 0] += v
            byVersion[key] = acc
        }

        // Endpoints sum their versions in a fixed (name) order, so the figures are reproducible.
        var byEndpoint: [String: Acc] = [:]
        for (key, acc) in byVersion.sorted(by: { $0.key < $1.key }) {
            var e = byEndpoint[key.endpoint, default: Acc()]
            if let r = acc.rps { e.rps = add(e.rps, r) }
            if let x = acc.errors { e.errors = add(e.errors, x) }
            for (le, c) in acc.buckets { e.buckets[le, default: 0] += c }
            byEndpoint[key.endpoint] = e
        }

        func finite(_ v: Double?) -> Double? { v.flatMap { $0.isFinite ? $0 : nil } }
        func figures(_ acc: Acc) -> Figures {
            let rps = finite(acc.rps)
            var errorRatio: Double?
            if let r = rps, r > 0, let e = finite(acc.errors) { errorRatio = e / r }
            let buckets = acc.buckets.map { Bucket(le: $0.key, count: $0.value) }
            func p(_ q: Double) -> Double? { finite(Quantile.histogramQuantile(q, buckets)).map { $0 * latencyScaleToMs } }
            let observed = finite(acc.buckets[.infinity]) ?? rps
            let w = Double(windowSeconds)
            // NaN or negative bucket rates are passed on as they are: the judge says no-data for
            // them with the reason, which dropping them here would hide.
            let counts = acc.buckets.isEmpty ? nil
                : acc.buckets.sorted { $0.key < $1.key }.map { Bucket(le: $0.key * latencyScaleToMs, count: $0.value * w) }
            let window = WindowCounts(seconds: w, requests: rps.map { $0 * w }, errors: finite(acc.errors).map { $0 * w },
                                      latencyBuckets: counts)
            return Figures(rps: rps, errorRatio: errorRatio, p50Ms: p(0.5), p95Ms: p(0.95), p99Ms: p(0.99),
                           samples: observed.map { $0 * w }, readAt: readAt, window: window)
        }

        var out: [EndpointVersionKey: Figures] = [:]
        for (key, acc) in byVersion { out[key] = figures(acc) }
        for (endpoint, acc) in byEndpoint { out[EndpointVersionKey(endpoint: endpoint)] = figures(acc) }
        return out
    }

    // MARK: One refresh

    /// What one refresh read: the figures from the queries that answered, Prometheus's
    /// annotations, and why any query did not answer.
    public struct Reading: Sendable {
        public var figures: [EndpointVersionKey: Figures]
        public var warnings: [String]
        public var failures: [MetricsQuery: PrometheusError]
    }

    /// Sends the profile's queries (concurrently) and turns the answers into figures. A query that
    /// fails leaves only its own figures nil.
    public func read(with client: PrometheusClient, at time: Date? = nil) async -> Reading {
        let answers = await withTaskGroup(of: (MetricsQuery, Result<PrometheusQueryResponse, PrometheusError>).self) { group in
            for (q, promql) in queries {
                group.addTask {
                    do throws(PrometheusError) {
                        return (q, .success(try await client.instant(query: promql, time: time)))
                    } catch {
                        return (q, .failure(error))
                    }
                }
            }
            var all: [(MetricsQuery, Result<PrometheusQueryResponse, PrometheusError>)] = []
            for await a in group { all.append(a) }
            return all
        }
        var results: [MetricsQuery: PrometheusQueryResponse] = [:]
        var failures: [MetricsQuery: PrometheusError] = [:]
        var warnings: [String] = []
        for (q, r) in answers.sorted(by: { $0.0.rawValue < $1.0.rawValue }) {
            switch r {
            case .success(let response):
                results[q] = response
                for w in response.warnings where !warnings.contains(w) { warnings.append(w) }
            case .failure(let e):
                failures[q] = e
            }
        }
        return Reading(figures: figures(from: results, readAt: time ?? Date()), warnings: warnings, failures: failures)
    }
}
