import Foundation
import TowerDomain
import TowerHTTP

/// Traces from Grafana Tempo: TraceQL search on `/api/search`, traces from `/api/v2/traces/{id}`
/// (the v2 endpoint; the v1 form `{"batches":…}` is decoded too). For a multi-tenant Tempo pass
/// `X-Scope-OrgID` in `headers`.
public struct TempoTraceSource: HTTPTraceSource {
    private let http: TraceHTTP

    public init(_ http: TraceHTTP) { self.http = http }

    public func search(_ q: TraceQuery) async throws(TraceSourceError) -> [TraceSummary] {
        let found = try TempoDecoder.decodeSearch(try await http.body("/api/search", Self.parameters(q)), endpoint: q.endpoint).sorted { $0.startMicros > $1.startMicros }
        return Array(found.prefix(max(0, q.limit)))
    }

    public func trace(id: String) async throws(TraceSourceError) -> Trace {
        let id = try TraceIDs.trace(id)
        return try TraceKit.pick(id, from: TempoDecoder.decodeTrace(try await http.body("/api/v2/traces/\(id)", notFound: id)))
    }

    /// The filters as one TraceQL spanset, so they hold for the same span as in Jaeger and Zipkin;
    /// `start`/`end` in whole seconds (end after start, or Tempo answers 400).
    static func parameters(_ q: TraceQuery) -> [(String, String)] {
        var conditions = ["resource.service.name = \(quoted(q.service))"]
        if let op = q.operation, !op.isEmpty { conditions.append("name = \(quoted(op))") }
        if let d = q.minDuration, TraceKit.micros(d) > 0 { conditions.append("duration >= \(TraceKit.micros(d))us") }
        if q.errorsOnly { conditions.append("status = error") }
        let start = TraceKit.micros(q.start) / 1_000_000
        let end = max(start + 1, (TraceKit.micros(q.end) + 999_999) / 1_000_000)
        var p = [("q", "{ " + conditions.joined(separator: " && ") + " }")]
        // Tempo's own `minDuration` reads the whole trace's duration; the TraceQL condition above
        // holds for the matched span. Both, so the threshold holds whichever Tempo applies.
        if let d = q.minDuration, TraceKit.micros(d) > 0 { p.append(("minDuration", TraceKit.goDuration(d))) }
        return p + [("limit", String(max(1, q.limit))), ("start", String(start)), ("end", String(end))]
    }

    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
