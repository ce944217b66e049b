import Foundation
import Hummingbird
import NIOCore
import TowerDomain

/// Per-request limits with answers that say what is wrong: headers over `maxHeaderBytes` (431),
/// and the deadline by which a body being read must have arrived (408, see `collectBody`).
struct RequestLimitsMiddleware: RouterMiddleware {
    let limits: ServerLimits

    func handle(_ request: Request, context: RegistryContext, next: (Request, RegistryContext) async throws -> Response) async throws -> Response {
        var size = 0
        for field in request.headers { size += field.name.rawName.utf8.count + field.value.utf8.count + 4 }
        if size > limits.maxHeaderBytes {
            throw Problem(status: 431, title: ProblemMiddleware.title(431),
                          detail: "the request's header fields are \(size) bytes; at most \(limits.maxHeaderBytes) are read")
        }
        var context = context
        context.bodyDeadline = .now + limits.bodyTimeout
        return try await next(request, context)
    }
}

/// The request body, up to `limit` bytes, refused with 408 when it has not all arrived by the
/// context's body deadline (a client sending a byte now and then would otherwise hold the
/// connection and its handler for as long as it liked).
func collectBody(_ req: Request, context: RegistryContext, upTo limit: Int) async throws -> ByteBuffer {
    guard let deadline = context.bodyDeadline else { return try await req.body.collect(upTo: limit) }
    return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
        group.addTask { try await req.body.collect(upTo: limit) }
        group.addTask {
            try await Task.sleep(until: deadline, clock: .continuous)
            return nil
        }
        defer { group.cancelAll() }
        if let first = try await group.next(), let buffer = first { return buffer }
        context.connection.triggerUserOutboundEvent(CloseAfterTimeout(), promise: nil)
        throw Problem(status: 408, title: ProblemMiddleware.title(408),
                      detail: "the request body did not arrive in time; send it whole without pausing")
    }
}
