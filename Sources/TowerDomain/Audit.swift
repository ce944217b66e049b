import Crypto
import Foundation

public enum AuditAction: String, Codable, Sendable, Equatable {
    case create, update, delete, shift, drain, undrain, rollback
    /// An evaluation was submitted for a version and its gate follows from the policy (DESIGN §13).
    case evaluate
    /// A version landed from a signed promotion bundle (`POST /v1/promotions`).
    case importBundle = "import"
}

/// One entry of the append-only audit log. `hash` is SHA-256 over `prevHash` and the entry's
/// canonical JSON (`AuditEntry.canonicalJSON`), so an edited or removed row breaks the chain.
public struct AuditEntry: Codable, Sendable, Equatable {
    public var seq: Int64
    public var time: Date
    public var actor: String
    public var role: Role
    public var action: AuditAction
    public var endpoint: String
    /// The version a drain or undrain named; nil for whole-endpoint changes.
    public var version: String?
    public var fromRevision: Int64
    public var toRevision: Int64
    public var reason: String
    public var weightsBefore: [String: Int]
    public var weightsAfter: [String: Int]
    /// True when an admin gave weight to a version whose gate had not passed.
    public var override: Bool
    /// What changed, in a line: "v1 90→100, v2 10→0 (draining)".
    public var summary: String
    /// Set only by a spec change that changes the SLO or the baseline: the value before and after
    /// (the SLO in `SLO.notation`). Absent means unset on that side; both absent, unchanged. Nil
    /// fields are left out of the hashed form, so entries written before they existed still verify.
    public var sloBefore: String?
    public var sloAfter: String?
    public var baselineBefore: String?
    public var baselineAfter: String?
    /// Like `sloBefore`/`sloAfter`, for the spec's `judge` settings (`JudgeSpec.notation`).
    public var judgeBefore: String?
    public var judgeAfter: String?
    /// Set only by an import: the SHA-256 of the bundle file, the fingerprint of the key that signed
    /// it and the registry it came from. Nil fields are left out of the hashed form.
    public var bundleSha256: String?
    public var signerKey: String?
    public var sourceRegistry: String?
    public var prevHash: String
    public var hash: String

    public static let genesisHash = String(repeating: "0", count: 64)

    public init(seq: Int64, time: Date, actor: String, role: Role, action: AuditAction, endpoint: String, version: String?,
                fromRevision: Int64, toRevision: Int64, reason: String, weightsBefore: [String: Int], weightsAfter: [String: Int],
                override: Bool, summary: String, sloBefore: String? = nil, sloAfter: String? = nil,
                baselineBefore: String? = nil, baselineAfter: String? = nil, judgeBefore: String? = nil, judgeAfter: String? = nil,
                bundleSha256: String? = nil, signerKey: String? = nil, sourceRegistry: String? = nil, prevHash: String) {
        self.init(seq: seq, time: time, actor: actor, role: role, action: action, endpoint: endpoint, version: version,
                  fromRevision: fromRevision, toRevision: toRevision, reason: reason, weightsBefore: weightsBefore, weightsAfter: weightsAfter,
                  override: override, summary: summary, sloBefore: sloBefore, sloAfter: sloAfter, baselineBefore: baselineBefore,
                  baselineAfter: baselineAfter, judgeBefore: judgeBefore, judgeAfter: judgeAfter, bundleSha256: bundleSha256,
                  signerKey: signerKey, sourceRegistry: sourceRegistry, prevHash: prevHash, hash: "")
        self.hash = computedHash()
    }

    /// An entry as read with the hash it claims, which is not computed here: a reader checks it
    /// against `computedHash()` itself (`PromotionBundleReader`).
    init(seq: Int64, time: Date, actor: String, role: Role, action: AuditAction, endpoint: String, version: String?,
         fromRevision: Int64, toRevision: Int64, reason: String, weightsBefore: [String: Int], weightsAfter: [String: Int],
         override: Bool, summary: String, sloBefore: String?, sloAfter: String?, baselineBefore: String?, baselineAfter: String?,
         judgeBefore: String?, judgeAfter: String?, bundleSha256: String?, signerKey: String?, sourceRegistry: String?,
         prevHash: String, hash: String) {
        self.seq = seq; self.time = Timestamp.date(ms: Timestamp.ms(time)); self.actor = actor; self.role = role
        self.action = action; self.endpoint = endpoint; self.version = version; self.fromRevision = fromRevision
        self.toRevision = toRevision; self.reason = reason; self.weightsBefore = weightsBefore; self.weightsAfter = weightsAfter
        self.override = override; self.summary = summary; self.prevHash = prevHash
        self.sloBefore = sloBefore; self.sloAfter = sloAfter; self.baselineBefore = baselineBefore; self.baselineAfter = baselineAfter
        self.judgeBefore = judgeBefore; self.judgeAfter = judgeAfter
        self.bundleSha256 = bundleSha256; self.signerKey = signerKey; self.sourceRegistry = sourceRegistry
        self.hash = hash
    }

    /// The entry without its hash, as canonical JSON (`CanonicalJSON`, the writer xDS uses too),
    /// so that the hashed bytes cannot change with a Foundation release and break every chain.
    public var canonicalJSON: String { String(decoding: canonicalBytes, as: UTF8.self) }

