import Prometheus

/// The registry's own metrics for `/metrics`: requests, latency, changes and conflicts.
public final class RegistryMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    static let latencyBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(5), .seconds(30),
    ]

    public init() {}

    func request(method: String, route: String, status: Int, duration: Duration) {
        count("http_requests", "HTTP requests handled, by method, route and status",
              [("method", method), ("route", route), ("status", String(status))])
        // Long polls would swamp the latency figures, so they are left out of the histogram.
        if route != "/v1/watch" {
            registry.makeDurationHistogram(
                descriptor: .init(namespace: "tower_registry", metricName: "http_request_duration", unitName: "seconds",
                                  helpText: "Time to answer a request (long-poll watch excluded)"),
                labels: [("method", method)], buckets: Self.latencyBuckets
            ).recordNanoseconds(Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        }
    }

    func change(_ action: String) {
        count("changes", "Committed changes, by action", [("action", action)])
    }

    func conflict(_ kind: String) {
        count("conflicts", "Refused changes: stale revision, missing If-Match, or refused by the endpoint's state", [("kind", kind)])
    }

    /// One gateway poll: `served` (200 with a configuration), `not_modified` (304: it already holds
    /// the current one), `denied` (no valid credentials) or `malformed` (400).
    func xdsPoll(type: String, result: String) {
        count("xds_polls", "Gateway (Envoy xDS) polls, by resource type and result", [("type", type), ("result", result)])
    }

    /// A request refused for its credentials: `reason` missing, malformed or unknown (also revoked);
    /// `limited` when it was answered 429 because its address had failed too often.
    func authFailure(reason: String, limited: Bool) {
        count("auth_failures", "Failed authentications, by reason and whether the address was rate-limited (429)",
              [("reason", reason), ("limited", limited ? "true" : "false")])
    }

    /// One more of `tower_registry_<name>_total` with these labels.
    private func count(_ name: String, _ help: String, _ labels: [(String, String)]) {
        registry.makeCounter(descriptor: .init(namespace: "tower_registry", metricName: name, unitName: "total", helpText: help),
                             labels: labels).increment()
    }

    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
