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
    static let summaries = [
        TraceSummary(traceID: String(repeating: "b", count: 32), rootService: "gateway", rootName: "POST /v1/models/alpha", startMicros: t0, durationMicros: 900_000, spanCount: 4, errorCount: 0),
        TraceSummary(traceID: String(repeating: "a", count: 32), rootService: "gateway", rootName: "POST /v1/models/alpha", startMicros: t0, durationMicros: 70_000, spanCount: 4, errorCount: 3),
    ]

    @Test func tOpensTheTracesOfTheSelectionAndEnterTheWaterfall() {
        var s = CF.loaded()
        #expect(CF.keys(&s, [.char("t")]) == [.searchTraces(endpoint: "alpha", path: "/v1/models/alpha")])
        #expect(s.screen == .traces("alpha") && s.traces.loading)
        _ = update(&s, .tracesLoaded(endpoint: "alpha", Self.summaries))
        #expect(s.traces.summaries.map(\.errorCount) == [3, 0], "failing traces first")
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
