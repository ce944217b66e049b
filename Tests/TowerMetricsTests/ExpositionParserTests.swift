import Foundation
import Testing
import TowerDomain
@testable import TowerMetrics

/// Upstream pages in `Fixtures/exposition/` (see PROVENANCE.md there).
enum ExpositionFixture {
    static func bytes(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/exposition/\(name)")
        return Array(try Data(contentsOf: url))
    }

    static func text(_ name: String) throws -> String { String(decoding: try bytes(name), as: UTF8.self) }
}

private func expositionError(_ text: String, _ format: ExpositionFormat = .text) -> ExpositionError? {
    expositionError(Array(text.utf8), format)
}

private func expositionError(_ bytes: [UInt8], _ format: ExpositionFormat = .text, maxLineBytes: Int = 1 << 20) -> ExpositionError? {
    do {
        _ = try ExpositionParser(format: format, maxLineBytes: maxLineBytes).parse(bytes)
        return nil
    } catch {
        return error
    }
}

extension ExpositionDocument {
    func first(_ name: String, _ labels: [String: String] = [:]) -> ExpositionSample? {
        samples.first { s in s.name == name && labels.allSatisfy { s.label($0.key) == $0.value } }
    }
}

@Suite struct ExpositionFixtureTests {
    @Test func docsTextExampleRejectsTheLineWithoutValue() throws {
        let bytes = try ExpositionFixture.bytes("docs_exposition_formats_text_example.prom")
        let error = try #require(expositionError(bytes))
        #expect(error.line == 10)
        #expect(error.kind == .syntax)
        #expect(error.detail == "missing value")
        #expect(error.description.hasPrefix("line 10: missing value: {\"my.dotted.metric\""))
    }

