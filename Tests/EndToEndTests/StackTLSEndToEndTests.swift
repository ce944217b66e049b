import Foundation
import Testing
import TowerHTTP
import TowerSim
import TowerStack

/// `tower-sim stack --tls`: the registry over TLS with the stack's own CA, Envoy fetching its xDS
/// over mutual TLS with its certificate (no token), and the console signing in with the operator's
/// certificate (no token either). A shift from the console reaches Envoy, and the audit names the
/// certificate.
@Suite(.serialized) struct StackTLSEndToEndTests {
    @Test func aShiftFromTheConsoleOverMutualTLSReachesEnvoy() throws {
        let s = try StackEndToEndTests.StackProcess(rateScale: 0.5, extra: ["--tls"])
        defer { s.cleanUp() }
        let tls = try #require(s.m.tls, "stack.json has no tls block")
        #expect(s.m.registry.hasPrefix("https://127.0.0.1:"))
        let config = try String(contentsOfFile: s.config + "/tower/config.yaml", encoding: .utf8)
        #expect(config.contains("https://127.0.0.1:") && config.contains(tls.operator.certFile) && !config.contains("tokenFile: \(s.m.tokens.operator)"),
                "the local context signs in with the certificate, no token: \(config)")

        // Envoy took the seed's routes over TLS, and holds no token.
        #expect(StackEndToEndTests.untilEnvoyRoutes(s, ["v1": 90, "v2": 10], timeout: 10) != nil, "Envoy starts with the seed's 90/10")
        let dump = try CurlSession().perform(HTTPRequest(url: s.m.envoy.admin + "/config_dump")).text
        #expect(dump.contains("UpstreamTlsContext") && !dump.contains("tower_token"), "Envoy's bootstrap: mutual TLS, no token")
        // The registry refuses anyone without a credential: the console below gets in by its certificate alone.
        let anonymous = try CurlSession(HTTPOptions(tls: TLSOptions(caBundle: tls.caFile))).perform(HTTPRequest(url: s.m.registry + "/v1/endpoints"))
        #expect(anonymous.status == 401)

        let term = try StackEndToEndTests.console(s)
        defer { term.kill() }
        term.keys("s")
        #expect(term.waitFor("Set weights of alpha").found)
        term.keys("BSpace", "BSpace")
        term.type("60")
        term.keys("Tab", "BSpace", "BSpace")
        term.type("40")
        term.keys("Tab")
        term.type("60/40 over mTLS")
        term.keys("Enter")
        #expect(term.waitFor("alpha: revision 2 applied").found, "\(term.screen())")
        #expect(StackEndToEndTests.untilEnvoyRoutes(s, ["v1": 60, "v2": 40]) != nil,
                "Envoy routes 60/40 within 3 s: \(String(describing: StackEndToEndTests.envoyWeights(s)))")
        let before = try StackEndToEndTests.envoyCounts(s)
        let codes = StackEndToEndTests.send(s, 300)
        let after = try StackEndToEndTests.envoyCounts(s)
        let v1 = (after["v1"] ?? 0) - (before["v1"] ?? 0), v2 = (after["v2"] ?? 0) - (before["v2"] ?? 0)
        #expect(codes[200, default: 0] + codes[500, default: 0] == 300, "every request answered by a model: \(codes)")
        // Background load adds to the counters too, at the same split.
        let share = Double(v1) / Double(max(1, v1 + v2)) * 100
        #expect(v1 + v2 >= 300 && abs(share - 60) <= 8, "Envoy's own counters: v1 \(v1), v2 \(v2) → \(share)% to v1")
        term.keys("q")

        // The audit's actor is the operator's certificate: its subject and SHA-256 fingerprint.
        let otto = CurlSession(HTTPOptions(tls: TLSOptions(caBundle: tls.caFile, clientCertificate: tls.operator.certFile,
                                                           clientKey: tls.operator.keyFile)))
        let audit = try otto.perform(HTTPRequest(url: s.m.registry + "/v1/audit")).text
        let fingerprint = try TestPKI.openssl(["x509", "-in", tls.operator.certFile, "-noout", "-fingerprint", "-sha256"])
            .split(separator: "=").last.map { $0.replacingOccurrences(of: ":", with: "").trimmingCharacters(in: .whitespacesAndNewlines).lowercased() } ?? "?"
        #expect(audit.contains("otto (cert ") && audit.contains("CN=otto") && audit.contains("sha256:\(fingerprint)"), "\(audit)")
        #expect(audit.contains("60/40 over mTLS"))
    }
}
