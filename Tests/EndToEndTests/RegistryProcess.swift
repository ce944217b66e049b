import Foundation
import Testing
import TowerHTTP

/// A real `tower-registry serve` process on loopback, with its own data directory. Stopped (and
/// killed if it must be) when the test ends, so no listener outlives a test.
final class RegistryProcess: @unchecked Sendable {
    let dataDir: String
    let logPath: String
    private(set) var url = ""
    private var process: Process?

    /// Where the built executables are: next to the test bundle, or `TOWER_BIN_DIR`.
    static var binDir: String {
        if let d = ProcessInfo.processInfo.environment["TOWER_BIN_DIR"] { return d }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("tower-registry").path) { return dir.path }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug").path
    }

    static var binary: String { binDir + "/tower-registry" }

    init(dataDir: String? = nil) {
        self.dataDir = dataDir ?? NSTemporaryDirectory() + "tower-e2e-" + UUID().uuidString
        logPath = self.dataDir + ".log"
    }

    deinit { kill(signal: SIGKILL) }

    /// Runs a `tower-registry` subcommand to completion: (exit status, stdout, stderr).
    @discardableResult
    static func run(_ args: [String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func token(_ name: String, role: String) throws -> String {
        let (status, out, err) = try Self.run(["token", "create", "--data", dataDir, "--name", name, "--role", role])
        guard status == 0 else { throw E2EError("token create failed: \(err)") }
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func start(seed: String? = nil, extra: [String] = [], listen: String = "127.0.0.1:0") throws {
        let ready = dataDir + ".url"
        try? FileManager.default.removeItem(atPath: ready)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let logFile = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        logFile.seekToEndOfFile()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = ["serve", "--data", dataDir, "--listen", listen, "--ready-file", ready] + (seed.map { ["--seed", $0] } ?? []) + extra
        p.standardError = logFile
        p.standardOutput = logFile
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let s = try? String(contentsOfFile: ready, encoding: .utf8), s.hasSuffix("\n") {
                url = s.trimmingCharacters(in: .whitespacesAndNewlines)
                return
            }
            if !p.isRunning { throw E2EError("tower-registry exited early: \(log())") }
            usleep(20_000)
        }
        throw E2EError("tower-registry did not start within 20 s: \(log())")
    }

    var pid: Int32 { process?.processIdentifier ?? 0 }

    func kill(signal: Int32) {
        guard let p = process, p.isRunning else { return }
        Foundation.kill(p.processIdentifier, signal)
        if signal == SIGKILL { p.waitUntilExit(); process = nil }
    }

    /// Waits for the process to exit (bounded) and returns its status, or nil if it did not.
    func waitForExit(timeout: TimeInterval) -> Int32? {
        guard let p = process else { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { return nil }
        process = nil
        return p.terminationStatus
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func cleanUp() {
        kill(signal: SIGKILL)
        try? FileManager.default.removeItem(atPath: dataDir)
        try? FileManager.default.removeItem(atPath: logPath)
        try? FileManager.default.removeItem(atPath: dataDir + ".url")
        try? FileManager.default.removeItem(atPath: dataDir + ".identities.yaml")
    }

    static let seedYAML = """
        - name: alpha
          path: /v1/models/alpha
          owner: team-vision
          versions:
            - {name: v1, artifact: {uri: s3://m/alpha/1, digest: 'sha256:\(String(repeating: "1", count: 64))'}, weight: 90, gate: passed, stage: prod}
            - {name: v2, artifact: {uri: s3://m/alpha/2, digest: 'sha256:\(String(repeating: "2", count: 64))'}, weight: 10, gate: passed, stage: prod}
        """

    func writeSeed() throws -> String {
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let path = dataDir + "/seed.yaml"
        try Self.seedYAML.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

struct E2EError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A plain blocking client for load from many threads: one keep-alive connection each.
final class RawClient: @unchecked Sendable {
    let session = CurlSession()
    let base: String
    let token: String
    init(base: String, token: String) { self.base = base; self.token = token }

    func get(_ path: String) throws -> HTTPResponse {
        try session.perform(HTTPRequest(url: base + path, headers: [("Authorization", "Bearer \(token)")]))
    }

    func post(_ path: String, json: String, ifMatch: Int64?) throws -> HTTPResponse {
        var h = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
        if let ifMatch { h.append(("If-Match", "\"\(ifMatch)\"")) }
        return try session.perform(HTTPRequest(method: "POST", url: base + path, headers: h, body: Array(json.utf8)))
    }
}

/// Runs `n` blocking workers on their own threads and waits for all of them.
func onThreads<T: Sendable>(_ n: Int, _ work: @escaping @Sendable (Int) -> T) -> [T] {
    let results = ResultBox<T>(count: n)
    let group = DispatchGroup()
    for i in 0..<n {
        group.enter()
        let t = Thread {
            results.set(i, work(i))
            group.leave()
        }
        t.start()
    }
    group.wait()
    return results.all()
}

final class ResultBox<T>: @unchecked Sendable {
    private var items: [T?]
    private let lock = NSLock()
    init(count: Int) { items = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.lock(); items[i] = v; lock.unlock() }
    func peek(_ i: Int) -> T? { lock.lock(); defer { lock.unlock() }; return items[i] }
    func all() -> [T] { lock.lock(); defer { lock.unlock() }; return items.map { $0! } }
}
