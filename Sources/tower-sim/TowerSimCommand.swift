import ArgumentParser
import Foundation
import Hummingbird
import Logging
import TowerDomain
import TowerSim
import TowerSources

/// Argument parsing and wiring only; the fleet is TowerSim.
@main
struct TowerSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tower-sim",
        abstract: "A simulated model-serving fleet that follows the registry's weights and exports metrics and traces.")

    @Option(help: "Registry URL.") var registry: String
    @Option(help: "File holding a registry token (viewer is enough).") var tokenFile: String?
    @Option(help: "Address for /metrics and the Zipkin v2 API, HOST:PORT.") var listen = "127.0.0.1:9464"
    @Option(help: "Scenario YAML (rates, behaviours, timed events); default: every endpoint steady and healthy.") var scenario: String?
    @Option(help: "Random seed, for a reproducible run.") var seed: UInt64 = 0x70E4

    func run() async throws {
        let sc: Scenario
        if let scenario {
            guard let text = try? String(contentsOfFile: scenario, encoding: .utf8) else { throw ValidationError("cannot read \(scenario)") }
            do { sc = try Scenario.parse(yaml: text) } catch { throw ValidationError("\(scenario): \(error)") }
        } else {
            sc = Scenario()
        }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw ValidationError("--listen must be HOST:PORT")
        }
        let token: String?
        do { token = try TokenSource.read(file: tokenFile) } catch { throw ValidationError("\(error)") }
        var logger = Logger(label: "tower-sim")
        logger.logLevel = .info
        let live = LiveSimulator(Simulator(scenario: sc, seed: seed))
        let client = RegistryClient(baseURL: registry, token: token)
        let follower = Task { await live.follow(client) { [logger] e in logger.warning("registry: \(e)") } }
        let clock = Task { await live.runClock() }
        let app = Application(router: buildSimRouter(live),
                              configuration: .init(address: .hostname(String(listen[..<colon]), port: port), serverName: "tower-sim"),
                              logger: logger)
        try await app.runService()
        follower.cancel()
        clock.cancel()
    }
}
