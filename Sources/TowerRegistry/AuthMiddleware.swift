import Hummingbird
import TowerDomain

/// Resolves the caller for every `/v1/` call: `Authorization: Bearer <token>`, or a verified client
/// certificate that the identities file maps to a role, or both when they agree on who is calling;
/// 401 otherwise. Roles are checked by each route (`RegistryContext.require`). The certificate is
/// also resolved for `/v3/` (xDS), where an Envoy with a gateway certificate needs no token.
struct AuthMiddleware: RouterMiddleware {
    let store: RegistryStore
    var limiter = AuthFailureLimiter()
    var metrics = RegistryMetrics()
    var certificates = CertificateAuth()

    func handle(_ request: Request, context: RegistryContext, next: (Request, RegistryContext) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let v1 = path.hasPrefix("/v1/")
        guard v1 || path.hasPrefix("/v3/") else { return try await next(request, context) }
        var context = context
        let peer = certificates.peers?.certificate(for: context.connection)
        let fromCertificate = peer.flatMap { certificates.identities.principal(for: $0) }
        context.certificatePrincipal = fromCertificate
        guard v1 else { return try await next(request, context) }

        guard let header = request.headers[.authorization] else {
            if let fromCertificate { return try await pass(fromCertificate, request, context, next) }
            if let peer {
                throw refuse(context, "unmapped_certificate",
                             "the client certificate \(Names.printable(peer.subject, limit: 200)) matches no entry of the registry's identities file, and no token was sent: map it (--identities) or send Authorization: Bearer <token>")
            }
            throw refuse(context, "missing")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw refuse(context, "malformed") }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard token.utf8.count <= 256, var principal = try await store.principal(forToken: token) else {
            throw refuse(context, "unknown")
        }
        if let fromCertificate {
            // Two credentials for two different people is a mistake or an attack; either way, no guess.
            guard fromCertificate.name == principal.name else {
                throw refuse(context, "credentials_disagree",
                             "the token '\(principal.name)' and the client certificate of '\(fromCertificate.name)' name different callers: send only one of them, or map the certificate to the token's name")
            }
            principal.certificate = fromCertificate.certificate
            principal.role = min(principal.role, fromCertificate.role)
        }
        return try await pass(principal, request, context, next)
    }

    private func pass(_ principal: Principal, _ request: Request, _ context: RegistryContext,
                      _ next: (Request, RegistryContext) async throws -> Response) async throws -> Response {
        var context = context
        context.principal = principal
        context.logger[metadataKey: "actor"] = .string(principal.actor)
        return try await next(request, context)
    }

    /// A failed authentication: counted, and 401 until the address has failed too often, then 429.
    private func refuse(_ context: RegistryContext, _ reason: String, _ detail: String? = nil) -> any Error {
        if let wait = limiter.fail(from: context.sourceAddress) {
            metrics.authFailure(reason: reason, limited: true)
            return RateLimited(retryAfter: wait, address: context.sourceAddress)
        }
        metrics.authFailure(reason: reason, limited: false)
        return Unauthenticated(detail: detail)
    }
}

/// Client certificates as identities: the TLS layer's table of verified peers and the mapping
/// from certificates to principals. Without TLS both are empty and only tokens count.
public struct CertificateAuth: Sendable {
    public var peers: PeerCertificateTable?
    public var identities: CertificateIdentities
    public init(peers: PeerCertificateTable? = nil, identities: CertificateIdentities = CertificateIdentities()) {
        self.peers = peers; self.identities = identities
    }
}
