import Foundation
import TowerDomain
import TowerHTTP

// The Prometheus HTTP API's answers (reference/wire-formats.md §1): the envelope, the four result
// types, native histograms, annotations and errors. Decoded by hand from `JSONValue` because the
// wire has traps a generic decoder gets wrong: values are strings ("NaN", "+Inf", "-Inf",
// "1.2345678e-67"), timestamps are decimal seconds that must stay exact to the millisecond, and
// an error is keyed on `errorType`, whatever HTTP status a proxy or `OverrideErrorCode` put on it.

/// One float sample. `timestampMs` is exact; `value` may be NaN or ±Inf, as Prometheus sent it.
public struct PrometheusSample: Sendable, Equatable {
    public var timestampMs: Int64
    public var value: Double
    public init(timestampMs: Int64, value: Double) { self.timestampMs = timestampMs; self.value = value }
    public var date: Date { Timestamp.date(ms: timestampMs) }

    /// NaN equals NaN here, so that decoded answers can be compared in tests.
    public static func == (a: Self, b: Self) -> Bool {
        a.timestampMs == b.timestampMs && (a.value == b.value || (a.value.isNaN && b.value.isNaN))
    }
}

/// A native histogram as the API renders it (`jsonutil.MarshalHistogram`). Tower's profiles use
/// classic buckets; these are decoded so that an answer holding them is read, not refused.
public struct PrometheusHistogram: Sendable {
    public struct Bucket: Sendable {
        /// 0 = (lower, upper], 1 = [lower, upper), 2 = open, 3 = closed (the zero bucket).
        public var boundaryRule: Int
        public var lower: Double
        public var upper: Double
        public var count: Double
    }
    public var count: Double
    public var sum: Double
    /// Only populated buckets; Prometheus omits the list when none is.
    public var buckets: [Bucket]
}

public struct PrometheusHistogramSample: Sendable {
    public var timestampMs: Int64
    public var histogram: PrometheusHistogram
}

/// A labelled series. In a vector it holds one sample or one histogram; in a matrix, any number
/// of each (for different timestamps).
public struct PrometheusSeries: Sendable {
    public var labels: [String: String]
    public var samples: [PrometheusSample]
    public var histograms: [PrometheusHistogramSample]
    public init(labels: [String: String], samples: [PrometheusSample] = [], histograms: [PrometheusHistogramSample] = []) {
        self.labels = labels; self.samples = samples; self.histograms = histograms
    }
}

public enum PrometheusResult: Sendable {
    case vector([PrometheusSeries])
    case matrix([PrometheusSeries])
    case scalar(PrometheusSample)
    case string(timestampMs: Int64, value: String)

    /// The series of a vector or matrix; empty for a scalar or string.
    public var series: [PrometheusSeries] {
        switch self {
        case .vector(let s), .matrix(let s): s
        case .scalar, .string: []
        }
    }
}

/// A successful `query` or `query_range` answer, with the annotations Prometheus attached (at most
/// ten of each; e.g. "results truncated due to limit", or a hint that a metric is not a counter).
public struct PrometheusQueryResponse: Sendable {
    public var result: PrometheusResult
    public var warnings: [String]
    public var infos: [String]

    public init(result: PrometheusResult, warnings: [String] = [], infos: [String] = []) {
        self.result = result; self.warnings = warnings; self.infos = infos
    }

    /// Decodes a whole body. An error envelope throws `.api`; anything else unreadable throws
    /// `.malformed` naming where and why.
    public static func decode(_ body: [UInt8]) throws(PrometheusError) -> PrometheusQueryResponse {
        let json: JSONValue
        do { json = try JSONReader.parse(body) } catch { throw .malformed("\(error)") }
        return try decode(json, httpStatus: nil)
    }

    static func decode(_ json: JSONValue, httpStatus: Int?) throws(PrometheusError) -> PrometheusQueryResponse {
        let envelope = try PrometheusEnvelope(json, httpStatus: httpStatus)
        do {
            let result = try PrometheusDecoding.result(envelope.data, at: "data")
            return PrometheusQueryResponse(result: result, warnings: envelope.warnings, infos: envelope.infos)
        } catch { throw .malformed("\(error)") }
    }
}

/// The kinds of `errorType` Prometheus sends (`web/api/v1/api.go`), with what an operator can do.
public enum PrometheusErrorType: Sendable, Equatable {
    case badData, execution, timeout, canceled, `internal`, unavailable, notFound, notAcceptable
    case other(String)

