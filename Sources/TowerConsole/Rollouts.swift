import Foundation
import TerminalUI
import TowerDomain
import TowerRollouts

/// What a person can do to a running rollout (`POST …/rollout/{move}`).
public enum RolloutMove: String, Equatable, Sendable, CaseIterable {
    case pause, resume, promote, abort
}

/// The rollouts the console has read: the endpoint on screen in full (on opening it, when its
/// routing changes, and every `interval` while its rollout is active), and every endpoint's in one
/// short list (`GET /v1/rollouts`, every `listInterval`) for the overview's marks.
public struct RolloutsView: Equatable, Sendable {
    /// How often an active rollout on screen is read again: its pause counts down by the console's
    /// clock between reads, so this only bounds how late a step or a check shows.
    public static let interval: TimeInterval = 3
    /// How often the list is read, and how long a read list is believed: past that (the registry
    /// unreachable, or too old to serve the list) the overview falls back to what the endpoints
    /// say (`▶ rollout` when the last revision was a rollout's) rather than show an old state.
    public static let listInterval: TimeInterval = 5
    public static let listFreshFor: TimeInterval = 15

    public var status: [String: RolloutStatus] = [:]
    /// When each `status` was read, by the console's clock.
    public var readAt: [String: Date] = [:]
    /// The list's rollouts by endpoint, when it was read and asked for.
    public var list: [String: RolloutSummary] = [:]
    public var listReadAt: Date?
    public var listRequestedAt: Date?
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

    /// The overview's mark for an endpoint, from the newer of its full read and the list: a
    /// running or paused rollout, or a finished one that made the endpoint's last revision. With
    /// neither read (or the list too old to believe), `▶ rollout` when the last revision's actor was
    /// a rollout, since it may have finished; nil otherwise.
    static func overviewMark(_ e: Endpoint, _ s: ConsoleState, _ g: Glyphs) -> TableCell? {
        let v = s.rollouts
        let listAt = v.listReadAt.flatMap { s.now.timeIntervalSince($0) < RolloutsView.listFreshFor ? $0 : nil }
        if let st = v.status[e.name], (v.readAt[e.name] ?? .distantPast) >= (listAt ?? .distantPast) {
            if let r = st.current { return cell(RolloutSummary(r), s.theme, g) }
            if let r = st.last, e.updatedBy == r.actor { return cell(RolloutSummary(r), s.theme, g) }
            return nil
        }
        if listAt != nil {
            guard let r = v.list[e.name], r.isActive || e.updatedBy == r.actor else { return nil }
            return cell(r, s.theme, g)
        }
        guard Vocabulary.isRollout(e.updatedBy) else { return nil }
        return TableCell("\(mark(.running, ascii: g.ascii)) rollout", s.theme.warn)
    }

    static func cell(_ r: RolloutSummary, _ t: Theme, _ g: Glyphs) -> TableCell {
        let m = mark(r.phase, ascii: g.ascii)
        switch r.phase {
        case .running: return TableCell("\(m) \(min(r.step + 1, r.steps))/\(r.steps) \(r.weight)%", t.warn)
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

/// The list of every endpoint's rollout, asked for every `listInterval` and (`force`) when the
/// endpoints change, but never twice in the same second.
func rolloutListRequests(_ state: inout ConsoleState, force: Bool) -> [Effect] {
    if let at = state.rollouts.listRequestedAt, state.now.timeIntervalSince(at) >= 0,
       state.now.timeIntervalSince(at) < (force ? 1 : RolloutsView.listInterval) { return [] }
    state.rollouts.listRequestedAt = state.now
    return [.loadRolloutList]
}

func rolloutListLoaded(_ state: inout ConsoleState, _ list: RolloutList, at: Date) {
    state.rollouts.list = Dictionary(list.rollouts.map { ($0.endpoint, $0) }, uniquingKeysWith: { a, b in a.id > b.id ? a : b })
    state.rollouts.listReadAt = at
    state.rolloutsChanged()
}

func rolloutLoaded(_ state: inout ConsoleState, _ status: RolloutStatus, at: Date) {
    state.rollouts.status[status.endpoint] = status
    state.rollouts.readAt[status.endpoint] = at
    state.rollouts.skew[status.endpoint] = status.now.timeIntervalSince(at)
    state.rollouts.error[status.endpoint] = nil
    state.rolloutsChanged()
}
