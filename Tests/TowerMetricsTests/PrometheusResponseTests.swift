import Foundation
import Testing
@testable import TowerMetrics

enum PromFixture {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/prometheus")

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: dir.appendingPathComponent(name)))
    }

    static func jsonl(_ name: String) throws -> [[UInt8]] {
        try bytes(name).split(separator: UInt8(ascii: "\n")).map(Array.init)
    }
}

func promDecode(_ text: String) throws(PrometheusError) -> PrometheusQueryResponse {
    try PrometheusQueryResponse.decode(Array(text.utf8))
}

/// The error a body gives, or nil if it decodes.
func promFailure(_ body: [UInt8]) -> PrometheusError? {
    do { _ = try PrometheusQueryResponse.decode(body); return nil } catch { return error }
}

func promMalformed(_ text: String) -> String? {
    if case .malformed(let m)? = promFailure(Array(text.utf8)) { return m }
    return nil
}

@Suite struct PrometheusResponseTests {
    // MARK: Upstream fixtures

    @Test func openAPIVector() throws {
        let r = try PrometheusQueryResponse.decode(try PromFixture.bytes("openapi_query_vectorResult.json"))
        guard case .vector(let s) = r.result else { Issue.record("not a vector"); return }
        #expect(s.count == 2)
        #expect(s[0].labels == ["__name__": "up", "instance": "demo.prometheus.io:9090", "job": "prometheus"])
        #expect(s[1].labels["env"] == "demo")
        #expect(s[0].samples == [PrometheusSample(timestampMs: 1_767_436_620_000, value: 1)])
        #expect(r.warnings.isEmpty && r.infos.isEmpty)
    }

    @Test func openAPIScalar() throws {
        let r = try PrometheusQueryResponse.decode(try PromFixture.bytes("openapi_query_scalarResult.json"))
        guard case .scalar(let s) = r.result else { Issue.record("not a scalar"); return }
        #expect(s == PrometheusSample(timestampMs: 1_767_436_620_000, value: 42))
        #expect(r.result.series.isEmpty)
    }

    @Test func openAPIMatrices() throws {
        let r = try PrometheusQueryResponse.decode(try PromFixture.bytes("openapi_query_matrixResult.json"))
        guard case .matrix(let s) = r.result else { Issue.record("not a matrix"); return }
        #expect(s.count == 1 && s[0].samples.map(\.timestampMs) == [1_767_436_320_000, 1_767_436_620_000])
        let range = try PrometheusQueryResponse.decode(try PromFixture.bytes("openapi_query_range_matrixResult.json"))
        #expect(range.result.series.first?.samples.map(\.value) == [1, 1, 1])
    }

    @Test func openAPINativeHistograms() throws {
        let r = try PrometheusQueryResponse.decode(try PromFixture.bytes("openapi_query_histogramResult.json"))
        guard case .vector(let s) = r.result, let h = s.first?.histograms.first else { Issue.record("no histogram"); return }
        #expect(s[0].samples.isEmpty)
        #expect(h.timestampMs == 1_767_436_620_000)
        #expect(h.histogram.count == 12.5 && h.histogram.sum == 42.1)
        #expect(h.histogram.buckets.count == 2)
        #expect(h.histogram.buckets[0].boundaryRule == 0 && h.histogram.buckets[0].lower == 0.7071067811865475)
        #expect(h.histogram.buckets[1].upper == 1.414213562373095 && h.histogram.buckets[1].count == 7.5)

        let range = try PrometheusQueryResponse.decode(try PromFixture.bytes("openapi_query_range_histogramResult.json"))
        guard case .matrix(let m) = range.result else { Issue.record("not a matrix"); return }
        #expect(m[0].samples.isEmpty && m[0].histograms.map(\.timestampMs) == [1_767_433_020_000])
    }