    public init(wire: String) {
        switch wire {
        case "bad_data": self = .badData
        case "execution": self = .execution
        case "timeout": self = .timeout
        case "canceled": self = .canceled
        case "internal": self = .internal
        case "unavailable": self = .unavailable
        case "not_found": self = .notFound
        case "not_acceptable": self = .notAcceptable
        default: self = .other(wire)
        }
    }

    public var wire: String {
        switch self {
        case .badData: "bad_data"
        case .execution: "execution"
        case .timeout: "timeout"
        case .canceled: "canceled"
        case .internal: "internal"
        case .unavailable: "unavailable"
        case .notFound: "not_found"
        case .notAcceptable: "not_acceptable"
        case .other(let s): s
        }
    }
}

/// Why a query gave no answer, each case worded for the operator who has to act on it.
public enum PrometheusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No HTTP answer at all.
    case unreachable(HTTPTransportError)
    /// Prometheus answered with its error envelope.
    case api(type: PrometheusErrorType, message: String, httpStatus: Int?)
    /// Something answered that is not the Prometheus API: an HTML page from a proxy or login
    /// wall, or the plain-text 503 Prometheus gives while it starts.
    case notPrometheus(httpStatus: Int, contentType: String?, excerpt: String)
    /// A JSON answer that does not have the shape the API documents.
    case malformed(String)
    /// Refused before sending: Prometheus would reject it too.
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .unreachable(let e):
            return "Prometheus \(e)"
        case .api(let type, let raw, _):
            let m = Self.printable(raw)
            let (what, action): (String, String) = switch type {
            case .badData:
                ("Prometheus rejected the query as invalid", "check the PromQL, or the query override in the config")
            case .execution:
                ("Prometheus could not evaluate the query", "it may read too many samples, so narrow the window or the selectors")
            case .timeout:
                ("Prometheus gave up on the query after its timeout", "narrow the window or raise -query.timeout")
            case .canceled:
                ("Prometheus cancelled the query before it finished", "the request was dropped or Prometheus is shutting down; the next refresh retries it")
            case .internal:
                ("Prometheus failed internally", "check its logs and its storage (TSDB)")
            case .unavailable:
                ("Prometheus is not ready to answer", "it may still be starting or replaying its WAL, so wait and retry")
            case .notFound:
                ("Prometheus has no such API", "check the Prometheus URL and any route prefix")
            case .notAcceptable:
                ("Prometheus cannot answer in JSON", "check that no proxy rewrites the Accept header")
            case .other(let t):
                ("Prometheus answered with error \"\(Self.printable(t))\"", "see its message")
            }
            return "\(what); \(action) (Prometheus said: \(m))"
        case .notPrometheus(let status, let type, let excerpt):
            let what = type.map { " (\(Self.printable($0)))" } ?? ""
            let shown = excerpt.isEmpty ? "an empty body" : "\"\(excerpt)\""
            let hint = switch status {
            case 401, 403: "check the credentials for Prometheus (bearer token or basic auth)"
            case 404: "check the Prometheus URL and any path prefix"
            case 502, 503, 504: "Prometheus is down, still starting, or the proxy in front of it cannot reach it"
            default: "check the Prometheus URL and any proxy in front of it"
            }
            return "the Prometheus URL answered HTTP \(status) with \(shown)\(what), not the Prometheus API; \(hint)"
        case .malformed(let m):
            return "Prometheus's answer could not be read: \(m)"
        case .invalidRequest(let m):
            return m
        }
    }

    /// Messages come from the server: control characters are replaced so that they cannot
    /// rewrite an operator's terminal, and a long one is cut short.
    static func printable(_ s: String) -> String { Names.printable(s, limit: 300) }
}

/// The envelope shared by every API answer.
struct PrometheusEnvelope {
    var data: JSONValue
    var warnings: [String]
    var infos: [String]

    init(_ json: JSONValue, httpStatus: Int?) throws(PrometheusError) {
        guard case .object = json else { throw .malformed("the answer is \(json.kind), not the API's JSON object") }
        guard case .string(let status)? = json["status"] else { throw .malformed("the answer has no \"status\"") }
        switch status {
        case "error":
            var type = ""
            if case .string(let t)? = json["errorType"] { type = t }
            var message = "no explanation given"
            if case .string(let m)? = json["error"], !m.isEmpty { message = m }
            throw .api(type: PrometheusErrorType(wire: type), message: message, httpStatus: httpStatus)
        case "success":
            guard let data = json["data"] else { throw .malformed("a success answer without \"data\"") }
            self.data = data
            do {
                warnings = try PrometheusDecoding.strings(json["warnings"], at: "warnings")
                infos = try PrometheusDecoding.strings(json["infos"], at: "infos")
            } catch { throw .malformed("\(error)") }
        default:
            throw .malformed("unknown status \"\(PrometheusError.printable(status))\"")
        }
    }
}

