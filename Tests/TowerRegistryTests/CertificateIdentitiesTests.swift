import Testing
import TowerDomain
@testable import TowerRegistry

/// The identities file: globs on CN, subject and SANs, first match wins, name defaults to the CN.
@Suite struct CertificateIdentitiesTests {
    static let file = """
        - match: {cn: "alice", subject: "*O=Tower*"}
          role: operator
        - match: {sanEmail: "*@ops.example"}
          role: viewer
          name: ops-reader
        - match: {sanDNS: "envoy-*.internal"}
          role: gateway
        - match: {cn: "*"}
          role: viewer
        """

    func cert(_ cn: String?, subject: String, emails: [String] = [], dns: [String] = []) -> PeerCertificate {
        PeerCertificate(subject: subject, commonName: cn, emails: emails, dnsNames: dns, sha256: String(repeating: "ab", count: 32))
    }

    @Test func firstMatchWinsAndTheNameDefaultsToTheCN() throws {
        let ids = try CertificateIdentities.parse(Self.file, source: "ids.yaml")
        let alice = try #require(ids.principal(for: cert("alice", subject: "O=Tower,CN=alice")))
        #expect(alice.name == "alice" && alice.role == .operator)
        #expect(alice.actor == "alice (cert O=Tower,CN=alice sha256:\(String(repeating: "ab", count: 32)))")
        // alice from another organisation falls through to the catch-all.
        #expect(ids.principal(for: cert("alice", subject: "O=Elsewhere,CN=alice"))?.role == .viewer)
        let reader = try #require(ids.principal(for: cert("x", subject: "CN=x", emails: ["kim@ops.example"])))
        #expect(reader.name == "ops-reader" && reader.role == .viewer)
        #expect(ids.principal(for: cert("e1", subject: "CN=e1", dns: ["envoy-1.internal"]))?.role == .gateway)
        // No CN and nothing else matching: no identity.
        #expect(ids.principal(for: cert(nil, subject: "O=Tower")) == nil)
    }

    @Test func aBadFileIsRefusedWithASentence() {
        #expect(throws: RoutingError.self) { try CertificateIdentities.parse("- match: {}\n  role: viewer\n", source: "f") }
        #expect(throws: RoutingError.self) { try CertificateIdentities.parse("- match: {cn: a}\n  role: root\n", source: "f") }
        #expect(throws: RoutingError.self) { try CertificateIdentities.parse("- match: {cn: a}\n  role: viewer\n  name: 'two words'\n", source: "f") }
    }
}
