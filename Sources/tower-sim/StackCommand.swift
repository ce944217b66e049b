import ArgumentParser
import Foundation
import TowerSim
import TowerStack

/// `tower-sim stack --dir DIR`: the whole platform on loopback. Argument parsing and wiring only:
/// `LocalStack` starts the parts in order and `StackSupervisor` stops them.
struct Stack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run registry + model servers + Envoy + Prometheus + load on loopback; Ctrl-C stops it all.",
        discussion: """
            Writes DIR/stack.json (where everything is), DIR/tokens/*.token (one per role, mode 0600), \
            DIR/logs/*.log, and a context named `local` in $XDG_CONFIG_HOME/tower/config.yaml, so \
            `tower --context local` opens the console on the stack. Each run starts a fresh registry. \
            With --tls, also DIR/tls: a new CA, the registry's certificate (127.0.0.1, localhost), the \
            operator's and Envoy's client certificates, keys mode 0600, made in-process (no openssl needed). \
            With --store postgres, a PostgreSQL server of the stack's own in DIR/postgres and --replicas \
            registries over it; stack.json lists them under "registries" and the database under "postgres".
            """)

    @Option(help: "Directory for the stack's data, tokens, logs and stack.json (created if missing).") var dir: String
    @Option(help: "Registry seed YAML (a list of endpoint specs; upstreams are filled in). Default: alpha, fraud-score, search-rank.") var seed: String?
    @Option(help: "Scenario YAML for the model servers' latency, errors and rates.") var scenario: String?
    @Option(help: "Multiply every endpoint's load rate (0 sends no load).") var rateScale = 1.0
    @Option(help: "Envoy's listener port (0 picks a free one).") var listenerPort = 0
    @Flag(help: "Do not write the `local` context into the Tower config.") var noContext = false
    @Flag(help: ArgumentHelp("Serve the registry over TLS with a CA the stack makes (DIR/tls): Envoy fetches its xDS over mutual TLS, and the `local` context signs in with the operator's certificate (CN otto), no token.",
                             discussion: "Prometheus, Envoy's admin and the simulator stay plain HTTP on 127.0.0.1."))
    var tls = false
    @Option(help: ArgumentHelp("Where the registry keeps its state: sqlite (one registry) or postgres (a PostgreSQL server the stack starts in DIR/postgres, as an unprivileged user when run as root, with --replicas registries over it).",
                               valueName: "sqlite|postgres"))
    var store = "sqlite"
    @Option(help: "With --store postgres: how many registry replicas (the local context and Envoy get every one).") var replicas = 2

    func run() async throws {
        let backend: LocalStack.Store
        switch store {
        case "sqlite":
            guard replicas == 2 || replicas == 1 else { throw ValidationError("--replicas needs --store postgres: SQLite serves one registry") }
            backend = .sqlite
        case "postgres":
            guard (1...9).contains(replicas) else { throw ValidationError("--replicas must be 1 to 9") }
            backend = .postgres(replicas: replicas)
        default: throw ValidationError("--store must be sqlite or postgres")
        }
        let out = StackOutput()
        let layout = try StackLayout(dir: dir)
        let sc = try loadScenario(scenario)
        var yaml = StackPlan.defaultSeed
        if let seed {
            guard let text = try? String(contentsOfFile: seed, encoding: .utf8) else { throw ValidationError("cannot read \(seed)") }
            yaml = text
        }
        let tools = LocalStack.Tools(registry: try Self.sibling("tower-registry"), envoy: try StackTools.envoy(say: out.say),
                                     prometheus: try StackTools.prometheus(say: out.say))
        try await LocalStack(layout: layout, specs: try StackPlan.specs(yaml: yaml), scenario: sc, tools: tools, rateScale: rateScale,
                             listenerPort: listenerPort, writeContext: !noContext, tls: tls, store: backend, out: out).run()
    }

    /// A program built beside this one (tower-registry lives next to tower-sim).
    static func sibling(_ name: String) throws -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let path = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else { throw StackError("\(name) is not built beside tower-sim (\(path))") }
        return path
    }
}
