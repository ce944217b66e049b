import Foundation
import Testing
import TowerDomain
@testable import TowerTraces

/// Hostile and broken answers: every decoder throws a clear `TraceSourceError`, never crashes.
@Suite struct TraceHostileTests {
    enum Format: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case jaegerV3, jaegerV1, tempoSearch, tempoTrace, zipkinTraces, zipkinTrace

        var testDescription: String { rawValue }

        @discardableResult
        func decode(_ b: [UInt8]) throws(TraceSourceError) -> Int {
            switch self {
            case .jaegerV3: try JaegerDecoder.decodeV3Traces(b).count
            case .jaegerV1: try JaegerDecoder.decodeV1Traces(b).count
            case .tempoSearch: try TempoDecoder.decodeSearch(b).count
            case .tempoTrace: try TempoDecoder.decodeTrace(b).count
            case .zipkinTraces: try ZipkinDecoder.decodeTraces(b).count
            case .zipkinTrace: try ZipkinDecoder.decodeTrace(b).count
            }
        }

        func sample() throws -> [UInt8] {
            switch self {
            case .jaegerV3: try TraceFixture.bytes("cross_system/jaeger_api_v3_traces_5B.json")
            case .jaegerV1: try TraceFixture.bytes("jaeger/v1_api_traces_response_otlp2jaeger-out.json")
            case .tempoSearch: try TraceFixture.bytes("tempo/search.json")
            case .tempoTrace: try TraceFixture.bytes("tempo/trace_v2.json")
            case .zipkinTraces: Array("[".utf8) + (try TraceFixture.bytes("zipkin/lens_testdata_messaging.json")) + Array("]".utf8)
            case .zipkinTrace: try TraceFixture.bytes("zipkin/lens_testdata_yelp.json")
            }
        }

        /// A JSON value of the wrong shape for this format.
        var wrongShape: String { self == .zipkinTrace || self == .zipkinTraces ? #"{"traceId":"x"}"# : "[1,2,3]" }
    }

    func malformed(_ f: Format, _ body: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        do {
            try f.decode(body)
            Issue.record("\(f) accepted a broken answer", sourceLocation: sourceLocation)
            return nil
        } catch {
            guard case .malformed(let m) = error else {
                Issue.record("\(f): expected .malformed, got \(error)", sourceLocation: sourceLocation)
                return nil
            }
            #expect(!m.isEmpty && m.count < 400, sourceLocation: sourceLocation)
            return m
        }
    }

    @Test(arguments: Format.allCases)
    func samplesDecode(_ f: Format) throws {
        #expect(try f.decode(f.sample()) > 0)
    }

