import Foundation
import TowerDomain

/// A trace as a waterfall: spans in tree order (each parent before its children, siblings by start
/// time), every bar on the trace's shared time axis.
public enum Waterfall {
    public static func rows(_ trace: Trace) -> [(span: Span, depth: Int)] {
        let ids = Set(trace.spans.map(\.spanID))
        var children: [String: [Span]] = [:]
        var roots: [Span] = []
        for s in trace.spans {
            // A span whose parent is not in the trace (clipped, or still arriving) is shown as a root.
            if let p = s.parentID, ids.contains(p), p != s.spanID { children[p, default: []].append(s) } else { roots.append(s) }
        }
        var out: [(Span, Int)] = []
        var seen = Set<String>()
        func visit(_ s: Span, _ depth: Int) {
            guard seen.insert(s.spanID).inserted else { return } // cycles in hostile data end here
            out.append((s, depth))
            for c in (children[s.spanID] ?? []).sorted(by: { $0.startMicros < $1.startMicros }) { visit(c, depth + 1) }
        }
        for r in roots.sorted(by: { $0.startMicros < $1.startMicros }) { visit(r, 0) }
        return out
    }

    /// The HTTP status a span answered with: `http.status_code` (Envoy, Zipkin and OpenTracing
    /// tags) or `http.response.status_code` (OTLP semantic conventions); nil when it has neither.
    public static func httpStatus(_ s: Span) -> String? {
        for key in ["http.status_code", "http.response.status_code"] {
            if let v = s.attributes[key]?.trimmingCharacters(in: .whitespaces), !v.isEmpty { return v }
        }
        return nil
    }

    /// A span's status as the waterfall says it: a failed span with an HTTP status reads
    /// `error 503`, so the gateway's refusal says what it answered (an Envoy `503` with no upstream
    /// reads differently from a model's `500`).
    public static func statusText(_ s: Span) -> String {
        guard s.status == .error, let code = httpStatus(s) else { return s.status.rawValue }
        return "error \(code)"
    }

    /// A span is slow when it takes more than half the trace and its own work (time not covered by
    /// its children) is the largest of any span: where the time actually went.
    public static func slowest(_ trace: Trace) -> String? {
        var childTime: [String: Int64] = [:]
        for s in trace.spans { if let p = s.parentID { childTime[p, default: 0] += s.durationMicros } }
        return trace.spans.max { ($0.durationMicros - (childTime[$0.spanID] ?? 0)) < ($1.durationMicros - (childTime[$1.spanID] ?? 0)) }?.spanID
    }
}
