import Foundation
import Hummingbird
import NIOCore
import Synchronization
import TowerDomain

/// How the registry serves gateways (`tower-registry serve --xds-…`).
public struct XDSOptions: Sendable {
    /// Node ids that may poll without a token: for Envoys whose bootstrap cannot carry one.
    public var allowedNodes: Set<String>
    /// The `retry-after` an out-of-service endpoint's 503 carries.
    public var retryAfterSeconds: Int

    public init(allowedNodes: Set<String> = [], retryAfterSeconds: Int = 30) {
        self.allowedNodes = allowedNodes; self.retryAfterSeconds = retryAfterSeconds
    }
}

/// Envoy's `DiscoveryRequest` as its REST fetcher prints it: proto field names (snake_case), zero
/// values left out. Only what the registry uses is decoded; the rest (user agent, extensions,
/// client features) is ignored.
struct DiscoveryRequest: Decodable {
    struct Node: Decodable {
        struct Metadata: Decodable {
            /// A registry token, for Envoys: the REST fetcher cannot send headers.
            var towerToken: String?
            enum CodingKeys: String, CodingKey { case towerToken = "tower_token" }
        }
        var id: String?
        var cluster: String?
        var metadata: Metadata?
    }
    var versionInfo: String?
    var node: Node?
    var resourceNames: [String]?
    var typeURL: String?

    enum CodingKeys: String, CodingKey {
        case versionInfo = "version_info", node, resourceNames = "resource_names", typeURL = "type_url"
    }
}

/// What the registry knows of each gateway, from its polls. Bounded: past `limit` nodes the one
/// that polled longest ago is forgotten.
public final class GatewayTracker: Sendable {
    struct Seen: Sendable {
        var applied: String?
        var served: String
        var resourceNames: [String]
    }

    struct Gateway: Sendable {
        var node: String
        var cluster: String?
        var lastPoll: Date
        var types: [XDS.ResourceType: Seen] = [:]
    }

    private let gateways = Mutex<[String: Gateway]>([:])
    let limit: Int

    public init(limit: Int = 1024) { self.limit = limit }

    func record(node: String, cluster: String?, type: XDS.ResourceType, applied: String?, served: String,
                resourceNames: [String], at now: Date) {
        gateways.withLock { g in
            if g[node] == nil && g.count >= limit, let oldest = g.values.min(by: { $0.lastPoll < $1.lastPoll }) {
                g[oldest.node] = nil
            }
            var entry = g[node] ?? Gateway(node: node, cluster: cluster, lastPoll: now)
            entry.cluster = cluster
            entry.lastPoll = now
            entry.types[type] = Seen(applied: applied.flatMap { $0.isEmpty ? nil : $0 }, served: served, resourceNames: resourceNames)
            g[node] = entry
        }
    }

    func all() -> [Gateway] { gateways.withLock { Array($0.values) }.sorted { $0.node < $1.node } }
}

/// Serves `POST /v3/discovery:clusters` and `:routes` and `GET /v1/gateways`.
struct XDSService: Sendable {
    let store: RegistryStore
    let metrics: RegistryMetrics
    let options: XDSOptions
    let tracker: GatewayTracker
    let cache = XDSCache()

    /// The response for `type` as the store stands now; rebuilt only after a change commits.
    func current(_ type: XDS.ResourceType, names: [String]) -> XDS.Response {
        let key = type == .clusters ? "c" : "r:" + names.sorted().joined(separator: ",")
        let seq = store.auditSeq
        if let hit = cache.lookup(key, seq: seq) { return hit }
        // Draining and drained look the same to the gateway (weight 0), so the unresolved drains
        // of `list` do not matter, and the result depends on the audit sequence alone.
        let list = store.list()
        let r = type == .clusters
            ? XDS.clusters(list.endpoints)
            : XDS.routes(list.endpoints, names: names, retryAfterSeconds: options.retryAfterSeconds)
        cache.store(key, seq: list.auditSeq, response: r)
        return r
    }

    func register(on router: Router<RegistryContext>) {
        // The colon is literal: Hummingbird treats ':' as a capture only at a component's start.
        router.post("/v3/discovery:clusters") { req, ctx in try await poll(.clusters, req, ctx) }
        router.post("/v3/discovery:routes") { req, ctx in try await poll(.routes, req, ctx) }
        router.get("/v1/gateways") { _, ctx in
            _ = try ctx.require(.viewer)
            return json(try Wire.encoder().encode(gatewayList()))
        }
    }

