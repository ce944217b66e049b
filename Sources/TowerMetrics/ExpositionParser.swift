import Foundation

// Hand-written on purpose: no Swift package mirrored for this project parses the exposition formats
// (swift-prometheus only writes them), and a scrape source reads megabytes from each gateway every
// refresh. So the parser walks raw bytes through an UnsafePointer, keeps offsets instead of
// substrings, parses numbers without making a String, and creates Strings only for what it returns
// (re-using the previous line's String when the bytes are the same, which histograms make common).
//
// Grammar followed: prometheus/docs exposition_formats.md (0.0.4) and the OpenMetrics 1.0 spec, with
// the tolerance of Prometheus's own text parser (model/textparse/promparse.go): blanks inside braces,
// trailing commas, several blanks between tokens, quoted UTF-8 metric and label names. Numbers follow
// Go's ParseFloat as Prometheus restricts it: decimal with optional exponent, `NaN`, `Inf`/`Infinity`
// with optional sign, case-insensitive; no hex floats and no `_` (Prometheus rejects both), and a
// value too large for a Double is an error, not infinity. Rules that change no value are not
// enforced: exemplars only on `_total`/`_bucket` and within 128 characters, one TYPE per family,
// a family's lines kept together, the unit as a suffix of the name.
//
// Error policy: `.strict` (default) throws the first problem with its line number, as Prometheus
// fails a whole scrape on one bad line; a half-read page would make series "disappear". Under
// `.skipInvalidLines` a bad line is dropped, a warning kept, and the rest read. Strict is about
// syntax (and the values and timestamps it yields), as strict as Prometheus's text parsers and no
// more: it does not check a family's meaning — one TYPE per family, counters never negative, a
// histogram's buckets cumulative and ending in `+Inf` with `_count` equal to it — so a page that
// breaks those parses and the consumer must not assume them.

public struct ExpositionParser: Sendable {
    public enum Policy: Sendable, Equatable {
        /// The first malformed line fails the page. Syntax only: families' rules (one TYPE,
        /// counter signs, histogram structure) are not checked, as Prometheus's parser does not.
        case strict
        case skipInvalidLines
    }

    public var format: ExpositionFormat
    public var policy: Policy
    /// Longer lines are an error (`lineTooLong`): a runaway or hostile page must not make us build
    /// megabyte label values. Real pages stay far below (the longest line of a Go process page is
    /// about 300 bytes).
    public var maxLineBytes: Int
    /// How many warnings `.skipInvalidLines` keeps; `skippedLines` counts them all.
    public var maxWarnings: Int

    public init(format: ExpositionFormat = .text, policy: Policy = .strict, maxLineBytes: Int = 1 << 20, maxWarnings: Int = 100) {
        self.format = format; self.policy = policy; self.maxLineBytes = maxLineBytes; self.maxWarnings = maxWarnings
    }

    public func parse(_ bytes: [UInt8]) throws(ExpositionError) -> ExpositionDocument {
        try bytes.withUnsafeBufferPointer { parse(buffer: $0) }.get()
    }

    public func parse(_ text: String) throws(ExpositionError) -> ExpositionDocument {
        try parse(Array(text.utf8))
    }

    public func parse(buffer: UnsafeBufferPointer<UInt8>) -> Result<ExpositionDocument, ExpositionError> {
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            if format == .openMetrics, policy == .strict {
                return .failure(ExpositionError(line: 1, kind: .missingEOF, detail: "empty OpenMetrics body (no # EOF)"))
            }
            return .success(ExpositionDocument(format: format))
        }
        var state = ParseState(p: base, count: buffer.count, options: self)
        return state.run()
    }

    /// Parse throughput in MB/s (10^6 bytes per second) over at least half a second of repeated
    /// parses, for the bench. Not a test assertion: timings depend on the machine and the build.
    /// 0 when the page does not parse strictly or every parse does not yield the same samples: a
    /// figure for a parser that fails (fast) would be a lie.
    public static func benchmarkThroughput(bytes: [UInt8], format: ExpositionFormat = .text) -> Double {
        guard !bytes.isEmpty else { return 0 }
        let parser = ExpositionParser(format: format)
        guard let expected = try? parser.parse(bytes).samples.count, expected > 0 else { return 0 }
        let clock = ContinuousClock()
        let start = clock.now
        var parsedBytes = 0, samples = 0, parses = 0
        var elapsed = Duration.zero
        repeat {
            samples &+= (try? parser.parse(bytes))?.samples.count ?? 0
            parses += 1
            parsedBytes += bytes.count
            elapsed = clock.now - start
        } while elapsed < .milliseconds(500)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        // Reading `samples` also keeps the parses from being optimised away.
        return samples != expected &* parses ? 0 : Double(parsedBytes) / seconds / 1e6
    }
}

