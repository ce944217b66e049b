import Foundation
import Logging
import Synchronization
import TowerDomain
import TowerRollouts

/// The registry's rollout loop (DESIGN §11): asks each rollout's state machine what to do and does
/// it, one transaction per action, on the row as stored. Checks read the metrics once per round for
/// every rollout due, so queries per interval do not grow with the number of rollouts.
public final class RolloutController: Sendable {
    let store: RegistryStore
    let metrics: (any RolloutMetricsReader)?
    let logger: Logger
    let clock: @Sendable () -> Date
    /// How often the loop looks at deadlines: a due step is applied within this.
    let tickInterval: Duration
    private let cache = Mutex<(generation: Int64, rollouts: [Rollout])>((-1, []))
    /// Reads of the metrics source made, for tests and the benchmark.
    public let reads = Atomic<Int>(0)

    public init(store: RegistryStore, metrics: (any RolloutMetricsReader)?, logger: Logger = Logger(label: "tower.rollouts"),
                tickInterval: Duration = .milliseconds(250), clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store; self.metrics = metrics; self.logger = logger; self.tickInterval = tickInterval; self.clock = clock
    }

    /// Runs until the task is cancelled: a pass, then sleep until the earliest deadline a rollout
    /// named (a pause's end, a round due), or at most `tickInterval` (so what people do is seen).
    public func run() async {
        while !Task.isCancelled {
            let next = await tick()
            let wait = min(max(0, next.timeIntervalSince(clock())), Double(tickInterval.components.seconds) + Double(tickInterval.components.attoseconds) / 1e18)
            try? await Task.sleep(for: .milliseconds(Int((wait * 1000).rounded(.up))))
        }
    }

    func active() -> [Rollout] {
        let gen = store.rolloutGeneration.load(ordering: .relaxed)
        if let hit = cache.withLock({ $0.generation == gen ? $0.rollouts : nil }) { return hit }
        do {
            let rs = try store.activeRollouts()
            cache.withLock { $0 = (gen, rs) }
            return rs
        } catch {
            logger.error("cannot read rollouts", metadata: ["error": .string("\(error)")])
            return []
        }
    }

    /// One pass: a round of checks if any is due, then each rollout's next action. Returns the
    /// earliest moment something will be due.
    @discardableResult
    public func tick() async -> Date {
        let now = clock()
        let rollouts = active()
        if rollouts.isEmpty { return .distantFuture }
        await analyse(rollouts, now: now)
        let ready = active().filter { r in if case .wait = r.decide(now: now) { false } else { true } }.map(\.id)
        if !ready.isEmpty { await act(ready) }
        var next = Date.distantFuture
        for r in active() {
            if case .wait(let until?) = r.decide(now: clock()) { next = min(next, until) }
            if let a = r.nextAnalysisAt { next = min(next, a) }
        }
        return next
    }

    /// Reads once and judges every rollout whose round is due within half the shortest interval,
    /// so rollouts started at different moments share reads.
    func analyse(_ rollouts: [Rollout], now: Date) async {
        let intervals = rollouts.compactMap { $0.nextAnalysisAt != nil ? $0.runbook.analysis?.interval : nil }
        guard let shortest = intervals.min(), rollouts.contains(where: { ($0.nextAnalysisAt ?? .distantFuture) <= now }) else { return }
        let horizon = now.addingTimeInterval(shortest / 2)
        var figures: [String: Figures] = [:]
        var unavailable: String? = nil
        if let metrics {
            reads.add(1, ordering: .relaxed)
            do { figures = try await metrics.read() } catch {
                unavailable = "\(metrics.name) failed: \(error)"
            }
        } else {
            unavailable = "the registry has no metrics source (serve --prometheus URL)"
        }
        var rounds: [Int64: AnalysisRound] = [:]
        for r in rollouts {
            guard let due = r.nextAnalysisAt, due <= horizon, let a = r.runbook.analysis else { continue }
            rounds[r.id] = RolloutChecks.evaluate(a, target: figures[EndpointVersionKey(r.endpoint, r.target).description],
                                                  baseline: figures[EndpointVersionKey(r.endpoint, r.baseline).description],
                                                  targetName: r.target, baselineName: r.baseline, unavailable: unavailable, now: now)
        }
        let due = rounds
        do {
            let out = try await store.mutateRollouts(ids: due.keys.sorted()) { r, e, now, apply in
                guard r.isActive, let round = due[r.id] else { return }
                if let d = r.record(round), case .abort = d {
                    try RolloutExecutor.perform(d, on: &r, endpoint: e, now: now, apply: apply)
                }
            }
            report(out, what: "round of checks")
        } catch {
            logger.error("cannot record a round of checks", metadata: ["error": .string("\(error)")])
        }
    }

