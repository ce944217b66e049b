import Foundation

/// Reading what Envoy itself holds and counts, from its admin API: the stack's health checks, the
/// gateway benchmark and the end-to-end tests all judge the registry by these, so they share one
/// reading of Envoy's formats.
public enum EnvoyAdmin {
    /// One route as Envoy routes it.
    public enum Route: Equatable, Sendable, CustomStringConvertible {
        /// Weight by cluster name (`<endpoint>--<version>`).
        case weighted([String: Int])
        /// Answered by Envoy itself with this status (an out-of-service endpoint).
        case direct(Int)

        public var description: String {
            switch self {
            case .weighted(let w): "weighted \(w.sorted { $0.key < $1.key })"
            case .direct(let s): "direct \(s)"
            }
        }

        /// The weights by version of `endpoint`'s clusters; nil for a direct response.
        public func versions(of endpoint: String) -> [String: Int]? {
            guard case .weighted(let w) = self else { return nil }
            return Dictionary(w.map { (String($0.key.dropFirst(endpoint.count + 2)), $0.value) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// The route named `route` in the route configuration `routeConfig`, from the body of
    /// `GET /config_dump?resource=dynamic_route_configs`; nil when Envoy does not hold it (yet).
    public static func route(_ route: String, routeConfig: String = "tower", configDump: [UInt8]) -> Route? {
        guard let o = try? JSONSerialization.jsonObject(with: Data(configDump)) as? [String: Any] else { return nil }
        for c in o["configs"] as? [[String: Any]] ?? [] {
            guard let rc = c["route_config"] as? [String: Any], rc["name"] as? String == routeConfig,
                  let hosts = rc["virtual_hosts"] as? [[String: Any]] else { continue }
            for r in hosts.flatMap({ $0["routes"] as? [[String: Any]] ?? [] }) where r["name"] as? String == route {
                if let d = r["direct_response"] as? [String: Any] { return .direct(d["status"] as? Int ?? -1) }
                let clusters = ((r["route"] as? [String: Any])?["weighted_clusters"] as? [String: Any])?["clusters"] as? [[String: Any]] ?? []
                // proto3 JSON may leave out zero values, a weight of 0 among them.
                return .weighted(Dictionary(clusters.map { ($0["name"] as? String ?? "?", $0["weight"] as? Int ?? 0) },
                                            uniquingKeysWith: { a, _ in a }))
            }
        }
        return nil
    }

    /// Counters and gauges from `GET /stats` (`name: value` lines), by name.
    public static func counters(_ statsText: String) -> [String: Int] {
        var out: [String: Int] = [:]
        for line in statsText.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, let v = Int(parts[1].trimmingCharacters(in: .whitespaces)) { out[String(parts[0])] = v }
        }
        return out
    }
}
