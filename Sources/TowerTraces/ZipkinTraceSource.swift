import Foundation
import TowerDomain
import TowerHTTP

/// Traces from Zipkin's API v2. Search returns whole traces; summaries are computed from them.
public struct ZipkinTraceSource: HTTPTraceSource {
    private let http: TraceHTTP

    public init(_ http: TraceHTTP) { self.http = http }

    public func search(_ q: TraceQuery) async throws(TraceSourceError) -> [TraceSummary] {
        let body = try await http.body("/api/v2/traces", Self.parameters(q))
        return TraceKit.summaries(of: try ZipkinDecoder.decodeTraces(body), errorsOnly: q.errorsOnly, limit: q.limit, endpoint: q.endpoint)
    }

    public func trace(id: String) async throws(TraceSourceError) -> Trace {
        let id = try TraceIDs.trace(id)
        // Zipkin's own form of a 64-bit trace ID is 16 digits.
        let wire = id.hasPrefix("0000000000000000") ? String(id.dropFirst(16)) : id
        return try TraceKit.pick(id, from: ZipkinDecoder.decodeTrace(try await http.body("/api/v2/trace/\(wire)", notFound: id)))
    }

    /// Zipkin rejects non-positive `minDuration`, `lookback` and `limit` with 400, so none is sent.
    /// `annotationQuery=error` matches spans carrying the `error` tag.
    static func parameters(_ q: TraceQuery) -> [(String, String)] {
        var p = [("serviceName", q.service)]
        if let op = q.operation, !op.isEmpty { p.append(("spanName", op)) }
        if let d = q.minDuration, TraceKit.micros(d) > 0 { p.append(("minDuration", String(TraceKit.micros(d)))) }
        if q.errorsOnly { p.append(("annotationQuery", "error")) }
        let endMs = max(1, TraceKit.micros(q.end) / 1000)
        p.append(("endTs", String(endMs)))
        p.append(("lookback", String(max(1, TraceKit.subtract(endMs, TraceKit.micros(q.start) / 1000)))))
        p.append(("limit", String(max(1, q.limit))))
        return p
    }
}
