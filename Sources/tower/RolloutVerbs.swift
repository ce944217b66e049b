import ArgumentParser
import Foundation
import TowerDomain
import TowerRollouts
import TowerSources

/// `tower rollout …`: start a runbook on the registry, follow it, and pause, resume, promote or
/// abort it. The registry runs it; these only ask and show.
struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Run a runbook on the registry (stepwise weights with metric checks) and follow or steer it.",
        discussion: "`status --watch` exits 0 when the rollout completes, 8 when it aborts, 9 when it pauses waiting for a person.",
        subcommands: [Start.self, Show.self, Act<PauseVerb>.self, Act<ResumeVerb>.self, Act<PromoteVerb>.self, Act<AbortVerb>.self]
    )

    static let aborted: Int32 = 8, waiting: Int32 = 9

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a runbook: tower rollout start ENDPOINT --runbook FILE --target V --reason '...'.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The endpoint.") var endpoint: String
        @Option(help: "The runbook file (YAML; see docs/runbooks/).") var runbook: String
        @Option(help: "The version to roll out.") var target: String
        @Option(help: "The version it is judged against and whose traffic it takes (default: the spec's baseline, else the one with the most weight).")
        var baseline: String?
        @Option(help: "Why: recorded with the rollout and in every step's audit entry. Required.") var reason: String
        @Flag(help: "Refuse every change (as a read-only context does).") var readOnly = false

        func run() async throws {
            try await perform(connection.output) {
                let (client, ctx) = try connection.client()
                if readOnly || ctx?.readOnly == true {
                    throw VerbError(message: "read-only\(ctx.map { " context '\($0.name)'" } ?? ""): no rollout is started", code: Exit.forbidden)
                }
                let book = try RolloutCommand.readRunbook(runbook)
                let status: RolloutStatus = try await client.startRollout(endpoint, body: RolloutStartRequest(runbook: book, target: target, baseline: baseline, reason: reason))
                if connection.output == .json { try printJSON(status); return }
                print(RolloutText.status(status))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "The endpoint's rollout: steps, checks against thresholds, who acted.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The endpoint.") var endpoint: String
        @Flag(help: "Follow it until it completes (exit 0), aborts (8) or pauses for a person (9).") var watch = false
        @Option(help: "Seconds between reads while watching.") var interval: Double = 1

        func run() async throws {
            try await perform(connection.output) {
                let (client, _) = try connection.client()
                var status: RolloutStatus = try await client.rollout(endpoint)
                guard watch else {
                    if connection.output == .json { try printJSON(status) } else { print(RolloutText.status(status)) }
                    return
                }
                guard status.current != nil || status.last != nil else {
                    throw VerbError(message: "\(endpoint) has no rollout to watch", code: Exit.notFound)
                }
                var lastLine = ""
                while true {
                    if connection.output == .text {
                        let line = RolloutText.line(status)
                        if line != lastLine { print(line); lastLine = line }
                    }
                    if let code = RolloutCommand.exitCode(status) {
                        if connection.output == .json { try printJSON(status) } else { print(RolloutText.status(status)) }
                        if code != 0 { Foundation.exit(code) }
                        return
                    }
                    try await Task.sleep(for: .milliseconds(Int(max(0.2, interval) * 1000)))
                    status = try await client.rollout(endpoint)
                }
            }
        }
    }

    /// Where watching stops: completed 0, aborted 8, paused for a person 9; nil while it runs.
    static func exitCode(_ s: RolloutStatus) -> Int32? {
        if let c = s.current { return c.phase == .paused ? waiting : nil }
        switch s.last?.phase {
        case .completed: return 0
        case .aborted: return aborted
        default: return Exit.notFound
        }
    }

    static func readRunbook(_ path: String) throws -> Runbook {
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        if let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int, size > Runbook.maxBytes {
            throw VerbError(message: "\(path): the runbook is \(size) bytes; the limit is \(Runbook.maxBytes) (1 MiB)", code: Exit.invalid)
        }
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw VerbError(message: "cannot read the runbook \(path)", code: Exit.invalid)
        }
        do { return try Runbook.parse(yaml: text, file: path) } catch {
            throw VerbError(message: error.description, code: Exit.invalid)
        }
    }
}

protocol RolloutVerb { static var action: String { get }; static var abstract: String { get } }
enum PauseVerb: RolloutVerb { static let action = "pause", abstract = "Pause the rollout where it is." }
enum ResumeVerb: RolloutVerb { static let action = "resume", abstract = "Go on from the step it was on, with the weights as they are." }
enum PromoteVerb: RolloutVerb { static let action = "promote", abstract = "Skip the current pause (timed or open) and go on." }
enum AbortVerb: RolloutVerb { static let action = "abort", abstract = "Send the target's traffic back to the baseline and end the rollout." }

