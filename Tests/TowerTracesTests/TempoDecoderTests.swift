import Foundation
import Testing
import TowerDomain
@testable import TowerTraces

/// On our own Tempo-format payloads (Tempo is AGPL-3.0; see Fixtures/traces/PROVENANCE.md).
@Suite struct TempoDecoderTests {
    @Test func search() throws {
        let found = try TempoDecoder.decodeSearch(TraceFixture.bytes("tempo/search.json"))
        #expect(found == [
            TraceSummary(traceID: "0af7651916cd43dd8448eb211c80319c", rootService: "checkout", rootName: "POST /v1/models/alpha:predict",
                         startMicros: 1_767_225_600_000_000, durationMicros: 250_000, spanCount: 3, errorCount: 2),
            // No durationMs: under a millisecond. No errorCount: none.
            TraceSummary(traceID: "00000000000000004bf92f3577b34da6", rootService: "checkout", rootName: "GET /healthz",
                         startMicros: 1_767_225_601_000_000, durationMicros: 0, spanCount: 1, errorCount: 0),
            // A trimmed hex ID, a root not received yet, and no serviceStats: counts unknown, not 0.
            TraceSummary(traceID: "00000000000000000d6e9329d67b6146", rootService: "<root span not yet received>", rootName: "",
                         startMicros: 1_767_225_602_500_000, durationMicros: 1_200_000, spanCount: nil, errorCount: nil),
        ])
        #expect(try TempoDecoder.decodeSearch(TraceFixture.bytes("tempo/search_empty.json")) == [])
    }

    @Test func traceV2() throws {
        let traces = try TempoDecoder.decodeTrace(TraceFixture.bytes("tempo/trace_v2.json"))
        let t = try #require(traces.first)
        #expect(traces.count == 1)
        #expect(t.traceID == "0af7651916cd43dd8448eb211c80319c")
        #expect(t.spans[0] == Span(traceID: t.traceID, spanID: "b7ad6b7169203331", parentID: nil, service: "checkout",
                                   name: "POST /v1/models/alpha:predict", startMicros: 1_767_225_600_000_000, durationMicros: 250_000,
                                   status: .unset, attributes: ["http.response.status_code": "502", "model.cached": "false", "span.kind": "server"]))
        #expect(t.spans[1] == Span(traceID: t.traceID, spanID: "00f067aa0ba902b7", parentID: "b7ad6b7169203331", service: "checkout",
                                   name: "charge", startMicros: 1_767_225_600_010_000, durationMicros: 200_000, status: .error,
                                   attributes: ["peer.service": "payments", "span.kind": "client", "otel.status_description": "upstream reset"]))
        let payments = t.spans[2]
        #expect(payments.service == "payments" && payments.parentID == "00f067aa0ba902b7" && payments.status == .error)
        #expect(payments.durationMicros == 193_000)
        // Arrays and maps one level deep; deeper nesting shown as "…".
        #expect(payments.attributes == ["retry.delays": "[5, 7.5, …]", "card": "{brand: visa, 3ds: true}", "fingerprint": "3q2+7w==",
                                        "amount": "12.5", "span.kind": "server"])
        let summary = try #require(TraceSummary(summarizing: t))
        #expect(summary == TraceSummary(traceID: t.traceID, rootService: "checkout", rootName: "POST /v1/models/alpha:predict",
                                        startMicros: 1_767_225_600_000_000, durationMicros: 250_000, spanCount: 3, errorCount: 2))
    }

    /// The older v1 form: `batches`, `instrumentationLibrarySpans`, an all-zero parent, a 64-bit trace.
    @Test func traceV1Legacy() throws {
        let t = try #require(try TempoDecoder.decodeTrace(TraceFixture.bytes("tempo/trace_v1_legacy.json")).first)
        #expect(t.spans == [Span(traceID: "00000000000000004bf92f3577b34da6", spanID: "e457b5a2e4d86bd1", parentID: nil, service: "gateway",
                                 name: "GET /healthz", startMicros: 1_767_225_601_000_000, durationMicros: 400, status: .ok,
                                 attributes: ["span.kind": "server"])])
    }

    @Test func emptyOrUnrelatedAnswers() throws {
        #expect(try TempoDecoder.decodeTrace(Array(#"{"trace":{}}"#.utf8)) == [])
        #expect(try TempoDecoder.decodeTrace(Array(#"{"trace":{"resourceSpans":[]},"status":"PARTIAL","message":"too big"}"#.utf8)) == [])
        #expect(throws: TraceSourceError.self) { try TempoDecoder.decodeTrace(Array(#"{"tagNames":["a"]}"#.utf8)) }
        #expect(throws: TraceSourceError.self) { try TempoDecoder.decodeSearch(Array(#"{"traces":[{"rootServiceName":"x"}]}"#.utf8)) }
        #expect(throws: TraceSourceError.self) { try TempoDecoder.decodeSearch(Array(#"{"traces":[{"traceID":"W47/95gDgQPSabYzgT/GDA=="}]}"#.utf8)) }
    }
}
