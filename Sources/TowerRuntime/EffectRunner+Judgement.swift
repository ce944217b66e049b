import Foundation
import Synchronization
import TowerConsole
import TowerDomain
import TowerMetrics

/// The judgement's reads: SLO burn rates on their own slower cadence, and the windows around a
/// revision for change impact (cached: history does not change).
extension EffectRunner {
    /// Polls burn rates for `targets` (replacing what was polled), at once and then every
    /// `burnInterval`; nothing when there is no SLO or no metrics source.
    func pollBurn(_ targets: [String: SLO]) {
        current.withLock { c in
            guard c.burnTargets != targets || c.burnPoller == nil else { return }
            c.burnPoller?.cancel()
            c.burnPoller = nil
            c.burnTargets = targets
            guard !targets.isEmpty, !c.sources.metrics.isEmpty else { return }
            let gen = c.generation, sources = c.sources.metrics, interval = burnInterval, clock = clock
            let post: @Sendable (Message) -> Void = { [weak self] m in self?.post(m, ifStill: gen) }
            c.burnPoller = Task.detached {
                await Self.pollBurn(sources, targets, interval: interval, clock: clock, post: post)
            }
        }
    }

    /// Asks the sources in turn (the first that can answers) for the bad-event ratios, one call
    /// for all endpoints, and posts each endpoint's SLO status; a source that cannot says why.
    static func pollBurn(_ sources: [any MetricsSource], _ targets: [String: SLO], interval: Double,
                         clock: @escaping @Sendable () -> Date, post: @escaping @Sendable (Message) -> Void) async {
        let windows = SLOReading.windows(for: targets.values)
        let latency = targets.compactMapValues(\.latencyMs)
        while !Task.isCancelled {
            var why: [String] = []
            var answered = false
            for src in sources where !answered {
                do {
                    let ratios = try await src.badRatios(windows: windows, latencyMs: latency)
                    let at = clock()
                    var readings: [String: SLOReading] = [:]
                    for (name, slo) in targets { if let r = ratios[name] { readings[name] = SLOReading.from(slo, r, at: at) } }
                    post(.burnLoaded(readings, at: at))
                    answered = true
                } catch {
                    why.append("\(error)")
                }
            }
            if !answered && !Task.isCancelled { post(.burnFailed(why.joined(separator: "; "), at: clock())) }
            try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
    }

    /// Reads the windows before and after a revision (from the cache when read before), filtered
    /// to the endpoint. A window after the change that is still open is read as far as it goes and
    /// not cached; a source that cannot read past windows says so in the panel.
    func loadImpact(_ endpoint: String, _ revision: Int64, at: Date, window: Int) {
        let key = "\(endpoint)\u{0}\(revision)\u{0}\(window)"
        let (sources, gen, cached) = current.withLock { ($0.sources.metrics, $0.generation, $0.impactCache[key]) }
        if let cached {
            post(.impactLoaded(endpoint: endpoint, revision: revision, cached), ifStill: gen)
            return
        }
        guard !sources.isEmpty else {
            post(.impactFailed(endpoint: endpoint, revision: revision, "no metrics source"), ifStill: gen)
            return
        }
        let now = clock()
        Task.detached { [self] in
            let afterSeconds = min(window, Int(now.timeIntervalSince(at)))
            guard afterSeconds >= 1 else {
                post(.impactFailed(endpoint: endpoint, revision: revision, "nothing after the change yet"), ifStill: gen)
                return
            }
            func mine(_ figures: [String: Figures]) -> [String: Figures] {
                figures.filter { $0.key == Telemetry.key(endpoint) || $0.key.hasPrefix(Telemetry.key(endpoint) + "/") }
            }
            var why: [String] = []
            for src in sources {
                do {
                    async let before = src.figures(endingAt: at, windowSeconds: window)
                    async let after = src.figures(endingAt: at.addingTimeInterval(Double(afterSeconds)), windowSeconds: afterSeconds)
                    let w = ImpactWindows(before: mine(try await before), after: mine(try await after), windowSeconds: window, afterSeconds: afterSeconds)
                    if w.complete {
                        current.withLock { c in
                            guard c.generation == gen else { return }
                            // Bounded: an operator reads a few revisions; this only guards a pathological session.
                            if c.impactCache.count >= 1000 { c.impactCache = [:] }
                            c.impactCache[key] = w
                        }
                    }
                    post(.impactLoaded(endpoint: endpoint, revision: revision, w), ifStill: gen)
                    return
                } catch {
                    why.append("\(error)")
                }
            }
            post(.impactFailed(endpoint: endpoint, revision: revision, why.joined(separator: "; ")), ifStill: gen)
        }
    }
}
