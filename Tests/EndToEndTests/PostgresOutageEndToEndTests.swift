import Foundation
import Synchronization
import Testing
import TowerDomain
import TowerHTTP
import TowerSim
import TowerSources
import TowerStack

/// What one shift of the loop got back.
enum ShiftAnswer: Sendable {
    /// 2xx: acknowledged at this revision with these weights.
    case acknowledged(Int64, [String: Int])
    /// 503 (the database unreachable), with the registry's sentence.
    case unavailable(String)
    /// 412: someone (a change of ours whose answer was lost) moved the endpoint on.
    case stale
    /// Anything else: the client's own sentence.
    case other(String)
}

/// The loop's answers, in order, and whether it goes on.
final class ShiftLog: Sendable {
    let answers = Mutex<[(Int, ShiftAnswer)]>([])
    let running = Atomic<Bool>(true)
}

extension PostgresStackEndToEndTests {
    /// Issue 14's outage proof, with one registry on the stack's PostgreSQL: a client shifts in a
    /// loop; PostgreSQL is stopped for 10 s and started again. Meanwhile changes are answered 503
    /// with a sentence, reads carry `Tower-Stale`, and the console in tmux says the routing is
    /// stale instead of live. Afterwards the same registry process (no restart) accepts a change
    /// within a bounded wait, the console is live again, and:
    /// - every acknowledged (2xx) shift is in the history at its revision with its weights;
    /// - every revision of the loop in the history is one shift's, made once (its reason names it),
    ///   and a shift without a 2xx is there only if its answer was an error that could not say
    ///   (a 503 or a lost answer): never one refused as stale;
    /// - revisions are consecutive, and the audit chain verifies.
    @Test(.enabled(if: PostgresServer.binaries() != nil, "PostgreSQL is not installed: scripts/setup installs it"))
    func postgresStoppedUnderLoadAcknowledgesOnlyWhatItCommitsAndRecovers() async throws {
        let s = try StackEndToEndTests.StackProcess(rateScale: 0.3, extra: ["--store", "postgres", "--replicas", "1"])
        defer { s.cleanUp() }
        let registry = s.m.registry
        let pgURL = try #require(s.m.postgres.flatMap { URLComponents(string: $0) }, "stack.json names the database")
        let db = try PostgresServer(existing: s.dir + "/postgres", port: try #require(pgURL.port))
        let registryPID = try #require(s.m.processes["registry"])

        let term = Tmux()
        defer { term.kill() }
        try term.start("env XDG_CONFIG_HOME=\(s.config) \(HeadlessVerbTests.tower) --context local 2>\(s.dir)/console.err", width: 120, height: 30)
        #expect(term.waitFor("registry ✓ live", timeout: 20).found, "\(term.screen())")

        // The loop: shifts of search-rank, each with the revision last known, its reason naming it.
        let client = RegistryClient(baseURL: registry, token: s.token(s.m.tokens.operator), timeout: .seconds(5))
        let log = ShiftLog()
        let loop = Task.detached {
            var e = try await client.endpoint("search-rank")
            var i = 0
            while log.running.load(ordering: .relaxed) {
                let v7 = 10 + i % 80
                let answer: ShiftAnswer
                do {
                    e = try await client.shift("search-rank", weights: ["v7": v7, "v8": 100 - v7, "v9": 0], reason: "load \(i)", expected: e.revision)
                    answer = .acknowledged(e.revision, e.weights)
                } catch let error as RegistryClientError {
                    switch error {
                    case .refused(let p) where p.status == 503: answer = .unavailable(p.detail)
                    case .stale: answer = .stale
                    default: answer = .other(error.description)
                    }
                } catch {
                    answer = .other("\(error)")
                }
                if case .acknowledged = answer {} else if let now = try? await client.endpoint("search-rank") {
                    // Read again (from memory while the database is away) and go on.
                    e = now
                }
                log.answers.withLock { $0.append((i, answer)) }
                i += 1
                // A steady rate (about 10 a second), not a busy loop that would starve the registry
                // on two cores: the rate of a client, not a wait for a condition.
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        defer { log.running.store(false, ordering: .relaxed); loop.cancel() }
        #expect(Self.until(timeout: 30) { log.answers.withLock { $0.filter { if case .acknowledged = $0.1 { true } else { false } }.count >= 10 } },
                "the loop gets ten shifts acknowledged before the outage")

        // The outage: at least 10 s, and until each of its signs was seen.
        db.stop()
        let stopped = Date()
        #expect(db.pid == nil, "PostgreSQL stopped")
        let viewer = s.token(s.m.tokens.viewer)
        var staleHeader: String?
        let marked = Self.until(timeout: 30) {
            let r = try? CurlSession().perform(HTTPRequest(url: registry + "/v1/endpoints", headers: [("Authorization", "Bearer \(viewer)")]))
            staleHeader = r.flatMap { $0.status == 200 ? $0.headers["tower-stale"] : nil }
            return staleHeader != nil
        }
        #expect(marked, "reads are served from memory, marked Tower-Stale")
        #expect(staleHeader?.hasPrefix("database unavailable since ") == true, "\(staleHeader ?? "-")")
        let console = term.waitFor("registry ⚠ stale: database unreachable", timeout: 30)
        #expect(console.found, "the console marks the routing stale: \(console.screen)")
        #expect(!console.screen.contains("registry ✓ live"))
        // The headless verb says it too, in its JSON and on stderr.
        let status = try HeadlessVerbTests.tower(["status", "--context", "local", "--output", "json"], env: ["XDG_CONFIG_HOME": s.config])
        let json = (try? JSONSerialization.jsonObject(with: Data(status.out.utf8))) as? [String: Any]
        #expect(status.status == 0 && json?["stale"] as? Bool == true && (json?["staleDetail"] as? String)?.hasPrefix("database unavailable since") == true
                && json?["endpoints"] != nil, "tower status --output json marks the list stale: \(status.out) \(status.err)")
        #expect(status.err.contains("served this from memory"), "\(status.err)")
        let refused = Self.until(timeout: 30) { log.answers.withLock { $0.contains { if case .unavailable = $0.1 { true } else { false } } } }
        #expect(refused, "changes are answered 503 while the database is away")
        #expect(Self.until(timeout: 30) { Date().timeIntervalSince(stopped) >= 10 })

        try db.start()
        let started = Date()
        // Recovery without a restart: a shift of the loop is acknowledged again, by the same process.
        let before = log.answers.withLock { $0.count }
        let recovered = Self.until(timeout: 30) {
            log.answers.withLock { $0.dropFirst(before).contains { if case .acknowledged = $0.1 { true } else { false } } }
        }
        #expect(recovered, "a change succeeds after PostgreSQL is back")
        print("postgres outage: first change acknowledged \(String(format: "%.2f", Date().timeIntervalSince(started))) s after the start")
        #expect(Self.until(timeout: 30) {
            log.answers.withLock { $0.dropFirst(before).filter { if case .acknowledged = $0.1 { true } else { false } }.count >= 10 }
        }, "and the load goes on: ten more acknowledged")
        #expect(kill(registryPID, 0) == 0, "the registry was not restarted")
        let live = term.waitFor("registry ✓ live", timeout: 30)
        #expect(live.found && !live.screen.contains("stale:"), "the console is live again: \(live.screen)")
        log.running.store(false, ordering: .relaxed)
        _ = try? await loop.value

