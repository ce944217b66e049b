import Foundation
import Testing
import TowerDomain
import TowerMetrics

/// Real Prometheus (Debian's package, a plain process on loopback with a temporary store) scraping
/// the simulated fleet: Tower's figures equal PromQL's, and Tower's own quantiles equal
/// `histogram_quantile` on the same data.
@Suite(.serialized) struct PrometheusEndToEndTests {
    final class PrometheusProcess: @unchecked Sendable {
        let process = Process()
        let url: String
        let dir = NSTemporaryDirectory() + "tower-prom-" + UUID().uuidString

        init(scrape target: String) throws {
            let port = TelemetryEndToEndTests.freePort()
            url = "http://127.0.0.1:\(port)"
            try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
            try """
                global: {scrape_interval: 1s, evaluation_interval: 1s}
                scrape_configs:
                  - job_name: sim
                    scrape_timeout: 900ms
                    static_configs: [{targets: ["\(target)"]}]
                """.write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
            process.arguments = ["--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
                                 "--web.listen-address=127.0.0.1:\(port)", "--storage.tsdb.retention.time=1h"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        func stop() {
            if process.isRunning { process.terminate(); process.waitUntilExit() }
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    @Test func towersFiguresEqualPromQLAndItsQuantilesEqualHistogramQuantile() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus") else {
            Issue.record("prometheus is not installed: scripts/setup installs Debian's package")
            return
        }
        let (reg, op, sim) = try TelemetryEndToEndTests.fleet()
        defer { sim.stop(); reg.cleanUp() }
        let prom = try PrometheusProcess(scrape: String(sim.url.dropFirst("http://".count)))
        defer { prom.stop() }

        let client = PrometheusClient(baseURL: prom.url)
        let profile = try MetricsProfile(kind: .generic)
        // Prometheus scrapes for the first time about 5 s after start; a rate needs two samples.
        let deadline = Date().addingTimeInterval(40)
        var ready = false
        while Date() < deadline && !ready {
            if let r = try? await client.instant(query: profile.queries[.bucketRate]!), r.result.series.count >= 2 { ready = true }
            else { try await Task.sleep(for: .milliseconds(500)) }
        }
        try #require(ready, "Prometheus never had two samples of the fleet's histograms")

        // A little more history, so the instant compared has several samples in its window.
        try await Task.sleep(for: .seconds(3))
        let at = Date().addingTimeInterval(-0.5)
        let atText = Timestamp.rfc3339(ms: Timestamp.ms(at))
        let out = try HeadlessVerbTests.tower(["status", "--output", "json", "--registry", reg.url, "--token-file", op,
                                               "--prometheus", prom.url, "--at", atText])
        #expect(out.status == 0, "\(out.err)")
        // JSONDecoder, not JSONSerialization: the comparison is to the last bit.
        struct Status: Decodable {
            struct M: Decodable { var rps: Double?; var p99Ms: Double? }
            struct V: Decodable { var name: String; var metrics: M }
            struct E: Decodable { var name: String; var versions: [V] }
            var endpoints: [E]
        }
        let status = try JSONDecoder().decode(Status.self, from: Data(out.out.utf8))
        func metrics(_ version: String) -> Status.M? {
            status.endpoints.first { $0.name == "alpha" }?.versions.first { $0.name == version }?.metrics
        }

        // The same PromQL, evaluated by Prometheus itself at the same instant.
        let t = Timestamp.date(ms: Timestamp.ms(at))
        let rates = try await client.instant(query: profile.queries[.requestRate]!, time: t).result.series
        let p99s = try await client.instant(query: profile.quantileQuery(0.99), time: t).result.series
        var compared = 0
        for version in ["v1", "v2"] {
            guard let m = metrics(version),
                  let promRate = rates.first(where: { $0.labels["endpoint"] == "alpha" && $0.labels["version"] == version })?.samples.first?.value,
                  let promP99 = p99s.first(where: { $0.labels["endpoint"] == "alpha" && $0.labels["version"] == version })?.samples.first?.value
            else { continue }
            #expect(m.rps == promRate, "rps \(version): tower \(String(describing: m.rps)) vs PromQL \(promRate)")
            if promP99.isFinite {
                // Tower computes the quantile itself from the bucket rates; Prometheus's answer is in seconds.
                let towerP99 = try #require(m.p99Ms)
                #expect(abs(towerP99 - promP99 * 1000) <= 1e-9 * max(1, abs(towerP99)), "p99 \(version): tower \(towerP99) vs PromQL \(promP99 * 1000)")
            }
            compared += 1
        }
        #expect(compared >= 1, "nothing to compare: \(out.out)")

        // One range query back-fills the sparklines with p99s computed by the same rules.
        let history = try await PrometheusMetricsSource(client: client, profile: profile, interval: 1, at: t).history(points: 5)
        let alpha = try #require(history["alpha"])
        #expect(!alpha.isEmpty && alpha.count <= 5 && alpha.compactMap { $0 }.allSatisfy { $0 > 0 && $0.isFinite })
    }
}