// MARK: - Internals

private let cNewline: UInt8 = 0x0A, cCR: UInt8 = 0x0D, cSpace: UInt8 = 0x20, cTab: UInt8 = 0x09
private let cHash: UInt8 = 0x23, cQuote: UInt8 = 0x22, cBackslash: UInt8 = 0x5C
private let cBraceOpen: UInt8 = 0x7B, cBraceClose: UInt8 = 0x7D, cComma: UInt8 = 0x2C, cEqual: UInt8 = 0x3D

@inline(__always) private func isBlank(_ c: UInt8) -> Bool { c == cSpace || c == cTab }
@inline(__always) private func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }
@inline(__always) private func isLetterOrUnderscore(_ c: UInt8) -> Bool { (c | 0x20) &- 0x61 < 26 || c == 0x5F }
/// Metric names: `[a-zA-Z_:][a-zA-Z0-9_:]*`; label names: the same without `:`.
@inline(__always) private func isMetricNameStart(_ c: UInt8) -> Bool { isLetterOrUnderscore(c) || c == 0x3A }
@inline(__always) private func isMetricNameChar(_ c: UInt8) -> Bool { isMetricNameStart(c) || isDigit(c) }
@inline(__always) private func isLabelNameChar(_ c: UInt8) -> Bool { isLetterOrUnderscore(c) || isDigit(c) }

/// Powers of ten that a Double holds exactly; with a mantissa below 2^53, one multiplication or
/// division by one of them is correctly rounded (Clinger's fast path).
private let exactPowersOfTen: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
                                          1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]

/// Reads a number the way Prometheus does (see the file comment). nil when it is not one.
/// `timesPowerOfTen` scales by 10^n in decimal, before rounding, so that `le="0.005"` seconds is
/// exactly 5 ms rather than 0.005 × 1000 = 5.000000000000001.
func parseExpositionNumber(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, timesPowerOfTen shift: Int = 0) -> Double? {
    var i = start
    guard i < end else { return nil }
    var negative = false
    if p[i] == 0x2B || p[i] == 0x2D {
        negative = p[i] == 0x2D
        i += 1
        guard i < end else { return nil }
    }
    let lower = p[i] | 0x20
    if lower == 0x69 { // i: inf, infinity
        let rest = end - i
        guard (rest == 3 && matchesLowercase(p + i, "inf")) || (rest == 8 && matchesLowercase(p + i, "infinity")) else { return nil }
        return negative ? -.infinity : .infinity
    }
    if lower == 0x6E { // n: nan, unsigned only (as in Go)
        guard i == start, end - i == 3, matchesLowercase(p + i, "nan") else { return nil }
        return .nan
    }
    var mantissa: UInt64 = 0
    var exponent = 0
    var sawDigit = false, inexact = false
    while i < end, isDigit(p[i]) {
        sawDigit = true
        if mantissa < 100_000_000_000_000_000 { mantissa = mantissa * 10 + UInt64(p[i] &- 0x30) } else { inexact = true; exponent += 1 }
        i += 1
    }
    if i < end, p[i] == 0x2E {
        i += 1
        while i < end, isDigit(p[i]) {
            sawDigit = true
            if mantissa < 100_000_000_000_000_000 { mantissa = mantissa * 10 + UInt64(p[i] &- 0x30); exponent -= 1 } else { inexact = true }
            i += 1
        }
    }
    guard sawDigit else { return nil }
    if i < end, p[i] | 0x20 == 0x65 { // e
        i += 1
        var negativeExponent = false
        if i < end, p[i] == 0x2B || p[i] == 0x2D { negativeExponent = p[i] == 0x2D; i += 1 }
        var e = 0, sawExponentDigit = false
        while i < end, isDigit(p[i]) {
            sawExponentDigit = true
            if e < 100_000 { e = e * 10 + Int(p[i] &- 0x30) }
            i += 1
        }
        guard sawExponentDigit else { return nil }
        exponent += negativeExponent ? -e : e
    }
    guard i == end else { return nil }
    exponent += shift
    if !inexact, mantissa <= 1 << 53, exponent >= -22, exponent <= 22 {
        var v = Double(mantissa)
        if exponent < 0 { v /= exactPowersOfTen[-exponent] } else { v *= exactPowersOfTen[exponent] }
        return negative ? -v : v
    }
    // Rare (17+ significant digits or huge exponents). The syntax is plain decimal by now, so the
    // standard library's correctly rounded conversion gives the same answer as Go.
    guard let v = Double(String(decoding: UnsafeBufferPointer(start: p + start, count: end - start), as: UTF8.self)),
          v.isFinite else { return nil }
    return shift == 0 ? v : v * pow(10, Double(shift))
}