    /// `canonicalJSON`'s bytes, what the hash covers: `canonicalFields` written in its keys'
    /// order (by UTF-8 bytes, as the writer sorts them; a test holds the two equal), without the
    /// dictionary and its sort, since every entry of a bundle or a chain is hashed when read.
    public var canonicalBytes: [UInt8] {
        // Written straight into bytes: a tree of `CanonicalJSON` values (each case boxed) and two
        // weight dictionaries per entry were most of the cost of hashing a bundle's entries.
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(512)
        func key(_ k: StaticString) {
            if out.count > 1 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            k.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
        }
        func string(_ k: StaticString, _ v: String?) {
            guard let v else { return }
            key(k)
            CanonicalJSON.quote(v, into: &out)
        }
        func int(_ k: StaticString, _ v: Int64) {
            key(k)
            out.append(contentsOf: String(v).utf8)
        }
        func weights(_ k: StaticString, _ w: [String: Int]) {
            key(k)
            out.append(UInt8(ascii: "{"))
            for (i, (name, value)) in w.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                CanonicalJSON.quote(name, into: &out)
                out.append(UInt8(ascii: ":"))
                out.append(contentsOf: String(value).utf8)
            }
            out.append(UInt8(ascii: "}"))
        }
        string("action", action.rawValue)
        string("actor", actor)
        string("baselineAfter", baselineAfter)
        string("baselineBefore", baselineBefore)
        string("bundleSha256", bundleSha256)
        string("endpoint", endpoint)
        int("fromRevision", fromRevision)
        string("judgeAfter", judgeAfter)
        string("judgeBefore", judgeBefore)
        key("override")
        out.append(contentsOf: (override ? "true" : "false").utf8)
        string("prevHash", prevHash)
        string("reason", reason)
        string("role", role.rawValue)
        int("seq", seq)
        string("signerKey", signerKey)
        string("sloAfter", sloAfter)
        string("sloBefore", sloBefore)
        string("sourceRegistry", sourceRegistry)
        string("summary", summary)
        string("time", Timestamp.rfc3339(ms: Timestamp.ms(time)))
        int("toRevision", toRevision)
        string("version", version)
        weights("weightsAfter", weightsAfter)
        weights("weightsBefore", weightsBefore)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The hashed form as a tree: what `canonicalBytes` writes.
    public var canonicalFields: [String: CanonicalJSON] {
        var fields: [String: CanonicalJSON] = [
            "action": .string(action.rawValue), "actor": .string(actor), "endpoint": .string(endpoint),
            "fromRevision": .int(Int(fromRevision)), "override": .bool(override), "prevHash": .string(prevHash),
            "reason": .string(reason), "role": .string(role.rawValue), "seq": .int(Int(seq)),
            "summary": .string(summary), "time": .string(Timestamp.rfc3339(ms: Timestamp.ms(time))),
            "toRevision": .int(Int(toRevision)),
            "weightsAfter": .object(weightsAfter.mapValues { .int($0) }),
            "weightsBefore": .object(weightsBefore.mapValues { .int($0) }),
        ]
        if let version { fields["version"] = .string(version) }
        for (key, value) in [("sloBefore", sloBefore), ("sloAfter", sloAfter), ("baselineBefore", baselineBefore), ("baselineAfter", baselineAfter),
                             ("judgeBefore", judgeBefore), ("judgeAfter", judgeAfter),
                             ("bundleSha256", bundleSha256), ("signerKey", signerKey), ("sourceRegistry", sourceRegistry)] {
            if let value { fields[key] = .string(value) }
        }
        return fields
    }

    public func computedHash() -> String {
        var h = SHA256()
        h.update(data: Array(prevHash.utf8))
        h.update(data: [0x0A])
        h.update(data: canonicalBytes)
        return Hex.encode(h.finalize())
    }

    /// Checks a chain in sequence order. Returns nil when it is intact, or what is wrong with the
    /// first bad entry.
    public static func verifyChain<S: Sequence>(_ entries: S, startingAfter previous: (seq: Int64, hash: String)? = nil) -> ChainBreak? where S.Element == AuditEntry {
        var prevSeq = previous?.seq ?? 0
        var prevHash = previous?.hash ?? genesisHash
        for e in entries {
            if e.seq != prevSeq + 1 {
                return ChainBreak(seq: e.seq, problem: "expected entry \(prevSeq + 1) but found \(e.seq): an entry was removed")
            }
            if e.prevHash != prevHash {
                return ChainBreak(seq: e.seq, problem: "its prev_hash does not match the hash of entry \(prevSeq)")
            }
            if e.computedHash() != e.hash {
                return ChainBreak(seq: e.seq, problem: "its hash does not match its content: the entry was edited")
            }
            prevSeq = e.seq
            prevHash = e.hash
        }
        return nil
    }
}

public struct ChainBreak: Sendable, Equatable, Codable, CustomStringConvertible {
    public var seq: Int64
    public var problem: String
    public init(seq: Int64, problem: String) { self.seq = seq; self.problem = problem }
    public var description: String { "audit chain broken at entry \(seq): \(problem)" }
}
