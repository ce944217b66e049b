import Foundation
import Synchronization

/// `HTTPTransport` over libcurl. Each request runs on its own thread (GCD's global queue runs only
/// about two blocking calls at a time on two cores: toolchain notes §2), borrowing an easy handle
/// from a small pool so that connections to the same server are reused.
public final class CurlTransport: HTTPTransport {
    private let pool = Mutex<[CurlSession]>([])
    private let options: HTTPOptions
    private let maxPooled = 8

    public init(_ options: HTTPOptions = HTTPOptions()) {
        self.options = options
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<HTTPResponse, any Error>) in
            let thread = Thread { [self] in
                let session = self.borrow()
                let result = Result { () throws(HTTPTransportError) -> HTTPResponse in try session.perform(request) }
                self.giveBack(session)
                c.resume(with: result.mapError { $0 as any Error })
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func borrow() -> CurlSession {
        pool.withLock { $0.popLast() } ?? CurlSession(options)
    }

    private func giveBack(_ s: CurlSession) {
        pool.withLock { p in if p.count < maxPooled { p.append(s) } }
    }
}
