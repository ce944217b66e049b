import Foundation
import Testing
import TowerDomain
import TowerHTTP
@testable import TowerTraces

@Suite struct JaegerTraceSourceTests {
    static let query = TraceQuery(service: "my.service", operation: "I'm a server span", minDuration: .milliseconds(250), limit: 5,
                                  start: Date(timeIntervalSince1970: 1_544_712_000), end: Date(timeIntervalSince1970: 1_544_713_000.5))
    static let fiveB = TraceSummary(traceID: "5b8efff798038103d269b633813fc60c", rootService: "my.service", rootName: "I'm a server span",
                                    startMicros: 1_544_712_660_000_000, durationMicros: 1_000_000, spanCount: 1, errorCount: 0)

    @Test func v3Search() async throws {
        let fake = TraceFakeTransport(["/api/v3/traces": traceAnswer(200, try TraceFixture.bytes("cross_system/jaeger_api_v3_traces_5B.json"))])
        let jaeger = JaegerTraceSource(baseURL: "http://jaeger:16686/", headers: [("Authorization", "Bearer t")], transport: fake)
        #expect(try await jaeger.search(Self.query) == [Self.fiveB])
        #expect(jaeger.api == .v3)
        #expect(fake.log.lastQuery == [
            "query.service_name": "my.service", "query.operation_name": "I'm a server span",
            "query.start_time_min": "2018-12-13T14:40:00.000Z", "query.start_time_max": "2018-12-13T14:56:40.500Z",
            "query.duration_min": "0.250000s", "query.num_traces": "5",
        ])
        let request = try #require(fake.log.requests.withLock { $0.first })
        #expect(request.url.hasPrefix("http://jaeger:16686/api/v3/traces?"))
        #expect(request.headers.contains { $0 == ("Authorization", "Bearer t") })
    }

    /// The gateway answers an empty search with 404 and its JSON error: no traces, not a missing API.
    @Test func v3EmptySearchIs404() async throws {
        let fake = TraceFakeTransport(["/api/v3/traces": traceAnswer(404, #"{"error":{"httpCode":404,"message":"No traces found"}}"# + "\n")])
        let jaeger = JaegerTraceSource(baseURL: "http://jaeger:16686", transport: fake)
        #expect(try await jaeger.search(Self.query) == [])
        #expect(jaeger.api == .v3)
        #expect(fake.log.paths == ["/api/v3/traces"])
    }

    @Test func errorsOnlyIsFilteredHereForV3() async throws {
        let v3 = TraceFakeTransport(["/api/v3/traces": traceAnswer(200, try TraceFixture.bytes("cross_system/jaeger_api_v3_traces_5B.json"))])
        var q = Self.query
        q.errorsOnly = true
        #expect(try await JaegerTraceSource(baseURL: "http://j", transport: v3).search(q) == [])
        let failing = TraceFakeTransport(["/api/v3/traces": traceAnswer(200, try TraceFixture.bytes("jaeger/v3_snapshot_FindTraces.json"))])
        #expect(try await JaegerTraceSource(baseURL: "http://j", transport: failing).search(q).map(\.errorCount) == [1])
    }

    /// No v3 route (Go's plain 404): v1 answers, and later calls go straight to v1.
    @Test func fallsBackToV1AndRemembers() async throws {
        let fake = TraceFakeTransport([
            "/api/traces": traceAnswer(200, try TraceFixture.bytes("cross_system/jaeger_api_v1_traces_5B.json")),
            "/api/traces/5b8efff798038103d269b633813fc60c": traceAnswer(200, try TraceFixture.bytes("cross_system/jaeger_api_v1_traces_5B.json")),
        ])
        let jaeger = JaegerTraceSource(baseURL: "http://jaeger:16686", transport: fake)
        var q = Self.query
        q.errorsOnly = true
        #expect(try await jaeger.search(Self.query) == [Self.fiveB])
        #expect(jaeger.api == .v1)
        #expect(fake.log.paths == ["/api/v3/traces", "/api/traces"])
        #expect(fake.log.lastQuery == ["service": "my.service", "operation": "I'm a server span", "start": "1544712000000000",
                                       "end": "1544713000500000", "minDuration": "250ms", "limit": "5"])
        _ = try? await jaeger.search(q)
        #expect(fake.log.lastQuery["tags"] == #"{"error":"true"}"#)
        let t = try await jaeger.trace(id: "W47/95gDgQPSabYzgT/GDA==")
        #expect(t.spans == [TraceCrossSystemTests.expected])
        #expect(fake.log.paths == ["/api/v3/traces", "/api/traces", "/api/traces", "/api/traces/5b8efff798038103d269b633813fc60c"])
    }

    /// Old Jaeger's UI answers unknown paths with its index page and 200.
    @Test func htmlFromTheUIMeansNoV3() async throws {
        let fake = TraceFakeTransport([
            "/api/v3/traces/5b8efff798038103d269b633813fc60c": HTTPResponse(status: 200, headers: ["content-type": "text/html; charset=utf-8"],
                                                                          body: Array("\n<!doctype html><html>…</html>".utf8)),
            "/api/traces/5b8efff798038103d269b633813fc60c": traceAnswer(200, try TraceFixture.bytes("cross_system/jaeger_api_v1_traces_5B.json")),
        ])
        let jaeger = JaegerTraceSource(baseURL: "http://jaeger:16686", transport: fake)
        #expect(try await jaeger.trace(id: "5B8EFFF798038103D269B633813FC60C").spans == [TraceCrossSystemTests.expected])
        #expect(jaeger.api == .v1)
    }

    @Test func traceByIDOnV3() async throws {
        let fake = TraceFakeTransport([
            "/api/v3/traces/5b8efff798038103d269b633813fc60c": traceAnswer(200, try TraceFixture.bytes("cross_system/jaeger_api_v3_traces_5B.json")),
            "/api/v3/traces/0af7651916cd43dd8448eb211c80319c": traceAnswer(404, #"{"error":{"httpCode":404,"message":"No traces found"}}"#),
            "/api/v3/traces/00000000000000000000000000000001": traceAnswer(500, #"{"error":{"httpCode":500,"message":"storage down"}}"#),
        ])
        let jaeger = JaegerTraceSource(baseURL: "http://jaeger:16686", transport: fake)
        #expect(try await jaeger.trace(id: "5b8efff798038103d269b633813fc60c").spans == [TraceCrossSystemTests.expected])
        await #expect(throws: TraceSourceError.notFound("0af7651916cd43dd8448eb211c80319c")) {
            try await jaeger.trace(id: "0af7651916cd43dd8448eb211c80319c")
        }
        await #expect(throws: TraceSourceError.refused(status: 500, message: "storage down")) {
            try await jaeger.trace(id: "0000000000000001")
        }
        await #expect(throws: TraceSourceError.self) { try await jaeger.trace(id: "not-an-id") }
        #expect(jaeger.api == .v3)
        #expect(!fake.log.paths.contains { $0.hasPrefix("/api/traces") })
    }

    @Test func v1NotFoundAndPinnedAPI() async throws {
        let fake = TraceFakeTransport(["/api/traces/0af7651916cd43dd8448eb211c80319c":
            traceAnswer(404, #"{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":404,"msg":"trace not found"}]}"#)])
        let jaeger = JaegerTraceSource(TraceHTTP(baseURL: "http://jaeger:16686", transport: fake), api: .v1)
        await #expect(throws: TraceSourceError.notFound("0af7651916cd43dd8448eb211c80319c")) {
            try await jaeger.trace(id: "0af7651916cd43dd8448eb211c80319c")
        }
        #expect(fake.log.paths == ["/api/traces/0af7651916cd43dd8448eb211c80319c"])
        await #expect(throws: TraceSourceError.refused(status: 404, message: "404 page not found")) { try await jaeger.search(Self.query) }
    }

    @Test func noAnswerIsUnreachable() async {
        let jaeger = JaegerTraceSource(baseURL: "http://jaeger:16686", transport: TraceFakeTransport(failure: .timedOut("after 10 s")))
        await #expect(throws: TraceSourceError.unreachable(.timedOut("after 10 s"))) { try await jaeger.search(Self.query) }
        #expect(jaeger.api == nil)
    }
}
