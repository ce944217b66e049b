import Foundation
import Testing
import TowerHTTP
@testable import TowerSources

/// A context's `tls:`: read strictly, key files refused when others may read them (naming the
/// chmod), flags winning over the context, and `insecureSkipVerify` visible as unverified.
@Suite struct ContextTLSTests {
    static func dir() throws -> String {
        let d = NSTemporaryDirectory() + "tower-ctx-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        for f in ["ca.pem", "me.pem", "me.key"] { try "x".write(toFile: d + "/" + f, atomically: true, encoding: .utf8) }
        chmod(d + "/me.key", 0o600)
        return d
    }

    @Test func theFilesBecomeLibcurlOptionsAndAnOpenKeyIsRefused() throws {
        let d = try Self.dir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let tls = ContextTLS(caFile: d + "/ca.pem", certFile: d + "/me.pem", keyFile: d + "/me.key", serverName: "registry.prod")
        let o = try tls.options()
        #expect(o == TLSOptions(verifyPeer: true, caBundle: d + "/ca.pem", clientCertificate: d + "/me.pem", clientKey: d + "/me.key", serverName: "registry.prod"))
        chmod(d + "/me.key", 0o640)
        #expect { try tls.options() } throws: { ($0 as? ConfigError)?.description.contains("chmod 600 \(d)/me.key") == true }
        #expect { try ContextTLS(caFile: d + "/none.pem").options() } throws: { ($0 as? ConfigError)?.description.contains("cannot read the TLS CA file") == true }
        #expect(try ContextTLS(insecureSkipVerify: true).options().verifyPeer == false)
    }

    @Test func contextsReadTLSStrictlyAndFlagsWin() throws {
        let yaml = """
            contexts:
              - name: prod
                registry: https://registry.prod:8443
                tls: {caFile: /ca.pem, certFile: /me.pem, keyFile: /me.key}
                metrics: {prometheus: "https://prom", tls: {caFile: /prom-ca.pem, insecureSkipVerify: true}}
            """
        let cfg = try TowerConfig.parse(yaml, file: "config.yaml")
        let prod = try #require(cfg.contexts.first)
        #expect(prod.tls?.caFile == "/ca.pem" && prod.metrics?.tls?.caFile == "/prom-ca.pem")
        #expect(prod.tlsUnverified && prod.tls?.unverified == false)
        #expect(prod.tls?.overridden(caFile: "/other.pem", certFile: nil, keyFile: nil).caFile == "/other.pem")
        #expect(throws: (any Error).self) { try TowerConfig.parse("contexts: [{name: a, registry: https://r, tls: {cafile: /x}}]", file: "c") }
        #expect(throws: (any Error).self) { try TowerConfig.parse("contexts: [{name: a, registry: https://r, tls: {certFile: /x}}]", file: "c") }
    }

    @Test func anEncryptedKeysPassphraseComesFromAPrivateFile() throws {
        let d = try Self.dir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let pw = d + "/me.pass"
        try "correct horse\nsecond line ignored\n".write(toFile: pw, atomically: true, encoding: .utf8)
        chmod(pw, 0o600)
        let tls = ContextTLS(certFile: d + "/me.pem", keyFile: d + "/me.key", keyPasswordFile: pw)
        let o = try tls.options()
        #expect(o.keyPassword == "correct horse" && o.clientKey == d + "/me.key")
        #expect(!o.description.contains("correct horse") && o.description.contains("keyPassword: (set)"), "\(o)")

        // Readable by others: refused as a token file is, naming the chmod; the passphrase is not in the sentence.
        chmod(pw, 0o644)
        #expect { try tls.options() } throws: {
            let m = ($0 as? ConfigError)?.description ?? ""
            return m.contains("key password file \(pw)") && m.contains("chmod 600 \(pw)") && !m.contains("correct horse")
        }
        try "\n".write(toFile: pw, atomically: true, encoding: .utf8)
        chmod(pw, 0o600)
        #expect { try tls.options() } throws: { ($0 as? ConfigError)?.description.contains("is empty") == true }

        // In a context: read strictly, and only beside a key.
        let cfg = try TowerConfig.parse(
            "contexts: [{name: a, registry: https://r, tls: {certFile: /me.pem, keyFile: /me.key, keyPasswordFile: /me.pass}}]", file: "c")
        #expect(cfg.contexts.first?.tls?.keyPasswordFile == "/me.pass")
        #expect { try TowerConfig.parse("contexts: [{name: a, registry: https://r, tls: {keyPasswordFile: /me.pass}}]", file: "c") } throws: {
            "\($0)".contains("keyPasswordFile")
        }
        // A key given by flag does not borrow the context's passphrase file; --key-password-file sets one.
        let context = ContextTLS(certFile: "/me.pem", keyFile: "/me.key", keyPasswordFile: "/me.pass")
        #expect(context.overridden(caFile: nil, certFile: "/you.pem", keyFile: "/you.key").keyPasswordFile == nil)
        #expect(context.overridden(caFile: nil, certFile: nil, keyFile: nil, keyPasswordFile: "/other.pass").keyPasswordFile == "/other.pass")
    }
}