@inline(__always) private func matchesLowercase(_ p: UnsafePointer<UInt8>, _ literal: StaticString) -> Bool {
    let l = literal.utf8Start
    for k in 0..<literal.utf8CodeUnitCount where p[k] | 0x20 != l[k] { return false }
    return true
}

@inline(__always) private func matchesExactly(_ p: UnsafePointer<UInt8>, _ count: Int, _ literal: StaticString) -> Bool {
    guard count == literal.utf8CodeUnitCount else { return false }
    return memcmp(p, literal.utf8Start, count) == 0
}

/// `Int64(ms)` truncates toward zero like Go's `int64(f)`; outside ±2^63 it would trap, so the
/// ends saturate (see `parseTimestamp`).
func saturatingMilliseconds(_ ms: Double) -> Int64 {
    if ms >= 0x1p63 { return .max }
    if ms < -0x1p63 { return .min }
    return Int64(ms)
}

private struct LineFailure: Error {
    var kind: ExpositionError.Kind
    var detail: String
    init(_ kind: ExpositionError.Kind, _ detail: String) { self.kind = kind; self.detail = detail }
}

/// A String made from bytes, kept to be handed out again when the same bytes come back.
private struct StringCache {
    var bytes: [UInt8] = []
    var string = ""
    var type: MetricType = .unknown

    @inline(__always) func matches(_ p: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        count == bytes.count && (count == 0 || bytes.withUnsafeBufferPointer { memcmp($0.baseAddress!, p, count) == 0 })
    }

    mutating func store(_ p: UnsafePointer<UInt8>, _ count: Int, _ s: String) {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: UnsafeBufferPointer(start: p, count: count))
        string = s
    }
}

private struct ParseState {
    let p: UnsafePointer<UInt8>
    let count: Int
    let options: ExpositionParser
    let openMetrics: Bool
    var doc: ExpositionDocument
    var familyIndex: [String: Int] = [:]
    /// The family of the last `# TYPE` line: samples named after it take its type.
    var typedFamily: [UInt8]?
    var typedFamilyType: MetricType = .unknown
    var sawEOF = false
    var line = 0
    var nameCache = StringCache()
    var labelNameCache = [StringCache](repeating: StringCache(), count: 8)
    var labelValueCache = [StringCache](repeating: StringCache(), count: 8)
    var scratch: [UInt8] = []

    init(p: UnsafePointer<UInt8>, count: Int, options: ExpositionParser) {
        self.p = p; self.count = count; self.options = options
        openMetrics = options.format == .openMetrics
        doc = ExpositionDocument(format: options.format)
        doc.samples.reserveCapacity(min(count / 100, 1 << 20))
    }

