import Foundation
import TowerDomain

/// The PromQL behind SLO burn rates, and how its answers become bad-event ratios per endpoint.
///
/// Three queries per refresh whatever the number of endpoints and windows: each is one expression
/// per window, `sum by (endpoint[, le]) (increase(…[w]))`, tagged with the window by
/// `label_replace(…, "tower_window", "<seconds>", "", "")` (an empty regex matches the absent
/// source label, so every series gets the tag) and joined with `or` (the tags make the label sets
/// disjoint, so nothing is dropped). Prometheus evaluates the same sub-expressions as seven separate
/// queries would; Tower saves the round trips and keeps the count fixed.
///
/// The burn-rate queries use the profile's metric names; the config's overrides (which are rate
/// queries by version) do not apply to them.
public struct BurnRateQueries: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable, Hashable {
        /// Requests per endpoint and window.
        case total
        /// 5xx answers per endpoint and window (absent, read as 0, where there were none).
        case errors
        /// Cumulative latency buckets per endpoint, `le` and window.
        case buckets
    }

    public static let windowLabel = "tower_window"

    public let profile: MetricsProfile.Kind
    public let latencyScaleToMs: Double
    public let windows: [Int]
    public let queries: [Kind: String]

    public init(profile: MetricsProfile, windows: [Int]) {
        self.profile = profile.kind
        latencyScaleToMs = profile.latencyScaleToMs
        let ws = Array(Set(windows.filter { $0 > 0 })).sorted()
        self.windows = ws
        var q: [Kind: String] = [:]
        for kind in Kind.allCases {
            q[kind] = ws.map { w in
                #"label_replace(\#(Self.expression(kind, profile.kind, window: MetricsProfile.promDuration(seconds: w))), "\#(Self.windowLabel)", "\#(w)", "", "")"#
            }.joined(separator: " or ")
        }
        queries = q
    }

    /// One window's expression for one kind, e.g. `sum by (endpoint) (increase(http_requests_total[5m]))`.
    static func expression(_ kind: Kind, _ profile: MetricsProfile.Kind, window w: String) -> String {
        switch profile {
        case .generic:
            switch kind {
            case .total: return "sum by (endpoint) (increase(http_requests_total[\(w)]))"
            case .errors: return #"sum by (endpoint) (increase(http_requests_total{code=~"5.."}[\#(w)]))"#
            case .buckets: return "sum by (endpoint, le) (increase(http_request_duration_seconds_bucket[\(w)]))"
            }
        case .envoy:
            // Endpoint out of the cluster name `<endpoint>--<version>`, as the live queries do.
            func endpoint(_ e: String) -> String {
                #"label_replace(\#(e), "endpoint", "$1", "envoy_cluster_name", "(.+)--(.+)")"#
            }
            let clusters = #"envoy_cluster_name=~".+--.+""#
            switch kind {
            case .total: return "sum by (endpoint) (\(endpoint("increase(envoy_cluster_upstream_rq_total{\(clusters)}[\(w)])")))"
            case .errors:
                return "sum by (endpoint) (\(endpoint(#"increase(envoy_cluster_upstream_rq_xx{\#(clusters),envoy_response_code_class="5"}[\#(w)])"#)))"
            case .buckets: return "sum by (endpoint, le) (\(endpoint("increase(envoy_cluster_upstream_rq_time_bucket{\(clusters)}[\(w)])")))"
            }
        }
    }

    /// Bad ratios per endpoint from the answers (a kind left out of `results` did not answer).
    /// - errors = 5xx ÷ requests; an endpoint with requests and no 5xx series has 0 (Envoy and the
    ///   client libraries create the 5xx series at the first 5xx). No requests: absent (0/0).
    /// - slow = 1 − bucket(le ≤ latencyMs) ÷ bucket(+Inf), with the largest bucket bound at or
    ///   below the endpoint's latencyMs: a threshold between two bounds is read at the bound below,
    ///   so requests between that bound and the threshold count as slow (conservative: the burn is
    ///   never understated). With no finite bound at or below the threshold the share cannot be
    ///   read, and the window is absent rather than all-slow.
    public func badRatios(from results: [Kind: PrometheusQueryResponse], latencyMs: [String: Double]) -> [String: BadRatios] {
        func each(_ kind: Kind, _ body: (String, Int, [String: String], Double) -> Void) {
            guard case .vector(let series)? = results[kind]?.result else { return }
            for s in series {
                guard let e = s.labels["endpoint"], !e.isEmpty, let w = s.labels[Self.windowLabel].flatMap({ Int($0) }),
                      let v = s.samples.first?.value, v.isFinite, v >= 0 else { continue }
                body(e, w, s.labels, v)
            }
        }
        struct Key: Hashable { var endpoint: String; var window: Int }
        var totals: [Key: Double] = [:], errors: [Key: Double] = [:], buckets: [Key: [Double: Double]] = [:]
        each(.total) { e, w, _, v in totals[Key(endpoint: e, window: w), default: 0] += v }
        each(.errors) { e, w, _, v in errors[Key(endpoint: e, window: w), default: 0] += v }
        each(.buckets) { e, w, labels, v in
            guard let le = labels["le"].flatMap(PrometheusDecoding.parseFloat), !le.isNaN else { return }
            buckets[Key(endpoint: e, window: w), default: [:]][le * latencyScaleToMs, default: 0] += v
        }
        let errorsAnswered = results[.errors] != nil
        var out: [String: BadRatios] = [:]
        for (k, total) in totals where total > 0 && errorsAnswered {
            // Sharded sums or extrapolation can put 5xx a hair above the total: a ratio above 1 is
            // not a ratio, so it is capped.
            out[k.endpoint, default: BadRatios()].errors[k.window] = min(1, (errors[k] ?? 0) / total)
        }
        for (k, b) in buckets {
            guard let threshold = latencyMs[k.endpoint], let all = b[.infinity], all > 0,
                  let bound = b.keys.filter({ $0.isFinite && $0 <= threshold }).max(), let fast = b[bound] else { continue }
            out[k.endpoint, default: BadRatios()].slow[k.window] = min(1, max(0, 1 - fast / all))
        }
        return out
    }
}
