import Foundation
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import TowerDomain
import TowerRegistry
import X509

/// `tower-registry serve --tls-cert --tls-key [--client-ca [--require-client-cert] [--crl]]`:
/// the files, checked and loaded once at start.
public struct RegistryTLSSettings: Sendable, Equatable {
    public var certificateFile: String
    public var keyFile: String
    public var clientCAFile: String?
    public var requireClientCertificate: Bool
    public var revocationFile: String?
    /// A file whose first line is the passphrase of an encrypted `keyFile` (private to its owner).
    public var keyPasswordFile: String?

    public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil,
                requireClientCertificate: Bool = false, revocationFile: String? = nil, keyPasswordFile: String? = nil) {
        self.certificateFile = certificateFile; self.keyFile = keyFile; self.clientCAFile = clientCAFile
        self.requireClientCertificate = requireClientCertificate; self.revocationFile = revocationFile
        self.keyPasswordFile = keyPasswordFile
    }
}

public struct RegistryTLSError: Error, CustomStringConvertible, Equatable {
    public var description: String
    init(_ d: String) { description = d }
}

/// The registry's TLS, through HummingbirdTLS over NIOSSL: TLS 1.2 at least (1.3 preferred, as
/// NIOSSL offers), client certificates verified against `--client-ca` and the CRL, and the
/// verified certificate of each connection recorded for the auth middleware.
public struct RegistryTLS: Sendable {
    public let settings: RegistryTLSSettings
    /// Verified client certificates by connection; give it to the router (`CertificateAuth`).
    public let peers = PeerCertificateTable()
    let channelConfiguration: TLSChannelConfiguration
    let logger: Logger

    public init(_ settings: RegistryTLSSettings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        if let problem = SecretFile.permissionProblem(settings.keyFile, kind: "key file") { throw RegistryTLSError(problem) }
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(settings.certificateFile) } catch {
            throw RegistryTLSError("cannot read a PEM certificate chain from --tls-cert \(settings.certificateFile)")
        }
        if chain.isEmpty { throw RegistryTLSError("--tls-cert \(settings.certificateFile) holds no certificate") }
        let key: NIOSSLPrivateKey
        // The errors say which file, never what is in it.
        if let passwordFile = settings.keyPasswordFile {
            let password = try Self.readPassword(passwordFile)
            do {
                key = try NIOSSLPrivateKey(file: settings.keyFile, format: .pem) { (set: NIOSSLPassphraseSetter<[UInt8]>) in set(password) }
            } catch {
                throw RegistryTLSError("cannot read the PEM private key --tls-key \(settings.keyFile) with the passphrase in --tls-key-password-file \(passwordFile): a wrong passphrase, or not a key")
            }
        } else {
            do { key = try NIOSSLPrivateKey(file: settings.keyFile, format: .pem) } catch {
                throw RegistryTLSError("cannot read a PEM private key from --tls-key \(settings.keyFile) (if it is encrypted, give its passphrase in a file with --tls-key-password-file)")
            }
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        guard let caFile = settings.clientCAFile else {
            channelConfiguration = TLSChannelConfiguration(tlsConfiguration: tls)
            return
        }
        let caNIO: [NIOSSLCertificate]
        let roots: [Certificate]
        do {
            caNIO = try NIOSSLCertificate.fromPEMFile(caFile)
            roots = try caNIO.map { try Certificate(derEncoded: $0.toDERBytes()) }
        } catch { throw RegistryTLSError("cannot read PEM CA certificates from --client-ca \(caFile)") }
        if roots.isEmpty { throw RegistryTLSError("--client-ca \(caFile) holds no certificate") }
        tls.trustRoots = .certificates(caNIO)
        tls.sendCANameList = true
        tls.certificateVerification = settings.requireClientCertificate ? .noHostnameVerification : .optionalVerification
        var revocations: RevocationFile?
        if let crl = settings.revocationFile {
            do { revocations = try RevocationFile(path: crl, issuers: roots, logger: logger) } catch {
                throw RegistryTLSError("\(error)")
            }
        }
        let verifier = ClientCertificateVerifier(roots: roots, revocations: revocations, logger: logger)
        channelConfiguration = TLSChannelConfiguration(tlsConfiguration: tls, customAsyncVerificationCallback: { presented in
            await verifier.verify(presented)
        })
    }

