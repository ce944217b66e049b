import Hummingbird
import TowerDomain

/// Per-request context: who is calling, once the auth middleware has looked at the token.
public struct RegistryContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = nil
    }

    /// Bodies over 1 MiB are refused before they are read in full.
    public var maxUploadSize: Int { RegistryLimits.maxBody }

    /// The caller, if their role is at least `role`; otherwise 403 naming what is missing.
    func require(_ role: Role) throws -> Principal {
        guard let p = principal else { throw Unauthenticated() }
        if p.role < role {
            throw RoutingError.forbidden("this needs the \(role.rawValue) role; the token '\(p.name)' has \(p.role.rawValue)")
        }
        return p
    }
}

public enum RegistryLimits {
    public static let maxBody = 1 << 20
}

struct Unauthenticated: Error {}
