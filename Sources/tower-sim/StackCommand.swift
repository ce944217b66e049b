import ArgumentParser
import Foundation
import Hummingbird
import Logging
import TowerDomain
import TowerHTTP
import TowerSim
import TowerSources

/// `tower-sim stack --dir DIR`: the whole platform on loopback — a real `tower-registry`, per-version
/// model servers, a real Envoy programmed by the registry, real Prometheus scraping Envoy and the
/// model servers, and load flowing through Envoy. Wiring only: the parts are TowerSim's.
struct Stack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run registry + model servers + Envoy + Prometheus + load on loopback; Ctrl-C stops it all.",
        discussion: """
            Writes DIR/stack.json (where everything is), DIR/tokens/*.token (one per role, mode 0600), \
            DIR/logs/*.log, and a context named `local` in $XDG_CONFIG_HOME/tower/config.yaml, so \
            `tower --context local` opens the console on the stack. Each run starts a fresh registry.
            """)

    @Option(help: "Directory for the stack's data, tokens, logs and stack.json (created if missing).") var dir: String
    @Option(help: "Registry seed YAML (a list of endpoint specs; upstreams are filled in). Default: alpha, fraud-score, search-rank.") var seed: String?
    @Option(help: "Scenario YAML for the model servers' latency, errors and rates.") var scenario: String?
    @Option(help: "Multiply every endpoint's load rate (0 sends no load).") var rateScale = 1.0
    @Option(help: "Envoy's listener port (0 picks a free one).") var listenerPort = 0
    @Flag(help: "Do not write the `local` context into the Tower config.") var noContext = false

    func run() async throws {
        var logger = Logger(label: "tower-sim.stack")
        logger.logLevel = .warning
        let out = StackOutput()
        let layout = try StackLayout(dir: dir)

        let sc = try loadScenario(scenario)
        let specs: [EndpointSpec]
        if let seed {
            guard let text = try? String(contentsOfFile: seed, encoding: .utf8) else { throw ValidationError("cannot read \(seed)") }
            specs = try StackPlan.specs(yaml: text)
        } else {
            specs = try StackPlan.specs(yaml: StackPlan.defaultSeed)
        }

        let envoyBin = try StackTools.envoy(say: out.say)
        let prometheusBin = try StackTools.prometheus(say: out.say)
        let registryBin = try Self.sibling("tower-registry")

        var children: [ChildProcess] = []
        var servers: ModelServers?
        var generator: LoadGenerator?
        var background: [Task<Void, Never>] = []
        func stopAll() async {
            for t in background { t.cancel() }
            await generator?.stop()
            for c in children.reversed() { c.stop() }
            await servers?.shutdown()
            try? FileManager.default.removeItem(atPath: layout.manifest)
        }

        do {
            // 1. Model servers first: their ports go into the registry's seed as upstreams.
            let live = LiveSimulator(Simulator(scenario: sc, seed: 0x57AC, virtualTraffic: false))
            let models = try await ModelServers.start(live: live, versions: StackPlan.versions(specs), logger: logger)
            servers = models
            try StackPlan.seed(specs, ports: models.ports).write(to: URL(fileURLWithPath: layout.seed))
            out.say("model servers: \(models.ports.count) on 127.0.0.1")

            // 2. The registry, with one token per role (only their hashes are stored).
            var tokens: [String: String] = [:]
            for role in ["admin", "operator", "viewer", "gateway"] {
                let token = try Self.capture(registryBin, ["token", "create", "--data", layout.registryData, "--name", "stack-\(role)", "--role", role])
                let path = layout.tokens + "/\(role).token"
                try StackFiles.writePrivate(token + "\n", to: path)
                tokens[role] = path
            }
            let registryPort = try StackFiles.freePort()
            let registryURL = "http://127.0.0.1:\(registryPort)"
            children.append(try ChildProcess(name: "registry", executable: registryBin,
                                             arguments: ["serve", "--data", layout.registryData, "--listen", "127.0.0.1:\(registryPort)",
                                                         "--seed", layout.seed, "--log-level", "warning"],
                                             logPath: layout.log("registry")))
            try await Self.waitHealthy("registry", registryURL + "/readyz", children.last)

            // 3. The simulator's own port (/metrics of the model servers, Zipkin API), following the
            //    registry so the load goes where the endpoints are.
            let simPort = try StackFiles.freePort()
            let simURL = "http://127.0.0.1:\(simPort)"
            let viewer = try TokenSource.read(file: tokens["viewer"])
            let client = RegistryClient(baseURL: registryURL, token: viewer)
            background.append(Task { await live.follow(client) { [logger] e in logger.warning("registry: \(e)") } })
            background.append(Task { await live.runClock() })

            // 4. Envoy, configured by the registry over REST xDS (the gateway token rides in its node metadata).
            let listener = listenerPort == 0 ? try StackFiles.freePort() : listenerPort
            let admin = try StackFiles.freePort()
            let bootstrap = try Self.capture(registryBin, ["envoy-bootstrap", "--registry", registryURL, "--node", "tower-stack",
                                                           "--token-file", tokens["gateway"] ?? "", "--listener-port", "\(listener)",
                                                           "--admin-port", "\(admin)", "--zipkin", "127.0.0.1:\(simPort)"], trim: false)
            try StackFiles.writePrivate(bootstrap, to: layout.envoyConfig)
            children.append(try ChildProcess(name: "envoy", executable: envoyBin,
                                             arguments: ["-c", layout.envoyConfig, "--concurrency", "2", "--disable-hot-restart",
                                                         "--use-dynamic-base-id", "-l", "warning"],
                                             logPath: layout.log("envoy")))
            try await Self.waitHealthy("envoy", "http://127.0.0.1:\(admin)/ready", children.last)

            // 5. Prometheus scraping Envoy and the model servers.
            let promPort = try StackFiles.freePort()
            let promURL = "http://127.0.0.1:\(promPort)"
            try StackPlan.prometheusConfig(envoyAdmin: "127.0.0.1:\(admin)", simulator: "127.0.0.1:\(simPort)")
                .write(toFile: layout.prometheusConfig, atomically: true, encoding: .utf8)
            children.append(try ChildProcess(name: "prometheus", executable: prometheusBin,
                                             arguments: ["--config.file=\(layout.prometheusConfig)", "--storage.tsdb.path=\(layout.prometheusData)",
                                                         "--web.listen-address=127.0.0.1:\(promPort)", "--storage.tsdb.retention.time=1d"],
                                             logPath: layout.log("prometheus")))

            // 6. Load through Envoy.
            let listenerURL = "http://127.0.0.1:\(listener)"
            if rateScale > 0 {
                generator = LoadGenerator.start(baseURL: listenerURL, targets: LoadGenerator.targets(of: live, rateScale: rateScale))
            }

            let app = Application(router: buildSimRouter(live, load: generator),
                                  configuration: .init(address: .hostname("127.0.0.1", port: simPort), serverName: "tower-sim"),
                                  logger: logger)
            let manifest = StackManifest(
                registry: registryURL, envoy: .init(listener: listenerURL, admin: "http://127.0.0.1:\(admin)"),
                prometheus: promURL, simulator: simURL,
                tokens: .init(admin: tokens["admin"] ?? "", operator: tokens["operator"] ?? "", viewer: tokens["viewer"] ?? "",
                              gateway: tokens["gateway"] ?? ""),
                models: models.ports.mapValues { "127.0.0.1:\($0)" }, pid: getpid(),
                processes: Dictionary(children.map { ($0.name, $0.pid) }, uniquingKeysWith: { a, _ in a }))
            let children = children
            background.append(Task {
                do {
                    try await Self.waitHealthy("prometheus", promURL + "/-/ready", children.last, seconds: 60)
                    try await Self.waitHealthy("simulator", simURL + "/healthz", nil)
                    // Ready means figures can be trusted from the first request on: Prometheus has
                    // scraped both Envoy and the model servers once, so no early traffic is missed.
                    try await Self.waitHealthy("prometheus's first scrapes", promURL + "/api/v1/query?query=count(up%3D%3D1)%3D%3D2", children.last,
                                               seconds: 30, body: #""value":["#)
                    var contextWritten = false
                    if !noContext {
                        // A config the operator broke by hand must not take the stack down with it.
                        do { try StackContext.write(manifest); contextWritten = true } catch {
                            out.say("could not write the local context (\(error)); use --registry/--prometheus flags instead")
                        }
                    }
                    try StackFiles.writeAtomically(manifest.json(), to: layout.manifest)
                    out.report(manifest, children: children, contextWritten: contextWritten)
                } catch {
                    out.say("\(error)")
                    kill(getpid(), SIGTERM)
                }
                await Self.watch(children, out: out, health: [
                    ("registry", registryURL + "/readyz"), ("envoy", "http://127.0.0.1:\(admin)/ready"),
                    ("prometheus", promURL + "/-/ready"), ("simulator", simURL + "/healthz"),
                ])
            })
            // Runs until SIGINT or SIGTERM (Hummingbird's service group handles both).
            try await app.runService()
            out.say("stopping…")
            await stopAll()
            out.say("stopped")
        } catch {
            await stopAll()
            throw error
        }
    }

    /// Says when a part of the stack dies; the rest keeps running so its state can be looked at.
    /// Says when a part of the stack dies (with its log tail), and when one stops or starts
    /// answering its health check (every 5 s); the rest keeps running so its state can be looked at.
    static func watch(_ children: [ChildProcess], out: StackOutput, health checks: [(String, String)]) async {
        var reported = Set<String>()
        var health = StackHealth()
        let http = CurlTransport()
        var tick = 0
        while !Task.isCancelled {
            for c in children where !reported.contains(c.name) {
                if let how = c.ended {
                    reported.insert(c.name)
                    out.say("\(c.name) \(how) — its log: \(c.logPath)\n\(c.logTail())")
                }
            }
            if tick % 5 == 0 {
                for (part, url) in checks where !reported.contains(part) {
                    var detail = ""
                    do {
                        let r = try await http.send(TowerHTTP.HTTPRequest(url: url, timeout: .seconds(2)))
                        if !(200..<300).contains(r.status) { detail = "\(url) answered \(r.status)" }
                    } catch {
                        detail = "\(url): \(error)"
                    }
                    if let line = health.update(part, healthy: detail.isEmpty, detail: detail) { out.say(line) }
                }
            }
            tick += 1
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Polls `url` until it answers 2xx; fails early, with its log, if the process dies.
    static func waitHealthy(_ name: String, _ url: String, _ process: ChildProcess?, seconds: Double = 30, body: String? = nil) async throws {
        let http = CurlTransport()
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let how = process?.ended {
                throw StackError("\(name) \(how) while starting; its log (\(process?.logPath ?? "")):\n\(process?.logTail() ?? "")")
            }
            if let r = try? await http.send(TowerHTTP.HTTPRequest(url: url, timeout: .seconds(1))), (200..<300).contains(r.status),
               body.map({ r.text.contains($0) }) ?? true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw StackError("\(name) did not become healthy at \(url) within \(Int(seconds)) s" +
                         (process.map { "; its log (\($0.logPath)):\n\($0.logTail())" } ?? ""))
    }

    /// A program built beside this one (tower-registry lives next to tower-sim).
    static func sibling(_ name: String) throws -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let path = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else { throw StackError("\(name) is not built beside tower-sim (\(path))") }
        return path
    }

    /// Runs a short command and returns its standard output; its error output becomes the error.
    static func capture(_ exe: String, _ args: [String], trim: Bool = true) throws -> String {
        let outPath = NSTemporaryDirectory() + "tower-stack-" + UUID().uuidString
        defer { unlink(outPath) }
        let p = try ChildProcess(name: URL(fileURLWithPath: exe).lastPathComponent, executable: exe, arguments: args, logPath: outPath)
        p.waitUntilExit()
        let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        guard p.ended == "exited 0" else { throw StackError("\(p.name) \(args.first ?? "") failed (\(p.ended ?? "?")): \(text)") }
        return trim ? text.trimmingCharacters(in: .whitespacesAndNewlines) : text
    }
}

/// The stack's files under DIR.
struct StackLayout {
    let dir: String
    var registryData: String { dir + "/registry" }
    var tokens: String { dir + "/tokens" }
    var logs: String { dir + "/logs" }
    var seed: String { dir + "/seed.json" }
    var envoyConfig: String { dir + "/envoy.yaml" }
    var prometheusConfig: String { dir + "/prometheus.yml" }
    var prometheusData: String { dir + "/prometheus-data" }
    var manifest: String { dir + "/stack.json" }
    func log(_ name: String) -> String { logs + "/\(name).log" }

    init(dir: String) throws {
        let abs = URL(fileURLWithPath: (dir as NSString).expandingTildeInPath).standardizedFileURL.path
        self.dir = abs
        let fm = FileManager.default
        if fm.fileExists(atPath: abs + "/stack.json"),
           let data = fm.contents(atPath: abs + "/stack.json"),
           let m = try? JSONDecoder().decode(StackManifest.self, from: data), kill(m.pid, 0) == 0 {
            throw StackError("a stack is already running from \(abs) (pid \(m.pid)); stop it first")
        }
        // A fresh registry each run: the model servers' ports are new, so old upstreams would be wrong.
        for sub in ["/registry", "/prometheus-data", "/stack.json"] { try? fm.removeItem(atPath: abs + sub) }
        for sub in ["", "/registry", "/tokens", "/logs", "/prometheus-data"] {
            try fm.createDirectory(atPath: abs + sub, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
    }
}

/// What the stack says on its standard output: progress, then a table of its parts.
final class StackOutput: Sendable {
    func say(_ s: String) {
        FileHandle.standardOutput.write(Data("stack: \(s)\n".utf8))
    }

    func report(_ m: StackManifest, children: [ChildProcess], contextWritten: Bool) {
        func state(_ name: String) -> String { children.first { $0.name == name }.map { $0.ended ?? "up" } ?? "up" }
        let rows = [
            ("registry", m.registry, state("registry")),
            ("envoy listener", m.envoy.listener, state("envoy")),
            ("envoy admin", m.envoy.admin, state("envoy")),
            ("prometheus", m.prometheus, state("prometheus")),
            ("simulator", m.simulator + "  (/metrics, Zipkin /api/v2)", "up"),
            ("model servers", "\(m.models.count) versions on 127.0.0.1", "up"),
        ]
        var text = "stack: ready\n"
        for (name, url, st) in rows { text += "  \(name.padding(toLength: 15, withPad: " ", startingAt: 0)) \(st.padding(toLength: 4, withPad: " ", startingAt: 0)) \(url)\n" }
        text += "  tokens          \(URL(fileURLWithPath: m.tokens.operator).deletingLastPathComponent().path)/{admin,operator,viewer,gateway}.token\n"
        if contextWritten { text += "  console         tower --context local\n" }
        text += "  Ctrl-C stops everything.\n"
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
