import Crypto
import TowerDomain

/// The gateway's configuration as Envoy's REST-JSON xDS serves it (reference wire-formats §5):
/// pure functions from endpoints to `DiscoveryResponse` bytes. Every version of every endpoint is
/// a cluster named `<endpoint>--<version>`; every endpoint is a route that splits its path over
/// those clusters by weight, or answers 503 while the endpoint is out of service.
///
/// The bytes are canonical (keys sorted, no whitespace, written by `CanonicalJSON`), so the same routing
/// always gives the same `version_info` — across restarts of the registry too — and a poll that
/// would change nothing can be answered with 304.
public enum XDS {
    public enum ResourceType: String, Sendable, CaseIterable {
        case clusters, routes

        public var typeURL: String {
            switch self {
            case .clusters: "type.googleapis.com/envoy.config.cluster.v3.Cluster"
            case .routes: "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
            }
        }
    }

    public struct Response: Sendable, Equatable {
        public var versionInfo: String
        /// The whole `DiscoveryResponse` JSON.
        public var body: [UInt8]
    }

    /// The route configuration name when Envoy names none (the bootstrap's `route_config_name`).
    public static let defaultRouteConfigName = "tower"
    /// More names than any sane listener setup asks for; each one repeats the whole route table.
    public static let maxRouteConfigNames = 16

    public static func clusterName(endpoint: String, version: String) -> String { "\(endpoint)--\(version)" }

    // MARK: CDS

    public static func clusters(_ endpoints: [Endpoint]) -> Response {
        var resources: [CanonicalJSON] = []
        for e in endpoints.sorted(by: { $0.name < $1.name }) {
            for v in e.versions.sorted(by: { $0.name < $1.name }) {
                resources.append(cluster(endpoint: e.name, version: v))
            }
        }
        return response(.clusters, resources: resources)
    }

    static func cluster(endpoint: String, version v: Version) -> CanonicalJSON {
        let name = clusterName(endpoint: endpoint, version: v.name)
        var assignment: [String: CanonicalJSON] = ["cluster_name": .string(name)]
        var fields: [String: CanonicalJSON] = [
            "@type": .string(ResourceType.clusters.typeURL),
            "name": .string(name),
            "connect_timeout": .string("1s"),
        ]
        // A version without an upstream (or, defensively, with one that does not parse) gets an
        // empty cluster: Envoy answers its share with 503 "no healthy upstream" rather than the
        // route pointing at a cluster that does not exist.
        if let text = v.upstream, case .success(let u) = Upstream.parse(text, version: v.name) {
            fields["type"] = .string(u.isIPLiteral ? "STATIC" : "STRICT_DNS")
            if !u.isIPLiteral {
                // Model servers commonly listen on IPv4 only; Envoy's default (AUTO) tries IPv6 first.
                fields["dns_lookup_family"] = .string("V4_PREFERRED")
            }
            assignment["endpoints"] = .array([.object(["lb_endpoints": .array([.object(["endpoint": .object([
                "address": .object(["socket_address": .object([
                    "address": .string(u.host), "port_value": .int(u.port),
                ])]),
            ])])])])])
        } else {
            fields["type"] = .string("STATIC")
        }
        fields["load_assignment"] = .object(assignment)
        return .object(fields)
    }

    // MARK: RDS

    /// One `RouteConfiguration` per requested name (all alike), `tower` when none is named.
    public static func routes(_ endpoints: [Endpoint], names: [String], retryAfterSeconds: Int) -> Response {
        var wanted = Array(Set(names.filter { !$0.isEmpty })).sorted()
        if wanted.isEmpty { wanted = [defaultRouteConfigName] }
        let table = routeTable(endpoints, retryAfterSeconds: retryAfterSeconds)
        let resources = wanted.prefix(maxRouteConfigNames).map { name -> CanonicalJSON in
            .object([
                "@type": .string(ResourceType.routes.typeURL),
                "name": .string(name),
                "virtual_hosts": .array([.object([
                    "name": .string("tower"),
                    "domains": .array([.string("*")]),
                    "routes": .array(table),
                ])]),
            ])
        }
        return response(.routes, resources: Array(resources))
    }

