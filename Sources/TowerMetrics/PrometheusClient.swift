import Foundation
import TowerDomain
import TowerHTTP

/// Typed client of Prometheus's query API (reference/wire-formats.md §1). Queries go as POST
/// form bodies, which the API accepts like GET parameters, so long PromQL never meets a URL
/// length limit and never lands in a proxy's access log.
public struct PrometheusClient: Sendable {
    /// How to prove who we are to Prometheus or the proxy in front of it. Never printed.
    public enum Auth: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
        case none
        case bearer(String)
        case basic(user: String, password: String)

        public var description: String {
            switch self {
            case .none: "none"
            case .bearer: "bearer (redacted)"
            case .basic(let user, _): "basic \(user) (password redacted)"
            }
        }
        public var debugDescription: String { description }

        var header: (String, String)? {
            switch self {
            case .none: nil
            case .bearer(let token): ("Authorization", "Bearer \(token)")
            case .basic(let user, let password): ("Authorization", "Basic \(Data("\(user):\(password)".utf8).base64EncodedString())")
            }
        }
    }

    /// Prometheus refuses a range query of more points per series than this.
    public static let maxPointsPerSeries: Int64 = 11_000

    public let baseURL: String
    private let auth: Auth
    private let transport: any HTTPTransport
    /// The whole exchange. Prometheus is asked to stop evaluating a little earlier, so that a slow
    /// query comes back as its own "timeout" error rather than as a dropped connection.
    public var timeout: Duration

    /// `baseURL` is Prometheus's root, with any route prefix (`http://prom:9090`,
    /// `https://gw/prometheus`).
    public init(baseURL: String, auth: Auth = .none, transport: any HTTPTransport = CurlTransport(), timeout: Duration = .seconds(10)) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.auth = auth
        self.transport = transport
        self.timeout = timeout
    }

    /// `GET|POST /api/v1/query`: the value of `query` at `time` (Prometheus's "now" when nil).
    public func instant(query: String, time: Date? = nil) async throws(PrometheusError) -> PrometheusQueryResponse {
        var form = [("query", query)]
        if let time { form.append(("time", Self.seconds(ms: Self.ms(time)))) }
        return try await post("/api/v1/query", form)
    }

    /// `POST /api/v1/query_range`: `query` from `start` to `end` (both inclusive) every `step`.
    public func range(query: String, start: Date, end: Date, step: Duration) async throws(PrometheusError) -> PrometheusQueryResponse {
        let stepMs = Self.ms(step)
        let startMs = Self.ms(start), endMs = Self.ms(end)
        guard stepMs > 0 else { throw .invalidRequest("the step of a range query must be positive, not \(step)") }
        guard endMs >= startMs else { throw .invalidRequest("the range query ends before it starts") }
        guard (endMs - startMs) / stepMs <= Self.maxPointsPerSeries else {
            throw .invalidRequest("a range of \((endMs - startMs) / 1000) s every \(Self.seconds(ms: stepMs)) s is more than Prometheus's \(Self.maxPointsPerSeries) points per series; use a longer step")
        }
        return try await post("/api/v1/query_range", [
            ("query", query), ("start", Self.seconds(ms: startMs)), ("end", Self.seconds(ms: endMs)), ("step", Self.seconds(ms: stepMs)),
        ])
    }

    // MARK: Plumbing

    private func post(_ path: String, _ form: [(String, String)]) async throws(PrometheusError) -> PrometheusQueryResponse {
        let serverTimeoutMs = max(1, Self.ms(timeout) * 9 / 10)
        let body = Self.formEncode(form + [("timeout", Self.seconds(ms: serverTimeoutMs))])
        var headers = [("Accept", "application/json"), ("Content-Type", "application/x-www-form-urlencoded")]
        if let h = auth.header { headers.append(h) }
        let request = HTTPRequest(method: "POST", url: baseURL + path, headers: headers, body: Array(body.utf8), timeout: timeout)
        let response: HTTPResponse
        do { response = try await transport.send(request) } catch let e as HTTPTransportError { throw .unreachable(e) } catch {
            throw .unreachable(.failed("\(error)"))
        }
        return try Self.interpret(response)
    }

    /// An answer, whatever its status, read by its body first: Prometheus's envelope says what
    /// happened (operators can remap the status codes); only a body that is not the envelope falls
    /// back to the status.
    static func interpret(_ response: HTTPResponse) throws(PrometheusError) -> PrometheusQueryResponse {
        let ok = (200..<300).contains(response.status)
        let json: JSONValue
        do { json = try JSONReader.parse(response.body) } catch {
            let first = response.body.first { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }
            if ok && (first == UInt8(ascii: "{") || first == UInt8(ascii: "[")) { throw .malformed("\(error)") }
            throw notPrometheus(response)
        }
        if !ok, json["status"] == nil { throw notPrometheus(response) }
        return try PrometheusQueryResponse.decode(json, httpStatus: response.status)
    }

    private static func notPrometheus(_ response: HTTPResponse) -> PrometheusError {
        // Enough of the body to recognise a proxy's page, on one line.
        let text = String(decoding: response.body.prefix(200), as: UTF8.self)
        let line = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        return .notPrometheus(httpStatus: response.status, contentType: response.headers["content-type"].flatMap { $0.isEmpty ? nil : $0 }, excerpt: Names.printable(line, limit: 120))
    }

    /// `application/x-www-form-urlencoded`, escaping everything but RFC 3986's unreserved
    /// characters (PromQL's `+`, `&`, `=` and `"` all need it).
    static func formEncode(_ pairs: [(String, String)]) -> String {
        func escape(_ s: String) -> String {
            var out = ""
            for b in s.utf8 {
                switch b {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                     UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                    out.unicodeScalars.append(Unicode.Scalar(b))
                default:
                    let hex = Array("0123456789ABCDEF".unicodeScalars)
                    out.unicodeScalars.append("%"); out.unicodeScalars.append(hex[Int(b >> 4)]); out.unicodeScalars.append(hex[Int(b & 15)])
                }
            }
            return out
        }
        return pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    /// Whole milliseconds as decimal seconds (`1435781451.781`, `15`, `0.5`), the form the API reads
    /// for times, steps and timeouts alike.
    static func seconds(ms: Int64) -> String {
        let sign = ms < 0 ? "-" : ""
        let m = ms.magnitude
        let whole = m / 1000, frac = m % 1000
        guard frac != 0 else { return "\(sign)\(whole)" }
        var f = String(frac)
        while f.count < 3 { f = "0" + f }
        while f.hasSuffix("0") { f.removeLast() }
        return "\(sign)\(whole).\(f)"
    }

    /// To the nearest millisecond, as Prometheus's `parseTime` reads a time.
    static func ms(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    static func ms(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        return s * 1000 + atto / 1_000_000_000_000_000
    }
}