    @Test func docsTextExample() throws {
        let doc = try ExpositionParser(policy: .skipInvalidLines).parse(try ExpositionFixture.bytes("docs_exposition_formats_text_example.prom"))
        #expect(doc.samples.count == 20)
        #expect(doc.skippedLines == 1)
        #expect(doc.warnings.map(\.line) == [10])

        let post400 = try #require(doc.first("http_requests_total", ["code": "400"]))
        #expect(post400.value == 3)
        #expect(post400.timestampMs == 1_395_066_363_000)
        #expect(post400.type == .counter)
        #expect(post400.labels == [ExpositionLabel("method", "post"), ExpositionLabel("code", "400")])

        let msdos = try #require(doc.first("msdos_file_access_time_seconds"))
        #expect(msdos.label("path") == #"C:\DIR\FILE.TXT"#)
        #expect(msdos.label("error") == "Cannot find file:\n\"FILE.TXT\"")
        #expect(msdos.value == 1.458255915e9)
        #expect(msdos.type == .unknown)

        #expect(doc.first("metric_without_timestamp_and_labels")?.value == 12.47)
        let weird = try #require(doc.first("something_weird"))
        #expect(weird.value == .infinity)
        #expect(weird.timestampMs == -3_982_045)

        let bucket = try #require(doc.first("http_request_duration_seconds_bucket", ["le": "+Inf"]))
        #expect(bucket.value == 144_320)
        #expect(bucket.type == .histogram)
        #expect(doc.first("http_request_duration_seconds_sum")?.value == 53423)
        #expect(doc.first("rpc_duration_seconds_sum")?.value == 1.7560473e+07)
        #expect(doc.first("rpc_duration_seconds", ["quantile": "0.99"])?.type == .summary)
        #expect(doc.family("http_request_duration_seconds") == MetricFamily(
            name: "http_request_duration_seconds", type: .histogram, help: "A histogram of the request duration."))
        #expect(doc.families.count == 3)
    }

    @Test func docsUTF8LineWithAValue() throws {
        let doc = try ExpositionParser().parse("{\"my.dotted.metric\", \"error.message\"=\"Not Found\"} 1\n")
        #expect(doc.samples == [ExpositionSample(name: "my.dotted.metric", labels: [ExpositionLabel("error.message", "Not Found")], value: 1)])
    }

    @Test func goProcessPage237Families() throws {
        let doc = try ExpositionParser(format: .text).parse(try ExpositionFixture.bytes("textparse_testdata_alltypes.237mfs.prom.txt"))
        #expect(doc.samples.count == 1857)
        #expect(doc.families.count == 237)
        #expect(doc.families.allSatisfy { $0.help != nil })
        #expect(doc.first("go_gc_cycles_automatic_gc_cycles_total")?.value == 190_932)
        #expect(doc.first("go_gc_gomemlimit_bytes")?.value == 9.03676723e+08)
        #expect(doc.first("go_memstats_alloc_bytes_total")?.value == 5.937322571024e+12)
        #expect(doc.first("go_gc_duration_seconds", ["quantile": "0.25"])?.value == 0.00010188)
        #expect(doc.first("go_gc_heap_allocs_by_size_bytes_bucket", ["le": "8.999999999999998"])?.value == 2.279966416e+09)
        #expect(doc.first("go_info")?.label("version") == "go1.23.4")
        let failed = try #require(doc.first("net_conntrack_dialer_conn_failed_total", ["dialer_name": "alertmanager", "reason": "refused"]))
        #expect(failed.value == 0)
        #expect(failed.type == .counter)
        #expect(doc.samples.last?.name == "promhttp_metric_handler_requests_total")
        #expect(doc.samples.last?.label("code") == "503")
        #expect(doc.samples.allSatisfy { $0.timestampMs == nil && $0.exemplar == nil })
    }

    @Test func openMetricsAllTypes() throws {
        let doc = try ExpositionParser(format: .openMetrics).parse(try ExpositionFixture.bytes("textparse_testdata_alltypes.5mfs.om.txt"))
        #expect(doc.samples.count == 53)
        #expect(doc.families.map(\.type) == [.gauge, .counter, .histogram, .summary, .counter])
        #expect(doc.first("go_build_info")?.labels == [ExpositionLabel("checksum", ""), ExpositionLabel("path", ""), ExpositionLabel("version", "")])

        let created = try #require(doc.first("promhttp_metric_handler_errors_created", ["cause": "encoding"]))
        #expect(created.value == 1.726839813016397e+09)
        #expect(created.type == .counter)

        let withExemplar = try #require(doc.first("rpc_durations_histogram_seconds_bucket", ["le": "-0.0002899999999999998"]))
        #expect(withExemplar.value == 3)
        // 1.7268398142239082e+09 s is …814223.9 ms: truncated as Prometheus's `int64(ts * 1000)` does.
        #expect(withExemplar.exemplar == ExpositionExemplar(labels: [ExpositionLabel("dummyID", "17783")], value: -0.0003825067330956884,
                                                            timestampMs: 1_726_839_814_223))
        #expect(doc.samples.filter { $0.exemplar != nil }.count == 6)
        #expect(doc.first("rpc_durations_histogram_seconds_bucket", ["le": "-8.999999999999979e-05"])?.exemplar == nil)
        #expect(doc.first("rpc_durations_histogram_seconds_sum")?.value == -8.452185437166741e-05)
        #expect(doc.first("rpc_durations_seconds", ["service": "normal", "quantile": "0.5"])?.value == -5.066758674917046e-06)
        let total = try #require(doc.first("rpc_requests_total", ["service": "uniform"]))
        #expect(total.value == 11)
        #expect(total.type == .counter)
        #expect(doc.family("rpc_requests")?.help == "Total number of RPC requests received.")
    }

    @Test func openMetricsOneHistogramWithoutFinalNewline() throws {
        let bytes = try ExpositionFixture.bytes("textparse_testdata_1histogram.om.txt")
        #expect(bytes.last != 0x0A)
        let doc = try ExpositionParser(format: .openMetrics).parse(bytes)
        #expect(doc.samples.count == 42)
        #expect(doc.samples.allSatisfy { $0.type == .histogram })
        let bucket = try #require(doc.first("golang_manual_histogram_seconds_bucket", ["port": "5002", "le": "10.0"]))
        #expect(bucket.value == 1)
        #expect(bucket.labels.map(\.name) == ["address", "generation", "port", "le"])
        #expect(doc.first("golang_manual_histogram_seconds_sum", ["port": "5003"])?.value == 10)
    }

    /// The spec's example blocks are `openmetrics-add-eof` examples: `# EOF` is added where missing.
    @Test func openMetricsSpecExamples() throws {
        let blocks = try ExpositionFixture.text("openmetrics_1_0_spec_examples.txt").components(separatedBy: "---\n")
        #expect(blocks.count == 33)
        var all: [ExpositionSample] = []
        var families: [MetricFamily] = []
        for block in blocks {
            var text = block
            while text.hasSuffix("\n") { text.removeLast() }
            if !text.contains("# EOF") { text += text.isEmpty ? "# EOF\n" : "\n# EOF\n" } else { text += "\n" }
            let doc = try ExpositionParser(format: .openMetrics).parse(text)
            all += doc.samples
            families += doc.families
        }
        #expect(all.count == 87)
        #expect(all.contains(ExpositionSample(name: "foo", labels: [ExpositionLabel("a", "b")], value: 17, timestampMs: 1_520_879_607_789, type: .gauge)))
        #expect(all.contains(ExpositionSample(name: "foo", value: 18, timestampMs: 456_000, type: .gauge)))
        #expect(all.contains(ExpositionSample(name: "foo_created", value: 1_520_430_000.123, timestampMs: 1_520_879_607_789, type: .counter)))
        #expect(all.contains(ExpositionSample(name: "foo_gcount", value: 42, type: .gaugeHistogram)))
        #expect(all.contains(ExpositionSample(name: "foo", labels: [ExpositionLabel("entity", "replica"), ExpositionLabel("foo", "ccc")], value: 1, type: .stateSet)))
        #expect(all.contains(ExpositionSample(name: "target_info", labels: [ExpositionLabel("env", "prod"), ExpositionLabel("hostname", "myhost"),
            ExpositionLabel("datacenter", "sdc"), ExpositionLabel("region", "europe"), ExpositionLabel("owner", "frontend")], value: 1, type: .info)))
        #expect(all.contains(ExpositionSample(name: "process_cpu_seconds_total", value: 4.20072246e+06, type: .counter)))
        #expect(all.contains(ExpositionSample(name: "foo_bucket", labels: [ExpositionLabel("le", "1e+23")], value: 16, type: .histogram)))
        // `foo_created  1520430000.123`: two blanks, as printed in the spec.
        #expect(all.contains(ExpositionSample(name: "foo_created", value: 1_520_430_000.123, type: .histogram)))
        let emptyExemplar = try #require(all.first { $0.name == "foo_bucket" && $0.label("le") == "0.1" && $0.exemplar != nil })
        #expect(emptyExemplar.exemplar == ExpositionExemplar(labels: [], value: 0.054))
        #expect(all.contains { $0.exemplar == ExpositionExemplar(labels: [ExpositionLabel("trace_id", "oHg5SJYRHA0")], value: 9.8, timestampMs: 1_520_879_607_789) })
        #expect(families.contains(MetricFamily(name: "foo_seconds", type: .counter, help: "Some text and \n some \" escaping", unit: "seconds")))
        #expect(families.contains(MetricFamily(name: "acme_http_router_request_seconds", type: .summary,
                                               help: "Latency though all of ACME's HTTP request router.", unit: "seconds")))
    }

    @Test func envoyHistogramWithoutValuesOrTags() throws {
        let doc = try ExpositionParser().parse(try ExpositionFixture.bytes("envoy_test_prometheus_HistogramWithNoValuesAndNoTags.prom"))
        #expect(doc.samples.count == 22)
        #expect(doc.samples.filter { $0.name == "envoy_histogram1_bucket" }.compactMap { $0.label("le") }.count == 20)
        let sum = try #require(doc.first("envoy_histogram1_sum"))
        #expect(sum.labels.isEmpty)
        #expect(sum.type == .histogram)
        #expect(doc.first("envoy_histogram1_bucket", ["le": "3600000"])?.value == 0)
        #expect(doc.families == [MetricFamily(name: "envoy_histogram1", type: .histogram)])
    }

    @Test func envoyNonDefaultBuckets() throws {
        let doc = try ExpositionParser().parse(try ExpositionFixture.bytes("envoy_test_prometheus_HistogramWithNonDefaultBuckets.prom"))
        #expect(doc.samples.count == 5)
        #expect(doc.samples.compactMap { $0.label("le") } == ["10", "20", "+Inf"])
    }

    @Test func envoyAllMetricTypes() throws {
        let doc = try ExpositionParser().parse(try ExpositionFixture.bytes("envoy_test_prometheus_OutputWithAllMetricTypes.prom"))
        #expect(doc.samples.count == 26)
        #expect(doc.families.map(\.type) == [.counter, .counter, .gauge, .gauge, .histogram])
        #expect(doc.first("envoy_cluster_test_1_upstream_cx_total")?.label("a_tag_name") == "a.tag-value")
        #expect(doc.first("envoy_cluster_test_3_upstream_cx_total")?.type == .gauge)
        let bucket = try #require(doc.first("envoy_cluster_test_1_upstream_rq_time_bucket", ["le": "250"]))
        #expect(bucket.value == 6)
        #expect(bucket.labels == [ExpositionLabel("key1", "value1"), ExpositionLabel("key2", "value2"), ExpositionLabel("le", "250")])
        #expect(doc.first("envoy_cluster_test_1_upstream_rq_time_sum")?.value == 5532)
        #expect(doc.first("envoy_cluster_test_1_upstream_rq_time_count")?.value == 7)
    }
}

