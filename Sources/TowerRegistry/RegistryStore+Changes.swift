import Foundation
import TowerDomain
import TowerRollouts

/// Routing changes (shift, drain, rollback, …): the revision check, the domain rule, and the
/// endpoint, revision and audit link written in one transaction.
extension RegistryStore {
    /// Applies a routing change to `name` if its revision is still `expected`. A change by a person
    /// pauses the endpoint's rollout, in the same transaction, saying who.
    public func change(_ name: String, expected: Int64, principal: Principal, reason: String, override: Bool,
                       resolve: @escaping @Sendable (Endpoint, any StoreDB) throws -> RoutingChange) async throws -> ChangeResult {
        if let p = Reason.problem(reason) { throw RoutingError.invalid(p) }
        return try await commit(prefetch: { db in db.prefetch(Self.changeReadSQL, [name], about: name) }) { [drainTimeout] db, now, seq, prevHash in
            let (result, rollout) = try Self.applyChangeReadingRollout(db: db, name: name, expected: expected, principal: principal,
                                                                       reason: reason, override: override, now: now, seq: seq,
                                                                       prevHash: prevHash, drainTimeout: drainTimeout,
                                                                       current: self.endpointInMemory(name), resolve: resolve)
            if !Self.isRolloutActor(principal.name), var r = rollout {
                Self.pauseForManualChange(&r, by: principal.name,
                                          what: "\(result.entry.action.rawValue) to revision \(result.entry.toRevision): \(reason)", now: now)
                try db.writing(about: name) { try Self.saveRollout(r, db: db) }
            }
            return result
        }
    }

    /// One routing change inside an open transaction: check the revision (when `expected` is
    /// given), apply the domain rule, write endpoint, revision and the audit chain's next link.
    static func applyChange(db: any StoreDB, name: String, expected: Int64?, principal: Principal, reason: String, override: Bool,
                            now: Date, seq: Int64, prevHash: String, drainTimeout: TimeInterval,
                            resolve: (Endpoint, any StoreDB) throws -> RoutingChange) throws -> ChangeResult {
        try applyChangeReadingRollout(db: db, name: name, expected: expected, principal: principal, reason: reason, override: override,
                                      now: now, seq: seq, prevHash: prevHash, drainTimeout: drainTimeout, resolve: resolve).0
    }

    /// `applyChange`, also giving the endpoint's active rollout as it was before the change, read
    /// in the same statement as the endpoint (each statement is a round trip on PostgreSQL, made
    /// while every replica's writers wait).
    /// `current` is the copy in memory and the audit sequence it is as of: when the endpoint's row
    /// was last written at or before that sequence, the copy is what the row holds, and its JSON
    /// is not decoded again (under every replica's write lock).
    static func applyChangeReadingRollout(db: any StoreDB, name: String, expected: Int64?, principal: Principal, reason: String,
                                          override: Bool, now: Date, seq: Int64, prevHash: String, drainTimeout: TimeInterval,
                                          current: (endpoint: Endpoint?, asOf: Int64)? = nil,
                                          resolve: (Endpoint, any StoreDB) throws -> RoutingChange) throws -> (ChangeResult, Rollout?) {
        guard let row = try StoreRow.fetchOne(db, sql: changeReadSQL, arguments: [name]) else {
            throw RoutingError.notFound("no endpoint named '\(Names.printable(name))'")
        }
        let rollout = try (row["rollout"] as String?).map(Self.decodeRollout)
        let lastWritten: Int64? = row["last_seq"]
        let copy = current.flatMap { c in lastWritten.map { $0 <= c.asOf } == true ? c.endpoint : nil }
        let before = try (copy ?? Self.decodeEndpoint(row["body"])).resolvingDrains(now: now, timeout: drainTimeout)
        if let expected, before.revision != expected { throw StaleRevision(expected: expected, current: before) }
        let change = try resolve(before, db)
        var after = try before.applying(change, now: now, role: principal.role, override: override)
        after.revision = before.revision + 1
        after.updatedAt = now
        after.updatedBy = principal.name
        let entry = AuditEntry(seq: seq, time: now, actor: principal.actor, role: principal.role, action: change.action,
                               endpoint: name, version: change.version, fromRevision: before.revision,
                               toRevision: after.revision, reason: reason, weightsBefore: before.weights,
                               weightsAfter: after.weights, override: !after.gateOverrides(comparedTo: before).isEmpty,
                               summary: ChangeSummary.describe(before: before, after: after), prevHash: prevHash)
        let body = try Self.write(after, entry: entry, db: db, createdRevision: nil)
        return (ChangeResult(endpoint: after, entry: entry, body: body), rollout)
    }

    static let changeReadSQL = """
        SELECT e.body, e.created_revision, e.last_seq, (SELECT r.body FROM rollout r WHERE r.endpoint = e.name AND r.active = 1) AS rollout
        FROM endpoint e WHERE e.name = ?
        """

    /// The routing of an earlier revision, for rollback. Without `to`, the revision before `current`.
    static func rollbackTarget(_ current: Endpoint, to: Int64?, db: any StoreDB) throws -> Endpoint {
        let created = try Int64.fetchOne(db, sql: "SELECT created_revision FROM endpoint WHERE name = ?", arguments: [current.name]) ?? 1
        let target = to ?? current.revision - 1
        if target < created {
            if to == nil { throw RoutingError.conflict("'\(current.name)' has no revision before \(current.revision) to roll back to") }
            throw RoutingError.notFound("'\(current.name)' has no revision \(target); its revisions run from \(created) to \(current.revision)")
        }
        if target >= current.revision {
            throw RoutingError.invalid("revision \(target) is not earlier than the current revision \(current.revision)")
        }
        guard let body = try String.fetchOne(db, sql: "SELECT body FROM revision WHERE endpoint = ? AND revision = ?", arguments: [current.name, target]) else {
            throw RoutingError.notFound("'\(current.name)' has no revision \(target)")
        }
        return try decodeEndpoint(body)
    }
}
