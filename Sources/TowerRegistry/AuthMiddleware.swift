import Hummingbird
import TowerDomain

/// Resolves `Authorization: Bearer <token>` to a principal for every `/v1/` call; 401 without a
/// valid token. Roles are checked by each route (`RegistryContext.require`).
struct AuthMiddleware: RouterMiddleware {
    let store: RegistryStore

    func handle(_ request: Request, context: RegistryContext, next: (Request, RegistryContext) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1/") else { return try await next(request, context) }
        guard let header = request.headers[.authorization] else { throw Unauthenticated() }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw Unauthenticated() }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard token.utf8.count <= 256, let principal = try await store.principal(forToken: token) else {
            throw Unauthenticated()
        }
        var context = context
        context.principal = principal
        context.logger[metadataKey: "actor"] = .string(principal.name)
        return try await next(request, context)
    }
}
