import Foundation
import TowerDomain

/// Recent traces of the simulated fleet, answered in the Zipkin v2 API's shape
/// (`/api/v2/traces`, `/api/v2/trace/{id}`): a bounded ring so memory stays flat however long
/// the simulation runs. Spans that arrive for a trace already held (a gateway reporting its side
/// of a request a model server recorded) join that trace rather than making a second one.
public struct SpanStore: Sendable {
    public let capacity: Int
    private var traces: [Trace] = []
    /// Trace ID → slot in `traces`, so joining and lookups do not scan the ring.
    private var slots: [String: Int] = [:]
    private var next = 0

    public init(capacity: Int = 5000) { self.capacity = max(1, capacity) }

    public mutating func add(_ t: Trace) {
        if let i = slots[t.traceID] {
            var spans = traces[i].spans
            let known = Set(spans.map(\.spanID))
            spans += t.spans.filter { !known.contains($0.spanID) }
            // Earliest first, so the first span is the one the search orders by and usually the root.
            spans.sort { $0.startMicros < $1.startMicros }
            traces[i].spans = spans
            return
        }
        if traces.count < capacity {
            traces.append(t)
        } else {
            slots[traces[next].traceID] = nil
            traces[next] = t
        }
        slots[t.traceID] = next
        next = (next + 1) % capacity
    }

    public var count: Int { traces.count }

    public func trace(id: String) -> Trace? {
        let wanted = id.lowercased()
        let padded = wanted.count == 16 ? String(repeating: "0", count: 16) + wanted : wanted
        return slots[padded].map { traces[$0] }
    }

    /// Zipkin's query semantics: `serviceName`, `spanName`, `minDuration` (µs), `endTs` and
    /// `lookback` (ms), `annotationQuery=error`, `limit`; newest first.
    public func search(serviceName: String?, spanName: String?, minDurationMicros: Int64?, endTsMs: Int64, lookbackMs: Int64,
                       errorsOnly: Bool, limit: Int) -> [Trace] {
        let startMicros = (endTsMs - lookbackMs) * 1000, endMicros = endTsMs * 1000
        var out: [Trace] = []
        for t in traces.sorted(by: { ($0.spans.first?.startMicros ?? 0) > ($1.spans.first?.startMicros ?? 0) }) {
            guard let root = t.spans.first(where: { $0.parentID == nil }) ?? t.spans.first else { continue }
            if root.startMicros < startMicros || root.startMicros > endMicros { continue }
            if let s = serviceName, !t.spans.contains(where: { $0.service == s }) { continue }
            if let n = spanName, !t.spans.contains(where: { $0.name == n && (serviceName == nil || $0.service == serviceName) }) { continue }
            if let m = minDurationMicros, root.durationMicros < m { continue }
            if errorsOnly && !t.spans.contains(where: { $0.status == .error }) { continue }
            out.append(t)
            if out.count >= limit { break }
        }
        return out
    }

    /// Zipkin v2 JSON for a list of spans: IDs as hex, times and durations in microseconds,
    /// `localEndpoint.serviceName`, tags (an `error` tag marks a failed span).
    public static func zipkinJSON(_ spans: [Span]) -> [[String: Any]] {
        let serviceByID = Dictionary(spans.map { ($0.spanID, $0.service) }, uniquingKeysWith: { a, _ in a })
        return spans.map { s in
            var tags = s.attributes
            if s.status == .error && tags["error"] == nil { tags["error"] = "true" }
            var o: [String: Any] = [
                "traceId": s.traceID, "id": s.spanID, "name": s.name, "timestamp": s.startMicros, "duration": s.durationMicros,
                "localEndpoint": ["serviceName": s.service], "tags": tags,
            ]
            // A root, or the first span of a service called by another, receives a request (SERVER);
            // spans inside one service are local work and carry no kind, as Zipkin's model says.
            if let p = s.parentID {
                o["parentId"] = p
                if let parentService = serviceByID[p], parentService != s.service { o["kind"] = "SERVER" }
            } else {
                o["kind"] = "SERVER"
            }
            return o
        }
    }

    public static func encode(_ value: Any) -> [UInt8] {
        (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])).map(Array.init) ?? Array("[]".utf8)
    }
}
