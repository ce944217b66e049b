import Foundation
import Testing
import X509
@testable import TowerRegistryTLS
import TowerSim

/// CRLs made by `openssl ca`: the revoked serials are read, and a list not signed by the client CA
/// is refused rather than trusted.
@Suite struct RevocationListTests {
    /// posix_spawn (`ChildProcess`), not Foundation's `Process`: its `run()` crashed in memmove
    /// while other suites started processes at the same time.
    static func sh(_ script: String, in dir: String) throws {
        let log = dir + "/sh.log"
        let p = try ChildProcess(name: "sh", executable: "/bin/sh", arguments: ["-ec", "cd '\(dir)'\n" + script], logPath: log)
        p.waitUntilExit()
        try #require(p.exitCode == 0, "openssl script failed: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    /// Two CAs, `ca` and `other`, each with its own CRL; `ca` has revoked serial 1001.
    static func make() throws -> String {
        let dir = NSTemporaryDirectory() + "tower-crl-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try sh("""
            for n in ca other; do
              mkdir $n; touch $n/index.txt; echo 1000 > $n/serial; echo 1000 > $n/crlnumber
              printf '[ca]\\ndefault_ca=x\\n[x]\\ndatabase=%s/index.txt\\nnew_certs_dir=%s\\nserial=%s/serial\\ncrlnumber=%s/crlnumber\\ndefault_md=sha256\\npolicy=p\\ndefault_crl_days=1\\n[p]\\ncommonName=supplied\\n' $n $n $n $n > $n/ca.cnf
              openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $n/ca.key -out $n/ca.pem -days 1 -subj "/CN=$n CA"
            done
            for c in a b; do
              openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $c.key -out $c.csr -subj "/CN=$c"
              openssl ca -batch -config ca/ca.cnf -cert ca/ca.pem -keyfile ca/ca.key -days 1 -in $c.csr -out $c.pem
            done
            openssl ca -config ca/ca.cnf -cert ca/ca.pem -keyfile ca/ca.key -revoke b.pem
            openssl ca -config ca/ca.cnf -cert ca/ca.pem -keyfile ca/ca.key -gencrl -out crl.pem
            openssl crl -in crl.pem -outform DER -out crl.der
            openssl ca -config other/ca.cnf -cert other/ca.pem -keyfile other/ca.key -gencrl -out other-crl.pem
            """, in: dir)
        return dir
    }

    static func certificate(_ path: String) throws -> Certificate {
        try Certificate(pemEncoded: try String(contentsOfFile: path, encoding: .utf8))
    }

    @Test func theRevokedSerialsAreReadFromPEMAndDER() throws {
        let dir = try Self.make()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ca = try Self.certificate(dir + "/ca/ca.pem")
        for file in ["crl.pem", "crl.der"] {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file)))
            let list = try RevocationList(bytes: bytes, issuers: [ca], source: file)
            #expect(list.revoked == [[0x10, 0x01]], "\(file)")
            #expect(list.revokes(try Self.certificate(dir + "/b.pem")))
            #expect(!list.revokes(try Self.certificate(dir + "/a.pem")))
        }
    }

    @Test func aListNotSignedByTheClientCAIsRefused() throws {
        let dir = try Self.make()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ca = try Self.certificate(dir + "/ca/ca.pem")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/other-crl.pem")))
        #expect(throws: RevocationList.Invalid.self) { try RevocationList(bytes: bytes, issuers: [ca], source: "other-crl.pem") }
        // The right issuer's name with a forged signature: one byte of the signed part changed.
        var der = try #require(RevocationList.pemBody(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/crl.pem")))))
        let at = try #require(der.indices.dropFirst(40).first)
        der[at] ^= 0x01
        #expect(throws: (any Error).self) { try RevocationList(bytes: der, issuers: [ca], source: "forged") }
        #expect(throws: RevocationList.Invalid.self) { try RevocationList(bytes: Array("not a list".utf8), issuers: [ca], source: "junk") }
    }
}
