import Foundation
import Testing
@testable import TowerDomain

/// Signed promotion bundles read on their own: every way a file can be wrong is refused with a
/// sentence naming the reason, and a good one reads back exactly what was signed.
@Suite struct PromotionBundleTests {
    static let key = PromotionSigningKey()
    static let now = Timestamp.date(ms: 1_795_000_000_000)
    static let digest = "sha256:" + String(repeating: "3c", count: 32)

    static func entry(seq: Int64, prev: String, version: String = "v3") -> AuditEntry {
        AuditEntry(seq: seq, time: now.addingTimeInterval(Double(seq) - 100), actor: "ci", role: .admin, action: seq == 1 ? .update : .shift,
                   endpoint: "alpha", version: nil, fromRevision: seq, toRevision: seq + 1, reason: "add \(version)",
                   weightsBefore: ["v1": 100], weightsAfter: ["v1": 100, version: 0], override: false, summary: "\(version) added (0)", prevHash: prev)
    }

    static func payload(artifactDigest: String = digest, evaluations: [PromotedEvaluation]? = nil, audit: [AuditEntry]? = nil) -> PromotionPayload {
        let doc = #"{"dataset":"sha256:\#(String(repeating: "d", count: 64))","metrics":{"auc":0.93,"p99LatencyMs":210},"suite":"alpha-eval-2026-11"}"#
        let e1 = entry(seq: 1, prev: AuditEntry.genesisHash)
        return PromotionPayload(sourceRegistry: "reg-0011223344556677", endpoint: "alpha", path: "/v1/models/alpha", owner: "team-vision",
                                version: PromotedVersion(name: "v3", artifact: Artifact(uri: "s3://models/alpha/3", digest: digest), stage: .staging,
                                                         gate: .passed, gateSummary: "auc 0.930 ≥ 0.900"),
                                artifactDigest: artifactDigest,
                                evaluations: evaluations ?? [PromotedEvaluation(document: doc, sha256: "sha256:" + Hex.sha256(Array(doc.utf8)),
                                                                                submittedBy: "ci", submittedAt: now.addingTimeInterval(-50))],
                                audit: audit ?? [e1, entry(seq: 2, prev: e1.hash)], exportedBy: "ada", exportedAt: now.addingTimeInterval(-10))
    }

    static func bundle(_ p: PromotionPayload = payload(), key: PromotionSigningKey = key, id: String = "b-0001", validFor: TimeInterval = 7 * 86400) throws -> [UInt8] {
        try PromotionBundle.sign(p, with: key, id: id, now: now, validFor: validFor)
    }

    static func refusal(_ bytes: [UInt8]) -> PromotionRefusal? {
        do { _ = try PromotionBundle.read(bytes); return nil } catch { return error }
    }

    @Test func aSignedBundleReadsBackWhatWasSignedWithItsSignerAndHash() throws {
        let bytes = try Self.bundle()
        let v = try PromotionBundle.read(bytes)
        #expect(v.payload == Self.payload())
        #expect(v.signed.id == "b-0001" && v.signed.expiresAt == Self.now.addingTimeInterval(7 * 86400))
        #expect(v.signer == Self.key.publicKey)
        #expect(v.sha256 == Hex.sha256(bytes))
        try v.checkTrust(TrustedPromotionKeys([Self.key.publicKey]))
        try v.checkTrust(TrustedPromotionKeys([Self.key.publicKey]), narrowedTo: [Self.key.publicKey.fingerprint])
        try v.checkExpiry(now: Self.now.addingTimeInterval(86400))
        // One line of canonical JSON and a newline: what was signed is what is on disk.
        #expect(bytes.last == 0x0A && !bytes.dropLast().contains(0x0A))
        #expect(try CanonicalJSON.parse(Array(bytes.dropLast())).bytes == Array(bytes.dropLast()))
    }

    @Test func everySingleByteChangedAnywhereIsRefused() throws {
        let bytes = try Self.bundle()
        var accepted: [Int] = []
        for i in bytes.indices {
            for flip: UInt8 in [0x01, 0x20] {
                var b = bytes
                b[i] ^= flip
                if Self.refusal(b) == nil { accepted.append(i) }
            }
        }
        #expect(accepted.isEmpty, "accepted with a byte changed at \(accepted.prefix(10))")
    }

