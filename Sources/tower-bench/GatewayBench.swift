import ArgumentParser
import Foundation
import TowerDomain
import TowerHTTP
import TowerRegistry
import TowerSim
import TowerStack

/// How long after the registry acknowledges a change Envoy routes by it. Runs its own
/// `tower-sim stack` (registry + Envoy + model servers) unless given a running one.
struct GatewayBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Time from a change's acknowledgement by the registry to Envoy routing by it (p50, p99).")

    @Option(help: "Changes to time.") var changes = 20
    @Option(help: "A running stack's directory (its stack.json); default: start one in a temp dir.") var stack: String?
    @Option(help: "How often to read Envoy's active routes, in milliseconds.") var pollMs = 10

    func run() async throws {
        try buildCost()
        var started: Process?
        let dir = stack ?? NSTemporaryDirectory() + "tower-bench-stack-" + UUID().uuidString.prefix(8)
        if stack == nil {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tower-sim")
            p.arguments = ["stack", "--dir", dir, "--rate-scale", "0", "--no-context"]
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            started = p
        }
        defer {
            if let started { started.terminate(); started.waitUntilExit(); try? FileManager.default.removeItem(atPath: dir) }
        }
        var manifest: StackManifest?
        for _ in 0..<1200 where manifest == nil {
            manifest = FileManager.default.contents(atPath: dir + "/stack.json").flatMap { try? JSONDecoder().decode(StackManifest.self, from: $0) }
            if manifest == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard let m = manifest else { throw ValidationError("no stack.json in \(dir) (is the stack running?)") }
        let token = (try String(contentsOfFile: m.tokens.operator, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)
        let http = CurlSession()
        let auth = [("Authorization", "Bearer \(token)")]
        var endpoint = try Wire.decoder().decode(Endpoint.self, from: Data(http.perform(HTTPRequest(url: m.registry + "/v1/endpoints/alpha", headers: auth)).body))
        let versions = endpoint.versions.filter { $0.state == .serving }.map(\.name).sorted()
        guard versions.count >= 2 else { throw ValidationError("alpha needs two serving versions") }
        let admin = CurlSession()

        print("tower-bench gateway: \(changes) shifts of alpha; Envoy's active routes read every \(pollMs) ms from its admin API")
        var delays: [Double] = []
        for i in 0..<changes {
            let a = i % 2 == 0 ? 70 : 30
            let want = [versions[0]: a, versions[1]: 100 - a]
            let body = try JSONSerialization.data(withJSONObject: ["weights": want, "reason": "gateway bench \(i + 1)"])
            let r = try http.perform(HTTPRequest(method: "POST", url: m.registry + "/v1/endpoints/alpha/shift",
                                                 headers: auth + [("Content-Type", "application/json"), ("If-Match", "\"\(endpoint.revision)\"")],
                                                 body: Array(body)))
            let acked = ContinuousClock.now
            guard r.status == 200 else { throw ValidationError("shift refused: \(r.status) \(r.text)") }
            endpoint = try Wire.decoder().decode(Endpoint.self, from: Data(r.body))
            var seen: Duration?
            while seen == nil && ContinuousClock.now - acked < .seconds(10) {
                if let w = try? routes(admin, m.envoy.admin), w == want { seen = ContinuousClock.now - acked; break }
                try await Task.sleep(for: .milliseconds(pollMs))
            }
            guard let seen else { throw ValidationError("Envoy did not route change \(i + 1) within 10 s") }
            delays.append(Double(seen.components.seconds) + Double(seen.components.attoseconds) / 1e18)
            // Changes spaced irregularly so they do not fall into step with Envoy's poll.
            try await Task.sleep(for: .milliseconds(200 + (i * 137) % 400))
        }
        let sorted = delays.sorted()
        func pct(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)] }
        print(String(format: "acknowledged → routed by Envoy: p50 %.2f s, p99 %.2f s, min %.2f s, max %.2f s  target p50 < 1.5 s, p99 < 3 s",
                     pct(0.5), pct(0.99), sorted.first ?? 0, sorted.last ?? 0))
        print("bounded by Envoy's REST polling: the next poll is due refresh_delay (0.5 s) + a random 0–0.5 s after the last one,")
        print("so the wait is at most ~1 s plus one registry answer (a few ms); a change never waits for more than one poll.")
    }

    /// What each change costs the registry before any gateway sees it: building the CDS and RDS
    /// answers (they are cached until the next change) for fleets of growing size.
    func buildCost() throws {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        for n in [10, 100, 1000] {
            let endpoints = try (0..<n).map { i in
                try Endpoint(name: "model-\(i)", path: "/v1/models/model-\(i)", owner: "bench", state: .serving, revision: 1,
                             versions: (1...3).map { v in
                                 Version(name: "v\(v)", artifact: Artifact(uri: "s3://m/\(i)/\(v)", digest: digest), weight: v == 1 ? 80 : 10,
                                         gate: .passed, stage: .prod, upstream: "10.0.\(i % 250).\(v):8080")
                             }, updatedAt: Date(), updatedBy: "bench")
            }
            var times: [Double] = []
            var bytes = 0
            for _ in 0..<(n >= 1000 ? 5 : 20) {
                let t0 = ContinuousClock.now
                let c = XDS.clusters(endpoints)
                let r = XDS.routes(endpoints, names: [XDS.defaultRouteConfigName], retryAfterSeconds: 30)
                let d = ContinuousClock.now - t0
                times.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
                bytes = c.body.count + r.body.count
            }
            times.sort()
            print(String(format: "xDS answers for %d endpoints × 3 versions: %.2f ms to build (median), %d KB (clusters + routes)",
                         n, times[times.count / 2], bytes / 1024))
        }
    }

    /// Weights by version of alpha's route, from Envoy's active (dynamic) route config.
    func routes(_ s: CurlSession, _ admin: String) throws -> [String: Int] {
        let r = try s.perform(HTTPRequest(url: admin + "/config_dump?resource=dynamic_route_configs", timeout: .seconds(2)))
        return EnvoyAdmin.route("alpha", configDump: r.body)?.versions(of: "alpha") ?? [:]
    }
}
