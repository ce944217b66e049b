import Foundation
import NIOSSL
import PostgresNIO
import TowerDomain

/// Where the registry's PostgreSQL database is, as libpq spells it:
/// `postgres://USER@HOST:PORT/DB?sslmode=…&sslrootcert=…` (`host=/dir` for a Unix socket folder).
/// The password never rides in the URL (command lines are visible to every local user); it comes
/// from a password file.
public struct PostgresStoreURL: Sendable, Equatable {
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    /// A folder holding the server's Unix socket (`.s.PGSQL.PORT`), instead of TCP to `host`.
    public var socketDirectory: String?
    public var sslMode: SSLMode
    public var sslRootCert: String?

    public static func isPostgres(_ s: String) -> Bool {
        s.hasPrefix("postgres://") || s.hasPrefix("postgresql://")
    }

    public init(_ text: String) throws {
        guard Self.isPostgres(text), let c = URLComponents(string: text) else {
            throw PostgresStoreError("--store must look like postgres://USER@HOST:PORT/DATABASE, not '\(text)'")
        }
        if c.password != nil {
            throw PostgresStoreError("--store carries a password, which every local user could read on the command line; put it in --store-password-file or PGPASSFILE instead")
        }
        guard let user = c.user, !user.isEmpty else {
            throw PostgresStoreError("--store names no user: postgres://USER@HOST:PORT/DATABASE")
        }
        let db = String(c.path.drop { $0 == "/" })
        guard !db.isEmpty, !db.contains("/") else {
            throw PostgresStoreError("--store names no database: postgres://USER@HOST:PORT/DATABASE")
        }
        self.user = user.removingPercentEncoding ?? user
        self.database = db.removingPercentEncoding ?? db
        self.host = c.host ?? "localhost"
        self.port = c.port ?? 5432
        var mode = SSLMode.prefer, root: String? = nil, socket: String? = nil
        for item in c.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let m = item.value.flatMap(SSLMode.init(rawValue:)) else {
                    throw PostgresStoreError("sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", ")), not '\(item.value ?? "")'")
                }
                mode = m
            case "sslrootcert": root = item.value
            case "host":
                guard let v = item.value, v.hasPrefix("/") else { throw PostgresStoreError("host= in --store must be a socket folder (an absolute path)") }
                socket = v
            default:
                throw PostgresStoreError("--store option '\(item.name)' is not understood (known: sslmode, sslrootcert, host)")
            }
        }
        if let root, !FileManager.default.isReadableFile(atPath: root) {
            throw PostgresStoreError("cannot read sslrootcert \(root)")
        }
        if root != nil && (mode == .disable || mode == .allow) {
            throw PostgresStoreError("sslrootcert needs sslmode=verify-ca or verify-full (sslmode is \(mode.rawValue))")
        }
        sslMode = mode
        sslRootCert = root
        socketDirectory = socket
    }

    /// What logs and errors name: never a password.
    public var display: String {
        if let socketDirectory { return "postgres://\(user)@[\(socketDirectory)]:\(port)/\(database)" }
        return "postgres://\(user)@\(host):\(port)/\(database)"
    }

    /// The password for this URL: `passwordFile` when given (which must be private to its owner,
    /// like a token file), else the first matching line of PGPASSFILE (or ~/.pgpass), else none
    /// (trust or peer authentication).
    public func password(passwordFile: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        if let passwordFile {
            if let p = SecretFile.permissionProblem(passwordFile, kind: "password file") { throw PostgresStoreError(p) }
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                throw PostgresStoreError("cannot read the password file \(passwordFile)")
            }
            let p = text.trimmingCharacters(in: .newlines)
            if p.isEmpty { throw PostgresStoreError("the password file \(passwordFile) is empty") }
            return p
        }
        let file = environment["PGPASSFILE"] ?? environment["HOME"].map { $0 + "/.pgpass" }
        guard let file, FileManager.default.fileExists(atPath: file) else { return nil }
        if let p = SecretFile.permissionProblem(file, kind: "password file") { throw PostgresStoreError(p) }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        let hostName = socketDirectory == nil ? host : "localhost"
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let f = Self.pgpassFields(String(line))
            guard f.count == 5 else { continue }
            func matches(_ pattern: String, _ value: String) -> Bool { pattern == "*" || pattern == value }
            if matches(f[0], hostName) && matches(f[1], String(port)) && matches(f[2], database) && matches(f[3], user) {
                return f[4]
            }
        }
        return nil
    }

    /// A .pgpass line's five fields; `\:` and `\\` escape.
    static func pgpassFields(_ line: String) -> [String] {
        var fields: [String] = [], current = "", escaped = false
        for ch in line {
            if escaped { current.append(ch); escaped = false }
            else if ch == "\\" { escaped = true }
            else if ch == ":" && fields.count < 4 { fields.append(current); current = "" }
            else { current.append(ch) }
        }
        fields.append(current)
        return fields
    }
}