@Suite struct ExpositionSyntaxTests {
    @Test func contentTypeDetection() {
        #expect(ExpositionFormat(contentType: "text/plain; version=0.0.4") == .text)
        #expect(ExpositionFormat(contentType: "text/plain;version=1.0.0;escaping=allow-utf-8") == .text)
        #expect(ExpositionFormat(contentType: "text/plain") == .text)
        #expect(ExpositionFormat(contentType: "application/openmetrics-text; version=1.0.0; charset=utf-8") == .openMetrics)
        #expect(ExpositionFormat(contentType: " Application/OpenMetrics-Text;version=0.0.1") == .openMetrics)
        #expect(ExpositionFormat(contentType: "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited") == nil)
        #expect(ExpositionFormat(contentType: "text/html") == nil)
        #expect(ExpositionFormat(contentType: nil) == nil)
    }

    @Test func specialValues() throws {
        let cases: [(String, Double)] = [
            ("+Inf", .infinity), ("-Inf", -.infinity), ("Inf", .infinity), ("inf", .infinity), ("+infinity", .infinity),
            ("-Infinity", -.infinity), ("1e3", 1000), ("1E-3", 0.001), (".5", 0.5), ("5.", 5), ("+5", 5), ("-0", -0.0),
            ("0.1", 0.1), ("0.30000000000000004", 0.30000000000000004), ("1.7976931348623157e308", .greatestFiniteMagnitude),
            ("4.9e-324", .leastNonzeroMagnitude), ("123456789012345678901234", 123456789012345678901234.0),
            ("1.458255915e9", 1.458255915e9), ("007", 7), ("1e+06", 1e6),
        ]
        for (text, expected) in cases {
            let doc = try ExpositionParser().parse("m \(text)\n")
            #expect(doc.samples.first?.value == expected, "\(text)")
            #expect(doc.samples.first?.value.sign == expected.sign, "\(text)")
        }
        for text in ["NaN", "nan", "NAN"] {
            #expect(try ExpositionParser().parse("m \(text)\n").samples.first?.value.isNaN == true)
        }
        for text in ["0x1p-3", "0x10", "1_000", "1e999", "-1e400", "+NaN", "1e", "e5", ".", "--1", "1.2.3", "Infinit", "12a", "∞"] {
            #expect(expositionError("m \(text)\n")?.kind == .invalidValue, "\(text)")
        }
    }