struct Act<V: RolloutVerb>: AsyncParsableCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: V.action, abstract: V.abstract) }
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The endpoint.") var endpoint: String
    @Option(help: "Why: recorded with the rollout. Required.") var reason: String
    @Flag(help: "Refuse every change (as a read-only context does).") var readOnly = false

    func run() async throws {
        try await perform(connection.output) {
            let (client, ctx) = try connection.client()
            if readOnly || ctx?.readOnly == true {
                throw VerbError(message: "read-only\(ctx.map { " context '\($0.name)'" } ?? ""): nothing is changed", code: Exit.forbidden)
            }
            let status: RolloutStatus = try await client.rolloutAction(endpoint, action: V.action, reason: reason)
            if connection.output == .json { try printJSON(status); return }
            print(RolloutText.status(status))
        }
    }
}

/// The words of `tower rollout`: what operators asked upstream tools for (time left in a pause,
/// the value next to its threshold, why it aborted, who acted).
enum RolloutText {
    static func time(_ d: Date) -> String { String(Timestamp.rfc3339(ms: Timestamp.ms(d)).dropFirst(11).prefix(8)) }

    static func seconds(_ s: Double) -> String {
        let n = Int(s.rounded(.up))
        return n >= 60 ? "\(n / 60)m\(String(format: "%02d", n % 60))s" : "\(n)s"
    }

    /// One line for `--watch`: "alpha rollout 3 ▶ running step 2/5 pause 10s, 6s left, v2 at 10%".
    static func line(_ s: RolloutStatus) -> String {
        guard let r = s.current ?? s.last else { return "\(s.endpoint): no rollout" }
        var parts = ["\(s.endpoint) rollout \(r.id) \(mark(r.phase)) \(r.phase.rawValue)"]
        if r.isActive { parts.append(r.stepLabel(r.step)) }
        if let end = s.pauseEndsAt { parts.append("\(seconds(max(0, end.timeIntervalSince(s.now)))) left") }
        parts.append("\(r.target) at \(r.weight)%")
        if let p = r.pause, r.phase == .paused { parts.append("paused by \(Vocabulary.actor(p.by)): \(p.reason)") }
        if !r.isActive, let o = r.outcome { parts.append(o) }
        return parts.joined(separator: ", ")
    }

    static func mark(_ p: RolloutPhase) -> String {
        switch p { case .running: "▶"; case .paused: "⏸"; case .completed: "✓"; case .aborted: "✗" }
    }

    static func status(_ s: RolloutStatus) -> String {
        var out: [String] = []
        if let c = s.current { out.append(contentsOf: rollout(c, s)) } else { out.append("\(s.endpoint): no rollout running") }
        if let l = s.last {
            out.append("")
            out.append("last finished:")
            out.append(contentsOf: rollout(l, s).map { "  " + $0 })
        }
        return out.joined(separator: "\n")
    }

    static func rollout(_ r: Rollout, _ s: RolloutStatus) -> [String] {
        var out = ["\(r.endpoint) rollout \(r.id): runbook \(r.runbook.name), \(r.target) against \(r.baseline), started by \(Vocabulary.actor(r.startedBy)) at \(time(r.startedAt)): \(r.reason)"]
        out.append("  \(line(RolloutStatus(endpoint: r.endpoint, now: s.now, current: r.isActive ? r : nil, last: r.isActive ? nil : r)).split(separator: ",", maxSplits: 0).joined())")
        for (i, step) in r.runbook.steps.enumerated() {
            let rec = r.steps.last { $0.index == i }
            let m = i < r.step ? "✓" : (i == r.step && r.isActive ? "▶" : " ")
            var l = "  \(m) \(i + 1). \(step.label)"
            if let rec { l += "  \(time(rec.startedAt))" + (rec.finishedAt.map { "–\(time($0))" } ?? "") + (rec.revision.map { " revision \($0)" } ?? "") }
            out.append(l)
        }
        if let a = r.runbook.analysis {
            out.append("  checks every \(RunbookDuration.format(a.interval)): failed \(r.failed) (aborts above \(a.failureLimit)), inconclusive \(r.inconclusive) (pauses above \(a.inconclusiveLimit))")
            if let round = r.rounds.last {
                out.append("  last round \(time(round.time)) \(round.verdict.rawValue):")
                for c in round.checks {
                    out.append("    \(c.verdict.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) \(c.check) \(c.value.map { format($0) } ?? "—") (\(c.threshold))" + (c.detail.map { ", \($0)" } ?? ""))
                }
            }
        }
        for e in r.events.suffix(8) where e.action != .step {
            out.append("  \(time(e.time)) \(e.action.rawValue) by \(Vocabulary.actor(e.actor)): \(e.reason)" + (e.revision.map { " (revision \($0))" } ?? ""))
        }
        return out
    }

    static func format(_ x: Double) -> String {
        if x == x.rounded() && abs(x) < 1e12 { return String(Int(x)) }
        return String(format: abs(x) < 1 ? "%.4g" : "%.1f", x)
    }
}
