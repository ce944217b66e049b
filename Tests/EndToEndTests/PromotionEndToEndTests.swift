import Foundation
import Testing
import TowerDomain

/// Two real registries (two `tower-registry serve` processes, separate data directories) and the
/// `tower` binary: a version is exported, signed, carried as a file and imported; a second import
/// and a tampered or oversized file are refused with the destination unchanged.
@Suite(.serialized) struct PromotionEndToEndTests {
    static func digest(_ c: Character) -> String { "sha256:" + String(repeating: c, count: 64) }

    @Test func aVersionIsPromotedFromOneRegistryToAnotherAndLandsOnce() throws {
        let src = RegistryProcess(), dst = RegistryProcess()
        defer { src.cleanUp(); dst.cleanUp() }
        let keys = dst.dataDir + "-keys"
        defer { try? FileManager.default.removeItem(atPath: keys) }

        let keygen = try HeadlessVerbTests.tower(["promote", "keygen", "--out", keys, "--output", "json"])
        #expect(keygen.status == 0, "\(keygen.err)")
        let fingerprint = try #require((try JSONSerialization.jsonObject(with: Data(keygen.out.utf8)) as? [String: Any])?["keyId"] as? String)
        let mode = try FileManager.default.attributesOfItem(atPath: keys + "/promotion.key")[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let again = try HeadlessVerbTests.tower(["promote", "keygen", "--out", keys])
        #expect(again.status != 0 && again.err.contains("never overwrites"), "\(again.err)")

        // The source has alpha v3, evaluated under its policy; the destination has alpha v1 and v2,
        // a policy of its own, and trusts the key.
        let policy = "  evaluation: {require: [{metric: auc, min: 0.9}, {metric: p99LatencyMs, max: 300}]}\n"
        for dir in [src.dataDir, dst.dataDir] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let srcSeed = src.dataDir + "/seed.yaml", dstSeed = dst.dataDir + "/seed.yaml"
        try (RegistryProcess.seedYAML + "\n    - {name: v3, artifact: {uri: s3://m/alpha/3, digest: '\(Self.digest("3"))'}, weight: 0, gate: pending, stage: staging}\n" + policy)
            .write(toFile: srcSeed, atomically: true, encoding: .utf8)
        try (RegistryProcess.seedYAML + "\n" + policy).write(toFile: dstSeed, atomically: true, encoding: .utf8)
        let srcAdmin = try HeadlessVerbTests.tokenFile(src, "ada", "admin")
        try src.start(seed: srcSeed, extra: ["--log-level", "warning"])
        let dstAdmin = try HeadlessVerbTests.tokenFile(dst, "ines", "admin")
        try dst.start(seed: dstSeed, extra: ["--log-level", "warning", "--trust-promotion-keys", keys + "/promotion.pub"])
        let results = src.dataDir + "/results.json"
        try #"{"suite": "alpha-eval-2026-11", "dataset": "sha256:\#(String(repeating: "d", count: 64))", "metrics": {"auc": 0.93, "p99LatencyMs": 210}}"#
            .write(toFile: results, atomically: true, encoding: .utf8)
        let submit = try HeadlessVerbTests.tower(["gate", "submit", "alpha", "v3", "--results", results, "--registry", src.url, "--token-file", srcAdmin])
        #expect(submit.status == 0, "\(submit.err)")

        let bundle = dst.dataDir + "/alpha-v3.bundle.json"
        let export = try HeadlessVerbTests.tower(["promote", "export", "alpha", "v3", "--key", keys + "/promotion.key", "-o", bundle,
                                                  "--expires", "1d", "--registry", src.url, "--token-file", srcAdmin])
        #expect(export.status == 0, "\(export.err)")
        #expect(export.out.contains("alpha v3") && export.out.contains(fingerprint))
        let bytes = try #require(FileManager.default.contents(atPath: bundle).map { Array($0) })

        let dstConn = ["--registry", dst.url, "--token-file", dstAdmin]
        let landed = try HeadlessVerbTests.tower(["promote", "import", bundle, "--trust", keys + "/promotion.pub", "--output", "json"] + dstConn)
        #expect(landed.status == 0, "\(landed.err)")
        let result = try Wire.decoder().decode(PromotionImportResult.self, from: Data(landed.out.utf8))
        let v3 = try #require(result.endpoint.version("v3"))
        #expect(v3.weight == 0 && v3.stage == .staging && v3.artifact.digest == Self.digest("3"))
        // The gate is the destination's policy on the carried evidence.
        #expect(v3.gate == .passed && v3.latestEvaluation?.suite == "alpha-eval-2026-11", "\(v3)")
        #expect(result.signer == fingerprint && result.bundleSha256 == Hex.sha256(bytes))
        #expect(v3.promotedFrom?.registry == result.sourceRegistry && result.sourceRegistry.hasPrefix("reg-"))
        let audit = try HeadlessVerbTests.tower(["audit", "--verify", "--limit", "1", "--output", "json"] + dstConn)
        #expect(audit.status == 0 && audit.out.contains("\"bundleSha256\" : \"\(Hex.sha256(bytes))\"") && audit.out.contains("\"signerKey\" : \"\(fingerprint)\""), "\(audit.out)")

        // Refusals: the destination's endpoints and audit identical before and after each.
        func snapshot() throws -> String {
            let s = try HeadlessVerbTests.tower(["status", "--output", "json"] + dstConn)
            let a = try HeadlessVerbTests.tower(["audit", "--limit", "1000", "--output", "json"] + dstConn)
            return s.out + a.out
        }
        var tampered = bytes
        tampered[tampered.count / 2] ^= 0x01
        let tamperedPath = dst.dataDir + "/tampered.json"
        try Data(tampered).write(to: URL(fileURLWithPath: tamperedPath))
        let huge = dst.dataDir + "/huge.json"
        #expect(FileManager.default.createFile(atPath: huge, contents: nil))
        let h = try #require(FileHandle(forWritingAtPath: huge))
        try h.truncate(atOffset: 100_000_000)
        try h.close()
        let stranger = PromotionSigningKey().publicKey.text
        for (name, args, code, says) in [
            ("imported twice", [bundle, "--trust", fingerprint], Int32(3), "was already imported here"),
            ("one byte changed", [tamperedPath, "--trust", fingerprint], Int32(2), "bundle"),
            ("100 MB", [huge, "--trust", fingerprint], Int32(2), "100000000 bytes"),
            ("not a key this import names", [bundle, "--trust", stranger], Int32(2), "not among the keys the import names"),
        ] {
            let before = try snapshot()
            let r = try HeadlessVerbTests.tower(["promote", "import"] + args + dstConn)
            #expect(r.status == code && r.err.contains(says), "\(name): \(r.status) \(r.err)")
            #expect(try snapshot() == before, "\(name) changed the destination")
        }
    }
}
