import Foundation
import Testing
import TowerRegistry
import TowerSim
import TowerStorePostgres

/// The registry's store over TLS against a real PostgreSQL (`ssl=on`, a certificate for
/// `localhost` and the IP 127.0.0.2 made by `openssl` under a CA of the test's, pg_hba.conf taking TLS connections
/// only), each `sslmode` doing what libpq's does.
@Suite(.serialized) struct PostgresTLSTests {
    /// One server for the suite: its own (it is restarted with TLS on), stopped with the process.
    static let setUp: Result<(server: PostgresServer, pki: String), any Error> = Result {
        let pki = NSTemporaryDirectory() + "tower-pgtls-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        try sh("""
            for n in ca other; do
              openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $n.key -out $n.pem -days 1 -subj "/CN=$n CA"
            done
            openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.2\\nextendedKeyUsage=serverAuth\\n' > ext.cnf
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile ext.cnf -out server.pem
            """, in: pki)
        let server = try PostgresServer(dir: NSTemporaryDirectory() + "tower-pgtls-db-" + UUID().uuidString.prefix(8), durable: false)
        server.stopWhenThisProcessEnds()
        _ = try server.createDatabase("tls")
        server.stop()
        let cert = try server.install(try String(contentsOfFile: pki + "/server.pem", encoding: .utf8), as: "server.pem")
        let key = try server.install(try String(contentsOfFile: pki + "/server.key", encoding: .utf8), as: "server.key")
        // The Unix socket for the tools; over TCP, TLS or nothing.
        try server.install("local all all trust\nhostssl all all 127.0.0.0/8 trust\nhostssl all all ::1/128 trust\n", as: "pg_hba.conf", inData: true)
        // Also on 127.0.0.2, the address the certificate names (as an IP name), beside 127.0.0.1, which it does not.
        try server.start(settings: ["ssl=on", "ssl_cert_file=\(cert)", "ssl_key_file=\(key)", "listen_addresses=127.0.0.1,127.0.0.2"])
        return (server, pki)
    }

    static func sh(_ script: String, in dir: String) throws {
        let log = dir + "/sh.log"
        let p = try ChildProcess(name: "sh", executable: "/bin/sh", arguments: ["-ec", "cd '\(dir)'\n" + script], logPath: log)
        p.waitUntilExit()
        try #require(p.exitCode == 0, "openssl failed: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    /// Connects as the registry does; whether the session is encrypted, or the sentence refusing it.
    static func connect(host: String, _ query: String) throws -> Result<Bool, PostgresStoreError> {
        let (server, _) = try setUp.get()
        let url = try PostgresStoreURL("postgres://tower@\(host):\(server.port)/tls?\(query)")
        do {
            let backend = try PostgresBackend(url: url, password: nil)
            let ssl = try backend.read { db in try Int64.fetchOne(db, sql: "SELECT CASE WHEN ssl THEN 1 ELSE 0 END FROM pg_stat_ssl WHERE pid = pg_backend_pid()") }
            return .success(ssl == 1)
        } catch let e as PostgresStoreError {
            return .failure(e)
        }
    }

    static func encrypted(_ r: Result<Bool, PostgresStoreError>) -> Bool {
        if case .success(true) = r { return true }
        return false
    }

    static var ca: String { ((try? setUp.get().pki) ?? "") + "/ca.pem" }
    static var other: String { ((try? setUp.get().pki) ?? "") + "/other.pem" }

    @Test(.enabled(if: PostgresServer.binaries() != nil))
    func verifyFullWithTheRightCAAndNameConnectsOverTLS() throws {
        let r = try Self.connect(host: "localhost", "sslmode=verify-full&sslrootcert=\(Self.ca)")
        #expect(Self.encrypted(r), "\(r)")
    }

    /// An IP address is not a valid SNI name: handed to PostgresNIO as the server name, NIOSSL
    /// refused every verify-full connection to an address before the handshake.
    @Test(.enabled(if: PostgresServer.binaries() != nil))
    func verifyFullToAnAddressTheCertificateNamesConnects() throws {
        let r = try Self.connect(host: "127.0.0.2", "sslmode=verify-full&sslrootcert=\(Self.ca)")
        #expect(Self.encrypted(r), "\(r)")
    }

    @Test(.enabled(if: PostgresServer.binaries() != nil))
    func anotherCAIsRefusedInASentence() throws {
        for mode in ["verify-full", "verify-ca", "require"] {
            let r = try Self.connect(host: "localhost", "sslmode=\(mode)&sslrootcert=\(Self.other)")
            guard case .failure(let e) = r else { Issue.record("\(mode) with another CA connected"); continue }
            #expect(e.detail.contains("presented a certificate not signed by the CA in sslrootcert \(Self.other)"), "\(mode): \(e.detail)")
        }
    }

    @Test(.enabled(if: PostgresServer.binaries() != nil))
    func aNameNotInTheCertificateFailsVerifyFullButNotVerifyCA() throws {
        let full = try Self.connect(host: "127.0.0.1", "sslmode=verify-full&sslrootcert=\(Self.ca)")
        guard case .failure(let e) = full else { Issue.record("verify-full accepted a certificate that names localhost only, for 127.0.0.1"); return }
        #expect(e.detail.contains("a certificate that does not name 127.0.0.1"), "\(e.detail)")
        #expect(e.detail.contains("verify-ca"), "it says what else can be done: \(e.detail)")
        let r = try Self.connect(host: "127.0.0.1", "sslmode=verify-ca&sslrootcert=\(Self.ca)")
        #expect(Self.encrypted(r), "\(r)")
    }

    @Test(.enabled(if: PostgresServer.binaries() != nil))
    func requireWithoutARootEncryptsUnverified() throws {
        let required = try Self.connect(host: "127.0.0.1", "sslmode=require")
        #expect(Self.encrypted(required), "\(required)")
        let preferred = try Self.connect(host: "127.0.0.1", "sslmode=prefer")
        #expect(Self.encrypted(preferred), "\(preferred)")
    }

    @Test(.enabled(if: PostgresServer.binaries() != nil))
    func disableAgainstAServerTakingOnlyTLSIsSaidClearly() throws {
        let r = try Self.connect(host: "127.0.0.1", "sslmode=disable")
        guard case .failure(let e) = r else { Issue.record("a plain connection got through pg_hba.conf's hostssl"); return }
        #expect(e.detail.contains("accepts only TLS connections") && e.detail.contains("sslmode is disable"), "\(e.detail)")
    }

    @Test(.enabled(if: PostgresServer.binaries() != nil))
    func aRootFileThatIsNoCertificateIsSaidAtStart() throws {
        let junk = try Self.setUp.get().pki + "/junk.pem"
        try "not a certificate\n".write(toFile: junk, atomically: true, encoding: .utf8)
        let r = try Self.connect(host: "localhost", "sslmode=verify-full&sslrootcert=\(junk)")
        guard case .failure(let e) = r else { Issue.record("a junk sslrootcert was accepted"); return }
        #expect(e.detail.contains("sslrootcert \(junk) holds no PEM certificate"), "\(e.detail)")
    }
}
