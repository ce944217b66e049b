import Foundation
import TowerDomain

/// What a scrape source has seen since it started, for SLO burn rates without Prometheus: per
/// endpoint, running totals of requests, 5xx and cumulative latency buckets (the sums of the
/// increases between successive scrapes, so counter resets are already handled by
/// `ScrapeResult`), snapshotted at most once a minute.
///
/// Bounded: snapshots one minute apart for the last two hours, thinned to one per ten minutes
/// beyond, none older than three days (plus the one just before, so a 3-day window has a start):
/// at most 120 + 420 + 2 = 542 snapshots. Each holds, per endpoint, 2 + (number of buckets)
/// doubles, so the history costs at most 542 × (2 + B) × 8 bytes per endpoint, about 100 KB with
/// Envoy's 20 buckets (and the dictionary overhead on top). A window is read from the newest
/// snapshot at or before its start, so it can be up to a minute (ten beyond two hours) longer than
/// asked: about 3 % of a 6-hour window at worst.
public struct ScrapeHistory: Sendable {
    struct Counts: Sendable, Equatable {
        var requests = 0.0
        var errors = 0.0
        /// Cumulative bucket totals by `le` (ms).
        var buckets: [Double: Double] = [:]
    }

    struct Snapshot: Sendable {
        var at: Date
        var counts: [String: Counts]
    }

    public static let spacing: TimeInterval = 60
    public static let sparseSpacing: TimeInterval = 600
    public static let denseSpan: TimeInterval = 2 * 3600
    public static let maxAge: TimeInterval = 3 * 86_400

    private var totals: [String: Counts] = [:]
    private(set) var snapshots: [Snapshot] = []
    /// When the totals were last brought up to date.
    public private(set) var latest: Date?

    public init() {}

    /// Seconds of history held (from the oldest snapshot to the latest update).
    public var span: TimeInterval {
        guard let latest, let first = snapshots.first else { return 0 }
        return latest.timeIntervalSince(first.at)
    }

    /// One refresh's increases. The first one also sets where the history begins: at the earlier
    /// scrape of its interval, with every total 0.
    public mutating func add(_ result: ScrapeResult) {
        guard let at = result.endpoints.values.map(\.readAt).max() else { return }
        if let latest, at <= latest { return }
        if snapshots.isEmpty {
            let seconds = result.endpoints.values.compactMap(\.seconds).max() ?? 0
            snapshots.append(Snapshot(at: at.addingTimeInterval(-seconds), counts: [:]))
        }
        for (endpoint, r) in result.endpoints {
            // Requests and 5xx go together (a ratio needs both); the buckets stand alone.
            var c = totals[endpoint, default: Counts()]
            if let n = r.requests, let e = r.errors, n.isFinite, e.isFinite, n >= 0, e >= 0 {
                c.requests += n; c.errors += e
            }
            for b in r.bucketIncreases ?? [] where b.count.isFinite && b.count >= 0 { c.buckets[b.le, default: 0] += b.count }
            totals[endpoint] = c
        }
        latest = at
        if let last = snapshots.last, at.timeIntervalSince(last.at) >= Self.spacing {
            snapshots.append(Snapshot(at: at, counts: totals))
            thin(now: at)
        }
    }

    /// Beyond two hours, one snapshot per ten minutes; beyond three days, only the newest one.
    private mutating func thin(now: Date) {
        let denseFrom = now.addingTimeInterval(-Self.denseSpan), oldest = now.addingTimeInterval(-Self.maxAge)
        if let lastTooOld = snapshots.lastIndex(where: { $0.at < oldest }), lastTooOld > 0 {
            snapshots.removeFirst(lastTooOld)
        }
        var kept: [Snapshot] = []
        kept.reserveCapacity(snapshots.count)
        for s in snapshots {
            if s.at < denseFrom, let previous = kept.last, s.at.timeIntervalSince(previous.at) < Self.sparseSpacing {
                continue
            }
            kept.append(s)
        }
        snapshots = kept
    }

    /// Bad ratios per endpoint over each window (seconds), from the newest snapshot at or before
    /// the window's start to now. A window longer than the history is read over all of it and
    /// listed in `partial`. Slow = 1 − bucket(largest le ≤ latencyMs) ÷ bucket(+Inf), as from
    /// Prometheus (`BurnRateQueries`).
    public func badRatios(windows: [Int], latencyMs: [String: Double]) -> [String: BadRatios] {
        guard let latest, let first = snapshots.first else { return [:] }
        var out: [String: BadRatios] = [:]
        for w in Set(windows.filter { $0 > 0 }).sorted() {
            let start = latest.addingTimeInterval(-Double(w))
            let base = snapshots.last { $0.at <= start } ?? first
            let partial = base.at > start
            for (endpoint, now) in totals {
                let then = base.counts[endpoint] ?? Counts()
                var r = out[endpoint] ?? BadRatios()
                let requests = now.requests - then.requests
                if requests > 0 { r.errors[w] = min(1, max(0, (now.errors - then.errors) / requests)) }
                if let threshold = latencyMs[endpoint], let all = now.buckets[.infinity].map({ $0 - (then.buckets[.infinity] ?? 0) }), all > 0,
                   let bound = now.buckets.keys.filter({ $0.isFinite && $0 <= threshold }).max() {
                    let fast = (now.buckets[bound] ?? 0) - (then.buckets[bound] ?? 0)
                    r.slow[w] = min(1, max(0, 1 - fast / all))
                }
                if partial && !r.partial.contains(w) { r.partial.append(w) }
                out[endpoint] = r
            }
        }
        return out
    }
}
