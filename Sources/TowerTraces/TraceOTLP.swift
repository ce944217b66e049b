import Foundation
import TowerDomain

// OTLP trace data as JSON, shared by Jaeger api_v3 and Tempo. Two dialects meet here: OTLP JSON
// proper (Jaeger: hex IDs, enum numbers) and gogo jsonpb (Tempo: base64 IDs, enum names such as
// `STATUS_CODE_ERROR`). Older Tempo also wrote `batches` for `resourceSpans` and
// `instrumentationLibrarySpans` for `scopeSpans`; both are read.

struct OTLPTraces: Decodable {
    var resourceSpans: [ResourceSpans]

    struct ResourceSpans: Decodable {
        var resource: Resource?
        var scopeSpans: [ScopeSpans]

        enum CodingKeys: String, CodingKey { case resource, scopeSpans, instrumentationLibrarySpans }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            resource = try c.decodeIfPresent(Resource.self, forKey: .resource)
            scopeSpans = try c.decodeIfPresent([ScopeSpans].self, forKey: .scopeSpans)
                ?? c.decodeIfPresent([ScopeSpans].self, forKey: .instrumentationLibrarySpans) ?? []
        }
    }

    struct Resource: Decodable { var attributes: [KeyValue]? }
    struct ScopeSpans: Decodable { var spans: [OTLPSpan]? }

    struct OTLPSpan: Decodable {
        var traceId: String?
        var spanId: String?
        var parentSpanId: String?
        var name: String?
        var kind: WireEnum?
        var startTimeUnixNano: WireNanos?
        var endTimeUnixNano: WireNanos?
        var attributes: [KeyValue]?
        var status: Status?
    }

    struct Status: Decodable {
        var code: WireEnum?
        var message: String?
    }

    struct KeyValue: Decodable {
        var key: String?
        var value: AnyValue?
    }

    /// An attribute value shown as text. Arrays and maps are read one level deep and shown
    /// compactly; deeper nesting is shown as `…`, so hostile nesting costs no recursion.
    struct AnyValue: Decodable {
        var text: String

        enum CodingKeys: String, CodingKey { case stringValue, boolValue, intValue, doubleValue, bytesValue, arrayValue, kvlistValue }
        struct Values<T: Decodable>: Decodable { var values: [T]? }
        struct Leaf: Decodable {
            var text: String
            init(from decoder: any Decoder) throws { text = try AnyValue.scalar(decoder.container(keyedBy: AnyValue.CodingKeys.self)) ?? "…" }
        }
        struct LeafKeyValue: Decodable { var key: String?; var value: Leaf? }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let s = try Self.scalar(c) {
                text = s
            } else if let a = try c.decodeIfPresent(Values<Leaf>.self, forKey: .arrayValue) {
                text = "[" + (a.values ?? []).map(\.text).joined(separator: ", ") + "]"
            } else if let m = try c.decodeIfPresent(Values<LeafKeyValue>.self, forKey: .kvlistValue) {
                text = "{" + (m.values ?? []).map { "\($0.key ?? ""): \($0.value?.text ?? "")" }.joined(separator: ", ") + "}"
            } else {
                text = ""
            }
        }

        static func scalar(_ c: KeyedDecodingContainer<CodingKeys>) throws -> String? {
            for key in [CodingKeys.stringValue, .boolValue, .intValue, .doubleValue, .bytesValue] {
                if let v = try c.decodeIfPresent(WireScalar.self, forKey: key) { return v.text }
            }
            return nil
        }
    }

    init(resourceSpans: [ResourceSpans]) { self.resourceSpans = resourceSpans }

    enum CodingKeys: String, CodingKey { case resourceSpans, batches }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        resourceSpans = try c.decodeIfPresent([ResourceSpans].self, forKey: .resourceSpans)
            ?? c.decodeIfPresent([ResourceSpans].self, forKey: .batches) ?? []
    }

    /// Flattened to Tower's spans. `what` names the source in error messages; `dropping` lists
    /// attribute keys that are the backend's bookkeeping rather than the span's.
    func spans(what: String, dropping: Set<String> = []) throws(TraceSourceError) -> [Span] {
        var out: [Span] = []
        for (r, rs) in resourceSpans.enumerated() {
            let resource = Dictionary((rs.resource?.attributes ?? []).compactMap { kv in kv.key.map { ($0, kv.value?.text ?? "") } },
                                      uniquingKeysWith: { a, _ in a })
            for (s, ss) in rs.scopeSpans.enumerated() {
                for (i, span) in (ss.spans ?? []).enumerated() {
                    let at = "\(what): resourceSpans[\(r)].scopeSpans[\(s)].spans[\(i)]"
                    out.append(try convert(span, service: resource["service.name"] ?? "", at: at, dropping: dropping))
                }
            }
        }
        return out
    }

    private func convert(_ s: OTLPSpan, service: String, at: String, dropping: Set<String>) throws(TraceSourceError) -> Span {
        let (traceID, spanID, parentID) = try TraceIDs.spanIDs(trace: s.traceId, span: s.spanId, fields: ("traceId", "spanId"), at: at) { _ in
            try TraceIDs.parent(s.parentSpanId)
        }
        var attributes: [String: String] = [:]
        for kv in s.attributes ?? [] {
            guard let k = kv.key, !dropping.contains(k), attributes[k] == nil else { continue }
            attributes[k] = kv.value?.text ?? ""
        }
        // Kind and status message as Jaeger shows them, so the same span reads the same from every backend.
        if let kind = s.kind.flatMap(Self.kindName) { attributes["span.kind"] = kind }
        if let m = s.status?.message, !m.isEmpty { attributes["otel.status_description"] = m }
        let start = s.startTimeUnixNano?.value ?? 0
        let end = s.endTimeUnixNano?.value ?? start
        let status: SpanStatus = s.status?.code.map { $0.is(2, "ERROR") ? .error : $0.is(1, "OK") ? .ok : .unset } ?? .unset
        return Span(traceID: traceID, spanID: spanID, parentID: parentID, service: service, name: s.name ?? "",
                    startMicros: Int64(start / 1000), durationMicros: end > start ? Int64((end - start) / 1000) : 0,
                    status: status, attributes: attributes)
    }

    private static func kindName(_ k: WireEnum) -> String? {
        let names = [1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"]
        if let n = k.number { return names[n] }
        let name = (k.name ?? "").uppercased().replacingOccurrences(of: "SPAN_KIND_", with: "").lowercased()
        return names.values.contains(name) ? name : nil
    }
}
