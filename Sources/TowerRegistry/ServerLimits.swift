import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Synchronization
import TowerDomain

/// What one client may hold of the server: found missing by a fuzzing run, where 20 slow-loris
/// connections were held 18 s and a half-sent request idled 25 s, so that one unauthenticated
/// client could use up the process's open files.
public struct ServerLimits: Sendable {
    /// Open connections from one IP address; the next is answered 429 and closed.
    public var connectionsPerAddress: Int
    /// From a request's first byte to the end of its head (request line and headers): 408 after.
    public var headerTimeout: Duration
    /// For a handler reading the body, from the head to the body's last byte: 408 after.
    public var bodyTimeout: Duration
    /// A keep-alive connection with no request in progress is closed after this (Hummingbird's
    /// idle timeout; a long-poll watch in progress is not idle).
    public var idleTimeout: Duration
    /// All of a request's header fields together, and any one of them (431 above).
    public var maxHeaderBytes: Int
    /// Failed authentications one address may make a second (as many in reserve) before 429.
    public var authFailuresPerSecond: Double

    public init(connectionsPerAddress: Int = 64, headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(20),
                idleTimeout: Duration = .seconds(30), maxHeaderBytes: Int = 32 * 1024, authFailuresPerSecond: Double = 10) {
        self.connectionsPerAddress = connectionsPerAddress; self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout; self.idleTimeout = idleTimeout; self.maxHeaderBytes = maxHeaderBytes
        self.authFailuresPerSecond = authFailuresPerSecond
    }

    var nanoseconds: (header: Int64, body: Int64, idle: Int64) {
        func ns(_ d: Duration) -> Int64 { Int64(d.components.seconds) * 1_000_000_000 + d.components.attoseconds / 1_000_000_000 }
        return (ns(headerTimeout), ns(bodyTimeout), ns(idleTimeout))
    }
}

/// Open connections per IP address, shared by every connection's guard.
final class ConnectionCounter: Sendable {
    private let open = Mutex<[String: Int]>([:])

    func acquire(_ address: String, limit: Int) -> Bool {
        open.withLock { o in
            let n = o[address, default: 0]
            if n >= limit { return false }
            o[address] = n + 1
            return true
        }
    }

    func release(_ address: String) {
        open.withLock { o in
            let n = o[address, default: 1] - 1
            o[address] = n > 0 ? n : nil
        }
    }

    func count(_ address: String) -> Int { open.withLock { $0[address, default: 0] } }
}

/// Told by `HeadSignal` that a request's head has been decoded (sent outbound, so that it reaches
/// the guard at the head of the pipeline, below the codec).
struct RequestHeadRead: Sendable {}

/// Right after the HTTP codec: the first message read since the last response began is a
/// request's head, which it tells the `ConnectionGuard` on the spot (on the event loop, so a busy
/// application cannot make a complete head look late). It never looks inside the messages.
final class HeadSignal: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = Any
    typealias InboundOut = Any
    typealias OutboundIn = Any
    typealias OutboundOut = Any
    private var signalled = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !signalled {
            signalled = true
            context.triggerUserOutboundEvent(RequestHeadRead(), promise: nil)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        signalled = false
        context.write(data, promise: promise)
    }
}

/// Told when a request's body did not arrive in time: the connection is closed once its 408 has
/// had a moment to go out, since the rest of that body would otherwise be waited for.
struct CloseAfterTimeout: Sendable {}

