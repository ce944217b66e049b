import Foundation
import Logging
import Synchronization
import SwiftASN1
import X509

/// A certificate revocation list (RFC 5280 §5), reduced to what refusing a client needs: its
/// issuer and the serial numbers it revokes. NIOSSL cannot check CRLs, so the list is parsed here
/// and consulted in the TLS handshake's verification; its signature must be the client CA's.
struct RevocationList: Sendable, Equatable {
    var issuer: DistinguishedName
    /// Serial numbers without leading zero bytes, so that encodings compare equal.
    var revoked: Set<[UInt8]>

    struct Invalid: Error, CustomStringConvertible { var description: String }

    /// Parses a PEM (`X509 CRL`) or DER list and checks its signature against `issuers`.
    init(bytes: [UInt8], issuers: [Certificate], source: String) throws {
        let der = Self.pemBody(bytes) ?? bytes
        let root: ASN1Node
        do { root = try DER.parse(der) } catch { throw Invalid(description: "\(source) is not a PEM or DER certificate revocation list") }
        var tbs: ASN1Node?, algorithm: ASN1ObjectIdentifier?, signature: ArraySlice<UInt8>?
        do {
            try DER.sequence(root, identifier: .sequence) { it in
                tbs = it.next()
                if let alg = it.next() {
                    algorithm = try DER.sequence(alg, identifier: .sequence) { a in
                        guard let oid = a.next() else { throw Invalid(description: "no algorithm") }
                        _ = a.next() // parameters, when present
                        return try ASN1ObjectIdentifier(derEncoded: oid)
                    }
                }
                if let s = it.next() { signature = try ASN1BitString(derEncoded: s).bytes }
            }
        } catch { throw Invalid(description: "\(source) is not a certificate revocation list (\(error))") }
        guard let tbs, let algorithm, let signature else { throw Invalid(description: "\(source) is an incomplete certificate revocation list") }

        var issuer: DistinguishedName?
        var revoked = Set<[UInt8]>()
        do {
            try DER.sequence(tbs, identifier: .sequence) { it in
                var node = it.next()
                if node?.identifier == .integer { node = it.next() } // version
                node = it.next() // the signature algorithm, repeated inside
                guard let name = node else { throw Invalid(description: "no issuer") }
                issuer = try DistinguishedName(derEncoded: name)
                _ = it.next() // thisUpdate
                while let n = it.next() {
                    // nextUpdate is a time, crlExtensions are [0]: the only SEQUENCE is the revoked list.
                    guard n.identifier == .sequence, case .constructed(let entries) = n.content else { continue }
                    for entry in entries {
                        guard case .constructed(let fields) = entry.content, let serial = fields.first(where: { _ in true }),
                              serial.identifier == .integer, case .primitive(let bytes) = serial.content else { continue }
                        revoked.insert(Self.trimmed(bytes))
                    }
                }
            }
        } catch let e as Invalid { throw Invalid(description: "\(source): \(e.description)") } catch {
            throw Invalid(description: "\(source) is not a certificate revocation list (\(error))")
        }
        guard let issuer else { throw Invalid(description: "\(source) names no issuer") }
        guard let ca = issuers.first(where: { $0.subject == issuer }) else {
            throw Invalid(description: "\(source) was issued by \(issuer), which is not the client CA (--client-ca)")
        }
        guard let alg = Self.signatureAlgorithm(algorithm),
              ca.publicKey.isValidSignature(Array(signature), for: Array(tbs.encodedBytes), signatureAlgorithm: alg) else {
            throw Invalid(description: "\(source)'s signature is not the client CA's (\(issuer)): refusing a list anyone could have written")
        }
        self.issuer = issuer
        self.revoked = revoked
    }

    func revokes(_ certificate: Certificate) -> Bool {
        certificate.issuer == issuer && revoked.contains(Self.trimmed(certificate.serialNumber.bytes))
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        let t = bytes.drop(while: { $0 == 0 })
        return t.isEmpty ? [0] : Array(t)
    }

    static func signatureAlgorithm(_ oid: ASN1ObjectIdentifier) -> Certificate.SignatureAlgorithm? {
        switch oid {
        case [1, 2, 840, 10045, 4, 3, 2]: .ecdsaWithSHA256
        case [1, 2, 840, 10045, 4, 3, 3]: .ecdsaWithSHA384
        case [1, 2, 840, 10045, 4, 3, 4]: .ecdsaWithSHA512
        case [1, 2, 840, 113549, 1, 1, 11]: .sha256WithRSAEncryption
        case [1, 2, 840, 113549, 1, 1, 12]: .sha384WithRSAEncryption
        case [1, 2, 840, 113549, 1, 1, 13]: .sha512WithRSAEncryption
        case [1, 3, 101, 112]: .ed25519
        default: nil
        }
    }

    /// The DER inside a PEM `X509 CRL` block, or nil when the bytes are not PEM.
    static func pemBody(_ bytes: [UInt8]) -> [UInt8]? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let begin = text.range(of: "-----BEGIN X509 CRL-----"),
              let end = text.range(of: "-----END X509 CRL-----", range: begin.upperBound..<text.endIndex) else { return nil }
        let base64 = text[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        return Data(base64Encoded: String(base64)).map { Array($0) }
    }
}

/// `--crl FILE`, read again whenever the file's modification time or size changes (checked at each
/// handshake: a stat is cheap beside one). A list that no longer parses or verifies keeps the last
/// good one in force, with an error in the log, rather than letting revoked certificates back in.
final class RevocationFile: Sendable {
    let path: String
    let issuers: [Certificate]
    let logger: Logger
    private struct Loaded: Sendable { var stamp: [Int64]; var list: RevocationList }
    private let state: Mutex<Loaded>

    init(path: String, issuers: [Certificate], logger: Logger) throws {
        self.path = path; self.issuers = issuers; self.logger = logger
        let (stamp, list) = try Self.read(path, issuers: issuers)
        state = Mutex(Loaded(stamp: stamp, list: list))
    }

    var current: RevocationList {
        let stamp = Self.stamp(path)
        if let list = state.withLock({ $0.stamp == stamp ? $0.list : nil }) { return list }
        do {
            let (s, list) = try Self.read(path, issuers: issuers)
            state.withLock { $0 = Loaded(stamp: s, list: list) }
            logger.notice("certificate revocation list reloaded", metadata: ["file": .string(path), "revoked": .stringConvertible(list.revoked.count)])
            return list
        } catch {
            logger.error("certificate revocation list not reloaded; the previous one stays in force", metadata: ["file": .string(path), "error": .string("\(error)")])
            return state.withLock { s in s.stamp = stamp; return s.list }
        }
    }

    static func stamp(_ path: String) -> [Int64] {
        var st = stat()
        guard stat(path, &st) == 0 else { return [] }
        return [Int64(st.st_mtim.tv_sec), Int64(st.st_mtim.tv_nsec), Int64(st.st_size), Int64(st.st_ino)]
    }

    static func read(_ path: String, issuers: [Certificate]) throws -> ([Int64], RevocationList) {
        let stamp = stamp(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RevocationList.Invalid(description: "cannot read the certificate revocation list \(path)")
        }
        return (stamp, try RevocationList(bytes: Array(data), issuers: issuers, source: path))
    }
}