    /// The fast path (Clinger) must agree with the standard library bit for bit.
    @Test func numbersAgreeWithTheStandardLibrary() throws {
        var rng = SystemRandomNumberGenerator()
        var text = ""
        var expected: [Double] = []
        for _ in 0..<5000 {
            let v: Double
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: v = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng))
            case 1: v = Double(Int.random(in: -1_000_000...1_000_000, using: &rng)) / 1000
            case 2: v = Double.random(in: 0..<1, using: &rng) * pow(10, Double(Int.random(in: -30...30, using: &rng)))
            default: v = Double(Int64.random(in: Int64.min...Int64.max, using: &rng))
            }
            guard v.isFinite else { continue }
            let s = Bool.random(using: &rng) ? "\(v)" : String(format: "%.\(Int.random(in: 1...17, using: &rng))g", v)
            text += "m \(s)\n"
            expected.append(Double(s)!)
        }
        let doc = try ExpositionParser().parse(text)
        #expect(doc.samples.map(\.value.bitPattern) == expected.map(\.bitPattern))
    }

    @Test func labelEscapes() throws {
        let doc = try ExpositionParser().parse(#"m{a="x\\y\"z\nw",b="\t",c="日本",d=""} 1"# + "\n")
        #expect(doc.samples[0].labels == [ExpositionLabel("a", "x\\y\"z\nw"), ExpositionLabel("b", #"\t"#), ExpositionLabel("c", "日本"), ExpositionLabel("d", "")])
    }

    @Test func helpEscapesDifferBetweenFormats() throws {
        let line = #"# HELP m a \\ b \n c \" d"# + "\n"
        let text = try ExpositionParser(format: .text).parse(line)
        #expect(text.families[0].help == "a \\ b \n c \\\" d")
        let om = try ExpositionParser(format: .openMetrics).parse(line + "# EOF\n")
        #expect(om.families[0].help == "a \\ b \n c \" d")
        #expect(try ExpositionParser().parse("# HELP m\n").families[0].help == "")
    }

    @Test func tolerantSpacingAndCommas() throws {
        let doc = try ExpositionParser().parse("  m { a = \"1\" , b=\"2\", }\t 3 \t 1000  \nn{} 4\n\n\n# a comment\n#no space\n")
        #expect(doc.samples == [
            ExpositionSample(name: "m", labels: [ExpositionLabel("a", "1"), ExpositionLabel("b", "2")], value: 3, timestampMs: 1000),
            ExpositionSample(name: "n", value: 4),
        ])
    }

    @Test func quotedNames() throws {
        let doc = try ExpositionParser().parse("""
        # TYPE "my.counter" counter
        {"my.counter","code"="200"} 1
        m{"label.with.dots"="v","ünï"="x"} 2

        """)
        #expect(doc.samples[0].name == "my.counter")
        #expect(doc.samples[0].type == .counter)
        #expect(doc.samples[0].labels == [ExpositionLabel("code", "200")])
        #expect(doc.samples[1].labels == [ExpositionLabel("label.with.dots", "v"), ExpositionLabel("ünï", "x")])
        #expect(expositionError("m{\"other\"} 1\n")?.detail == "the metric name is given twice")
        #expect(expositionError("{} 1\n")?.detail == "the sample has no metric name")
    }

    @Test func counterTypesWithAndWithoutTotal() throws {
        let text = try ExpositionParser(format: .text).parse("# TYPE foo counter\nfoo 1\nfoo_total 2\nfoo_bucket 3\nbar 4\n")
        #expect(text.samples.map(\.type) == [.counter, .counter, .unknown, .unknown])
        let om = try ExpositionParser(format: .openMetrics).parse("# TYPE foo counter\nfoo_total 1\nfoo_created 2\n# TYPE g gauge\ng 3\nfoo_total 4\n# EOF\n")
        #expect(om.samples.map(\.type) == [.counter, .counter, .gauge, .unknown])
    }

    /// The same bytes mean different things (or nothing) in the two formats.
    @Test func openMetricsVersusText() throws {
        // Timestamps: ms integers in 0.0.4, float seconds in OpenMetrics.
        #expect(try ExpositionParser(format: .text).parse("m 1 1520879607789\n").samples[0].timestampMs == 1_520_879_607_789)
        #expect(try ExpositionParser(format: .openMetrics).parse("m 1 1520879607.789\n# EOF\n").samples[0].timestampMs == 1_520_879_607_789)
        #expect(expositionError("m 1 1520879607.789\n", .text)?.kind == .invalidTimestamp)
        // Exemplars only in OpenMetrics.
        #expect(expositionError("m_total 1 # {a=\"b\"} 1\n", .text)?.kind == .exemplarNotAllowed)
        // Types.
        #expect(expositionError("# TYPE m gaugehistogram\n", .text)?.kind == .invalidType)
        #expect(expositionError("# TYPE m untyped\n# EOF\n", .openMetrics)?.kind == .invalidType)
        #expect(try ExpositionParser(format: .text).parse("# TYPE m untyped\n").families[0].type == .unknown)
        #expect(try ExpositionParser(format: .openMetrics).parse("# TYPE m unknown\n# EOF\n").families[0].type == .unknown)
        // `# EOF` and `# UNIT` are comments in 0.0.4; OpenMetrics requires `# EOF` and nothing after.
        let text = try ExpositionParser(format: .text).parse("# UNIT m seconds\nm 1\n# EOF\nn 2\n")
        #expect(text.samples.count == 2)
        #expect(text.families.isEmpty)
        #expect(expositionError("m 1\n", .openMetrics)?.kind == .missingEOF)
        #expect(expositionError("m 1\n# EOF\nn 2\n", .openMetrics)?.kind == .contentAfterEOF)
        #expect(expositionError("m 1\n# EOF\n\n", .openMetrics)?.line == 3)
        // CR: tolerated at line ends in 0.0.4, forbidden in OpenMetrics.
        #expect(try ExpositionParser(format: .text).parse("m 1\r\nn 2\r\n").samples.map(\.value) == [1, 2])
        #expect(expositionError("m 1\r\n# EOF\n", .openMetrics)?.kind == .invalidValue)
    }
}

