import Foundation
import TerminalUI
import TowerDomain
import TowerRollouts

/// The Endpoint screen's rollout panel, drawn from `y` down to `maxY` in the order a short screen
/// keeps: the state, the step and the time left in a pause first, then why it is paused or how it
/// ended, the counts against the limits and the checks (failing first), the steps, and the people.
/// Returns the line after it (`y` when there is nothing to show).
func rolloutPanel(_ f: inout Frame, _ s: ConsoleState, _ name: String, y: Int, maxY: Int, _ g: Glyphs) -> Int {
    guard let status = s.rollouts.status[name], let r = status.current ?? status.last else {
        if let why = s.rollouts.error[name], y < maxY {
            f.put("rollout: cannot read (\(why))", x: 0, y: y, style: s.theme.dim, maxWidth: s.width)
            return y + 2
        }
        return y
    }
    var lines: [(segments: [(String, Style)], Style)] = []
    func line(_ text: String, _ style: Style = .plain) { lines.append(([(text, style)], style)) }
    let now = s.rollouts.registryNow(name, consoleNow: s.now)
    let t = s.theme
    let steps = r.runbook.steps.count

    // 1. What it is doing: state, step, time left.
    let stateStyle: Style = switch r.phase { case .running, .paused: t.warn; case .completed: t.ok; case .aborted: t.bad }
    var head: [(String, Style)] = [(status.current == nil ? "LAST ROLLOUT " : "ROLLOUT ", t.title)]
    head.append(("\(RolloutText.mark(r.phase, ascii: g.ascii)) \(r.phase.rawValue.uppercased())", stateStyle))
    if r.isActive {
        head.append(("  step \(min(r.step + 1, steps))/\(steps) \(r.step < steps ? r.runbook.steps[r.step].label : "")", .plain))
        if r.phase == .running, let ends = status.pauseEndsAt ?? r.pauseEndsAt {
            head.append(("  \(RolloutText.duration(ends.timeIntervalSince(now))) left", t.warn))
        }
    }
    head.append(("  \(r.target) \(r.weight)% vs \(r.baseline)  runbook \(r.runbook.name)  #\(r.id)", .plain))
    lines.append((head, .plain))
    if let why = s.rollouts.error[name] {
        line("  (as read \(ageText(s.now.timeIntervalSince(s.rollouts.requestedAt[name] ?? s.now))) ago; the last read failed: \(why))", t.bad)
    }

    // 2. Why it waits, or how it ended.
    if r.phase == .paused, let p = r.pause {
        line("  paused: \(RolloutText.pauseWords(p)) \(ageText(now.timeIntervalSince(p.at))) ago\(g.dash) \(p.reason)", t.warn)
    } else if r.phase == .aborted {
        line("  aborted: \(r.outcome ?? "no reason recorded")", t.bad)
    } else if r.phase == .completed, let at = r.finishedAt {
        line("  completed \(ageText(now.timeIntervalSince(at))) ago", t.ok)
    }

    // 3. Analysis: counts against limits, then the last round's checks, failing first.
    if let a = r.runbook.analysis {
        var counts = "  checks every \(RunbookDuration.format(a.interval)): failed \(r.failed)/\(a.failureLimit)  inconclusive \(r.inconclusive)/\(a.inconclusiveLimit)"
        if r.isActive, let next = status.nextAnalysisAt { counts += "  next in \(RolloutText.duration(next.timeIntervalSince(now)))" }
        let over = r.failed > a.failureLimit || r.inconclusive > a.inconclusiveLimit
        line(counts, over ? t.bad : r.failed > 0 || r.inconclusive > 0 ? t.warn : .plain)
        if let round = r.rounds.last {
            func rank(_ v: CheckVerdict) -> Int { switch v { case .fail: 0; case .inconclusive: 1; case .pass: 2 } }
            for c in round.checks.sorted(by: { rank($0.verdict) < rank($1.verdict) }) {
                let (mark, style): (String, Style) = switch c.verdict {
                case .fail: (g.bad, t.bad)
                case .inconclusive: ("?", t.warn)
                case .pass: (g.ok, t.ok)
                }
                let value = c.value.map(RolloutText.number) ?? (g.ascii ? "-" : "—")
                var text = "    \(mark) \(c.check) \(value) against \(c.threshold): \(c.verdict.rawValue)"
                if let d = c.detail { text += " (\(d))" }
                text += "  \(ageText(now.timeIntervalSince(round.time))) ago"
                line(text, style)
            }
        } else {
            line("    no round of checks yet", t.dim)
        }
    }

    // 4. The steps, the current one marked.
    var stepSegments: [(String, Style)] = [("  steps ", .plain)]
    for (i, step) in r.runbook.steps.enumerated() {
        let label: String = switch step {
        case .setWeight(let w): "\(w)%"
        case .pause(let sec?): "\(g.ascii ? "wait" : "⏸")\(RunbookDuration.format(sec))"
        case .pause(nil): "\(g.ascii ? "wait" : "⏸")promote"
        }
        if i > 0 { stepSegments.append((" \(g.arrow) ", t.dim)) }
        if i == r.step && r.isActive { stepSegments.append(("[\(label)]", t.selected)) }
        else { stepSegments.append((label, i < r.step ? .plain : t.dim)) }
    }
    lines.append((stepSegments, .plain))

    // 5. Who acted, newest last.
    for e in r.events.suffix(6) where e.action != .step {
        line("  \(ageText(now.timeIntervalSince(e.time))) ago  \(e.action.rawValue) by \(Vocabulary.actor(e.actor))\(g.dash) \(e.reason)", t.dim)
    }

    // A finished rollout is history: how it ended is enough here (`tower rollout status` has the rest).
    if status.current == nil { lines = Array(lines.prefix(2)) }
    var y = y
    for l in lines where y < maxY {
        var x = 0
        for (text, style) in l.segments where x < s.width { x = f.put(text, x: x, y: y, style: style, maxWidth: s.width - x) }
        y += 1
    }
    return y + 1
}
