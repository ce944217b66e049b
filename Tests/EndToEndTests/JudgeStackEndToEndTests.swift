import Foundation
import Testing

/// `tower judge` on the whole stack (real Envoy, Prometheus with the envoy profile, model servers
/// under load): a canary with three times the baseline's p99 is judged `fail` (exit 8) within three
/// minutes, while a healthy canary in the same stack is watched for five minutes and never judged
/// `fail`. The two run side by side, so the test takes five minutes, not eight.
@Suite(.serialized) struct JudgeStackEndToEndTests {
    /// alpha v2's p99 three times the healthy 160 ms (its median, as the simulator's events do,
    /// by the square root); search-rank's v7 and v8 are both healthy (50/50).
    static let scenario = """
        rate: 20
        endpoints:
          alpha: {rate: 40, versions: {v2: {p50Ms: 60.6, p99Ms: 480, errorRatio: 0.002}}}

        """

    /// How long the healthy canary is watched, and how often.
    static let healthyWatch: TimeInterval = 300
    static let every: TimeInterval = 10

    /// What the healthy watch saw, written by its thread and read once it is done.
    final class Watch: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var exits: [Int32: Int] = [:]
        private(set) var fails: [String] = []
        private(set) var last = ""
        private(set) var watchedFor: TimeInterval = 0
        let done = DispatchSemaphore(value: 0)

        func record(_ status: Int32, _ output: String, after: TimeInterval) {
            lock.lock(); defer { lock.unlock() }
            exits[status, default: 0] += 1
            if status == 8 { fails.append("after \(Int(after)) s: \(output)") }
            if status != 9 || last.isEmpty { last = output }
            watchedFor = after
        }
    }

    @Test func aSlowCanaryFailsWithinThreeMinutesAndAHealthyOneNeverOverFive() throws {
        let dir = NSTemporaryDirectory() + "tower-judge-scenario-" + UUID().uuidString.prefix(8) + ".yaml"
        try Self.scenario.write(toFile: dir, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = try StackEndToEndTests.StackProcess(rateScale: 1, scenario: dir)
        defer { s.cleanUp() }
        let env = ["XDG_CONFIG_HOME": s.config]

        @Sendable func judge(_ endpoint: String, _ version: String) throws -> HeadlessVerbTests.Run {
            try HeadlessVerbTests.tower(["judge", endpoint, "--version", version, "--context", "local"], env: env)
        }
        let start = Date()

        // The healthy canary, every 10 s for five minutes, on its own thread.
        let watch = Watch()
        Thread {
            defer { watch.done.signal() }
            while Date().timeIntervalSince(start) < Self.healthyWatch {
                let round = Date()
                let h = (try? judge("search-rank", "v8")) ?? HeadlessVerbTests.Run(status: -1, out: "", err: "tower could not be started")
                watch.record(h.status, h.out + h.err, after: Date().timeIntervalSince(start))
                let rest = Self.every - Date().timeIntervalSince(round)
                if rest > 0 { usleep(UInt32(rest * 1_000_000)) }
            }
        }.start()

        // Meanwhile the slow canary, every 10 s until it fails or three minutes pass.
        var slowFailedAfter: Double?
        var lastSlow = ""
        while slowFailedAfter == nil && Date().timeIntervalSince(start) < 180 {
            let round = Date()
            let r = try judge("alpha", "v2")
            lastSlow = r.out + r.err
            #expect([0, 8, 9].contains(r.status), "alpha v2: exit \(r.status) \(lastSlow)")
            if r.status == 8 { slowFailedAfter = Date().timeIntervalSince(start); break }
            let rest = Self.every - Date().timeIntervalSince(round)
            if rest > 0 { usleep(UInt32(rest * 1_000_000)) }
        }
        let failed = try #require(slowFailedAfter, "alpha v2 (p99 ×3) not judged fail within 3 minutes; last: \(lastSlow)")
        #expect(failed <= 180)

        // The console says the same on alpha's Endpoint screen, judged from its own live window,
        // while the healthy watch goes on.
        do {
            let term = try StackEndToEndTests.console(s)
            defer { term.kill() }
            let verdict = term.waitUntil(timeout: 90) { screen in
                screen.split(separator: "\n").contains { $0.contains("v2 vs v1") && $0.contains("fail") && $0.contains("n = ") }
            }
            #expect(verdict.found, "the Endpoint screen shows v2's fail verdict with its sample sizes: \(verdict.screen)")
        }

        #expect(watch.done.wait(timeout: .now() + Self.healthyWatch + 60) == .success, "the healthy watch did not end")
        #expect(watch.fails.isEmpty, "a healthy canary judged fail: \(watch.fails)")
        #expect(watch.watchedFor >= Self.healthyWatch - 2 * Self.every, "watched for \(Int(watch.watchedFor)) s only")
        #expect(watch.exits[0, default: 0] > 0, "the healthy canary passed at least once: \(watch.exits), last: \(watch.last)")
        print("judge on the stack: alpha v2 fail after \(Int(failed)) s; search-rank v8 over \(Int(watch.watchedFor)) s exits \(watch.exits)")
    }
}
