import ArgumentParser
import Foundation
import TowerDomain
import TowerHTTP
import TowerRegistry

/// Benchmarks print figures; tests never assert timings (DESIGN §9).
@main
struct TowerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tower-bench",
        abstract: "Measure Tower. Build with -c release for figures worth recording.",
        subcommands: [RegistryBench.self, ConsoleBench.self, TelemetryBench.self, GatewayBench.self, JudgeBench.self, RolloutBench.self, ApplyBench.self, BundleBench.self])
}

struct RegistryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Drive a tower-registry process on loopback: read throughput, durable change rate, change latency.")

    @Option(help: "Endpoints to seed.") var endpoints = 100
    @Option(help: "Client threads for the throughput phases.") var threads = 4
    @Option(help: "Seconds per throughput phase.") var seconds = 5.0
    @Option(help: "Changes per second in the latency phase.") var rate = 50.0
    @Option(help: "Changes in the latency phase.") var changes = 500
    @Option(help: "The tower-registry executable (default: next to this one).") var registry: String?
    @Flag(help: "Serve TLS (a throwaway CA and server certificate made with the openssl CLI) and read over it.") var tls = false
    @Option(help: "sqlite (one process), or postgres: a PostgreSQL server of the bench's own and two replicas over it.") var store = "sqlite"
    @Option(help: "With --store postgres: clients of the durable-change phase, split across the replicas.") var writers = 8
    @Option(help: "With --store postgres: changes timed from one replica to a long poll on the other.") var watches = 200
    @Option(help: "With --store postgres: times the rollout lease's holder loses its connection.") var failovers = 5

    func validate() throws {
        guard ["sqlite", "postgres"].contains(store) else { throw ValidationError("--store is sqlite or postgres, not '\(store)'") }
        if store == "postgres" && tls { throw ValidationError("--tls is measured on SQLite only") }
    }

    /// The endpoints every registry bench seeds: two versions each, 90/10.
    static func specs(_ n: Int) -> [EndpointSpec] {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        return (0..<n).map { i in
            EndpointSpec(name: "model-\(i)", path: "/v1/models/model-\(i)", owner: "bench", versions: [
                .init(name: "v1", artifact: Artifact(uri: "s3://m/\(i)/1", digest: digest), weight: 90, gate: .passed, stage: .prod),
                .init(name: "v2", artifact: Artifact(uri: "s3://m/\(i)/2", digest: digest), weight: 10, gate: .passed, stage: .prod),
            ])
        }
    }

    func run() async throws {
        let exe = registry ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tower-registry").path
        if store == "postgres" {
            return try await PostgresRegistryBench(endpoints: endpoints, readThreads: threads, writeThreads: writers, seconds: seconds,
                                                   watches: watches, failovers: failovers, registry: exe).run()
        }
        let dir = NSTemporaryDirectory() + "tower-bench-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try RegistryStore(directory: dir)
        let token = try store.createToken(name: "bench", role: .operator)
        try await Seed.apply(Self.specs(endpoints), to: store, source: "bench")

        let ca = tls ? try makeCertificates(dir) : nil
        let server = try startServer(exe, dir: dir, tls: tls)
        defer { server.terminate(); server.waitUntilExit() }
        let base = server.url
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        let options = HTTPOptions(tls: TLSOptions(caBundle: ca))
        @Sendable func CurlSession() -> TowerHTTP.CurlSession { TowerHTTP.CurlSession(options) }
        print("tower-bench registry: \(endpoints) endpoints, \(threads) client threads, \(cpus) cores shared by client and server, \(tls ? "TLS (P-256, TLS 1.3)" : "plain HTTP")")

        // 0. A new connection per request: the handshake's cost (TCP, and TLS when on) plus one GET.
        var connects: [Double] = []
        for _ in 0..<200 {
            let t0 = ContinuousClock.now
            guard (try? CurlSession().perform(HTTPRequest(url: base + "/v1/endpoints/model-0", headers: auth(token))))?.status == 200 else { continue }
            let d = ContinuousClock.now - t0
            connects.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
        }
        connects.sort()
        if !connects.isEmpty {
            print(String(format: "new connection + GET /v1/endpoints/model-0: p50 %.2f ms, p99 %.2f ms (%d of 200)",
                         connects[connects.count / 2], connects[min(connects.count - 1, connects.count * 99 / 100)], connects.count))
        }

        // 1. Reads.
        let listBytes = try CurlSession().perform(HTTPRequest(url: base + "/v1/endpoints", headers: auth(token))).body.count
        let reads = Throughput.run(threads: threads, seconds: seconds) { _ in
            let s = CurlSession()
            let req = HTTPRequest(url: base + "/v1/endpoints", headers: auth(token))
            return { (try? s.perform(req))?.status == 200 }
        }
        print(String(format: "GET /v1/endpoints: %.0f requests/s (%d bytes each, %d errors)  target >= 5000", reads.perSecond, listBytes, reads.failures))

        // 2. Durable changes, each thread on its own endpoint so none conflict.
        let writes = Throughput.run(threads: threads, seconds: seconds) { t in
            Throughput.shifts(CurlSession(), url: base + "/v1/endpoints/model-\(t)/shift", headers: auth(token))
        }
        print(String(format: "durable changes: %.0f changes/s (%d errors)  target >= 200", writes.perSecond, writes.failures))

        // 3. Latency of one change at a steady rate.
        let s = CurlSession()
        var revision = try Wire.decoder().decode(Endpoint.self, from: Data(s.perform(HTTPRequest(url: base + "/v1/endpoints/model-\(endpoints - 1)", headers: auth(token))).body)).revision
        var latencies: [Double] = []
        let interval = 1.0 / rate
        let start = Date()
        for i in 0..<changes {
            let due = start.addingTimeInterval(Double(i) * interval)
            let wait = due.timeIntervalSinceNow
            if wait > 0 { usleep(UInt32(wait * 1e6)) }
            let v1 = 50 + i % 50
            let t0 = ContinuousClock.now
            let r = try s.perform(HTTPRequest(method: "POST", url: base + "/v1/endpoints/model-\(endpoints - 1)/shift",
                                              headers: auth(token) + [("Content-Type", "application/json"), ("If-Match", "\"\(revision)\"")],
                                              body: Array(#"{"weights":{"v1":\#(v1),"v2":\#(100 - v1)},"reason":"latency"}"#.utf8)))
            let d = ContinuousClock.now - t0
            guard r.status == 200 else { throw ValidationError("change failed: \(r.status) \(r.text)") }
            revision += 1
            latencies.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
        }
        latencies.sort()
        func pct(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        print(String(format: "change latency at %.0f/s over %d changes: p50 %.2f ms, p99 %.2f ms, max %.2f ms  target p99 < 25 ms",
                     rate, changes, pct(0.5), pct(0.99), latencies.last ?? 0))
    }

    func auth(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }

    final class Server {
        let process: Process
        let url: String
        init(process: Process, url: String) { self.process = process; self.url = url }
        func terminate() { process.terminate() }
        func waitUntilExit() { process.waitUntilExit() }
    }

    /// A CA and a server certificate for 127.0.0.1 with the openssl CLI; returns the CA's file.
    func makeCertificates(_ dir: String) throws -> String {
        let script = """
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 1 -subj '/CN=bench CA'
            openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr -subj '/CN=127.0.0.1'
            printf 'subjectAltName=IP:127.0.0.1\\n' > san.cnf
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile san.cnf -out server.pem
            chmod 600 server.key
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-ec", script]
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw ValidationError("openssl could not make the bench's certificates") }
        return dir + "/ca.pem"
    }

    func startServer(_ exe: String, dir: String, tls: Bool = false) throws -> Server {
        let ready = dir + "/url"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["serve", "--data", dir, "--listen", "127.0.0.1:0", "--ready-file", ready, "--log-level", "warning"]
            + (tls ? ["--tls-cert", dir + "/server.pem", "--tls-key", dir + "/server.key"] : [])
        try p.run()
        for _ in 0..<500 {
            if let s = try? String(contentsOfFile: ready, encoding: .utf8), s.hasSuffix("\n") {
                return Server(process: p, url: s.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            usleep(20_000)
        }
        p.terminate()
        throw ValidationError("\(exe) did not start within 10 s")
    }
}

/// Runs one blocking worker per thread for a fixed time and counts completed operations.
enum Throughput {
    struct Result { var perSecond: Double; var failures: Int }

    /// A worker that shifts one endpoint back and forth, each change sent with the revision the
    /// last one made (so none is refused as stale), until the run ends.
    static func shifts(_ s: CurlSession, url: String, headers: [(String, String)]) -> () -> Bool {
        var revision: Int64 = 1
        var n = 0
        return {
            n += 1
            let v1 = 50 + n % 50
            let body = Array(#"{"weights":{"v1":\#(v1),"v2":\#(100 - v1)},"reason":"bench"}"#.utf8)
            guard let r = try? s.perform(HTTPRequest(method: "POST", url: url,
                                                     headers: headers + [("Content-Type", "application/json"), ("If-Match", "\"\(revision)\"")], body: body)),
                  r.status == 200 else { return false }
            revision += 1
            return true
        }
    }

    static func run(threads: Int, seconds: Double, makeWorker: @escaping @Sendable (Int) -> () -> Bool) -> Result {
        let counts = Counts(threads)
        let group = DispatchGroup()
        let deadline = Date().addingTimeInterval(seconds)
        let start = Date()
        for t in 0..<threads {
            group.enter()
            Thread {
                let work = makeWorker(t)
                var ok = 0, bad = 0
                while Date() < deadline { if work() { ok += 1 } else { bad += 1 } }
                counts.set(t, ok, bad)
                group.leave()
            }.start()
        }
        group.wait()
        let elapsed = Date().timeIntervalSince(start)
        return Result(perSecond: Double(counts.ok) / elapsed, failures: counts.bad)
    }

    final class Counts: @unchecked Sendable {
        private var values: [(Int, Int)]
        private let lock = NSLock()
        init(_ n: Int) { values = Array(repeating: (0, 0), count: n) }
        func set(_ i: Int, _ ok: Int, _ bad: Int) { lock.lock(); values[i] = (ok, bad); lock.unlock() }
        var ok: Int { lock.lock(); defer { lock.unlock() }; return values.reduce(0) { $0 + $1.0 } }
        var bad: Int { lock.lock(); defer { lock.unlock() }; return values.reduce(0) { $0 + $1.1 } }
    }
}
