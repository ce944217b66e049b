import Foundation
import Synchronization
import TowerDomain
import TowerHTTP

/// Which of Jaeger's query APIs a server speaks.
public enum JaegerAPIVersion: String, Sendable {
    /// The api_v3 HTTP gateway (Jaeger v2, late 1.x). The main path: the next release after
    /// v2.20 drops v1 search.
    case v3
    /// The internal v1 JSON API (Jaeger 1.x without the gateway).
    case v1
}

/// Traces from Jaeger. Tries api_v3 first and falls back to v1 when the server has no v3 gateway,
/// remembering the answer so an old server costs one wasted request, not one per call.
public final class JaegerTraceSource: HTTPTraceSource {
    private let http: TraceHTTP
    private let known: Mutex<JaegerAPIVersion?>

    /// `api` is what is already known about the server: `.v1` skips the v3 probe; a v3 answer that
    /// shows no gateway still falls back.
    public init(_ http: TraceHTTP, api: JaegerAPIVersion?) {
        self.http = http
        known = Mutex(api)
    }

    public convenience init(_ http: TraceHTTP) { self.init(http, api: nil) }

    /// The API this server answered on, once known.
    public var api: JaegerAPIVersion? { known.withLock { $0 } }

    public func search(_ q: TraceQuery) async throws(TraceSourceError) -> [TraceSummary] {
        if api != .v1 {
            let r = try await http.get("/api/v3/traces", Self.v3Parameters(q))
            if !Self.lacksV3(r) {
                known.withLock { $0 = .v3 }
                // The gateway answers an empty search with 404 "No traces found" (v1 said 200 []).
                if r.status == 404 { return [] }
                return TraceKit.summaries(of: try JaegerDecoder.decodeV3Traces(try TraceHTTP.accepted(r)), errorsOnly: q.errorsOnly, limit: q.limit, endpoint: q.endpoint)
            }
            known.withLock { $0 = .v1 }
        }
        let body = try await http.body("/api/traces", Self.v1Parameters(q))
        return TraceKit.summaries(of: try JaegerDecoder.decodeV1Traces(body), errorsOnly: q.errorsOnly, limit: q.limit, endpoint: q.endpoint)
    }

    public func trace(id: String) async throws(TraceSourceError) -> Trace {
        let id = try TraceIDs.trace(id)
        if api != .v1 {
            let r = try await http.get("/api/v3/traces/\(id)")
            if !Self.lacksV3(r) {
                known.withLock { $0 = .v3 }
                return try TraceKit.pick(id, from: JaegerDecoder.decodeV3Traces(try TraceHTTP.accepted(r, notFound: id)))
            }
            known.withLock { $0 = .v1 }
        }
        return try TraceKit.pick(id, from: JaegerDecoder.decodeV1Traces(try await http.body("/api/traces/\(id)", notFound: id)))
    }

    /// True when the answer did not come from a v3 gateway: a 404 without the gateway's JSON error
    /// (no such route), or a success that is HTML — old Jaeger's UI answers unknown paths with
    /// its index page and 200.
    static func lacksV3(_ r: HTTPResponse) -> Bool {
        struct GatewayError: Decodable { struct Inner: Decodable { var message: String? }; var error: Inner }
        if r.status == 404 { return (try? JSONDecoder().decode(GatewayError.self, from: Data(r.body))) == nil }
        if (200..<300).contains(r.status) { return r.body.first(where: { !" \t\r\n".utf8.contains($0) }) == UInt8(ascii: "<") }
        return false
    }

    /// snake_case names: the only ones older servers read, still accepted by new ones.
    static func v3Parameters(_ q: TraceQuery) -> [(String, String)] {
        var p = [("query.service_name", q.service)]
        if let op = q.operation, !op.isEmpty { p.append(("query.operation_name", op)) }
        p.append(("query.start_time_min", rfc3339(q.start)))
        p.append(("query.start_time_max", rfc3339(q.end)))
        if let d = q.minDuration, TraceKit.micros(d) > 0 {
            // Decimal seconds satisfy both Go's ParseDuration and the protobuf Duration pattern.
            let us = TraceKit.micros(d)
            p.append(("query.duration_min", "\(us / 1_000_000).\(String(us % 1_000_000 + 1_000_000).dropFirst())s"))
        }
        p.append(("query.num_traces", String(max(1, q.limit))))
        return p
    }

    static func v1Parameters(_ q: TraceQuery) -> [(String, String)] {
        var p = [("service", q.service)]
        if let op = q.operation, !op.isEmpty { p.append(("operation", op)) }
        p.append(("start", String(TraceKit.micros(q.start))))
        p.append(("end", String(TraceKit.micros(q.end))))
        if let d = q.minDuration, TraceKit.micros(d) > 0 { p.append(("minDuration", TraceKit.goDuration(d))) }
        if q.errorsOnly { p.append(("tags", #"{"error":"true"}"#)) }
        p.append(("limit", String(max(1, q.limit))))
        return p
    }

    private static func rfc3339(_ d: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(d)
    }
}