    @Test(arguments: Format.allCases)
    func notJSONAtAll(_ f: Format) {
        #expect(malformed(f, [])?.contains("empty") == true)
        #expect(malformed(f, Array(" \n\t".utf8))?.contains("empty") == true)
        #expect(malformed(f, Array("<html><body>Jaeger UI</body></html>".utf8))?.contains("not valid JSON") == true)
        _ = malformed(f, Array("null".utf8))
        _ = malformed(f, Array("42".utf8))
        _ = malformed(f, Array(#""text""#.utf8))
        _ = malformed(f, Array(f.wrongShape.utf8))
        _ = malformed(f, [0xff, 0xfe, 0x00, 0x7b, 0x80, 0xc3])
    }

    /// Every prefix of a real answer is either rejected or (rarely) a smaller valid document.
    @Test(arguments: Format.allCases)
    func truncated(_ f: Format) throws {
        let sample = try f.sample()
        for n in stride(from: 0, to: sample.count - 1, by: 7) {
            let cut = Array(sample.prefix(n))
            #expect(throws: TraceSourceError.self) { try f.decode(cut) }
        }
    }

    /// Invalid UTF-8 inside a string (after the first quote of the answer).
    @Test(arguments: Format.allCases)
    func nonUTF8(_ f: Format) throws {
        var b = try f.sample()
        let quote = try #require(b.firstIndex(of: UInt8(ascii: "\"")))
        b.insert(contentsOf: [0xc3, 0x28, 0xff], at: quote + 1)
        #expect(malformed(f, b) != nil)
    }

    @Test(arguments: Format.allCases)
    func nestedPastAnyReason(_ f: Format) {
        let deep = Array(String(repeating: "[", count: 100_000).utf8) + Array(String(repeating: "]", count: 100_000).utf8)
        _ = malformed(f, deep)
        let deepObject = Array(String(repeating: #"{"a":"#, count: 50_000).utf8)
        _ = malformed(f, deepObject)
    }

    @Test func wrongTypesSayWhere() {
        let v1 = #"{"data":[{"spans":[{"traceID":"0000000000000001","spanID":"0000000000000002","startTime":{"s":1}}]}]}"#
        #expect(malformed(.jaegerV1, Array(v1.utf8))?.contains("data[0].spans[0].startTime") == true)
        let v1tag = #"{"data":[{"spans":[{"traceID":"0000000000000001","spanID":"0000000000000002","tags":[{"key":"k","value":[1]}]}]}]}"#
        #expect(malformed(.jaegerV1, Array(v1tag.utf8))?.contains("tags[0].value") == true)
        let v3 = #"{"result":{"resourceSpans":[{"scopeSpans":[{"spans":"all of them"}]}]}}"#
        #expect(malformed(.jaegerV3, Array(v3.utf8))?.contains("spans") == true)
        let v3id = #"{"result":{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":12,"spanId":"0000000000000002"}]}]}]}}"#
        #expect(malformed(.jaegerV3, Array(v3id.utf8))?.contains("traceId") == true)
        let time = #"{"result":{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"00000000000000000000000000000001","spanId":"0000000000000002","startTimeUnixNano":"-5"}]}]}]}}"#
        #expect(malformed(.jaegerV3, Array(time.utf8))?.contains("startTimeUnixNano") == true)
        let zipkinTags = #"[{"traceId":"0000000000000001","id":"0000000000000002","tags":{"error":true}}]"#
        #expect(malformed(.zipkinTrace, Array(zipkinTags.utf8))?.contains("tags.error") == true)
        let zipkinTime = #"[{"traceId":"0000000000000001","id":"0000000000000002","timestamp":1e400}]"#
        _ = malformed(.zipkinTrace, Array(zipkinTime.utf8))
        let tempo = #"{"traces":[{"traceID":"0af7651916cd43dd8448eb211c80319c","durationMs":"long"}]}"#
        #expect(malformed(.tempoSearch, Array(tempo.utf8))?.contains("durationMs") == true)
    }

    @Test func missingOrBadIDsSayWhich() {
        #expect(malformed(.jaegerV1, Array(#"{"data":[{"spans":[{"spanID":"0000000000000002"}]}]}"#.utf8))?.contains("no traceID") == true)
        #expect(malformed(.jaegerV1, Array(#"{"data":[{"traceID":"0000000000000001","spans":[{"operationName":"x"}]}]}"#.utf8))?
            .contains("data[0].spans[0]: no spanID") == true)
        #expect(malformed(.jaegerV3, Array(#"{"result":{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"00000000000000000000000000000001"}]}]}]}}"#.utf8))?
            .contains("no spanId") == true)
        #expect(malformed(.tempoTrace, Array(#"{"trace":{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"","spanId":"7uGbfsPBsXQ="}]}]}]}}"#.utf8))?
            .contains("no traceId") == true)
        #expect(malformed(.tempoTrace, Array(#"{"trace":{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"not an id"}]}]}]}}"#.utf8))?
            .contains("not a span ID") == true)
        #expect(malformed(.zipkinTrace, Array(#"[{"traceId":"00000000000000000000000000000000","id":"0000000000000002"}]"#.utf8))?
            .contains("all zeros") == true)
        #expect(malformed(.zipkinTraces, Array(#"[[{"id":"0000000000000002"}]]"#.utf8))?.contains("[0][0]: no traceId") == true)
        #expect(malformed(.zipkinTrace, Array(#"[{"traceId":"0000000000000001","id":"0000000000000002","parentId":"zz"}]"#.utf8)) != nil)
    }

    /// Big but valid answers decode; a long string or many spans is not an error.
    @Test func hugeButValid() throws {
        let name = String(repeating: "x", count: 4 << 20)
        let one = #"[{"traceId":"0000000000000001","id":"0000000000000002","name":"\#(name)"}]"#
        #expect(try ZipkinDecoder.decodeTrace(Array(one.utf8))[0].spans[0].name.utf8.count == 4 << 20)
        let span = #"{"traceId":"0000000000000001","id":"0000000000000002","timestamp":1,"duration":2}"#
        let many = "[" + Array(repeating: span, count: 50_000).joined(separator: ",") + "]"
        #expect(try ZipkinDecoder.decodeTrace(Array(many.utf8))[0].spans.count == 50_000)
    }

    @Test func extremeNumbersDoNotOverflow() throws {
        let body = #"{"traces":[{"traceID":"1","startTimeUnixNano":"18446744073709551615","durationMs":9223372036854775807,"serviceStats":{"a":{"spanCount":"9223372036854775807"},"b":{"spanCount":"9223372036854775807"}}}]}"#
        let s = try #require(try TempoDecoder.decodeSearch(Array(body.utf8)).first)
        #expect(s.durationMicros == .max && s.spanCount == .max)
        let otlp = #"{"result":{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"00000000000000000000000000000001","spanId":"0000000000000002","startTimeUnixNano":"18446744073709551615","endTimeUnixNano":"1"}]}]}]}}"#
        let span = try JaegerDecoder.decodeV3Traces(Array(otlp.utf8))[0].spans[0]
        #expect(span.durationMicros == 0 && span.startMicros == 18_446_744_073_709_551)
        let negative = #"[{"traceId":"0000000000000001","id":"0000000000000002","timestamp":-9223372036854775808,"duration":-5}]"#
        let z = try ZipkinDecoder.decodeTrace(Array(negative.utf8))[0]
        #expect(z.spans[0].durationMicros == 0)
        _ = TraceSummary(summarizing: z)
    }

    /// Seeded random damage to real answers: whatever comes out, it is a value or a `TraceSourceError`.
    @Test(arguments: Format.allCases)
    func fuzz(_ f: Format) throws {
        let sample = try f.sample()
        var rng = SplitMix64(seed: 0x7ace + UInt64(f.rawValue.utf8.count))
        let tokens: [[UInt8]] = ["{", "}", "[", "]", ",", ":", "\"", "null", "-1", "1e999", "\"AAAA\"", "\\u0000", "\u{0}", "true"].map { Array($0.utf8) }
        for _ in 0..<1_500 {
            var b = sample
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(max(1, b.count)))
                switch rng.next() % 4 {
                case 0: if i < b.count { b[i] = UInt8(truncatingIfNeeded: rng.next()) }
                case 1: b.removeSubrange(i..<min(b.count, i + Int(rng.next() % 16)))
                case 2: b.insert(contentsOf: tokens[Int(rng.next() % UInt64(tokens.count))], at: min(i, b.count))
                default: let j = min(b.count, i + Int(rng.next() % 32)); b.insert(contentsOf: b[i..<j], at: j)
                }
            }
            do { try f.decode(b) } catch { #expect(!error.description.isEmpty) }
        }
    }
}

