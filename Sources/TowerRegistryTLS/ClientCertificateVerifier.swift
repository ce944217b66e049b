import Crypto
import Foundation
import Logging
import NIOSSL
import SwiftASN1
import TowerDomain
import TowerRegistry
import X509

/// Verifies a client's certificate chain in the handshake: built up to the client CA, within its
/// dates, and not revoked by `--crl`. It replaces BoringSSL's own verification (NIOSSL's custom
/// callback replaces all of it, and NIOSSL has no CRL support), so it does all three, with
/// swift-certificates; a refused certificate never reaches a route.
struct ClientCertificateVerifier: Sendable {
    let roots: [Certificate]
    let revocations: RevocationFile?
    let logger: Logger

    func verify(_ presented: [NIOSSLCertificate]) async -> NIOSSLVerificationResult {
        guard let first = presented.first, let leaf = try? Certificate(derEncoded: first.toDERBytes()) else {
            logger.notice("client certificate refused: not a readable X.509 certificate")
            return .failed
        }
        let intermediates = presented.dropFirst().compactMap { try? Certificate(derEncoded: $0.toDERBytes()) }
        let list = revocations?.current
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy()
            NotRevoked(list: list)
        }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates)) {
        case .validCertificate:
            return .certificateVerified
        case .couldNotValidate(let failures):
            let why = failures.first.map { "\($0.policyFailureReason)" }
                ?? "it does not chain to the client CA (--client-ca)"
            logger.notice("client certificate refused", metadata: [
                "subject": .string(Names.printable(leaf.subject.description, limit: 200)),
                "sha256": .string(Self.fingerprint(Array(first.toDERBytesOrEmpty()))), "reason": .string(why),
            ])
            return .failed
        }
    }

    static func fingerprint(_ der: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: der))
    }
}

/// Refuses a chain whose leaf or intermediate the current revocation list names.
struct NotRevoked: VerifierPolicy {
    let list: RevocationList?
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = []

    mutating func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        guard let list else { return .meetsPolicy }
        if let revoked = chain.first(where: { list.revokes($0) }) {
            let subject = revoked.subject.description
            return .failsToMeetPolicy(reason: "the certificate \(subject) is revoked (--crl)")
        }
        return .meetsPolicy
    }
}

extension NIOSSLCertificate {
    func toDERBytesOrEmpty() -> [UInt8] { (try? toDERBytes()) ?? [] }
}

extension PeerCertificate {
    /// What the identities file matches on, read from a certificate the handshake verified.
    init?(_ certificate: NIOSSLCertificate) {
        guard let der = try? certificate.toDERBytes(), let x = try? Certificate(derEncoded: der) else { return nil }
        var cn: String?
        for rdn in x.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                cn = String(attribute.value)
            }
        }
        var emails: [String] = [], dns: [String] = []
        if let sans = (try? x.extensions.subjectAlternativeNames) ?? nil {
            for name in sans {
                switch name {
                case .rfc822Name(let e): emails.append(e)
                case .dnsName(let d): dns.append(d)
                default: break
                }
            }
        }
        self.init(subject: x.subject.description, commonName: cn, emails: emails, dnsNames: dns,
                  sha256: ClientCertificateVerifier.fingerprint(der))
    }
}
