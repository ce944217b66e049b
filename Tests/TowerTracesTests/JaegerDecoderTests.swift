import Foundation
import Testing
import TowerDomain
@testable import TowerTraces

@Suite struct JaegerDecoderTests {
    // MARK: api_v3

    @Test(arguments: ["jaeger/v3_snapshot_FindTraces.json", "jaeger/v3_snapshot_GetTrace.json"])
    func v3Snapshots(_ file: String) throws {
        let traces = try JaegerDecoder.decodeV3Traces(TraceFixture.bytes(file))
        #expect(traces.count == 1)
        // Resource `{}` and no times: the snapshot's span carries only what the test set.
        #expect(traces[0] == Trace(traceID: "00000000000000000000000000000001", spans: [
            Span(traceID: "00000000000000000000000000000001", spanID: "0000000000000002", parentID: nil, service: "", name: "foobar",
                 startMicros: 0, durationMicros: 0, status: .error, attributes: ["span.kind": "server"]),
        ]))
    }

    @Test func v3StatusCodeAsNumberOrString() throws {
        func status(_ code: String) throws -> SpanStatus {
            let body = #"{"result":{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"00000000000000000000000000000001","spanId":"0000000000000002","status":{"code":\#(code)}}]}]}]}}"#
            return try JaegerDecoder.decodeV3Traces(Array(body.utf8))[0].spans[0].status
        }
        #expect(try status("2") == .error)
        #expect(try status(#""STATUS_CODE_ERROR""#) == .error)
        #expect(try status(#""2""#) == .error)
        #expect(try status("1") == .ok)
        #expect(try status(#""STATUS_CODE_OK""#) == .ok)
        #expect(try status("0") == .unset)
    }

    /// The gateway copies the spans of every matched trace into one list: they are regrouped.
    @Test func v3GroupsSpansOfSeveralTraces() throws {
        let span = { (t: String, s: String) in #"{"traceId":"\#(t)","spanId":"\#(s)","name":"n","startTimeUnixNano":"1000","endTimeUnixNano":"3000"}"# }
        let a = "0000000000000000000000000000000a", b = "0000000000000000000000000000000b"
        let body = #"{"result":{"resourceSpans":[{"scopeSpans":[{"spans":[\#(span(a, "0000000000000001")),\#(span(b, "0000000000000002"))]}]},{"scopeSpans":[{"spans":[\#(span(a, "0000000000000003"))]}]}]}}"#
        let traces = try JaegerDecoder.decodeV3Traces(Array(body.utf8))
        #expect(traces.map(\.traceID) == [a, b])
        #expect(traces[0].spans.map(\.spanID) == ["0000000000000001", "0000000000000003"])
        #expect(traces[0].spans[0].startMicros == 1 && traces[0].spans[0].durationMicros == 2)
    }

    @Test func v3GatewayErrorIsRefusal() throws {
        #expect(throws: TraceSourceError.refused(status: 404, message: "No traces found")) {
            try JaegerDecoder.decodeV3Traces(Array(#"{"error":{"httpCode":404,"message":"No traces found"}}"#.utf8) + [10])
        }
        #expect(throws: TraceSourceError.refused(status: 400, message: "malformed parameter query.startTimeMin: bad")) {
            try JaegerDecoder.decodeV3Traces(Array(#"{"error":{"httpCode":400,"message":"malformed parameter query.startTimeMin: bad"}}"#.utf8))
        }
        #expect(try JaegerDecoder.decodeV3Traces(Array(#"{"result":{}}"#.utf8)) == [])
    }

    // MARK: v1

    @Test func v1OTLPConvertedTrace() throws {
        let traces = try JaegerDecoder.decodeV1Traces(TraceFixture.bytes("jaeger/v1_api_traces_response_otlp2jaeger-out.json"))
        #expect(traces.count == 1)
        let t = traces[0]
        #expect(t.traceID == "83a9efd15c1c98a977e0711cc93ee28b")
        #expect(t.spans.count == 2)
        #expect(t.spans[0] == Span(traceID: "83a9efd15c1c98a977e0711cc93ee28b", spanID: "e127af99e3b3e074", parentID: "909541b92cf05311",
                                   service: "telemetrygen", name: "okey-dokey-0", startMicros: 1_706_678_909_209_712, durationMicros: 123,
                                   status: .unset, attributes: ["otel.scope.name": "telemetrygen", "net.peer.ip": "1.2.3.4",
                                                                "peer.service": "telemetrygen-client", "span.kind": "server"]))
    }

    /// Every tag type, FOLLOWS_FROM and cross-trace references, a 64-bit trace ID, two processes.
    @Test func v1UIFixture() throws {
        let traces = try JaegerDecoder.decodeV1Traces(TraceFixture.v1Envelope("jaeger/v1_ui_trace_ui_01.json"))
        let t = try #require(traces.first)
        #expect(traces.count == 1)
        #expect(t.traceID == "00000000000000000000000000000001")
        #expect(t.spans.map(\.spanID) == ["0000000000000002", "0000000000000002", "0000000000000003", "0000000000000004", "0000000000000005"])
        #expect(t.spans.map(\.service) == ["service-x", "service-x", "service-y", "service-y", "service-y"])
        // The reference into trace 0xff is skipped; the CHILD_OF into this trace is the parent.
        #expect(t.spans.map(\.parentID) == [nil, nil, "0000000000000002", "0000000000000002", "0000000000000004"])
        #expect(t.spans.map(\.status) == [.unset, .error, .unset, .unset, .unset])
        #expect(t.spans[1].attributes == ["peer.service": "service-y", "peer.ipv4": "23456", "error": "true", "temperature": "72.5",
                                          "javascript_limit": "9223372036854775222", "blob": "AAAwOQ=="])
        #expect(t.spans[4].name == "preserveParentID-test")
        #expect(t.spans[4].startMicros == 1_485_467_191_639_875 && t.spans[4].durationMicros == 4)
    }

    @Test func v1StatusFromTags() throws {
        func status(_ tags: String) throws -> SpanStatus {
            let body = #"{"data":[{"traceID":"1","spans":[{"traceID":"0000000000000001","spanID":"0000000000000002","tags":[\#(tags)]}]}]}"#
            return try JaegerDecoder.decodeV1Traces(Array(body.utf8))[0].spans[0].status
        }
        #expect(try status(#"{"key":"error","type":"bool","value":true}"#) == .error)
        #expect(try status(#"{"key":"error","type":"string","value":"true"}"#) == .error)
        #expect(try status(#"{"key":"otel.status_code","type":"string","value":"ERROR"}"#) == .error)
        #expect(try status(#"{"key":"otel.status_code","type":"string","value":"OK"}"#) == .ok)
        #expect(try status(#"{"key":"error","type":"bool","value":false}"#) == .unset)
        #expect(try status("") == .unset)
    }

    @Test func v1ErrorEnvelope() throws {
        let body = #"{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":404,"msg":"trace not found"}]}"# + "\n"
        #expect(throws: TraceSourceError.refused(status: 404, message: "trace not found")) { try JaegerDecoder.decodeV1Traces(Array(body.utf8)) }
        #expect(try JaegerDecoder.decodeV1Traces(Array(#"{"data":[],"total":0,"limit":0,"offset":0,"errors":null}"#.utf8)) == [])
    }

    /// `process` inline when there is no `processID`; the deprecated `parentSpanID` when there are no references.
    @Test func v1InlineProcessAndDeprecatedParent() throws {
        let body = #"{"data":[{"spans":[{"traceID":"0000000000000001","spanID":"0000000000000003","parentSpanID":"0000000000000002","process":{"serviceName":"inline"}}]}]}"#
        let s = try JaegerDecoder.decodeV1Traces(Array(body.utf8))[0].spans[0]
        #expect(s.service == "inline" && s.parentID == "0000000000000002")
    }
}
