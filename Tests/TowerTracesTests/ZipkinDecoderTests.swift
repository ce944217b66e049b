import Foundation
import Testing
import TowerDomain
@testable import TowerTraces

@Suite struct ZipkinDecoderTests {
    @Test func skewTrace() throws {
        let traces = try ZipkinDecoder.decodeTrace(TraceFixture.bytes("zipkin/lens_testdata_skew.json"))
        let t = try #require(traces.first)
        #expect(traces.count == 1)
        #expect(t.traceID == "00000000000000001e223ff1f80f1c69")
        #expect(t.spans[2] == Span(traceID: t.traceID, spanID: "bf396325699c84bf", parentID: nil, service: "servicea", name: "get",
                                   startMicros: 1_470_150_004_071_068, durationMicros: 99_411, status: .unset, attributes: ["span.kind": "server"]))
        #expect(t.spans[0].parentID == "74280ae0c10d8062" && t.spans[0].attributes == [:])
        // Client and shared server half of one RPC keep the same span ID.
        #expect(t.spans.filter { $0.spanID == "74280ae0c10d8062" }.map(\.service).sorted() == ["servicea", "serviceb"])
        #expect(TraceSummary(summarizing: t) == TraceSummary(traceID: t.traceID, rootService: "servicea", rootName: "get",
                                                             startMicros: 1_470_150_004_008_761, durationMicros: 161_718,
                                                             spanCount: 4, errorCount: 0))
    }

    @Test func messagingTrace() throws {
        let t = try #require(try ZipkinDecoder.decodeTrace(TraceFixture.bytes("zipkin/lens_testdata_messaging.json")).first)
        #expect(t.traceID == "5aab74dbb904746bb33447baae403ed6")
        #expect(t.spans[0] == Span(traceID: t.traceID, spanID: "e457b5a2e4d86bd1", parentID: "05e3ac9a4f6e3b90", service: "backend",
                                   name: "next-message", startMicros: 1_521_186_011_929_043, durationMicros: 14, status: .unset,
                                   attributes: ["rabbit.exchange": "", "rabbit.queue": "backend", "rabbit.routing_key": "backend",
                                                "span.kind": "consumer", "peer.service": "rabbitmq"]))
        let s = try #require(TraceSummary(summarizing: t))
        #expect(s.rootService == "frontend" && s.rootName == "get /" && s.startMicros == 1_521_186_011_926_119 && s.durationMicros == 3_357)
    }

    @Test func yelpAndEnvoy() throws {
        let yelp = try #require(try ZipkinDecoder.decodeTrace(TraceFixture.bytes("zipkin/lens_testdata_yelp.json")).first)
        #expect(yelp.spans.count == 16)
        #expect(TraceSummary(summarizing: yelp) == TraceSummary(traceID: "0000000000000000a03ee8fff1dcd9b9", rootService: "routing",
                                                                rootName: "post /location/update/v4", startMicros: 1_571_896_375_237_354,
                                                                durationMicros: 131_848, spanCount: 16, errorCount: 0))
        // Envoy leaves out the service name.
        let envoy = try #require(try ZipkinDecoder.decodeTrace(TraceFixture.bytes("zipkin/lens_testdata_envoy.json")).first)
        #expect(envoy.spans[0].service == "" && envoy.spans[0].name == "localhost:10000" && envoy.spans[0].durationMicros == 127_115)
        #expect(envoy.spans[0].attributes["http.status_code"] == "200")
    }

    /// The presence of the `error` tag marks an error, whatever its value.
    @Test func errorTag() throws {
        let chinese = try TraceFixture.bytes("zipkin/benchmarks_zipkin2-chinese.json")
        let s = try #require(try ZipkinDecoder.decodeTrace([UInt8(ascii: "[")] + chinese + [UInt8(ascii: "]")]).first?.spans.first)
        #expect(s.status == .error && s.attributes["error"] == "此用户没有操作权限")
        #expect(s.service == "订单维护服务" && s.name == "个人信息查询" && s.parentID == "86154a4ba6e91385")
        #expect(s.attributes["peer.service"] == "个人信息服务")
    }

    /// The 13 byte-exact encoder outputs: minimal spans, empty names, escapes, `"error":""`.
    @Test func encoderEdgeCases() throws {
        let text = try String(decoding: TraceFixture.bytes("zipkin/SpanBytesEncoderTest_json_v2_spans.jsonl"), as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 13)
        let spans = try lines.map { try #require(try ZipkinDecoder.decodeTrace(Array("[\($0)]".utf8)).first?.spans.first) }
        #expect(spans[2].status == .error && spans[2].attributes["error"] == "")
        #expect(spans[2].startMicros == 0 && spans[2].durationMicros == 0)
        #expect(spans[5].traceID == "00000000000000000000000000000001" && spans[5].name == "\"\\\t\u{8}\n\r\u{c}")
        #expect(spans[5].attributes["\"foo"] == "Database error: ORA-00942:\u{2028} and \u{2029} table or view does not exist\n")
        #expect(spans[7] == Span(traceID: "7180c278b62e8f6a216a2aea45d08fc9", spanID: "5b4185666d50f68b", parentID: nil, service: "",
                                 name: "", startMicros: 0, durationMicros: 0, status: .unset))
    }

    /// `/api/v2/traces`: a list of traces.
    @Test func traceList() throws {
        let body = [UInt8(ascii: "[")] + (try TraceFixture.bytes("zipkin/lens_testdata_skew.json")) + [UInt8(ascii: ",")]
            + (try TraceFixture.bytes("zipkin/lens_testdata_messaging.json")) + Array(",[]]".utf8)
        let traces = try ZipkinDecoder.decodeTraces(body)
        #expect(traces.map(\.traceID) == ["00000000000000001e223ff1f80f1c69", "5aab74dbb904746bb33447baae403ed6"])
        #expect(traces.map(\.spans.count) == [4, 4])
    }
}
