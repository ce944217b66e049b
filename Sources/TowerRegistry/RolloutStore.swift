import Foundation

import Synchronization
import TowerDomain
import TowerRollouts

/// Rollouts in the store. Every change to a rollout is made on the freshly read row inside one
/// write transaction, together with any revision it makes: a step is recorded in the same commit
/// as its revision, so after any crash it is either both or neither, and never applied twice.
extension RegistryStore {
    /// Starts a rollout on `endpoint` (409 when one is running, when the target cannot take
    /// traffic, or when versions other than target and baseline carry weight).
    public func startRollout(endpoint name: String, request: RolloutStartRequest, principal: Principal) async throws -> Rollout {
        if let p = Reason.problem(request.reason) { throw RoutingError.invalid(p) }
        return try await commitMany { [drainTimeout] db, now in
            guard let body = try String.fetchOne(db, sql: "SELECT body FROM endpoint WHERE name = ?", arguments: [name]) else {
                throw RoutingError.notFound("no endpoint named '\(Names.printable(name))'")
            }
            let e = try Self.decodeEndpoint(body).resolvingDrains(now: now, timeout: drainTimeout)
            if let running = try Self.activeRollout(db, endpoint: name) {
                throw RoutingError.conflict("endpoint '\(name)' already has rollout \(running.id) (\(running.runbook.name), \(running.phase.rawValue) at \(running.stepLabel(running.step)), started by \(running.startedBy)); abort it or wait for it to finish")
            }
            if e.state != .serving { throw RoutingError.conflict("endpoint '\(name)' is out of service; undrain it before a rollout") }
            guard let target = e.version(request.target) else { throw e.unknownVersionError(request.target) }
            if target.state != .serving {
                throw RoutingError.conflict("\(target.name) is \(target.state.rawValue); undrain it before rolling it out")
            }
            if target.gate != .passed {
                let summary = target.gateSummary.map { " (\($0))" } ?? ""
                throw RoutingError.conflict("\(target.name)'s evaluation gate is \(target.gate.rawValue)\(summary), so it cannot take more traffic; a rollout needs a passed gate")
            }
            let baselineName = request.baseline ?? e.baseline.flatMap { $0 == target.name ? nil : $0 }
                ?? e.servingVersions.filter { $0.name != target.name }.max { $0.weight < $1.weight }?.name
            guard let baselineName, let baseline = e.version(baselineName) else {
                if let b = request.baseline { throw e.unknownVersionError(b) }
                throw RoutingError.conflict("endpoint '\(name)' has no other serving version to be the baseline")
            }
            if baseline.name == target.name { throw RoutingError.invalid("the target and the baseline are both \(target.name)") }
            if baseline.state != .serving { throw RoutingError.conflict("the baseline \(baseline.name) is \(baseline.state.rawValue)") }
            let others = e.servingVersions.filter { $0.name != target.name && $0.name != baseline.name && $0.weight > 0 }
            if !others.isEmpty {
                throw RoutingError.conflict("a rollout moves traffic between \(target.name) and \(baseline.name) only, but \(others.map { "\($0.name) carries \($0.weight)%" }.joined(separator: ", ")); shift that to them first")
            }
            let id = try db.nextRolloutID()
            let r = Rollout(id: id, endpoint: name, runbook: request.runbook, target: target.name, baseline: baseline.name,
                            startedBy: principal.name, reason: request.reason, now: now, weight: target.weight)
            try db.execute(sql: "INSERT INTO rollout (id, endpoint, active, started_ms, body) VALUES (?, ?, 1, ?, ?)",
                           arguments: [id, name, Timestamp.ms(now), try Self.encodeRollout(r)])
            return (r, [])
        }
    }

    /// The endpoint's current rollout and the last finished one.
    public func rolloutStatus(endpoint name: String) async throws -> RolloutStatus {
        guard endpoint(name) != nil else { throw RoutingError.notFound("no endpoint named '\(Names.printable(name))'") }
        let (current, last) = try await backend.read { db in
            (try Self.activeRollout(db, endpoint: name),
             try String.fetchOne(db, sql: "SELECT body FROM rollout WHERE endpoint = ? AND active = 0 ORDER BY id DESC LIMIT 1",
                                 arguments: [name]).map(Self.decodeRollout))
        }
        return RolloutStatus(endpoint: name, now: Timestamp.now(), current: current, last: last)
    }

