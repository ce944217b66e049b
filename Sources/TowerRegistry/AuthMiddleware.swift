import Hummingbird
import TowerDomain

/// Resolves `Authorization: Bearer <token>` to a principal for every `/v1/` call; 401 without a
/// valid token. Roles are checked by each route (`RegistryContext.require`).
struct AuthMiddleware: RouterMiddleware {
    let store: RegistryStore
    var limiter = AuthFailureLimiter()
    var metrics = RegistryMetrics()

    func handle(_ request: Request, context: RegistryContext, next: (Request, RegistryContext) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1/") else { return try await next(request, context) }
        guard let header = request.headers[.authorization] else { throw refuse(context, "missing") }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw refuse(context, "malformed") }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard token.utf8.count <= 256, let principal = try await store.principal(forToken: token) else {
            throw refuse(context, "unknown")
        }
        var context = context
        context.principal = principal
        context.logger[metadataKey: "actor"] = .string(principal.name)
        return try await next(request, context)
    }

    /// A failed authentication: counted, and 401 until the address has failed too often, then 429.
    private func refuse(_ context: RegistryContext, _ reason: String) -> any Error {
        if let wait = limiter.fail(from: context.sourceAddress) {
            metrics.authFailure(reason: reason, limited: true)
            return RateLimited(retryAfter: wait, address: context.sourceAddress)
        }
        metrics.authFailure(reason: reason, limited: false)
        return Unauthenticated()
    }
}
