import Foundation
import TowerDomain
import TowerHTTP

/// A tracing backend (DESIGN §6): Jaeger, Tempo or Zipkin behind one shape. Every error thrown is
/// a `TraceSourceError`.
public protocol TraceSource: Sendable {
    /// Traces of `q.service` in the window, newest first, at most `q.limit`.
    func search(_ q: TraceQuery) async throws -> [TraceSummary]
    /// One whole trace. `id` may be hex (16 or 32 digits, any case) or base64.
    func trace(id: String) async throws -> Trace
}

/// What to look for. The endpoint → service/operation mapping comes from config, not from here.
public struct TraceQuery: Sendable, Equatable {
    public var service: String
    public var operation: String?
    /// Traces with a matching span at least this long (span duration, as all three backends read it).
    public var minDuration: Duration?
    /// Only traces with a failed span. Jaeger api_v3 has no such filter, so there the traces are
    /// filtered after the search and fewer than `limit` may come back.
    public var errorsOnly: Bool
    public var limit: Int
    public var start: Date
    public var end: Date
    /// The endpoint searched for, so a service named `<endpoint>-<version>` gives a trace's
    /// version (`TraceVersion`). Not sent to the backend.
    public var endpoint: String?

    public init(service: String, operation: String? = nil, minDuration: Duration? = nil, errorsOnly: Bool = false,
                limit: Int = 20, start: Date, end: Date, endpoint: String? = nil) {
        self.service = service; self.operation = operation; self.minDuration = minDuration; self.errorsOnly = errorsOnly
        self.limit = limit; self.start = start; self.end = end; self.endpoint = endpoint
    }
}

/// What went wrong reading traces, sorted by what the caller can do about it.
public enum TraceSourceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No answer: the backend is down, unreachable or too slow.
    case unreachable(HTTPTransportError)
    /// The backend has no trace with this ID (lower-case hex).
    case notFound(String)
    /// The backend answered with an error, in its own words. `status` is the HTTP status (or the
    /// code in the backend's error envelope; 0 when there is none).
    case refused(status: Int, message: String)
    /// The answer could not be understood.
    case malformed(String)
    /// An ID that is neither hex nor base64 of the right length.
    case invalidID(String)

    public var description: String {
        switch self {
        case .unreachable(let e): "trace backend \(e)"
        case .notFound(let id): "trace \(id) not found"
        case .refused(let status, let message):
            // 0: an error envelope inside a successful answer, without a code of its own.
            status == 0 ? "the trace backend refused: \(message)" : "the trace backend answered \(status): \(message)"
        case .malformed(let m): "the trace backend's answer could not be read: \(m)"
        case .invalidID(let m): m
        }
    }
}

extension TraceSummary {
    /// The summary of a whole trace, for backends whose search returns whole traces (Jaeger,
    /// Zipkin). Root: a span without a parent, else one whose parent is not in the trace (the root
    /// may not have arrived yet), else any; the earliest of those. Window: earliest start to latest
    /// end. Version by `TraceVersion`'s rule. Nil for a trace without spans.
    public init?(summarizing trace: Trace, endpoint: String? = nil) {
        guard !trace.spans.isEmpty else { return nil }
        let ids = Set(trace.spans.map(\.spanID))
        var candidates = trace.spans.filter { $0.parentID == nil }
        if candidates.isEmpty { candidates = trace.spans.filter { !ids.contains($0.parentID ?? "") } }
        if candidates.isEmpty { candidates = trace.spans }
        // Zipkin spans may lack a timestamp (decoded as 0); they must not drag the window to 1970.
        let timed = trace.spans.filter { $0.startMicros > 0 }
        let window = timed.isEmpty ? trace.spans : timed
        let root = (candidates.filter { $0.startMicros > 0 }.min { $0.startMicros < $1.startMicros }) ?? candidates[0]
        let start = window.map(\.startMicros).min() ?? 0
        let end = window.map { TraceKit.add($0.startMicros, $0.durationMicros) }.max() ?? start
        self.init(traceID: trace.traceID, rootService: root.service, rootName: root.name, startMicros: start,
                  durationMicros: max(0, TraceKit.subtract(end, start)),
                  spanCount: trace.spans.count, errorCount: trace.spans.count(where: { $0.status == .error }),
                  version: TraceVersion.of(trace.spans, endpoint: endpoint))
    }
}

