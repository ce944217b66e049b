import Foundation

/// One rollout as the overview marks it (`GET /v1/rollouts`): where it is and why it waits, without
/// its runbook, rounds and events, so that one small read covers every endpoint of the fleet.
public struct RolloutSummary: Codable, Sendable, Equatable {
    public var id: Int64
    public var endpoint: String
    public var runbook: String
    public var target: String
    public var baseline: String
    public var phase: RolloutPhase
    /// The step being worked on (0-based) and how many the runbook has.
    public var step: Int
    public var steps: Int
    /// The target's weight as the rollout last set it.
    public var weight: Int
    public var pause: RolloutPause?
    public var startedBy: String
    public var finishedAt: Date?

    public init(_ r: Rollout) {
        id = r.id; endpoint = r.endpoint; runbook = r.runbook.name; target = r.target; baseline = r.baseline
        phase = r.phase; step = r.step; steps = r.runbook.steps.count; weight = r.weight; pause = r.pause
        startedBy = r.startedBy; finishedAt = r.finishedAt
    }

    public var actor: String { "rollout:\(id)" }
    public var isActive: Bool { phase == .running || phase == .paused }
}

/// `GET /v1/rollouts`: every running or paused rollout, and each endpoint's last finished one if it
/// finished within `recent` and the endpoint has none running.
public struct RolloutList: Codable, Sendable, Equatable {
    public var now: Date
    public var rollouts: [RolloutSummary]
    /// How long a finished rollout stays in the list.
    public static let recent: TimeInterval = 3600

    public init(now: Date, rollouts: [RolloutSummary]) { self.now = now; self.rollouts = rollouts }
}
