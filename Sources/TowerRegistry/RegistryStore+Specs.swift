import Foundation

import TowerDomain

/// What admins and deployers change by spec: an endpoint created or replaced from a spec, or
/// deleted; each one transaction, audited, like a routing change.
extension RegistryStore {
    /// Creates or replaces an endpoint from a spec. A full spec (weights and gates) is an admin's;
    /// a declarative one (neither) is a deployer's or an admin's and touches only spec (DESIGN §13).
    /// A spec that would change nothing makes no revision and no audit entry.
    public func put(_ spec: EndpointSpec, expected: Int64?, principal: Principal, defaultReason: String) async throws -> PutOutcome {
        if spec.override == true && principal.role < .admin {
            throw RoutingError.forbidden("only an admin may override an evaluation gate")
        }
        if !spec.isDeclarative && principal.role < .admin {
            throw RoutingError.forbidden("a spec with weights or gates is an admin's; a \(principal.role.rawValue) applies specs without them (traffic moves by shift and rollouts, gates by evaluations)")
        }
        if !principal.role.mayApplySpecs {
            throw RoutingError.forbidden("applying a spec needs the deployer or admin role; the token '\(principal.name)' has \(principal.role.rawValue)")
        }
        if let r = spec.reason, let p = Reason.problem(r) { throw RoutingError.invalid(p) }
        if spec.override == true && spec.reason == nil {
            throw RoutingError.invalid("a gate override needs a reason; add \"reason\" to the spec")
        }
        let reason = spec.reason ?? defaultReason
        return try await commitMany { [drainTimeout] db, now in
            let existingRow = try StoreRow.fetchOne(db, sql: "SELECT body FROM endpoint WHERE name = ?", arguments: [spec.name])
            let before = try existingRow.map { try Self.decodeEndpoint($0["body"]).resolvingDrains(now: now, timeout: drainTimeout) }
            if let before {
                guard let expected else { throw PreconditionRequired() }
                if before.revision != expected { throw StaleRevision(expected: expected, current: before) }
            } else if let expected {
                throw RoutingError.conflict("endpoint '\(spec.name)' does not exist, so it cannot be at revision \(expected); create it without If-Match")
            }
            // Only a path this endpoint does not hold yet can clash: a re-applied spec (the common
            // case, a thousand at a time from a pipeline) skips the scan of every endpoint's body.
            if before?.path != spec.path,
               let clash = try String.fetchOne(db, sql: "SELECT name FROM endpoint WHERE \(db.dialect.jsonField("body", "path")) = ? AND name != ?", arguments: [spec.path, spec.name]) {
                throw RoutingError.conflict("path \(spec.path) is already served by endpoint '\(clash)'")
            }
            let lastRevision = try Int64.fetchOne(db, sql: "SELECT MAX(revision) FROM revision WHERE endpoint = ?", arguments: [spec.name]) ?? 0
            var after = try spec.endpoint(replacing: before, revision: lastRevision + 1, at: now, by: principal.name)
            if spec.isDeclarative {
                // A version added again keeps the gate its stored evidence gives under this policy.
                for (i, v) in after.versions.enumerated() where before?.version(v.name) == nil {
                    if let e = try Self.gateFromEvidence(db: db, endpoint: after, version: v.name) {
                        after.versions[i].gate = e.gate; after.versions[i].gateSummary = e.summary; after.versions[i].latestEvaluation = e.stamp
                    }
                }
            }
            if let before, before.sameState(as: after) {
                return (PutOutcome(endpoint: before, entry: nil, created: false), [])
            }
            let overrides = after.gateOverrides(comparedTo: before)
            if !overrides.isEmpty && spec.override != true {
                let v = after.version(overrides[0])!
                throw RoutingError.conflict("\(v.name)'s evaluation gate is \(v.gate.rawValue), so it cannot be given weight; an admin may set \"override\": true with a reason")
            }
            // Gates follow from evaluations; a full spec that sets one on an existing endpoint
            // sets it by hand, which only an admin's override with a reason may do.
            let manualGates = before.map { b in
                after.versions.filter { v in b.version(v.name).map { $0.gate != v.gate || $0.gateSummary != v.gateSummary } ?? (v.gate != .pending) }.map(\.name)
            } ?? []
            if !spec.isDeclarative && !manualGates.isEmpty && spec.override != true {
                let v = after.version(manualGates[0])!
                throw RoutingError.conflict("setting \(v.name)'s gate to \(v.gate.rawValue) by hand is an admin override: set \"override\": true with a reason, or submit an evaluation")
            }
            // The SLO and the baseline are recorded only when this spec changes them, so the entry
            // says so and entries of other changes keep their old shape.
            let sloChanged = before?.slo != after.slo, baselineChanged = before?.baseline != after.baseline
            let judgeChanged = before?.judge != after.judge
            let isOverride = !overrides.isEmpty || (!spec.isDeclarative && !manualGates.isEmpty)
            let (seq, prevHash) = try Self.nextLink(db)
            let entry = AuditEntry(seq: seq, time: now, actor: principal.actor, role: principal.role,
                                   action: before == nil ? .create : .update, endpoint: spec.name, version: nil,
                                   fromRevision: before?.revision ?? 0, toRevision: after.revision, reason: reason,
                                   weightsBefore: before?.weights ?? [:], weightsAfter: after.weights,
                                   override: isOverride, summary: ChangeSummary.describe(before: before, after: after),
                                   sloBefore: sloChanged ? before?.slo?.notation : nil, sloAfter: sloChanged ? after.slo?.notation : nil,
                                   baselineBefore: baselineChanged ? before?.baseline : nil,
                                   baselineAfter: baselineChanged ? after.baseline : nil,
                                   judgeBefore: judgeChanged ? before?.judge?.notation : nil,
                                   judgeAfter: judgeChanged ? after.judge?.notation : nil, prevHash: prevHash)
            try Self.write(after, entry: entry, db: db, createdRevision: before == nil ? after.revision : nil)
            if before != nil {
                try Self.pauseRolloutForManualChange(db: db, endpoint: spec.name, by: principal.name,
                                                     what: "spec applied as revision \(after.revision): \(reason)", now: now)
            }
            let r = ChangeResult(endpoint: after, entry: entry)
            return (PutOutcome(endpoint: after, entry: entry, created: before == nil), [r])
        }
    }

