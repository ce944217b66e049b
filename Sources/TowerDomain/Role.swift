/// Roles are ranked for what they may read and how far they may move traffic: each of gateway,
/// viewer, operator and admin may do everything the ones below it may. `gateway` is the least:
/// it may fetch the gateway configuration (xDS) and nothing under `/v1`, so a token copied out of
/// an Envoy bootstrap reveals no more than that Envoy already knows.
///
/// `deployer` is a pipeline's role, and a capability beside the ranks rather than a step on them:
/// it reads what a viewer reads, may apply declarative specs and submit evaluations
/// (`mayApplySpecs`), and may not move traffic, so a pipeline never fights an incident. It ranks
/// between viewer and operator so that every `require(.operator)` refuses it; an operator in turn
/// may not apply specs, because `mayApplySpecs` is not a rank.
public enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    case gateway, viewer, deployer, `operator`, admin

    private var rank: Int {
        switch self {
        case .gateway: 0
        case .viewer: 1
        case .deployer: 2
        case .operator: 3
        case .admin: 4
        }
    }

    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }

    /// May apply specs (`PUT` without weights or gates), delete an endpoint that is out of service
    /// and submit evaluations: deployers and admins.
    public var mayApplySpecs: Bool { self == .deployer || self == .admin }
}

/// Who performs a call: the token's name and its role.
public struct Principal: Sendable, Equatable, Codable {
    public var name: String
    public var role: Role
    public init(name: String, role: Role) { self.name = name; self.role = role }
}