        // What was acknowledged against what was committed.
        let all = log.answers.withLock { $0 }
        let byIndex = Dictionary(uniqueKeysWithValues: all.map { ($0.0, $0.1) })
        let history = try await RegistryClient(baseURL: registry, token: viewer).revisions("search-rank", limit: 1000)
        let ours = history.revisions.filter { $0.reason.hasPrefix("load ") }
        for case let (i, .acknowledged(revision, weights)) in all {
            let record = history.revisions.first { $0.revision == revision }
            #expect(record?.reason == "load \(i)" && record?.endpoint.weights == weights, "acknowledged shift \(i) is revision \(revision) in the history")
        }
        var seen = Set<Int>(), unacknowledgedCommits = 0
        for r in ours {
            let i = try #require(Int(r.reason.dropFirst("load ".count)))
            #expect(seen.insert(i).inserted, "shift \(i) was committed once")
            switch byIndex[i] {
            case .acknowledged(let revision, _)?: #expect(revision == r.revision)
            case .unavailable?, .other?: unacknowledgedCommits += 1
            case .stale?, nil: Issue.record("revision \(r.revision) (shift \(i)) was committed, but its answer was \(String(describing: byIndex[i]))")
            }
        }
        let revisions = history.revisions.map(\.revision).sorted()
        #expect(zip(revisions, revisions.dropFirst()).allSatisfy { $1 == $0 + 1 }, "revisions are consecutive")
        let verdict = try await RegistryClient(baseURL: registry, token: viewer).verifyAudit()
        #expect(verdict.intact, "the audit chain verifies")
        func count(_ f: (ShiftAnswer) -> Bool) -> Int { all.filter { f($0.1) }.count }
        let unavailable = all.compactMap { if case .unavailable(let d) = $0.1 { d } else { nil } }
        #expect(unavailable.allSatisfy { $0.contains("PostgreSQL") || $0.contains("database") }, "each 503 says why: \(Set(unavailable))")
        print("""
            postgres outage: \(all.count) shifts, \(count { if case .acknowledged = $0 { true } else { false } }) acknowledged, \
            \(unavailable.count) answered 503, \(count { if case .stale = $0 { true } else { false } }) stale, \
            \(count { if case .other = $0 { true } else { false } }) other; \(unacknowledgedCommits) committed without a 2xx; \
            503 sentences: \(Set(unavailable).sorted().prefix(3))
            """)
    }

    /// Polls `condition` every 100 ms until it holds or `timeout` seconds pass.
    static func until(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if condition() { return true }
            usleep(100_000)
        } while Date() < deadline
        return false
    }
}