    @Test func everyTruncationIsRefusedAndSaysSo() throws {
        let bytes = try Self.bundle()
        for n in 0..<bytes.count {
            let r = Self.refusal(Array(bytes.prefix(n)))
            #expect(r?.reason == .malformed, "a bundle cut to \(n) bytes was \(r.map { "refused as \($0.reason)" } ?? "accepted")")
        }
        #expect(Self.refusal(Array(bytes.prefix(bytes.count - 1)))?.message.contains("does not end with a newline") == true)
    }

    @Test func aReformattedOrExtendedBundleIsRefusedThoughItsContentIsTheSame() throws {
        let bytes = try Self.bundle()
        let object = try JSONSerialization.jsonObject(with: Data(bytes))
        let pretty = Array(try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) + [0x0A]
        #expect(Self.refusal(pretty)?.message.contains("not in the canonical form") == true)
        // A field added (in canonical order) is not ignored: the signature would not cover what it means.
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: #"{"format":"#, with: #"{"extra":1,"format":"#)
        #expect(Self.refusal(Array(text.utf8))?.message.contains("fields this registry does not know") == true)
        let twice = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: #"{"format":"#, with: #"{"format":"x","format":"#)
        #expect(Self.refusal(Array(twice.utf8))?.message.contains("appears twice") == true)
    }

    @Test func aBundleSignedByAnotherKeyThanItNamesIsRefused() throws {
        let other = PromotionSigningKey()
        let bytes = try Self.bundle(key: other)
        var text = String(decoding: bytes, as: UTF8.self)
        text = text.replacingOccurrences(of: other.publicKey.text, with: Self.key.publicKey.text)
            .replacingOccurrences(of: other.publicKey.fingerprint, with: Self.key.publicKey.fingerprint)
        let r = Self.refusal(Array(text.utf8))
        #expect(r?.reason == .signature && r?.message.contains("does not verify") == true, "\(String(describing: r))")
    }

    @Test func trustIsTheReadersAndTheImporterMayOnlyNarrowIt() throws {
        let other = PromotionSigningKey().publicKey
        let v = try PromotionBundle.read(try Self.bundle())
        func refusal(_ t: TrustedPromotionKeys, _ n: Set<String>?) -> PromotionRefusal? {
            do { try v.checkTrust(t, narrowedTo: n); return nil } catch { return error }
        }
        #expect(refusal(TrustedPromotionKeys(), nil)?.message.contains("trusts no promotion keys") == true)
        #expect(refusal(TrustedPromotionKeys([other]), nil)?.message.contains("which this registry does not trust") == true)
        // Naming the signer on the command line does not make a key the registry does not trust count.
        #expect(refusal(TrustedPromotionKeys([other]), [Self.key.publicKey.fingerprint])?.reason == .untrusted)
        #expect(refusal(TrustedPromotionKeys([other, Self.key.publicKey]), [other.fingerprint])?.message.contains("not among the keys the import names") == true)
        #expect(refusal(TrustedPromotionKeys([other, Self.key.publicKey]), nil) == nil)
    }

    @Test func anExpiredBundleIsRefusedWithItsExpiry() throws {
        let v = try PromotionBundle.read(try Self.bundle(validFor: 3600))
        #expect(throws: PromotionRefusal.self) { try v.checkExpiry(now: Self.now.addingTimeInterval(3600)) }
        do { try v.checkExpiry(now: Self.now.addingTimeInterval(7200)) } catch {
            #expect(error.reason == .expired && error.message.contains("expired at 2026-11-18T"), "\(error)")
        }
        try v.checkExpiry(now: Self.now.addingTimeInterval(3599))
        // A bundle cannot claim more than 90 days, however it was signed.
        #expect(Self.refusal(try Self.bundle(validFor: 91 * 86400))?.reason == .inconsistent)
    }

    @Test func digestsThatDisagreeWithWhatTheyCoverAreRefusedThoughSigned() throws {
        let wrongArtifact = Self.refusal(try Self.bundle(Self.payload(artifactDigest: "sha256:" + String(repeating: "9", count: 64))))
        #expect(wrongArtifact?.reason == .digest && wrongArtifact?.message.contains("is not the digest of v3's artifact") == true)
        var eval = Self.payload().evaluations[0]
        eval.document = eval.document.replacingOccurrences(of: "0.93", with: "0.99")
        #expect(Self.refusal(try Self.bundle(Self.payload(evaluations: [eval])))?.message.contains("evaluation 1 of the bundle does not match its SHA-256") == true)
        var edited = Self.payload().audit
        edited[1].reason = "nothing to see"
        #expect(Self.refusal(try Self.bundle(Self.payload(audit: edited)))?.message.contains("audit entry 2 of the bundle does not match its hash") == true)
    }

