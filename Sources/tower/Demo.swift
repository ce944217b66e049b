import ArgumentParser
import Foundation
import TowerRuntime
import TowerMetrics
import TowerSources
import TowerTraces

/// `tower demo`: the console on a registry with a realistic simulated fleet, through the same
/// client as production. The registry and the fleet run in a child process (`tower-sim
/// demo-backend`, next to this executable) so that the console's process holds only the console
/// (issue 9: linking the registry cost the console's memory without a line of it running).
/// Quitting stops the child and removes everything it made.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The console on a local registry with a simulated fleet.")
    @Flag(help: "Refuse every action.") var readOnly = false
    @OptionGroup var look: LookOptions
    @Option(help: "Seconds until alpha's canary (v2) starts misbehaving (p99 ×6, 4 % errors, for two minutes; again five minutes later).")
    var misbehaveAfter = 30.0

    func run() async throws {
        let backend = try DemoBackendProcess.start(misbehaveAfter: misbehaveAfter)
        defer { backend.stop() }
        let hooks = ConsoleHooks(resolveContext: { name in
            throw ConfigError("the demo has one context; run 'tower --context \(name)' for another")
        }, resolveTheme: look.themeResolver())
        let sources = ConsoleSources(metrics: [ScrapeMetricsSource(urls: [backend.sim + "/metrics"], profile: .generic, interval: 2)],
                                     traces: ZipkinTraceSource(baseURL: backend.sim))
        let status = try await runConsole(client: RegistryClient(baseURL: backend.registry, token: backend.token), sources: sources,
                                          contextName: "demo", readOnly: readOnly, look: look, hooks: hooks)
        if let status { throw ExitCode(128 + status) }
    }
}

/// The child process behind the demo: started, waited for until it says where it listens, and
/// killed with its folder at the end (its data is thrown away, so SIGKILL loses nothing).
final class DemoBackendProcess {
    let registry: String
    let sim: String
    let token: String
    private let process: Process
    private let dir: String

    private init(process: Process, dir: String, registry: String, sim: String, token: String) {
        self.process = process
        self.dir = dir
        self.registry = registry
        self.sim = sim
        self.token = token
    }

    /// `tower-sim` from the folder this executable is in: the two are built and installed together.
    static func simExecutable() throws -> String {
        let own = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let path = own.deletingLastPathComponent().appendingPathComponent("tower-sim").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ValidationError("tower demo runs its registry and fleet with tower-sim, which is not beside tower (\(path)): build both (swift build) or run scripts/demo")
        }
        return path
    }

    static func start(misbehaveAfter: Double, readyWithin: TimeInterval = 60) throws -> DemoBackendProcess {
        let dir = NSTemporaryDirectory() + "tower-demo-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let logPath = dir + "/backend.log"
        FileManager.default.createFile(atPath: logPath, contents: nil, attributes: [.posixPermissions: 0o600])
        let process = Process()
        do {
            process.executableURL = URL(fileURLWithPath: try simExecutable())
            process.arguments = ["demo-backend", "--dir", dir, "--misbehave-after", String(misbehaveAfter), "--parent", String(getpid())]
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
        } catch {
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
        func fail(_ why: String) -> Error {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            let tail = ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
                .split(separator: "\n").suffix(8).joined(separator: "\n")
            try? FileManager.default.removeItem(atPath: dir)
            return ValidationError("the demo's registry \(why)" + (tail.isEmpty ? "" : ":\n" + tail))
        }
        // Bounded: a backend that neither says where it listens nor exits is stopped and said.
        let deadline = Date().addingTimeInterval(readyWithin)
        while true {
            if let data = FileManager.default.contents(atPath: dir + "/ready.json"),
               let ready = try? JSONSerialization.jsonObject(with: data) as? [String: String],
               let registry = ready["registry"], let sim = ready["sim"],
               let token = try? String(contentsOfFile: dir + "/token", encoding: .utf8) {
                return DemoBackendProcess(process: process, dir: dir, registry: registry, sim: sim,
                                          token: token.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            if !process.isRunning { throw fail("stopped before it was ready (exit \(process.terminationStatus))") }
            if Date() > deadline { throw fail("was not ready within \(Int(readyWithin)) s") }
            usleep(50_000)
        }
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
