import Foundation
import Testing
@testable import TowerDomain

@Suite struct AuditChainTests {
    func chain(_ n: Int) -> [AuditEntry] {
        var out: [AuditEntry] = []
        var prev = AuditEntry.genesisHash
        for i in 1...n {
            let e = AuditEntry(seq: Int64(i), time: Fx.t0.addingTimeInterval(Double(i)), actor: "alice", role: .operator,
                               action: .shift, endpoint: "alpha", version: nil, fromRevision: Int64(i), toRevision: Int64(i + 1),
                               reason: "step \(i) \"quoted\" ünïcode", weightsBefore: ["v1": 100 - i, "v2": i - 1],
                               weightsAfter: ["v1": 99 - i, "v2": i], override: false, summary: "v1 \(100 - i)→\(99 - i)", prevHash: prev)
            out.append(e)
            prev = e.hash
        }
        return out
    }

    @Test func anIntactChainVerifies() {
        #expect(AuditEntry.verifyChain(chain(20)) == nil)
    }

    @Test func anEditedEntryIsNamed() {
        var c = chain(10)
        c[4].reason = "nothing to see"
        #expect(AuditEntry.verifyChain(c)?.seq == 5)
    }

    @Test func aRemovedEntryIsNamed() {
        var c = chain(10)
        c.remove(at: 6)
        #expect(AuditEntry.verifyChain(c)?.seq == 8)
    }

    @Test func aRehashedEditStillBreaksTheNextLink() {
        var c = chain(10)
        c[2].weightsAfter["v2"] = 50
        c[2].hash = c[2].computedHash()
        #expect(AuditEntry.verifyChain(c) == ChainBreak(seq: 4, problem: "its prev_hash does not match the hash of entry 3"))
    }

    @Test func canonicalJSONIsStable() {
        let e = chain(1)[0]
        // Pinned: if this changes, every stored chain would stop verifying.
        #expect(e.canonicalJSON == #"{"action":"shift","actor":"alice","endpoint":"alpha","fromRevision":1,"override":false,"prevHash":"0000000000000000000000000000000000000000000000000000000000000000","reason":"step 1 \"quoted\" ünïcode","role":"operator","seq":1,"summary":"v1 99→98","time":"2026-11-18T11:06:41.000Z","toRevision":2,"weightsAfter":{"v1":98,"v2":1},"weightsBefore":{"v1":99,"v2":0}}"#)
    }
}

@Suite struct TimestampTests {
    @Test func formatsAndParsesRFC3339() {
        #expect(Timestamp.rfc3339(ms: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.rfc3339(ms: 1_795_000_000_123) == "2026-11-18T11:06:40.123Z")
        #expect(Timestamp.parse("2026-11-18T11:06:40.123Z") == 1_795_000_000_123)
        #expect(Timestamp.parse("2026-11-18T13:06:40.1234567+02:00") == 1_795_000_000_123)
        #expect(Timestamp.parse("2026-11-18T11:06:40Z") == 1_795_000_000_000)
        #expect(Timestamp.parse("2024-02-29T00:00:00Z") == 1_709_164_800_000)
        for bad in ["", "2026-13-01T00:00:00Z", "2026-11-19", "2026-11-19T04:26:40", "2026-11-19T04:26:40.Z", "x026-11-19T04:26:40Z"] {
            #expect(Timestamp.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func roundTripsEveryMillisecondPattern() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<5000 {
            let ms = Int64.random(in: -2_000_000_000_000...4_000_000_000_000, using: &rng)
            #expect(Timestamp.parse(Timestamp.rfc3339(ms: ms)) == ms)
        }
    }
}