    @Test func docsExamples() throws {
        let v = try PrometheusQueryResponse.decode(try PromFixture.bytes("docs_query_instant_vector_up.json"))
        #expect(v.result.series.map { $0.samples[0] } == [
            PrometheusSample(timestampMs: 1_435_781_451_781, value: 1), PrometheusSample(timestampMs: 1_435_781_451_781, value: 0),
        ])
        let m = try PrometheusQueryResponse.decode(try PromFixture.bytes("docs_query_range_matrix_up.json"))
        #expect(m.result.series[1].samples.map(\.timestampMs) == [1_435_781_430_781, 1_435_781_445_781, 1_435_781_460_781])
        #expect(m.result.series[1].samples.map(\.value) == [0, 0, 1])
        #expect(m.result.series[1].labels["instance"] == "localhost:9091")
    }

    @Test func errorFixture() throws {
        let e = promFailure(try PromFixture.bytes("openapi_error_tsdbNotReady.json"))
        #expect(e == .api(type: .internal, message: "TSDB not ready", httpStatus: nil))
        #expect(e?.description.contains("TSDB not ready") == true)
    }

    /// json_codec_test.go's expected bodies, byte-exact from Prometheus's own encoder.
    @Test func jsonCodecBodies() throws {
        let lines = try PromFixture.jsonl("json_codec_test_expected_bodies.jsonl")
        #expect(lines.count == 21)

        let vector = try PrometheusQueryResponse.decode(lines[0])
        guard case .vector(let v) = vector.result else { Issue.record("line 1 not a vector"); return }
        #expect(v.map { $0.labels["__name__"] } == ["foo", "bar"])
        #expect(v.map { $0.samples[0] } == [PrometheusSample(timestampMs: 1000, value: 1), PrometheusSample(timestampMs: 2000, value: 2)])

        for line in lines[1...2] {
            guard case .matrix(let m) = try PrometheusQueryResponse.decode(line).result else { Issue.record("not a matrix"); continue }
            #expect(m[0].samples == [PrometheusSample(timestampMs: 1000, value: 1)])
        }

        let native = try PrometheusQueryResponse.decode(lines[3])
        let h = try #require(native.result.series.first?.histograms.first?.histogram)
        #expect(h.count == 10 && h.sum == 20)
        #expect(h.buckets.map(\.boundaryRule) == [1, 1, 3, 0, 0, 0, 0, 0])
        #expect(h.buckets[2].lower == -0.001 && h.buckets[2].upper == 0.001 && h.buckets[2].count == 12)
        #expect(h.buckets[0].lower == -1.6817928305074288)

        // Bare points as `data`: timestamps with trailing zeros and at 14 digits stay exact to
        // the millisecond; the specials and both float forms read back as written.
        let points: [(Int64, Double)] = [
            (0, 0), (1, 20), (10, 20), (100, 20), (1001, 20), (1010, 20), (1100, 20), (12_345_678_123_456_555, 20), (-1, 20),
            (0, .nan), (0, .infinity), (0, -.infinity), (0, 1234567.8), (0, 0.0000012345678), (0, 1.2345678e-67),
        ]
        for (line, (ms, value)) in zip(lines[4...18], points) {
            let envelope = try PrometheusEnvelope(JSONReader.parse(line), httpStatus: 200)
            let sample = try PrometheusDecoding.sample(envelope.data, at: "data")
            #expect(sample == PrometheusSample(timestampMs: ms, value: value), "\(String(decoding: line, as: UTF8.self))")
            // Not a query result: refused with a reason, not a crash.
            #expect(promMalformed(String(decoding: line, as: UTF8.self))?.contains("query result") == true)
        }

        // Exemplars: the envelope reads; their values use the same float spelling.
        for (line, expected) in zip(lines[19...20], [100.123, Double.infinity]) {
            let envelope = try PrometheusEnvelope(JSONReader.parse(line), httpStatus: 200)
            guard case .array(let series) = envelope.data, case .array(let ex)? = series.first?["exemplars"],
                  case .string(let value)? = ex.first?["value"], case .number(let ts)? = ex.first?["timestamp"] else {
                Issue.record("exemplar shape"); continue
            }
            #expect(PrometheusDecoding.parseFloat(value) == expected)
            #expect(PrometheusDecoding.timestampMs(ts) == 1234)
        }
    }

    @Test func exemplarsDocIsAnEnvelope() throws {
        let envelope = try PrometheusEnvelope(JSONReader.parse(try PromFixture.bytes("docs_query_exemplars.json")), httpStatus: 200)
        guard case .array(let series) = envelope.data else { Issue.record("not an array"); return }
        #expect(series.count == 2)
    }

    // MARK: Annotations, result types, values

    @Test func warningsAndInfosAreSurfaced() throws {
        let r = try promDecode(#"{"status":"success","data":{"resultType":"vector","result":[]},"warnings":["results truncated due to limit"],"infos":["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"up\""]}"#)
        #expect(r.warnings == ["results truncated due to limit"])
        #expect(r.infos.count == 1 && r.infos[0].hasSuffix("\"up\""))
        #expect(r.result.series.isEmpty)
    }

    @Test func stringResult() throws {
        guard case .string(let ts, let v) = try promDecode(#"{"status":"success","data":{"resultType":"string","result":[1.5,"hello"]}}"#).result else {
            Issue.record("not a string"); return
        }
        #expect(ts == 1500 && v == "hello")
    }

    @Test func nanEverywhereDecodes() throws {
        let r = try promDecode(#"""
        {"status":"success","data":{"resultType":"vector","result":[
          {"metric":{"endpoint":"a"},"value":[1,"NaN"]},
          {"metric":{},"value":[1,"NaN"]},
          {"metric":{},"histogram":[1,{"count":"NaN","sum":"NaN","buckets":[[0,"NaN","NaN","NaN"]]}]}]}}
        """#)
        #expect(r.result.series[0].samples[0].value.isNaN && r.result.series[1].samples[0].value.isNaN)
        #expect(r.result.series[2].histograms[0].histogram.count.isNaN)
        #expect(r.result.series[2].histograms[0].histogram.buckets[0].upper.isNaN)
    }

    @Test func valueSpellings() {
        let cases: [(String, Double?)] = [
            ("1", 1), ("-2.5", -2.5), ("1e21", 1e21), ("1.2345678e-67", 1.2345678e-67), ("0.0000012345678", 0.0000012345678),
            ("+Inf", .infinity), ("-Inf", -.infinity), ("1.7976931348623157e308", .greatestFiniteMagnitude),
            ("1e400", nil), ("abc", nil), ("", nil), ("0x1p3", nil), (" 1", nil), ("1,5", nil),
        ]
        for (text, expected) in cases {
            #expect(PrometheusDecoding.parseFloat(text) == expected, "\(text)")
        }
        #expect(PrometheusDecoding.parseFloat("NaN")?.isNaN == true)
    }

    @Test func timestampText() {
        #expect(PrometheusDecoding.timestampMs("1435781451.781") == 1_435_781_451_781)
        #expect(PrometheusDecoding.timestampMs("0.010") == 10)
        #expect(PrometheusDecoding.timestampMs("-1.5") == -1500)
        #expect(PrometheusDecoding.timestampMs("1.4e9") == 1_400_000_000_000)
        #expect(PrometheusDecoding.timestampMs("1.0006") == 1001)
        #expect(PrometheusDecoding.timestampMs("1e400") == nil)
        #expect(PrometheusDecoding.timestampMs("99999999999999999999") == nil)
    }

    @Test func jsonEscapesInLabels() throws {
        let r = try promDecode(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"caf\u00e9 \ud83d\ude00\n\"q\"","b":"lone \udc00"},"value":[1,"1"]}]}}"#)
        #expect(r.result.series[0].labels["a"] == "café 😀\n\"q\"")
        #expect(r.result.series[0].labels["b"] == "lone \u{FFFD}")
    }

    @Test func repeatedKeyKeepsTheLast() throws {
        let r = try promDecode(#"{"status":"error","status":"success","data":{"resultType":"scalar","result":[1,"2"]}}"#)
        guard case .scalar(let s) = r.result else { Issue.record("not a scalar"); return }
        #expect(s.value == 2)
    }

    // MARK: Errors

    @Test(arguments: [
        ("bad_data", 400, PrometheusErrorType.badData, "check the PromQL"),
        ("execution", 422, .execution, "narrow the window"),
        ("timeout", 503, .timeout, "Prometheus gave up on the query after its timeout; narrow the window or raise -query.timeout"),
        ("canceled", 499, .canceled, "cancelled"),
        ("internal", 500, .internal, "failed internally"),
        ("unavailable", 500, .unavailable, "not ready"),
        ("not_found", 404, .notFound, "URL"),
        ("not_acceptable", 406, .notAcceptable, "Accept"),
        ("brand_new", 500, .other("brand_new"), "\"brand_new\""),
    ])
    func errorTypes(wire: String, status: Int, type: PrometheusErrorType, phrase: String) throws {
        #expect(PrometheusErrorType(wire: wire) == type && type.wire == wire)
        let e = try #require(promFailure(Array(#"{"status":"error","errorType":"\#(wire)","error":"it broke"}"#.utf8)))
        #expect(e == .api(type: type, message: "it broke", httpStatus: nil))
        #expect(e.description.contains(phrase), "\(e)")
        #expect(e.description.hasSuffix("(Prometheus said: it broke)"))
    }

    @Test func errorWithoutTypeOrMessage() {
        #expect(promFailure(Array(#"{"status":"error"}"#.utf8)) == .api(type: .other(""), message: "no explanation given", httpStatus: nil))
    }

    @Test func serverMessagesCannotDriveTheTerminal() throws {
        let e = try #require(promFailure(Array(#"{"status":"error","errorType":"bad_data","error":"x\u001b[2Jy"}"#.utf8)))
        #expect(!e.description.contains("\u{1B}"))
    }

    // MARK: Hostile input

    @Test func everyTruncationIsAClearError() throws {
        // Without the file's final newline, so that every shorter prefix is incomplete.
        let whole = Array(try PromFixture.bytes("openapi_query_histogramResult.json").dropLast())
        #expect(promFailure(whole) == nil)
        for n in 0..<whole.count {
            let e = promFailure(Array(whole[..<n]))
            guard case .malformed(let m)? = e else { Issue.record("prefix \(n): \(String(describing: e))"); continue }
            #expect(!m.isEmpty)
        }
        #expect(promMalformed(#"{"status":"success","data":{"resultType":"vector","res"#)?.contains("truncated") == true)
        #expect(promMalformed("")?.contains("truncated") == true)
    }

    @Test func wrongTypesNameThePath() {
        let cases: [(String, String)] = [
            (#"[1,2]"#, "not the API's JSON object"),
            (#"{"data":{}}"#, "no \"status\""),
            (#"{"status":"maybe"}"#, "unknown status"),
            (#"{"status":"success"}"#, "without \"data\""),
            (#"{"status":"success","data":[]}"#, "data: expected a query result object"),
            (#"{"status":"success","data":{"resultType":"histogram","result":[]}}"#, "unknown resultType"),
            (#"{"status":"success","data":{"resultType":"vector"}}"#, "no \"result\""),
            (#"{"status":"success","data":{"resultType":"vector","result":{}}}"#, "data.result: expected an array"),
            (#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,1]}]}}"#, "data.result[0].value[1]: expected a number in a string"),
            (#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":["1","1"]}]}}"#, "data.result[0].value[0]: expected a timestamp"),
            (#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1]}]}}"#, "data.result[0].value: expected [timestamp, value]"),
            (#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"1"]}]}}"#, "data.result[0].metric.a: expected a string"),
            (#"{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]}]}}"#, "data.result[0]: no \"metric\""),
            (#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}}"#, "neither \"value\" nor \"histogram\""),
            (#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"x"]]}]}}"#, "data.result[0].values[1][1]: \"x\" is not a number"),
            (#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"histograms":[[1,{"count":"1","sum":"1","buckets":[[7,"0","1","1"]]}]]}]}}"#, "boundary rule"),
            (#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1,{"sum":"1"}]}]}}"#, "no \"count\""),
            (#"{"status":"success","data":{"resultType":"scalar","result":[1,"1"]},"warnings":"careful"}"#, "warnings: expected an array"),
            (#"{"status":"success","data":{"resultType":"scalar","result":[1,"1"]},"infos":[1]}"#, "infos[0]: expected a string"),
            (#"{"status":"success","data":{"resultType":"string","result":[1,2]}}"#, "expected a string"),
        ]
        for (body, phrase) in cases {
            let m = promMalformed(body)
            #expect(m?.contains(phrase) == true, "\(body) → \(m ?? "decoded")")
        }
    }

    @Test func hugeNumbers() {
        #expect(promMalformed(#"{"status":"success","data":{"resultType":"scalar","result":[1e400,"1"]}}"#)?.contains("out of range") == true)
        #expect(promMalformed(#"{"status":"success","data":{"resultType":"scalar","result":[123456789012345678901234567890,"1"]}}"#)?.contains("out of range") == true)
        #expect(promMalformed(#"{"status":"success","data":{"resultType":"scalar","result":[1,"1e400"]}}"#)?.contains("is not a number") == true)
        let digits = String(repeating: "9", count: 5000)
        #expect(promMalformed(#"{"status":"success","data":{"resultType":"scalar","result":[1,"\#(digits)"]}}"#) != nil)
        #expect(promMalformed(#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"histograms":[[1,{"count":"1","sum":"1","buckets":[[99999999999999999999,"0","1","1"]]}]]}]}}"#)?.contains("boundary rule") == true)
    }

    @Test func notUTF8() {
        var body = Array(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"x"#.utf8)
        body += [0xFF, 0xFE]
        body += Array(#""},"value":[1,"1"]}]}}"#.utf8)
        guard case .malformed(let m)? = promFailure(body) else { Issue.record("decoded"); return }
        #expect(m.contains("not UTF-8"))
        #expect(promFailure([0xFF, 0x00, 0x7B]) != nil)
    }

    @Test func syntaxErrors() {
        for body in [#"{"status":"success",}"#, #"{"status" "success"}"#, #"{"status":tru}"#, #"{"a":"\x"}"#, #"{"a":"\u12"}"#,
                     "{\"a\":\"tab\there\"}", #"{"a":01}"#, #"{"a":1.}"#, #"{"a":-}"#, #"{} {}"#, #"{"a":[1,]}"#] {
            #expect(promMalformed(body) != nil, "\(body)")
        }
    }

    @Test func deepNestingIsRefusedNotOverflowed() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(promMalformed(deep)?.contains("nested deeper") == true)
        let objects = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        #expect(promMalformed(objects)?.contains("nested deeper") == true)
    }
}
