import ArgumentParser
import Foundation
import TowerDomain
import TowerRegistry

/// What verifying a promotion bundle costs (target < 5 ms): the strict parse, the canonical-form
/// check, decoding, Ed25519 and the digests, for bundles as small as a new version's and as large
/// as the 200 audit entries a bundle carries at most; then a whole import into a store (the
/// verification plus one durable transaction).
struct BundleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Verify signed promotion bundles of several sizes and import one: time per bundle.")

    @Option(help: "Verifications per size.") var iterations = 500

    func run() async throws {
        let key = PromotionSigningKey()
        let trusted = TrustedPromotionKeys([key.publicKey])
        let now = Date()
        print("tower-bench bundle: \(iterations) verifications per size, 1 core")
        for (entries, evaluations) in [(2, 1), (50, 5), (200, 20)] {
            let bytes = try PromotionBundle.sign(Self.payload(entries: entries, evaluations: evaluations, now: now), with: key, now: now, validFor: 86400)
            var times: [Double] = []
            times.reserveCapacity(iterations)
            for _ in 0..<iterations {
                let start = ContinuousClock.now
                let v = try PromotionBundle.read(bytes)
                try v.checkTrust(trusted)
                try v.checkExpiry(now: now)
                times.append(Self.ms(ContinuousClock.now - start))
            }
            times.sort()
            print(String(format: "verify %4d audit entries, %2d evaluations (%6d bytes): median %.3f ms, p99 %.3f ms, max %.3f ms  target < 5 ms",
                         entries, evaluations, bytes.count, times[times.count / 2], times[min(times.count - 1, times.count * 99 / 100)], times.last ?? 0))
        }

        // A whole import: verification, then the transaction (SQLite, synchronous=FULL).
        let dir = NSTemporaryDirectory() + "tower-bench-bundle-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try RegistryStore(directory: dir)
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        try await Seed.apply([EndpointSpec(name: "alpha", path: "/v1/models/alpha", owner: "bench", versions: [
            .init(name: "v1", artifact: Artifact(uri: "s3://m/alpha/1", digest: digest), weight: 100, gate: .passed, stage: .prod),
        ])], to: store, source: "bench")
        var imports: [Double] = []
        for i in 0..<20 {
            var p = Self.payload(entries: 50, evaluations: 5, now: now)
            p.version.name = "v\(i + 2)"
            p.audit = []
            let bytes = try PromotionBundle.sign(p, with: key, now: now, validFor: 86400)
            let start = ContinuousClock.now
            _ = try await store.importPromotion(bytes, trusted: trusted, narrowedTo: nil, principal: Principal(name: "bench", role: .admin), reason: nil)
            imports.append(Self.ms(ContinuousClock.now - start))
        }
        imports.sort()
        print(String(format: "import (verify + one durable transaction), 20 bundles: median %.2f ms, max %.2f ms", imports[imports.count / 2], imports.last ?? 0))
    }

    static func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }

    static func payload(entries: Int, evaluations: Int, now: Date) -> PromotionPayload {
        var audit: [AuditEntry] = []
        var prev = AuditEntry.genesisHash
        for seq in 1...max(1, entries) {
            let e = AuditEntry(seq: Int64(seq), time: now.addingTimeInterval(Double(seq) - 10_000), actor: "ci", role: .operator, action: .shift,
                               endpoint: "alpha", version: nil, fromRevision: Int64(seq), toRevision: Int64(seq + 1), reason: "canary step \(seq)",
                               weightsBefore: ["v1": 100, "v9": 0], weightsAfter: ["v1": 95, "v9": 5], override: false, summary: "v1 100→95, v9 0→5", prevHash: prev)
            prev = e.hash
            audit.append(e)
        }
        let docs = (0..<evaluations).map { i -> PromotedEvaluation in
            let doc = EvaluationDocument(suite: "alpha-eval-\(i)", dataset: "sha256:" + String(repeating: "d", count: 64),
                                         metrics: ["auc": 0.9 + Double(i) / 1000, "p99LatencyMs": 210])
            return PromotedEvaluation(document: doc.canonical.text, sha256: doc.sha256, submittedBy: "ci", submittedAt: now)
        }
        return PromotionPayload(sourceRegistry: "reg-0011223344556677", endpoint: "alpha", path: "/v1/models/alpha", owner: "bench",
                                version: PromotedVersion(name: "v9", artifact: Artifact(uri: "s3://m/alpha/9", digest: "sha256:" + String(repeating: "9f", count: 32)),
                                                         stage: .staging, gate: .passed),
                                artifactDigest: "sha256:" + String(repeating: "9f", count: 32), evaluations: docs, audit: audit,
                                exportedBy: "bench", exportedAt: now)
    }
}
