import Foundation
import Synchronization
import Testing
@testable import TowerSim
@testable import TowerStack

/// The stack's orchestration with parts made up for the test: what starts in what order, what is
/// stopped when one fails, and what the watch says.
@Suite struct StackSupervisorTests {
    final class Log: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ s: String) { lines.withLock { $0.append(s) } }
        var all: [String] { lines.withLock { $0 } }
    }

    struct Refused: Error, Equatable {}

    /// A value shared with the closures under test.
    final class Box<T: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var value: T
        init(_ v: T) { value = v }
        func with<R>(_ f: (inout T) -> R) -> R { lock.withLock { f(&value) } }
    }

    static func part(_ name: String, _ log: Log) -> () async throws -> (String, stop: @Sendable () async -> Void) {
        {
            log.add("start \(name)")
            return (name, { log.add("stop \(name)") })
        }
    }

    @Test func partsStartInOrderAndStopLastFirst() async throws {
        let log = Log()
        let s = StackSupervisor(say: { _ in })
        let started = try await s.run { s -> [String] in
            s.onStop("stack.json") { log.add("remove stack.json") }
            var names: [String] = []
            for name in ["models", "registry", "envoy"] { names.append(try await s.start(name, Self.part(name, log))) }
            #expect(s.stopOrder == ["envoy", "registry", "models", "stack.json"])
            log.add("running")
            return names
        }
        #expect(started == ["models", "registry", "envoy"])
        #expect(log.all == ["start models", "start registry", "start envoy", "running",
                            "stop envoy", "stop registry", "stop models", "remove stack.json"])
        // Stopped once: a second stopAll has nothing left to stop.
        await s.stopAll()
        #expect(log.all.count == 8)
    }

    @Test func aPartThatFailsToStartStopsTheOnesBeforeItAndNothingAfterStarts() async throws {
        let log = Log()
        let s = StackSupervisor(say: { _ in })
        await #expect(throws: Refused.self) {
            try await s.run { s in
                _ = try await s.start("models", Self.part("models", log))
                _ = try await s.start("registry", Self.part("registry", log))
                _ = try await s.start("envoy") { () async throws -> (String, stop: @Sendable () async -> Void) in
                    log.add("start envoy")
                    throw Refused()
                }
                _ = try await s.start("prometheus", Self.part("prometheus", log))
            }
        }
        #expect(log.all == ["start models", "start registry", "start envoy", "stop registry", "stop models"])
        #expect(s.stopOrder.isEmpty)
    }

    @Test func aStartedProcessIsStoppedWhenALaterPartFails() async throws {
        let dir = NSTemporaryDirectory() + "supervisor-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = StackSupervisor(say: { _ in })
        let child = Box<ChildProcess?>(nil)
        await #expect(throws: Refused.self) {
            try await s.run { s in
                child.with { $0 = try? ChildProcess(name: "sleeper", executable: "/bin/sleep", arguments: ["60"], logPath: dir + "/sleeper.log") }
                guard let c = child.with({ $0 }) else { Issue.record("could not start /bin/sleep"); return }
                _ = s.adopt(c)
                #expect(c.isRunning)
                throw Refused()
            }
        }
        #expect(child.with { $0?.isRunning } == false, "the process the stack started is gone")
    }

    @Test func theWatchSaysOnlyChangesAndADeathOnce() async throws {
        let dir = NSTemporaryDirectory() + "supervisor-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let said = Log()
        let s = StackSupervisor(say: { said.add($0) })
        // Envoy answers, fails twice, answers again; the registry's process dies and is not checked after.
        let envoy = Box<[String?]>([nil, "admin answered 503", "admin answered 503", nil])
        let registryChecks = Box(0)
        let dying = try ChildProcess(name: "registry", executable: "/bin/sh", arguments: ["-c", "echo last words; exit 3"],
                                     logPath: dir + "/registry.log")
        dying.waitUntilExit()
        let checks = [
            StackSupervisor.HealthCheck(part: "envoy") { envoy.with { $0.isEmpty ? nil : $0.removeFirst() } },
            StackSupervisor.HealthCheck(part: "registry") { registryChecks.with { $0 += 1 }; return "refused" },
        ]
        let watch = Task { await s.watch([dying], checks: checks, tick: .milliseconds(5), checkEvery: 2) }
        defer { watch.cancel() }
        // A condition, not a time: 4 checks take 40 ms alone, but in the full parallel run on two busy
        // cores this suite's tasks once waited over 20 s for a thread (seen 2026-11-28), so the
        // bound is generous.
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline, !(said.all.contains("envoy healthy again") && envoy.with({ $0.isEmpty })) {
            try await Task.sleep(for: .milliseconds(5))
        }
        watch.cancel()
        await watch.value
        let lines = said.all
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.first == "registry exited 3 — its log: \(dir)/registry.log\nlast words")
        #expect(Array(lines.dropFirst()) == ["envoy unhealthy: admin answered 503", "envoy healthy again"])
        #expect(registryChecks.with { $0 } == 0, "a dead part is not health-checked")
    }

    @Test func anHTTPCheckSaysWhyAPartIsUnhealthy() async throws {
        let port = try StackFiles.freePort()
        let why = await StackSupervisor.HealthCheck.http("registry", "http://127.0.0.1:\(port)/readyz").check()
        #expect(why?.hasPrefix("http://127.0.0.1:\(port)/readyz: ") == true, "\(why ?? "healthy")")
    }
}
