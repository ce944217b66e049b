import Foundation
import TowerDomain

/// Grafana Tempo's HTTP API, from bytes: pure functions, apart from the client.
public enum TempoDecoder {
    /// `GET /api/search`. Tempo omits zero values: no `traces` means no match, no `durationMs` a
    /// trace under a millisecond, no `errorCount` none. Span and error counts are known only when
    /// the answer carries `serviceStats`. The version (`TraceVersion`) comes from a matched span's
    /// `model.version` attribute when the span sets carry one, else from a service named
    /// `<endpoint>-<version>` among the service stats.
    public static func decodeSearch(_ body: [UInt8], endpoint: String? = nil) throws(TraceSourceError) -> [TraceSummary] {
        let what = "Tempo search"
        let answer = try TraceJSON.decode(Search.self, from: body, what: what)
        var out: [TraceSummary] = []
        for (i, t) in (answer.traces ?? []).enumerated() {
            guard let raw = t.traceID, !raw.isEmpty else { throw .malformed("\(what): traces[\(i)]: no traceID") }
            let id: String
            do { id = try TraceIDs.trimmedHexTrace(raw) } catch { throw .malformed("\(what): traces[\(i)]: \(error)") }
            let ms = max(0, t.durationMs?.value ?? 0)
            let (us, overflow) = ms.multipliedReportingOverflow(by: 1000)
            let stats = t.serviceStats.map { Array($0.values) }
            out.append(TraceSummary(traceID: id, rootService: t.rootServiceName ?? "", rootName: t.rootTraceName ?? "",
                                    startMicros: t.startTimeUnixNano?.micros ?? 0, durationMicros: overflow ? .max : us,
                                    spanCount: stats.map { Int(clamping: $0.reduce(0) { TraceKit.add($0, $1.spanCount?.value ?? 0) }) },
                                    errorCount: stats.map { Int(clamping: $0.reduce(0) { TraceKit.add($0, $1.errorCount?.value ?? 0) }) },
                                    version: TraceVersion.of(attributes: t.matchedAttributes, services: (t.serviceStats?.keys).map { $0.sorted() } ?? [],
                                                             endpoint: endpoint)))
        }
        return out
    }

    /// `GET /api/v2/traces/{id}` (`{"trace":{"resourceSpans":[…]}}`), also the v1 form
    /// `/api/traces/{id}` (`{"batches":[…]}`). IDs are base64, enums are names (gogo jsonpb).
    /// A `PARTIAL` status is not reported: `Trace` has nowhere to say so.
    public static func decodeTrace(_ body: [UInt8]) throws(TraceSourceError) -> [Trace] {
        let what = "Tempo trace"
        let answer = try TraceJSON.decode(TraceByID.self, from: body, what: what)
        guard let data = answer.data else { throw .malformed("\(what): the answer has no \"trace\", \"resourceSpans\" or \"batches\"") }
        return TraceKit.group(try data.spans(what: what))
    }

    struct Search: Decodable {
        struct Item: Decodable {
            var traceID: String?
            var rootServiceName: String?
            var rootTraceName: String?
            var startTimeUnixNano: WireNanos?
            var durationMs: WireInt?
            var serviceStats: [String: Stats]?
            var spanSet: LenientSpanSet?
            var spanSets: [LenientSpanSet]?

            /// The attributes of the matched spans, in the order Tempo gave them.
            var matchedAttributes: [[String: String]] {
                ((spanSets ?? []) + (spanSet.map { [$0] } ?? [])).flatMap(\.attributes)
            }
        }
        /// Span sets only lend a version: one that does not read is ignored, never a failed search.
        struct LenientSpanSet: Decodable {
            var attributes: [[String: String]] = []
            struct Spans: Decodable { var spans: [Span]? }
            struct Span: Decodable { var attributes: [OTLPTraces.KeyValue]? }
            init(from decoder: any Decoder) throws {
                let spans = (try? Spans(from: decoder))?.spans ?? []
                attributes = spans.map { span in
                    Dictionary((span.attributes ?? []).compactMap { kv in kv.key.map { ($0, kv.value?.text ?? "") } }, uniquingKeysWith: { a, _ in a })
                }
            }
        }
        struct Stats: Decodable { var spanCount: WireInt?; var errorCount: WireInt? }
        var traces: [Item]?
    }

    struct TraceByID: Decodable {
        var data: OTLPTraces?
        enum CodingKeys: String, CodingKey { case trace, resourceSpans, batches }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if c.contains(.trace) {
                data = try c.decodeIfPresent(OTLPTraces.self, forKey: .trace) ?? OTLPTraces(resourceSpans: [])
            } else if c.contains(.resourceSpans) || c.contains(.batches) {
                data = try OTLPTraces(from: decoder)
            } else {
                data = nil
            }
        }
    }
}
