import Foundation
import Testing
import TowerDomain
import TowerHTTP

/// The console's rollout keys in a real terminal against a real registry: `R` starts a rollout
/// with a runbook from `$XDG_CONFIG_HOME/tower/runbooks/`, the panel shows it with the time left
/// (and so does a new console after the first is killed),
/// `p` pauses and `p` resumes, `P` promotes past a pause, `A` aborts; the registry records each with the reason and the
/// token's name, and the aborted target's traffic is back on the baseline.
@Suite(.serialized) struct RolloutConsoleTmuxTests {
    @Test func startPauseResumePromoteAndAbortFromTheConsole() throws {
        let (reg, term, tokenFile, token) = try ConsoleTmuxTests.registryAndTerminal()
        defer { term.kill(); reg.cleanUp() }
        let config = reg.dataDir + "/config"
        try FileManager.default.createDirectory(atPath: config + "/tower/runbooks", withIntermediateDirectories: true)
        try "name: long\nsteps:\n  - setWeight: 25\n  - pause: 1h\n  - setWeight: 50\n  - pause: 1h\n  - setWeight: 100\n"
            .write(toFile: config + "/tower/runbooks/long.yaml", atomically: true, encoding: .utf8)
        let console = "XDG_CONFIG_HOME=\(config) \(HeadlessVerbTests.tower) --registry \(reg.url) --token-file \(tokenFile) 2>>\(reg.dataDir)/console.err"
        try term.start(console, width: 120, height: 40)
        #expect(term.waitFor("alpha").found, "overview: \(term.screen())")

        // R on v2: the runbook is offered from the folder; the rollout starts at step 2/5 (25%, the pause).
        term.keys("Enter")
        #expect(term.waitFor("RECENT REVISIONS").found)
        term.keys("j", "R")
        #expect(term.waitFor("Start a rollout of v2 on alpha").found)
        #expect(term.waitFor("long.yaml").found, "the runbook folder is listed: \(term.screen())")
        term.type("canary v2")
        term.keys("Enter")
        let running = term.waitUntil { $0.contains("ROLLOUT ▶ RUNNING") && $0.contains("step 2/5") && $0.contains("left") }
        #expect(running.found, "the panel shows the running rollout with the time left: \(running.screen)")

        // The console killed with its terminal, as when an SSH session drops: the rollout goes on in
        // the registry; a new console marks it on the overview before alpha is opened (the
        // rollouts list), then shows it at its step with the time left.
        term.tmux(["kill-session", "-t", "t"])
        try term.start(console, width: 120, height: 40)
        let marked = term.waitUntil(timeout: 15) { $0.contains("▶ 2/5 25%") }
        #expect(marked.found, "a new console marks the rollout on the overview: \(marked.screen)")
        term.keys("Enter")
        let again = term.waitUntil { $0.contains("ROLLOUT ▶ RUNNING") && $0.contains("step 2/5") && $0.contains("left") }
        #expect(again.found, "the new console shows the rollout at its step with the time left: \(again.screen)")

        // p pauses, p again resumes.
        term.keys("p")
        #expect(term.waitFor("Pause the rollout of alpha").found)
        term.type("looking at errors")
        term.keys("Enter")
        let paused = term.waitUntil { $0.contains("PAUSED") && $0.contains("paused: by otto") }
        #expect(paused.found, "\(paused.screen)")
        term.keys("p")
        #expect(term.waitFor("Resume the rollout of alpha").found)
        term.type("errors were noise")
        term.keys("Enter")
        #expect(term.waitUntil { $0.contains("ROLLOUT ▶ RUNNING") && $0.contains("resume by otto") }.found, "\(term.screen())")

        // P promotes: the hour's pause is skipped, the next step sets 50% and waits in the next pause.
        term.keys("P")
        #expect(term.waitFor("Promote the rollout of alpha").found, "\(term.screen())")
        term.type("metrics are fine")
        term.keys("Enter")
        let promoted = term.waitUntil { $0.contains("ROLLOUT ▶ RUNNING") && $0.contains("step 4/5") }
        #expect(promoted.found, "promote skipped the pause: \(promoted.screen)")
        #expect(try ConsoleTmuxTests.endpoint(reg, token).weights == ["v1": 50, "v2": 50])

        // A aborts: the dialog shows v2's traffic going back to v1.
        term.keys("A")
        #expect(term.waitFor("ABORT the rollout of alpha").found)
        term.type("enough")
        term.keys("Enter")
        let aborted = term.waitUntil { $0.contains("LAST ROLLOUT ✗ ABORTED") }
        #expect(aborted.found, "\(aborted.screen)")

        let e = try ConsoleTmuxTests.endpoint(reg, token)
        #expect(e.weights == ["v1": 100, "v2": 0], "the aborted target's traffic is back on the baseline: \(e.weights)")
        let status = String(decoding: try RawClient(base: reg.url, token: token).get("/v1/endpoints/alpha/rollout").body, as: UTF8.self)
        for reason in ["canary v2", "looking at errors", "errors were noise", "metrics are fine", "enough"] {
            #expect(status.contains(reason), "the rollout's events carry \(reason): \(status)")
        }
        #expect(status.contains("\"actor\":\"otto\""))
        term.keys("q")
    }
}
