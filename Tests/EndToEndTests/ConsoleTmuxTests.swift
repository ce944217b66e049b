import Foundation
import Testing
import TowerDomain
import TowerHTTP

/// The console in a real terminal (tmux) against a real registry process: keys act, the registry
/// records them with reasons and the token's name, the screen shows them, and the terminal is left
/// clean.
@Suite(.serialized) struct ConsoleTmuxTests {
    static func endpoint(_ reg: RegistryProcess, _ token: String) throws -> Endpoint {
        try Wire.decoder().decode(Endpoint.self, from: Data(RawClient(base: reg.url, token: token).get("/v1/endpoints/alpha").body))
    }

    /// A registry seeded with alpha (v1 90, v2 10), an operator token "otto" in a file, a terminal.
    static func registryAndTerminal() throws -> (RegistryProcess, Tmux, String, String) {
        let reg = RegistryProcess()
        let tokenFile = try HeadlessVerbTests.tokenFile(reg, "otto", "operator")
        try reg.start(seed: try reg.writeSeed(), extra: ["--log-level", "warning"])
        return (reg, Tmux(), tokenFile, try String(contentsOfFile: tokenFile, encoding: .utf8))
    }

    @Test func keysShiftDrainAndRollBackThroughTheRegistry() throws {
        let (reg, term, tokenFile, token) = try Self.registryAndTerminal()
        defer { term.kill(); reg.cleanUp() }
        let exitFile = reg.dataDir + "/exit"
        try term.start("\(HeadlessVerbTests.tower) --registry \(reg.url) --token-file \(tokenFile) 2>\(reg.dataDir)/console.err; echo EXIT=$? > \(exitFile)")
        #expect(term.waitFor("alpha").found, "overview: \(term.screen())")

        // + on v2: 90/10 → 85/15.
        term.keys("Enter")
        #expect(term.waitFor("RECENT REVISIONS").found)
        term.keys("j", "+")
        #expect(term.waitFor("Shift alpha: v2 +5").found)
        term.type("canary 15")
        term.keys("Enter")
        #expect(term.waitFor("alpha: revision 2 applied").found)
        #expect(term.waitFor("canary 15").found, "the new revision and its reason are listed")
        var e = try Self.endpoint(reg, token)
        #expect(e.weights == ["v1": 85, "v2": 15] && e.updatedBy == "otto")

        // d on v2: drained, its share goes to v1.
        term.keys("d")
        #expect(term.waitFor("Drain v2 of alpha").found)
        term.type("p99 red")
        term.keys("Enter")
        #expect(term.waitFor("alpha: revision 3 applied").found)
        #expect(term.waitFor("p99 red").found)
        e = try Self.endpoint(reg, token)
        #expect(e.weights == ["v1": 100, "v2": 0] && e.version("v2")?.state == .draining)

        // r: the previous revision is preselected.
        term.keys("r")
        #expect(term.waitFor("roll back to").found)
        term.type("undo drain")
        term.keys("Enter")
        #expect(term.waitFor("alpha: revision 4 applied").found)
        #expect(term.waitFor("undo drain").found)
        e = try Self.endpoint(reg, token)
        #expect(e.revision == 4 && e.weights == ["v1": 85, "v2": 15] && e.version("v2")?.state == .serving)

        let audit = try Wire.decoder().decode(AuditPage.self, from: Data(RawClient(base: reg.url, token: token).get("/v1/audit?limit=3").body))
        #expect(audit.entries.map(\.reason) == ["undo drain", "p99 red", "canary 15"])
        #expect(Set(audit.entries.map(\.actor)) == ["otto"])

        // A change by someone else shows without a key press.
        let other = RawClient(base: reg.url, token: token)
        #expect(try other.post("/v1/endpoints/alpha/shift", json: #"{"weights":{"v1":60,"v2":40},"reason":"from elsewhere"}"#, ifMatch: 4).status == 200)
        let seen = term.waitFor("from elsewhere", timeout: 1.5)
        #expect(seen.found, "a change made elsewhere should appear within a second: \(seen.screen)")
        #expect(seen.screen.contains("60%"))

        // Resize re-lays out; too small says so; q leaves a clean terminal.
        term.resize(width: 80, height: 24)
        #expect(term.waitFor("RECENT REVISIONS").found)
        term.resize(width: 50, height: 10)
        #expect(term.waitFor("terminal too small").found)
        term.resize(width: 100, height: 30)
        term.keys("q")
        var exit = ""
        for _ in 0..<100 where exit.isEmpty { exit = (try? String(contentsOfFile: exitFile, encoding: .utf8)) ?? ""; usleep(50_000) }
        #expect(exit.contains("EXIT=0"))
        let after = term.screen()
        #expect(!after.contains("RECENT REVISIONS") && !after.contains("tower  ctx"), "the console's screen should be gone: \(after)")
        #expect(!after.contains(token))
    }

