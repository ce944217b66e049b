import Foundation

/// `GET /v1/gateways`: the Envoys that poll the registry for their configuration, and whether each
/// holds what the registry would serve it now.
public struct GatewayList: Codable, Sendable, Equatable {
    public var gateways: [GatewayStatus]
    public init(gateways: [GatewayStatus]) { self.gateways = gateways }
}

public struct GatewayStatus: Codable, Sendable, Equatable {
    /// One xDS resource type as one gateway holds it.
    public struct Sync: Codable, Sendable, Equatable {
        /// The version the gateway says it holds (its last request's `version_info`); absent until
        /// it has accepted one.
        public var applied: String?
        /// The version the registry would serve it now.
        public var current: String
        public init(applied: String?, current: String) { self.applied = applied; self.current = current }
        public var inSync: Bool { applied == current }
    }

    /// Envoy's `node.id`.
    public var node: String
    /// Envoy's `node.cluster`.
    public var cluster: String?
    public var lastPollAt: Date
    /// Present once the gateway has polled for clusters (CDS).
    public var clusters: Sync?
    /// Present once the gateway has polled for routes (RDS).
    public var routes: Sync?
    /// Every type the gateway polls is at the current version.
    public var inSync: Bool

    public init(node: String, cluster: String?, lastPollAt: Date, clusters: Sync?, routes: Sync?) {
        self.node = node; self.cluster = cluster; self.lastPollAt = lastPollAt
        self.clusters = clusters; self.routes = routes
        let polled = [clusters, routes].compactMap { $0 }
        inSync = !polled.isEmpty && polled.allSatisfy(\.inSync)
    }
}
