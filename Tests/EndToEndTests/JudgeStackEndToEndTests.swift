import Foundation
import Testing

/// `tower judge` on the whole stack (real Envoy, Prometheus with the envoy profile, model servers
/// under load): a canary with three times the baseline's p99 is judged `fail` (exit 8) within three
/// minutes, while a healthy canary in the same run is never judged `fail`.
@Suite(.serialized) struct JudgeStackEndToEndTests {
    /// alpha v2's p99 three times the healthy 160 ms (its median, as the simulator's events do,
    /// by the square root); search-rank's v7 and v8 are both healthy (50/50).
    static let scenario = """
        rate: 20
        endpoints:
          alpha: {rate: 40, versions: {v2: {p50Ms: 60.6, p99Ms: 480, errorRatio: 0.002}}}

        """

    @Test func aSlowCanaryFailsWithinThreeMinutesAndAHealthyOneNever() throws {
        let dir = NSTemporaryDirectory() + "tower-judge-scenario-" + UUID().uuidString.prefix(8) + ".yaml"
        try Self.scenario.write(toFile: dir, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = try StackEndToEndTests.StackProcess(rateScale: 1, scenario: dir)
        defer { s.cleanUp() }
        let env = ["XDG_CONFIG_HOME": s.config]

        func judge(_ endpoint: String, _ version: String) throws -> HeadlessVerbTests.Run {
            try HeadlessVerbTests.tower(["judge", endpoint, "--version", version, "--context", "local"], env: env)
        }
        let start = Date()
        var slowFailedAfter: Double?
        var healthy: [Int32: Int] = [:]
        var lastSlow = "", lastHealthy = ""
        // Every 10 s for at most 3 minutes; after alpha fails, search-rank is watched a little
        // longer so a healthy canary is seen over at least 90 s.
        for _ in 0..<19 {
            let round = Date()
            if slowFailedAfter == nil {
                let r = try judge("alpha", "v2")
                lastSlow = r.out + r.err
                #expect([0, 8, 9].contains(r.status), "alpha v2: exit \(r.status) \(lastSlow)")
                if r.status == 8 { slowFailedAfter = Date().timeIntervalSince(start) }
            }
            let h = try judge("search-rank", "v8")
            healthy[h.status, default: 0] += 1
            if h.status != 9 || lastHealthy.isEmpty { lastHealthy = h.out + h.err }
            #expect(h.status != 8, "a healthy canary judged fail after \(Int(Date().timeIntervalSince(start))) s: \(h.out) \(h.err)")
            let elapsed = Date().timeIntervalSince(start)
            if slowFailedAfter != nil && elapsed >= 90 { break }
            if elapsed >= 180 { break }
            let rest = 10 - Date().timeIntervalSince(round)
            if rest > 0 { usleep(UInt32(rest * 1_000_000)) }
        }
        let failed = try #require(slowFailedAfter, "alpha v2 (p99 ×3) not judged fail within 3 minutes; last: \(lastSlow)")
        #expect(failed <= 180)
        #expect(healthy[0, default: 0] > 0, "the healthy canary passed at least once: \(healthy), last: \(lastHealthy)")
        print("judge on the stack: alpha v2 fail after \(Int(failed)) s; search-rank v8 exits \(healthy)")

        // The console says the same on alpha's Endpoint screen, judged from its own live window.
        let term = try StackEndToEndTests.console(s)
        defer { term.kill() }
        let verdict = term.waitUntil(timeout: 90) { screen in
            screen.split(separator: "\n").contains { $0.contains("v2 vs v1") && $0.contains("fail") && $0.contains("n = ") }
        }
        #expect(verdict.found, "the Endpoint screen shows v2's fail verdict with its sample sizes: \(verdict.screen)")
    }
}
