import Foundation
import Testing
import TowerSim
import TowerStack
import X509

/// `tower-sim stack --tls`'s CA and certificates, made in-process: each chains to the CA for its
/// purpose, the server's names are those the stack dials, and only the certificates are readable
/// by others.
@Suite struct StackPKITests {
    static func load(_ path: String) throws -> Certificate {
        try Certificate(pemEncoded: String(contentsOfFile: path, encoding: .utf8))
    }

    static func verify(_ leaf: Certificate, ca: Certificate, _ extra: some VerifierPolicy) async -> Bool {
        var verifier = Verifier(rootCertificates: CertificateStore([ca])) {
            RFC5280Policy()
            extra
        }
        if case .validCertificate = await verifier.validate(leaf: leaf, intermediates: CertificateStore()) { return true }
        return false
    }

    @Test func theServerAndTheClientsChainToTheStacksCA() async throws {
        let dir = NSTemporaryDirectory() + "tower-stackpki-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pki = try StackPKI.make(in: dir)
        let ca = try Self.load(pki.caFile)
        let server = try Self.load(pki.cert("server"))
        #expect(await Self.verify(server, ca: ca, ServerIdentityPolicy(serverHostname: nil, serverIP: "127.0.0.1")))
        #expect(await Self.verify(server, ca: ca, ServerIdentityPolicy(serverHostname: "localhost", serverIP: nil)))
        #expect(!(await Self.verify(server, ca: ca, ServerIdentityPolicy(serverHostname: "registry.example", serverIP: nil))),
                "the server certificate names only loopback")
        for name in [StackPKI.operatorName, StackPKI.gatewayName] {
            let client = try Self.load(pki.cert(name))
            #expect(await Self.verify(client, ca: ca, RFC5280Policy()), "\(name)")
            #expect(client.subject.description.contains("CN=\(name)"))
            #expect(try client.extensions.extendedKeyUsage?.contains(.clientAuth) == true)
        }
        // Another run's CA does not vouch for this run's certificates.
        let other = try StackPKI.make(in: dir + "-other")
        defer { try? FileManager.default.removeItem(atPath: dir + "-other") }
        #expect(!(await Self.verify(server, ca: try Self.load(other.caFile), RFC5280Policy())))
    }

    @Test func keysArePrivateAndTheCAKeyIsNotKept() throws {
        let dir = NSTemporaryDirectory() + "tower-stackpki-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pki = try StackPKI.make(in: dir)
        func mode(_ p: String) throws -> Int {
            try (FileManager.default.attributesOfItem(atPath: p)[.posixPermissions] as? NSNumber)?.intValue ?? -1
        }
        for name in ["server", StackPKI.operatorName, StackPKI.gatewayName] {
            #expect(try mode(pki.key(name)) == 0o600, "\(name).key")
            #expect(try String(contentsOfFile: pki.key(name), encoding: .utf8).hasPrefix("-----BEGIN PRIVATE KEY-----"))
        }
        #expect(try mode(dir) == 0o700)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(!files.contains { $0.hasPrefix("ca") && $0.hasSuffix(".key") }, "\(files)")
        #expect(try String(contentsOfFile: pki.identitiesFile, encoding: .utf8).contains(#"cn: "otto""#))
    }
}