    /// Every running or paused rollout, and each other endpoint's last one if it finished within
    /// `RolloutList.recent`, as the overview marks them.
    public func rolloutList() async throws -> RolloutList {
        let now = Timestamp.now()
        let rows = try await backend.read { db in
            try String.fetchAll(db, sql: """
                SELECT body FROM rollout WHERE active = 1
                   OR id IN (SELECT MAX(id) FROM rollout WHERE active = 0 GROUP BY endpoint)
                ORDER BY endpoint, id
                """).map(Self.decodeRollout)
        }
        let active = Set(rows.filter(\.isActive).map(\.endpoint))
        let recent = now.addingTimeInterval(-RolloutList.recent)
        let shown = rows.filter { r in
            r.isActive || (!active.contains(r.endpoint) && (r.finishedAt ?? .distantPast) >= recent)
        }
        return RolloutList(now: now, rollouts: shown.map(RolloutSummary.init))
    }

    /// Every running or paused rollout.
    public func activeRollouts() throws -> [Rollout] {
        try backend.read { db in
            try String.fetchAll(db, sql: "SELECT body FROM rollout WHERE active = 1 ORDER BY id").map(Self.decodeRollout)
        }
    }

    /// What a rollout's transaction may do to routing: a change made as the rollout's actor, in
    /// the same transaction, returning the audit entry it wrote.
    public typealias RolloutApply = (RoutingChange, String) throws -> AuditEntry

    /// Runs `body` on the rollout `id` as it is in the database, inside one write transaction, and
    /// stores what it leaves. Routing changes go through `apply`, as the rollout's actor.
    @discardableResult
    public func mutateRollout(id: Int64, _ body: @escaping @Sendable (inout Rollout, Endpoint, Date, RolloutApply) throws -> Void) async throws -> Rollout {
        try await commitMany { [drainTimeout] db, now in
            try Self.mutate(db: db, id: id, now: now, drainTimeout: drainTimeout, body)
        }
    }

    /// `mutateRollout` for many rollouts in one transaction (one fsync for a whole pass of the
    /// loop), each in a savepoint of its own: one that throws is rolled back alone and reported.
    public func mutateRollouts(ids: [Int64], _ body: @escaping @Sendable (inout Rollout, Endpoint, Date, RolloutApply) throws -> Void) async throws
        -> (rollouts: [Rollout], failures: [Int64: String]) {
        if ids.isEmpty { return ([], [:]) }
        return try await commitMany { [drainTimeout] db, now in
            var done: [Rollout] = [], failures: [Int64: String] = [:], results: [ChangeResult] = []
            for id in ids {
                var out: (Rollout, [ChangeResult])? = nil
                do {
                    try db.inSavepoint {
                        out = try Self.mutate(db: db, id: id, now: now, drainTimeout: drainTimeout, body)
                    }
                    if let (r, changes) = out { done.append(r); results.append(contentsOf: changes) }
                } catch {
                    failures[id] = "\(error)"
                }
            }
            return ((done, failures), results)
        }
    }

    /// One rollout's change inside an open transaction: read it and its endpoint, run `body`,
    /// store the rollout; the revisions `body` made through `apply` are returned for the cache.
    static func mutate(db: any StoreDB, id: Int64, now: Date, drainTimeout: TimeInterval,
                       _ body: (inout Rollout, Endpoint, Date, RolloutApply) throws -> Void) throws -> (Rollout, [ChangeResult]) {
        guard let text = try String.fetchOne(db, sql: "SELECT body FROM rollout WHERE id = ?", arguments: [id]) else {
            throw RoutingError.notFound("no rollout \(id)")
        }
        var r = try decodeRollout(text)
        guard let row = try String.fetchOne(db, sql: "SELECT body FROM endpoint WHERE name = ?", arguments: [r.endpoint]) else {
            throw RoutingError.notFound("no endpoint named '\(r.endpoint)'")
        }
        let e = try decodeEndpoint(row).resolvingDrains(now: now, timeout: drainTimeout)
        var results: [ChangeResult] = []
        let actor = Principal(name: r.actor, role: .operator), endpointName = r.endpoint
        let apply: RolloutApply = { change, reason in
            let (seq, prevHash) = try nextLink(db)
            let result = try applyChange(db: db, name: endpointName, expected: nil, principal: actor,
                                         reason: String(reason.prefix(Reason.maxLength)), override: false, now: now,
                                         seq: seq, prevHash: prevHash, drainTimeout: drainTimeout) { _, _ in change }
            results.append(result)
            return result.entry
        }
        try body(&r, e, now, apply)
        try saveRollout(r, db: db)
        return (r, results)
    }

