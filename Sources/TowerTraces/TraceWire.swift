import Foundation
import TowerDomain
import TowerHTTP

// Plumbing shared by the trace decoders and clients. The decoders are hand-written: no mirrored
// Swift package speaks Jaeger, Tempo or Zipkin JSON, and the parts Tower needs are small. One rule
// throughout: an absent field takes its default, a present field of the wrong type is an error.

enum TraceJSON {
    /// Decodes `body`, turning every failure (not JSON, not UTF-8, truncated, wrong types, nested
    /// past the parser's depth limit) into `.malformed` with where it went wrong.
    static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], what: String) throws(TraceSourceError) -> T {
        guard body.contains(where: { !" \t\r\n".utf8.contains($0) }) else { throw .malformed("\(what): the answer is empty") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let e as DecodingError {
            throw .malformed("\(what): \(describe(e))")
        } catch {
            throw .malformed("\(what): \(clip("\(error)"))")
        }
    }

    static func describe(_ e: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String {
            let p = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? "at the top level" : "at \(p.hasPrefix(".") ? String(p.dropFirst()) : p)"
        }
        switch e {
        case .typeMismatch(let type, let c): return "\(at(c.codingPath)): expected \(name(type))"
        case .valueNotFound(let type, let c): return "\(at(c.codingPath)): expected \(name(type)), found null"
        case .keyNotFound(let key, let c): return "\(at(c.codingPath + [key])): missing"
        case .dataCorrupted(let c):
            guard c.codingPath.isEmpty else { return "\(at(c.codingPath)): \(clip(c.debugDescription))" }
            return c.underlyingError.map { "not valid JSON (\(clip("\($0)")))" } ?? "not valid JSON"
        @unknown default: return clip("\(e)")
        }
    }

    private static func name(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int64.Type, is UInt64.Type, is Int.Type, is Double.Type: "a number"
        case is [Any].Type: "an array"
        default: "\(type)".contains("Dictionary") ? "an object" : "\(type)"
        }
    }

    static func clip(_ s: String, _ n: Int = 200) -> String { s.count > n ? String(s.prefix(n)) + "…" : s }
}

/// A 64-bit integer written as a JSON number or a decimal string (OTLP JSON and gogo jsonpb write
/// 64-bit integers as strings; Jaeger v1 does so above 2^53).
struct WireInt: Decodable {
    let value: Int64
    init(from decoder: any Decoder) throws { value = try Self.numberOrString(decoder, "not an integer") }

    /// An integer as a JSON number or a decimal string, the two ways the wire writes 64 bits.
    static func numberOrString<T: Decodable & FixedWidthInteger>(_ decoder: any Decoder, _ refusal: String) throws -> T {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(T.self) { return n }
        if let s = try? c.decode(String.self), let n = T(s) { return n }
        throw DecodingError.typeMismatch(T.self, .init(codingPath: c.codingPath, debugDescription: refusal))
    }
}

/// Nanoseconds since the epoch: a uint64, as a number or (usually) a decimal string.
struct WireNanos: Decodable {
    let value: UInt64
    var micros: Int64 { Int64(value / 1000) }
    init(from decoder: any Decoder) throws { value = try WireInt.numberOrString(decoder, "not a nanosecond timestamp") }
}

/// A protobuf enum: its number (OTLP JSON) or its name (gogo jsonpb, e.g. `STATUS_CODE_ERROR`).
struct WireEnum: Decodable {
    let number: Int?
    let name: String?
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) { number = n; name = nil; return }
        if let s = try? c.decode(String.self) { number = Int(s); name = s; return }
        throw DecodingError.typeMismatch(Int.self, .init(codingPath: c.codingPath, debugDescription: "not an enum number or name"))
    }
    /// True for number `n` or a name ending in `suffix` (`STATUS_CODE_ERROR`, `ERROR`).
    func `is`(_ n: Int, _ suffix: String) -> Bool { number == n || (name?.uppercased().hasSuffix(suffix) ?? false) }
}

