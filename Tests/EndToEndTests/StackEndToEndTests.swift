import Foundation
import Testing
import TowerHTTP
import TowerSim
import TowerStack

/// The whole stack as `tower-sim stack` runs it — a real registry, real Envoy programmed by it over
/// REST xDS, real per-version model servers, real Prometheus — driven through the console in tmux.
/// What is asserted is what Envoy itself did: its per-cluster counters, its answers, its config.
@Suite(.serialized) struct StackEndToEndTests {
    /// `tower-sim stack` in its own process group (so everything it started can be stopped with it).
    final class StackProcess: @unchecked Sendable {
        // stack.json's documented keys are checked in StackPlanTests; here it is just read.
        let dir = NSTemporaryDirectory() + "tower-stack-" + UUID().uuidString.prefix(8)
        var config: String { dir + "/config" }
        private var process: ChildProcess?
        private(set) var m: StackManifest!

        init(rateScale: Double, scenario: String? = nil, extra: [String] = []) throws {
            try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
            var env = ProcessInfo.processInfo.environment
            env["XDG_CONFIG_HOME"] = config
            let process = try ChildProcess(name: "tower-sim stack", executable: RegistryProcess.binDir + "/tower-sim",
                                           arguments: ["stack", "--dir", dir, "--rate-scale", String(rateScale)] + (scenario.map { ["--scenario", $0] } ?? []) + extra,
                                           logPath: dir + ".out", environment: env, newProcessGroup: true)
            self.process = process
            // The first start may install Envoy or Prometheus; later ones take a few seconds.
            let deadline = Date().addingTimeInterval(180)
            while Date() < deadline {
                if let d = FileManager.default.contents(atPath: dir + "/stack.json"),
                   let manifest = try? JSONDecoder().decode(StackManifest.self, from: d) {
                    m = manifest
                    return
                }
                if !process.isRunning { break }
                usleep(100_000)
            }
            let out = (try? String(contentsOfFile: dir + ".out", encoding: .utf8)) ?? ""
            stop()
            throw E2EError("tower-sim stack did not come up:\n\(out)")
        }

        deinit { stop() }

        func token(_ path: String) -> String {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// SIGTERM, as Ctrl-C or a service manager would: whether the stack exited by itself, and
        /// which of the processes it started are still alive afterwards.
        func terminate() -> (exited: Bool, leftovers: [String]) {
            guard let p = process else { return (true, []) }
            kill(p.pid, SIGTERM)
            let deadline = Date().addingTimeInterval(20)
            while p.isRunning && Date() < deadline { usleep(50_000) }
            let exited = !p.isRunning
            let leftovers = (m?.processes ?? [:]).filter { kill($0.value, 0) == 0 }.map(\.key).sorted()
            return (exited, leftovers)
        }

        /// SIGTERM (the stack stops its parts), then SIGKILL to the whole group for anything left.
        func stop() {
            guard let p = process else { return }
            p.stop(grace: 15)
            kill(-p.pid, SIGKILL)
            process = nil
        }

        func cleanUp() {
            stop()
            try? FileManager.default.removeItem(atPath: dir)
            try? FileManager.default.removeItem(atPath: dir + ".out")
        }
    }

    // MARK: - What Envoy did

    /// `upstream_rq_total` per version of `endpoint`, from Envoy's own admin stats.
    static func envoyCounts(_ s: StackProcess, endpoint: String = "alpha") throws -> [String: Int] {
        let r = try CurlSession().perform(HTTPRequest(url: s.m.envoy.admin + "/stats?filter=%5Ecluster%5C.\(endpoint)--.*%5C.upstream_rq_total%24"))
        // cluster.alpha--v1.upstream_rq_total → v1
        let prefix = "cluster.\(endpoint)--", suffix = ".upstream_rq_total"
        return Dictionary(EnvoyAdmin.counters(r.text).compactMap { name, n in
            name.hasPrefix(prefix) && name.hasSuffix(suffix) ? (String(name.dropFirst(prefix.count).dropLast(suffix.count)), n) : nil
        }, uniquingKeysWith: { a, _ in a })
    }

    /// The weights Envoy's active route config gives `endpoint`'s versions.
    static func envoyWeights(_ s: StackProcess, endpoint: String = "alpha") -> [String: Int]? {
        guard let r = try? CurlSession().perform(HTTPRequest(url: s.m.envoy.admin + "/config_dump?resource=dynamic_route_configs")) else { return nil }
        return EnvoyAdmin.route(endpoint, configDump: r.body)?.versions(of: endpoint)
    }

    /// Seconds until Envoy routes `endpoint` by `weights` (nil if not within `timeout`).
    static func untilEnvoyRoutes(_ s: StackProcess, _ weights: [String: Int], timeout: Double = 3) -> Double? {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if envoyWeights(s) == weights { return Date().timeIntervalSince(start) }
            usleep(50_000)
        }
        return nil
    }

