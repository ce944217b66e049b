import Foundation
import Testing
import TowerSim
import TowerDomain

/// The simulated fleet as a real process following a real registry, read by `tower status` through
/// the scrape source.
@Suite(.serialized) struct TelemetryEndToEndTests {
    final class SimProcess: @unchecked Sendable {
        let process = Process()
        let url: String
        init(registry: String, tokenFile: String) throws {
            let port = TelemetryEndToEndTests.freePort()
            url = "http://127.0.0.1:\(port)"
            process.executableURL = URL(fileURLWithPath: RegistryProcess.binDir + "/tower-sim")
            process.arguments = ["--registry", registry, "--token-file", tokenFile, "--listen", "127.0.0.1:\(port)"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Ready once it has read the registry's routing and served some traffic.
            for _ in 0..<200 {
                if let m = try? RawClient(base: url, token: "").get("/metrics"), m.text.contains("endpoint=\"alpha\"") { return }
                usleep(50_000)
            }
            throw E2EError("tower-sim did not start")
        }
        func stop() { if process.isRunning { process.terminate(); process.waitUntilExit() } }
    }

    /// A free loopback port: bind to 0, read it, let it go.
    static func freePort() -> Int { (try? StackFiles.freePort()) ?? 0 }

    /// A registry seeded with alpha, an operator token "otto" in a file, and a fleet following it.
    static func fleet() throws -> (RegistryProcess, String, SimProcess) {
        let reg = RegistryProcess()
        let op = try HeadlessVerbTests.tokenFile(reg, "otto", "operator")
        try reg.start(seed: try reg.writeSeed(), extra: ["--log-level", "warning"])
        do { return (reg, op, try SimProcess(registry: reg.url, tokenFile: op)) } catch { reg.cleanUp(); throw error }
    }

    static func status(_ args: [String]) throws -> [String: Any] {
        let r = try HeadlessVerbTests.tower(["status", "--output", "json"] + args)
        guard r.status == 0, let o = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any] else {
            throw E2EError("tower status failed: \(r.status) \(r.err)")
        }
        return o
    }

    static func metrics(_ status: [String: Any], _ endpoint: String, _ version: String? = nil) -> [String: Any]? {
        let e = (status["endpoints"] as? [[String: Any]])?.first { $0["name"] as? String == endpoint }
        guard let version else { return e?["metrics"] as? [String: Any] }
        return ((e?["versions"] as? [[String: Any]])?.first { $0["name"] as? String == version })?["metrics"] as? [String: Any]
    }

    @Test func statusShowsTheFleetsFiguresAndTrafficFollowsAShift() throws {
        let (reg, op, sim) = try Self.fleet()
        defer { sim.stop(); reg.cleanUp() }
        let conn = ["--registry", reg.url, "--token-file", op, "--scrape", sim.url + "/metrics", "--interval", "1"]

        let s = try Self.status(conn)
        let alpha = try #require(Self.metrics(s, "alpha"))
        #expect((alpha["rps"] as? Double ?? 0) > 1, "\(alpha)")
        #expect(alpha["p99Ms"] is Double && alpha["samples"] is Double && alpha["stale"] as? Bool == false)
        for key in ["rps", "errorRatio", "p50Ms", "p95Ms", "p99Ms", "samples", "ageSeconds", "stale"] { #expect(alpha.keys.contains(key), "\(key)") }
        #expect(Self.metrics(s, "alpha", "v1")?["rps"] is Double)

        // Shift everything to v2; the fleet follows the registry at once.
        #expect(try HeadlessVerbTests.tower(["shift", "alpha", "v1=0", "v2=100", "--reason", "all to v2", "--registry", reg.url, "--token-file", op]).status == 0)
        usleep(500_000)
        let after = try Self.status(conn)
        #expect(Self.metrics(after, "alpha", "v1")?["rps"] as? Double == 0, "\(String(describing: Self.metrics(after, "alpha", "v1")))")
        #expect((Self.metrics(after, "alpha", "v2")?["rps"] as? Double ?? 0) > 1)
    }

    @Test func aDeadSourceReadsAsNullNeverZero() throws {
        let reg = RegistryProcess()
        defer { reg.cleanUp() }
        let op = try HeadlessVerbTests.tokenFile(reg, "otto", "operator")
        try reg.start(seed: try reg.writeSeed(), extra: ["--log-level", "warning"])
        let s = try Self.status(["--registry", reg.url, "--token-file", op, "--scrape", "http://127.0.0.1:9/metrics", "--interval", "0.2"])
        let m = try #require(Self.metrics(s, "alpha"))
        #expect(m["rps"] is NSNull && m["p99Ms"] is NSNull && m["stale"] as? Bool == true)
        #expect((s["sourceErrors"] as? [String])?.first?.contains("scrape") == true)
    }

    @Test func tracesFromTheFleetThroughTheZipkinAPI() throws {
        let (reg, op, sim) = try Self.fleet()
        defer { sim.stop(); reg.cleanUp() }
        usleep(1_500_000)
        let list = try HeadlessVerbTests.tower(["traces", "alpha", "--output", "json", "--registry", reg.url, "--token-file", op, "--traces", "zipkin=" + sim.url])
        #expect(list.status == 0, "\(list.err)")
        let summaries = try Wire.decoder().decode([TraceSummary].self, from: Data(list.out.utf8))
        let first = try #require(summaries.first)
        #expect(first.rootName == "POST /v1/models/alpha" && first.traceID.count == 32)
        let one = try HeadlessVerbTests.tower(["trace", first.traceID, "--traces", "zipkin=" + sim.url])
        #expect(one.status == 0 && one.out.contains("model.forward") && one.out.contains("predict (alpha-v"), "\(one.out) \(one.err)")
        #expect(try HeadlessVerbTests.tower(["trace", String(repeating: "f", count: 32), "--traces", "zipkin=" + sim.url]).status == 6)
    }
}
