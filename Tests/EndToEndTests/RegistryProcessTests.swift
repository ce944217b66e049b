import Foundation
import GRDB
import Testing
import TowerDomain
import TowerHTTP

/// The registry as a real process on loopback: concurrency, crashes, signals, tokens and audit.
@Suite(.serialized) struct RegistryProcessTests {
    static func decode<T: Decodable>(_ t: T.Type, _ r: HTTPResponse) throws -> T { try Wire.decoder().decode(t, from: Data(r.body)) }

    static func allAudit(_ c: RawClient) throws -> [AuditEntry] {
        var out: [AuditEntry] = []
        while true {
            let page = try decode(AuditPage.self, try c.get("/v1/audit?after=\(out.last?.seq ?? 0)&limit=1000"))
            out += page.entries
            if page.entries.isEmpty || out.last!.seq >= page.lastSeq { return out }
        }
    }

    struct Attempt: Sendable { var status: Int; var revision: Int64?; var reason: String }

    @Test func eightClientsRacingOnOneEndpoint() throws {
        let reg = RegistryProcess()
        defer { reg.cleanUp() }
        let token = try reg.token("racer", role: "operator")
        try reg.start(seed: try reg.writeSeed(), extra: ["--log-level", "warning"])
        let results = onThreads(8) { worker -> [Attempt] in
            let c = RawClient(base: reg.url, token: token)
            var rng = SystemRandomNumberGenerator()
            var attempts: [Attempt] = []
            for j in 0..<100 {
                let reason = "w\(worker)-\(j)"
                guard let got = try? c.get("/v1/endpoints/alpha"), let e = try? Self.decode(Endpoint.self, got) else {
                    attempts.append(Attempt(status: -1, reason: reason)); continue
                }
                let v1 = Int.random(in: 0...100, using: &rng)
                let body = #"{"weights":{"v1":\#(v1),"v2":\#(100 - v1)},"reason":"\#(reason)"}"#
                guard let r = try? c.post("/v1/endpoints/alpha/shift", json: body, ifMatch: e.revision) else {
                    attempts.append(Attempt(status: -1, reason: reason)); continue
                }
                attempts.append(Attempt(status: r.status, revision: r.status == 200 ? (try? Self.decode(Endpoint.self, r))?.revision : nil, reason: reason))
            }
            return attempts
        }.flatMap { $0 }

        #expect(results.count == 800)
        #expect(results.allSatisfy { $0.status == 200 || $0.status == 412 }, "statuses: \(Set(results.map(\.status)))")
        let accepted = results.filter { $0.status == 200 }
        let revisions = accepted.compactMap(\.revision).sorted()
        #expect(revisions.count == accepted.count)
        #expect(revisions == Array(2...Int64(accepted.count + 1)), "accepted revisions must be distinct and consecutive")
        #expect(results.contains { $0.status == 412 }, "eight racing clients should have conflicted at least once")

        let c = RawClient(base: reg.url, token: token)
        let audit = try Self.allAudit(c)
        let shifts = audit.filter { $0.action == .shift }
        #expect(shifts.count == accepted.count)
        #expect(Set(shifts.map(\.reason)) == Set(accepted.map(\.reason)))
        #expect(Set(shifts.map(\.actor)) == ["racer"])
        #expect(try Self.decode(Endpoint.self, c.get("/v1/endpoints/alpha")).revision == Int64(accepted.count + 1))

        reg.kill(signal: SIGTERM)
        #expect(reg.waitForExit(timeout: 15) == 0)
        let (status, out, err) = try RegistryProcess.run(["audit", "verify", "--data", reg.dataDir])
        #expect(status == 0, "verify: \(out) \(err)")
        #expect(out.contains("audit chain intact: \(accepted.count + 1) entries"))
    }

