import Crypto
import Foundation
import TowerSim
import SwiftASN1
import X509

/// `tower-sim stack --tls`: a throwaway CA and the certificates the stack needs, made in-process with
/// swift-certificates (P-256 keys, PKCS#8 PEM), so the stack needs no `openssl` binary. The CA's key
/// is never written: nothing outside this run can be signed by it, and the next run makes a new CA.
public struct StackPKI: Sendable {
    /// The client certificates the stack issues: the operator the `local` context signs in as, and
    /// the one Envoy presents to fetch its xDS (each mapped to its role by `identities`).
    public static let operatorName = "otto"
    public static let gatewayName = "gateway"

    public let dir: String
    public var caFile: String { dir + "/ca.pem" }
    public func cert(_ name: String) -> String { "\(dir)/\(name).pem" }
    public func key(_ name: String) -> String { "\(dir)/\(name).key" }
    public var identitiesFile: String { dir + "/identities.yaml" }

    /// The registry's `--identities`: first match wins, by the certificate's CN.
    public static let identities = """
        # Written by `tower-sim stack --tls`: which client certificate of the stack's CA has which role.
        - match: {cn: "\(operatorName)"}
          role: operator
        - match: {cn: "\(gatewayName)"}
          role: gateway

        """

    /// Makes the CA (valid for `days`), a server certificate for 127.0.0.1 and localhost, and the
    /// operator's and the gateway's client certificates, replacing whatever `dir` held. Keys are mode 0600.
    public static func make(in dir: String, days: Int = 30, now: Date = Date()) throws -> StackPKI {
        let pki = StackPKI(dir: dir)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let caKey = P256.Signing.PrivateKey()
            let caName = try DistinguishedName {
                OrganizationName("Tower")
                CommonName("Tower stack CA \(UUID().uuidString.prefix(8).lowercased())")
            }
            let caPublic = Certificate.PublicKey(caKey.publicKey)
            let caKeyID = keyIdentifier(caPublic)
            // A minute's grace either side of now: clocks of the processes that verify may differ a little.
            let from = now.addingTimeInterval(-60), until = now.addingTimeInterval(Double(days) * 86_400)
            let ca = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: caPublic, notValidBefore: from, notValidAfter: until,
                issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(keyIdentifier: caKeyID)
                },
                issuerPrivateKey: .init(caKey))
            try write(ca.serializeAsPEM().pemString + "\n", to: pki.caFile, mode: 0o644)

            func issue(_ name: String, commonName: String, server: Bool) throws {
                let key = P256.Signing.PrivateKey()
                let publicKey = Certificate.PublicKey(key.publicKey)
                let subject = try DistinguishedName {
                    OrganizationName("Tower")
                    CommonName(commonName)
                }
                let cert = try Certificate(
                    version: .v3, serialNumber: .init(), publicKey: publicKey, notValidBefore: from, notValidAfter: until,
                    issuer: caName, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                    extensions: try Certificate.Extensions {
                        Critical(BasicConstraints.notCertificateAuthority)
                        Critical(KeyUsage(digitalSignature: true))
                        try ExtendedKeyUsage([server ? .serverAuth : .clientAuth])
                        SubjectKeyIdentifier(keyIdentifier: keyIdentifier(publicKey))
                        AuthorityKeyIdentifier(keyIdentifier: caKeyID)
                        if server {
                            SubjectAlternativeNames([.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])), .dnsName("localhost")])
                        }
                    },
                    issuerPrivateKey: .init(caKey))
                try write(cert.serializeAsPEM().pemString + "\n", to: pki.cert(name), mode: 0o644)
                try write(key.pemRepresentation + "\n", to: pki.key(name), mode: 0o600)
            }
            try issue("server", commonName: "127.0.0.1", server: true)
            try issue(operatorName, commonName: operatorName, server: false)
            try issue(gatewayName, commonName: gatewayName, server: false)
            try write(identities, to: pki.identitiesFile, mode: 0o644)
        } catch let e as StackError {
            throw e
        } catch {
            throw StackError("cannot make the stack's certificates in \(dir): \(error)")
        }
        return pki
    }

    /// RFC 5280's SHA-1 key identifier (an identifier, not a security measure), as swift-certificates makes it.
    static func keyIdentifier(_ key: Certificate.PublicKey) -> ArraySlice<UInt8> {
        SubjectKeyIdentifier(hash: key).keyIdentifier
    }

    /// Created with its mode (never briefly readable by others), replacing an older file.
    static func write(_ text: String, to path: String, mode: Int) throws {
        unlink(path)
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw StackError("cannot write \(path)")
        }
    }
}
