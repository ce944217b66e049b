import Foundation
import Testing
import TowerDomain
@testable import TowerTraces

@Suite struct TraceIDTests {
    @Test func hexOfEitherLengthAndAnyCase() throws {
        #expect(try TraceIDs.trace("5B8EFFF798038103D269B633813FC60C") == "5b8efff798038103d269b633813fc60c")
        #expect(try TraceIDs.trace("5b8efff798038103d269b633813fc60c") == "5b8efff798038103d269b633813fc60c")
        // 64-bit trace IDs are left-padded to 32 digits.
        #expect(try TraceIDs.trace("1e223ff1f80f1c69") == "00000000000000001e223ff1f80f1c69")
        #expect(try TraceIDs.span("EEE19B7EC3C1B174") == "eee19b7ec3c1b174")
    }

    /// The pair checked in wire-formats §2.3, and Tempo's other documented examples.
    @Test func base64FromTempo() throws {
        #expect(try TraceIDs.trace("W47/95gDgQPSabYzgT/GDA==") == "5b8efff798038103d269b633813fc60c")
        #expect(try TraceIDs.span("7uGbfsPBsXQ=") == "eee19b7ec3c1b174")
        #expect(try TraceIDs.trace("W47/95gDgQPSabYzgT/HAA==") == "5b8efff798038103d269b633813fc700")
        // 8 bytes of trace ID: a 64-bit trace.
        #expect(try TraceIDs.trace("HiI/8fgPHGk=") == "00000000000000001e223ff1f80f1c69")
        // Unpadded and URL-safe base64 too.
        #expect(try TraceIDs.trace("W47_95gDgQPSabYzgT_GDA") == "5b8efff798038103d269b633813fc60c")
        #expect(try TraceIDs.span("7uGbfsPBsXQ") == "eee19b7ec3c1b174")
    }

    @Test(arguments: [
        "", "xyz", "5b8efff798038103d269b633813fc60", "5b8efff798038103d269b633813fc60cc", "5b8efff7 98038103",
        "00000000000000000000000000000000", "AAAAAAAAAAAAAAAAAAAAAA==", "7uGbfsPBsXQ=!", "5b8efff798038103d269b633813fc6g0",
        "W47/95gDgQPSabYzgT/GDA==W47/95gDgQPSabYzgT/GDA==", String(repeating: "a", count: 10_000), "５b8efff798038103",
    ])
    func rejectsAnythingElse(_ raw: String) {
        #expect(throws: TraceSourceError.self) { try TraceIDs.trace(raw) }
    }

    @Test func spanIDsAreExactly8Bytes() {
        #expect(throws: TraceSourceError.self) { try TraceIDs.span("5b8efff798038103d269b633813fc60c") }
        #expect(throws: TraceSourceError.self) { try TraceIDs.span("W47/95gDgQPSabYzgT/GDA==") }
        #expect(throws: TraceSourceError.self) { try TraceIDs.span("0000000000000000") }
    }

    @Test func errorsSayWhatWasWrongAndStayShort() {
        do {
            _ = try TraceIDs.trace(String(repeating: "z", count: 5000) + "\n")
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("is not a trace ID"))
            #expect(error.description.count < 200)
        }
    }

    @Test func parentAbsentEmptyOrZeroIsNoParent() throws {
        #expect(try TraceIDs.parent(nil) == nil)
        #expect(try TraceIDs.parent("") == nil)
        #expect(try TraceIDs.parent("0000000000000000") == nil)
        #expect(try TraceIDs.parent("AAAAAAAAAAA=") == nil)
        #expect(try TraceIDs.parent("7uGbfsPBsXM=") == "eee19b7ec3c1b173")
        #expect(throws: TraceSourceError.self) { try TraceIDs.parent("nope") }
    }

    @Test func tempoSearchIDsMayHaveLeadingZerosTrimmed() throws {
        #expect(try TraceIDs.trimmedHexTrace("d6e9329d67b6146a") == "0000000000000000d6e9329d67b6146a")
        #expect(try TraceIDs.trimmedHexTrace("d6e9329d67b6146") == "00000000000000000d6e9329d67b6146")
        #expect(throws: TraceSourceError.self) { try TraceIDs.trimmedHexTrace("W47/95gDgQPSabYzgT/GDA==") }
    }
}

@Suite struct TraceSummaryTests {
    func span(_ id: String, parent: String?, start: Int64, duration: Int64, status: SpanStatus = .unset, service: String = "s") -> Span {
        Span(traceID: "0af7651916cd43dd8448eb211c80319c", spanID: id, parentID: parent, service: service, name: "op-\(id.suffix(1))",
             startMicros: start, durationMicros: duration, status: status)
    }

    @Test func rootIsTheSpanWithoutParentAndTheWindowCoversAll() throws {
        let t = Trace(traceID: "0af7651916cd43dd8448eb211c80319c", spans: [
            span("0000000000000002", parent: "0000000000000001", start: 90, duration: 500, status: .error),
            span("0000000000000001", parent: nil, start: 100, duration: 300, service: "root"),
            span("0000000000000003", parent: "0000000000000001", start: 120, duration: 10, status: .error),
        ])
        let s = try #require(TraceSummary(summarizing: t))
        #expect(s == TraceSummary(traceID: t.traceID, rootService: "root", rootName: "op-1", startMicros: 90, durationMicros: 500,
                                  spanCount: 3, errorCount: 2))
    }

    /// The root not received yet: the earliest span whose parent is missing stands in.
    @Test func orphansStandInForAMissingRoot() throws {
        let t = Trace(traceID: "0af7651916cd43dd8448eb211c80319c", spans: [
            span("0000000000000003", parent: "0000000000000002", start: 130, duration: 5),
            span("0000000000000002", parent: "0000000000000001", start: 120, duration: 50),
        ])
        #expect(TraceSummary(summarizing: t)?.rootName == "op-2")
        #expect(TraceSummary(summarizing: Trace(traceID: t.traceID, spans: [])) == nil)
    }

    /// Zipkin spans without a timestamp decode with start 0; they must not stretch the window to 1970.
    @Test func untimedSpansAndHostileTimesDoNotDistortOrCrash() throws {
        let t = Trace(traceID: "0af7651916cd43dd8448eb211c80319c", spans: [
            span("0000000000000001", parent: nil, start: 1_000, duration: 10),
            span("0000000000000002", parent: "0000000000000001", start: 0, duration: 0),
            span("0000000000000003", parent: "0000000000000001", start: .max - 5, duration: .max),
        ])
        let s = try #require(TraceSummary(summarizing: t))
        #expect(s.startMicros == 1_000)
        #expect(s.durationMicros == .max - 1_000)
    }
}
