import ArgumentParser
import Foundation
import TowerDomain
import TowerHTTP
import TowerRegistry
import TowerSim
import TowerStorePostgres

/// `tower-bench registry --store postgres`: a PostgreSQL server of its own (fsync on, as in
/// production), two `tower-registry serve --store` processes over one database, and libcurl
/// clients, as the SQLite bench drives its one process.
struct PostgresRegistryBench {
    var endpoints: Int
    var readThreads: Int
    var writeThreads: Int
    var seconds: Double
    var watches: Int
    var failovers: Int
    var registry: String

    func run() async throws {
        guard 3 * writeThreads <= endpoints else {
            throw ValidationError("--writers \(writeThreads) needs --endpoints \(3 * writeThreads) or more: each client of both change phases shifts an endpoint of its own")
        }
        let dir = NSTemporaryDirectory() + "tower-bench-pg-" + UUID().uuidString.prefix(8)
        let server = try PostgresServer(dir: dir + "/pg", durable: true)
        server.stopWhenThisProcessEnds()
        defer { server.stop(); try? FileManager.default.removeItem(atPath: dir) }
        let storeURL = try server.createDatabase("bench")
        let url = try PostgresStoreURL(storeURL)

        // Seeded in-process; the replicas read it from the database.
        let backend = try PostgresBackend(url: url, password: nil)
        defer { try? backend.close() }
        let store = try RegistryStore(backend: backend)
        let token = try store.createToken(name: "bench", role: .operator)
        try await Seed.apply(RegistryBench.specs(endpoints), to: store, source: "bench")

        let replicas = try (0..<2).map { i in try startReplica(registry, url: storeURL, dir: dir + "/replica-\(i)") }
        defer { for r in replicas { r.terminate(); r.waitUntilExit() } }
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        print("tower-bench registry --store postgres: \(endpoints) endpoints, 2 replicas over one PostgreSQL (fsync on), \(cpus) cores shared by clients, replicas and the server")
        let headers = [("Authorization", "Bearer \(token)")]

        // 1. Reads, one replica at a time. Each client waits for its answer before asking again,
        // so the rate depends on how many ask at once: both the given number and twice it.
        for (i, r) in replicas.enumerated() {
            for threads in [readThreads, 2 * readThreads] {
                let base = r.url
                let reads = Throughput.run(threads: threads, seconds: seconds) { _ in
                    let s = CurlSession(HTTPOptions())
                    let req = HTTPRequest(url: base + "/v1/endpoints", headers: headers)
                    return { (try? s.perform(req))?.status == 200 }
                }
                print(String(format: "GET /v1/endpoints on replica %d: %.0f requests/s (%d threads, %d errors)  target >= 5000",
                             i + 1, reads.perSecond, threads, reads.failures))
            }
        }

        // 2. Durable changes, clients split across both replicas, each on its own endpoint. A
        // replica commits the changes its clients have waiting in one transaction, so the rate
        // grows with the clients: the given number and twice it.
        // The second phase's clients shift endpoints the first left alone, from revision 1.
        let urls = replicas.map(\.url)
        for (clients, first) in [(writeThreads, 0), (2 * writeThreads, writeThreads)] {
            let writes = Throughput.run(threads: clients, seconds: seconds) { t in
                Throughput.shifts(CurlSession(HTTPOptions()), url: urls[t % urls.count] + "/v1/endpoints/model-\(first + t)/shift", headers: headers)
            }
            print(String(format: "durable changes through 2 replicas: %.0f changes/s (%d clients, %d errors)  target >= 500",
                         writes.perSecond, clients, writes.failures))
        }

        // 3. A change on replica 1 → a long poll on replica 2 answered.
        let latencies = try watchLatencies(urls: urls, headers: headers, store: store)
        func pct(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        print(String(format: "change on replica 1 -> long poll on replica 2 answered, over %d changes: p50 %.1f ms, p99 %.1f ms, max %.1f ms  target p99 < 200 ms",
                     latencies.count, pct(0.5), pct(0.99), latencies.last ?? 0))

        // 4. The rollout controller's lease: its holder's connection ended by the server.
        let interval = PostgresLease(backend: backend, logger: .init(label: "bench")).interval
        var moves: [Double] = []
        for _ in 0..<failovers {
            moves.append(try leaseFailover(backend))
        }
        moves.sort()
        let ms = Double(interval.components.attoseconds) / 1e15 + Double(interval.components.seconds) * 1000
        print(String(format: "rollout lease: holder's connection terminated -> held by a live session again, %d times: median %.0f ms, max %.0f ms (interval %.0f ms)  target < %.0f ms",
                     moves.count, moves.isEmpty ? 0 : moves[moves.count / 2], moves.last ?? 0, ms, 2 * ms))
    }

    /// Each round: a long poll on replica 2 after the current sequence number, then a shift on
    /// replica 1; the time from sending the shift to the poll's answer.
    func watchLatencies(urls: [String], headers: [(String, String)], store: RegistryStore) throws -> [Double] {
        let writer = CurlSession(HTTPOptions())
        let name = "model-\(endpoints - 1)"
        var revision = try Wire.decoder().decode(Endpoint.self, from: Data(writer.perform(HTTPRequest(url: urls[0] + "/v1/endpoints/\(name)", headers: headers)).body)).revision
        var out: [Double] = []
        for i in 0..<watches {
            let list = try Wire.decoder().decode(EndpointList.self, from: Data(writer.perform(HTTPRequest(url: urls[1] + "/v1/endpoints", headers: headers)).body))
            let answered = AnswerTime()
            let poll = Thread {
                let s = CurlSession(HTTPOptions())
                let r = try? s.perform(HTTPRequest(url: urls[1] + "/v1/watch?after=\(list.auditSeq)&timeout=10", headers: headers))
                answered.set(r?.status == 200 ? ContinuousClock.now : nil)
            }
            poll.start()
            // Pacing, not a condition: the poll must be waiting before the change is made.
            usleep(30_000)
            let v1 = 50 + i % 50
            let t0 = ContinuousClock.now
            let r = try writer.perform(HTTPRequest(method: "POST", url: urls[0] + "/v1/endpoints/\(name)/shift",
                                                   headers: headers + [("Content-Type", "application/json"), ("If-Match", "\"\(revision)\"")],
                                                   body: Array(#"{"weights":{"v1":\#(v1),"v2":\#(100 - v1)},"reason":"watch"}"#.utf8)))
            guard r.status == 200 else { throw ValidationError("change failed: \(r.status) \(r.text)") }
            revision += 1
            guard let t1 = answered.wait() else { throw ValidationError("the long poll on replica 2 failed") }
            let d = t1 - t0
            out.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
        }
        return out.sorted()
    }

    /// Ends the session holding the lease (as a dead replica's would end) and waits until some
    /// other session holds it: a replica's lease loop took it over. Milliseconds.
    func leaseFailover(_ backend: PostgresBackend) throws -> Double {
        let holderSQL = """
            SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
            AND ((classid::bigint << 32) | objid::bigint) = ?
            """
        func holder() throws -> Int64? { try backend.read { db in try Int64.fetchOne(db, sql: holderSQL, arguments: [PostgresLease.rolloutsKey]) } }
        let deadline = Date().addingTimeInterval(10)
        var old = try holder()
        while old == nil {
            guard Date() < deadline else { throw ValidationError("no replica took the rollout lease within 10 s") }
            usleep(5_000)
            old = try holder()
        }
        let t0 = ContinuousClock.now
        _ = try backend.read { db in try Bool.fetchOne(db, sql: "SELECT pg_terminate_backend(?::integer)", arguments: [old]) }
        while true {
            if let now = try holder(), now != old {
                let d = ContinuousClock.now - t0
                return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
            }
            guard Date() < deadline.addingTimeInterval(10) else { throw ValidationError("the rollout lease did not move within 10 s") }
            usleep(2_000)
        }
    }

    func startReplica(_ exe: String, url: String, dir: String) throws -> RegistryBench.Server {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let ready = dir + "/url"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["serve", "--store", url, "--listen", "127.0.0.1:0", "--ready-file", ready, "--log-level", "warning"]
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        for _ in 0..<500 {
            if let s = try? String(contentsOfFile: ready, encoding: .utf8), s.hasSuffix("\n") {
                return RegistryBench.Server(process: p, url: s.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            usleep(20_000)
        }
        p.terminate()
        throw ValidationError("\(exe) serve --store did not start within 10 s")
    }
}

/// When a long poll was answered (nil when it failed), handed from its thread to the bench's.
final class AnswerTime: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var time: ContinuousClock.Instant?
    func set(_ t: ContinuousClock.Instant?) { time = t; done.signal() }
    func wait() -> ContinuousClock.Instant? { done.wait(); return time }
}
