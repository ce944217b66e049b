import Foundation
import Testing

/// The terminal harness itself: killing the session (how the tests drop a console, as an SSH
/// session drops) must leave the tmux server up for the next `start`. A server that exited with
/// its last session raced the next `new-session` and failed a CI run ("server exited unexpectedly").
@Suite struct TmuxHarnessTests {
    @Test func aKilledSessionLeavesTheServerForTheNextStart() throws {
        let term = Tmux()
        defer { term.kill() }
        try term.start("sleep 60", width: 40, height: 10)
        let server = term.serverPID()
        try #require(server != nil)
        term.tmux(["kill-session", "-t", "t"])
        try term.start("sleep 60", width: 40, height: 10)
        #expect(term.serverPID() == server, "the second session runs on the same server")
    }

    @Test func aProgramThatDiesAtOnceStaysOnScreen() throws {
        let term = Tmux()
        defer { term.kill() }
        try term.start("sh -c 'exit 3'", width: 40, height: 10)
        // Returns as soon as it shows; the bound is for a CI machine running a release build beside
        // the tests, where 5 s was once too short for tmux to notice the exit.
        let dead = term.waitFor("Pane is dead (status 3", timeout: 20)
        #expect(dead.found, "\(dead.screen)")
    }
}