    mutating func run() -> Result<ExpositionDocument, ExpositionError> {
        var pos = 0
        var lastLineUnterminated = false
        while pos < count {
            line += 1
            let newline = memchr(p + pos, Int32(cNewline), count - pos).map { UnsafeRawPointer(p).distance(to: UnsafeRawPointer($0)) } ?? count
            var end = newline
            // 0.0.4 asks for `\n`, but a CRLF page is harmless; OpenMetrics forbids CR, so there it
            // stays in the line and fails to parse.
            if !openMetrics, end > pos, p[end - 1] == cCR { end -= 1 }
            if newline == count { lastLineUnterminated = !isBlankRange(pos, end) }
            if end - pos > options.maxLineBytes {
                if let e = fail(LineFailure(.lineTooLong, "line of \(end - pos) bytes is longer than the limit of \(options.maxLineBytes)"), pos, end) {
                    return .failure(e)
                }
            } else {
                do throws(LineFailure) {
                    try parseLine(pos, end)
                } catch {
                    if let e = fail(error, pos, end) { return .failure(e) }
                }
            }
            pos = newline + 1
        }
        if openMetrics, !sawEOF {
            if let e = failDocument(.missingEOF, "OpenMetrics body does not end with # EOF (truncated?)") { return .failure(e) }
        } else if !openMetrics, lastLineUnterminated {
            if let e = failDocument(.missingFinalNewline, "last line does not end with a newline (truncated?)") { return .failure(e) }
        }
        return .success(doc)
    }

    func isBlankRange(_ s: Int, _ e: Int) -> Bool {
        var i = s
        while i < e, isBlank(p[i]) { i += 1 }
        return i == e
    }

    /// Under `.strict` the error to return; under `.skipInvalidLines` records it and returns nil.
    mutating func fail(_ failure: LineFailure, _ s: Int, _ e: Int) -> ExpositionError? {
        let error = ExpositionError(line: line, kind: failure.kind, detail: failure.detail, excerpt: excerpt(s, e))
        if options.policy == .strict { return error }
        doc.skippedLines += 1
        if doc.warnings.count < options.maxWarnings { doc.warnings.append(error) }
        return nil
    }

    mutating func failDocument(_ kind: ExpositionError.Kind, _ detail: String) -> ExpositionError? {
        let error = ExpositionError(line: max(line, 1), kind: kind, detail: detail)
        if options.policy == .strict { return error }
        if doc.warnings.count < options.maxWarnings { doc.warnings.append(error) }
        return nil
    }

