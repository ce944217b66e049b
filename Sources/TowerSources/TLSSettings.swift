import Foundation
import TowerDomain
import TowerHTTP

/// A context's `tls:` block, for the registry and, as `metrics.tls` and `traces.tls`, for the
/// sources: which CA to trust, which client certificate to present, and which name the server's
/// certificate must carry. Keys are read from files only, and a key file open to its group or
/// others is refused, as ssh does.
public struct ContextTLS: Codable, Sendable, Equatable {
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    /// A file holding the passphrase of an encrypted `keyFile` (PKCS#8), private to its owner like
    /// a token file: a passphrase never comes from the command line.
    public var keyPasswordFile: String?
    public var serverName: String?
    /// Turns verification of the server off: marked `TLS UNVERIFIED` in the console's header and
    /// in `tower status`, since anyone on the path can then read and change the traffic.
    public var insecureSkipVerify: Bool?

    public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, serverName: String? = nil,
                insecureSkipVerify: Bool? = nil, keyPasswordFile: String? = nil) {
        self.caFile = caFile; self.certFile = certFile; self.keyFile = keyFile; self.serverName = serverName
        self.insecureSkipVerify = insecureSkipVerify; self.keyPasswordFile = keyPasswordFile
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case caFile, certFile, keyFile, keyPasswordFile, serverName, insecureSkipVerify }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
        certFile = try c.decodeIfPresent(String.self, forKey: .certFile)
        keyFile = try c.decodeIfPresent(String.self, forKey: .keyFile)
        keyPasswordFile = try c.decodeIfPresent(String.self, forKey: .keyPasswordFile)
        serverName = try c.decodeIfPresent(String.self, forKey: .serverName)
        insecureSkipVerify = try c.decodeIfPresent(Bool.self, forKey: .insecureSkipVerify)
        if (certFile == nil) != (keyFile == nil) {
            throw StrictKeys.invalid(c, certFile == nil ? .certFile : .keyFile, "certFile and keyFile go together")
        }
        if keyPasswordFile != nil && keyFile == nil {
            throw StrictKeys.invalid(c, .keyPasswordFile, "is the passphrase of keyFile: give keyFile (and certFile) too")
        }
    }

    public var unverified: Bool { insecureSkipVerify == true }

    /// These settings with `--ca-file`, `--cert-file`, `--key-file`, `--key-password-file` winning
    /// over them (a key given by flag does not take the context's passphrase file with it).
    public func overridden(caFile: String?, certFile: String?, keyFile: String?, keyPasswordFile: String? = nil) -> ContextTLS {
        var t = self
        if let caFile { t.caFile = caFile }
        if let certFile { t.certFile = certFile }
        if let keyFile { t.keyFile = keyFile; t.keyPasswordFile = nil }
        if let keyPasswordFile { t.keyPasswordFile = keyPasswordFile }
        return t
    }

    /// libcurl's options, after checking that the files can be used: errors name the file and the fix.
    public func options() throws(ConfigError) -> TLSOptions {
        func path(_ p: String?) -> String? { p.map { ($0 as NSString).expandingTildeInPath } }
        let ca = path(caFile), cert = path(certFile), key = path(keyFile)
        if (cert == nil) != (key == nil) { throw ConfigError("a client certificate needs its key: give both certFile and keyFile (--cert-file and --key-file)") }
        for (what, file) in [("CA file", ca), ("certificate file", cert), ("key file", key)] {
            guard let file else { continue }
            if !FileManager.default.isReadableFile(atPath: file) { throw ConfigError("cannot read the TLS \(what) \(file)") }
        }
        if let key, let problem = SecretFile.permissionProblem(key, kind: "key file") { throw ConfigError(problem) }
        var password: String?
        if let file = path(keyPasswordFile) {
            if key == nil { throw ConfigError("a key password file is the passphrase of a client key: give keyFile and certFile (--key-file, --cert-file) too") }
            password = try Self.readPassword(file)
        }
        return TLSOptions(verifyPeer: !unverified, caBundle: ca, clientCertificate: cert, clientKey: key, serverName: serverName,
                          keyPassword: password)
    }

    /// The passphrase in `file`: its first line, private to its owner as a token file must be.
    /// Errors name the file, never what is in it.
    static func readPassword(_ file: String) throws(ConfigError) -> String {
        if let problem = SecretFile.permissionProblem(file, kind: "key password file") { throw ConfigError(problem) }
        guard let data = FileManager.default.contents(atPath: file) else { throw ConfigError("cannot read the key password file \(file)") }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) } ?? ""
        if line.isEmpty { throw ConfigError("the key password file \(file) is empty: its first line is the key's passphrase") }
        return line
    }

    /// A transport for one server with these settings.
    public func transport(maxResponseBytes: Int = 32 << 20) throws(ConfigError) -> CurlTransport {
        CurlTransport(HTTPOptions(tls: try options(), maxResponseBytes: maxResponseBytes))
    }
}

extension RegistryClient {
    /// A client of `url` with the token and TLS settings of a context (or of the flags over it).
    public static func make(url: String, token: String?, tls: ContextTLS?) throws(ConfigError) -> RegistryClient {
        guard let tls else { return RegistryClient(baseURL: url, token: token) }
        return RegistryClient(baseURL: url, token: token, transport: try tls.transport())
    }
}