    static func routeTable(_ endpoints: [Endpoint], retryAfterSeconds: Int) -> [CanonicalJSON] {
        // Longest path first: Envoy takes the first route that matches, and `/a` matches `/a/b/…`.
        let ordered = endpoints.sorted { a, b in
            let la = matchPrefix(a.path).utf8.count, lb = matchPrefix(b.path).utf8.count
            return la != lb ? la > lb : a.name < b.name
        }
        return ordered.map { route(for: $0, retryAfterSeconds: retryAfterSeconds) }
    }

    /// `path_separated_prefix` must not end with '/' (Envoy's validation), so trailing slashes go;
    /// the root path is matched with a plain prefix instead.
    static func matchPrefix(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }

    static func route(for e: Endpoint, retryAfterSeconds: Int) -> CanonicalJSON {
        let prefix = matchPrefix(e.path)
        let match: CanonicalJSON = prefix == "/" ? .object(["prefix": .string("/")]) : .object(["path_separated_prefix": .string(prefix)])
        // The decorator names the gateway's span in a trace after the endpoint's path, which is
        // what the console searches for (the default would be the Host header).
        var fields: [String: CanonicalJSON] = ["name": .string(e.name), "match": match, "stat_prefix": .string(e.name),
                                         "decorator": .object(["operation": .string(e.path)])]
        let versions = e.versions.sorted { $0.name < $1.name }
        let total = versions.filter { $0.state == .serving }.reduce(0) { $0 + $1.weight }
        if e.state == .serving && total > 0 {
            fields["route"] = .object(["weighted_clusters": .object(["clusters": .array(versions.map { v in
                .object([
                    "name": .string(clusterName(endpoint: e.name, version: v.name)),
                    // Draining and drained versions keep their cluster with weight 0, so a request
                    // already routed to them finishes and a later undrain needs no new cluster.
                    "weight": .int(v.state == .serving ? v.weight : 0),
                ])
            })])])
        } else {
            let why = e.state == .serving ? "has no version taking traffic" : "is out of service"
            fields["direct_response"] = .object([
                "status": .int(503),
                "body": .object(["inline_string": .string("endpoint '\(e.name)' \(why); retry later\n")]),
            ])
            fields["response_headers_to_add"] = .array([.object([
                "header": .object(["key": .string("retry-after"), "value": .string(String(max(0, retryAfterSeconds)))]),
                "append_action": .string("OVERWRITE_IF_EXISTS_OR_ADD"),
            ])])
        }
        return .object(fields)
    }

    // MARK: The response

    static func response(_ type: ResourceType, resources: [CanonicalJSON]) -> Response {
        // The resources are written once and spliced in: the hash needs their bytes anyway, and
        // writing them twice was half the cost of a change with a large fleet. Keys in sorted order,
        // so the body stays canonical JSON (the determinism test compares it byte for byte).
        let resourceBytes = CanonicalJSON.array(resources).bytes
        let version = versionInfo(of: resourceBytes)
        var body: [UInt8] = []
        body.reserveCapacity(resourceBytes.count + 160)
        body += Array(#"{"resources":"#.utf8)
        body += resourceBytes
        body += Array(#","type_url":"#.utf8)
        CanonicalJSON.quote(type.typeURL, into: &body)
        body += Array(#","version_info":"#.utf8)
        CanonicalJSON.quote(version, into: &body)
        body.append(UInt8(ascii: "}"))
        return Response(versionInfo: version, body: body)
    }

    /// The first 16 hex digits of SHA-256 over the resources: 64 bits tell versions apart well
    /// beyond any number of changes a registry will see, and stay short in Envoy's stats and logs.
    static func versionInfo(of resources: [UInt8]) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in SHA256.hash(data: resources).prefix(8) { out += [hex[Int(b >> 4)], hex[Int(b & 0xF)]] }
        return String(decoding: out, as: UTF8.self)
    }
}
