import Foundation
import TowerSim

/// A real terminal for end-to-end tests: a private tmux server running one program, driven with
/// send-keys and read with capture-pane. Killed (with everything in it) when the test ends.
final class Tmux: @unchecked Sendable {
    let socket = "tower-test-" + UUID().uuidString.prefix(8)
    /// The server's configuration. `exit-empty off`: a server left with no session (a test kills
    /// the session to drop the console, as an SSH session drops) stays up; by default it exits,
    /// and a `new-session` arriving meanwhile fails with "server exited unexpectedly" (seen in CI,
    /// about 1 run in 200 here). `remain-on-exit on` before the first session: a console that dies
    /// at once leaves its pane on screen ("Pane is dead") for the failure message, rather than
    /// taking the server with it.
    private let config = NSTemporaryDirectory() + "tower-tmux-" + UUID().uuidString + ".conf"

    init() {
        // CI runs without a terminal and may have no TERM; tmux wants one to describe its panes.
        setenv("TERM", "xterm-256color", 0)
        FileManager.default.createFile(atPath: config, contents: Data("set -s exit-empty off\nset -g remain-on-exit on\n".utf8))
    }

    deinit { unlink(config) }

    @discardableResult
    func tmux(_ args: [String]) -> (Int32, String) {
        // A ChildProcess (posix_spawn and waitpid) rather than Foundation.Process: tmux's client
        // forks the server, and Process was seen leaving the exited client unreaped and waiting
        // forever. Its empty signal mask matters too: a tmux server started with the test runner's
        // SIGCHLD blocked never reaps its pane and never exits. Output goes to a file, not a pipe,
        // which the daemonised server would otherwise hold open.
        let path = NSTemporaryDirectory() + "tmux-out-" + UUID().uuidString
        defer { unlink(path) }
        guard let p = try? ChildProcess(name: "tmux", executable: "/usr/bin/env",
                                        arguments: ["tmux", "-L", socket, "-f", config] + args, logPath: path) else {
            return (-1, "cannot start tmux")
        }
        p.waitUntilExit(pollEvery: 2_000)
        let data = FileManager.default.contents(atPath: path) ?? Data()
        return (p.exitCode ?? -1, String(decoding: data, as: UTF8.self))
    }

    /// Starts `command` (a shell line) in a `width`×`height` terminal with a UTF-8 locale.
    func start(_ command: String, width: Int = 100, height: Int = 30) throws {
        let (status, out) = tmux(["new-session", "-d", "-s", "t", "-x", String(width), "-y", String(height),
                                  "env LANG=C.UTF-8 TERM=tmux-256color \(command)"])
        if status != 0 { throw E2EError("tmux new-session failed: \(out)") }
    }

    func keys(_ keys: String...) { tmux(["send-keys", "-t", "t"] + keys) }
    func type(_ text: String) { tmux(["send-keys", "-t", "t", "-l", text]) }
    func screen() -> String { tmux(["capture-pane", "-p", "-t", "t"]).1 }
    func resize(width: Int, height: Int) { tmux(["resize-window", "-t", "t", "-x", String(width), "-y", String(height)]) }

    /// Waits until the screen contains `text`; returns the screen either way.
    @discardableResult
    func waitFor(_ text: String, timeout: TimeInterval = 5) -> (found: Bool, screen: String) {
        waitUntil(timeout: timeout) { $0.contains(text) }
    }

    /// Waits until one capture of the screen satisfies `condition`; returns the last capture.
    @discardableResult
    func waitUntil(timeout: TimeInterval = 5, _ condition: (String) -> Bool) -> (found: Bool, screen: String) {
        let deadline = Date().addingTimeInterval(timeout)
        var s = ""
        repeat {
            s = screen()
            if condition(s) { return (true, s) }
            usleep(50_000)
        } while Date() < deadline
        return (false, s)
    }

    /// The tmux server's process, while one runs.
    func serverPID() -> Int32? {
        let (status, out) = tmux(["display-message", "-p", "#{pid}"])
        return status == 0 ? Int32(out.trimmingCharacters(in: .whitespacesAndNewlines)) : nil
    }

    /// Ends the server and everything in it, by signal if it does not go when asked.
    func kill() {
        let pid = Int32(tmux(["display-message", "-p", "-t", "t", "#{pid}"]).1.trimmingCharacters(in: .whitespacesAndNewlines))
        let panePID = Int32(tmux(["display-message", "-p", "-t", "t", "#{pane_pid}"]).1.trimmingCharacters(in: .whitespacesAndNewlines))
        tmux(["kill-server"])
        usleep(100_000)
        for p in [panePID, pid].compactMap({ $0 }) where p > 1 && Foundation.kill(p, 0) == 0 { Foundation.kill(p, SIGKILL) }
    }
}
