import Foundation
import Synchronization

/// A self-pipe: worker threads and signal handlers write a byte to wake the poll loop.
/// Signal handlers may only make async-signal-safe calls, so they write to a file descriptor kept
/// in a plain global rather than touching any Swift object.
nonisolated(unsafe) var wakeWriteFD: Int32 = -1
nonisolated(unsafe) var pendingSignal: Int32 = 0

enum SignalByte {
    static let terminate: UInt8 = 0x54 // "T"
    static let resize: UInt8 = 0x57 // "W"
    static let message: UInt8 = 0x4D // "M"
}

final class WakePipe: @unchecked Sendable {
    let readFD: Int32
    let writeFD: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw RuntimeError("cannot create the wake pipe: errno \(errno)") }
        readFD = fds[0]
        writeFD = fds[1]
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    func wake(_ byte: UInt8 = SignalByte.message) {
        var b = byte
        _ = write(writeFD, &b, 1)
    }

    /// Empties the pipe, returning what was in it.
    func drain() -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 64)
        while true {
            let n = read(readFD, &buf, buf.count)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }
}

public struct RuntimeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Installs handlers that turn SIGTERM, SIGINT, SIGHUP and SIGWINCH into bytes on the wake pipe, so
/// the loop restores the terminal itself and nothing happens inside a signal handler but a write.
enum Signals {
    static func install(wake: WakePipe) {
        wakeWriteFD = wake.writeFD
        let onTerminate: @convention(c) (Int32) -> Void = { sig in
            pendingSignal = sig
            var b = SignalByte.terminate
            _ = write(wakeWriteFD, &b, 1)
        }
        let onResize: @convention(c) (Int32) -> Void = { _ in
            var b = SignalByte.resize
            _ = write(wakeWriteFD, &b, 1)
        }
        for sig in [SIGTERM, SIGINT, SIGHUP] { signal(sig, onTerminate) }
        signal(SIGWINCH, onResize)
        signal(SIGPIPE, SIG_IGN)
    }

    static func reset() {
        for sig in [SIGTERM, SIGINT, SIGHUP, SIGWINCH] { signal(sig, SIG_DFL) }
    }
}
