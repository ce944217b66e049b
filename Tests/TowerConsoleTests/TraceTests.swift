import Foundation
import TerminalUI
import Testing
import TowerDomain
@testable import TowerConsole

@Suite struct TraceTests {
    static let t0: Int64 = 1_795_000_000_000_000 - 3_000_000
    static func span(_ id: String, _ parent: String?, _ name: String, _ start: Int64, _ dur: Int64, _ status: SpanStatus = .ok) -> Span {
        Span(traceID: String(repeating: "a", count: 32), spanID: id, parentID: parent, service: parent == nil ? "gateway" : "alpha-v2",
             name: name, startMicros: t0 + start, durationMicros: dur, status: status, attributes: status == .error ? ["error.message": "worker reset"] : [:])
    }
    static let trace = Trace(traceID: String(repeating: "a", count: 32), spans: [
        span("0000000000000004", "0000000000000002", "model.forward", 2_000, 60_000, .error),
        span("0000000000000001", nil, "POST /v1/models/alpha", 0, 70_000, .error),
        span("0000000000000003", "0000000000000002", "preprocess", 1_000, 1_000),
        span("0000000000000002", "0000000000000001", "predict", 500, 65_000, .error),
    ])
    /// In the order triage gives (TowerTraces' `TraceTriage.merge`): failing first, then the slowest.
    static let summaries = [
        TraceSummary(traceID: String(repeating: "a", count: 32), rootService: "gateway", rootName: "POST /v1/models/alpha", startMicros: t0, durationMicros: 70_000, spanCount: 4, errorCount: 3, version: "v2"),
        TraceSummary(traceID: String(repeating: "b", count: 32), rootService: "gateway", rootName: "POST /v1/models/alpha", startMicros: t0, durationMicros: 900_000, spanCount: 4, errorCount: 0, version: "v1"),
        TraceSummary(traceID: String(repeating: "c", count: 32), rootService: "gateway", rootName: "POST /v1/models/alpha", startMicros: t0 - 60_000_000, durationMicros: 450_000, spanCount: 1, errorCount: 0),
    ]

    @Test func tOpensTheTracesOfTheSelectionAndEnterTheWaterfall() {
        var s = CF.loaded()
        #expect(CF.keys(&s, [.char("t")]) == [.searchTraces(endpoint: "alpha", path: "/v1/models/alpha")])
        #expect(s.screen == .traces("alpha") && s.traces.loading)
        _ = update(&s, .tracesLoaded(endpoint: "alpha", Self.summaries))
        #expect(s.traces.summaries == Self.summaries, "kept in the order triage gave")
        #expect(CF.keys(&s, [.enter]) == [.loadTrace(String(repeating: "a", count: 32))])
        _ = update(&s, .traceLoaded(Self.trace))
        CF.keys(&s, [.char("j"), .char("j"), .char("j"), .char("j")])
        #expect(s.traces.spanSelection == 3)
        CF.keys(&s, [.escape, .escape])
        #expect(s.screen == .overview)
    }

    @Test func answersForAnotherEndpointAreIgnoredAndFailuresAreSaid() {
        var s = CF.loaded()
        CF.keys(&s, [.char("t")])
        _ = update(&s, .tracesLoaded(endpoint: "doc-embed", Self.summaries))
        #expect(s.traces.summaries.isEmpty)
        _ = update(&s, .traceFailed("no trace source: start tower with --traces zipkin=URL (or jaeger=, tempo=)"))
        #expect(view(s).text.contains("no trace source"))
    }

    @Test func theWaterfallIsInTreeOrderAndMarksTheSlowSpan() {
        let rows = Waterfall.rows(Self.trace)
        #expect(rows.map(\.span.name) == ["POST /v1/models/alpha", "predict", "preprocess", "model.forward"])
        #expect(rows.map(\.depth) == [0, 1, 2, 2])
        #expect(Waterfall.slowest(Self.trace) == "0000000000000004")
        // Hostile: a cycle and a missing parent neither loop nor lose spans.
        let odd = Trace(traceID: "x", spans: [Self.span("1", "2", "a", 0, 1), Self.span("2", "1", "b", 0, 1), Self.span("3", "9", "c", 0, 1)])
        #expect(Set(Waterfall.rows(odd).map(\.span.name)).isSuperset(of: ["c"]))
    }

    @Test func theSearchStartsFromTheSlowestVersionsP99() {
        var s = CF.loaded()
        _ = update(&s, .figuresLoaded(source: "prometheus", ["alpha": Figures(p99Ms: 120, readAt: CF.now), "alpha/v2": Figures(p99Ms: 994, readAt: CF.now),
                                                             "alpha/v1": Figures(p99Ms: .nan, readAt: CF.now), "alphabet": Figures(p99Ms: 5000, readAt: CF.now)],
                                      at: CF.now))
        #expect(CF.keys(&s, [.char("t")]) == [.searchTraces(endpoint: "alpha", path: "/v1/models/alpha", p99Ms: 994)])
    }

