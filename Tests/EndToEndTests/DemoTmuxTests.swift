import Foundation
import Testing

/// `tower demo`, the README's first command, in a real terminal: the console comes up on its own
/// registry and simulated fleet (a child process, `tower-sim demo-backend`), shows live figures,
/// and leaves nothing behind however it ends: quit with q, or killed with SIGKILL.
@Suite(.serialized) struct DemoTmuxTests {
    /// A private TMPDIR, so the demo's folder and its backend can be found and checked.
    static func privateTemp() throws -> String {
        let dir = NSTemporaryDirectory() + "tower-demo-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Pids whose command line names `text` (the backend is given its folder inside our TMPDIR).
    static func processes(mentioning text: String) -> [Int32] {
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return ids.compactMap { Int32($0) }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains("demo-backend") && line.contains(text)
        }
    }

    static func demoFolders(in temp: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: temp)) ?? []).filter { $0.hasPrefix("tower-demo-") }
    }

    /// What the shell wrote of `tower demo`'s exit status, once it has.
    static func exitStatus(_ temp: String) -> String? {
        (try? String(contentsOfFile: temp + "/exit", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Waits (bounded) until `condition` holds.
    static func eventually(_ seconds: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    /// A row of alpha with a p99 in milliseconds: the console scrapes the simulated fleet.
    static func alphaHasFigures(_ screen: String) -> Bool {
        screen.split(separator: "\n").contains { $0.contains("alpha") && $0.contains("ms") }
    }

    @Test func theDemoShowsALiveFleetAndQuittingLeavesNothingBehind() throws {
        let temp = try Self.privateTemp()
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let term = Tmux()
        defer { term.kill() }
        try term.start("env TMPDIR=\(temp) \(HeadlessVerbTests.tower) demo --misbehave-after 3600; echo $? > \(temp)/exit", width: 140, height: 30)
        let live = term.waitUntil(timeout: 60) { $0.contains("registry ✓ live") && Self.alphaHasFigures($0) }
        #expect(live.found, "the demo's fleet with figures: \(live.screen)")
        #expect(Self.processes(mentioning: temp).count == 1, "one backend process runs beside the console")
        #expect(Self.demoFolders(in: temp).count == 1)

        term.keys("q")
        #expect(Self.eventually(20) { Self.exitStatus(temp) == "0" }, "tower demo exits 0: \(term.screen())")
        #expect(Self.processes(mentioning: temp).isEmpty, "the backend is stopped with the console")
        #expect(Self.demoFolders(in: temp).isEmpty, "the demo's folder is removed")
    }

    @Test func aKilledConsoleTakesItsBackendAndFolderWithIt() throws {
        let temp = try Self.privateTemp()
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let term = Tmux()
        defer { term.kill() }
        try term.start("env TMPDIR=\(temp) \(HeadlessVerbTests.tower) demo --misbehave-after 3600; echo $? > \(temp)/exit", width: 140, height: 30)
        #expect(term.waitFor("alpha", timeout: 60).found, "\(term.screen())")
        let backends = Self.processes(mentioning: temp)
        try #require(backends.count == 1, "one backend process runs beside the console")
        // The console is the backend's parent.
        let stat = (try? String(contentsOfFile: "/proc/\(backends[0])/stat", encoding: .utf8)) ?? ""
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        let console = fields.count > 1 ? Int32(fields[1]) : nil
        try #require(console != nil && console! > 1, "the backend's parent from /proc: \(stat)")
        kill(console!, SIGKILL)
        #expect(Self.eventually(20) { Self.exitStatus(temp) == "137" }, "killed: \(term.screen())")
        #expect(Self.eventually(30) { Self.processes(mentioning: temp).isEmpty }, "the backend ends when its console dies")
        #expect(Self.eventually(30) { Self.demoFolders(in: temp).isEmpty }, "and removes the demo's folder")
    }
}
