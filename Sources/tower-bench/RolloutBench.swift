import ArgumentParser
import Foundation
import Synchronization
import TowerDomain
import TowerRegistry
import TowerRollouts

/// Many rollouts at once in one registry (store and loop in this process, the bench idle while it
/// measures): the registry's CPU, how late a step is applied after its pause ends, and how many
/// reads of the metrics source each interval costs.
struct RolloutBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollouts",
        abstract: "N rollouts on N endpoints at once: registry CPU, step due → applied (p50, p99), metrics reads per interval.")

    @Option(help: "Rollouts (one endpoint each).") var rollouts = 100
    @Option(help: "Seconds between rounds of checks.") var interval = 5
    @Option(help: "Seconds of each timed pause.") var pause = 10
    @Option(help: "Seconds over which the rollouts are started (staggered, so their rounds fall at different moments).")
    var stagger = 5.0

    /// A source that answers at once with healthy figures for every endpoint and counts its reads.
    final class Metrics: RolloutMetricsReader, Sendable {
        let name = "bench"
        let figures: [String: Figures]
        let reads = Atomic<Int>(0)
        init(endpoints: Int) {
            let n = 3000.0
            func f(_ errors: Double) -> Figures {
                Figures(rps: n / 60, errorRatio: errors, p99Ms: 120, samples: n, readAt: Date(),
                        window: WindowCounts(seconds: 60, requests: n, errors: n * errors,
                                             latencyBuckets: [Bucket(le: 50, count: n * 0.6), Bucket(le: 100, count: n * 0.98),
                                                              Bucket(le: 250, count: n), Bucket(le: .infinity, count: n)]))
            }
            var out: [String: Figures] = [:]
            for i in 0..<endpoints {
                out[EndpointVersionKey("model-\(i)", "v1").description] = f(0.001)
                out[EndpointVersionKey("model-\(i)", "v2").description] = f(0.001)
            }
            figures = out
        }
        func read() async throws -> [String: Figures] {
            reads.add(1, ordering: .relaxed)
            return figures
        }
    }

    func run() async throws {
        let dir = NSTemporaryDirectory() + "tower-bench-rollouts-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try RegistryStore(directory: dir)
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        try await Seed.apply((0..<rollouts).map { i in
            EndpointSpec(name: "model-\(i)", path: "/v1/models/model-\(i)", owner: "bench", versions: [
                .init(name: "v1", artifact: Artifact(uri: "s3://m/\(i)/1", digest: digest), weight: 100, gate: .passed, stage: .prod),
                .init(name: "v2", artifact: Artifact(uri: "s3://m/\(i)/2", digest: digest), weight: 0, gate: .passed, stage: .prod),
            ])
        }, to: store, source: "bench")
        let weights = [10, 20, 30, 50, 100]
        var steps: [String] = []
        for (k, w) in weights.enumerated() {
            steps.append("  - setWeight: \(w)")
            if k < weights.count - 1 { steps.append("  - pause: \(pause)s") }
        }
        let book = try Runbook.parse(yaml: """
            name: bench
            steps:
            \(steps.joined(separator: "\n"))
            analysis:
              interval: \(interval)s
              failureLimit: 1
              inconclusiveLimit: 4
              checks: [{metric: errorRatio, max: 0.01}, {metric: p99Ms, max: 500}, {judge: baseline}]
            """)
        let metrics = Metrics(endpoints: rollouts)
        let controller = RolloutController(store: store, metrics: metrics)
        let loop = Task { await controller.run() }
        let operatorPrincipal = Principal(name: "bench", role: .operator)

        let cpu0 = Self.cpuSeconds(), wall0 = Date()
        for i in 0..<rollouts {
            _ = try await store.startRollout(endpoint: "model-\(i)", request: RolloutStartRequest(runbook: book, target: "v2", baseline: nil, reason: "bench"),
                                             principal: operatorPrincipal)
            try await Task.sleep(for: .milliseconds(Int(stagger * 1000 / Double(max(1, rollouts)))))
        }
        let expected = Double((weights.count - 1) * pause + 2 * interval) + stagger
        let deadline = Date().addingTimeInterval(expected * 3)
        while try store.activeRollouts().count > 0 && Date() < deadline {
            try await Task.sleep(for: .seconds(1))
        }
        let wall = Date().timeIntervalSince(wall0), cpu = Self.cpuSeconds() - cpu0
        loop.cancel()

        var lateness: [Double] = []
        var completed = 0
        for i in 0..<rollouts {
            let s = try await store.rolloutStatus(endpoint: "model-\(i)")
            guard let r = s.last else { continue }
            if r.phase == .completed { completed += 1 }
            // Each timed pause: when it was due to end → when the next setWeight's revision committed.
            for rec in r.steps where rec.label.hasPrefix("pause") {
                guard let next = r.steps.first(where: { $0.index == rec.index + 1 }), let applied = next.finishedAt else { continue }
                lateness.append(applied.timeIntervalSince(rec.startedAt.addingTimeInterval(Double(pause))))
            }
        }
        lateness.sort()
        func q(_ p: Double) -> Double { lateness.isEmpty ? .nan : lateness[min(lateness.count - 1, Int(Double(lateness.count) * p))] }
        let reads = metrics.reads.load(ordering: .relaxed)
        print("tower-bench rollouts: \(rollouts) rollouts on \(rollouts) endpoints, checks every \(interval) s (3 checks incl. the judge), pauses \(pause) s, started over \(stagger) s")
        print("completed \(completed)/\(rollouts) in \(String(format: "%.1f", wall)) s")
        print(String(format: "registry CPU (store + loop, this process): %.1f %% of a core  target < 10 %%", cpu / wall * 100))
        print(String(format: "pause due → next step applied: p50 %.0f ms, p99 %.0f ms, max %.0f ms over %d steps  target p99 < 500 ms",
                     q(0.5) * 1000, q(0.99) * 1000, (lateness.last ?? .nan) * 1000, lateness.count))
        print(String(format: "metrics reads: %d in %.0f s = %.2f per %d s interval (each one round of the profile's 3 queries), whatever the number of rollouts",
                     reads, wall, Double(reads) / (wall / Double(interval)), interval))
    }

    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }
}