// MARK: Shared by the decoders and clients

/// Helpers of the trace decoders and clients, in one namespace: TowerSources is shared with
/// other sources.
enum TraceKit {
    /// Groups spans by trace ID, traces in order of first appearance (Jaeger api_v3 puts the
    /// spans of every matched trace into one list).
    static func group(_ spans: [Span]) -> [Trace] {
        var order: [String] = []
        var byID: [String: [Span]] = [:]
        for s in spans {
            if byID[s.traceID] == nil { order.append(s.traceID) }
            byID[s.traceID, default: []].append(s)
        }
        return order.map { Trace(traceID: $0, spans: byID[$0]!) }
    }

    /// Summaries of whole traces, newest first, as the search of every client returns them.
    static func summaries(of traces: [Trace], errorsOnly: Bool, limit: Int, endpoint: String? = nil) -> [TraceSummary] {
        let all = traces.compactMap { TraceSummary(summarizing: $0, endpoint: endpoint) }
            .filter { !errorsOnly || ($0.errorCount ?? 0) > 0 }
            .sorted { $0.startMicros > $1.startMicros }
        return Array(all.prefix(max(0, limit)))
    }

    /// The trace a by-ID answer was for: the exact ID, else one whose low 64 bits match (Zipkin
    /// and Jaeger answer a 64-bit query with the 128-bit trace and vice versa).
    static func pick(_ id: String, from traces: [Trace]) throws(TraceSourceError) -> Trace {
        if let t = traces.first(where: { $0.traceID == id }) ?? traces.first(where: { $0.traceID.suffix(16) == id.suffix(16) }) {
            return t
        }
        throw .notFound(id)
    }

    static func add(_ a: Int64, _ b: Int64) -> Int64 {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? (b > 0 ? .max : .min) : r
    }

    static func subtract(_ a: Int64, _ b: Int64) -> Int64 {
        let (r, o) = a.subtractingReportingOverflow(b)
        return o ? (b < 0 ? .max : .min) : r
    }

    /// Whole microseconds in a Duration, saturating (a query comes from config and could be absurd).
    static func micros(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        let (m, o) = s.multipliedReportingOverflow(by: 1_000_000)
        return o ? (s > 0 ? .max : .min) : add(m, atto / 1_000_000_000_000)
    }

    /// A Go duration string (Jaeger v1 and Tempo's `minDuration`) in the largest unit that keeps
    /// it whole: `2s`, `250ms`, `1500us`.
    static func goDuration(_ d: Duration) -> String {
        let us = micros(d)
        if us != 0 && us % 1_000_000 == 0 { return "\(us / 1_000_000)s" }
        if us != 0 && us % 1000 == 0 { return "\(us / 1000)ms" }
        return "\(us)us"
    }

    static func micros(_ date: Date) -> Int64 {
        let v = (date.timeIntervalSince1970 * 1_000_000).rounded()
        return v.isFinite ? Int64(Swift.min(Swift.max(v, -9.2e18), 9.2e18)) : 0
    }
}

/// Which service and operation stand for an endpoint in the tracing backend. Templates may use
/// `{endpoint}` and `{path}`; the default matches spans that a gateway names after the route.
public struct TraceMapping: Sendable, Equatable {
    public var service: String
    public var operation: String?

    public init(service: String = "gateway", operation: String? = "POST {path}") {
        self.service = service
        self.operation = operation
    }

    public func query(endpoint: String, path: String, now: Date, window: TimeInterval = 900, errorsOnly: Bool, limit: Int) -> TraceQuery {
        func fill(_ t: String) -> String { t.replacingOccurrences(of: "{endpoint}", with: endpoint).replacingOccurrences(of: "{path}", with: path) }
        return TraceQuery(service: fill(service), operation: operation.map(fill), errorsOnly: errorsOnly, limit: limit,
                          start: now.addingTimeInterval(-window), end: now, endpoint: endpoint)
    }
}