    /// The first line of `file`, private to its owner as a key file must be.
    static func readPassword(_ file: String) throws -> [UInt8] {
        if let problem = SecretFile.permissionProblem(file, kind: "key password file") { throw RegistryTLSError(problem) }
        guard let data = FileManager.default.contents(atPath: file) else { throw RegistryTLSError("cannot read --tls-key-password-file \(file)") }
        var line = Array(data.prefix { $0 != UInt8(ascii: "\n") })
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        if line.isEmpty { throw RegistryTLSError("--tls-key-password-file \(file) is empty: its first line is the key's passphrase") }
        return line
    }

    /// Wraps each connection's HTTP channel: plaintext answered with a sentence, then TLS, then
    /// the peer's certificate recorded once the handshake completes.
    public var wrapper: ChannelWrapper {
        let configuration = channelConfiguration
        let peers = peers
        return ChannelWrapper { inner, limits in
            func wrap<Base: ServerChildChannel>(_ base: Base) throws -> any ServerChildChannel {
                let recorded = PeerRecordingChannel(base: base, peers: peers, handshakeTimeout: limits.headerTimeout)
                return PlaintextProbeChannel(base: try TLSChannel(recorded, configuration: configuration))
            }
            return try wrap(inner)
        }
    }
}

/// First in the pipeline of a TLS port: a client speaking plain HTTP to it gets a plain-HTTP 400
/// that says to use https://, rather than a connection closed without a word.
struct PlaintextProbeChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(PlaintextProbe())
        }.flatMap { base.setup(channel: channel, logger: logger) }
    }

    func handle(value: Value, logger: Logger) async { await base.handle(value: value, logger: logger) }
}

final class PlaintextProbe: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        // Every TLS connection opens with a handshake record (content type 22).
        if let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), first != 0x16 {
            let port = context.channel.localAddress?.port.map { ":\($0)" } ?? ""
            let detail = "this port speaks TLS: use https:// (https://HOST\(port)), with the registry's CA (--ca-file or the context's tls.caFile)"
            let body = #"{"type":"about:blank","title":"Bad Request","status":400,"detail":"\#(detail)"}"#
            let head = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
            var out = context.channel.allocator.buffer(capacity: head.utf8.count + body.utf8.count)
            out.writeString(head + body)
            context.writeAndFlush(wrapOutboundOut(out)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// After TLS: records the verified client certificate for the auth middleware, and closes a
/// connection whose handshake has not completed in time (a slow handshake holds a connection as a
/// slow request head would).
struct PeerRecordingChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let peers: PeerCertificateTable
    let handshakeTimeout: Duration

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(PeerRecorder(peers: peers, timeout: handshakeTimeout, logger: logger))
        }.flatMap { base.setup(channel: channel, logger: logger) }
    }

    func handle(value: Value, logger: Logger) async { await base.handle(value: value, logger: logger) }
}

final class PeerRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let peers: PeerCertificateTable
    let timeout: Duration
    let logger: Logger
    private var timer: Scheduled<Void>?
    private var recorded = false

    init(peers: PeerCertificateTable, timeout: Duration, logger: Logger) {
        self.peers = peers; self.timeout = timeout; self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let ns = Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        timer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: .nanoseconds(ns)) {
            self.timer = nil
            self.logger.notice("TLS handshake too slow", metadata: ["address": .string(context.channel.remoteAddress?.ipAddress ?? "unknown")])
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? TLSUserEvent, case .handshakeCompleted = e {
            timer?.cancel()
            timer = nil
            if let ssl = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
               let certificate = ssl.peerCertificate, let peer = PeerCertificate(certificate) {
                peers.set(peer, for: context.channel)
                recorded = true
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if recorded { peers.remove(for: context.channel); recorded = false }
        context.fireChannelInactive()
    }
}