    func report(_ out: (rollouts: [Rollout], failures: [Int64: String]), what: String) {
        for (id, error) in out.failures {
            logger.error("rollout \(what) failed", metadata: ["rollout": .stringConvertible(id), "error": .string(error)])
        }
        // What a person may need to act on: a rollout that just ended or just paused (steps are
        // in the audit already).
        let recent = clock().addingTimeInterval(-2)
        for r in out.rollouts {
            guard let e = r.events.last, e.time >= recent, [.pause, .abort, .complete].contains(e.action) else { continue }
            logger.notice("rollout \(e.action.rawValue)", metadata: [
                "rollout": .stringConvertible(r.id), "endpoint": .string(r.endpoint), "step": .string(r.stepLabel(r.step)),
                "reason": .string(e.reason),
            ])
        }
    }

    /// Decides again on each stored row and does it: every rollout with something to do, in one
    /// transaction.
    func act(_ ids: [Int64]) async {
        do {
            let out = try await store.mutateRollouts(ids: ids) { r, e, now, apply in
                let d = r.decide(now: now)
                try RolloutExecutor.perform(d, on: &r, endpoint: e, now: now, apply: apply)
                // A pause that ends is followed by its next step in the same transaction, not a
                // pass later (the endpoint is as read: ending a pause changes no routing).
                if case .finishPause = d, r.phase == .running {
                    try RolloutExecutor.perform(r.decide(now: now), on: &r, endpoint: e, now: now, apply: apply)
                }
            }
            report(out, what: "step")
        } catch {
            logger.error("rollout actions failed", metadata: ["error": .string("\(error)")])
        }
    }
}

/// Does what the state machine decided, inside the rollout's transaction.
public enum RolloutExecutor {
    public static func perform(_ d: RolloutDecision, on r: inout Rollout, endpoint e: Endpoint, now: Date,
                               apply: RegistryStore.RolloutApply) throws {
        switch d {
        case .wait:
            return
        case .applyStep(let index, let weights, let reason):
            let target = weights[r.target] ?? 0
            if e.weights.filter({ $0.value > 0 }) == weights.filter({ $0.value > 0 }) {
                r.stepApplied(index: index, weight: target, revision: nil, now: now)
                return
            }
            do {
                let entry = try apply(.shift(weights), reason)
                r.stepApplied(index: index, weight: target, revision: entry.toRevision, now: now)
            } catch let error as RoutingError {
                r.enterPause(RolloutPause(kind: .blocked, by: r.actor, reason: "\(r.stepLabel(index)) was refused: \(error.detail)", at: now))
            }
        case .finishPause(let index):
            r.pauseFinished(index: index, now: now)
        case .pauseForPerson(let p):
            r.enterPause(p)
        case .complete(let drain, let reason):
            var revision: Int64? = nil
            var note = reason
            if drain, let b = e.version(r.baseline), b.state == .serving, b.weight == 0 {
                do { revision = try apply(.drainVersion(r.baseline), reason).toRevision } catch let error as RoutingError {
                    note += "; the baseline was not drained: \(error.detail)"
                }
            }
            r.markCompleted(reason: note, revision: revision, now: now)
        case .abort(let reason):
            try abort(&r, endpoint: e, by: r.actor, reason: reason, now: now, apply: apply)
        }
    }

    /// The target's weight goes to 0 and its traffic back to the baseline (or, if the baseline
    /// cannot take it, to the others as a drain would share it).
    public static func abort(_ r: inout Rollout, endpoint e: Endpoint, by who: String, reason: String, now: Date,
                             apply: RegistryStore.RolloutApply) throws {
        var revision: Int64? = nil
        var note = reason
        if let t = e.version(r.target), t.weight > 0, e.state == .serving {
            var w = e.weights
            let baselineServes = e.version(r.baseline)?.state == .serving
            do {
                if baselineServes {
                    w[r.baseline, default: 0] += t.weight
                    w[r.target] = 0
                    revision = try apply(.shift(w.filter { e.version($0.key)?.state == .serving }), reason).toRevision
                } else {
                    revision = try apply(.drainVersion(r.target), reason).toRevision
                }
            } catch let error as RoutingError {
                note += "; traffic could not be moved back: \(error.detail)"
            }
        }
        r.markAborted(by: who, reason: note, revision: revision, now: now)
    }
}
