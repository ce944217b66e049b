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
        registry.makeCounter(
            descriptor: .init(namespace: "tower_registry", metricName: "http_requests", unitName: "total",
                              helpText: "HTTP requests handled, by method, route and status"),
            labels: [("method", method), ("route", route), ("status", String(status))]
        ).increment()
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
        registry.makeCounter(
            descriptor: .init(namespace: "tower_registry", metricName: "changes", unitName: "total",
                              helpText: "Committed changes, by action"),
            labels: [("action", action)]
        ).increment()
    }

    func conflict(_ kind: String) {
        registry.makeCounter(
            descriptor: .init(namespace: "tower_registry", metricName: "conflicts", unitName: "total",
                              helpText: "Refused changes: stale revision, missing If-Match, or refused by the endpoint's state"),
            labels: [("kind", kind)]
        ).increment()
    }

    /// One gateway poll: `served` (200 with a configuration), `not_modified` (304: it already holds
    /// the current one), `denied` (no valid credentials) or `malformed` (400).
    func xdsPoll(type: String, result: String) {
        registry.makeCounter(
            descriptor: .init(namespace: "tower_registry", metricName: "xds_polls", unitName: "total",
                              helpText: "Gateway (Envoy xDS) polls, by resource type and result"),
            labels: [("type", type), ("result", result)]
        ).increment()
    }

    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
