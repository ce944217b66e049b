import Crypto
import Foundation

/// What a registry vouches for when a version leaves it (`GET …/versions/{v}/bundle`): the version's
/// spec and artifact, the evaluation documents submitted for it, its audit entries, and who the
/// registry is. Unsigned; `tower promote export` adds an id and an expiry and signs it.
public struct PromotionPayload: Codable, Sendable, Equatable {
    /// The exporting registry's stable id (generated once, stored in its database).
    public var sourceRegistry: String
    public var endpoint: String
    /// The endpoint's path and owner at the source, for the reader; the destination keeps its own.
    public var path: String
    public var owner: String
    public var version: PromotedVersion
    /// The artifact's digest once more, so that a bundle whose version names another is refused.
    public var artifactDigest: String
    public var evaluations: [PromotedEvaluation]
    /// The source's audit entries about this version (its creation, shifts, drains, evaluations),
    /// oldest first, each with the hash it has in the source's chain.
    public var audit: [AuditEntry]
    public var exportedBy: String
    public var exportedAt: Date

    public init(sourceRegistry: String, endpoint: String, path: String, owner: String, version: PromotedVersion, artifactDigest: String,
                evaluations: [PromotedEvaluation], audit: [AuditEntry], exportedBy: String, exportedAt: Date) {
        self.sourceRegistry = sourceRegistry; self.endpoint = endpoint; self.path = path; self.owner = owner
        self.version = version; self.artifactDigest = artifactDigest; self.evaluations = evaluations; self.audit = audit
        self.exportedBy = exportedBy; self.exportedAt = Timestamp.date(ms: Timestamp.ms(exportedAt))
    }
}

/// The spec of the version being promoted: what lands at the destination (at weight 0, with the
/// gate the destination's own policy gives it). The source's gate is carried for the record only.
public struct PromotedVersion: Codable, Sendable, Equatable {
    public var name: String
    public var artifact: Artifact
    public var stage: Stage
    public var gate: GateStatus
    public var gateSummary: String?
    public init(name: String, artifact: Artifact, stage: Stage, gate: GateStatus, gateSummary: String? = nil) {
        self.name = name; self.artifact = artifact; self.stage = stage; self.gate = gate; self.gateSummary = gateSummary
    }
}

/// An evaluation document as the source stored it: its exact text, so that its SHA-256 can be
/// checked and stored unchanged at the destination.
public struct PromotedEvaluation: Codable, Sendable, Equatable {
    public var document: String
    public var sha256: String
    public var submittedBy: String
    public var submittedAt: Date
    public init(document: String, sha256: String, submittedBy: String, submittedAt: Date) {
        self.document = document; self.sha256 = sha256; self.submittedBy = submittedBy
        self.submittedAt = Timestamp.date(ms: Timestamp.ms(submittedAt))
    }
}

/// The signed part: the payload with a unique id and a validity window.
public struct SignedPromotion: Codable, Sendable, Equatable {
    public var id: String
    public var signedAt: Date
    public var expiresAt: Date
    public var payload: PromotionPayload
    public init(id: String, signedAt: Date, expiresAt: Date, payload: PromotionPayload) {
        self.id = id; self.signedAt = Timestamp.date(ms: Timestamp.ms(signedAt))
        self.expiresAt = Timestamp.date(ms: Timestamp.ms(expiresAt)); self.payload = payload
    }
}

public struct PromotionSignature: Codable, Sendable, Equatable {
    public var algorithm: String
    /// The signer's public key, `ed25519:<hex>`.
    public var key: String
    /// Its fingerprint (SHA-256 of the raw key, hex).
    public var keyId: String
    /// The Ed25519 signature, hex.
    public var value: String
}

/// A promotion bundle file: `{"format", "signed", "signature"}` written as canonical JSON (the
/// audit chain's writer) and a newline. The signature covers `domain` followed by the canonical
/// bytes of `signed`; the file must be exactly the canonical bytes of the whole, so that no byte
/// of it (whitespace included) can change and still be accepted.
public struct PromotionBundle: Codable, Sendable, Equatable {
    public var format: String
    public var signed: SignedPromotion
    public var signature: PromotionSignature