@Suite struct ExpositionHostileTests {
    @Test func truncatedLines() {
        let cases: [(String, Int, String)] = [
            ("ok 1\nm{a=\"b\n", 2, "unterminated quoted string"),
            ("ok 1\nm{a=\"b\"\n", 2, "unterminated label set (missing '}')"),
            ("ok 1\nm{a=\n", 2, "expected a quoted value for label 'a'"),
            ("ok 1\nm{a\n", 2, "expected '=' after label name 'a'"),
            ("ok 1\nm{\n", 2, "unterminated label set (missing '}')"),
            ("ok 1\nm\n", 2, "missing value"),
            ("ok 1\nm{a=\"b\"}\n", 2, "missing value"),
            ("ok 1\nm{a=\"b\"} \n", 2, "missing value"),
            ("# TYPE\n", 1, "expected a metric name after # TYPE"),
        ]
        for (text, line, detail) in cases {
            let error = expositionError(text)
            #expect(error?.line == line, "\(text)")
            #expect(error?.detail == detail, "\(text)")
        }
    }

    /// A body cut mid-line has a last line without `\n`; an OpenMetrics body cut anywhere lacks `# EOF`.
    @Test func truncatedBodies() throws {
        let error = try #require(expositionError("a 1\nb 2"))
        #expect(error.kind == .missingFinalNewline)
        #expect(error.line == 2)
        let lenient = try ExpositionParser(policy: .skipInvalidLines).parse("a 1\nb 2")
        #expect(lenient.samples.count == 2)
        #expect(lenient.warnings.map(\.kind) == [.missingFinalNewline])

        let page = try ExpositionFixture.bytes("textparse_testdata_alltypes.5mfs.om.txt")
        for cut in stride(from: 1, to: page.count - 6, by: 97) {
            #expect(expositionError(Array(page[..<cut]), .openMetrics) != nil, "cut at \(cut)")
        }
        #expect(expositionError(page, .openMetrics) == nil)
        #expect(expositionError("", .openMetrics)?.kind == .missingEOF)
        #expect(try ExpositionParser().parse("").samples.isEmpty)
    }

