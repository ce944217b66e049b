/// Roles are ordered: each one may do everything the ones below it may. `gateway` is the least:
/// it may fetch the gateway configuration (xDS) and nothing under `/v1`, so a token copied out of
/// an Envoy bootstrap reveals no more than that Envoy already knows.
public enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    case gateway, viewer, `operator`, admin

    private var rank: Int {
        switch self {
        case .gateway: 0
        case .viewer: 1
        case .operator: 2
        case .admin: 3
        }
    }

    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

/// Who performs a call: the token's (or the client certificate's mapped) name and its role.
public struct Principal: Sendable, Equatable, Codable {
    public var name: String
    public var role: Role
    /// The verified client certificate behind the call (`cert SUBJECT sha256:HEX`), if any.
    public var certificate: String?
    public init(name: String, role: Role, certificate: String? = nil) {
        self.name = name; self.role = role; self.certificate = certificate
    }

    /// What the audit records as the actor: the name, and the certificate when there is one.
    public var actor: String { certificate.map { "\(name) (\($0))" } ?? name }

    /// How refusals name the caller's credential.
    public var credential: String { certificate == nil ? "the token '\(name)'" : "the certificate of '\(name)'" }
}
