import Foundation
import Testing
import TowerDomain
@testable import TowerTraces

/// The same OTLP trace read back from Jaeger v1, Jaeger api_v3 and Tempo (observatorium/api's e2e
/// set; the Tempo rendition is ours) decodes to the same span.
@Suite struct TraceCrossSystemTests {
    static let expected = Span(traceID: "5b8efff798038103d269b633813fc60c", spanID: "eee19b7ec3c1b174", parentID: "eee19b7ec3c1b173",
                               service: "my.service", name: "I'm a server span", startMicros: 1_544_712_660_000_000,
                               durationMicros: 1_000_000, status: .unset, attributes: ["my.span.attr": "some value", "span.kind": "server"])

    @Test func sameSpansFromEverySystem() throws {
        let v1 = try JaegerDecoder.decodeV1Traces(TraceFixture.bytes("cross_system/jaeger_api_v1_traces_5B.json"))
        let v3 = try JaegerDecoder.decodeV3Traces(TraceFixture.bytes("cross_system/jaeger_api_v3_traces_5B.json"))
        let tempo = try TempoDecoder.decodeTrace(TraceFixture.bytes("tempo/trace_v2_5B.json"))
        // The input as sent: OTLP JSON with upper-case hex IDs, no status.
        let input = try TempoDecoder.decodeTrace(TraceFixture.bytes("cross_system/input_otlp_http_traceJSON5B.json"))
        let expected = [Trace(traceID: Self.expected.traceID, spans: [Self.expected])]
        #expect(v1 == expected)
        #expect(v3 == expected)
        #expect(tempo == expected)
        #expect(input == expected)
    }
}