    @Test func wrongTypesAndMetadata() {
        #expect(expositionError("# TYPE m blah\n")?.kind == .invalidType)
        #expect(expositionError("# TYPE m blah\n")?.detail == "'blah' is not a metric type in the text format 0.0.4")
        #expect(expositionError("# TYPE m\n")?.kind == .invalidType)
        #expect(expositionError("# TYPE m counter extra\n")?.detail == "unexpected text after the type")
        #expect(expositionError("# TYPE 9m counter\n")?.detail == "invalid metric name")
        #expect(expositionError("# HELP m \u{7}x\n") == nil) // help text may hold anything UTF-8
    }

    @Test func duplicateAndMalformedLabels() {
        #expect(expositionError("m{a=\"1\",a=\"2\"} 1\n")?.kind == .duplicateLabel)
        #expect(expositionError("m{a=\"1\",\"a\"=\"2\"} 1\n")?.kind == .duplicateLabel)
        #expect(expositionError("m{9a=\"1\"} 1\n")?.detail == "expected a label name")
        #expect(expositionError("m{a=\"1\" b=\"2\"} 1\n")?.detail == "expected ',' or '}' after label 'a'")
        #expect(expositionError("m{a=1} 1\n")?.detail == "expected a quoted value for label 'a'")
        #expect(expositionError("m-x 1\n")?.detail == "invalid character in metric name")
        #expect(expositionError("m 1 2 3\n")?.detail == "unexpected text after the timestamp")
        #expect(expositionError("m 1 99999999999999999999\n")?.kind == .invalidTimestamp)
        #expect(expositionError("m 1 # {a=\"b\"} x\n# EOF\n", .openMetrics)?.kind == .invalidValue)
        #expect(expositionError("m 1 # a=\"b\" 1\n# EOF\n", .openMetrics)?.detail == "expected '{' to open the exemplar's labels")
    }

