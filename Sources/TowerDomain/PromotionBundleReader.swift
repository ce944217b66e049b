import Foundation

/// The fast path of `PromotionBundle.read`: the bundle's own types read in one pass over the file,
/// accepting only their exact canonical form (keys strictly ascending by UTF-8 bytes, no
/// whitespace, the writer's escapes and nothing else, whole numbers as `String(Int)` writes them,
/// times as `Timestamp.rfc3339` writes them) and only the fields the types declare. What it accepts
/// is therefore the canonical encoding of the value it returns, which is what the general path
/// establishes by parsing to a tree, writing the tree back and encoding the decoded value again
/// (three quarters of verifying a large bundle).
///
/// It answers nil for anything else, and the caller then takes the general path, which accepts
/// or refuses with its own reasons: so this reader may be stricter than the general one but never
/// looser, and a field added to a bundle type and not read here costs time, not a check (its key is
/// unknown here, so such a bundle goes the general way). `PromotionBundleReaderTests` holds the
/// fields listed here equal to the types' stored properties, and the two paths equal on every byte
/// changed and every leaf changed and re-signed; the `bundle` fuzz target compares them too.
enum PromotionBundleReader {
    struct Read {
        var bundle: PromotionBundle
        /// Where the value of `signed` lies in the file: the signed bytes.
        var signedRange: Range<Int>
    }

    /// The keys each type is read with, as the synthesized Codable conformances name them.
    static let fields: [String: Set<String>] = [
        "PromotionBundle": ["format", "signed", "signature"],
        "SignedPromotion": ["id", "signedAt", "expiresAt", "payload"],
        "PromotionSignature": ["algorithm", "key", "keyId", "value"],
        "PromotionPayload": ["sourceRegistry", "endpoint", "path", "owner", "version", "artifactDigest", "evaluations", "audit",
                             "exportedBy", "exportedAt"],
        "PromotedVersion": ["name", "artifact", "stage", "gate", "gateSummary"],
        "Artifact": ["uri", "digest"],
        "PromotedEvaluation": ["document", "sha256", "submittedBy", "submittedAt"],
        "AuditEntry": Set(AuditKey.allCases.map(\.rawValue)),
    ]

    /// An audit entry's keys in the writer's order (ascending UTF-8 bytes; a test holds it so):
    /// matched as bytes in one forward walk, since a bundle holds up to 200 entries of 25 keys and
    /// comparing each key as a String against every case was a tenth of reading one.
    enum AuditKey: String, CaseIterable {
        case action, actor, baselineAfter, baselineBefore, bundleSha256, endpoint, fromRevision, hash, judgeAfter, judgeBefore
        case override, prevHash, reason, role, seq, signerKey, sloAfter, sloBefore, sourceRegistry, summary, time, toRevision
        case version, weightsAfter, weightsBefore

        static let table: [(bytes: [UInt8], key: AuditKey)] = allCases.map { (Array($0.rawValue.utf8), $0) }
    }

    /// The bundle in `body` (the file without its final newline), or nil when this reader does not
    /// take it.
    static func read(_ body: [UInt8]) -> Read? {
        body.withUnsafeBufferPointer { b in
            var c = Cursor(b: b)
            do {
                let r = try bundle(&c)
                return c.i == b.count ? r : nil
            } catch {
                return nil
            }
        }
    }

    struct NotTaken: Error {}

    static func bundle(_ c: inout Cursor) throws(NotTaken) -> Read {
        var format: String?, signed: SignedPromotion?, signature: PromotionSignature?, range: Range<Int>?
        try c.object { (c, key) throws(NotTaken) in
            switch key {
            case "format": format = try c.string()
            case "signature": signature = try self.signature(&c)
            case "signed":
                let start = c.i
                signed = try self.signed(&c)
                range = start..<c.i
            default: throw NotTaken()
            }
        }
        guard let format, let signed, let signature, let range else { throw NotTaken() }
        return Read(bundle: PromotionBundle(format: format, signed: signed, signature: signature), signedRange: range)
    }

