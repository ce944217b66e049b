import TowerDomain

/// Which model version served a traced request, for the VERSION column and the `--version` filter.
///
/// The `model.version` tag (Zipkin, Jaeger) or attribute (OTLP) wins over the service name: it is
/// what the model server says it is, while a service name is deployment naming that several
/// versions may share. Failing that, a service named `<endpoint>-<version>` (how the simulator and
/// the stack's model servers name themselves) gives the version. Neither: unknown (nil).
public enum TraceVersion {
    public static let attribute = "model.version"

    /// The version of a whole trace: the earliest span that carries `model.version`, else the
    /// earliest whose service is `<endpoint>-<version>`.
    public static func of(_ spans: [Span], endpoint: String?) -> String? {
        let ordered = spans.sorted { $0.startMicros < $1.startMicros }
        return of(attributes: ordered.map(\.attributes), services: ordered.map(\.service), endpoint: endpoint)
    }

    /// The same rule over what a search answer carries (Tempo's span sets and service stats).
    public static func of(attributes: [[String: String]], services: [String], endpoint: String?) -> String? {
        if let v = attributes.lazy.compactMap({ $0[attribute] }).first(where: { !$0.isEmpty }) { return v }
        guard let endpoint, !endpoint.isEmpty else { return nil }
        return services.lazy.compactMap { fromService($0, endpoint: endpoint) }.first
    }

    /// `alpha-v2` → `v2` for endpoint `alpha`; nil for anything else (`alpha` itself, `alphabet-v1`).
    static func fromService(_ service: String, endpoint: String) -> String? {
        let prefix = endpoint + "-"
        guard service.hasPrefix(prefix), service.count > prefix.count else { return nil }
        return String(service.dropFirst(prefix.count))
    }
}
