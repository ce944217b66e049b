import Foundation

public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    /// The whole exchange, connect included.
    public var timeout: Duration

    public init(method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil, timeout: Duration = .seconds(10)) {
        self.method = method; self.url = url; self.headers = headers; self.body = body; self.timeout = timeout
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased; a repeated header keeps its last value.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status; self.headers = headers; self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a request got no HTTP answer, in words for the status line.
public enum HTTPTransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No connection was made (refused, no route, unknown host): the request was never sent, so a
    /// change may be sent to another replica without any doubt about its outcome.
    case notConnected(String)
    /// The connection failed after it was made: a request may have reached the server.
    case unreachable(String)
    case timedOut(String)
    case tls(String)
    case tooLarge(limit: Int)
    case failed(String)

    public var description: String {
        switch self {
        case .notConnected(let m), .unreachable(let m): "unreachable: \(m)"
        case .timedOut(let m): "timed out: \(m)"
        case .tls(let m): "TLS failed: \(m)"
        case .tooLarge(let limit): "response larger than \(limit) bytes"
        case .failed(let m): m
        }
    }

    /// Whether the request certainly never reached the server (no connection, or no TLS session).
    public var nothingSent: Bool {
        switch self {
        case .notConnected, .tls: true
        default: false
        }
    }
}

/// TLS as libcurl does it: TLS 1.2 at least, always; the peer verified against `caBundle` (or
/// the system's CAs) unless turned off explicitly, for one source, by configuration.
public struct TLSOptions: Sendable, Equatable {
    public var verifyPeer: Bool = true
    public var caBundle: String?
    public var clientCertificate: String?
    public var clientKey: String?
    /// The name the server's certificate must carry (and the SNI sent), when the URL's host is
    /// another (an address, a tunnel): the connection still goes to the URL's host.
    public var serverName: String?
    /// The passphrase of an encrypted `clientKey` (read from a file by the caller, never taken
    /// from a command line); left out of `description`.
    public var keyPassword: String?
    public init(verifyPeer: Bool = true, caBundle: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil,
                serverName: String? = nil, keyPassword: String? = nil) {
        self.verifyPeer = verifyPeer; self.caBundle = caBundle; self.clientCertificate = clientCertificate; self.clientKey = clientKey
        self.serverName = serverName; self.keyPassword = keyPassword
    }
}

extension TLSOptions: CustomStringConvertible {
    /// What a log or an error may show: the files and whether a passphrase is set, never the passphrase.
    public var description: String {
        var parts = ["verifyPeer: \(verifyPeer)"]
        if let caBundle { parts.append("caBundle: \(caBundle)") }
        if let clientCertificate { parts.append("clientCertificate: \(clientCertificate)") }
        if let clientKey { parts.append("clientKey: \(clientKey)") }
        if let serverName { parts.append("serverName: \(serverName)") }
        if keyPassword != nil { parts.append("keyPassword: (set)") }
        return "TLSOptions(" + parts.joined(separator: ", ") + ")"
    }
}

/// How a transport talks to servers, declared once for the pool and each of its sessions: TLS, and
/// the largest answer taken in (a hostile or broken server cannot make the console hold more).
public struct HTTPOptions: Sendable {
    public var tls: TLSOptions
    public var maxResponseBytes: Int
    public init(tls: TLSOptions = TLSOptions(), maxResponseBytes: Int = 32 << 20) {
        self.tls = tls; self.maxResponseBytes = maxResponseBytes
    }
}

public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