    @Test func vFiltersToTheVersionSelectedOnTheEndpointScreen() {
        var s = CF.loaded()
        // From the overview no version is selected: `v` says how to select one.
        CF.keys(&s, [.char("t")])
        #expect(CF.keys(&s, [.char("v")]).isEmpty && s.toast?.contains("select a version") == true && s.traces.version == nil)
        CF.keys(&s, [.escape, .enter, .char("j")])
        #expect(CF.keys(&s, [.char("t")]) == [.searchTraces(endpoint: "alpha", path: "/v1/models/alpha")])
        #expect(CF.keys(&s, [.char("v")]) == [.searchTraces(endpoint: "alpha", path: "/v1/models/alpha", version: "v2")])
        #expect(s.traces.loading && view(s).text.contains("TRACES of alpha: failing first, then slowest (last 15 minutes) · only v2"))
        // The unfiltered answer arriving late is not this list.
        _ = update(&s, .tracesLoaded(endpoint: "alpha", Self.summaries))
        #expect(s.traces.loading && s.traces.summaries.isEmpty)
        _ = update(&s, .tracesLoaded(endpoint: "alpha", [Self.summaries[0]], version: "v2"))
        #expect(s.traces.summaries == [Self.summaries[0]])
        #expect(view(s).text.contains("v version:v2"))
        // Again: all versions.
        #expect(CF.keys(&s, [.char("v")]) == [.searchTraces(endpoint: "alpha", path: "/v1/models/alpha")])
        _ = update(&s, .tracesLoaded(endpoint: "alpha", [], version: nil))
        #expect(view(s).text.contains("no traces found for alpha in the window") && !view(s).text.contains("only v2"))
        // `v` means nothing elsewhere.
        CF.keys(&s, [.escape])
        #expect(CF.keys(&s, [.char("v")]).isEmpty)
    }

    @Test func aFailedGatewaySpanSaysItsStatusCode() {
        var s = CF.loaded(width: 120, height: 30)
        CF.keys(&s, [.char("t")])
        _ = update(&s, .tracesLoaded(endpoint: "alpha", Self.summaries))
        CF.keys(&s, [.enter])
        // Envoy's tag on the gateway span; the OTLP attribute on the server span.
        var trace = Self.trace
        trace.spans[1].attributes = ["http.status_code": "503", "response_flags": "UH"]
        trace.spans[3].attributes = ["http.response.status_code": "500"]
        _ = update(&s, .traceLoaded(trace))
        let text = view(s).text
        #expect(text.contains("✗ POST /v1/models/alpha (gateway) 503") && text.contains("✗ predict (alpha-v2) 500"), "\(text)")
        #expect(text.contains("POST /v1/models/alpha · gateway · error 503 · span 0000000000000001"), "\(text)")
        #expect(Waterfall.statusText(trace.spans[0]) == "error", "a failed span without a status says error")
        #expect(Waterfall.statusText(Span(traceID: "t", spanID: "s", parentID: nil, service: "g", name: "n", startMicros: 0, durationMicros: 1,
                                          status: .ok, attributes: ["http.status_code": "200"])) == "ok", "a status code only explains a failure")
    }

    /// The traces list with its VERSION column at 120×40 (80×24 and 160×48: `traceListAndWaterfall`),
    /// and filtered to one version at 80×24, the header saying so.
    @Test func traceListWithVersion() throws {
        var s = CF.loaded(width: 120, height: 40)
        CF.keys(&s, [.char("t")])
        _ = update(&s, .tracesLoaded(endpoint: "alpha", Self.summaries))
        try assertSnapshot(view(s), named: "traces-120x40")
        var narrow = CF.loaded()
        CF.keys(&narrow, [.enter, .char("j"), .char("t"), .char("v")])
        _ = update(&narrow, .tracesLoaded(endpoint: "alpha", Self.summaries.filter { $0.version == "v2" }, version: "v2"))
        try assertSnapshot(view(narrow), named: "traces-only-v2-80x24")
    }

    @Test(arguments: SnapshotTests.sizes) func traceListAndWaterfall(_ size: (Int, Int)) throws {
        var s = CF.loaded(width: size.0, height: size.1)
        CF.keys(&s, [.char("t")])
        _ = update(&s, .tracesLoaded(endpoint: "alpha", Self.summaries))
        try assertSnapshot(view(s), named: "traces-\(size.0)x\(size.1)")
        CF.keys(&s, [.enter])
        _ = update(&s, .traceLoaded(Self.trace))
        CF.keys(&s, [.char("j"), .char("j"), .char("j")])
        try assertSnapshot(view(s), named: "waterfall-\(size.0)x\(size.1)")
    }
}
