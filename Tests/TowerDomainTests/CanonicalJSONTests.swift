import Foundation
import Testing
import TowerDomain

/// One writer serves the audit chain (hashed as text) and xDS (spliced as bytes, hashed into
/// `version_info`); both readings must be the same bytes, or a chain or an Envoy version changes.
@Suite struct CanonicalJSONTests {
    static let tricky = CanonicalJSON.object([
        "b": .string("q\"\\\n\r\t\u{1}\u{1f}/é\u{7f}"), "a": .array([.int(-1), .int(Int(Int64.max)), .bool(true), .bool(false)]),
        "é": .object([:]), "Z": .array([]), "\u{7f}": .object(["y": .int(0), "x": .string("")]),
    ])

    @Test func theAuditTextAndTheXDSBytesAreTheSameBytes() {
        let v = Self.tricky
        var spliced: [UInt8] = []
        v.write(into: &spliced)
        #expect(Array(v.text.utf8) == v.bytes)
        #expect(spliced == v.bytes)
        // Keys by UTF-8 bytes (Z < a < b < DEL < é); only quote, backslash and controls escaped.
        #expect(v.text == #"{"Z":[],"a":[-1,9223372036854775807,true,false],"b":"q\"\\\n\r\t\u0001\u001f/é"# + "\u{7f}" + #"","#
                + "\"\u{7f}\"" + #":{"x":"","y":0},"é":{}}"#)
    }

    @Test func anAuditEntryHashesTheWritersBytes() {
        let e = AuditEntry(seq: 3, time: Date(timeIntervalSince1970: 1_700_000_000), actor: "ops", role: .operator, action: .drain,
                           endpoint: "chat", version: "v2", fromRevision: 4, toRevision: 5, reason: "tab\there", weightsBefore: ["v2": 10],
                           weightsAfter: ["v2": 0], override: true, summary: "drain v2", prevHash: AuditEntry.genesisHash)
        let fields: [String: CanonicalJSON] = [
            "action": .string("drain"), "actor": .string("ops"), "endpoint": .string("chat"), "fromRevision": .int(4),
            "override": .bool(true), "prevHash": .string(AuditEntry.genesisHash), "reason": .string("tab\there"),
            "role": .string("operator"), "seq": .int(3), "summary": .string("drain v2"), "time": .string("2023-11-14T22:13:20.000Z"),
            "toRevision": .int(5), "weightsAfter": .object(["v2": .int(0)]), "weightsBefore": .object(["v2": .int(10)]),
            "version": .string("v2"),
        ]
        #expect(Array(e.canonicalJSON.utf8) == CanonicalJSON.object(fields).bytes)
        #expect(e.hash == e.computedHash())
    }

    /// `canonicalBytes` writes the fields in a fixed order for speed: it must be the writer's
    /// order, with every optional field present and with none.
    @Test func anAuditEntryWritesItsFieldsInTheWritersOrder() {
        let full = AuditEntry(seq: 9, time: Date(timeIntervalSince1970: 1_700_000_000.5), actor: "ada", role: .admin, action: .importBundle,
                              endpoint: "chat", version: "v3", fromRevision: 7, toRevision: 8, reason: "é \"q\"", weightsBefore: ["v1": 100, "v3": 0],
                              weightsAfter: ["v3": 0, "v1": 100, "A": 1], override: true, summary: "s", sloBefore: "a", sloAfter: "b",
                              baselineBefore: "v1", baselineAfter: "v2", judgeBefore: "j1", judgeAfter: "j2", bundleSha256: "ab",
                              signerKey: "cd", sourceRegistry: "reg", prevHash: AuditEntry.genesisHash)
        let bare = AuditEntry(seq: 1, time: Date(timeIntervalSince1970: 0), actor: "x", role: .viewer, action: .create, endpoint: "e",
                              version: nil, fromRevision: 0, toRevision: 1, reason: "", weightsBefore: [:], weightsAfter: [:], override: false,
                              summary: "", prevHash: AuditEntry.genesisHash)
        for e in [full, bare] {
            #expect(e.canonicalBytes == CanonicalJSON.object(e.canonicalFields).bytes)
        }
        #expect(full.canonicalFields.count == 24 && bare.canonicalFields.count == 14)
    }
}