/// The first handler of every connection, on raw bytes: counts the connection against its
/// address's cap, and closes a connection whose request head does not arrive in time. The head's
/// end is known from `HeadSignal`'s `RequestHeadRead`; the response's first bytes make the
/// connection wait for a next head.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let limits: ServerLimits
    let counter: ConnectionCounter
    let logger: Logger
    private var address: String?
    private var counted = false
    private var awaitingHead = true
    private var headTimer: Scheduled<Void>?
    private var closeAfterFlush = false

    init(limits: ServerLimits, counter: ConnectionCounter, logger: Logger) {
        self.limits = limits; self.counter = counter; self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context)
        context.fireChannelActive()
    }

    private func admit(_ context: ChannelHandlerContext) {
        guard address == nil else { return }
        let a = context.channel.remoteAddress?.ipAddress ?? "unknown"
        address = a
        if counter.acquire(a, limit: limits.connectionsPerAddress) {
            counted = true
        } else {
            logger.notice("connection refused", metadata: ["address": .string(a), "limit": .stringConvertible(limits.connectionsPerAddress)])
            refuse(context, status: 429, extra: "Retry-After: 1\r\n",
                   detail: "too many open connections from \(a): at most \(limits.connectionsPerAddress); close idle ones or reuse them (keep-alive)")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        headTimer?.cancel()
        headTimer = nil
        if counted, let address { counter.release(address); counted = false }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if awaitingHead && headTimer == nil {
            let timeout = limits.headerTimeout
            headTimer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: .nanoseconds(limits.nanoseconds.header)) {
                self.headTimer = nil
                self.logger.notice("request head too slow", metadata: ["address": .string(self.address ?? "unknown")])
                self.refuse(context, status: 408, extra: "",
                            detail: "the request's headers did not arrive within \(timeout.components.seconds) s of its first byte")
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // A response has begun, so the request before it was read: the next bytes start a new head.
        if !awaitingHead { awaitingHead = true }
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        context.flush()
        guard closeAfterFlush else { return }
        closeAfterFlush = false
        // A moment for the answer to leave before the close, as `refuse` gives its own.
        context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: .milliseconds(200)) { context.close(promise: nil) }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if event is RequestHeadRead {
            headTimer?.cancel()
            headTimer = nil
            awaitingHead = false
            promise?.succeed(())
            return
        }
        if event is CloseAfterTimeout {
            // The 408 is written after this event, once the error has passed the middleware: on a
            // loaded machine that took longer than a fixed delay, and the connection closed before
            // its answer (seen at load average 12). So close a moment after the next flush, the
            // answer's, with a later close in case no answer ever comes.
            closeAfterFlush = true
            context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: .seconds(5)) { context.close(promise: nil) }
            promise?.succeed(())
            return
        }
        context.triggerUserOutboundEvent(event, promise: promise)
    }

    /// Answers with a problem written here, below the HTTP codec (which is not in a state to be
    /// asked), and closes the connection.
    private func refuse(_ context: ChannelHandlerContext, status: Int, extra: String, detail: String) {
        let title = ProblemMiddleware.title(status)
        let body = (try? Wire.encoder().encode(Problem(status: status, title: title, detail: detail))) ?? Data()
        let head = "HTTP/1.1 \(status) \(title)\r\nContent-Type: application/problem+json\r\nContent-Length: \(body.count)\r\n\(extra)Connection: close\r\n\r\n"
        var buffer = context.channel.allocator.buffer(capacity: head.utf8.count + body.count)
        buffer.writeString(head)
        buffer.writeBytes(body)
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

/// HTTP/1.1 as Hummingbird serves it, with a `ConnectionGuard` first in every connection's
/// pipeline and the decoder's header limits and idle timeout set from `ServerLimits`.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let inner: HTTP1Channel
    let limits: ServerLimits
    let counter: ConnectionCounter

    init(responder: @escaping HTTPChannelHandler.Responder, limits: ServerLimits, counter: ConnectionCounter) {
        var configuration = HTTP1Channel.Configuration(
            idleTimeout: .nanoseconds(limits.nanoseconds.idle),
            // Twice the limit: between the two, RequestLimitsMiddleware answers a 431 that says
            // so; past it the decoder stops reading and Hummingbird answers a bare 400 and closes.
            httpDecoderConfiguration: .init(maxHeaderFieldSize: 2 * limits.maxHeaderBytes, maxHeaderListSize: 2 * limits.maxHeaderBytes))
        configuration.additionalChannelHandlers = { [HeadSignal()] }
        inner = HTTP1Channel(responder: responder, configuration: configuration)
        self.limits = limits
        self.counter = counter
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ConnectionGuard(limits: limits, counter: counter, logger: logger))
        }.flatMap { inner.setup(channel: channel, logger: logger) }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// Wraps each connection's guarded HTTP/1.1 channel in another layer (TLS, from TowerRegistryTLS,
/// which TowerRegistry does not import so that the console links no TLS library of its own).
/// (A struct, not a bare closure, so that a trailing `onListening` closure is never taken for it.)
public struct ChannelWrapper: Sendable {
    let wrap: @Sendable (any ServerChildChannel, ServerLimits) throws -> any ServerChildChannel
    public init(_ wrap: @escaping @Sendable (any ServerChildChannel, ServerLimits) throws -> any ServerChildChannel) { self.wrap = wrap }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with the registry's per-connection limits, wrapped by `wrap` when given.
    static func guardedHTTP1(_ limits: ServerLimits, counter: ConnectionCounter = ConnectionCounter(),
                             wrap: ChannelWrapper? = nil) -> HTTPServerBuilder {
        .init { responder in
            let plain = GuardedHTTP1Channel(responder: responder, limits: limits, counter: counter)
            return try wrap?.wrap(plain, limits) ?? plain
        }
    }
}
