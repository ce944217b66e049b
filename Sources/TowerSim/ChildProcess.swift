import Foundation

/// A process the local stack starts and owns: output to a log file, stopped with SIGTERM and then
/// SIGKILL. posix_spawn rather than Foundation.Process so the child gets an empty signal mask
/// (a parent started by a test runner has signals blocked, and a child that inherits that mask
/// ignores SIGTERM and never reaps its own children). By default it stays in our process group, so
/// whoever stops the group stops the whole stack; `newProcessGroup` makes it lead its own, for a
/// parent (a test) that must be able to stop it and everything it starts.
public final class ChildProcess: @unchecked Sendable {
    public let name: String
    public let pid: pid_t
    public let logPath: String
    private let lock = NSLock()
    private var exitStatus: Int32?

    public init(name: String, executable: String, arguments: [String], logPath: String,
                environment: [String: String] = ProcessInfo.processInfo.environment, newProcessGroup: Bool = false) throws {
        self.name = name
        self.logPath = logPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigdefault(&attr, &all)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attr, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attr, Int16(flags))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attr, argv, envp)
        guard rc == 0 else {
            throw StackError("cannot start \(name) (\(executable)): \(String(cString: strerror(rc)))")
        }
        self.pid = pid
    }

    deinit { stop(grace: 0) }

    /// Whether it still runs; reaps it if it has exited.
    public var isRunning: Bool {
        lock.lock(); defer { lock.unlock() }
        if exitStatus != nil { return false }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid || (r == -1 && errno == ECHILD) {
            exitStatus = status
            return false
        }
        return true
    }

    /// Blocks until it exits (for short commands); returns how it ended.
    @discardableResult
    public func waitUntilExit(pollEvery: useconds_t = 5_000) -> String {
        while isRunning { usleep(pollEvery) }
        return ended ?? "exited 0"
    }

    /// The exit code, once it has exited normally.
    public var exitCode: Int32? {
        guard !isRunning else { return nil }
        lock.lock(); defer { lock.unlock() }
        guard let s = exitStatus, (s & 0x7f) == 0 else { return nil }
        return (s >> 8) & 0xff
    }

    /// How it ended, in words, once it has: "exited 1", "killed by signal 9".
    public var ended: String? {
        guard !isRunning else { return nil }
        lock.lock(); defer { lock.unlock() }
        let s = exitStatus ?? 0
        return (s & 0x7f) == 0 ? "exited \((s >> 8) & 0xff)" : "killed by signal \(s & 0x7f)"
    }

    /// SIGTERM, up to `grace` seconds to go, then SIGKILL; returns once it is reaped.
    public func stop(grace: Double = 5) {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while isRunning && Date() < deadline { usleep(20_000) }
        if isRunning {
            kill(pid, SIGKILL)
            while isRunning { usleep(5_000) }
        }
    }

    /// The last lines of its log, for an error message.
    public func logTail(lines: Int = 8) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).joined(separator: "\n")
    }
}

public struct StackError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}