    @Test func nonUTF8() {
        let value: [UInt8] = Array("m{a=\"".utf8) + [0xFF, 0xFE] + Array("\"} 1\n".utf8)
        #expect(expositionError(value)?.kind == .invalidUTF8)
        let escapedValue: [UInt8] = Array("m{a=\"\\n".utf8) + [0xC3] + Array("\"} 1\n".utf8)
        #expect(expositionError(escapedValue)?.kind == .invalidUTF8)
        let help: [UInt8] = Array("# HELP m ".utf8) + [0xC0, 0xAF] + [0x0A]
        #expect(expositionError(help)?.kind == .invalidUTF8)
        let name: [UInt8] = Array("m".utf8) + [0xE2, 0x82] + Array(" 1\n".utf8)
        #expect(expositionError(name)?.kind == .syntax)
        let quotedName: [UInt8] = Array("{\"".utf8) + [0xF8] + Array("\"} 1\n".utf8)
        #expect(expositionError(quotedName)?.kind == .invalidUTF8)
    }

    /// An excerpt is printed to the operator's terminal: no escape sequences get through.
    @Test func excerptsAreSafeToPrint() throws {
        let error = try #require(expositionError("ok 1\n\u{1B}[2J\u{1B}]0;pwned\u{7} 1\n"))
        #expect(error.line == 2)
        #expect(!error.description.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
        let long = try #require(expositionError("m{a=\"" + String(repeating: "x", count: 500) + "\n"))
        #expect(long.excerpt.count == 61)
        #expect(long.excerpt.hasSuffix("…"))
    }

    @Test func tenMegabyteLine() throws {
        let huge: [UInt8] = Array("m{a=\"".utf8) + [UInt8](repeating: 0x61, count: 10 << 20) + Array("\"} 1\n".utf8)
        let error = try #require(expositionError(huge))
        #expect(error.kind == .lineTooLong)
        #expect(error.line == 1)
        #expect(error.detail == "line of 10485769 bytes is longer than the limit of 1048576")
        // With the limit raised it parses, in linear time.
        let doc = try ExpositionParser(maxLineBytes: 16 << 20).parse(huge)
        #expect(doc.samples.first?.label("a")?.utf8.count == 10 << 20)
        // Under skip-with-warning, the rest of the page survives.
        let lenient = try ExpositionParser(policy: .skipInvalidLines).parse(huge + Array("n 2\n".utf8))
        #expect(lenient.samples.map(\.name) == ["n"])
        #expect(lenient.warnings.map(\.kind) == [.lineTooLong])
    }

    /// As openmetricsparse.go: `int64(ts * 1000)`, a truncation toward zero, not a rounding.
    @Test func openMetricsTimestampsAreTruncatedToTheMillisecond() throws {
        let om = ExpositionParser(format: .openMetrics)
        let doc = try om.parse("a 1 0.0015\nb 1 -0.0015\nc 1 1.9999\nd_total 1 # {t=\"x\"} 1 0.0029\n# EOF\n")
        #expect(doc.samples.map(\.timestampMs) == [1, -1, 1999, nil])
        #expect(doc.samples.last?.exemplar?.timestampMs == 2)
    }