    public static let format = "tower-promotion-bundle/1"
    /// Prefixed to what is signed, so a signature made for a bundle means nothing anywhere else.
    public static let domain = Array("tower-promotion-bundle/1\n".utf8)
    /// The largest bundle read: the registry's request body limit.
    public static let maxBytes = 1 << 20
    /// The longest validity a bundle may claim.
    public static let maxValidity: TimeInterval = 90 * 86400

    /// Signs `payload` and returns the file's bytes.
    public static func sign(_ payload: PromotionPayload, with key: PromotionSigningKey, id: String = UUID().uuidString.lowercased(),
                            now: Date = Date(), validFor: TimeInterval) throws -> [UInt8] {
        let signed = SignedPromotion(id: id, signedAt: now, expiresAt: now.addingTimeInterval(validFor), payload: payload)
        let signature = try key.signature(for: domain + CanonicalJSON.of(signed).bytes)
        let pub = key.publicKey
        let bundle = PromotionBundle(format: format, signed: signed,
                                     signature: PromotionSignature(algorithm: "ed25519", key: pub.text, keyId: pub.fingerprint, value: Hex.encode(signature)))
        return try CanonicalJSON.of(bundle).bytes + [0x0A]
    }

    /// Reads and checks a bundle on its own: size, strict parse, canonical form, shape, signature,
    /// and that its digests agree with what they cover. Trust, expiry and whether it was imported
    /// before depend on the reader and are checked by `VerifiedBundle`'s methods and the registry.
    public static func read(_ bytes: [UInt8]) throws(PromotionRefusal) -> VerifiedBundle {
        if bytes.count > maxBytes {
            throw PromotionRefusal(.tooLarge, "the bundle is \(bytes.count) bytes; a bundle is at most \(maxBytes) bytes (1 MiB)")
        }
        guard bytes.last == 0x0A else {
            throw PromotionRefusal(.malformed, "the bundle does not end with a newline, as a bundle file does: it is truncated or was edited")
        }
        let body = Array(bytes.dropLast())
        // The bundle's own types read straight from the file when it is in their canonical form
        // (nearly always); anything that reader does not take goes the general way, which says why.
        let bundle: PromotionBundle, signedRange: Range<Int>
        if let fast = PromotionBundleReader.read(body) {
            (bundle, signedRange) = (fast.bundle, fast.signedRange)
        } else {
            (bundle, signedRange) = try decodeGeneral(body)
        }
        guard bundle.format == format else {
            throw PromotionRefusal(.malformed, "the bundle's format is '\(Names.printable(bundle.format, limit: 60))'; this registry reads \(format)")
        }
        let sig = bundle.signature
        guard sig.algorithm == "ed25519" else {
            throw PromotionRefusal(.signature, "the bundle is signed with '\(Names.printable(sig.algorithm, limit: 40))'; only ed25519 is accepted")
        }
        let key: PromotionPublicKey
        do { key = try PromotionPublicKey(text: sig.key) } catch {
            throw PromotionRefusal(.signature, "the bundle's signing key cannot be read: \(error.message)")
        }
        guard sig.keyId == key.fingerprint else {
            throw PromotionRefusal(.signature, "the bundle's keyId is not the fingerprint of its key")
        }
        guard let value = Hex.decode(sig.value, count: 64) else {
            throw PromotionRefusal(.signature, "the bundle's signature is not 64 bytes of lower-case hex")
        }
        let message = domain + body[signedRange]
        guard key.isValidSignature(value, for: message) else {
            throw PromotionRefusal(.signature, "the bundle's signature does not verify with key \(key.fingerprint): its content was changed after signing, or it was signed by another key")
        }
        let verified = VerifiedBundle(bundle: bundle, signer: key, sha256: Hex.encode(SHA256.hash(data: bytes)))
        try verified.checkConsistency()
        return verified
    }