    @Test func readOnlyChangesNothing() throws {
        let (reg, term, tokenFile, token) = try Self.registryAndTerminal()
        defer { term.kill(); reg.cleanUp() }
        try term.start("\(HeadlessVerbTests.tower) --registry \(reg.url) --token-file \(tokenFile) --read-only")
        #expect(term.waitFor("READ-ONLY").found)
        #expect(term.waitFor("alpha").found)
        term.keys("Enter")
        #expect(term.waitFor("RECENT REVISIONS").found)
        // Each key must show the refusal itself: the toast is gone before the next key is sent, so
        // one left on screen by the previous key cannot stand in for it.
        let refusal = "read-only: actions are disabled"
        for k in ["+", "d", "r", "s", "D"] {
            term.keys(k)
            #expect(term.waitFor(refusal).found, "\(k)")
            term.keys("Escape")
            let cleared = term.waitUntil { !$0.contains(refusal) }
            #expect(cleared.found, "Escape should clear the toast of \(k): \(cleared.screen)")
        }
        term.keys("Enter")
        usleep(300_000)
        let e = try Self.endpoint(reg, token)
        #expect(e.revision == 1 && e.weights == ["v1": 90, "v2": 10])
        term.keys("q")
    }

    @Test func aDeadRegistryIsSaidPlainlyAndTheConsoleRecovers() throws {
        let (reg, term, tokenFile, _) = try Self.registryAndTerminal()
        defer { term.kill(); reg.cleanUp() }
        let url = reg.url
        try term.start("\(HeadlessVerbTests.tower) --registry \(url) --token-file \(tokenFile)")
        #expect(term.waitFor("alpha").found)
        reg.kill(signal: SIGKILL)
        let down = term.waitFor("unreachable", timeout: 30)
        #expect(down.found, "\(down.screen)")
        #expect(down.screen.contains("alpha"), "the last known state stays on screen, marked stale")
        let port = String(url.split(separator: ":").last!)
        try reg.start(extra: ["--log-level", "warning"], listen: "127.0.0.1:\(port)")
        // One condition on one capture, waited for: a capture can catch the terminal half-way
        // through a redraw (the new "read" drawn, the old error not yet overwritten), so checking the
        // first capture that says "read" for the absence of the error raced (issue 9).
        let back = term.waitUntil(timeout: 15) { $0.contains("registry ✓ live") && !$0.contains("unreachable") }
        #expect(back.found, "the console should recover on its own: \(back.screen)")
        term.keys("q")
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func aSignalRestoresTheTerminal(_ sig: Int32) throws {
        let (reg, term, tokenFile, _) = try Self.registryAndTerminal()
        defer { term.kill(); reg.cleanUp() }
        let pidFile = reg.dataDir + "/pid", exitFile = reg.dataDir + "/exit"
        try term.start("sh -c 'echo $$ > \(pidFile); exec \(HeadlessVerbTests.tower) --registry \(reg.url) --token-file \(tokenFile)'; echo EXIT=$? > \(exitFile); stty -a | grep -o -- '-icanon\\|-echo ' > \(exitFile).stty")
        #expect(term.waitFor("alpha").found)
        let pid = Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        kill(pid, sig)
        var exit = ""
        for _ in 0..<100 where exit.isEmpty { exit = (try? String(contentsOfFile: exitFile, encoding: .utf8)) ?? ""; usleep(50_000) }
        #expect(exit.contains("EXIT=\(128 + sig)"), "exit: \(exit)")
        usleep(200_000)
        let stty = (try? String(contentsOfFile: exitFile + ".stty", encoding: .utf8)) ?? ""
        #expect(stty.isEmpty, "the terminal should be back in canonical mode with echo: \(stty)")
        #expect(!term.screen().contains("tower  ctx"))
    }

    @Test func withoutAUTF8LocaleTheConsoleDrawsASCII() throws {
        let (reg, term, tokenFile, _) = try Self.registryAndTerminal()
        defer { term.kill(); reg.cleanUp() }
        try term.start("env LANG=C LC_ALL=C \(HeadlessVerbTests.tower) --registry \(reg.url) --token-file \(tokenFile)")
        let shown = term.waitFor("+ serving")
        #expect(shown.found, "\(shown.screen)")
        #expect(shown.screen.unicodeScalars.allSatisfy { $0.isASCII }, "\(shown.screen)")
        term.keys("q")
    }
}
