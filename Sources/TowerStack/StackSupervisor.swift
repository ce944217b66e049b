import Foundation
import TowerSim
import TowerHTTP

/// Starts the stack's parts in order and stops them in the reverse order, also when one of them
/// fails to start; then watches them while they run, saying only what changes. It knows nothing of
/// what the parts are (`LocalStack` says), so the ordering, the stop-all and the health reports
/// are tested with parts made up for the test.
public final class StackSupervisor: @unchecked Sendable {
    private let lock = NSLock()
    private var stops: [(name: String, stop: @Sendable () async -> Void)] = []
    private let say: @Sendable (String) -> Void

    public init(say: @escaping @Sendable (String) -> Void) { self.say = say }

    /// Starts one part: `body` starts it and returns it with how to stop it. Nothing is recorded
    /// when `body` throws (a part that failed to start has cleaned up after itself).
    public func start<T>(_ name: String, _ body: () async throws -> (T, stop: @Sendable () async -> Void)) async throws -> T {
        let (part, stop) = try await body()
        onStop(name, stop)
        return part
    }

    /// A process the stack started: stopped with SIGTERM, then SIGKILL.
    public func adopt(_ child: ChildProcess) -> ChildProcess {
        onStop(child.name) { child.stop() }
        return child
    }

    /// Something to undo when the stack stops, after everything started later has stopped.
    public func onStop(_ name: String, _ stop: @escaping @Sendable () async -> Void) {
        lock.withLock { stops.append((name, stop)) }
    }

    /// The names of what would be stopped, in the order it would be.
    public var stopOrder: [String] { lock.withLock { stops.reversed().map(\.name) } }

    /// Stops everything started, last first; each once, however often this is called.
    public func stopAll() async {
        let all = lock.withLock { () -> [(name: String, stop: @Sendable () async -> Void)] in
            defer { stops.removeAll() }
            return stops
        }
        for s in all.reversed() { await s.stop() }
    }

    /// Runs `body` (which starts the parts and waits while they run); whether it returns or
    /// throws, everything it started is stopped before this returns or rethrows.
    public func run<T>(_ body: (StackSupervisor) async throws -> T) async throws -> T {
        do {
            let result = try await body(self)
            await stopAll()
            return result
        } catch {
            await stopAll()
            throw error
        }
    }

    /// A part's health check: nil when healthy, else why not.
    public struct HealthCheck: Sendable {
        public var part: String
        public var check: @Sendable () async -> String?
        public init(part: String, check: @escaping @Sendable () async -> String?) { self.part = part; self.check = check }

        /// Healthy while `url` answers 2xx within two seconds.
        public static func http(_ part: String, _ url: String, transport: any HTTPTransport = CurlTransport()) -> HealthCheck {
            HealthCheck(part: part) {
                do {
                    let r = try await transport.send(HTTPRequest(url: url, timeout: .seconds(2)))
                    return (200..<300).contains(r.status) ? nil : "\(url) answered \(r.status)"
                } catch {
                    return "\(url): \(error)"
                }
            }
        }
    }

    /// Until cancelled: says when a child dies (with its log tail), and when a part stops or
    /// starts answering its check (every `checkEvery` ticks); the rest keeps running so its state
    /// can be looked at. A part whose process died is not checked any more: its death was said.
    public func watch(_ children: [ChildProcess], checks: [HealthCheck], tick: Duration = .seconds(1), checkEvery: Int = 5) async {
        var reported = Set<String>()
        var health = StackHealth()
        var n = 0
        while !Task.isCancelled {
            for c in children where !reported.contains(c.name) {
                if let how = c.ended {
                    reported.insert(c.name)
                    say("\(c.name) \(how) — its log: \(c.logPath)\n\(c.logTail())")
                }
            }
            if n % checkEvery == 0 {
                for c in checks where !reported.contains(c.part) {
                    let why = await c.check()
                    if let line = health.update(c.part, healthy: why == nil, detail: why ?? "") { say(line) }
                }
            }
            n += 1
            try? await Task.sleep(for: tick)
        }
    }

    /// Polls `url` until it answers 2xx (and its body holds `body`, if given); fails early, with
    /// its log, if `process` dies.
    public static func waitHealthy(_ name: String, _ url: String, _ process: ChildProcess?, seconds: Double = 30,
                                   body: String? = nil, transport: any HTTPTransport = CurlTransport()) async throws {
        let http = transport
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let how = process?.ended {
                throw StackError("\(name) \(how) while starting; its log (\(process?.logPath ?? "")):\n\(process?.logTail() ?? "")")
            }
            if let r = try? await http.send(HTTPRequest(url: url, timeout: .seconds(1))), (200..<300).contains(r.status),
               body.map({ r.text.contains($0) }) ?? true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw StackError("\(name) did not become healthy at \(url) within \(Int(seconds)) s" +
                         (process.map { "; its log (\($0.logPath)):\n\($0.logTail())" } ?? ""))
    }
}
