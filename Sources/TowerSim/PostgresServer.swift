import Foundation
import Synchronization

/// A PostgreSQL server of our own, for the stack (`tower-sim stack --store postgres`) and the
/// tests: `initdb` into a folder, listening on 127.0.0.1 at a free port and on a Unix socket in
/// that folder only, trust authentication for its one user (nothing but loopback reaches it). Run
/// as an unprivileged user when we are root, since PostgreSQL refuses root: Debian's `postgres`,
/// else `towerpg` (scripts/setup creates it). Tools are started with posix_spawn (`ChildProcess`):
/// Foundation's `Process.run()` crashed when several suites started processes at once.
public final class PostgresServer: Sendable {
    public let dir: String
    public let port: Int
    public let user = "tower"
    let bin: String
    let runAs: String?
    /// The server's command-line options (port, sockets, loopback only), given again at each start.
    let options: String

    /// The folder holding initdb, pg_ctl and createdb: Debian's newest, else /usr/local/bin, else PATH.
    public static func binaries() -> String? {
        var candidates = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
        candidates.append("/usr/local/bin")
        candidates += (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") && FileManager.default.isExecutableFile(atPath: $0 + "/pg_ctl") }
    }

    /// Creates and starts a server in `dir` (made if missing). `durable: false` turns fsync off,
    /// for tests only.
    public init(dir: String, durable: Bool = true) throws {
        guard let bin = Self.binaries() else {
            throw StackError("PostgreSQL is not installed (no initdb and pg_ctl in /usr/lib/postgresql/*/bin, /usr/local/bin or PATH): scripts/setup installs it")
        }
        self.bin = bin
        self.dir = dir
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if getuid() == 0 {
            guard let user = ["postgres", "towerpg"].first(where: { (name: String) in getpwnam(name) != nil }) else {
                throw StackError("PostgreSQL refuses to run as root, and neither a postgres nor a towerpg user exists (scripts/setup creates towerpg)")
            }
            runAs = user
            guard let pw = getpwnam(user), chown(dir, pw.pointee.pw_uid, pw.pointee.pw_gid) == 0 else {
                throw StackError("cannot give \(dir) to the user \(user)")
            }
        } else {
            runAs = nil
        }
        port = try StackFiles.freePort()
        options = Self.options(dir: dir, port: port, durable: durable)
        let initdb = try run("\(bin)/initdb", ["-D", "\(dir)/data", "-A", "trust", "-U", user, "--no-sync", "-E", "UTF8"])
        guard initdb.status == 0 else { throw StackError("initdb failed: \(initdb.output)") }
        try start()
    }

    /// A server made earlier in `dir` (by a stack, say) and listening on `port`, to stop and start
    /// again: its tools run as the folder's owner.
    public init(existing dir: String, port: Int, durable: Bool = true) throws {
        guard let bin = Self.binaries() else { throw StackError("PostgreSQL is not installed: scripts/setup installs it") }
        var st = stat()
        guard stat(dir + "/data", &st) == 0 else { throw StackError("no PostgreSQL data folder in \(dir)") }
        self.bin = bin
        self.dir = dir
        self.port = port
        runAs = getuid() == 0 && st.st_uid != 0 ? getpwuid(st.st_uid).map { String(cString: $0.pointee.pw_name) } : nil
        options = Self.options(dir: dir, port: port, durable: durable)
    }

    static func options(dir: String, port: Int, durable: Bool) -> String {
        "-p \(port) -k \(dir) -c listen_addresses=127.0.0.1 -c max_connections=400" + (durable ? "" : " -c fsync=off")
    }

    /// Starts the server (again), waiting until it accepts connections; `settings` are further
    /// `-c name=value` options for this run (`ssl=on`, say).
    public func start(settings: [String] = []) throws {
        let all = options + settings.map { " -c \($0)" }.joined()
        let start = try run("\(bin)/pg_ctl", ["-D", "\(dir)/data", "-l", "\(dir)/log", "-w", "-o", all, "start"])
        guard start.status == 0 else {
            throw StackError("pg_ctl start failed: \(start.output) \((try? String(contentsOfFile: "\(dir)/log", encoding: .utf8)) ?? "")")
        }
    }

    /// Writes a file the server reads (a certificate, its key, pg_hba.conf) into its folder, owned
    /// by the server's user and private to it (PostgreSQL refuses a key others may read); its path.
    @discardableResult
    public func install(_ contents: String, as name: String, inData: Bool = false) throws -> String {
        let path = (inData ? dir + "/data/" : dir + "/") + name
        try contents.write(toFile: path, atomically: false, encoding: .utf8)
        guard chmod(path, 0o600) == 0 else { throw StackError("cannot make \(path) private") }
        if let runAs, let pw = getpwnam(runAs), chown(path, pw.pointee.pw_uid, pw.pointee.pw_gid) != 0 {
            throw StackError("cannot give \(path) to the user \(runAs)")
        }
        return path
    }

    /// A new, empty database; its URL for `--store`.
    public func createDatabase(_ name: String) throws -> String {
        let r = try run("\(bin)/createdb", ["-h", dir, "-p", String(port), "-U", user, name])
        guard r.status == 0 else { throw StackError("createdb \(name) failed: \(r.output)") }
        return "postgres://\(user)@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    /// Stops the server ("fast": open sessions are ended, committed work is kept).
    public func stop() {
        _ = try? run("\(bin)/pg_ctl", ["-D", "\(dir)/data", "-m", "fast", "-w", "stop"])
    }

    /// The server's process id, while it runs.
    public var pid: Int32? {
        guard let text = try? String(contentsOfFile: dir + "/data/postmaster.pid", encoding: .utf8) else { return nil }
        return Int32(text.split(separator: "\n").first ?? "")
    }

    /// For tests: the server gets SIGQUIT (immediate shutdown) and its folder goes when this
    /// process exits, and also, through a watcher, when it is killed without exiting.
    public func stopWhenThisProcessEnds() {
        let script = """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            [ -f \(dir)/data/postmaster.pid ] && kill -QUIT "$(head -1 \(dir)/data/postmaster.pid)" 2>/dev/null
            sleep 1; rm -rf \(dir)
            """
        _ = try? ChildProcess(name: "postgres watcher", executable: "/bin/sh", arguments: ["-c", script], logPath: "/dev/null", newProcessGroup: true)
        Self.atExit.withLock { $0.append(dir) }
        atexit {
            for dir in PostgresServer.atExit.withLock({ $0 }) {
                guard let text = try? String(contentsOfFile: dir + "/data/postmaster.pid", encoding: .utf8),
                      let pid = Int32(text.split(separator: "\n").first ?? "") else { continue }
                kill(pid, SIGQUIT)
            }
        }
    }

    private static let atExit = Mutex<[String]>([])

    /// Runs a PostgreSQL tool as the server's user; its exit status and output.
    func run(_ path: String, _ args: [String]) throws -> (status: Int32, output: String) {
        let log = dir + "/tool-\(UUID().uuidString.prefix(8)).log"
        defer { unlink(log) }
        let (exe, argv) = runAs.map { ("/usr/sbin/runuser", ["-u", $0, "--", path] + args) } ?? (path, args)
        let p = try ChildProcess(name: (path as NSString).lastPathComponent, executable: exe, arguments: argv, logPath: log)
        p.waitUntilExit(pollEvery: 10_000)
        return (p.exitCode ?? -1, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }
}
