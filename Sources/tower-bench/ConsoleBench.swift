import ArgumentParser
import Foundation
import TerminalUI
import TowerConsole
import TowerDomain
import TowerRegistry

/// `tower-bench console`: frame-building time, bytes written per refresh against a full repaint,
/// idle CPU and resident memory of the real console in a pseudo-terminal.
struct ConsoleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Measure the console: view() time, terminal bytes per refresh, idle CPU, memory.")

    @Option(help: "Endpoints for the frame-building figure.") var frameEndpoints = 1000
    @Option(help: "Endpoints in the registry the live console watches.") var liveEndpoints = 200
    @Option(help: "Seconds of idle to measure CPU over.") var idleSeconds = 60.0
    @Option(help: "The tower executable (default: next to this one).") var tower: String?

    func run() async throws {
        try frameBuilding()
        try await liveConsole()
    }

    static func fleet(_ n: Int) -> [Endpoint] {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let now = Date()
        return (0..<n).map { i in
            try! Endpoint(name: "model-\(i)", path: "/v1/models/model-\(i)", owner: "team-\(i % 7)", revision: Int64(1 + i % 40), versions: [
                Version(name: "v1", artifact: Artifact(uri: "s3://m/\(i)/1", digest: digest), weight: 90 - i % 50, gate: .passed, stage: .prod),
                Version(name: "v2", artifact: Artifact(uri: "s3://m/\(i)/2", digest: digest), weight: 10 + i % 50, gate: i % 11 == 0 ? .failed : .passed, stage: .prod),
            ], updatedAt: now.addingTimeInterval(-Double(i * 37)), updatedBy: "op-\(i % 5)")
        }
    }

    func frameBuilding() throws {
        for (w, h) in [(80, 24), (160, 48)] {
            var s = ConsoleState(width: w, height: h, now: Date())
            _ = update(&s, .endpointsLoaded(EndpointList(endpoints: Self.fleet(frameEndpoints), auditSeq: 1), at: Date()))
            var times: [Double] = []
            for i in 0..<300 {
                _ = update(&s, .key(i % 2 == 0 ? .char("j") : .char("k")))
                let t0 = ContinuousClock.now
                let f = view(s)
                let d = ContinuousClock.now - t0
                precondition(f.width == w)
                times.append(Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1000)
            }
            times.sort()
            print(String(format: "view() with %d endpoints at %dx%d: median %.3f ms, p99 %.3f ms  target < 2 ms",
                         frameEndpoints, w, h, times[times.count / 2], times[times.count * 99 / 100]))
        }
    }

    func liveConsole() async throws {
        let dir = NSTemporaryDirectory() + "tower-bench-console-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try RegistryStore(directory: dir)
        let digest = "sha256:" + String(repeating: "cd", count: 32)
        try await Seed.apply((0..<liveEndpoints).map { i in
            EndpointSpec(name: "model-\(i)", path: "/v1/models/model-\(i)", owner: "bench", versions: [
                .init(name: "v1", artifact: Artifact(uri: "s3://m/1", digest: digest), weight: 80, gate: .passed, stage: .prod),
                .init(name: "v2", artifact: Artifact(uri: "s3://m/2", digest: digest), weight: 20, gate: .passed, stage: .prod),
            ])
        }, to: store, source: "bench")
        let tokenFile = dir + "/token"
        // Private, or the console refuses it (a token file others can read is refused, as ssh does).
        guard FileManager.default.createFile(atPath: tokenFile, contents: Data(try store.createToken(name: "bench", role: .viewer).utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write \(tokenFile)")
        }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tower-registry").path
        let server = try RegistryBench().startServer(exe, dir: dir)
        defer { server.terminate(); server.waitUntilExit() }

        let towerExe = tower ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tower").path
        let pty = try PTYChild(command: [towerExe, "--registry", server.url, "--token-file", tokenFile], width: 160, height: 48)
        defer { pty.stop() }
        pty.readAvailable(for: 3.0) // start-up, first list, first draw
        // Steady state: the clock ticks once a second; with the registry live nothing on screen
        // changes, so a refresh should write (almost) nothing.
        let steady = pty.readAvailable(for: 5.0)
        let ticks = 5.0
        pty.resize(width: 159, height: 48)
        pty.readAvailable(for: 0.5)
        pty.resize(width: 160, height: 48)
        let full = pty.readAvailable(for: 1.0)
        // A console that did not start draws nothing: that is a failure, not a figure of 0 %.
        guard full > 0 else { throw ValidationError("the console drew nothing on a resize: did it start? (\(towerExe))") }
        print(String(format: "terminal bytes: %.0f per steady-state refresh vs %d for a full repaint (%.1f%%)  target < 10%%",
                     Double(steady) / ticks, full, Double(steady) / ticks / Double(max(1, full)) * 100))

        let cpu0 = pty.cpuSeconds()
        let t0 = Date()
        pty.readAvailable(for: idleSeconds)
        let cpu = pty.cpuSeconds() - cpu0
        print(String(format: "idle CPU with %d endpoints over %.0f s: %.2f%% of a core  target < 1%%",
                     liveEndpoints, Date().timeIntervalSince(t0), cpu / Date().timeIntervalSince(t0) * 100))
        let (anon, pss) = pty.privateAndProportionalKB()
        print(String(format: "resident memory: %.1f MB RSS (%.1f MB anonymous, %.1f MB PSS; the rest is shared code pages)  target < 40 MB",
                     Double(pty.residentKB()) / 1024, Double(anon) / 1024, Double(pss) / 1024))
    }
}

/// A child process on a pseudo-terminal, so the console runs exactly as it would for an operator
/// and every byte it writes can be counted.
final class PTYChild {
    let pid: pid_t
    let master: Int32

    init(command: [String], width: Int, height: Int) throws {
        var ws = winsize(ws_row: UInt16(height), ws_col: UInt16(width), ws_xpixel: 0, ws_ypixel: 0)
        var m: Int32 = -1
        let env = ["TERM=xterm-256color", "LANG=C.UTF-8", "HOME=\(NSHomeDirectory())", "PATH=/usr/bin:/bin"]
        let argv = command.map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        let p = forkpty(&m, nil, nil, &ws)
        if p == 0 {
            // The child inherits this thread's blocked signals; the console needs SIGWINCH and SIGTERM.
            var empty = sigset_t()
            sigemptyset(&empty)
            sigprocmask(SIG_SETMASK, &empty, nil)
            execve(argv[0]!, argv, envp)
            _exit(127)
        }
        guard p > 0 else { throw ValidationError("forkpty failed: errno \(errno)") }
        pid = p
        master = m
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
    }

    /// Reads whatever the child writes for `seconds`; returns the byte count.
    @discardableResult
    func readAvailable(for seconds: Double) -> Int {
        var total = 0
        var buf = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var fds = [pollfd(fd: master, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000)))
            while true {
                let n = read(master, &buf, buf.count)
                if n <= 0 { break }
                total += n
            }
        }
        return total
    }

    func resize(width: Int, height: Int) {
        var ws = winsize(ws_row: UInt16(height), ws_col: UInt16(width), ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &ws)
        kill(pid, SIGWINCH)
    }

    func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func residentKB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    /// Anonymous (heap and stacks) and proportional set size, from smaps_rollup.
    func privateAndProportionalKB() -> (Int, Int) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Int {
            text.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { Int($0.split(separator: " ").dropFirst().first ?? "0") } ?? 0
        }
        return (field("Anonymous"), field("Pss"))
    }

    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<50 { if waitpid(pid, &status, WNOHANG) != 0 { break }; usleep(20_000) }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, WNOHANG)
        close(master)
    }
}