    func gatewayList() -> GatewayList {
        GatewayList(gateways: tracker.all().map { g in
            func sync(_ t: XDS.ResourceType) -> GatewayStatus.Sync? {
                g.types[t].map { .init(applied: $0.applied, current: current(t, names: $0.resourceNames).versionInfo) }
            }
            return GatewayStatus(node: g.node, cluster: g.cluster, lastPollAt: g.lastPoll, clusters: sync(.clusters), routes: sync(.routes))
        })
    }

    func poll(_ type: XDS.ResourceType, _ req: Request, _ ctx: RegistryContext) async throws -> Response {
        let body: DiscoveryRequest
        do {
            body = try await decode(DiscoveryRequest.self, from: req, context: ctx)
        } catch {
            metrics.xdsPoll(type: type.rawValue, result: "malformed")
            throw error
        }
        guard let node = body.node?.id, !node.isEmpty else {
            metrics.xdsPoll(type: type.rawValue, result: "malformed")
            throw Problem(status: 400, title: "Bad Request", detail: "node.id is missing: give the Envoy a node id in its bootstrap")
        }
        if let t = body.typeURL, !t.isEmpty, t != type.typeURL {
            metrics.xdsPoll(type: type.rawValue, result: "malformed")
            throw Problem(status: 400, title: "Bad Request",
                          detail: "type_url '\(Names.printable(t))' does not belong on /v3/discovery:\(type.rawValue), which serves \(type.typeURL)")
        }
        guard try await authorized(req, body: body, node: node, certificate: ctx.certificatePrincipal) else {
            metrics.xdsPoll(type: type.rawValue, result: "denied")
            ctx.logger.debug("xds poll denied", metadata: ["node": .string(Names.printable(node, limit: 128)), "type": .string(type.rawValue)])
            throw Problem(status: 401, title: "Unauthorized",
                          detail: "xDS needs a client certificate mapped to a role (--identities), or a token with the gateway role or above, in node.metadata.tower_token of the bootstrap (tower-registry envoy-bootstrap writes it) or as Authorization: Bearer; or start the registry with --xds-allow-node for this node id")
        }
        let names = Array((body.resourceNames ?? []).prefix(XDS.maxRouteConfigNames))
        if let long = names.first(where: { $0.utf8.count > 256 }) {
            metrics.xdsPoll(type: type.rawValue, result: "malformed")
            throw Problem(status: 400, title: "Bad Request", detail: "resource name '\(Names.printable(long, limit: 40))' is longer than 256 characters")
        }
        let r = current(type, names: type == .routes ? names : [])
        tracker.record(node: Names.printable(node, limit: 128), cluster: body.node?.cluster.map { Names.printable($0, limit: 128) },
                       type: type, applied: body.versionInfo, served: r.versionInfo, resourceNames: names, at: Date())
        if body.versionInfo == r.versionInfo {
            metrics.xdsPoll(type: type.rawValue, result: "not_modified")
            return Response(status: .notModified)
        }
        metrics.xdsPoll(type: type.rawValue, result: "served")
        return json(r.body)
    }

    /// Any one of: a verified client certificate mapped to a role, a bearer token, a token in the
    /// node's metadata, or an allow-listed node id. Every role is at least `gateway`, so any will do.
    private func authorized(_ req: Request, body: DiscoveryRequest, node: String, certificate: Principal?) async throws -> Bool {
        if certificate != nil { return true }
        if let header = req.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let token = parts[1].trimmingCharacters(in: .whitespaces)
                if token.utf8.count <= 256, try await store.principal(forToken: token) != nil { return true }
            }
        }
        if let token = body.node?.metadata?.towerToken, !token.isEmpty, token.utf8.count <= 256,
           try await store.principal(forToken: token) != nil {
            return true
        }
        return options.allowedNodes.contains(node)
    }
}

/// The last response per type (and route names), valid while the audit sequence is unchanged.
final class XDSCache: Sendable {
    private let entries = Mutex<[String: (seq: Int64, response: XDS.Response)]>([:])

    func lookup(_ key: String, seq: Int64) -> XDS.Response? {
        entries.withLock { e in e[key].flatMap { $0.seq == seq ? $0.response : nil } }
    }

    func store(_ key: String, seq: Int64, response: XDS.Response) {
        entries.withLock { e in
            // Keys come from what gateways ask for; bounded so odd requests cannot grow it.
            if e[key] == nil && e.count >= 64 { e.removeAll(keepingCapacity: true) }
            e[key] = (seq, response)
        }
    }
}
