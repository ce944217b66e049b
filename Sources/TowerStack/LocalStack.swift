import Foundation
import TowerSim
import Logging
import TowerDomain
import TowerHTTP
import TowerSources

/// `tower-sim stack`: the whole platform on loopback — a real `tower-registry`, per-version model
/// servers, a real Envoy programmed by the registry, real Prometheus scraping Envoy and the model
/// servers, and load flowing through Envoy — started in that order by a `StackSupervisor`, which
/// stops it all, last first, on SIGINT or SIGTERM or when a part fails to start.
public struct LocalStack: Sendable {
    /// The programs the stack runs.
    public struct Tools: Sendable {
        public var registry: String, envoy: String, prometheus: String
        public init(registry: String, envoy: String, prometheus: String) {
            self.registry = registry; self.envoy = envoy; self.prometheus = prometheus
        }
    }

    public var layout: StackLayout
    public var specs: [EndpointSpec]
    public var scenario: Scenario
    public var tools: Tools
    /// Multiplies every endpoint's load rate; 0 sends none.
    public var rateScale: Double
    /// Envoy's listener port; 0 picks a free one.
    public var listenerPort: Int
    /// Whether to write the `local` context into the operator's Tower config.
    public var writeContext: Bool
    /// The registry over TLS with a CA of the stack's own (`StackPKI`): Envoy fetches its xDS over
    /// mutual TLS and the `local` context signs in with the operator's certificate, with no token.
    public var tls: Bool
    /// Where the registry keeps its state: one process on SQLite, or replicas over PostgreSQL.
    public var store: Store
    public var out: StackOutput

    public enum Store: Sendable, Equatable {
        case sqlite
        /// A PostgreSQL server of the stack's own (`PostgresServer`, in DIR/postgres) and this many
        /// registry replicas over it.
        case postgres(replicas: Int)
    }

    public init(layout: StackLayout, specs: [EndpointSpec], scenario: Scenario, tools: Tools, rateScale: Double = 1,
                listenerPort: Int = 0, writeContext: Bool = true, tls: Bool = false, store: Store = .sqlite, out: StackOutput = StackOutput()) {
        self.layout = layout; self.specs = specs; self.scenario = scenario; self.tools = tools; self.rateScale = rateScale
        self.listenerPort = listenerPort; self.writeContext = writeContext; self.tls = tls; self.store = store; self.out = out
    }

