import Foundation
import Testing
import TowerDomain

/// Triage at 3 a.m. on the whole stack (issue 11): an incident on alpha's canary is marked on the
/// overview, naming the version, and sorted first; after the operator drains it, the console
/// shows it drained when the registry's drain timeout passes, with no key pressed, and no red
/// verdict on a version that no longer takes traffic.
@Suite(.serialized) struct TriageStackEndToEndTests {
    /// From 30 s in, alpha v2 (10 % of alpha's traffic) fails 5 % of its requests and its p99 is six
    /// times the healthy 160 ms, until the end of the run.
    static let scenario = """
        rate: 20
        endpoints:
          alpha: {rate: 40}
        events:
          - {at: 30s, endpoint: alpha, version: v2, latencyFactor: 6, errorRatio: 0.05}

        """

    /// The overview's first row: the line under the column titles.
    static func firstRow(_ screen: String) -> String? {
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let titles = lines.firstIndex(where: { $0.hasPrefix("STATE") && $0.contains("ENDPOINT") }), titles + 1 < lines.count else { return nil }
        return lines[titles + 1]
    }

    @Test func theIncidentIsMarkedAndSortedFirstAndTheDrainShowsWithoutAKey() throws {
        let file = NSTemporaryDirectory() + "tower-triage-scenario-" + UUID().uuidString.prefix(8) + ".yaml"
        try Self.scenario.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        // The simulator starts after this moment, so the incident begins no earlier than 30 s from
        // it: times measured from here are upper bounds.
        let launched = Date()
        let s = try StackEndToEndTests.StackProcess(rateScale: 1, scenario: file)
        defer { s.cleanUp() }
        let incident = launched.addingTimeInterval(30)

        let term = Tmux()
        try term.start("env XDG_CONFIG_HOME=\(s.config) \(HeadlessVerbTests.tower) --context local 2>\(s.dir)/console.err", width: 100, height: 30)
        defer { term.kill() }
        #expect(term.waitFor("alpha", timeout: 15).found, "console: \(term.screen())")

        // Marked, naming v2, and first under the attention sort (the default), within 30 s of the
        // incident (a minute and a half from launch at most, whatever the start-up took).
        let marked = term.waitUntil(timeout: max(5, incident.addingTimeInterval(30).timeIntervalSinceNow)) { screen in
            guard let first = Self.firstRow(screen) else { return false }
            return first.contains(" alpha ") && first.contains("✗ v2")
        }
        let after = Date().timeIntervalSince(incident)
        #expect(marked.found, "alpha marked (✗ v2) and first within 30 s of the incident: \(marked.screen)")
        print("triage on the stack: alpha marked and first \(Int(after)) s after the incident began (upper bound)")
        guard marked.found else { return }
        #expect(term.screen().contains("sort:attention"), "the sort is shown")

        // Open alpha (the first row), select v2, drain it with a reason.
        term.keys("Enter")
        #expect(term.waitFor("RECENT REVISIONS").found)
        term.keys("j", "d")
        #expect(term.waitFor("Drain v2 of alpha").found, "\(term.screen())")
        term.type("p99 red on v2")
        term.keys("Enter")
        #expect(term.waitFor("revision", timeout: 10).found)
        #expect(term.waitUntil(timeout: 10) { $0.contains("draining") }.found, "\(term.screen())")
        // Timed from the registry's own stamp of the drain, not from the key: on a loaded machine
        // the request itself took a second of the bound.
        let api = RawClient(base: s.m.registry, token: s.token(s.m.tokens.viewer))
        let alpha = try RegistryProcessTests.decode(Endpoint.self, try api.get("/v1/endpoints/alpha"))
        let drainedAt = try #require(alpha.versions.first { $0.name == "v2" }?.drainingSince, "v2 is not draining: \(alpha.versions)")

        // No key from here on: the registry's drain timeout (30 s on the stack) turns it drained.
        let drained = term.waitUntil(timeout: 32 + 5) { screen in
            screen.split(separator: "\n").contains { $0.hasPrefix("v2 ") && $0.contains("drained") }
        }
        let took = Date().timeIntervalSince(drainedAt)
        #expect(drained.found && took <= 32, "v2 shown drained within the drain timeout + 2 s (took \(Int(took)) s): \(drained.screen)")
        print("triage on the stack: v2 shown drained \(String(format: "%.1f", took)) s after the drain (timeout 30 s)")
        let verdict = drained.screen.split(separator: "\n").first { $0.hasPrefix("v2 vs v1") }.map(String.init) ?? ""
        #expect(verdict.contains("no new traffic") && !verdict.contains("✗"), "no red verdict on a drained version: \(verdict)")
    }
}
