import Foundation
import TerminalUI
import TowerDomain
import TowerRollouts

/// What a person can do to a running rollout (`POST …/rollout/{move}`).
public enum RolloutMove: String, Equatable, Sendable, CaseIterable {
    case pause, resume, promote, abort
}

/// The rollouts the console has read. Only the endpoint on screen is read (on opening it, when its
/// routing changes, and every `interval` while its rollout is active), so the overview knows the
/// exact state of that one and, for the others, only that their last revision was a rollout's.
public struct RolloutsView: Equatable, Sendable {
    /// How often an active rollout on screen is read again: its pause counts down by the console's
    /// clock between reads, so this only bounds how late a step or a check shows.
    public static let interval: TimeInterval = 3

    public var status: [String: RolloutStatus] = [:]
    /// The registry's clock minus the console's at the last read, so a pause counts down by the
    /// registry's clock without asking it every second.
    public var skew: [String: TimeInterval] = [:]
    public var error: [String: String] = [:]
    public var requestedAt: [String: Date] = [:]
    /// The runbook files offered by `R`, their folder, and why the folder could not be read.
    public var runbookFolder = ""
    public var runbooks: [String] = []
    public var runbooksError: String?

    public init() {}

    /// The current rollout of `endpoint` if one was read, else the last finished one.
    public func shown(_ endpoint: String) -> Rollout? {
        guard let s = status[endpoint] else { return nil }
        return s.current ?? s.last
    }

    /// The registry's time now, by the console's clock and the skew of the last read.
    public func registryNow(_ endpoint: String, consoleNow: Date) -> Date {
        consoleNow.addingTimeInterval(skew[endpoint] ?? 0)
    }
}

enum RolloutText {
    static func mark(_ p: RolloutPhase, ascii: Bool) -> String {
        switch p {
        case .running: ascii ? ">" : "▶"
        case .paused: ascii ? "||" : "⏸"
        case .completed: ascii ? "+" : "✓"
        case .aborted: ascii ? "x" : "✗"
        }
    }

    /// Why a rollout is paused, in a few words.
    static func pauseWords(_ p: RolloutPause?) -> String {
        guard let p else { return "paused" }
        switch p.kind {
        case .step: return "awaiting promote"
        case .person: return "by \(Vocabulary.actor(p.by))"
        case .inconclusive: return "inconclusive"
        case .manualChange: return "manual change by \(Vocabulary.actor(p.by))"
        case .blocked: return "blocked"
        }
    }

    /// The overview's mark for an endpoint: the exact state when its rollout was read and is
    /// current or made the endpoint's last revision; otherwise `▶ rollout` when the last revision's
    /// actor was a rollout (it may since have finished: the overview does not read every endpoint's
    /// rollout); nil otherwise.
    static func overviewMark(_ e: Endpoint, _ s: ConsoleState, _ g: Glyphs) -> TableCell? {
        if let st = s.rollouts.status[e.name] {
            if let r = st.current { return cell(r, s.theme, g) }
            if let r = st.last, e.updatedBy == r.actor { return cell(r, s.theme, g) }
        }
        guard Vocabulary.isRollout(e.updatedBy) else { return nil }
        return TableCell("\(mark(.running, ascii: g.ascii)) rollout", s.theme.warn)
    }

    static func cell(_ r: Rollout, _ t: Theme, _ g: Glyphs) -> TableCell {
        let m = mark(r.phase, ascii: g.ascii)
        switch r.phase {
        case .running: return TableCell("\(m) \(min(r.step + 1, r.runbook.steps.count))/\(r.runbook.steps.count) \(r.weight)%", t.warn)
        case .paused: return TableCell("\(m) paused: \(pauseWords(r.pause))", t.warn)
        case .completed: return TableCell("\(m) done", t.ok)
        case .aborted: return TableCell("\(m) aborted", t.bad)
        }
    }

    /// "2m05s", "45s".
    static func duration(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds.rounded(.up)))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }

    static func number(_ x: Double) -> String {
        if x == x.rounded() && abs(x) < 1e12 { return String(Int(x)) }
        return String(format: abs(x) < 1 ? "%.4g" : "%.1f", x)
    }
}

/// Rollout reads `update` asks for: for the endpoint on screen when it opens or its routing
/// changes (`force`), and on a tick while its rollout is active and the last read is `interval` old.
func rolloutRequests(_ state: inout ConsoleState, force: Bool) -> [Effect] {
    guard case .endpoint(let name) = state.screen else { return [] }
    if !force {
        guard state.rollouts.status[name]?.current != nil else { return [] }
        if let at = state.rollouts.requestedAt[name], state.now.timeIntervalSince(at) >= 0,
           state.now.timeIntervalSince(at) < RolloutsView.interval { return [] }
    }
    state.rollouts.requestedAt[name] = state.now
    return [.loadRollout(name)]
}

func rolloutLoaded(_ state: inout ConsoleState, _ status: RolloutStatus, at: Date) {
    state.rollouts.status[status.endpoint] = status
    state.rollouts.skew[status.endpoint] = status.now.timeIntervalSince(at)
    state.rollouts.error[status.endpoint] = nil
    state.rolloutsChanged()
}