    /// Runs until SIGINT or SIGTERM; everything started is stopped before this returns or throws.
    public func run() async throws {
        var logger = Logger(label: "tower-sim.stack")
        logger.logLevel = .warning
        let supervisor = StackSupervisor(say: { [out] in out.say($0) })
        try await supervisor.run { s in
            s.onStop("stack.json") { try? FileManager.default.removeItem(atPath: layout.manifest) }

            // 1. Model servers first: their ports go into the registry's seed as upstreams.
            let live = LiveSimulator(Simulator(scenario: scenario, seed: 0x57AC, virtualTraffic: false))
            let models = try await ModelServers.start(live: live, versions: StackPlan.versions(specs), logger: logger)
            s.onStop("model servers") { await models.shutdown() }
            try StackPlan.seed(specs, ports: models.ports).write(to: URL(fileURLWithPath: layout.seed))
            out.say("model servers: \(models.ports.count) on 127.0.0.1")

            // 2. The registry, with one token per role (only their hashes are stored). On
            //    PostgreSQL, the stack's own server first (stopped after the replicas).
            var storeArgs = ["--data", layout.registryData]
            var postgresURL: String?
            var postgresPID: Int32?
            if case .postgres = store {
                // PostgreSQL runs as its own unprivileged user when we are root: it must be able
                // to pass through the stack's folder (not list it; tokens/ and tls/ stay 0700).
                chmod(layout.dir, 0o711)
                let server = try PostgresServer(dir: layout.postgres)
                s.onStop("postgres") { server.stop() }
                let url = try server.createDatabase("tower")
                storeArgs = ["--store", url]
                postgresURL = url
                postgresPID = server.pid
                out.say("postgres: \(url) (\(layout.postgres))")
            }
            var tokens: [String: String] = [:]
            for role in ["admin", "operator", "viewer", "gateway"] {
                let token = try Self.capture(tools.registry, ["token", "create"] + storeArgs + ["--name", "stack-\(role)", "--role", role])
                let path = layout.tokens + "/\(role).token"
                try StackFiles.writePrivate(token + "\n", to: path)
                tokens[role] = path
            }
            // With --tls: a fresh CA each run, the registry verifying client certificates against it
            // (tokens keep working beside them: the simulator follows with the viewer token).
            let pki = tls ? try StackPKI.make(in: layout.tls) : nil
            if let pki { out.say("tls: a new CA and certificates in \(pki.dir) (swift-certificates)") }
            let registryTLS = pki.map { ContextTLS(caFile: $0.caFile) }
            let registryTransport: any HTTPTransport = try registryTLS?.transport() ?? CurlTransport()
            let replicaCount: Int
            if case .postgres(let n) = store { replicaCount = max(1, n) } else { replicaCount = 1 }
            let registryPorts = try (0..<replicaCount).map { _ in try StackFiles.freePort() }
            let registryURLs = registryPorts.map { "\(pki == nil ? "http" : "https")://127.0.0.1:\($0)" }
            let registryURL = registryURLs[0]
            let serveTLS = pki.map { ["--tls-cert", $0.cert("server"), "--tls-key", $0.key("server"), "--client-ca", $0.caFile,
                                      "--identities", $0.identitiesFile] } ?? []
            // Prometheus's port is chosen now: the registry's rollout checks read it (envoy
            // profile, the traffic as the gateway saw it) once it is up in step 4.
            let promPort = try StackFiles.freePort()
            let promURL = "http://127.0.0.1:\(promPort)"
            // The first replica seeds the store; the others start on what it wrote.
            var registries: [ChildProcess] = []
            for (i, port) in registryPorts.enumerated() {
                let name = i == 0 ? "registry" : "registry-\(i + 1)"
                let seed = i == 0 ? ["--seed", layout.seed] : []
                let registry = s.adopt(try ChildProcess(name: name, executable: tools.registry,
                                                        arguments: ["serve"] + storeArgs + ["--listen", "127.0.0.1:\(port)", "--log-level", "warning",
                                                                    "--prometheus", promURL, "--profile", "envoy", "--metrics-window", "30"] + seed + serveTLS,
                                                        logPath: layout.log(name)))
                try await StackSupervisor.waitHealthy(name, registryURLs[i] + "/readyz", registry, transport: registryTransport)
                registries.append(registry)
            }
            let replicaList = registryURLs.joined(separator: ",")

            // 3. Envoy, configured by the registry over REST xDS (the gateway token rides in its
            //    node metadata; with --tls, its certificate is its identity instead, and the
            //    bootstrap holds no token), reporting spans to the simulator's port.
            let simPort = try StackFiles.freePort()
            let simURL = "http://127.0.0.1:\(simPort)"
            let listener = listenerPort == 0 ? try StackFiles.freePort() : listenerPort
            let admin = try StackFiles.freePort()
            let credentials = pki.map { ["--ca", $0.caFile, "--cert", $0.cert(StackPKI.gatewayName), "--key", $0.key(StackPKI.gatewayName)] }
                ?? ["--token-file", tokens["gateway"] ?? ""]
            let bootstrap = try Self.capture(tools.registry, ["envoy-bootstrap", "--registry", replicaList, "--node", "tower-stack",
                                                              "--listener-port", "\(listener)", "--admin-port", "\(admin)",
                                                              "--zipkin", "127.0.0.1:\(simPort)"] + credentials, trim: false)
            try StackFiles.writePrivate(bootstrap, to: layout.envoyConfig)
            let envoy = s.adopt(try ChildProcess(name: "envoy", executable: tools.envoy,
                                                 arguments: ["-c", layout.envoyConfig, "--concurrency", "2", "--disable-hot-restart",
                                                             "--use-dynamic-base-id", "-l", "warning"],
                                                 logPath: layout.log("envoy")))
            try await StackSupervisor.waitHealthy("envoy", "http://127.0.0.1:\(admin)/ready", envoy)

            // 4. Prometheus scraping Envoy and the model servers.
            try StackPlan.prometheusConfig(envoyAdmin: "127.0.0.1:\(admin)", simulator: "127.0.0.1:\(simPort)")
                .write(toFile: layout.prometheusConfig, atomically: true, encoding: .utf8)
            let prometheus = s.adopt(try ChildProcess(name: "prometheus", executable: tools.prometheus,
                                                      arguments: ["--config.file=\(layout.prometheusConfig)", "--storage.tsdb.path=\(layout.prometheusData)",
                                                                  "--web.listen-address=127.0.0.1:\(promPort)", "--storage.tsdb.retention.time=1d"],
                                                      logPath: layout.log("prometheus")))

            // 5. The simulator application, following the registry (so the load goes where the
            //    endpoints are), with load through Envoy; SIGINT or SIGTERM stop it, then the rest.
            let listenerURL = "http://127.0.0.1:\(listener)"
            let viewer = try TokenSource.read(file: tokens["viewer"])
            let sim = try await SimApp.start(live: live, registry: try RegistryClient.make(url: replicaList, token: viewer, tls: registryTLS),
                                             port: simPort,
                                             load: rateScale > 0 ? SimLoad(.gateway(listenerURL), rateScale: rateScale) : nil,
                                             logger: logger, stopOnSignals: true) { [logger] e in logger.warning("registry: \(e)") }
            s.onStop("simulator") { await sim.stop() }

            let children = registries + [envoy, prometheus]
            var processes = Dictionary(children.map { ($0.name, $0.pid) }, uniquingKeysWith: { a, _ in a })
            if let postgresPID { processes["postgres"] = postgresPID }
            let manifest = StackManifest(
                registry: registryURL, registries: registryURLs, postgres: postgresURL, envoy: .init(listener: listenerURL, admin: "http://127.0.0.1:\(admin)"),
                prometheus: promURL, simulator: simURL,
                tokens: .init(admin: tokens["admin"] ?? "", operator: tokens["operator"] ?? "", viewer: tokens["viewer"] ?? "",
                              gateway: tokens["gateway"] ?? ""),
                models: models.ports.mapValues { "127.0.0.1:\($0)" }, pid: getpid(),
                processes: processes,
                tls: pki.map(StackManifest.TLS.init))
            let failure = FailureBox()
            let readyThenWatch = Task {
                do {
                    try await Self.ready(manifest, prometheus: prometheus, layout: layout, writeContext: writeContext, out: out, children: children)
                } catch {
                    // Not ready: the stack stops as if told to, and says why as its error.
                    failure.set(error)
                    await sim.stop()
                    return
                }
                await s.watch(children, checks: zip(registries, registryURLs).map { .http($0.name, $1 + "/readyz", transport: registryTransport) } + [
                    .http("envoy", "http://127.0.0.1:\(admin)/ready"),
                    .http("prometheus", promURL + "/-/ready"), .http("simulator", simURL + "/healthz"),
                ])
            }
            s.onStop("watch") { readyThenWatch.cancel() }
            await sim.wait()
            if let error = failure.get() { throw error }
            out.say("stopping…")
        }
        out.say("stopped")
    }

    /// Ready means figures can be trusted from the first request on: Prometheus has scraped both
    /// Envoy and the model servers once, so no early traffic is missed. Then the context and
    /// stack.json are written and the table of parts is shown.
    static func ready(_ manifest: StackManifest, prometheus: ChildProcess, layout: StackLayout, writeContext: Bool, out: StackOutput,
                      children: [ChildProcess]) async throws {
        try await StackSupervisor.waitHealthy("prometheus", manifest.prometheus + "/-/ready", prometheus, seconds: 60)
        try await StackSupervisor.waitHealthy("simulator", manifest.simulator + "/healthz", nil)
        try await StackSupervisor.waitHealthy("prometheus's first scrapes", manifest.prometheus + "/api/v1/query?query=count(up%3D%3D1)%3D%3D2",
                                              prometheus, seconds: 30, body: #""value":["#)
        var contextWritten = false
        if writeContext {
            // A config the operator broke by hand must not take the stack down with it.
            do { try StackContext.write(manifest); contextWritten = true } catch {
                out.say("could not write the local context (\(error)); use --registry/--prometheus flags instead")
            }
        }
        try StackFiles.writeAtomically(manifest.json(), to: layout.manifest)
        out.report(manifest, children: children, contextWritten: contextWritten)
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
