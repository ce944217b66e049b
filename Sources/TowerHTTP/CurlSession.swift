import CCurl
import Foundation

/// One libcurl easy handle, reused across requests so connections are kept alive. Not thread-safe:
/// use one per thread (CurlTransport keeps a pool, handing each session to one thread at a time,
/// hence @unchecked Sendable). libcurl rather than URLSession because
/// FoundationNetworking's request timeouts below one second fail at once (toolchain notes §3) and
/// because it gives us TLS, proxies and client certificates with one dependency.
public final class CurlSession: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    public let options: HTTPOptions
    private var tls: TLSOptions { options.tls }
    private var maxResponseBytes: Int { options.maxResponseBytes }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public init(_ options: HTTPOptions = HTTPOptions()) {
        _ = Self.globalInit
        handle = curl_easy_init()
        self.options = options
    }

    deinit { curl_easy_cleanup(handle) }

    final class Sink {
        var body: [UInt8] = []
        var headers: [String: String] = [:]
        var limit: Int
        var overflow = false
        init(limit: Int) { self.limit = limit }
    }

    /// C callbacks may not capture context; they find the Sink through userdata.
    enum Callbacks {
        static let write: tower_curl_write_cb = { ptr, size, n, userdata in
            guard let userdata, let ptr else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(userdata).takeUnretainedValue()
            let count = size * n
            if sink.body.count + count > sink.limit { sink.overflow = true; return 0 }
            ptr.withMemoryRebound(to: UInt8.self, capacity: count) { sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: count)) }
            return count
        }
        static let header: tower_curl_write_cb = { ptr, size, n, userdata in
            guard let userdata, let ptr else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(userdata).takeUnretainedValue()
            let count = size * n
            let line = ptr.withMemoryRebound(to: UInt8.self, capacity: count) { String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self) }
            if line.hasPrefix("HTTP/") { sink.headers.removeAll() } // a new response (after 100-continue or a redirect)
            if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                sink.headers[name] = value
            }
            return count
        }
    }

    public func perform(_ request: HTTPRequest) throws(HTTPTransportError) -> HTTPResponse {
        let h = handle
        curl_easy_reset(h)
        let sink = Sink(limit: maxResponseBytes)
        var list: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(list) }
        for (name, value) in request.headers { list = curl_slist_append(list, "\(name): \(value)") }
        // libcurl adds "Expect: 100-continue" to larger bodies, costing a round trip: turn it off.
        list = curl_slist_append(list, "Expect:")
        let ms = Int(request.timeout.components.seconds * 1000 + request.timeout.components.attoseconds / 1_000_000_000_000_000)

        var url = request.url
        var connectTo: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(connectTo) }
        if let name = tls.serverName, var c = URLComponents(string: url), let host = c.host, c.scheme?.lowercased() == "https", host != name {
            // The certificate is checked against (and SNI names) the URL's host: name the server
            // there, and have libcurl connect to where the URL pointed.
            let port = c.port ?? 443
            connectTo = curl_slist_append(connectTo, "\(name):\(port):\(host):\(port)")
            c.host = name
            url = c.string ?? url
        }
        tower_curl_setopt_str(h, CURLOPT_URL, url)
        if connectTo != nil { tower_curl_setopt_slist(h, CURLOPT_CONNECT_TO, connectTo) }
        tower_curl_setopt_long(h, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2)
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        tower_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        tower_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, max(1, ms))
        tower_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, max(1, min(ms, 5000)))
        tower_curl_setopt_long(h, CURLOPT_TCP_NODELAY, 1)
        tower_curl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, tls.verifyPeer ? 1 : 0)
        tower_curl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, tls.verifyPeer ? 2 : 0)
        if let ca = tls.caBundle { tower_curl_setopt_str(h, CURLOPT_CAINFO, ca) }
        if let cert = tls.clientCertificate { tower_curl_setopt_str(h, CURLOPT_SSLCERT, cert) }
        if let key = tls.clientKey {
            tower_curl_setopt_str(h, CURLOPT_SSLKEY, key)
            // Always a passphrase, empty when none is configured: libcurl installs its callback only
            // when one is set, and without it OpenSSL prompts "Enter PEM pass phrase:" on the
            // terminal (under the console's screen, blocking). An empty one fails an encrypted key
            // with a sentence instead; a plain key never asks. libcurl copies the string.
            tower_curl_setopt_str(h, CURLOPT_KEYPASSWD, tls.keyPassword ?? "")
        }
        tower_curl_setopt_slist(h, CURLOPT_HTTPHEADER, list)
        tower_curl_setopt_writefn(h, CURLOPT_WRITEFUNCTION, Callbacks.write)
        tower_curl_setopt_writefn(h, CURLOPT_HEADERFUNCTION, Callbacks.header)
        let box = Unmanaged.passUnretained(sink).toOpaque()
        tower_curl_setopt_ptr(h, CURLOPT_WRITEDATA, box)
        tower_curl_setopt_ptr(h, CURLOPT_HEADERDATA, box)

        let body = request.body ?? []
        let method = request.method.uppercased()
        let code: CURLcode = body.withUnsafeBytes { raw in
            switch method {
            case "GET": tower_curl_setopt_long(h, CURLOPT_HTTPGET, 1)
            case "HEAD": tower_curl_setopt_long(h, CURLOPT_NOBODY, 1)
            default:
                tower_curl_setopt_str(h, CURLOPT_CUSTOMREQUEST, method)
                if request.body != nil || method == "POST" || method == "PUT" {
                    tower_curl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(raw.count))
                    tower_curl_setopt_ptr(h, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
                }
            }
            return errorBuffer.withUnsafeMutableBytes { eb in
                tower_curl_setopt_ptr(h, CURLOPT_ERRORBUFFER, eb.baseAddress)
                return withExtendedLifetime(sink) { curl_easy_perform(h) }
            }
        }
        tower_curl_setopt_ptr(h, CURLOPT_ERRORBUFFER, nil)
        guard code == CURLE_OK else {
            let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            if let sentence = TLSFailure.sentence(code: code, detail: detail, url: request.url, tls: tls) {
                throw .tls(sentence)
            }
            switch code {
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
                throw .notConnected("\(Self.hostOf(request.url)): \(message)")
            case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR:
                throw .unreachable("\(Self.hostOf(request.url)): \(message)")
            case CURLE_OPERATION_TIMEDOUT:
                throw .timedOut("\(Self.hostOf(request.url)) did not answer within \(ms) ms")
            case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE:
                throw .tls("\(Self.hostOf(request.url)): \(message)")
            case CURLE_WRITE_ERROR where sink.overflow:
                throw .tooLarge(limit: maxResponseBytes)
            default:
                throw .failed("\(Self.hostOf(request.url)): \(message)")
            }
        }
        var status = 0
        tower_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }

    /// Scheme, host and port only: URLs may carry query strings that do not belong in messages.
    static func hostOf(_ url: String) -> String {
        guard let c = URLComponents(string: url), let host = c.host else { return "the server" }
        return "\(c.scheme ?? "http")://\(host)\(c.port.map { ":\($0)" } ?? "")"
    }
}