    /// The general path: the strict parse to a tree, the canonical check (the tree written back
    /// must be the file), the decoding, and the typed round trip (no field this reader does not
    /// know); with where the signed part lies in the file. `PromotionBundleReader` takes the same
    /// files faster and nothing more; tests and the `bundle` fuzz target hold the two equal.
    package static func decodeGeneral(_ body: [UInt8]) throws(PromotionRefusal) -> (PromotionBundle, Range<Int>) {
        let tree: CanonicalJSON
        do { tree = try CanonicalJSON.parse(body) } catch {
            throw PromotionRefusal(.malformed, "the bundle is not valid bundle JSON: \(error.description)")
        }
        if tree.bytes != body {
            throw PromotionRefusal(.malformed, "the bundle is not in the canonical form it was signed in (a byte was changed, added or reformatted after signing)")
        }
        // Decoded from the tree just read, and encoded back to a tree, rather than through
        // JSONDecoder and JSONEncoder: the same values and refusals at a fraction of the cost.
        let bundle: PromotionBundle
        do { bundle = try tree.decode(PromotionBundle.self) } catch {
            throw PromotionRefusal(.malformed, "the bundle does not have a bundle's fields: \(Self.describe(error))")
        }
        // Fields this reader does not know would be carried by the signature but ignored here.
        guard (try? CanonicalJSON.encoding(bundle)) == tree else {
            throw PromotionRefusal(.malformed, "the bundle holds fields this registry does not know; it was made by a newer Tower or edited")
        }
        // The signed part's canonical bytes: a slice of the file, which is the tree's canonical
        // form (checked above), so equal to the decoded value's.
        guard let signedRange = tree.range(ofField: "signed", inCanonicalBytes: body.count) else {
            throw PromotionRefusal(.malformed, "the bundle has no signed part")
        }
        return (bundle, signedRange)
    }

    /// The fast path alone: nil when it does not take the file (see `PromotionBundleReader`).
    package static func decodeFast(_ body: [UInt8]) -> (PromotionBundle, Range<Int>)? {
        PromotionBundleReader.read(body).map { ($0.bundle, $0.signedRange) }
    }