    /// The start of a line, safe to print: invalid UTF-8 and control characters become replacement
    /// characters and `?`, so a hostile page cannot drive the operator's terminal.
    func excerpt(_ s: Int, _ e: Int) -> String {
        let limit = 60
        let text = String(decoding: UnsafeBufferPointer(start: p + s, count: min(e - s, limit)), as: UTF8.self)
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            out.append(scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0) ? "?" : scalar)
        }
        return String(out) + (e - s > limit ? "…" : "")
    }

    // MARK: Lines

    mutating func parseLine(_ s: Int, _ e: Int) throws(LineFailure) {
        if sawEOF { throw LineFailure(.contentAfterEOF, "nothing may follow # EOF") }
        var i = s
        skipBlanks(&i, e)
        if i == e { return }
        if p[i] == cHash {
            try parseComment(i + 1, e)
        } else {
            try parseSample(i, e)
        }
    }

    @inline(__always) func skipBlanks(_ i: inout Int, _ e: Int) {
        while i < e, isBlank(p[i]) { i += 1 }
    }

    mutating func parseComment(_ start: Int, _ e: Int) throws(LineFailure) {
        var i = start
        guard i < e, isBlank(p[i]) else { return } // `#foo`: a plain comment
        skipBlanks(&i, e)
        let keywordStart = i
        while i < e, !isBlank(p[i]) { i += 1 }
        let keyword = p + keywordStart, keywordLength = i - keywordStart
        if matchesExactly(keyword, keywordLength, "HELP") {
            try parseMetadata(.help, i, e)
        } else if matchesExactly(keyword, keywordLength, "TYPE") {
            try parseMetadata(.type, i, e)
        } else if openMetrics, matchesExactly(keyword, keywordLength, "UNIT") {
            try parseMetadata(.unit, i, e)
        } else if openMetrics, matchesExactly(keyword, keywordLength, "EOF") {
            skipBlanks(&i, e)
            guard i == e else { throw LineFailure(.syntax, "unexpected text after # EOF") }
            sawEOF = true
        }
        // Anything else is a comment. (In 0.0.4, `# EOF` and `# UNIT` are comments too.)
    }

    enum Metadata { case help, type, unit }

    mutating func parseMetadata(_ kind: Metadata, _ start: Int, _ e: Int) throws(LineFailure) {
        var i = start
        skipBlanks(&i, e)
        guard i < e else { throw LineFailure(.syntax, "expected a metric name after # \(kind == .help ? "HELP" : kind == .type ? "TYPE" : "UNIT")") }
        let name: String
        if p[i] == cQuote {
            name = try parseQuoted(&i, e, cache: nil)
        } else {
            let nameStart = i
            guard isMetricNameStart(p[i]) else { throw LineFailure(.syntax, "invalid metric name") }
            while i < e, isMetricNameChar(p[i]) { i += 1 }
            name = String(decoding: UnsafeBufferPointer(start: p + nameStart, count: i - nameStart), as: UTF8.self)
        }
        guard i == e || isBlank(p[i]) else { throw LineFailure(.syntax, "invalid character in metric name") }
        switch kind {
        case .help:
            // The text after exactly one blank, as Prometheus takes it.
            let textStart = i < e ? i + 1 : e
            let help = try unescapeText(textStart, e, quoteEscapes: openMetrics)
            let slot = familySlot(name)
            doc.families[slot].help = help
        case .type:
            skipBlanks(&i, e)
            let wordStart = i
            while i < e, !isBlank(p[i]) { i += 1 }
            let word = String(decoding: UnsafeBufferPointer(start: p + wordStart, count: i - wordStart), as: UTF8.self)
            skipBlanks(&i, e)
            guard i == e else { throw LineFailure(.syntax, "unexpected text after the type") }
            let type: MetricType
            switch (word, openMetrics) {
            case ("counter", _): type = .counter
            case ("gauge", _): type = .gauge
            case ("histogram", _): type = .histogram
            case ("summary", _): type = .summary
            case ("untyped", false), ("unknown", true): type = .unknown
            case ("gaugehistogram", true): type = .gaugeHistogram
            case ("stateset", true): type = .stateSet
            case ("info", true): type = .info
            default:
                throw LineFailure(.invalidType, "'\(printable(word))' is not a metric type in \(openMetrics ? "OpenMetrics" : "the text format 0.0.4")")
            }
            let slot = familySlot(name)
            doc.families[slot].type = type
            typedFamily = Array(name.utf8)
            typedFamilyType = type
            nameCache = StringCache() // its cached types were for the previous family
        case .unit:
            skipBlanks(&i, e)
            let unitStart = i
            while i < e, !isBlank(p[i]) { i += 1 }
            let unit = String(decoding: UnsafeBufferPointer(start: p + unitStart, count: i - unitStart), as: UTF8.self)
            skipBlanks(&i, e)
            guard i == e else { throw LineFailure(.syntax, "unexpected text after the unit") }
            let slot = familySlot(name)
            doc.families[slot].unit = unit
        }
    }

    /// The family's index, created on first mention (only once its line has parsed, so a rejected
    /// line leaves no trace).
    mutating func familySlot(_ name: String) -> Int {
        if let known = familyIndex[name] { return known }
        doc.families.append(MetricFamily(name: name))
        familyIndex[name] = doc.families.count - 1
        return doc.families.count - 1
    }

    mutating func parseSample(_ start: Int, _ e: Int) throws(LineFailure) {
        var i = start
        var name: String?
        var type = MetricType.unknown
        if p[i] != cBraceOpen {
            guard isMetricNameStart(p[i]) else { throw LineFailure(.syntax, "expected a metric name") }
            let nameStart = i
            while i < e, isMetricNameChar(p[i]) { i += 1 }
            let length = i - nameStart
            if nameCache.matches(p + nameStart, length) {
                name = nameCache.string; type = nameCache.type
            } else {
                let s = String(decoding: UnsafeBufferPointer(start: p + nameStart, count: length), as: UTF8.self)
                type = familyType(of: s)
                nameCache.store(p + nameStart, length, s)
                nameCache.type = type
                name = s
            }
            guard i == e || isBlank(p[i]) || p[i] == cBraceOpen else { throw LineFailure(.syntax, "invalid character in metric name") }
        }
        var labels: [ExpositionLabel] = []
        var j = i
        skipBlanks(&j, e)
        if j < e, p[j] == cBraceOpen {
            i = j + 1
            let nameBefore = name
            try parseLabels(&i, e, metricName: &name, into: &labels)
            if nameBefore == nil, let quoted = name { type = familyType(of: quoted) }
        }
        guard let name else { throw LineFailure(.syntax, "the sample has no metric name") }
        guard i < e else { throw LineFailure(.syntax, "missing value") }
        guard isBlank(p[i]) else { throw LineFailure(.syntax, "expected a blank before the value") }
        skipBlanks(&i, e)
        guard i < e else { throw LineFailure(.syntax, "missing value") }
        let valueStart = i
        while i < e, !isBlank(p[i]) { i += 1 }
        guard let value = parseExpositionNumber(p, valueStart, i) else {
            throw LineFailure(.invalidValue, "'\(printable(valueStart, i))' is not a number")
        }
        skipBlanks(&i, e)
        var timestamp: Int64?
        if i < e, p[i] != cHash {
            let tsStart = i
            while i < e, !isBlank(p[i]) { i += 1 }
            timestamp = try parseTimestamp(tsStart, i)
            skipBlanks(&i, e)
        }
        var exemplar: ExpositionExemplar?
        if i < e {
            guard p[i] == cHash else { throw LineFailure(.syntax, "unexpected text after the timestamp") }
            guard openMetrics else { throw LineFailure(.exemplarNotAllowed, "exemplars exist only in OpenMetrics") }
            exemplar = try parseExemplar(i + 1, e)
        }
        doc.samples.append(ExpositionSample(name: name, labels: labels, value: value, timestampMs: timestamp, type: type, exemplar: exemplar))
    }

    /// After `{`, up to and including `}`. A quoted string standing alone is the metric name
    /// (`{"my.dotted.metric", "error.message"="Not Found"}`); `metricName` is nil in exemplars.
    mutating func parseLabels(_ i: inout Int, _ e: Int, metricName: inout String?, into labels: inout [ExpositionLabel], allowName: Bool = true) throws(LineFailure) {
        while true {
            skipBlanks(&i, e)
            guard i < e else { throw LineFailure(.syntax, "unterminated label set (missing '}')") }
            if p[i] == cBraceClose { i += 1; return }
            let position = labels.count
            let labelName: String
            if p[i] == cQuote {
                let quoted = try parseQuoted(&i, e, cache: nil)
                var j = i
                skipBlanks(&j, e)
                if j < e, p[j] == cComma || p[j] == cBraceClose {
                    guard allowName else { throw LineFailure(.syntax, "a metric name is not allowed here") }
                    guard metricName == nil else { throw LineFailure(.syntax, "the metric name is given twice") }
                    metricName = quoted
                    i = p[j] == cComma ? j + 1 : j
                    continue
                }
                labelName = quoted
            } else {
                guard isLetterOrUnderscore(p[i]) else { throw LineFailure(.syntax, "expected a label name") }
                let nameStart = i
                while i < e, isLabelNameChar(p[i]) { i += 1 }
                labelName = makeLabelName(nameStart, i, cacheSlot: position)
            }
            skipBlanks(&i, e)
            guard i < e, p[i] == cEqual else { throw LineFailure(.syntax, "expected '=' after label name '\(printable(labelName))'") }
            i += 1
            skipBlanks(&i, e)
            guard i < e, p[i] == cQuote else { throw LineFailure(.syntax, "expected a quoted value for label '\(printable(labelName))'") }
            let value = try parseQuoted(&i, e, cache: position)
            for existing in labels where existing.name == labelName {
                throw LineFailure(.duplicateLabel, "label '\(printable(labelName))' appears twice")
            }
            labels.append(ExpositionLabel(labelName, value))
            skipBlanks(&i, e)
            guard i < e else { throw LineFailure(.syntax, "unterminated label set (missing '}')") }
            if p[i] == cComma { i += 1; continue }
            guard p[i] == cBraceClose else { throw LineFailure(.syntax, "expected ',' or '}' after label '\(printable(labelName))'") }
            i += 1
            return
        }
    }

    /// A quoted string starting at `i` (on the `"`); `\\`, `\"` and `\n` are unescaped, any other
    /// escape is kept as written (as Prometheus does). Must be UTF-8.
    mutating func parseQuoted(_ i: inout Int, _ e: Int, cache slot: Int?) throws(LineFailure) -> String {
        var j = i + 1
        var escaped = false
        while j < e {
            let c = p[j]
            if c == cQuote { break }
            if c == cBackslash { escaped = true; j += 2 } else { j += 1 }
        }
        guard j < e else { throw LineFailure(.syntax, "unterminated quoted string") }
        let contentStart = i + 1
        i = j + 1
        if !escaped {
            guard let s = makeValidatedString(contentStart, j, cacheSlot: slot) else {
                throw LineFailure(.invalidUTF8, "quoted string is not valid UTF-8")
            }
            return s
        }
        scratch.removeAll(keepingCapacity: true)
        var k = contentStart
        while k < j {
            let c = p[k]
            if c == cBackslash, k + 1 < j {
                switch p[k + 1] {
                case cBackslash: scratch.append(cBackslash)
                case cQuote: scratch.append(cQuote)
                case 0x6E: scratch.append(cNewline)
                default: scratch.append(c); scratch.append(p[k + 1])
                }
                k += 2
            } else {
                scratch.append(c); k += 1
            }
        }
        guard let s = String(validating: scratch, as: UTF8.self) else {
            throw LineFailure(.invalidUTF8, "quoted string is not valid UTF-8")
        }
        return s
    }

    /// HELP text: 0.0.4 unescapes `\\` and `\n`; OpenMetrics also `\"`.
    mutating func unescapeText(_ s: Int, _ e: Int, quoteEscapes: Bool) throws(LineFailure) -> String {
        scratch.removeAll(keepingCapacity: true)
        var k = s
        while k < e {
            let c = p[k]
            if c == cBackslash, k + 1 < e {
                let next = p[k + 1]
                if next == cBackslash { scratch.append(cBackslash); k += 2; continue }
                if next == 0x6E { scratch.append(cNewline); k += 2; continue }
                if quoteEscapes, next == cQuote { scratch.append(cQuote); k += 2; continue }
            }
            scratch.append(c); k += 1
        }
        guard let text = String(validating: scratch, as: UTF8.self) else { throw LineFailure(.invalidUTF8, "HELP text is not valid UTF-8") }
        return text
    }

    /// A label name (ASCII by the grammar). Strings of up to 15 UTF-8 bytes are stored inline (no
    /// allocation), so only longer ones are worth looking up in the per-position cache.
    mutating func makeLabelName(_ s: Int, _ e: Int, cacheSlot slot: Int) -> String {
        let length = e - s
        guard length > 15, slot < 8 else { return String(decoding: UnsafeBufferPointer(start: p + s, count: length), as: UTF8.self) }
        if labelNameCache[slot].matches(p + s, length) { return labelNameCache[slot].string }
        let string = String(decoding: UnsafeBufferPointer(start: p + s, count: length), as: UTF8.self)
        labelNameCache[slot].store(p + s, length, string)
        return string
    }

    /// A label value or quoted name without escapes; the same caching as label names.
    mutating func makeValidatedString(_ s: Int, _ e: Int, cacheSlot: Int?) -> String? {
        let length = e - s
        if let slot = cacheSlot, length > 15, slot < 8, labelValueCache[slot].matches(p + s, length) {
            return labelValueCache[slot].string
        }
        guard let string = String(validating: UnsafeBufferPointer(start: p + s, count: length), as: UTF8.self) else { return nil }
        if let slot = cacheSlot, length > 15, slot < 8 { labelValueCache[slot].store(p + s, length, string) }
        return string
    }

    /// 0.0.4: an int64 of milliseconds (may be negative); one that does not fit is an error, as in
    /// promparse.go (`strconv.ParseInt(…, 10, 64)`). OpenMetrics: seconds, a float, read as
    /// openmetricsparse.go does (`p.ts = int64(ts * 1000)` after refusing NaN and ±Inf, for sample
    /// and exemplar timestamps alike): multiplied by 1000 in floating point, then truncated toward
    /// zero, not rounded (`0.0015` s is 1 ms). A finite value beyond what Int64 milliseconds hold
    /// (`1.2e19`) is valid OpenMetrics and Prometheus keeps the sample; Go leaves such a conversion
    /// to the platform, so we saturate to Int64.min/max rather than refuse the page.
    func parseTimestamp(_ s: Int, _ e: Int) throws(LineFailure) -> Int64 {
        if openMetrics {
            guard let seconds = parseExpositionNumber(p, s, e), seconds.isFinite else {
                throw LineFailure(.invalidTimestamp, "'\(printable(s, e))' is not a timestamp in seconds")
            }
            return saturatingMilliseconds(seconds * 1000)
        }
        var k = s
        var negative = false
        if k < e, p[k] == 0x2B || p[k] == 0x2D { negative = p[k] == 0x2D; k += 1 }
        var value: Int64 = 0
        guard k < e else { throw LineFailure(.invalidTimestamp, "'\(printable(s, e))' is not a timestamp in milliseconds") }
        while k < e {
            guard isDigit(p[k]) else { throw LineFailure(.invalidTimestamp, "'\(printable(s, e))' is not a timestamp in milliseconds") }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(p[k] &- 0x30))
            guard !o1, !o2 else { throw LineFailure(.invalidTimestamp, "timestamp '\(printable(s, e))' is out of range") }
            value = sum
            k += 1
        }
        return negative ? -value : value
    }

    /// After the `#` that follows a value: ` {labels} value [timestamp]`.
    mutating func parseExemplar(_ start: Int, _ e: Int) throws(LineFailure) -> ExpositionExemplar {
        var i = start
        guard i < e, isBlank(p[i]) else { throw LineFailure(.syntax, "expected a blank after '#' before the exemplar") }
        skipBlanks(&i, e)
        guard i < e, p[i] == cBraceOpen else { throw LineFailure(.syntax, "expected '{' to open the exemplar's labels") }
        i += 1
        var noName: String?
        var labels: [ExpositionLabel] = []
        try parseLabels(&i, e, metricName: &noName, into: &labels, allowName: false)
        guard i < e, isBlank(p[i]) else { throw LineFailure(.syntax, "missing exemplar value") }
        skipBlanks(&i, e)
        let valueStart = i
        while i < e, !isBlank(p[i]) { i += 1 }
        guard let value = parseExpositionNumber(p, valueStart, i) else {
            throw LineFailure(.invalidValue, "exemplar value '\(printable(valueStart, i))' is not a number")
        }
        skipBlanks(&i, e)
        var timestamp: Int64?
        if i < e {
            let tsStart = i
            while i < e, !isBlank(p[i]) { i += 1 }
            timestamp = try parseTimestamp(tsStart, i)
            skipBlanks(&i, e)
            guard i == e else { throw LineFailure(.syntax, "unexpected text after the exemplar") }
        }
        return ExpositionExemplar(labels: labels, value: value, timestampMs: timestamp)
    }

    /// The type of the family declared by the last `# TYPE` line, if `name` belongs to it.
    func familyType(of name: String) -> MetricType {
        guard let family = typedFamily, name.utf8.starts(with: family) else { return .unknown }
        let suffix = String(decoding: name.utf8.dropFirst(family.count), as: UTF8.self)
        let allowed: [String]
        switch typedFamilyType {
        case .counter: allowed = ["", "_total", "_created"]
        case .histogram: allowed = ["_bucket", "_sum", "_count", "_created"]
        case .gaugeHistogram: allowed = ["_bucket", "_gsum", "_gcount"]
        case .summary: allowed = ["", "_sum", "_count", "_created"]
        case .info: allowed = ["_info"]
        case .gauge, .stateSet, .unknown: allowed = [""]
        }
        return allowed.contains(suffix) ? typedFamilyType : .unknown
    }

    func printable(_ s: Int, _ e: Int) -> String { excerpt(s, min(e, s + 40)) }
    func printable(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars.prefix(40) { out.append(scalar.value < 0x20 || scalar.value == 0x7F ? "?" : scalar) }
        return String(out)
    }
}

/// The same number syntax for text already out of the page, such as an `le` label value.
func parseExpositionNumber(_ text: String, timesPowerOfTen shift: Int = 0) -> Double? {
    var text = text
    return text.withUTF8 { buffer in
        guard let base = buffer.baseAddress else { return nil }
        return parseExpositionNumber(base, 0, buffer.count, timesPowerOfTen: shift)
    }
}
