import Foundation
import Synchronization
import Testing
import TowerRegistry
import TowerStorePostgres

/// Which store a parameterised test runs on. PostgreSQL is listed only when its binaries are
/// installed (scripts/setup installs Debian's `postgresql`); when they are not, the run says so
/// loudly once and the suites run on SQLite alone.
enum StoreKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }

    static let available: [StoreKind] = {
        if PostgresServer.binaries() != nil { return [.sqlite, .postgres] }
        let line = String(repeating: "!", count: 78)
        FileHandle.standardError.write(Data("""
            \(line)
            !! SKIPPED: the registry's PostgreSQL runs. No initdb/pg_ctl was found in
            !! /usr/lib/postgresql/*/bin, /usr/local/bin or PATH: run scripts/setup.
            \(line)

            """.utf8))
        return [.sqlite]
    }()
}

/// A throwaway PostgreSQL server for this test process: `initdb` into a temporary folder,
/// listening on 127.0.0.1 at a free port and on a Unix socket in that folder, run as an
/// unprivileged user (PostgreSQL refuses root). Started on first use, stopped when the process
/// ends (at exit, and by a watcher process should this one die without exiting).
final class PostgresServer: Sendable {
    let dir: String
    let port: Int
    let user = "tower"
    let bin: String
    let runAs: String?

    static let shared: Result<PostgresServer, any Error> = Result { try PostgresServer() }
    private static let counter = Atomic<Int>(0)

    /// The folder holding initdb, pg_ctl and createdb.
    static func binaries() -> String? {
        var candidates = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
        candidates.append("/usr/local/bin")
        candidates += (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") && FileManager.default.isExecutableFile(atPath: $0 + "/pg_ctl") }
    }

    private init() throws {
        guard let bin = Self.binaries() else { throw PostgresStoreError("PostgreSQL binaries not found") }
        self.bin = bin
        dir = NSTemporaryDirectory() + "tower-pg-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if getuid() == 0 {
            let user = ["postgres", "towerpg"].first { Self.run("/usr/bin/id", ["-u", $0]).status == 0 }
            guard let user else { throw PostgresStoreError("running as root and neither a postgres nor a towerpg user exists (scripts/setup creates towerpg)") }
            runAs = user
            _ = Self.run("/bin/chown", [user, dir])
        } else {
            runAs = nil
        }
        port = try Self.freePort()
        let initdb = runCommand("\(bin)/initdb", ["-D", "\(dir)/data", "-A", "trust", "-U", user, "--no-sync", "-E", "UTF8"])
        guard initdb.status == 0 else { throw PostgresStoreError("initdb failed: \(initdb.output)") }
        let start = runCommand("\(bin)/pg_ctl", ["-D", "\(dir)/data", "-l", "\(dir)/log", "-w", "-o",
                                                "-p \(port) -k \(dir) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400", "start"])
        guard start.status == 0 else { throw PostgresStoreError("pg_ctl start failed: \(start.output) \((try? String(contentsOfFile: "\(dir)/log", encoding: .utf8)) ?? "")") }
        Self.stopAtExit(dir: dir)
    }

    /// A fresh, empty database on this server.
    func makeDatabase() throws -> PostgresStoreURL {
        let name = "t\(getpid())_\(Self.counter.add(1, ordering: .relaxed).newValue)"
        let r = runCommand("\(bin)/createdb", ["-h", dir, "-p", String(port), "-U", user, name])
        guard r.status == 0 else { throw PostgresStoreError("createdb failed: \(r.output)") }
        return try PostgresStoreURL("postgres://\(user)@127.0.0.1:\(port)/\(name)?sslmode=disable")
    }

    /// Runs a PostgreSQL tool as the server's user.
    func runCommand(_ path: String, _ args: [String]) -> (status: Int32, output: String) {
        if let runAs { return Self.run("/usr/sbin/runuser", ["-u", runAs, "--", path] + args) }
        return Self.run(path, args)
    }

    /// posix_spawn and waitpid, not Foundation's Process: Process learns of the exit through a
    /// descriptor the child inherits, and the server pg_ctl leaves running would keep it open (the
    /// wait would never end). Descriptors past stderr are closed in the child for the same reason.
    static func run(_ path: String, _ args: [String]) -> (status: Int32, output: String) {
        let out = NSTemporaryDirectory() + "tower-pg-out-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: out) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // glibc 2.34+ has it, but Swift's Glibc module does not show it.
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let sym = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(sym, to: CloseFrom.self)(&actions, 3)
        }
        let argv = ([path] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard rc == 0 else { return (-1, "cannot run \(path): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        let exited = status & 0x7f == 0
        return (exited ? (status >> 8) & 0xff : -1, output)
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw PostgresStoreError("no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// The postmaster gets SIGQUIT (immediate shutdown) and the folder goes, both when this
    /// process exits and, through a watcher, when it is killed.
    static func stopAtExit(dir: String) {
        let script = """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            [ -f \(dir)/data/postmaster.pid ] && kill -QUIT "$(head -1 \(dir)/data/postmaster.pid)" 2>/dev/null
            sleep 1; rm -rf \(dir)
            """
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: "/bin/sh")
        watcher.arguments = ["-c", script]
        watcher.standardOutput = FileHandle.nullDevice
        watcher.standardError = FileHandle.nullDevice
        try? watcher.run()
        atExitDir.withLock { $0 = dir }
        atexit {
            guard let dir = PostgresServer.atExitDir.withLock({ $0 }),
                  let text = try? String(contentsOfFile: dir + "/data/postmaster.pid", encoding: .utf8),
                  let pid = Int32(text.split(separator: "\n").first ?? "") else { return }
            kill(pid, SIGQUIT)
        }
    }

    static let atExitDir = Mutex<String?>(nil)
}