struct PrometheusDecodingError: Error, CustomStringConvertible {
    var description: String
    init(_ path: String, _ problem: String) { description = "\(path): \(problem)" }
}

/// From `JSONValue` to the typed answers; every failure names the JSON path it happened at.
enum PrometheusDecoding {
    typealias Failure = PrometheusDecodingError

    static func result(_ data: JSONValue, at path: String) throws(Failure) -> PrometheusResult {
        guard case .object = data else { throw Failure(path, "expected a query result object, found \(data.kind)") }
        guard case .string(let type)? = data["resultType"] else { throw Failure(path, "no \"resultType\"") }
        guard let result = data["result"] else { throw Failure(path, "no \"result\"") }
        let rp = path + ".result"
        switch type {
        case "vector":
            return .vector(try series(result, at: rp, matrix: false))
        case "matrix":
            return .matrix(try series(result, at: rp, matrix: true))
        case "scalar":
            return .scalar(try sample(result, at: rp))
        case "string":
            let (ts, text) = try pair(result, at: rp)
            guard case .string(let s) = text else { throw Failure(rp + "[1]", "expected a string, found \(text.kind)") }
            return .string(timestampMs: ts, value: s)
        default:
            throw Failure(path, "unknown resultType \"\(PrometheusError.printable(type))\"")
        }
    }

    static func series(_ json: JSONValue, at path: String, matrix: Bool) throws(Failure) -> [PrometheusSeries] {
        guard case .array(let items) = json else { throw Failure(path, "expected an array, found \(json.kind)") }
        var out: [PrometheusSeries] = []
        out.reserveCapacity(items.count)
        for (n, item) in items.enumerated() {
            let p = "\(path)[\(n)]"
            guard case .object = item else { throw Failure(p, "expected a series object, found \(item.kind)") }
            guard let metric = item["metric"] else { throw Failure(p, "no \"metric\"") }
            var s = PrometheusSeries(labels: try labels(metric, at: p + ".metric"))
            if matrix {
                if let values = item["values"] {
                    guard case .array(let points) = values else { throw Failure(p + ".values", "expected an array, found \(values.kind)") }
                    s.samples.reserveCapacity(points.count)
                    for (k, point) in points.enumerated() { s.samples.append(try sample(point, at: "\(p).values[\(k)]")) }
                }
                if let hs = item["histograms"] {
                    guard case .array(let points) = hs else { throw Failure(p + ".histograms", "expected an array, found \(hs.kind)") }
                    for (k, point) in points.enumerated() { s.histograms.append(try histogramSample(point, at: "\(p).histograms[\(k)]")) }
                }
            } else {
                if let value = item["value"] {
                    s.samples = [try sample(value, at: p + ".value")]
                } else if let h = item["histogram"] {
                    s.histograms = [try histogramSample(h, at: p + ".histogram")]
                } else {
                    throw Failure(p, "neither \"value\" nor \"histogram\"")
                }
            }
            out.append(s)
        }
        return out
    }

    static func labels(_ json: JSONValue, at path: String) throws(Failure) -> [String: String] {
        guard case .object(let members) = json else { throw Failure(path, "expected an object of labels, found \(json.kind)") }
        var out: [String: String] = [:]
        out.reserveCapacity(members.count)
        for (name, value) in members {
            guard case .string(let v) = value else { throw Failure("\(path).\(name)", "expected a string, found \(value.kind)") }
            out[name] = v
        }
        return out
    }

    /// `[<seconds>, "<value>"]`.
    static func sample(_ json: JSONValue, at path: String) throws(Failure) -> PrometheusSample {
        let (ts, v) = try pair(json, at: path)
        return PrometheusSample(timestampMs: ts, value: try float(v, at: path + "[1]"))
    }