    static func describe(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func path(_ p: [any CodingKey]) -> String {
            p.isEmpty ? "the bundle" : p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch e {
        case .keyNotFound(let k, let c): return "\(path(c.codingPath + [k])) is missing"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "\(path(c.codingPath)) has the wrong type"
        case .dataCorrupted(let c): return "\(path(c.codingPath)) is invalid: \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }
}

/// A bundle whose signature verifies and whose parts agree, with the key that signed it and the
/// SHA-256 of its file.
public struct VerifiedBundle: Sendable, Equatable {
    public var bundle: PromotionBundle
    public var signer: PromotionPublicKey
    public var sha256: String

    public var signed: SignedPromotion { bundle.signed }
    public var payload: PromotionPayload { bundle.signed.payload }

    /// The digests and names inside the signed part: signed nonsense is still nonsense.
    func checkConsistency() throws(PromotionRefusal) {
        let p = payload
        let id = signed.id
        if id.isEmpty || id.utf8.count > 64 || !id.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x2D }) {
            throw PromotionRefusal(.inconsistent, "the bundle's id must be 1 to 64 lower-case letters, digits and dashes")
        }
        if signed.expiresAt <= signed.signedAt || signed.expiresAt.timeIntervalSince(signed.signedAt) > PromotionBundle.maxValidity + 1 {
            throw PromotionRefusal(.inconsistent, "the bundle's validity runs from \(Timestamp.rfc3339(ms: Timestamp.ms(signed.signedAt))) to \(Timestamp.rfc3339(ms: Timestamp.ms(signed.expiresAt))); it must end after it starts and last at most 90 days")
        }
        for (kind, name) in [("endpoint", p.endpoint), ("version", p.version.name)] {
            if let problem = Names.problem(with: name, kind: kind) { throw PromotionRefusal(.inconsistent, "the bundle's \(problem)") }
        }
        if p.sourceRegistry.isEmpty || Names.hasUnsafeCharacters(p.sourceRegistry) || p.sourceRegistry.utf8.count > 64 {
            throw PromotionRefusal(.inconsistent, "the bundle's sourceRegistry must be one line of at most 64 characters")
        }
        if let problem = EndpointSpec.artifactProblem(p.version.artifact, version: p.version.name) {
            throw PromotionRefusal(.inconsistent, "the bundle's \(problem)")
        }
        if p.artifactDigest != p.version.artifact.digest {
            throw PromotionRefusal(.digest, "the bundle's artifact digest \(Names.printable(p.artifactDigest, limit: 80)) is not the digest of \(p.version.name)'s artifact (\(p.version.artifact.digest))")
        }
        if let g = p.version.gateSummary, Names.hasUnsafeCharacters(g) {
            throw PromotionRefusal(.inconsistent, "the bundle's gateSummary must be one line without control characters")
        }
        for (i, e) in p.evaluations.enumerated() {
            if "sha256:" + Hex.sha256(Array(e.document.utf8)) != e.sha256 {
                throw PromotionRefusal(.digest, "evaluation \(i + 1) of the bundle does not match its SHA-256 (\(Names.printable(e.sha256, limit: 80)))")
            }
            // The document must be one this registry reads, written as the one canonical writer
            // writes it, so that its hash means the same here as at the source.
            // Read without JSONDecoder when it is already in that form (nearly always).
            let read = PromotionBundleReader.evaluationDocument(e.document) ?? (try? JSONDecoder().decode(EvaluationDocument.self, from: Data(e.document.utf8)))
            guard let doc = read, doc.canonical.text == e.document else {
                throw PromotionRefusal(.inconsistent, "evaluation \(i + 1) of the bundle is not a canonical evaluation document")
            }
        }
        for e in p.audit {
            if e.computedHash() != e.hash {
                throw PromotionRefusal(.digest, "audit entry \(e.seq) of the bundle does not match its hash: it was edited")
            }
            if e.endpoint != p.endpoint {
                throw PromotionRefusal(.inconsistent, "audit entry \(e.seq) of the bundle is about endpoint '\(Names.printable(e.endpoint))', not '\(p.endpoint)'")
            }
        }
    }

    /// The signer must be one of the keys the reader trusts, and, when `narrowedTo` is given (the
    /// importer's `--trust`), one of those too.
    public func checkTrust(_ trusted: TrustedPromotionKeys, narrowedTo: Set<String>? = nil) throws(PromotionRefusal) {
        let fp = signer.fingerprint
        if trusted.keys.isEmpty {
            throw PromotionRefusal(.untrusted, "this registry trusts no promotion keys (start it with --trust-promotion-keys FILE), so the bundle signed by \(fp) is refused")
        }
        guard trusted.keys[fp] != nil else {
            throw PromotionRefusal(.untrusted, "the bundle is signed by key \(fp), which this registry does not trust")
        }
        if let narrowedTo, !narrowedTo.contains(fp) {
            throw PromotionRefusal(.untrusted, "the bundle is signed by key \(fp), which is not among the keys the import names with --trust")
        }
    }

    public func checkExpiry(now: Date) throws(PromotionRefusal) {
        if now >= signed.expiresAt {
            throw PromotionRefusal(.expired, "the bundle expired at \(Timestamp.rfc3339(ms: Timestamp.ms(signed.expiresAt))); export it again")
        }
    }
}

/// Why a bundle is refused: a sentence naming the reason, and which reason it is.
public struct PromotionRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable, Equatable {
        case tooLarge, malformed, signature, untrusted, expired, alreadyImported, digest, inconsistent, conflict, policy
    }
    public var reason: Reason
    public var message: String
    public init(_ reason: Reason, _ message: String) { self.reason = reason; self.message = message }
    public var description: String { message }

    public var httpStatus: Int {
        switch reason {
        case .tooLarge: 413
        case .malformed: 400
        case .alreadyImported, .conflict, .policy: 409
        case .signature, .untrusted, .expired, .digest, .inconsistent: 422
        }
    }
}

/// Reading a bundle file without reading more than the cap: a 100 MB file is refused on its size.
public enum PromotionBundleFile {
    public static func read(path: String, maxBytes: Int = PromotionBundle.maxBytes) throws(PromotionRefusal) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw PromotionRefusal(.malformed, "cannot read the bundle file \(path)")
        }
        defer { try? handle.close() }
        // At most one byte past the cap is read, whatever the file's size claims (a pipe has none).
        let data: Data?
        do { data = try handle.read(upToCount: maxBytes + 1) } catch {
            throw PromotionRefusal(.malformed, "cannot read the bundle file \(path): \(error.localizedDescription)")
        }
        let bytes = Array(data ?? Data())
        if bytes.count > maxBytes {
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
            throw PromotionRefusal(.tooLarge, "the bundle file \(path) is \(size.map { "\($0) bytes" } ?? "larger than the cap"); a bundle is at most \(maxBytes) bytes (1 MiB), so it was not read")
        }
        return bytes
    }
}
