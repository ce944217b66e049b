import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TowerDomain

/// Turns every failure into RFC 9457 problem+json with a `detail` an operator can act on, counts
/// requests for `/metrics`, and writes one access-log line per request (never its headers).
struct ProblemMiddleware: RouterMiddleware {
    let metrics: RegistryMetrics
    var routes = RouteTable()

    /// How much of a URL's path goes into the log: enough to tell calls apart, never a 60 KB path
    /// a client made up to fill the disk.
    static let loggedPathLimit = 256

    func handle(_ request: Request, context: RegistryContext, next: (Request, RegistryContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch let e as HTTPError where e.status == .notFound && !routes.methods(for: request.uri.path).isEmpty {
            let allowed = routes.methods(for: request.uri.path)
            var r = Self.problem(Problem(status: 405, title: Self.title(405),
                                         detail: "\(request.method.rawValue) is not allowed on \(Names.printable(request.uri.path)); it takes \(allowed.joined(separator: ", "))"))
            r.headers[.allow] = allowed.joined(separator: ", ")
            response = r
        } catch {
            response = Self.response(for: error, request: request, context: context, metrics: metrics)
        }
        let elapsed = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        metrics.request(method: request.method.rawValue, route: route, status: response.status.code, duration: elapsed)
        // Every gateway polls twice a second or so; its successful polls would drown the log, so
        // they go to debug (the xDS poll counter in /metrics still has them).
        let routine = response.status.code < 400 && request.uri.path.hasPrefix("/v3/discovery:")
        context.logger.log(level: routine ? .debug : .info, "request", metadata: [
            "method": .string(request.method.rawValue), "path": .string(Names.printable(request.uri.path, limit: Self.loggedPathLimit)),
            "status": .stringConvertible(response.status.code),
            "ms": .string(String(format: "%.2f", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)),
        ])
        return response
    }

    static func response(for error: any Error, request: Request, context: RegistryContext, metrics: RegistryMetrics) -> Response {
        switch error {
        case let e as PromotionRefusal:
            // The type names the reason, so a pipeline can tell "expired" from "untrusted" without parsing prose.
            return problem(Problem(status: e.httpStatus, title: title(e.httpStatus), detail: e.message,
                                   type: "urn:tower:promotion:\(e.reason.rawValue)"))
        case let e as RoutingError:
            if e.kind == .conflict { metrics.conflict("refused") }
            return problem(Problem(status: e.httpStatus, title: title(e.httpStatus), detail: e.detail))
        case let e as StaleRevision:
            metrics.conflict("stale")
            var p = Problem(status: 412, title: title(412),
                            detail: "endpoint '\(e.current.name)' is at revision \(e.current.revision), not \(e.expected): \(e.current.updatedBy) changed it at \(Timestamp.rfc3339(ms: Timestamp.ms(e.current.updatedAt))). Review the current state and retry with If-Match: \"\(e.current.revision)\"")
            p.current = e.current
            p.changedBy = e.current.updatedBy
            p.changedAt = e.current.updatedAt
            var r = problem(p)
            r.headers[.eTag] = "\"\(e.current.revision)\""
            return r
        case is PreconditionRequired:
            metrics.conflict("missing-if-match")
            return problem(Problem(status: 428, title: title(428),
                                   detail: "changes need an If-Match header naming the revision you read, like If-Match: \"7\" (GET the endpoint for its ETag)"))
        case let e as Unauthenticated:
            var r = problem(Problem(status: 401, title: title(401),
                                    detail: e.detail ?? "a valid token is required: send Authorization: Bearer <token> (tokens are made with 'tower-registry token create')"))
            r.headers[.wwwAuthenticate] = "Bearer realm=\"tower-registry\""
            return r
        case let e as RateLimited:
            var r = problem(Problem(status: 429, title: title(429),
                                    detail: "too many failed authentications from \(e.address); wait \(e.retryAfter) s (Retry-After) and send a valid token"))
            r.headers[.retryAfter] = String(e.retryAfter)
            return r
        case let p as Problem:
            return problem(p)
        case let e as StoreUnavailable:
            // Not acknowledged. A connection lost during COMMIT leaves it unknown whether the change
            // landed, so the client re-reads the ETag before retrying (here or on another replica).
            context.logger.warning("store unavailable", metadata: ["error": .string(e.detail)])
            var r = problem(Problem(status: 503, title: title(503), detail: "the registry's database is unavailable (\(e.detail)); read the current state again (its ETag) before retrying"))
            r.headers[.retryAfter] = "1"
            return r
        case is NIOTooManyBytesError:
            return problem(Problem(status: 413, title: title(413), detail: "the request body is larger than 1 MiB"))
        case let e as HTTPError:
            let detail: String
            switch e.status.code {
            case 404: detail = "no such call: \(request.method.rawValue) \(Names.printable(request.uri.path)) (see docs/registry-api.yaml)"
            case 405: detail = "\(request.method.rawValue) is not allowed on \(Names.printable(request.uri.path))"
            case 413: detail = "the request body is larger than 1 MiB"
            default: detail = e.body ?? e.status.reasonPhrase
            }
            return problem(Problem(status: e.status.code, title: title(e.status.code), detail: detail))
        default:
            context.logger.error("unexpected error", metadata: ["error": .string(String(describing: error))])
            return problem(Problem(status: 500, title: title(500), detail: "the registry failed to handle this request; its log has the cause"))
        }
    }

    static func title(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 408: "Request Timeout"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 422: "Unprocessable Content"
        case 428: "Precondition Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 503: "Service Unavailable"
        default: status >= 500 ? "Internal Server Error" : "Error"
        }
    }

    static func problem(_ p: Problem) -> Response {
        let body = (try? Wire.encoder().encode(p)) ?? Data("{\"status\":\(p.status)}".utf8)
        return Response(status: .init(code: p.status), headers: [.contentType: "application/problem+json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