    static func signature(_ c: inout Cursor) throws(NotTaken) -> PromotionSignature {
        var algorithm: String?, key: String?, keyId: String?, value: String?
        try c.object { (c, k) throws(NotTaken) in
            switch k {
            case "algorithm": algorithm = try c.string()
            case "key": key = try c.string()
            case "keyId": keyId = try c.string()
            case "value": value = try c.string()
            default: throw NotTaken()
            }
        }
        guard let algorithm, let key, let keyId, let value else { throw NotTaken() }
        return PromotionSignature(algorithm: algorithm, key: key, keyId: keyId, value: value)
    }

    static func signed(_ c: inout Cursor) throws(NotTaken) -> SignedPromotion {
        var id: String?, signedAt: Date?, expiresAt: Date?, payload: PromotionPayload?
        try c.object { (c, k) throws(NotTaken) in
            switch k {
            case "expiresAt": expiresAt = try c.date()
            case "id": id = try c.string()
            case "payload": payload = try self.payload(&c)
            case "signedAt": signedAt = try c.date()
            default: throw NotTaken()
            }
        }
        guard let id, let signedAt, let expiresAt, let payload else { throw NotTaken() }
        return SignedPromotion(id: id, signedAt: signedAt, expiresAt: expiresAt, payload: payload)
    }

    static func payload(_ c: inout Cursor) throws(NotTaken) -> PromotionPayload {
        var sourceRegistry: String?, endpoint: String?, path: String?, owner: String?, version: PromotedVersion?
        var artifactDigest: String?, evaluations: [PromotedEvaluation]?, audit: [AuditEntry]?, exportedBy: String?, exportedAt: Date?
        try c.object { (c, k) throws(NotTaken) in
            switch k {
            case "artifactDigest": artifactDigest = try c.string()
            case "audit": audit = try c.array { (c) throws(NotTaken) in try auditEntry(&c) }
            case "endpoint": endpoint = try c.string()
            case "evaluations": evaluations = try c.array { (c) throws(NotTaken) in try evaluation(&c) }
            case "exportedAt": exportedAt = try c.date()
            case "exportedBy": exportedBy = try c.string()
            case "owner": owner = try c.string()
            case "path": path = try c.string()
            case "sourceRegistry": sourceRegistry = try c.string()
            case "version": version = try self.version(&c)
            default: throw NotTaken()
            }
        }
        guard let sourceRegistry, let endpoint, let path, let owner, let version, let artifactDigest, let evaluations, let audit,
              let exportedBy, let exportedAt else { throw NotTaken() }
        return PromotionPayload(sourceRegistry: sourceRegistry, endpoint: endpoint, path: path, owner: owner, version: version,
                                artifactDigest: artifactDigest, evaluations: evaluations, audit: audit, exportedBy: exportedBy,
                                exportedAt: exportedAt)
    }

    static func version(_ c: inout Cursor) throws(NotTaken) -> PromotedVersion {
        var name: String?, artifact: Artifact?, stage: Stage?, gate: GateStatus?, gateSummary: String?
        try c.object { (c, k) throws(NotTaken) in
            switch k {
            case "artifact": artifact = try self.artifact(&c)
            case "gate": gate = try c.raw(GateStatus.self)
            case "gateSummary": gateSummary = try c.string()
            case "name": name = try c.string()
            case "stage": stage = try c.raw(Stage.self)
            default: throw NotTaken()
            }
        }
        guard let name, let artifact, let stage, let gate else { throw NotTaken() }
        return PromotedVersion(name: name, artifact: artifact, stage: stage, gate: gate, gateSummary: gateSummary)
    }

    static func artifact(_ c: inout Cursor) throws(NotTaken) -> Artifact {
        var uri: String?, digest: String?
        try c.object { (c, k) throws(NotTaken) in
            switch k {
            case "digest": digest = try c.string()
            case "uri": uri = try c.string()
            default: throw NotTaken()
            }
        }
        guard let uri, let digest else { throw NotTaken() }
        return Artifact(uri: uri, digest: digest)
    }

    static func evaluation(_ c: inout Cursor) throws(NotTaken) -> PromotedEvaluation {
        var document: String?, sha256: String?, submittedBy: String?, submittedAt: Date?
        try c.object { (c, k) throws(NotTaken) in
            switch k {
            case "document": document = try c.string()
            case "sha256": sha256 = try c.string()
            case "submittedAt": submittedAt = try c.date()
            case "submittedBy": submittedBy = try c.string()
            default: throw NotTaken()
            }
        }
        guard let document, let sha256, let submittedBy, let submittedAt else { throw NotTaken() }
        return PromotedEvaluation(document: document, sha256: sha256, submittedBy: submittedBy, submittedAt: submittedAt)
    }

