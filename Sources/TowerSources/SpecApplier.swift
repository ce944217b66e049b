import Foundation
import TowerDomain

/// What happened to one change of an apply plan.
public struct SpecApplyOutcome: Sendable {
    public var change: SpecDiff.Change
    /// The endpoint as the registry answered a create or update.
    public var endpoint: Endpoint?
    /// The audit entry of a prune's delete.
    public var deleted: AuditEntry?
    public var error: RegistryClientError?
}

/// Sends an apply plan (`tower apply`, and the bench that measures it). Each change goes with the
/// revision the plan was made from as `If-Match`, so one made meanwhile is refused (412), never
/// overwritten. Changes touch different endpoints, so a few are in flight at once: the registry
/// serialises their transactions, and the round trips overlap.
public enum SpecApplier {
    public static func run(_ plan: [SpecDiff.Change], client: RegistryClient, revisions: [String: Int64], reason: String,
                           initialWeights: [String: Int] = [:], deleteReason: String, parallel: Int = 4) async -> [SpecApplyOutcome] {
        var outcomes = [SpecApplyOutcome?](repeating: nil, count: plan.count)
        await withTaskGroup(of: (Int, SpecApplyOutcome).self) { group in
            var next = 0
            func start() {
                guard next < plan.count else { return }
                let i = next
                next += 1
                group.addTask { (i, await send(plan[i], client: client, revisions: revisions, reason: reason,
                                               initialWeights: initialWeights, deleteReason: deleteReason)) }
            }
            for _ in 0..<max(1, parallel) { start() }
            while let (i, outcome) = await group.next() {
                outcomes[i] = outcome
                start()
            }
        }
        return outcomes.compactMap { $0 }
    }

    static func send(_ change: SpecDiff.Change, client: RegistryClient, revisions: [String: Int64], reason: String,
                     initialWeights: [String: Int], deleteReason: String) async -> SpecApplyOutcome {
        var out = SpecApplyOutcome(change: change)
        do {
            switch change {
            case .create(var s):
                s.reason = reason
                if !initialWeights.isEmpty { s.initialWeights = initialWeights }
                out.endpoint = try await client.put(s, expected: nil)
            case .update(var s, _):
                s.reason = reason
                out.endpoint = try await client.put(s, expected: revisions[s.name])
            case .delete(let name):
                out.deleted = try await client.delete(name, reason: deleteReason, expected: revisions[name] ?? 1)
            }
        } catch {
            out.error = error
        }
        return out
    }
}
