import Foundation
import Testing
@testable import TowerDomain

/// The bundle's fast reader (`PromotionBundleReader`) against the general path it stands in for:
/// it must read every field the bundle types have, and take only files the general path takes,
/// as the same values.
@Suite struct PromotionBundleReaderTests {
    /// An audit entry with every optional field set and strings that need each of the writer's
    /// escapes, so that every key and every kind of string goes through the reader.
    static func fullEntry(seq: Int64, prev: String) -> AuditEntry {
        AuditEntry(seq: seq, time: PromotionBundleTests.now.addingTimeInterval(Double(seq)), actor: "ci \"bot\"", role: .deployer,
                   action: .importBundle, endpoint: "alpha", version: "v3", fromRevision: seq, toRevision: seq + 1,
                   reason: "line one\nline two\tand a tab, a back\\slash, \u{1} and é → 😀",
                   weightsBefore: ["v1": 100, "v3": 0], weightsAfter: [:], override: true, summary: "v3 imported (0)",
                   sloBefore: "availability 0.999", sloAfter: "availability 0.9995", baselineBefore: "v1", baselineAfter: "v2",
                   judgeBefore: "confidence 0.98", judgeAfter: "confidence 0.99", bundleSha256: String(repeating: "ab", count: 32),
                   signerKey: String(repeating: "cd", count: 32), sourceRegistry: "reg-0011223344556677", prevHash: prev)
    }

    static func fullPayload() -> PromotionPayload {
        var p = PromotionBundleTests.payload()
        let e1 = fullEntry(seq: 1, prev: AuditEntry.genesisHash)
        p.audit = [e1, fullEntry(seq: 2, prev: e1.hash), PromotionBundleTests.entry(seq: 3, prev: AuditEntry.genesisHash)]
        p.version.gateSummary = "auc 0.930 ≥ 0.900 (\"alpha-eval\")"
        return p
    }

    static func body(_ p: PromotionPayload) throws -> [UInt8] { Array(try PromotionBundleTests.bundle(p).dropLast()) }