    static func auditEntry(_ c: inout Cursor) throws(NotTaken) -> AuditEntry {
        var seq: Int64?, time: Date?, actor: String?, role: Role?, action: AuditAction?, endpoint: String?, version: String?
        var fromRevision: Int64?, toRevision: Int64?, reason: String?, weightsBefore: [String: Int]?, weightsAfter: [String: Int]?
        var override: Bool?, summary: String?, sloBefore: String?, sloAfter: String?, baselineBefore: String?, baselineAfter: String?
        var judgeBefore: String?, judgeAfter: String?, bundleSha256: String?, signerKey: String?, sourceRegistry: String?
        var prevHash: String?, hash: String?
        try c.auditObject { (c, k) throws(NotTaken) in
            switch k {
            case .action: action = try c.raw(AuditAction.self)
            case .actor: actor = try c.string()
            case .baselineAfter: baselineAfter = try c.string()
            case .baselineBefore: baselineBefore = try c.string()
            case .bundleSha256: bundleSha256 = try c.string()
            case .endpoint: endpoint = try c.string()
            case .fromRevision: fromRevision = Int64(try c.int())
            case .hash: hash = try c.string()
            case .judgeAfter: judgeAfter = try c.string()
            case .judgeBefore: judgeBefore = try c.string()
            case .override: override = try c.bool()
            case .prevHash: prevHash = try c.string()
            case .reason: reason = try c.string()
            case .role: role = try c.raw(Role.self)
            case .seq: seq = Int64(try c.int())
            case .signerKey: signerKey = try c.string()
            case .sloAfter: sloAfter = try c.string()
            case .sloBefore: sloBefore = try c.string()
            case .sourceRegistry: sourceRegistry = try c.string()
            case .summary: summary = try c.string()
            case .time: time = try c.date()
            case .toRevision: toRevision = Int64(try c.int())
            case .version: version = try c.string()
            case .weightsAfter: weightsAfter = try c.weights()
            case .weightsBefore: weightsBefore = try c.weights()
            }
        }
        guard let seq, let time, let actor, let role, let action, let endpoint, let fromRevision, let toRevision, let reason,
              let weightsBefore, let weightsAfter, let override, let summary, let prevHash, let hash else { throw NotTaken() }
        return AuditEntry(seq: seq, time: time, actor: actor, role: role, action: action, endpoint: endpoint, version: version,
                          fromRevision: fromRevision, toRevision: toRevision, reason: reason, weightsBefore: weightsBefore,
                          weightsAfter: weightsAfter, override: override, summary: summary, sloBefore: sloBefore, sloAfter: sloAfter,
                          baselineBefore: baselineBefore, baselineAfter: baselineAfter, judgeBefore: judgeBefore, judgeAfter: judgeAfter,
                          bundleSha256: bundleSha256, signerKey: signerKey, sourceRegistry: sourceRegistry, prevHash: prevHash, hash: hash)
    }
}

extension PromotionBundleReader {
    /// An evaluation document in exactly the form `EvaluationDocument.canonical` writes, read
    /// without JSONDecoder; nil for anything else, which the caller then hands to JSONDecoder. What
    /// it takes, JSONDecoder decodes to the same document (the same keys, and each number the
    /// shortest text of its Double, which every correct parser reads back exactly).
    static func evaluationDocument(_ text: String) -> EvaluationDocument? {
        var text = text
        return text.withUTF8 { b -> EvaluationDocument? in
            var c = Cursor(b: b)
            var suite: String?, dataset: String?, metrics: [String: Double]?
            do {
                try c.object { (c, k) throws(NotTaken) in
                    switch k {
                    case "dataset": dataset = try c.string()
                    case "metrics":
                        var m: [String: Double] = [:]
                        try c.object { (c, name) throws(NotTaken) in m[name] = try c.number() }
                        metrics = m
                    case "suite": suite = try c.string()
                    default: throw NotTaken()
                    }
                }
            } catch {
                return nil
            }
            guard c.i == b.count, let suite, let metrics else { return nil }
            let doc = EvaluationDocument(suite: suite, dataset: dataset, metrics: metrics)
            return doc.problem == nil ? doc : nil
        }
    }
}