/// TLS as libpq's `sslmode` means it, built for PostgresNIO:
/// - `disable`: none. `allow` and `prefer`: TLS when the server offers it, unverified (PostgresNIO
///   has no "plain first" mode, so `allow` behaves as `prefer`).
/// - `require`: TLS or nothing, unverified; with an `sslrootcert`, the chain is verified as with
///   `verify-ca` (as libpq does when a root certificate is given).
/// - `verify-ca`: the server's chain must lead to `sslrootcert` (else to the system's roots).
/// - `verify-full`: that, and the certificate must name the host of the URL: a DNS name among its
///   subject alternative names, or for an IP address, that address among its IP names. No name is
///   handed to PostgresNIO for an IP address (an IP is not a valid SNI name, and NIOSSL refused
///   the handshake outright): NIOSSL then checks the connected address against the IP names.
extension PostgresStoreURL {
    func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
        guard sslMode != .disable else { return .disable }
        var t = TLSConfiguration.makeClientConfiguration()
        t.minimumTLSVersion = .tlsv12
        switch sslMode {
        case .verifyFull: t.certificateVerification = .fullVerification
        case .verifyCA: t.certificateVerification = .noHostnameVerification
        case .require where sslRootCert != nil: t.certificateVerification = .noHostnameVerification
        default: t.certificateVerification = .none
        }
        if let root = sslRootCert {
            // Read here, so that a file that is not a certificate is said at start, by its name.
            let certificates: [NIOSSLCertificate]
            do { certificates = try NIOSSLCertificate.fromPEMFile(root) } catch {
                throw PostgresStoreError("sslrootcert \(root) holds no PEM certificate: \(error)")
            }
            if certificates.isEmpty { throw PostgresStoreError("sslrootcert \(root) holds no PEM certificate") }
            t.trustRoots = .certificates(certificates)
        }
        let context: NIOSSLContext
        do { context = try NIOSSLContext(configuration: t) } catch {
            throw PostgresStoreError("cannot set up TLS for \(display): \(error)")
        }
        return sslMode == .allow || sslMode == .prefer ? .prefer(context) : .require(context)
    }

    /// A connection refused for a reason of TLS, as a sentence saying what to change; nil when
    /// `error` is not about TLS. (PostgresNIO wraps NIOSSL's errors, whose own text is BoringSSL's.)
    func tlsFailure(_ error: any Error) -> PostgresStoreError? {
        guard let e = error as? PSQLError else { return nil }
        if e.code == .server, let info = e.serverInfo, info[.sqlState] == "28000",
           let message = info[.message], message.contains("no encryption") {
            return PostgresStoreError("PostgreSQL at \(display) accepts only TLS connections from here (pg_hba.conf hostssl), and sslmode is \(sslMode.rawValue): use sslmode=verify-full with sslrootcert=CA.pem (or require)")
        }
        guard let underlying = e.underlying else { return nil }
        let text = String(reflecting: underlying)
        let root = sslRootCert.map { "the CA in sslrootcert \($0)" } ?? "the system's trusted CAs (give sslrootcert=CA.pem)"
        if let extra = underlying as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return PostgresStoreError("PostgreSQL at \(display) presented a certificate that does not name \(host) (sslmode=verify-full): connect by a name the certificate carries, or use sslmode=verify-ca to check the CA alone")
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
            return PostgresStoreError("PostgreSQL at \(display) presented a certificate not signed by \(root) (sslmode=\(sslMode.rawValue)): \(text)")
        }
        if underlying is NIOSSLError || underlying is BoringSSLError {
            return PostgresStoreError("the TLS handshake with PostgreSQL at \(display) failed (sslmode=\(sslMode.rawValue)): \(text)")
        }
        return nil
    }
}

/// A sentence about the PostgreSQL store, for people: what failed and what to do.
public struct PostgresStoreError: Error, Sendable, CustomStringConvertible {
    public var detail: String
    public init(_ detail: String) { self.detail = detail }
    public var description: String { detail }
}