    /// `n` requests to `path` through Envoy's listener, 16 at a time: answers by status.
    static func send(_ s: StackProcess, _ n: Int, path: String = "/v1/models/alpha") -> [Int: Int] {
        let workers = 16
        let results = onThreads(workers) { w in
            let session = CurlSession()
            var codes: [Int: Int] = [:]
            for _ in stride(from: w, to: n, by: workers) {
                let status = (try? session.perform(HTTPRequest(method: "POST", url: s.m.envoy.listener + path,
                                                               headers: [("Content-Type", "application/json")],
                                                               body: Array(#"{"inputs":[1,2,3]}"#.utf8), timeout: .seconds(5))))?.status ?? -1
                codes[status, default: 0] += 1
            }
            return codes
        }
        return results.reduce(into: [:]) { acc, c in acc.merge(c, uniquingKeysWith: +) }
    }

    static func console(_ s: StackProcess) throws -> Tmux {
        let term = Tmux()
        try term.start("env XDG_CONFIG_HOME=\(s.config) \(HeadlessVerbTests.tower) --context local 2>\(s.dir)/console.err")
        guard term.waitFor("alpha", timeout: 15).found else { throw E2EError("console: \(term.screen())") }
        // Only alpha, then open it.
        term.keys("/")
        term.type("alpha")
        term.keys("Enter")
        term.keys("Enter")
        guard term.waitFor("RECENT REVISIONS").found else { throw E2EError("endpoint screen: \(term.screen())") }
        return term
    }

    // MARK: - The tests

    @Test func consoleActionsReachTheGatewayEnvoyRoutesByThem() throws {
        let s = try StackProcess(rateScale: 1)
        defer { s.cleanUp() }
        #expect(Self.untilEnvoyRoutes(s, ["v1": 90, "v2": 10], timeout: 10) != nil, "Envoy starts with the seed's 90/10")
        let term = try Self.console(s)
        defer { term.kill() }

        // s: set 70/30 (v1 is focused first; Tab moves to v2, then to the reason).
        term.keys("s")
        #expect(term.waitFor("Set weights of alpha").found)
        term.keys("BSpace", "BSpace")
        term.type("70")
        term.keys("Tab", "BSpace", "BSpace")
        term.type("30")
        term.keys("Tab")
        term.type("split 70/30")
        term.keys("Enter")
        #expect(term.waitFor("alpha: revision 2 applied").found, "\(term.screen())")
        let applied = Self.untilEnvoyRoutes(s, ["v1": 70, "v2": 30])
        #expect(applied != nil, "Envoy routes 70/30 within 3 s: \(String(describing: Self.envoyWeights(s)))")
        let synced = term.waitFor("gateway ✓", timeout: 5)
        #expect(synced.found, "the header says Envoy holds the new routing: \(synced.screen)")
        let before = try Self.envoyCounts(s)
        let codes = Self.send(s, 400)
        let after = try Self.envoyCounts(s)
        let v1 = (after["v1"] ?? 0) - (before["v1"] ?? 0), v2 = (after["v2"] ?? 0) - (before["v2"] ?? 0)
        #expect(codes[200, default: 0] + codes[500, default: 0] == 400, "every request answered by a model: \(codes)")
        #expect(v1 + v2 >= 400)
        let share = Double(v1) / Double(v1 + v2) * 100
        #expect(abs(share - 70) <= 7, "Envoy's own counters: v1 \(v1), v2 \(v2) → \(share)% to v1")

        // d on v2: Envoy stops sending it new requests.
        term.keys("j", "d")
        #expect(term.waitFor("Drain v2 of alpha").found)
        term.type("v2 misbehaving")
        term.keys("Enter")
        #expect(term.waitFor("alpha: revision 3 applied").found)
        #expect(Self.untilEnvoyRoutes(s, ["v1": 100, "v2": 0]) != nil, "v2 gets weight 0 at the gateway within 3 s")
        let drainedBefore = try Self.envoyCounts(s)
        _ = Self.send(s, 200)
        let drainedAfter = try Self.envoyCounts(s)
        #expect(drainedAfter["v2"] == drainedBefore["v2"], "a drained version receives no new requests")
        #expect((drainedAfter["v1"] ?? 0) - (drainedBefore["v1"] ?? 0) >= 200)

        // u on v2: serving again at weight 0; r back to revision 2 routes 70/30 again.
        term.keys("u")
        #expect(term.waitFor("Undrain v2 of alpha").found)
        term.type("fixed")
        term.keys("Enter")
        #expect(term.waitFor("alpha: revision 4 applied").found)
        term.keys("r")
        #expect(term.waitFor("roll back to").found)
        // Newest first: revision 3 is preselected; one down is revision 2 (70/30).
        term.keys("Down")
        #expect(term.waitFor("r2 stack-operator").found)
        term.type("back to the 70/30 split")
        term.keys("Enter")
        #expect(term.waitFor("alpha: revision 5 applied").found, "\(term.screen())")
        #expect(Self.untilEnvoyRoutes(s, ["v1": 70, "v2": 30]) != nil, "the rolled-back weights are routed again")
        let rolledBefore = try Self.envoyCounts(s)
        _ = Self.send(s, 200)
        let rolledAfter = try Self.envoyCounts(s)
        #expect((rolledAfter["v2"] ?? 0) - (rolledBefore["v2"] ?? 0) > 20, "v2 receives traffic again")

        // D: the whole endpoint out of service — Envoy itself answers 503 with Retry-After.
        term.keys("D")
        #expect(term.waitFor("Take alpha out of service").found)
        term.type("alpha")
        term.keys("Tab")
        term.type("all versions failing")
        term.keys("Enter")
        #expect(term.waitFor("alpha: revision 6 applied").found, "\(term.screen())")
        var answer: HTTPResponse?
        let t0 = Date()
        while Date().timeIntervalSince(t0) < 3 {
            answer = try? CurlSession().perform(HTTPRequest(method: "POST", url: s.m.envoy.listener + "/v1/models/alpha", body: Array("{}".utf8)))
            if answer?.status == 503 { break }
            usleep(50_000)
        }
        #expect(answer?.status == 503, "out of service within 3 s")
        #expect(answer?.headers["retry-after"] != nil, "with Retry-After: \(answer?.headers ?? [:])")
        #expect(answer?.headers["server"] == "envoy" && answer?.headers["x-tower-version"] == nil, "answered by Envoy, not a model")

        term.keys("u")
        #expect(term.waitFor("Bring alpha back into service").found)
        term.type("recovered")
        term.keys("Enter")
        #expect(term.waitFor("alpha: revision 7 applied").found)
        #expect(Self.untilEnvoyRoutes(s, ["v1": 70, "v2": 30]) != nil)
        let back = Self.send(s, 50)
        #expect(back[503, default: 0] == 0 && back[200, default: 0] > 40, "served again: \(back)")
        term.keys("q")
    }

    @Test func envoyProfileFiguresAgreeWithEnvoyAndTheGatewaySurvivesTheRegistry() throws {
        // No background load: every request Envoy counts is one this test sent.
        let s = try StackProcess(rateScale: 0)
        defer { s.cleanUp() }
        #expect(Self.untilEnvoyRoutes(s, ["v1": 90, "v2": 10], timeout: 10) != nil)

        // ~50 requests/s for 10 s through Envoy.
        var sent: [Int: Int] = [:]
        for _ in 0..<10 {
            let t = Date()
            sent.merge(Self.send(s, 50), uniquingKeysWith: +)
            let rest = 1 - Date().timeIntervalSince(t)
            if rest > 0 { usleep(UInt32(rest * 1_000_000)) }
        }
        let counted = try Self.envoyCounts(s)
        let total = (counted["v1"] ?? 0) + (counted["v2"] ?? 0)
        #expect(total == 500, "Envoy counted every request once: \(counted)")
        // Envoy flushes histograms every second and Prometheus scrapes every second.
        sleep(4)
        let run = try HeadlessVerbTests.tower(["status", "alpha", "--context", "local", "--output", "json"], env: ["XDG_CONFIG_HOME": s.config])
        #expect(run.status == 0, "\(run.err)")
        let status = try JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any]
        let alpha = (status?["endpoints"] as? [[String: Any]])?.first { $0["name"] as? String == "alpha" }
        let metrics = alpha?["metrics"] as? [String: Any]
        let versions = (alpha?["versions"] as? [[String: Any]]) ?? []
        func rps(_ v: String) -> Double? { (versions.first { $0["name"] as? String == v }?["metrics"] as? [String: Any])?["rps"] as? Double }
        let r1 = rps("v1"), r2 = rps("v2")
        #expect(r1 != nil && r2 != nil, "figures through Prometheus with the envoy profile: \(run.out)")
        if let r1, let r2 {
            // The same scrapes feed both versions' rates, so their ratio is the ratio of Envoy's counters.
            let towerShare = r1 / (r1 + r2), envoyShare = Double(counted["v1"] ?? 0) / Double(total)
            #expect(abs(towerShare - envoyShare) < 0.01, "Tower's split \(towerShare) vs Envoy's \(envoyShare)")
        }
        if let rps = metrics?["rps"] as? Double {
            // rate() over the profile's one-minute window: the counters rose from 0 to 500 inside it,
            // so rate × 60 s is Envoy's count, give or take Prometheus's extrapolation at the edge.
            #expect(abs(rps * 60 - Double(total)) / Double(total) < 0.15, "Tower's \(rps) req/s × 60 s vs Envoy's \(total) requests")
        } else {
            Issue.record("no request rate for alpha: \(run.out)")
        }
        let failed = (sent[500] ?? 0)
        if let ratio = metrics?["errorRatio"] as? Double {
            #expect(abs(ratio - Double(failed) / Double(total)) < 0.01, "error ratio \(ratio) vs \(failed) of \(total) answered 500")
        }
        #expect(metrics?["p99Ms"] as? Double != nil && metrics?["stale"] as? Bool == false)

        // Triage through the real gateway: the slowest traces of alpha are Envoy's own spans (it
        // reports them to the simulator's Zipkin API), with the model server's spans beneath them.
        let traces = try HeadlessVerbTests.tower(["traces", "alpha", "--context", "local", "--output", "json"], env: ["XDG_CONFIG_HOME": s.config])
        #expect(traces.status == 0, "\(traces.err)")
        let found = (try? JSONSerialization.jsonObject(with: Data(traces.out.utf8)) as? [[String: Any]]) ?? []
        #expect(!found.isEmpty, "traces of alpha: \(traces.out) \(traces.err)")
        if let first = found.first, let id = first["traceID"] as? String {
            #expect(first["rootService"] as? String == "tower-gateway" && first["rootName"] as? String == "/v1/models/alpha", "\(first)")
            let one = try HeadlessVerbTests.tower(["trace", id, "--context", "local", "--output", "json"], env: ["XDG_CONFIG_HOME": s.config])
            let spans = ((try? JSONSerialization.jsonObject(with: Data(one.out.utf8)) as? [String: Any])?["spans"] as? [[String: Any]]) ?? []
            let services = Set(spans.compactMap { $0["service"] as? String })
            #expect(services.contains("tower-gateway") && (services.contains("alpha-v1") || services.contains("alpha-v2")),
                    "one trace from the gateway through the model server: \(services)")
        }

        // Registry down: Envoy keeps routing on its last config; the console says so.
        let term = try Self.console(s)
        defer { term.kill() }
        guard let registryPID = s.m.processes["registry"] else { Issue.record("no registry pid in stack.json"); return }
        kill(registryPID, SIGKILL)
        let down = Self.send(s, 100)
        #expect(down[200, default: 0] + down[500, default: 0] == 100, "Envoy still routes with the registry gone: \(down)")
        #expect(term.waitFor("unreachable", timeout: 30).found, "the console says the registry is unreachable: \(term.screen())")

        // Registry back on the same data and port: nothing lost, and Envoy converges on a new change.
        let port = URL(string: s.m.registry)?.port ?? 0
        let reg = try ChildProcess(name: "registry", executable: RegistryProcess.binDir + "/tower-registry",
                                   arguments: ["serve", "--data", s.dir + "/registry", "--listen", "127.0.0.1:\(port)", "--log-level", "warning"],
                                   logPath: s.dir + "/logs/registry-again.log")
        defer { reg.stop() }
        let api = RawClient(base: s.m.registry, token: s.token(s.m.tokens.operator))
        var e: [String: Any]?
        for _ in 0..<100 where e == nil {
            if let r = try? api.get("/v1/endpoints/alpha"), r.status == 200 { e = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any] }
            else { usleep(100_000) }
        }
        #expect(e?["revision"] as? Int == 1, "the registry's state survived: \(String(describing: e))")
        let verify = try api.get("/v1/audit/verify")
        #expect(verify.status == 200 && verify.text.replacingOccurrences(of: " ", with: "").contains(#""intact":true"#), "\(verify.text)")
        #expect(term.waitFor("alpha", timeout: 15).found)
        let shift = try api.post("/v1/endpoints/alpha/shift", json: #"{"weights":{"v1":50,"v2":50},"reason":"after the outage"}"#, ifMatch: 1)
        #expect(shift.status == 200, "\(shift.text)")
        #expect(Self.untilEnvoyRoutes(s, ["v1": 50, "v2": 50], timeout: 5) != nil, "Envoy converges once the registry is back")
        term.keys("q")

        // SIGTERM stops the whole stack: it exits by itself, and nothing it started lingers.
        let end = s.terminate()
        #expect(end.exited, "tower-sim stack exits on SIGTERM")
        #expect(end.leftovers.isEmpty, "still running after the stack stopped: \(end.leftovers)")
        #expect(!FileManager.default.fileExists(atPath: s.dir + "/stack.json"), "stack.json is removed: the stack is gone")
    }
}
