import Foundation
import Testing
import TowerDomain
import TowerHTTP
@testable import TowerTraces

@Suite struct ZipkinTraceSourceTests {
    static func traces() throws -> HTTPResponse {
        traceAnswer(200, Array("[".utf8) + (try TraceFixture.bytes("zipkin/lens_testdata_skew.json")) + Array(",".utf8)
            + (try TraceFixture.bytes("zipkin/lens_testdata_messaging.json")) + Array("]".utf8))
    }

    @Test func searchComputesSummaries() async throws {
        let fake = TraceFakeTransport(["/api/v2/traces": try Self.traces()])
        let zipkin = ZipkinTraceSource(baseURL: "http://zipkin:9411", transport: fake)
        let q = TraceQuery(service: "frontend", operation: "get /", minDuration: .microseconds(1500), errorsOnly: false, limit: 10,
                           start: Date(timeIntervalSince1970: 1_521_186_000), end: Date(timeIntervalSince1970: 1_521_186_100.25))
        let found = try await zipkin.search(q)
        // Newest first: the messaging trace (2018) before the skew one (2016).
        #expect(found == [
            TraceSummary(traceID: "5aab74dbb904746bb33447baae403ed6", rootService: "frontend", rootName: "get /",
                         startMicros: 1_521_186_011_926_119, durationMicros: 3_357, spanCount: 4, errorCount: 0),
            TraceSummary(traceID: "00000000000000001e223ff1f80f1c69", rootService: "servicea", rootName: "get",
                         startMicros: 1_470_150_004_008_761, durationMicros: 161_718, spanCount: 4, errorCount: 0),
        ])
        #expect(fake.log.lastQuery == ["serviceName": "frontend", "spanName": "get /", "minDuration": "1500",
                                       "endTs": "1521186100250", "lookback": "100250", "limit": "10"])
    }

    @Test func errorsOnly() async throws {
        let fake = TraceFakeTransport(["/api/v2/traces": try Self.traces()])
        let zipkin = ZipkinTraceSource(baseURL: "http://zipkin:9411", transport: fake)
        // The server filters with annotationQuery; what it sends back is checked again here.
        #expect(try await zipkin.search(TraceQuery(service: "frontend", errorsOnly: true, start: .now - 60, end: .now)) == [])
        #expect(fake.log.lastQuery["annotationQuery"] == "error")
        #expect(fake.log.lastQuery["minDuration"] == nil && fake.log.lastQuery["spanName"] == nil)
    }

    @Test func traceByIDUses16DigitsFor64BitTraces() async throws {
        let fake = TraceFakeTransport([
            "/api/v2/trace/1e223ff1f80f1c69": traceAnswer(200, try TraceFixture.bytes("zipkin/lens_testdata_skew.json")),
            "/api/v2/trace/5aab74dbb904746bb33447baae403ed6": traceAnswer(200, try TraceFixture.bytes("zipkin/lens_testdata_messaging.json")),
            "/api/v2/trace/0af7651916cd43dd8448eb211c80319c": HTTPResponse(status: 404, body: Array("0af7651916cd43dd8448eb211c80319c not found".utf8)),
        ])
        let zipkin = ZipkinTraceSource(baseURL: "http://zipkin:9411/", transport: fake)
        #expect(try await zipkin.trace(id: "00000000000000001E223FF1F80F1C69").spans.count == 4)
        #expect(try await zipkin.trace(id: "Wqt027kEdGuzNEe6rkA+1g==").traceID == "5aab74dbb904746bb33447baae403ed6")
        await #expect(throws: TraceSourceError.notFound("0af7651916cd43dd8448eb211c80319c")) {
            try await zipkin.trace(id: "0af7651916cd43dd8448eb211c80319c")
        }
        #expect(fake.log.urls[0] == "http://zipkin:9411/api/v2/trace/1e223ff1f80f1c69")
    }

    @Test func badRequestInZipkinsWords() async {
        let fake = TraceFakeTransport(["/api/v2/traces": HTTPResponse(status: 400, body: Array("endTs <= 0\u{1b}[31m".utf8))])
        await #expect(throws: TraceSourceError.refused(status: 400, message: "endTs <= 0 [31m")) {
            try await ZipkinTraceSource(baseURL: "http://zipkin:9411", transport: fake)
                .search(TraceQuery(service: "s", start: .now, end: .now))
        }
    }
}
