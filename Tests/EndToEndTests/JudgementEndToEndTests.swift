import Foundation
import Testing
import TowerDomain
import TowerMetrics

/// Verdicts and burn rates through the `tower` binary, a real registry, the simulated fleet and a
/// real Prometheus: the burn-rate ratios equal what Prometheus computes itself, `status` carries
/// `judgement` and `slo`, and `judge` says what it found with an exit code to gate on.
@Suite(.serialized) struct JudgementEndToEndTests {
    /// alpha with an SLO and a named baseline; v2 fails 5 % of its requests.
    static let seed = """
        - name: alpha
          path: /v1/models/alpha
          owner: team-vision
          baseline: v1
          slo: {availability: 0.999, latencyMs: 120, latencyTarget: 0.99, period: 30d}
          versions:
            - {name: v1, artifact: {uri: s3://m/alpha/1, digest: 'sha256:\(String(repeating: "1", count: 64))'}, weight: 50, gate: passed, stage: prod}
            - {name: v2, artifact: {uri: s3://m/alpha/2, digest: 'sha256:\(String(repeating: "2", count: 64))'}, weight: 50, gate: passed, stage: prod}
        """
    static let scenario = """
        rate: 100
        endpoints:
          alpha: {versions: {v2: {p50Ms: 35, p99Ms: 160, errorRatio: 0.05}}}
        """

    final class Fleet: @unchecked Sendable {
        let reg = RegistryProcess()
        let sim = Process()
        let simURL: String
        let op: String
        let prom: PrometheusEndToEndTests.PrometheusProcess

        init() throws {
            op = try HeadlessVerbTests.tokenFile(reg, "otto", "operator")
            try FileManager.default.createDirectory(atPath: reg.dataDir, withIntermediateDirectories: true)
            let seedPath = reg.dataDir + "/seed.yaml", scenarioPath = reg.dataDir + "/scenario.yaml"
            try JudgementEndToEndTests.seed.write(toFile: seedPath, atomically: true, encoding: .utf8)
            try JudgementEndToEndTests.scenario.write(toFile: scenarioPath, atomically: true, encoding: .utf8)
            try reg.start(seed: seedPath, extra: ["--log-level", "warning"])
            let port = TelemetryEndToEndTests.freePort()
            simURL = "http://127.0.0.1:\(port)"
            sim.executableURL = URL(fileURLWithPath: RegistryProcess.binDir + "/tower-sim")
            sim.arguments = ["--registry", reg.url, "--token-file", op, "--listen", "127.0.0.1:\(port)", "--scenario", scenarioPath]
            sim.standardOutput = FileHandle.nullDevice
            sim.standardError = FileHandle.nullDevice
            try sim.run()
            var up = false
            for _ in 0..<200 where !up {
                if let m = try? RawClient(base: simURL, token: "").get("/metrics"), m.text.contains("endpoint=\"alpha\"") { up = true } else { usleep(50_000) }
            }
            guard up else { sim.terminate(); sim.waitUntilExit(); reg.cleanUp(); throw E2EError("tower-sim did not start") }
            do { prom = try PrometheusEndToEndTests.PrometheusProcess(scrape: String(simURL.dropFirst("http://".count))) } catch {
                sim.terminate(); sim.waitUntilExit(); reg.cleanUp(); throw error
            }
        }

        func stopSim() { if sim.isRunning { sim.terminate(); sim.waitUntilExit() } }
        func stop() { prom.stop(); stopSim(); reg.cleanUp() }
        var conn: [String] { ["--registry", reg.url, "--token-file", op, "--prometheus", prom.url] }
    }

