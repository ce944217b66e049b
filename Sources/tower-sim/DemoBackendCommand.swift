import ArgumentParser
import Foundation
import Hummingbird
import Logging
import TowerDomain
import TowerMetrics
import TowerRegistry
import TowerSim
import TowerSources

/// What `tower demo` runs beside the console, in a process of its own: a registry (SQLite in the
/// demo's folder, loopback) seeded with the demo fleet, the simulated fleet following it, and the
/// registry's rollout loop. Out of the console's process so that `tower` links none of the
/// registry, the simulator, Hummingbird, NIO or GRDB: the console's memory is its own (issue 9).
///
/// It writes `ready.json` ({"registry": URL, "sim": URL}) and `token` (an operator token, 0600)
/// into `--dir` once both listen, and ends when its parent does (the console crashed or was
/// killed), so a demo never leaves a server behind.
struct DemoBackend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-backend",
        abstract: "The registry and simulated fleet behind `tower demo` (started by it).",
        shouldDisplay: false)

    @Option(help: "Folder for the registry's data, the token and ready.json (created by the caller, private to it).") var dir: String
    @Option(help: "Seconds until alpha's canary (v2) starts misbehaving.") var misbehaveAfter = 30.0
    @Option(help: "The pid to outlive no longer than a second (the console's).") var parent: Int32?

    func run() async throws {
        var logger = Logger(label: "tower-demo")
        logger.logLevel = .warning
        // A long drain timeout keeps the demo's draining version draining while you look at it.
        let store = try RegistryStore(directory: dir + "/registry", drainTimeout: 3600)
        try await DemoFleet.seed(store)
        let token = try store.createToken(name: "demo-operator", role: .operator)
        let tokenPath = dir + "/token"
        guard FileManager.default.createFile(atPath: tokenPath, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write \(tokenPath)")
        }
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = buildApplication(store: store, host: "127.0.0.1", port: 0, logger: logger) { port in portContinuation.yield(port) }
        let server = Task { try await app.run() }
        var port = 0
        for await p in portStream { port = p; break }
        let registry = "http://127.0.0.1:\(port)"
        let sim = try await SimApp.start(live: LiveSimulator(Simulator(scenario: Scenario.demo(firstAt: misbehaveAfter))),
                                         registry: RegistryClient(baseURL: registry, token: token), logger: logger)
        // The rollout loop's checks read the simulated fleet as the console does, through a scrape
        // source of their own (a scrape's rates are deltas since that source's last read).
        let rolloutMetrics = SourceRolloutMetrics(source: ScrapeMetricsSource(urls: [sim.url + "/metrics"], profile: .generic, interval: 2))
        let rollouts = Task { await RolloutController(store: store, metrics: rolloutMetrics, logger: logger).run() }
        let ready = try JSONSerialization.data(withJSONObject: ["registry": registry, "sim": sim.url], options: [.sortedKeys])
        try StackFiles.writeAtomically(ready, to: dir + "/ready.json")
        // The console stops us with SIGKILL and removes the folder; if it dies first, we are
        // re-parented, and go too, taking the folder (it was the demo's only).
        if let parent {
            while getppid() == parent { try? await Task.sleep(for: .seconds(1)) }
            try? FileManager.default.removeItem(atPath: dir)
        } else {
            _ = await server.result
        }
        rollouts.cancel()
        await sim.stop()
        server.cancel()
    }
}

/// A metrics source as the registry's rollout checks read it: one refresh per round.
struct SourceRolloutMetrics: RolloutMetricsReader {
    let source: any MetricsSource
    var name: String { source.name }
    func read() async throws -> [String: Figures] { try await source.refresh() }
}
