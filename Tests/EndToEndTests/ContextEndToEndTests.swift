import Foundation
import Testing
import TowerDomain

/// Contexts in `$XDG_CONFIG_HOME/tower/config.yaml` that carry their sources, read by the real
/// `tower` against a real registry, a real fleet and a stand-in Prometheus.
@Suite(.serialized) struct ContextEndToEndTests {
    /// A config directory holding `yaml` as tower/config.yaml; removed by the caller.
    static func configHome(_ yaml: String) throws -> String {
        let dir = NSTemporaryDirectory() + "tower-xdg-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/tower", withIntermediateDirectories: true)
        try yaml.write(toFile: dir + "/tower/config.yaml", atomically: true, encoding: .utf8)
        return dir
    }

    static func status(_ args: [String], home: String) throws -> (HeadlessVerbTests.Run, [String: Any]?) {
        let r = try HeadlessVerbTests.tower(["status", "--output", "json"] + args, env: ["XDG_CONFIG_HOME": home])
        return (r, try? JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    }

    @Test func statusReadsFiguresFromTheContextsScrape() throws {
        let (reg, op, sim) = try TelemetryEndToEndTests.fleet()
        defer { sim.stop(); reg.cleanUp() }
        let home = try Self.configHome("""
            currentContext: elsewhere
            contexts:
            - {name: elsewhere, registry: "http://127.0.0.1:9"}
            - name: fleet
              registry: \(reg.url)
              tokenFile: \(op)
              metrics: {scrape: [\(sim.url)/metrics], interval: 1}
            """)
        defer { try? FileManager.default.removeItem(atPath: home) }

        let (r, s) = try Self.status(["--context", "fleet"], home: home)
        #expect(r.status == 0, "\(r.err)")
        let alpha = try #require(s.flatMap { TelemetryEndToEndTests.metrics($0, "alpha") }, "\(r.out)")
        #expect((alpha["rps"] as? Double ?? 0) > 1 && alpha["stale"] as? Bool == false, "\(alpha)")
        #expect(TelemetryEndToEndTests.metrics(s!, "alpha", "v1")?["p99Ms"] is Double)

        // A flag given wins over the context's field: a dead scrape target instead of the fleet.
        let (dead, d) = try Self.status(["--context", "fleet", "--scrape", "http://127.0.0.1:9/metrics", "--interval", "0.2"], home: home)
        #expect(dead.status == 0, "\(dead.err)")
        #expect(d.flatMap { TelemetryEndToEndTests.metrics($0, "alpha")?["rps"] } is NSNull)
        #expect((d?["sourceErrors"] as? [String])?.first?.contains("scrape") == true, "\(dead.out)")

        // `none` switches the context's source off: no metrics at all.
        let (off, o) = try Self.status(["--context", "fleet", "--scrape", "none"], home: home)
        #expect(off.status == 0 && o.flatMap { TelemetryEndToEndTests.metrics($0, "alpha") } == nil, "\(off.out)")
    }

    @Test func thePrometheusTokenComesFromTheContextsFileAndIsNeverPrinted() throws {
        let reg = RegistryProcess()
        defer { reg.cleanUp() }
        let op = try HeadlessVerbTests.tokenFile(reg, "otto", "operator")
        try reg.start(seed: try reg.writeSeed(), extra: ["--log-level", "warning"])
        let prom = try FaultyPrometheus(endpoint: "alpha")
        defer { prom.stop() }
        let promToken = reg.dataDir + "/prom.token"
        try "prom-s3cret-\(UUID().uuidString)\n".write(toFile: promToken, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: promToken)
        let secret = try String(contentsOfFile: promToken, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let home = try Self.configHome("""
            currentContext: prod
            contexts:
            - name: prod
              registry: \(reg.url)
              tokenFile: \(op)
              metrics:
                prometheus: \(prom.url)
                tokenFile: \(promToken)
                profile: generic
                timeout: 2
            """)
        defer { try? FileManager.default.removeItem(atPath: home) }

        let (r, s) = try Self.status([], home: home)
        #expect(r.status == 0, "\(r.err)")
        #expect(s.flatMap { TelemetryEndToEndTests.metrics($0, "alpha", "v1")?["rps"] } as? Double == 12.5, "\(r.out)")
        #expect(!prom.authorizations.isEmpty && prom.authorizations.allSatisfy { $0 == "Bearer \(secret)" }, "\(prom.authorizations.count) requests")
        #expect(!r.out.contains(secret) && !r.err.contains(secret))

        // A Prometheus named on the command line does not get the context's token.
        let before = prom.authorizations.count
        let (other, _) = try Self.status(["--prometheus", prom.url], home: home)
        #expect(other.status == 0, "\(other.err)")
        #expect(prom.authorizations.count == before, "no Authorization header went to the --prometheus URL")

        // A broken token file is said at once, naming the file, not its contents.
        try "   \n".write(toFile: promToken, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: promToken)
        let (broken, _) = try Self.status([], home: home)
        #expect(broken.status == 2 && broken.err.contains("token file \(promToken) is empty"), "\(broken.status) \(broken.err)")
    }

    @Test func tracesAndTraceTakeTheBackendFromTheContext() throws {
        let (reg, op, sim) = try TelemetryEndToEndTests.fleet()
        defer { sim.stop(); reg.cleanUp() }
        let home = try Self.configHome("""
            currentContext: fleet
            contexts:
            - name: fleet
              registry: \(reg.url)
              tokenFile: \(op)
              traces: {kind: zipkin, url: "\(sim.url)", service: gateway, operation: "POST {path}"}
            """)
        defer { try? FileManager.default.removeItem(atPath: home) }
        usleep(1_500_000)
        let list = try HeadlessVerbTests.tower(["traces", "alpha", "--output", "json"], env: ["XDG_CONFIG_HOME": home])
        #expect(list.status == 0, "\(list.err)")
        let first = try #require(try Wire.decoder().decode([TraceSummary].self, from: Data(list.out.utf8)).first)
        #expect(first.rootName == "POST /v1/models/alpha")
        let one = try HeadlessVerbTests.tower(["trace", first.traceID], env: ["XDG_CONFIG_HOME": home])
        #expect(one.status == 0 && one.out.contains("model.forward"), "\(one.err)")
        // The operation comes from the context unless a flag says otherwise.
        let none = try HeadlessVerbTests.tower(["traces", "alpha", "--output", "json", "--trace-operation", "GET /nothing"], env: ["XDG_CONFIG_HOME": home])
        #expect(none.status == 0 && (try? Wire.decoder().decode([TraceSummary].self, from: Data(none.out.utf8)))?.isEmpty == true, "\(none.out)")
    }

    @Test(arguments: [
        ("metrics: {scrape: [http://x], intervall: 5}", "unknown key 'metrics.intervall' in context 'p'"),
        ("metrics: {interval: soon}", "'metrics.interval' in context 'p' must be a number"),
        ("metrics: {profile: istio}", "unknown metrics profile 'istio'"),
        ("traces: {kind: honeycomb, url: http://h}", "unknown trace backend 'honeycomb'"),
    ])
    func aBrokenConfigIsRefusedNamingTheFileAndTheKey(_ body: String, _ expected: String) throws {
        let home = try Self.configHome("currentContext: p\ncontexts:\n- name: p\n  registry: http://127.0.0.1:9\n  \(body)\n")
        defer { try? FileManager.default.removeItem(atPath: home) }
        for verb in [["status"], ["traces", "alpha"], ["trace", "abc"]] {
            let r = try HeadlessVerbTests.tower(verb, env: ["XDG_CONFIG_HOME": home])
            #expect(r.status == 2, "\(verb): \(r.status) \(r.err)")
            #expect(r.err.contains("\(home)/tower/config.yaml: ") && r.err.contains(expected), "\(verb): \(r.err)")
        }
        let console = try HeadlessVerbTests.tower([], env: ["XDG_CONFIG_HOME": home])
        #expect(console.status != 0 && console.err.contains(expected), "\(console.err)")
    }

    /// `:ctx` in the console moves the sources with the registry, and `--read-only` holds across.
    @Test func theConsolesSourcesFollowCtx() throws {
        let (reg, op, sim) = try TelemetryEndToEndTests.fleet()
        defer { sim.stop(); reg.cleanUp() }
        let prom = try FaultyPrometheus(endpoint: "alpha")
        defer { prom.stop() }
        let home = try Self.configHome("""
            currentContext: prom
            contexts:
            - name: prom
              registry: \(reg.url)
              tokenFile: \(op)
              metrics: {prometheus: "\(prom.url)", interval: 1}
            - name: direct
              registry: \(reg.url)
              tokenFile: \(op)
              metrics: {scrape: ["\(sim.url)/metrics"], interval: 1}
            """)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let term = Tmux()
        defer { term.kill() }
        try term.start("env XDG_CONFIG_HOME=\(home) \(HeadlessVerbTests.tower) --read-only 2>\(reg.dataDir)/console.err", width: 120, height: 30)

        func alphaRow(_ s: String) -> String { s.split(separator: "\n").first { $0.contains(" alpha ") }.map(String.init) ?? "" }
        let start = term.waitFor("prometheus ✓", timeout: 20)
        #expect(start.found && start.screen.contains("ctx prom") && start.screen.contains("READ-ONLY"), "\(start.screen)")
        #expect(term.waitFor("12.5", timeout: 20).found, "alpha's figures from the context's Prometheus")

        term.type(":ctx direct")
        term.keys("Enter")
        let deadline = Date().addingTimeInterval(20)
        var screen = ""
        var switched = false
        while Date() < deadline && !switched {
            screen = term.screen()
            let header = screen.split(separator: "\n").first.map(String.init) ?? ""
            switched = header.contains("ctx direct") && header.contains("scrape ✓") && !header.contains("prometheus")
                && !alphaRow(screen).contains("12.5") && !alphaRow(screen).contains("—")
            if !switched { usleep(100_000) }
        }
        #expect(switched, "the fleet's scrape replaced the Prometheus of the first context: \(screen)")
        #expect(screen.contains("READ-ONLY"), "--read-only holds after :ctx: \(screen)")
        term.keys("q")
    }
}
