import Foundation

/// `GET /v1/endpoints/{name}/rollout`: the rollout running (or paused) now and the last one that
/// finished, with the registry's clock so a client can count down a pause without trusting its own.
public struct RolloutStatus: Codable, Sendable, Equatable {
    public var endpoint: String
    public var now: Date
    public var current: Rollout?
    public var last: Rollout?
    /// When the current step's timed pause ends (already moved on by any time paused by a person).
    public var pauseEndsAt: Date?
    public var nextAnalysisAt: Date?

    public init(endpoint: String, now: Date, current: Rollout?, last: Rollout?) {
        self.endpoint = endpoint; self.now = now; self.current = current; self.last = last
        pauseEndsAt = current?.phase == .running ? current?.pauseEndsAt : nil
        nextAnalysisAt = current?.nextAnalysisAt
    }
}

/// `POST /v1/endpoints/{name}/rollouts`.
public struct RolloutStartRequest: Codable, Sendable {
    public var runbook: Runbook
    public var target: String
    public var baseline: String?
    public var reason: String

    public init(runbook: Runbook, target: String, baseline: String?, reason: String) {
        self.runbook = runbook; self.target = target; self.baseline = baseline; self.reason = reason
    }
}

/// `POST /v1/endpoints/{name}/rollout/{pause|resume|promote|abort}`.
public struct RolloutActionRequest: Codable, Sendable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}