    static func histogramSample(_ json: JSONValue, at path: String) throws(Failure) -> PrometheusHistogramSample {
        let (ts, h) = try pair(json, at: path)
        let hp = path + "[1]"
        guard case .object = h else { throw Failure(hp, "expected a histogram object, found \(h.kind)") }
        guard let count = h["count"] else { throw Failure(hp, "no \"count\"") }
        guard let sum = h["sum"] else { throw Failure(hp, "no \"sum\"") }
        var histogram = PrometheusHistogram(count: try float(count, at: hp + ".count"), sum: try float(sum, at: hp + ".sum"), buckets: [])
        if let buckets = h["buckets"] {
            guard case .array(let items) = buckets else { throw Failure(hp + ".buckets", "expected an array, found \(buckets.kind)") }
            for (k, item) in items.enumerated() {
                let bp = "\(hp).buckets[\(k)]"
                guard case .array(let f) = item, f.count == 4 else { throw Failure(bp, "expected [rule, lower, upper, count]") }
                guard case .number(let ruleText) = f[0], let rule = Int(ruleText), (0...3).contains(rule) else {
                    throw Failure(bp + "[0]", "expected a boundary rule 0…3")
                }
                histogram.buckets.append(.init(boundaryRule: rule, lower: try float(f[1], at: bp + "[1]"),
                                               upper: try float(f[2], at: bp + "[2]"), count: try float(f[3], at: bp + "[3]")))
            }
        }
        return PrometheusHistogramSample(timestampMs: ts, histogram: histogram)
    }

    /// `[<seconds>, <anything>]`, the timestamp decoded exactly.
    static func pair(_ json: JSONValue, at path: String) throws(Failure) -> (Int64, JSONValue) {
        guard case .array(let items) = json, items.count == 2 else { throw Failure(path, "expected [timestamp, value], found \(json.kind)") }
        guard case .number(let text) = items[0] else { throw Failure(path + "[0]", "expected a timestamp number, found \(items[0].kind)") }
        guard let ms = timestampMs(text) else { throw Failure(path + "[0]", "timestamp \(text.prefix(40)) is out of range") }
        return (ms, items[1])
    }

    static func float(_ json: JSONValue, at path: String) throws(Failure) -> Double {
        guard case .string(let s) = json else { throw Failure(path, "expected a number in a string, found \(json.kind)") }
        guard let v = parseFloat(s) else { throw Failure(path, "\"\(PrometheusError.printable(s))\" is not a number as Prometheus writes them") }
        return v
    }

    static func strings(_ json: JSONValue?, at path: String) throws(Failure) -> [String] {
        guard let json else { return [] }
        if case .null = json { return [] }
        guard case .array(let items) = json else { throw Failure(path, "expected an array, found \(json.kind)") }
        var out: [String] = []
        for (k, item) in items.enumerated() {
            guard case .string(let s) = item else { throw Failure("\(path)[\(k)]", "expected a string, found \(item.kind)") }
            out.append(s)
        }
        return out
    }

    /// Unix seconds as written (`1435781451.781`, `0.010`, `-0.001`) to whole milliseconds. Digits
    /// are read as text so that large values stay exact; beyond three decimals (not from
    /// Prometheus) or in exponent form it goes through `Double` and rounds. nil when out of range.
    static func timestampMs(_ text: String) -> Int64? {
        let u = Array(text.utf8)
        var k = 0
        let negative = u.first == UInt8(ascii: "-")
        if negative { k = 1 }
        var whole: Int64 = 0
        var wholeDigits = 0
        while k < u.count, u[k] >= 0x30, u[k] <= 0x39 {
            whole = whole &* 10 &+ Int64(u[k] - 0x30); wholeDigits += 1; k += 1
        }
        var milli: Int64 = 0
        var fractionDigits = 0
        if k < u.count, u[k] == UInt8(ascii: ".") {
            k += 1
            while k < u.count, u[k] >= 0x30, u[k] <= 0x39, fractionDigits < 3 {
                milli = milli * 10 + Int64(u[k] - 0x30); fractionDigits += 1; k += 1
            }
            for _ in fractionDigits..<3 { milli *= 10 }
        }
        // Up to 15 whole digits fit in an Int64 of milliseconds with room to spare.
        if k == u.count, wholeDigits <= 15 {
            let ms = whole * 1000 + milli
            return negative ? -ms : ms
        }
        guard let d = Double(text), d.isFinite, abs(d) < 9e15 else { return nil }
        return Int64((d * 1000).rounded())
    }

    /// A Prometheus sample value, as Go's `strconv.ParseFloat` reads it: decimal or exponent form,
    /// and the specials `NaN`, `+Inf`, `-Inf` (which Swift's `Double(_:)` does not read in that
    /// spelling). A finite-looking text that overflows is refused: Prometheus writes infinities as
    /// `+Inf`, so that is not one of its numbers.
    static func parseFloat(_ s: String) -> Double? {
        switch s.lowercased() {
        case "nan", "+nan", "-nan": return .nan
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: break
        }
        guard !s.isEmpty, s.utf8.count <= 400, s.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2B || $0 == 0x2D || $0 == 0x65 || $0 == 0x45 }),
              let v = Double(s), v.isFinite else { return nil }
        return v
    }
}