/// A JSON scalar shown as text (Jaeger v1 tag values: string, bool, int64, float64, base64 binary).
struct WireScalar: Decodable {
    let text: String
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { text = b ? "true" : "false" }
        else if let n = try? c.decode(Int64.self) { text = String(n) }
        else if let d = try? c.decode(Double.self) { text = String(d) }
        else if let s = try? c.decode(String.self) { text = s }
        else if c.decodeNil() { text = "" }
        else { throw DecodingError.typeMismatch(String.self, .init(codingPath: c.codingPath, debugDescription: "not a scalar")) }
    }
}

/// GETs against one backend, with the caller's headers (auth, tenant) on every request: the
/// connection options of every trace source, declared here once.
public struct TraceHTTP: Sendable {
    let baseURL: String
    let headers: [(String, String)]
    let transport: any HTTPTransport
    let timeout: Duration

    public init(baseURL: String, headers: [(String, String)] = [], transport: any HTTPTransport = CurlTransport(),
                timeout: Duration = .seconds(10)) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.headers = [("Accept", "application/json")] + headers
        self.transport = transport
        self.timeout = timeout
    }

    /// The answer whatever its status; the caller knows what a 404 means for its backend.
    func get(_ path: String, _ query: [(String, String)] = []) async throws(TraceSourceError) -> HTTPResponse {
        let q = query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        let request = HTTPRequest(method: "GET", url: baseURL + path + (q.isEmpty ? "" : "?" + q), headers: headers, timeout: timeout)
        do { return try await transport.send(request) } catch let e as HTTPTransportError { throw .unreachable(e) } catch {
            throw .unreachable(.failed("\(error)"))
        }
    }

    /// The body of a GET that must succeed: any other status is the backend's refusal, except a 404
    /// for a trace looked up by `id`, which says it is not there.
    func body(_ path: String, _ query: [(String, String)] = [], notFound id: String? = nil) async throws(TraceSourceError) -> [UInt8] {
        try Self.accepted(try await get(path, query), notFound: id)
    }

    static func accepted(_ r: HTTPResponse, notFound id: String? = nil) throws(TraceSourceError) -> [UInt8] {
        if r.status == 404, let id { throw .notFound(id) }
        guard (200..<300).contains(r.status) else { throw refusal(r) }
        return r.body
    }

    /// Only unreserved characters pass: TraceQL and Jaeger's JSON tags carry `{ } " = & + :`.
    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// A refusal in the backend's own words: a JSON error envelope's message when there is one
    /// (Jaeger serves JSON as text/plain, so the content type is not trusted), else the text.
    static func refusal(_ r: HTTPResponse) -> TraceSourceError {
        struct Envelope: Decodable {
            struct V3: Decodable { let message: String? }
            struct V1: Decodable { let msg: String? }
            let error: V3?
            let errors: [V1]?
        }
        let json = try? JSONDecoder().decode(Envelope.self, from: Data(r.body))
        let message = printable(json?.error?.message ?? json?.errors?.compactMap(\.msg).first
            ?? String(decoding: r.body.prefix(400), as: UTF8.self))
        return .refused(status: r.status, message: message.isEmpty ? "no explanation given" : message)
    }

    /// Text from the backend as a short line that cannot upset the terminal.
    static func printable(_ s: String) -> String {
        let clean = String(s.unicodeScalars.prefix(400).map { $0.value < 32 || (127..<160).contains($0.value) ? " " : Character($0) })
        return TraceJSON.clip(clean.trimmingCharacters(in: .whitespaces))
    }
}

/// A trace source reached over HTTP: built from its connection, so the options are spelled once.
public protocol HTTPTraceSource: TraceSource {
    init(_ http: TraceHTTP)
}

extension HTTPTraceSource {
    /// `headers` go on every request (authorization, tenant: `X-Scope-OrgID` for a multi-tenant Tempo).
    public init(baseURL: String, headers: [(String, String)] = [], transport: any HTTPTransport = CurlTransport(),
                timeout: Duration = .seconds(10)) {
        self.init(TraceHTTP(baseURL: baseURL, headers: headers, transport: transport, timeout: timeout))
    }
}
