import Foundation
import Testing
import TowerDomain
import TowerHTTP
@testable import TowerTraces

@Suite struct TempoTraceSourceTests {
    @Test func searchSendsOneTraceQLSpanset() async throws {
        let fake = TraceFakeTransport(["/api/search": traceAnswer(200, try TraceFixture.bytes("tempo/search.json"))])
        let tempo = TempoTraceSource(baseURL: "http://tempo:3200", headers: [("X-Scope-OrgID", "ops")], transport: fake)
        let q = TraceQuery(service: #"check"out"#, operation: "POST /v1/models/alpha:predict", minDuration: .milliseconds(100),
                           errorsOnly: true, limit: 2, start: Date(timeIntervalSince1970: 1_767_225_000.7),
                           end: Date(timeIntervalSince1970: 1_767_225_900.2))
        let found = try await tempo.search(q)
        // Newest first, at most `limit`.
        #expect(found.map(\.traceID) == ["00000000000000000d6e9329d67b6146", "00000000000000004bf92f3577b34da6"])
        #expect(fake.log.lastQuery == [
            "q": #"{ resource.service.name = "check\"out" && name = "POST /v1/models/alpha:predict" && duration >= 100000us && status = error }"#,
            "minDuration": "100ms", "limit": "2", "start": "1767225000", "end": "1767225901",
        ])
        #expect(fake.log.urls[0].contains("q=%7B%20resource.service.name%20%3D%20%22check%5C%22out%22"))
        #expect(fake.log.requests.withLock { $0[0].headers.contains { $0 == ("X-Scope-OrgID", "ops") } })
    }

    @Test func searchWindowIsNeverEmpty() {
        let t = Date(timeIntervalSince1970: 1_767_225_000)
        let p = Dictionary(TempoTraceSource.parameters(TraceQuery(service: "s", start: t, end: t)), uniquingKeysWith: { a, _ in a })
        #expect(p["start"] == "1767225000" && p["end"] == "1767225001")
        #expect(p["q"] == #"{ resource.service.name = "s" }"#)
    }

    @Test func traceByBase64OrHexID() async throws {
        let fake = TraceFakeTransport(["/api/v2/traces/0af7651916cd43dd8448eb211c80319c": traceAnswer(200, try TraceFixture.bytes("tempo/trace_v2.json"))])
        let tempo = TempoTraceSource(baseURL: "http://tempo:3200", transport: fake)
        let t = try await tempo.trace(id: "CvdlGRbNQ92ESOshHIAxnA==")
        #expect(t.traceID == "0af7651916cd43dd8448eb211c80319c" && t.spans.count == 3)
        #expect(try await tempo.trace(id: "0AF7651916CD43DD8448EB211C80319C") == t)
    }

    @Test func refusalsAndNotFound() async throws {
        let fake = TraceFakeTransport([
            "/api/search": HTTPResponse(status: 400, headers: ["content-type": "text/plain"],
                                        body: Array("invalid request: can't specify tags and q in the same query\n".utf8)),
            "/api/v2/traces/0af7651916cd43dd8448eb211c80319c": HTTPResponse(status: 404),
            "/api/v2/traces/00000000000000000000000000000001": traceAnswer(200, #"{"trace":{}}"#),
        ])
        let tempo = TempoTraceSource(baseURL: "http://tempo:3200", transport: fake)
        await #expect(throws: TraceSourceError.refused(status: 400, message: "invalid request: can't specify tags and q in the same query")) {
            try await tempo.search(TraceQuery(service: "s", start: .now, end: .now))
        }
        await #expect(throws: TraceSourceError.notFound("0af7651916cd43dd8448eb211c80319c")) {
            try await tempo.trace(id: "0af7651916cd43dd8448eb211c80319c")
        }
        // A trace with no spans is as good as none.
        await #expect(throws: TraceSourceError.notFound("00000000000000000000000000000001")) { try await tempo.trace(id: "0000000000000001") }
    }
}