    /// The endpoint's running or paused rollout, for the routes' person actions.
    public func activeRolloutID(endpoint name: String) throws -> Int64? {
        try backend.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM rollout WHERE endpoint = ? AND active = 1", arguments: [name]) }
    }

    // MARK: Rows

    static func activeRollout(_ db: any StoreDB, endpoint: String) throws -> Rollout? {
        try String.fetchOne(db, sql: "SELECT body FROM rollout WHERE endpoint = ? AND active = 1", arguments: [endpoint]).map(decodeRollout)
    }

    static func saveRollout(_ r: Rollout, db: any StoreDB) throws {
        try db.execute(sql: "UPDATE rollout SET active = ?, body = ? WHERE id = ?",
                       arguments: [r.isActive ? 1 : 0, try encodeRollout(r), r.id])
    }

    static func isRolloutActor(_ name: String) -> Bool { Vocabulary.isRollout(name) }

    /// A person changed routing by hand: the rollout stops and says who, so it never fights them.
    static func pauseRolloutForManualChange(db: any StoreDB, endpoint: String, by who: String, what: String, now: Date) throws {
        guard var r = try activeRollout(db, endpoint: endpoint) else { return }
        pauseForManualChange(&r, by: who, what: what, now: now)
        try saveRollout(r, db: db)
    }

    static func pauseForManualChange(_ r: inout Rollout, by who: String, what: String, now: Date) {
        r.enterPause(RolloutPause(kind: .manualChange, by: who, reason: "\(who) made a manual change: \(what)", at: now))
    }

    static func endRolloutForDelete(db: any StoreDB, endpoint: String, by who: String, reason: String, now: Date) throws {
        guard var r = try activeRollout(db, endpoint: endpoint) else { return }
        r.markAborted(by: who, reason: "the endpoint was deleted by \(who): \(reason)", revision: nil, now: now)
        try saveRollout(r, db: db)
    }

    static func encodeRollout(_ r: Rollout) throws -> String {
        String(decoding: try Wire.encoder().encode(r), as: UTF8.self)
    }

    static func decodeRollout(_ body: String) throws -> Rollout {
        if let r = decoded.lookup(body) { return r }
        let r = try Wire.decoder().decode(Rollout.self, from: Data(body.utf8))
        decoded.remember(body, r)
        return r
    }

    /// Rows already decoded, by their exact text. The loop re-reads every active rollout after each
    /// commit and each pass reads its rows again inside the transaction; decoding the same JSON again
    /// and again was half the registry's CPU with 100 rollouts (perf; docs/performance.md). Decoding
    /// is a pure function of the text, so a hit is the value a decode would give. (Encoding does not
    /// fill it: a value in memory can hold times finer than the text keeps.)
    static let decoded = DecodedRollouts()
}

final class DecodedRollouts: Sendable {
    private let memo = Mutex<[String: Rollout]>([:])
    /// Two rows per active rollout (before and after a pass) fit with room; past that, start over.
    static let capacity = 1024

    func lookup(_ body: String) -> Rollout? { memo.withLock { $0[body] } }

    func remember(_ body: String, _ r: Rollout) {
        memo.withLock { m in
            if m.count >= Self.capacity { m.removeAll(keepingCapacity: true) }
            m[body] = r
        }
    }
}

extension Endpoint {
    func unknownVersionError(_ v: String) -> RoutingError {
        .invalid("endpoint '\(name)' has no version '\(Names.printable(v))'; it has \(versions.map(\.name).joined(separator: ", "))")
    }
}