    @Test func tooLargeIsRefusedOnItsSizeAndAFileIsNotReadWhole() throws {
        let big = [UInt8](repeating: 0x20, count: PromotionBundle.maxBytes + 1)
        #expect(Self.refusal(big)?.reason == .tooLarge)
        // A sparse 100 MB file: refused after reading at most the cap and a byte.
        let path = NSTemporaryDirectory() + "tower-bundle-100mb-" + UUID().uuidString
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let h = try #require(FileHandle(forWritingAtPath: path))
        try h.truncate(atOffset: 100_000_000)
        try h.close()
        do { _ = try PromotionBundleFile.read(path: path); Issue.record("a 100 MB file was read") } catch {
            #expect(error.reason == .tooLarge && error.message.contains("100000000 bytes"), "\(error)")
        }
        let good = NSTemporaryDirectory() + "tower-bundle-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: good) }
        let bytes = try Self.bundle()
        try Data(bytes).write(to: URL(fileURLWithPath: good))
        #expect(try PromotionBundleFile.read(path: good) == bytes)
    }

    @Test func keysReadBackFromTheirOneLineFormsAndAReadablePrivateKeyIsRefused() throws {
        let pub = Self.key.publicKey
        #expect(try PromotionPublicKey(text: pub.text + " " + pub.fingerprint + "\n") == pub)
        #expect(pub.fingerprint == Hex.sha256(pub.raw) && pub.fingerprint.count == 64)
        #expect(try PromotionSigningKey(text: Self.key.text).publicKey == pub)
        #expect(throws: PromotionKeyError.self) { try PromotionPublicKey(text: "ed25519:" + String(repeating: "A", count: 64)) }
        let trusted = try TrustedPromotionKeys.parse("# ci\n\(pub.text) ci-key\n\n", source: "keys")
        #expect(trusted.keys[pub.fingerprint] == pub)
        #expect(throws: PromotionKeyError.self) { try TrustedPromotionKeys.parse("ed25519:zz\n", source: "keys") }
        let path = NSTemporaryDirectory() + "tower-key-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: path) }
        try (Self.key.text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        do { _ = try PromotionSigningKey.load(path: path); Issue.record("a readable private key was used") } catch {
            #expect(error.message.contains("chmod 600"))
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(try PromotionSigningKey.load(path: path).publicKey == pub)
    }

    /// The fuzz corpus's seed and a guard on the format: a bundle written by an earlier build still
    /// reads (its signature is over bytes this writer must keep producing). Re-recorded with
    /// TOWER_RECORD_FIXTURES=1.
    @Test func theFixtureBundleStillVerifies() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/bundle/valid.json").path
        if ProcessInfo.processInfo.environment["TOWER_RECORD_FIXTURES"] == "1" {
            try Data(try Self.bundle()).write(to: URL(fileURLWithPath: path))
        }
        let bytes = try #require(FileManager.default.contents(atPath: path).map { Array($0) })
        let v = try PromotionBundle.read(bytes)
        #expect(v.payload.endpoint == "alpha" && v.payload.version.name == "v3")
        #expect(try CanonicalJSON.of(v.bundle).bytes + [0x0A] == bytes)
    }
}

@Suite struct CanonicalJSONReaderTests {
    @Test func whatTheWriterWritesTheReaderReadsBack() throws {
        let v = CanonicalJSONTests.tricky
        #expect(try CanonicalJSON.parse(v.bytes) == v)
        #expect(try CanonicalJSON.parse(Array(#" { "b" : [ 1 , -2, "\u00e9\ud83d\ude00" ] , "a":{} } "#.utf8))
                == .object(["a": .object([:]), "b": .array([.int(1), .int(-2), .string("é😀")])]))
    }

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, "appears twice"), (#"{"a":null}"#, "null is not taken"), ("1.5", "only whole numbers"),
        ("1e3", "only whole numbers"), ("01", "must not start with 0"), ("99999999999999999999", "does not fit in 64 bits"),
        (#""\ud800""#, "surrogate"), (#"{"a":1}x"#, "something follows"), (#"{"a":1"#, "truncated"), ("", "empty"),
        (#"["a",]"#, "value was expected"), ("\"a\u{1}\"", "raw control character"), (String(repeating: "[", count: 65), "deeper than 64"),
    ])
    func refusals(input: String, problem: String) {
        do { _ = try CanonicalJSON.parse(Array(input.utf8)); Issue.record("\(input) was read") } catch {
            #expect(error.problem.contains(problem), "\(input): \(error)")
        }
    }
}
