import Foundation
import TowerDomain

/// Jaeger's two query APIs, from bytes to traces: pure functions, so they can be tested and fuzzed
/// apart from the client. Both group spans into traces by trace ID.
public enum JaegerDecoder {
    /// `GET /api/v3/traces` and `/api/v3/traces/{id}`: OTLP JSON in a `result` envelope, the spans
    /// of every matched trace in one list. The gateway's error shape
    /// `{"error":{"httpCode":…,"message":…}}` is thrown as `.refused`.
    public static func decodeV3Traces(_ body: [UInt8]) throws(TraceSourceError) -> [Trace] {
        let what = "Jaeger api_v3"
        let envelope = try TraceJSON.decode(V3Envelope.self, from: body, what: what)
        if let e = envelope.error {
            throw .refused(status: e.httpCode ?? 0, message: TraceHTTP.printable(e.message ?? "no explanation given"))
        }
        guard let result = envelope.result else { throw .malformed("\(what): the answer has no \"result\"") }
        return TraceKit.group(try result.spans(what: what, dropping: internalTags))
    }

    /// `GET /api/traces` and `/api/traces/{id}` (Jaeger 1.x, and 2.x up to 2.20): the internal,
    /// undocumented v1 JSON. `errors` without `data` is thrown as `.refused`.
    public static func decodeV1Traces(_ body: [UInt8]) throws(TraceSourceError) -> [Trace] {
        let what = "Jaeger v1"
        let envelope = try TraceJSON.decode(V1Envelope.self, from: body, what: what)
        let data = envelope.data ?? []
        if data.isEmpty, let e = envelope.errors?.first {
            throw .refused(status: e.code ?? 0, message: TraceHTTP.printable(e.msg ?? "no explanation given"))
        }
        var spans: [Span] = []
        for (t, trace) in data.enumerated() {
            for (i, span) in (trace.spans ?? []).enumerated() {
                spans.append(try convert(span, in: trace, at: "\(what): data[\(t)].spans[\(i)]"))
            }
        }
        return TraceKit.group(spans)
    }

    /// Jaeger's own marker of the format a span arrived in: bookkeeping, not the span's, and it
    /// would make the same span differ between Jaeger and Tempo.
    static let internalTags: Set<String> = ["internal.span.format"]

    private static func convert(_ s: V1Span, in trace: V1Trace, at: String) throws(TraceSourceError) -> Span {
        let (traceID, spanID, parentID) = try TraceIDs.spanIDs(trace: s.traceID ?? trace.traceID, span: s.spanID, fields: ("traceID", "spanID"),
                                                              at: at) { try parent(of: s, traceID: $0) }
        var tags: [String: String] = [:]
        for kv in s.tags ?? [] {
            guard let k = kv.key, !internalTags.contains(k), tags[k] == nil else { continue }
            tags[k] = kv.value?.text ?? ""
        }
        // An error is tagged `error=true` (Jaeger clients), or `otel.status_code` when the span came from OTLP.
        let otel = tags["otel.status_code"]?.uppercased()
        let status: SpanStatus = tags["error"]?.lowercased() == "true" || otel == "ERROR" ? .error : otel == "OK" ? .ok : .unset
        let service = s.processID.flatMap { trace.processes?[$0]?.serviceName } ?? s.process?.serviceName ?? ""
        return Span(traceID: traceID, spanID: spanID, parentID: parentID, service: service, name: s.operationName ?? "",
                    startMicros: s.startTime?.value ?? 0, durationMicros: max(0, s.duration?.value ?? 0),
                    status: status, attributes: tags)
    }

    /// The parent as Jaeger itself reads it: the first CHILD_OF reference into the same trace;
    /// failing that the first FOLLOWS_FROM one (the UI nests those too); failing that the
    /// deprecated `parentSpanID`.
    private static func parent(of s: V1Span, traceID: String) throws(TraceSourceError) -> String? {
        let sameTrace = (s.references ?? []).filter { ref in
            guard let t = ref.traceID else { return true }
            return (try? TraceIDs.trace(t)) == traceID
        }
        let ref = sameTrace.first { $0.refType?.uppercased() == "CHILD_OF" } ?? sameTrace.first { $0.refType?.uppercased() == "FOLLOWS_FROM" }
        return try TraceIDs.parent(ref?.spanID ?? s.parentSpanID)
    }

    struct V3Envelope: Decodable {
        struct GatewayError: Decodable { var httpCode: Int?; var message: String? }
        var result: OTLPTraces?
        var error: GatewayError?
    }

    struct V1Envelope: Decodable {
        struct V1Error: Decodable { var code: Int?; var msg: String? }
        var data: [V1Trace]?
        var errors: [V1Error]?
    }

    struct V1Trace: Decodable {
        struct Process: Decodable { var serviceName: String? }
        var traceID: String?
        var spans: [V1Span]?
        var processes: [String: Process]?
    }

    struct V1Span: Decodable {
        struct Reference: Decodable { var refType: String?; var traceID: String?; var spanID: String? }
        struct Tag: Decodable { var key: String?; var value: WireScalar? }
        var traceID: String?
        var spanID: String?
        var parentSpanID: String?
        var operationName: String?
        var references: [Reference]?
        var startTime: WireInt?
        var duration: WireInt?
        var tags: [Tag]?
        var processID: String?
        var process: V1Trace.Process?
    }
}
