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
        init(registry: String, tokenFile: String, scenario: String? = nil) throws {
            let port = TelemetryEndToEndTests.freePort()
            url = "http://127.0.0.1:\(port)"
            process.executableURL = URL(fileURLWithPath: RegistryProcess.binDir + "/tower-sim")
            process.arguments = ["--registry", registry, "--token-file", tokenFile, "--listen", "127.0.0.1:\(port)"]
                + (scenario.map { ["--scenario", $0] } ?? [])
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
    static func fleet(scenario: String? = nil) throws -> (RegistryProcess, String, SimProcess) {
        let reg = RegistryProcess()
        let op = try HeadlessVerbTests.tokenFile(reg, "otto", "operator")
        try reg.start(seed: try reg.writeSeed(), extra: ["--log-level", "warning"])
        do { return (reg, op, try SimProcess(registry: reg.url, tokenFile: op, scenario: scenario)) } catch { reg.cleanUp(); throw error }
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

    /// What the simulator's Zipkin API holds for alpha's gateway span over the last 15 minutes:
    /// per trace, the root's duration and whether any span failed.
    static func heldTraces(_ sim: SimProcess) throws -> [(id: String, micros: Int64, failed: Bool)] {
        let end = Int64(Date().timeIntervalSince1970 * 1000)
        let r = try RawClient(base: sim.url, token: "").get("/api/v2/traces?serviceName=gateway&spanName=POST%20%2Fv1%2Fmodels%2Falpha&endTs=\(end)&lookback=900000&limit=100000")
        let traces = (try JSONSerialization.jsonObject(with: Data(r.body)) as? [[[String: Any]]]) ?? []
        return traces.compactMap { spans in
            guard let root = spans.first(where: { $0["parentId"] == nil }), let id = root["traceId"] as? String else { return nil }
            let failed = spans.contains { ($0["tags"] as? [String: String])?["error"] != nil }
            return (id, (root["duration"] as? NSNumber)?.int64Value ?? 0, failed)
        }
    }

    /// `tower traces` triages as issue 11 asks, on the fleet with the issue's incident (alpha's
    /// canary slow, p99 near a second, and failing): failing first, then the slowest, each longest
    /// first, each entry with its version, the slowest listed among the slowest the backend holds.
    @Test func tracesFromTheFleetThroughTheZipkinAPI() throws {
        let scenario = NSTemporaryDirectory() + "tower-traces-\(UUID().uuidString).yaml"
        try "rate: 200\nendpoints:\n  alpha: {versions: {v2: {p50Ms: 60, p99Ms: 994, errorRatio: 0.05}}}\n".write(toFile: scenario, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: scenario) }
        let (reg, op, sim) = try Self.fleet(scenario: scenario)
        defer { sim.stop(); reg.cleanUp() }
        // Enough to triage: many times more successes than a list holds (so the newest 20 would
        // rarely hold the slowest), and failures.
        let deadline = Date().addingTimeInterval(30)
        var held = try Self.heldTraces(sim)
        while (held.count(where: { !$0.failed }) < 200 || !held.contains(where: \.failed)) && Date() < deadline {
            usleep(200_000)
            held = try Self.heldTraces(sim)
        }
        #expect(held.count(where: { !$0.failed }) >= 200 && held.contains(where: \.failed), "the fleet's traces: \(held.count)")
        let slowestHeld = held.filter { !$0.failed }.sorted { $0.micros > $1.micros }.prefix(3)

        let conn = ["--registry", reg.url, "--token-file", op, "--traces", "zipkin=" + sim.url]
        let list = try HeadlessVerbTests.tower(["traces", "alpha", "--output", "json", "--limit", "20", "--since", "15m"] + conn)
        #expect(list.status == 0, "\(list.err)")
        let raw = (try JSONSerialization.jsonObject(with: Data(list.out.utf8)) as? [[String: Any]]) ?? []
        #expect(raw.count == 20 && raw.allSatisfy { $0.keys.contains("version") }, "every entry says its version: \(list.out)")
        let summaries = try Wire.decoder().decode([TraceSummary].self, from: Data(list.out.utf8))
        #expect(summaries.allSatisfy { $0.version == "v1" || $0.version == "v2" }, "\(summaries.map(\.version))")
        let failing = summaries.prefix { ($0.errorCount ?? 0) > 0 }
        let rest = summaries.dropFirst(failing.count)
        #expect(!failing.isEmpty && !rest.contains { ($0.errorCount ?? 0) > 0 }, "failing first: \(summaries.map(\.errorCount))")
        #expect(zip(failing, failing.dropFirst()).allSatisfy { $0.durationMicros >= $1.durationMicros }, "\(failing.map(\.durationMicros))")
        #expect(zip(rest, rest.dropFirst()).allSatisfy { $0.durationMicros >= $1.durationMicros }, "\(rest.map(\.durationMicros))")
        // The slowest successful trace listed is among the slowest the backend holds (read after
        // the verb: a trace arriving in between may push it down a place or two).
        let top = try Self.heldTraces(sim).filter { !$0.failed }.map(\.micros).sorted(by: >).prefix(3)
        let slowest = try #require(rest.first)
        #expect(top.contains(slowest.durationMicros), "listed \(slowest.durationMicros) µs, the backend's slowest \(Array(top))")
        // The three slowest successes held before the verb ran are all listed: a later trace could
        // push out only the list's last rows.
        #expect(Set(slowestHeld.map(\.id)).isSubset(of: Set(rest.map(\.traceID))),
                "the backend's slowest \(slowestHeld.map(\.micros)) µs, listed \(rest.map(\.durationMicros)) of \(held.count) held")

        let v2 = try HeadlessVerbTests.tower(["traces", "alpha", "--output", "json", "--version", "v2", "--limit", "5"] + conn)
        let only = try Wire.decoder().decode([TraceSummary].self, from: Data(v2.out.utf8))
        #expect(v2.status == 0 && !only.isEmpty && only.allSatisfy { $0.version == "v2" }, "\(v2.out) \(v2.err)")
        #expect(try HeadlessVerbTests.tower(["traces", "alpha", "--version", "v9"] + conn).status == 6)
        #expect(try HeadlessVerbTests.tower(["traces", "alpha", "--since", "soon"] + conn).status == 2)

        let first = try #require(summaries.first)
        #expect(first.rootName == "POST /v1/models/alpha" && first.traceID.count == 32)
        let one = try HeadlessVerbTests.tower(["trace", first.traceID, "--traces", "zipkin=" + sim.url])
        // The first is a failing trace: its gateway span says the status it answered.
        #expect(one.status == 0 && one.out.contains("model.forward") && one.out.contains("predict (alpha-v") && one.out.contains(") 500"),
                "\(one.out) \(one.err)")
        #expect(try HeadlessVerbTests.tower(["trace", String(repeating: "f", count: 32), "--traces", "zipkin=" + sim.url]).status == 6)
    }
}
