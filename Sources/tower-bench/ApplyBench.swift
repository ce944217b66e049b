import ArgumentParser
import Foundation
import TowerDomain
import TowerRegistry
import TowerSources

/// `tower apply` at fleet scale against a real tower-registry process on loopback: what a pipeline
/// waits for. Each phase is what the verb does: read the files, read the registry, plan, send.
struct ApplyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "tower apply of N declarative specs: the first apply (creates), an unchanged apply, and an apply that changes every endpoint.")

    @Option(help: "Endpoints declared.") var endpoints = 1000
    @Option(help: "Changes in flight at once, as tower apply --parallel.") var parallel = 4
    @Option(help: "The tower-registry executable (default: next to this one).") var registry: String?

    func run() async throws {
        let dir = NSTemporaryDirectory() + "tower-bench-apply-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let token = try RegistryStore(directory: dir + "/data").createToken(name: "pipeline", role: .deployer)
        let exe = registry ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tower-registry").path
        let (server, base) = try Self.start(exe, data: dir + "/data")
        defer { server.terminate(); server.waitUntilExit() }
        let client = RegistryClient(baseURL: base, token: token, timeout: .seconds(30))

        func specs(versions: Int) -> [EndpointSpec] {
            (0..<endpoints).map { i in
                EndpointSpec(name: "model-\(i)", path: "/v1/models/model-\(i)", owner: "team-\(i % 10)",
                             versions: (1...versions).map { v in
                                 .init(name: "v\(v)", artifact: Artifact(uri: "s3://models/model-\(i)/v\(v)", digest: "sha256:" + String(repeating: String(format: "%02x", v), count: 32)),
                                       stage: v == versions ? .staging : .prod)
                             },
                             slo: SLO(availability: 0.999), evaluation: EvaluationPolicy(require: [.init(metric: "auc", min: 0.9)]))
            }
        }
        let file = dir + "/specs.yaml"
        try SpecExport.yaml(specs(versions: 2)).write(toFile: file, atomically: true, encoding: .utf8)
        let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        print("tower-bench apply: \(endpoints) endpoints, one \(size / 1024) KiB file, \(ProcessInfo.processInfo.activeProcessorCount) cores shared by client and server")

        /// One `tower apply -f file`, timed by phase.
        func apply(_ path: String) async throws -> (parse: Double, plan: Double, send: Double, changed: Int) {
            let t0 = Date()
            let desired = try SpecFile.read(path: path)
            let t1 = Date()
            let current = try await client.list().endpoints
            let plan = SpecDiff.plan(desired: desired, current: current)
            let t2 = Date()
            let revisions = Dictionary(current.map { ($0.name, $0.revision) }, uniquingKeysWith: { a, _ in a })
            let outcomes = await SpecApplier.run(plan, client: client, revisions: revisions, reason: "bench", deleteReason: "bench", parallel: parallel)
            if let failed = outcomes.first(where: { $0.error != nil }) {
                throw ValidationError("\(failed.change.endpoint): \(failed.error!)")
            }
            let t3 = Date()
            return (t1.timeIntervalSince(t0), t2.timeIntervalSince(t1), t3.timeIntervalSince(t2), plan.count)
        }
        func report(_ label: String, _ r: (parse: Double, plan: Double, send: Double, changed: Int), target: String) {
            let total = r.parse + r.plan + r.send
            let rate = r.changed > 0 ? String(format: ", %.0f endpoints/s sent", Double(r.changed) / r.send) : ""
            print(String(format: "%@: %.2f s (read files %.0f ms, list + plan %.0f ms, send %.2f s), %d changed%@  %@",
                         label, total, r.parse * 1000, r.plan * 1000, r.send, r.changed, rate, target))
        }
        report("first apply (creates)", try await apply(file), target: "")
        report("unchanged apply", try await apply(file), target: "target < 2 s")
        try SpecExport.yaml(specs(versions: 3)).write(toFile: file, atomically: true, encoding: .utf8)
        report("apply adding a version to every endpoint", try await apply(file), target: "target >= 200 endpoints/s")
        let again = try await apply(file)
        if again.changed != 0 { throw ValidationError("an apply after the changes still found \(again.changed) to change") }
    }

    static func start(_ exe: String, data: String) throws -> (Process, String) {
        let ready = data + "/url"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["serve", "--data", data, "--listen", "127.0.0.1:0", "--ready-file", ready, "--log-level", "warning"]
        try p.run()
        for _ in 0..<500 {
            if let s = try? String(contentsOfFile: ready, encoding: .utf8), s.hasSuffix("\n") {
                return (p, s.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            usleep(20_000)
        }
        p.terminate()
        throw ValidationError("\(exe) did not start within 10 s")
    }
}
