import Foundation
import Testing
import TowerDomain
@testable import TowerSources

/// A token file that its group or others can read is refused, as ssh refuses such a key, with a
/// sentence naming the file and the chmod that fixes it (issue 13, item 3).
@Suite struct TokenFileModeTests {
    static func file(mode: Int) throws -> (dir: String, path: String) {
        let dir = NSTemporaryDirectory() + "tower-mode-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/op.token"
        try "twr_secret-value\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return (dir, path)
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660, 0o700 | 0o010])
    func anOpenTokenFileIsRefusedNamingTheFix(_ mode: Int) throws {
        let (dir, path) = try Self.file(mode: mode)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            _ = try TokenSource.readFile(path)
            Issue.record("a token file of mode \(String(mode, radix: 8)) was used")
        } catch {
            #expect(error.description.contains("token file \(path)"))
            #expect(error.description.contains("chmod 600 \(path)"))
            #expect(error.description.contains("0" + String(mode, radix: 8)))
            #expect(!error.description.contains("secret-value"), "never what the file holds")
        }
    }

    @Test(arguments: [0o600, 0o400])
    func aPrivateTokenFileIsRead(_ mode: Int) throws {
        let (dir, path) = try Self.file(mode: mode)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try TokenSource.readFile(path) == "twr_secret-value")
    }

    @Test func aLinkIsJudgedByWhatItPointsTo() throws {
        let (dir, path) = try Self.file(mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let link = dir + "/link.token"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
        #expect(try TokenSource.readFile(link) == "twr_secret-value")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(SecretFile.permissionProblem(link) != nil)
    }
}