    public func delete(_ name: String, expected: Int64, principal: Principal, reason: String) async throws -> ChangeResult {
        if let p = Reason.problem(reason) { throw RoutingError.invalid(p) }
        return try await commit { [drainTimeout] db, now, seq, prevHash in
            guard let body = try String.fetchOne(db, sql: "SELECT body FROM endpoint WHERE name = ?", arguments: [name]) else {
                throw RoutingError.notFound("no endpoint named '\(Names.printable(name))'")
            }
            let before = try Self.decodeEndpoint(body).resolvingDrains(now: now, timeout: drainTimeout)
            if before.revision != expected { throw StaleRevision(expected: expected, current: before) }
            let entry = AuditEntry(seq: seq, time: now, actor: principal.actor, role: principal.role, action: .delete,
                                   endpoint: name, version: nil, fromRevision: before.revision, toRevision: before.revision + 1,
                                   reason: reason, weightsBefore: before.weights, weightsAfter: [:], override: false,
                                   summary: "endpoint deleted", prevHash: prevHash)
            try db.execute(sql: "DELETE FROM endpoint WHERE name = ?", arguments: [name])
            try db.execute(sql: """
                INSERT INTO revision (endpoint, revision, time_ms, actor, action, reason, summary, body)
                VALUES (?, ?, ?, ?, 'delete', ?, 'endpoint deleted', ?)
                """, arguments: [name, before.revision + 1, Timestamp.ms(now), principal.name, reason, try Self.encode(before)])
            try Self.insertAudit(entry, db: db)
            try Self.endRolloutForDelete(db: db, endpoint: name, by: principal.name, reason: reason, now: now)
            return ChangeResult(endpoint: nil, entry: entry)
        }
    }
}
