import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TowerDomain
@testable import TowerRegistry
#if canImport(Glibc)
import Glibc
#endif

/// The per-connection limits on a real socket: a slow head, a slow body, an idle keep-alive
/// connection and too many connections from one address are each closed, with a problem where
/// one can still be sent.
@Suite struct ConnectionLimitTests {
    // Long enough for a loaded machine's event loop, short enough to wait for.
    // The idle timeout is well the longer, so that a slow head or body meets its own deadline
    // first even when the suite's other tests keep the machine busy.
    static let limits = ServerLimits(connectionsPerAddress: 3, headerTimeout: .milliseconds(1500), bodyTimeout: .milliseconds(1500),
                                     idleTimeout: .seconds(6), maxHeaderBytes: 8 * 1024)

    static func run(_ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let h = try await Harness()
        defer { h.cleanUp() }
        var logger = Logger(label: "limits")
        logger.logLevel = .critical
        let app = buildApplication(store: h.store, host: "127.0.0.1", port: 0, logger: logger, limits: limits)
        try await app.test(.live) { client in try await body(try #require(client.port)) }
    }

    @Test func aHeadThatDoesNotArriveInTimeIs408AndClosed() async throws {
        try await Self.run { port in
            let s = try RawSocket(port: port)
            let start = ContinuousClock.now
            try s.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")
            let answer = await s.readUntilClosed()
            #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
            #expect(answer.contains("application/problem+json"))
            #expect(ContinuousClock.now - start < .seconds(14))
        }
    }

    @Test func aBodyThatDoesNotArriveInTimeIs408AndClosed() async throws {
        try await Self.run { port in
            let s = try RawSocket(port: port)
            try s.send("POST /v3/discovery:clusters HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"node\":")
            let answer = await s.readUntilClosed()
            #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
            #expect(answer.contains("did not arrive in time"))
        }
    }

    @Test func anIdleConnectionIsClosedAndABusyOneServed() async throws {
        try await Self.run { port in
            let s = try RawSocket(port: port)
            for _ in 0..<2 {
                try s.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                let r = await s.read(until: "{\"status\":\"ok\"}")
                #expect(r.hasPrefix("HTTP/1.1 200"), "keep-alive serves request after request: \(r)")
            }
            let start = ContinuousClock.now
            #expect(await s.readUntilClosed().isEmpty)
            #expect(ContinuousClock.now - start < .seconds(14))
        }
    }

    @Test func connectionsOverTheCapPerAddressAre429() async throws {
        try await Self.run { port in
            // Hummingbird's test client may hold a connection of its own from 127.0.0.1 too, so
            // the cap of 3 leaves this test 2 or 3: open connections until one is refused.
            var held: [RawSocket] = []
            var refusal = ""
            for _ in 0..<5 {
                let s = try RawSocket(port: port)
                try? s.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                let r = await s.read(until: "{\"status\":\"ok\"}")
                if r.hasPrefix("HTTP/1.1 200") { held.append(s); continue }
                refusal = r
                break
            }
            #expect((2...3).contains(held.count), "served \(held.count) before the refusal")
            #expect(refusal.hasPrefix("HTTP/1.1 429"), "\(refusal)")
            #expect(refusal.contains("too many open connections from 127.0.0.1: at most 3"))
            held.removeLast().close()
            // Closing one frees its place, once the server has seen it go.
            let deadline = ContinuousClock.now + .seconds(10)
            var served = false
            while !served && ContinuousClock.now < deadline {
                let s = try RawSocket(port: port)
                try? s.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                served = await s.read(until: "{\"status\":\"ok\"}").hasPrefix("HTTP/1.1 200")
                s.close()
            }
            #expect(served)
        }
    }
}

/// A blocking TCP client on 127.0.0.1 whose reads give up after 15 s, so no test can hang.
final class RawSocket: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { Glibc.close(fd); throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ s: String) throws {
        let bytes = Array(s.utf8)
        if Glibc.send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) != bytes.count { throw POSIXError(.EPIPE) }
    }

    /// Everything until the peer closes (or 15 s pass with nothing).
    func readUntilClosed() async -> String { await read(until: nil) }

    /// Reads on a thread of its own: a blocking read on one of Swift's few shared threads would
    /// starve the server under test of the threads it answers on.
    func read(until marker: String?) async -> String {
        await withCheckedContinuation { c in
            Thread.detachNewThread { c.resume(returning: self.readBlocking(until: marker)) }
        }
    }

    private func readBlocking(until marker: String?) -> String {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            out += buf[0..<n]
            if let marker, String(decoding: out, as: UTF8.self).contains(marker) { break }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private var closed = false
    func close() { if !closed { closed = true; Glibc.close(fd) } }
    deinit { close() }
}
