import Foundation

/// A throwaway CA and certificates made with the `openssl` CLI (`openssl ca`, whose database also
/// revokes and writes CRLs), P-256 keys, in a folder of the test's own.
final class TestPKI: @unchecked Sendable {
    let dir: String

    init(dir: String = NSTemporaryDirectory() + "tower-pki-" + UUID().uuidString) throws {
        self.dir = dir
        try FileManager.default.createDirectory(atPath: dir + "/issued", withIntermediateDirectories: true)
        try """
            [ca]
            default_ca = tower
            [tower]
            dir = \(dir)
            database = \(dir)/index.txt
            new_certs_dir = \(dir)/issued
            serial = \(dir)/serial
            crlnumber = \(dir)/crlnumber
            default_md = sha256
            policy = any
            copy_extensions = copy
            default_crl_days = 7
            unique_subject = no
            [any]
            commonName = supplied
            organizationName = optional
            emailAddress = optional
            [server]
            subjectAltName = IP:127.0.0.1
            [client]
            extendedKeyUsage = clientAuth
            """.write(toFile: dir + "/ca.cnf", atomically: true, encoding: .utf8)
        try "".write(toFile: dir + "/index.txt", atomically: true, encoding: .utf8)
        try "1000\n".write(toFile: dir + "/serial", atomically: true, encoding: .utf8)
        try "1000\n".write(toFile: dir + "/crlnumber", atomically: true, encoding: .utf8)
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-keyout", dir + "/ca.key", "-out", dir + "/ca.pem", "-days", "30", "-subj", "/CN=Tower Test CA"])
    }

    var caFile: String { dir + "/ca.pem" }
    func cert(_ name: String) -> String { "\(dir)/\(name).pem" }
    func key(_ name: String) -> String { "\(dir)/\(name).key" }
    var crlFile: String { dir + "/crl.pem" }

    /// A certificate signed by the CA, `server` (SAN IP:127.0.0.1) or `client`; `expired` puts
    /// its whole validity in 2020. Its key is mode 0600.
    func issue(_ name: String, subject: String, profile: String = "client", expired: Bool = false) throws {
        try Self.openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-keyout", key(name), "-out", "\(dir)/\(name).csr", "-subj", subject])
        let dates = expired ? ["-startdate", "20200101000000Z", "-enddate", "20200102000000Z"] : ["-days", "30"]
        try Self.openssl(["ca", "-batch", "-config", dir + "/ca.cnf", "-cert", caFile, "-keyfile", dir + "/ca.key",
                          "-extensions", profile, "-notext", "-in", "\(dir)/\(name).csr", "-out", cert(name)] + dates)
        chmod(key(name), 0o600)
    }

    /// A self-signed certificate from no CA the server knows.
    func selfSigned(_ name: String, subject: String) throws {
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-keyout", key(name), "-out", cert(name), "-days", "30", "-subj", subject])
        chmod(key(name), 0o600)
    }

    /// Revokes `name` and writes the CA's CRL again (crl.pem).
    func revoke(_ name: String) throws {
        try Self.openssl(["ca", "-config", dir + "/ca.cnf", "-cert", caFile, "-keyfile", dir + "/ca.key", "-revoke", cert(name)])
        try writeCRL()
    }

    func writeCRL() throws {
        try Self.openssl(["ca", "-config", dir + "/ca.cnf", "-cert", caFile, "-keyfile", dir + "/ca.key", "-gencrl", "-out", crlFile + ".new"])
        _ = rename(crlFile + ".new", crlFile)
    }

    /// SHA-256 of the certificate's DER, lower-case hex, as the registry's audit writes it.
    func fingerprint(_ name: String) throws -> String {
        let out = try Self.openssl(["x509", "-in", cert(name), "-noout", "-fingerprint", "-sha256"])
        guard let hex = out.split(separator: "=").last else { throw E2EError("no fingerprint in \(out)") }
        return hex.replacingOccurrences(of: ":", with: "").trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: dir) }

    @discardableResult
    static func openssl(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["openssl"] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw E2EError("openssl \(args.prefix(2).joined(separator: " ")) failed: \(String(decoding: e, as: UTF8.self))")
        }
        return String(decoding: o, as: UTF8.self)
    }
}
