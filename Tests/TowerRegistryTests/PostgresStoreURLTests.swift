import Foundation
import Testing
import TowerStorePostgres

/// `--store` as libpq spells it, and where the password comes from.
@Suite struct PostgresStoreURLTests {
    @Test func aFullURLIsRead() throws {
        let u = try PostgresStoreURL("postgres://tower@db.example:6543/reg?sslmode=verify-full&sslrootcert=/dev/null")
        #expect(u.user == "tower" && u.host == "db.example" && u.port == 6543 && u.database == "reg")
        #expect(u.sslMode == .verifyFull && u.sslRootCert == "/dev/null" && u.socketDirectory == nil)
        #expect(u.display == "postgres://tower@db.example:6543/reg")
        let d = try PostgresStoreURL("postgresql://tower@localhost/reg?host=/run/postgresql")
        #expect(d.port == 5432 && d.sslMode == .prefer && d.socketDirectory == "/run/postgresql")
    }

    @Test(arguments: [
        ("postgres://tower:secret@h/db", "carries a password"),
        ("postgres://h/db", "names no user"),
        ("postgres://tower@h/", "names no database"),
        ("postgres://tower@h/db?sslmode=maybe", "sslmode must be one of"),
        ("postgres://tower@h/db?sslmode=disable&sslrootcert=/dev/null", "sslrootcert needs sslmode=verify-ca or verify-full"),
        ("postgres://tower@h/db?sslrootcert=/nonexistent/ca.pem", "cannot read sslrootcert"),
        ("postgres://tower@h/db?application_name=x", "is not understood"),
        ("mysql://tower@h/db", "must look like postgres://"),
    ])
    func badURLsAreRefusedWithASentence(url: String, says: String) {
        #expect { _ = try PostgresStoreURL(url) } throws: { "\($0)".contains(says) }
    }

    @Test func thePasswordComesFromAPrivateFileOrPGPASSFILE() throws {
        let dir = NSTemporaryDirectory() + "tower-pgpass-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let url = try PostgresStoreURL("postgres://tower@db.example:6543/reg")
        let file = dir + "/pw"
        try "s3cret\n".write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        #expect { _ = try url.password(passwordFile: file) } throws: { "\($0)".contains("chmod 600") }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        #expect(try url.password(passwordFile: file) == "s3cret")
        let pgpass = dir + "/pgpass"
        try """
            # comment
            other.example:6543:reg:tower:wrong
            db.example:6543:*:tower:pa\\:ss
            *:*:*:*:fallback
            """.write(toFile: pgpass, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: pgpass)
        #expect(try url.password(passwordFile: nil, environment: ["PGPASSFILE": pgpass]) == "pa:ss")
        let other = try PostgresStoreURL("postgres://someone@elsewhere:1/x")
        #expect(try other.password(passwordFile: nil, environment: ["PGPASSFILE": pgpass]) == "fallback")
        #expect(try url.password(passwordFile: nil, environment: ["PGPASSFILE": dir + "/missing"]) == nil)
    }
}
