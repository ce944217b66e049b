import Hummingbird
import NIOCore
import TowerDomain

/// Per-request context: who is calling, once the auth middleware has looked at the token.
public struct RegistryContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?
    /// The principal the connection's verified client certificate maps to, if any (xDS accepts it).
    public var certificatePrincipal: Principal?
    /// Where the request came from, for the per-address limits ("unknown" in router tests).
    public var sourceAddress: String
    /// The connection, to tell its `ConnectionGuard` what the request has reached.
    let connection: any Channel
    /// When a body being read must have arrived (set by `RequestLimitsMiddleware`).
    var bodyDeadline: ContinuousClock.Instant?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = nil
        certificatePrincipal = nil
        sourceAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
        connection = source.channel
        bodyDeadline = nil
    }

    /// Bodies over 1 MiB are refused before they are read in full.
    public var maxUploadSize: Int { RegistryLimits.maxBody }

    /// The caller, if their role is at least `role`; otherwise 403 naming what is missing.
    func require(_ role: Role) throws -> Principal {
        guard let p = principal else { throw Unauthenticated() }
        if p.role < role {
            throw RoutingError.forbidden("this needs the \(role.rawValue) role; \(p.credential) has \(p.role.rawValue)")
        }
        return p
    }
}

public enum RegistryLimits {
    public static let maxBody = 1 << 20
}

struct Unauthenticated: Error {
    /// Why, when it is more than "no valid token" (a certificate nobody is mapped to, two credentials that disagree).
    var detail: String? = nil
}
