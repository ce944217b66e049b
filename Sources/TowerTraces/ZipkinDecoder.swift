import Foundation
import TowerDomain

/// Zipkin API v2, from bytes: pure functions, apart from the client. Times are already µs.
public enum ZipkinDecoder {
    /// `GET /api/v2/traces`: a list of traces, each a list of spans.
    public static func decodeTraces(_ body: [UInt8]) throws(TraceSourceError) -> [Trace] {
        let what = "Zipkin traces"
        let lists = try TraceJSON.decode([[ZSpan]].self, from: body, what: what)
        var out: [Trace] = []
        for (t, list) in lists.enumerated() {
            out += TraceKit.group(try convert(list, at: "\(what): [\(t)]"))
        }
        return out
    }

    /// `GET /api/v2/trace/{id}`: one trace as a list of spans.
    public static func decodeTrace(_ body: [UInt8]) throws(TraceSourceError) -> [Trace] {
        let what = "Zipkin trace"
        return TraceKit.group(try convert(try TraceJSON.decode([ZSpan].self, from: body, what: what), at: what))
    }

    private static func convert(_ spans: [ZSpan], at: String) throws(TraceSourceError) -> [Span] {
        var out: [Span] = []
        for (i, s) in spans.enumerated() {
            let here = "\(at)[\(i)]"
            let (traceID, spanID, parentID) = try TraceIDs.spanIDs(trace: s.traceId, span: s.id, fields: ("traceId", "id"), at: here) { _ in
                try TraceIDs.parent(s.parentId)
            }
            var attributes = s.tags ?? [:]
            if let kind = s.kind, !kind.isEmpty { attributes["span.kind"] = kind.lowercased() }
            if let peer = s.remoteEndpoint?.serviceName, !peer.isEmpty, attributes["peer.service"] == nil { attributes["peer.service"] = peer }
            // Zipkin marks a failed span by the presence of the `error` tag; its value (even "") is the message.
            out.append(Span(traceID: traceID, spanID: spanID, parentID: parentID, service: s.localEndpoint?.serviceName ?? "",
                            name: s.name ?? "", startMicros: s.timestamp?.value ?? 0, durationMicros: max(0, s.duration?.value ?? 0),
                            status: s.tags?["error"] != nil ? .error : .unset, attributes: attributes))
        }
        return out
    }

    struct ZSpan: Decodable {
        struct Endpoint: Decodable { var serviceName: String? }
        var traceId: String?
        var id: String?
        var parentId: String?
        var name: String?
        var kind: String?
        var timestamp: WireInt?
        var duration: WireInt?
        var localEndpoint: Endpoint?
        var remoteEndpoint: Endpoint?
        var tags: [String: String]?
    }
}