    @Test func burnRatiosEqualPromQLAndTheVerbsJudge() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus") else {
            Issue.record("prometheus is not installed: scripts/setup installs Debian's package")
            return
        }
        let fleet = try Fleet()
        defer { fleet.stop() }
        let client = PrometheusClient(baseURL: fleet.prom.url)
        let profile = try MetricsProfile(kind: .generic)
        // Wait until Tower reads a non-zero error ratio (so the ratio compared is not 0 = 0) at
        // an instant just past, then compare with Prometheus's own at that same instant.
        let deadline = Date().addingTimeInterval(60)
        var t = Date()
        var ratios: [String: BadRatios] = [:]
        while Date() < deadline {
            t = Timestamp.date(ms: Timestamp.ms(Date().addingTimeInterval(-0.5)))
            ratios = (try? await PrometheusMetricsSource(client: client, profile: profile, at: t)
                .badRatios(windows: [300, 3600], latencyMs: ["alpha": 120])) ?? [:]
            if (ratios["alpha"]?.errors[300] ?? 0) > 0 && ratios["alpha"]?.slow[3600] != nil { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        let alpha = try #require(ratios["alpha"], "Tower never read alpha's burn ratios from Prometheus: \(ratios)")
        for (w, d) in [(300, "5m"), (3600, "1h")] {
            let promErrors = try await client.instant(query: #"sum by (endpoint) (increase(http_requests_total{code=~"5.."}[\#(d)])) / sum by (endpoint) (increase(http_requests_total[\#(d)]))"#, time: t)
            let expected = try #require(promErrors.result.series.first { $0.labels["endpoint"] == "alpha" }?.samples.first?.value)
            let tower = try #require(alpha.errors[w])
            #expect(expected > 0 && abs(tower - expected) <= 1e-12 * expected, "errors over \(d): tower \(tower), PromQL \(expected)")
            // latencyMs 120 lies between the 0.1 s and 0.25 s bounds: read at 0.1 s.
            let b = "http_request_duration_seconds_bucket"
            let promSlow = try await client.instant(query: #"1 - sum by (endpoint) (increase(\#(b){le="0.1"}[\#(d)])) / sum by (endpoint) (increase(\#(b){le="+Inf"}[\#(d)]))"#, time: t)
            let expectedSlow = try #require(promSlow.result.series.first { $0.labels["endpoint"] == "alpha" }?.samples.first?.value)
            let towerSlow = try #require(alpha.slow[w])
            #expect(abs(towerSlow - expectedSlow) <= 1e-12, "slow over \(d): tower \(towerSlow), PromQL \(expectedSlow)")
        }

        // Enough traffic for verdicts that are not a matter of luck: 600 requests of v2 seen.
        let enough = Date().addingTimeInterval(90)
        var v2Requests = 0.0
        while Date() < enough && v2Requests < 600 {
            let r = try? await client.instant(query: #"sum(increase(http_requests_total{endpoint="alpha",version="v2"}[5m]))"#)
            v2Requests = r?.result.series.first?.samples.first?.value ?? 0
            if v2Requests < 600 { try await Task.sleep(for: .seconds(1)) }
        }
        try #require(v2Requests >= 600, "only \(v2Requests) requests of alpha v2 within 90 s")

        // status: v2 has a judgement against v1, v1 none; alpha has its SLO's burn.
        let status = try HeadlessVerbTests.tower(["status", "--output", "json"] + fleet.conn)
        #expect(status.status == 0, "\(status.err)")
        let s = try #require(try JSONSerialization.jsonObject(with: Data(status.out.utf8)) as? [String: Any])
        let e = try #require((s["endpoints"] as? [[String: Any]])?.first { $0["name"] as? String == "alpha" })
        let versions = (e["versions"] as? [[String: Any]]) ?? []
        let v1 = try #require(versions.first { $0["name"] as? String == "v1" }), v2 = try #require(versions.first { $0["name"] as? String == "v2" })
        #expect(v1["judgement"] == nil, "the baseline has no judgement")
        let j = try #require(v2["judgement"] as? [String: Any], "\(v2)")
        #expect(j["baseline"] as? String == "v1" && j["confidence"] as? Double == 0.98)
        #expect(["pass", "fail", "inconclusive"].contains(j["verdict"] as? String ?? ""), "\(j)")
        let errors = try #require(j["errors"] as? [String: Any])
        #expect((errors["samples"] as? [Int])?.count == 2 && errors["pValue"] is Double, "\(errors)")
        let slo = try #require(e["slo"] as? [String: Any], "\(e)")
        #expect(slo["availability"] as? Double == 0.999)
        let burn = try #require(slo["burnRates"] as? [String: Any])
        #expect(Set(burn.keys) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"])
        // 2.5 % of alpha's requests fail against a 0.1 % budget: a burn near 25 over 5 minutes.
        let fast = try #require(burn["5m"] as? Double)
        #expect(fast > 10 && fast < 50, "5m burn \(fast)")
        #expect(["page", "ticket", "none"].contains(slo["alert"] as? String ?? ""))

        let table = try HeadlessVerbTests.tower(["status"] + fleet.conn)
        let row = table.out.split(separator: "\n").first { $0.hasPrefix("alpha") } ?? ""
        #expect(table.out.contains("VERDICT") && ["pass", "fail", "inconclusive", "no-data"].contains { row.hasSuffix($0) }, "\(table.out)")

        // judge: readable evidence, JSON, and exit codes.
        let judged = try HeadlessVerbTests.tower(["judge", "alpha", "--window", "1m"] + fleet.conn)
        #expect([0, 8, 9].contains(judged.status), "\(judged.err)")
        print("tower judge alpha --window 1m (exit \(judged.status)):\n\(judged.out)")
        #expect(judged.out.hasPrefix("v2 ") && judged.out.contains("against v1 over 1m at 98 %") && judged.out.contains("n = "), "\(judged.out)")
        let json = try HeadlessVerbTests.tower(["judge", "alpha", "--version", "v2", "--output", "json"] + fleet.conn)
        let o = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any], "\(json.out) \(json.err)")
        #expect(o["windowSeconds"] as? Int == 300 && o["baseline"] as? String == "v1")
        let verdict = try #require(o["verdict"] as? String)
        #expect(json.status == ["pass": 0, "fail": 8, "inconclusive": 9, "no-data": 9][verdict], "exit \(json.status) for \(verdict)")
        #expect((o["judgements"] as? [String: Any])?.keys.sorted() == ["v2"])
        // v2's 5 % errors against v1's 0.2 % with hundreds of requests a side: a fail.
        #expect(((o["judgements"] as? [String: Any])?["v2"] as? [String: Any]).flatMap { ($0["errors"] as? [String: Any])?["verdict"] as? String } == "fail",
                "\(json.out)")

        #expect(try HeadlessVerbTests.tower(["judge", "alpha", "--version", "v1"] + fleet.conn).status == 2, "the baseline is not judged")
        #expect(try HeadlessVerbTests.tower(["judge", "alpha", "--version", "v7"] + fleet.conn).status == 6)
        #expect(try HeadlessVerbTests.tower(["judge", "alpha", "--window", "soon"] + fleet.conn).status == 2)
        #expect(try HeadlessVerbTests.tower(["judge", "alpha", "--registry", fleet.reg.url, "--token-file", fleet.op]).status == 2, "no metrics source")
        // A dead Prometheus is no data: 9, never a pass.
        #expect(try HeadlessVerbTests.tower(["judge", "alpha", "--registry", fleet.reg.url, "--token-file", fleet.op,
                                             "--prometheus", "http://127.0.0.1:9"]).status == 9)
    }
}
