import ArgumentParser
import Foundation
import Logging
import TowerDomain
import TowerSim
import TowerSources

/// Argument parsing and wiring only; the fleet, the model servers and the load generator are TowerSim.
@main
struct TowerSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tower-sim",
        abstract: "A simulated model-serving fleet that follows the registry's weights and exports metrics and traces.",
        subcommands: [Serve.self, Stack.self, DemoBackend.self],
        defaultSubcommand: Serve.self)
}

/// The fleet beside an existing registry: simulated traffic (default), real per-version model
/// servers (`--models`), real load against a gateway (`--load`), or any mix.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow a registry: simulate its traffic, serve its versions as real model servers, and/or send real load to a gateway.")

    @Option(help: "Registry URL.") var registry: String
    @Option(help: "File holding a registry token (viewer is enough).") var tokenFile: String?
    @Option(help: "Address for /metrics and the Zipkin v2 API, HOST:PORT.") var listen = "127.0.0.1:9464"
    @Option(help: "Scenario YAML (rates, behaviours, timed events); default: every endpoint steady and healthy.") var scenario: String?
    @Option(help: "Random seed, for a reproducible run.") var seed: UInt64 = 0x70E4

    @Flag(help: "Serve every version in the registry at start as a real HTTP model server on 127.0.0.1 (with --no-virtual, every figure is real).") var models = false
    @Option(help: "With --models: write the servers' ports as JSON ({\"alpha--v1\": 40123, …}) to this file.") var portsFile: String?
    @Option(name: .customLong("model-port"), help: "With --models: a fixed port for one version, ENDPOINT--VERSION=PORT (repeatable; others are ephemeral).")
    var modelPorts: [String] = []
    @Option(help: "Send real requests at the scenario's rates to this gateway base URL (e.g. http://127.0.0.1:10000), or `direct`: with --models, straight to the model servers, picked by the registry's live weights.") var load: String?
    @Option(help: "With --load: multiply every endpoint's rate.") var rateScale = 1.0
    @Option(help: "With --load: requests in flight at most; arrivals beyond are dropped and counted.") var maxInFlight = 64
    @Flag(help: "Generate no simulated traffic in-process: every figure comes from real requests.") var noVirtual = false

    func validate() throws {
        if !models && (portsFile != nil || !modelPorts.isEmpty) { throw ValidationError("--ports-file and --model-port need --models") }
        if !(rateScale >= 0 && rateScale <= 1000) { throw ValidationError("--rate-scale must be between 0 and 1000") }
        if maxInFlight < 1 || maxInFlight > 1024 { throw ValidationError("--max-in-flight must be between 1 and 1024") }
        if load == "direct" && !models { throw ValidationError("--load direct needs --models (the servers it sends to)") }
        if let load, load != "direct", URL(string: load)?.host == nil || !(load.hasPrefix("http://") || load.hasPrefix("https://")) {
            throw ValidationError("--load must be an http(s) base URL, e.g. http://127.0.0.1:10000, or direct")
        }
        _ = try fixedPorts()
    }

    func fixedPorts() throws -> [String: Int] {
        var out: [String: Int] = [:]
        for spec in modelPorts {
            guard let eq = spec.lastIndex(of: "="), let port = Int(spec[spec.index(after: eq)...]), (1...65535).contains(port),
                  spec[..<eq].contains("--") else {
                throw ValidationError("--model-port must be ENDPOINT--VERSION=PORT, e.g. alpha--v1=18001 (got '\(spec)')")
            }
            out[String(spec[..<eq])] = port
        }
        return out
    }

    func run() async throws {
        let sc = try loadScenario(scenario)
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw ValidationError("--listen must be HOST:PORT")
        }
        let token: String?
        do { token = try TokenSource.read(file: tokenFile) } catch { throw ValidationError("\(error)") }
        var logger = Logger(label: "tower-sim")
        logger.logLevel = .info
        let live = LiveSimulator(Simulator(scenario: sc, seed: seed, virtualTraffic: !noVirtual))
        let client = RegistryClient(baseURL: registry, token: token)

        var servers: ModelServers?
        if models {
            let versions = try await Self.versionsAtStart(client, logger: logger)
            live.route(versions.endpoints)
            let s = try await ModelServers.start(live: live, versions: versions.pairs, ports: try fixedPorts())
            servers = s
            let json = String(decoding: s.portsJSON(), as: UTF8.self)
            logger.info("model servers: \(json)")
            if let portsFile { try StackFiles.writeAtomically(Data((json + "\n").utf8), to: portsFile) }
        }
        let simLoad = load.map { SimLoad($0 == "direct" ? .direct(ports: servers?.ports ?? [:]) : .gateway($0), rateScale: rateScale, maxInFlight: maxInFlight) }
        let app: SimApp
        do {
            app = try await SimApp.start(live: live, registry: client, host: String(listen[..<colon]), port: port, load: simLoad, logger: logger,
                                         stopOnSignals: true) { [logger] e in logger.warning("registry: \(e)") }
        } catch {
            await servers?.shutdown()
            throw error
        }
        await app.wait()
        await app.stop()
        await servers?.shutdown()
    }

    /// The registry's versions when we start, waiting for it (with backoff) if it is not up yet:
    /// the model servers are made once, so they need the list before anything else.
    static func versionsAtStart(_ client: RegistryClient, logger: Logger) async throws -> (endpoints: [Endpoint], pairs: [(endpoint: String, version: String)]) {
        var failures = 0
        while true {
            do {
                let list = try await client.list()
                return (list.endpoints, list.endpoints.flatMap { e in e.versions.map { (endpoint: e.name, version: $0.name) } })
            } catch {
                failures += 1
                if failures >= 20 { throw ValidationError("the registry did not answer: \(error)") }
                logger.warning("registry: \(error); retrying")
                try await Task.sleep(for: .milliseconds(Int(Backoff.delay(failures: failures) * 1000)))
            }
        }
    }
}

/// The scenario of `--scenario FILE`, or every endpoint steady and healthy without one.
func loadScenario(_ path: String?) throws -> Scenario {
    guard let path else { return Scenario() }
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read \(path)") }
    do { return try Scenario.parse(yaml: text) } catch { throw ValidationError("\(path): \(error)") }
}