    /// A finite timestamp past Int64 milliseconds is valid OpenMetrics; Prometheus keeps the sample,
    /// so strict mode must not refuse the page. The timestamp saturates.
    @Test func anOpenMetricsTimestampBeyondInt64KeepsItsSample() throws {
        let doc = try ExpositionParser(format: .openMetrics).parse("a 1 1.2e19\nb 2 -1.2e19\nc_total 3 # {t=\"x\"} 1 1e300\nd 4\n# EOF\n")
        #expect(doc.samples.map(\.name) == ["a", "b", "c_total", "d"])
        #expect(doc.samples.map(\.timestampMs) == [Int64.max, Int64.min, nil, nil])
        #expect(doc.samples[2].exemplar?.timestampMs == Int64.max)
        // Still refused: what is not a number, and what Prometheus refuses too.
        #expect(expositionError("a 1 Inf\n# EOF\n", .openMetrics)?.kind == .invalidTimestamp)
        #expect(expositionError("a 1 1e400\n# EOF\n", .openMetrics)?.kind == .invalidTimestamp)
    }

    @Test func nanEverywhere() throws {
        let text = "# TYPE h histogram\nh_bucket{le=\"NaN\"} NaN\nh_bucket{le=\"1\"} NaN\nh_bucket{le=\"+Inf\"} NaN\nh_sum NaN\nh_count NaN\nc_total NaN\n"
        let doc = try ExpositionParser().parse(text)
        #expect(doc.samples.count == 6)
        #expect(doc.samples.allSatisfy { $0.value.isNaN })
        #expect(expositionError("m NaN NaN\n")?.kind == .invalidTimestamp)
        #expect(expositionError("m 1 # {a=\"b\"} NaN NaN\n# EOF\n", .openMetrics)?.kind == .invalidTimestamp)
    }

    @Test func garbageNeverCrashes() {
        var rng = SplitMix64(seed: 42)
        let alphabet = Array("m{}=\",# \t\n\\\"abcle+-.eE0123456789NaInf_:".utf8) + [0x00, 0xFF, 0xC3, 0x0D]
        for round in 0..<2000 {
            let length = Int(rng.next() % 200)
            var bytes = [UInt8]()
            for _ in 0..<length {
                bytes.append(rng.next() % 4 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))])
            }
            for format in ExpositionFormat.allCases {
                for policy in [ExpositionParser.Policy.strict, .skipInvalidLines] {
                    do {
                        let doc = try ExpositionParser(format: format, policy: policy).parse(bytes)
                        #expect(doc.warnings.count <= 100, "round \(round)")
                    } catch {
                        #expect(error.line >= 1, "round \(round)")
                    }
                }
            }
        }
    }

    @Test func skipPolicyCapsWarnings() throws {
        let text = String(repeating: "bad line\n", count: 500) + "good 1\n"
        let doc = try ExpositionParser(policy: .skipInvalidLines, maxWarnings: 10).parse(text)
        #expect(doc.samples.map(\.name) == ["good"])
        #expect(doc.skippedLines == 500)
        #expect(doc.warnings.count == 10)
        #expect(doc.warnings.first?.line == 1)
    }

    /// The figure stands for pages actually read: a page that does not parse, or yields nothing,
    /// has no throughput (a parser that throws at once would otherwise look fast).
    @Test func benchmarkFunctionReturnsAThroughputOnlyForWhatItParsed() throws {
        let page = try ExpositionFixture.bytes("envoy_test_prometheus_OutputWithAllMetricTypes.prom")
        #expect(try ExpositionParser().parse(page).samples.count == 26)
        #expect(ExpositionParser.benchmarkThroughput(bytes: page) > 0)
        #expect(ExpositionParser.benchmarkThroughput(bytes: Array("m 1\nnot a sample\n".utf8)) == 0)
        #expect(ExpositionParser.benchmarkThroughput(bytes: Array("# HELP m nothing\n".utf8)) == 0)
        #expect(ExpositionParser.benchmarkThroughput(bytes: []) == 0)
    }
}


@Suite struct ExpositionSkipPolicyTests {
    /// A rejected metadata line leaves no family behind; the next good line is read normally.
    @Test func rejectedLinesLeaveNoTrace() throws {
        let doc = try ExpositionParser(policy: .skipInvalidLines).parse("# TYPE m nonsense\nm{a=\"1\"} x\nm{a=\"1\"} 2\n")
        #expect(doc.families.isEmpty)
        #expect(doc.samples == [ExpositionSample(name: "m", labels: [ExpositionLabel("a", "1")], value: 2)])
        #expect(doc.warnings.map(\.line) == [1, 2])
        #expect(doc.warnings.map(\.kind) == [.invalidType, .invalidValue])
    }
}