    /// A field added to a bundle type and not read by the fast reader would send every bundle the
    /// slow way: the reader's keys are the types' stored properties, exactly.
    @Test func theReaderKnowsEveryStoredPropertyOfTheBundleTypes() throws {
        let bundle = try PromotionBundle.read(try PromotionBundleTests.bundle(Self.fullPayload())).bundle
        let values: [Any] = [bundle, bundle.signed, bundle.signature, bundle.signed.payload, bundle.signed.payload.version,
                             bundle.signed.payload.version.artifact, try #require(bundle.signed.payload.evaluations.first),
                             try #require(bundle.signed.payload.audit.first)]
        #expect(Set(values.map { String(describing: type(of: $0)) }) == Set(PromotionBundleReader.fields.keys))
        for v in values {
            let name = String(describing: type(of: v))
            let properties = Set(Mirror(reflecting: v).children.compactMap(\.label))
            #expect(properties == PromotionBundleReader.fields[name], "\(name): the fast reader's keys are not its stored properties")
        }
        // An audit entry's keys are matched in one forward walk: they must be in the writer's order.
        let keys = PromotionBundleReader.AuditKey.allCases.map(\.rawValue)
        #expect(keys == keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    /// Every field set, every escape: taken by the fast reader, as the general path reads it.
    @Test func aBundleWithEveryFieldIsTakenAndReadAsTheGeneralPathReadsIt() throws {
        let body = try Self.body(Self.fullPayload())
        let fast = try #require(PromotionBundle.decodeFast(body))
        let general = try PromotionBundle.decodeGeneral(body)
        #expect(fast.0 == general.0 && fast.1 == general.1)
        #expect(fast.0.signed.payload == Self.fullPayload())
        // And read whole, with the signature and every digest checked.
        let v = try PromotionBundle.read(body + [0x0A])
        #expect(v.payload == Self.fullPayload())
    }

    /// Any byte changed, either way: what the fast reader takes, the general path takes as the same
    /// value; most changes it does not take at all (and the general path then says why).
    @Test func whateverTheFastReaderTakesTheGeneralPathTakesAlike() async throws {
        let body = try Self.body(Self.fullPayload())
        // Tens of thousands of decodes, tens of seconds in a debug build on a busy machine: on a
        // thread of their own. On one of the two threads of Swift's shared pool they stalled every
        // other test in the process, and timers elsewhere missed their bounds on a fresh clone.
        let (taken, differing) = try await withCheckedThrowingContinuation { (c: CheckedContinuation<(Int, [String]), any Error>) in
            Thread {
                c.resume(with: Result {
                    var taken = 0
                    var differing: [String] = []
                    for i in body.indices {
                        for change: UInt8 in [0x01, 0x20, 0x40, 0x80] {
                            var b = body
                            b[i] ^= change
                            guard let fast = PromotionBundle.decodeFast(b) else { continue }
                            taken += 1
                            let general = try PromotionBundle.decodeGeneral(b)
                            if !(fast.0 == general.0 && fast.1 == general.1) { differing.append("byte \(i) ^ \(change)") }
                        }
                    }
                    return (taken, differing)
                })
            }.start()
        }
        #expect(differing.isEmpty, "the fast reader and the general path read these otherwise: \(differing)")
        // Letters within strings change and stay canonical: the comparison above was made.
        #expect(taken > 100)
    }

    /// What the canonical writer never writes is not taken: whitespace, keys out of order or twice,
    /// escapes it does not use, numbers spelled another way, times another way, unknown fields.
    @Test func formsTheWriterNeverWritesAreNotTaken() throws {
        let text = String(decoding: try Self.body(Self.fullPayload()), as: UTF8.self)
        let variants: [(String, String)] = [
            (#"{"format":"#, #"{ "format":"#),
            (#""seq":1,"#, #""seq":01,"#),
            (#""seq":1,"#, #""seq":1.0,"#),
            (#""seq":1,"#, #""seq":+1,"#),
            (#""override":true"#, #""override":1"#),
            (#"\"bot\""#, #"\u0022bot\u0022"#),
            (#"line one\nline"#, #"line one\u000aline"#),
            (#"\u0001"#, #"\u0001\/"#),
            ("é", #"\u00e9"#),
            (#""toRevision":2"#, #""toRevision":2,"toRevision":2"#),
            (#""stage":"staging""#, #""stage":"staging","zzz":1"#),
            (#""stage":"staging""#, #""stage":"Staging""#),
            (#""actor":"ci \"bot\"","#, #""actor":"ci \"bot\"","action":"import","#),
        ]
        for (find, replace) in variants {
            let range = try #require(text.range(of: find), "\(find) is not in the sample")
            let changed = Array(text.replacingCharacters(in: range, with: replace).utf8)
            #expect(PromotionBundle.decodeFast(changed) == nil, "\(replace)")
        }
        // A time the writer would spell otherwise (no milliseconds) reads as the same instant in
        // the general path, but is not canonical there either.
        let time = try #require(text.range(of: #"\.[0-9]{3}Z"#, options: .regularExpression))
        let shortTime = Array(text.replacingCharacters(in: time, with: "Z").utf8)
        #expect(PromotionBundle.decodeFast(shortTime) == nil)
        #expect(throws: PromotionRefusal.self) { try PromotionBundle.decodeGeneral(shortTime) }
    }

    /// Evaluation documents in their canonical form are read without JSONDecoder, as JSONDecoder
    /// reads them; any other spelling is left to JSONDecoder (and then refused as not canonical).
    @Test func canonicalEvaluationDocumentsAreReadAsJSONDecoderReadsThem() throws {
        let docs = [
            EvaluationDocument(suite: "alpha-eval", dataset: "sha256:" + String(repeating: "d", count: 64),
                               metrics: ["auc": 0.93, "p99LatencyMs": 210, "loss": 1e-07, "delta": -0.0125, "big": 1e300]),
            EvaluationDocument(suite: "a \"quoted\" suite é", metrics: ["x": 0]),
        ]
        for doc in docs {
            let text = doc.canonical.text
            let fast = try #require(PromotionBundleReader.evaluationDocument(text), "\(text)")
            #expect(fast == doc)
            #expect(fast == (try JSONDecoder().decode(EvaluationDocument.self, from: Data(text.utf8))))
        }
        for text in [#"{"metrics":{"auc":0.930},"suite":"s"}"#, #"{"metrics":{"auc":93e-2},"suite":"s"}"#,
                     #"{"metrics":{"auc":1.0},"suite":"s"}"#, #"{"suite":"s","metrics":{"auc":1}}"#,
                     #"{"metrics":{"auc":1}, "suite":"s"}"#, #"{"metrics":{},"suite":"s"}"#, #"{"metrics":{"auc":1},"suite":" "}"#] {
            #expect(PromotionBundleReader.evaluationDocument(text) == nil, "\(text)")
        }
        #expect(PromotionBundleReader.evaluationDocument(#"{"metrics":{"auc":1},"suite":"s"}"#) != nil)
    }
}
