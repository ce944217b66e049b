import Foundation
import NIOCore
import Synchronization
import TowerDomain

/// A client certificate the TLS layer has verified (chain, dates, revocation), reduced to what the
/// identities file matches on and what the audit records. TowerRegistry never sees TLS itself
/// (TowerRegistryTLS does), so that `tower demo`, which embeds the registry, links no TLS library.
public struct PeerCertificate: Sendable, Equatable {
    /// The whole subject DN, RFC 4514 order: `CN=alice,O=Tower`.
    public var subject: String
    public var commonName: String?
    public var emails: [String]
    public var dnsNames: [String]
    /// SHA-256 of the certificate's DER, lower-case hex.
    public var sha256: String

    public init(subject: String, commonName: String?, emails: [String] = [], dnsNames: [String] = [], sha256: String) {
        self.subject = subject; self.commonName = commonName; self.emails = emails; self.dnsNames = dnsNames; self.sha256 = sha256
    }

    /// How the audit names the certificate behind a call.
    public var auditLabel: String { "cert \(Names.printable(subject, limit: 200)) sha256:\(sha256)" }
}

/// The verified client certificate of each open TLS connection, written by the TLS layer when the
/// handshake completes and read by the auth middleware: Hummingbird's request context carries the
/// connection's channel, not its TLS state.
public final class PeerCertificateTable: Sendable {
    private let peers = Mutex<[ObjectIdentifier: PeerCertificate]>([:])

    public init() {}

    public func set(_ certificate: PeerCertificate, for channel: any Channel) {
        peers.withLock { $0[ObjectIdentifier(channel)] = certificate }
    }

    public func remove(for channel: any Channel) {
        _ = peers.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    public func certificate(for channel: any Channel) -> PeerCertificate? {
        peers.withLock { $0[ObjectIdentifier(channel)] }
    }

    public var count: Int { peers.withLock { $0.count } }
}