    @Test func killNineMidStreamLosesNoAcknowledgedChange() throws {
        let reg = RegistryProcess()
        defer { reg.cleanUp() }
        let token = try reg.token("crasher", role: "operator")
        try reg.start(seed: try reg.writeSeed(), extra: ["--log-level", "warning"])

        struct Outcome: Sendable { var acked: [String] = []; var refused: [String] = []; var uncertain: [String] = [] }
        let killer = Thread {
            usleep(1_200_000)
            reg.kill(signal: SIGKILL)
        }
        killer.start()
        let outcomes = onThreads(3) { worker -> Outcome in
            let c = RawClient(base: reg.url, token: token)
            var o = Outcome()
            for j in 0..<100_000 {
                let reason = "c\(worker)-\(j)"
                guard let got = try? c.get("/v1/endpoints/alpha"), let e = try? Self.decode(Endpoint.self, got) else { break }
                let v1 = (j * 7 + worker * 13) % 101
                do {
                    let r = try c.post("/v1/endpoints/alpha/shift", json: #"{"weights":{"v1":\#(v1),"v2":\#(100 - v1)},"reason":"\#(reason)"}"#, ifMatch: e.revision)
                    if r.status == 200 { o.acked.append(reason) } else { o.refused.append(reason) }
                } catch {
                    o.uncertain.append(reason) // sent, but the answer died with the server
                    break
                }
            }
            return o
        }
        let acked = Set(outcomes.flatMap(\.acked)), refused = Set(outcomes.flatMap(\.refused)), uncertain = Set(outcomes.flatMap(\.uncertain))
        #expect(acked.count > 10, "the stream should have made progress before the kill")

        try reg.start(extra: ["--log-level", "warning"])
        let c = RawClient(base: reg.url, token: token)
        let present = Set(try Self.allAudit(c).filter { $0.action == .shift }.map(\.reason))
        #expect(acked.isSubset(of: present), "acknowledged but lost: \(acked.subtracting(present).sorted())")
        #expect(present.subtracting(acked).isSubset(of: uncertain), "present but never acknowledged: \(present.subtracting(acked).subtracting(uncertain))")
        #expect(present.isDisjoint(with: refused))
        let e = try Self.decode(Endpoint.self, c.get("/v1/endpoints/alpha"))
        #expect(e.revision == Int64(present.count + 1))
        let (status, out, err) = try RegistryProcess.run(["audit", "verify", "--data", reg.dataDir])
        #expect(status == 0, "verify: \(out) \(err)")
    }

    @Test func sigtermFinishesInFlightRequestsAndExitsZero() throws {
        let reg = RegistryProcess()
        defer { reg.cleanUp() }
        let token = try reg.token("watcher", role: "viewer")
        try reg.start(seed: try reg.writeSeed())
        let started = Date()
        let watch = ResultBox<HTTPResponse>(count: 1)
        let t = Thread {
            let c = RawClient(base: reg.url, token: token)
            if let r = try? c.session.perform(HTTPRequest(url: reg.url + "/v1/watch?after=1&timeout=30",
                                                            headers: [("Authorization", "Bearer \(token)")], timeout: .seconds(40))) { watch.set(0, r) }
        }
        t.start()
        usleep(400_000)
        reg.kill(signal: SIGTERM)
        #expect(reg.waitForExit(timeout: 15) == 0)
        while watch.peek(0) == nil && Date().timeIntervalSince(started) < 20 { usleep(20_000) }
        #expect(watch.peek(0)?.status == 200, "the in-flight long poll should be answered, not cut")
        #expect(Date().timeIntervalSince(started) < 15)
    }

    @Test func tokensAreShownOnceAndNeverLogged() throws {
        let reg = RegistryProcess()
        defer { reg.cleanUp() }
        let token = try reg.token("otto", role: "operator")
        #expect(token.hasPrefix("twr_") && token.count >= 40)
        let (_, list, _) = try RegistryProcess.run(["token", "list", "--data", reg.dataDir])
        #expect(list.contains("otto") && list.contains("operator") && !list.contains(token))
        let (dup, _, dupErr) = try RegistryProcess.run(["token", "create", "--data", reg.dataDir, "--name", "otto", "--role", "admin"])
        #expect(dup != 0 && dupErr.contains("already exists"))
        let (badRole, _, _) = try RegistryProcess.run(["token", "create", "--data", reg.dataDir, "--name", "x", "--role", "root"])
        #expect(badRole != 0)

        try reg.start(seed: try reg.writeSeed(), extra: ["--log-level", "trace"])
        let c = RawClient(base: reg.url, token: token)
        #expect(try c.get("/v1/endpoints").status == 200)
        #expect(try c.post("/v1/endpoints/alpha/drain", json: #"{"version":"v2","reason":"log check"}"#, ifMatch: 1).status == 200)
        #expect(try RawClient(base: reg.url, token: token + "x").get("/v1/endpoints").status == 401)
        let (revoked, _, _) = try RegistryProcess.run(["token", "revoke", "--data", reg.dataDir, "--name", "otto"])
        #expect(revoked == 0)
        usleep(1_200_000) // the server remembers a token lookup for up to a second
        #expect(try c.get("/v1/endpoints").status == 401)
        let log = reg.log()
        #expect(log.contains("change") && log.contains("otto"))
        #expect(!log.contains(token) && !log.contains(String(token.dropFirst(4).prefix(16))), "a token reached the log")
    }

    @Test func auditVerifyNamesTheFirstEditedEntry() throws {
        let reg = RegistryProcess()
        defer { reg.cleanUp() }
        let token = try reg.token("otto", role: "operator")
        try reg.start(seed: try reg.writeSeed(), extra: ["--log-level", "warning"])
        let c = RawClient(base: reg.url, token: token)
        for rev in Int64(1)...4 {
            #expect(try c.post("/v1/endpoints/alpha/shift", json: #"{"weights":{"v1":\#(90 - rev),"v2":\#(10 + rev)},"reason":"step \#(rev)"}"#, ifMatch: rev).status == 200)
        }
        reg.kill(signal: SIGTERM)
        #expect(reg.waitForExit(timeout: 15) == 0)
        #expect(try RegistryProcess.run(["audit", "verify", "--data", reg.dataDir]).0 == 0)

        let db = try DatabaseQueue(path: reg.dataDir + "/registry.sqlite")
        // The database itself refuses edits to the log...
        #expect(throws: DatabaseError.self) { try db.write { try $0.execute(sql: "UPDATE audit SET reason = 'edited' WHERE seq = 3") } }
        // ...and an attacker who gets past that is caught by the chain.
        try db.write { db in
            try db.execute(sql: "DROP TRIGGER audit_no_update")
            try db.execute(sql: "UPDATE audit SET reason = 'nothing happened' WHERE seq = 3")
        }
        try db.close()
        let (status, _, err) = try RegistryProcess.run(["audit", "verify", "--data", reg.dataDir])
        #expect(status != 0)
        #expect(err.contains("audit chain broken at entry 3"), "stderr: \(err)")
    }

    @Test func helpIsThereForEveryCommand() throws {
        for args in [["--help"], ["serve", "--help"], ["migrate", "--help"], ["token", "--help"], ["token", "create", "--help"],
                     ["token", "list", "--help"], ["token", "revoke", "--help"], ["audit", "verify", "--help"]] {
            let (status, out, _) = try RegistryProcess.run(args)
            #expect(status == 0 && out.contains("USAGE"), "\(args)")
        }
        let dir = NSTemporaryDirectory() + "tower-migrate-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (status, out, _) = try RegistryProcess.run(["migrate", "--data", dir])
        #expect(status == 0 && out.contains("v1"))
    }
}
