import Foundation
import TowerDomain

/// The traces list as triage wants it: failing traces first, then the slowest of the window,
/// both sorted by duration, longest first.
///
/// A backend's search answers the *newest* traces that match, never the slowest, so asking for
/// "20 traces" lists whatever came last. Asking with a minimum duration turns that around: a search
/// at threshold T that comes back short of its limit holds *every* trace of at least T in the
/// window. So the slow half is searched down a ladder of thresholds, highest first, until the list
/// is full; then everything at or above the last threshold that came back short is exact, and the
/// last search only fills the tail.
public enum TraceTriage {
    /// The bound on slow searches per list (the ladder's length); one more search finds the failing
    /// ones, so a list costs at most 9 requests.
    public static let maxSlowSearches = 8

    /// Minimum durations to search at, highest first, ending with nil (no minimum). From the
    /// endpoint's p99 when known: 4×, 2×, 1×, ½, ¼, ⅛ and 1⁄16 of it, so the search starts above
    /// the tail and walks into it. Without one, a fixed ladder from 10 s to 10 ms in steps of about
    /// ×⅓. Thresholds are whole milliseconds (whole microseconds below 1 ms).
    public static func ladder(p99Ms: Double?) -> [Duration?] {
        let rungsMicros: [Double]
        if let p = p99Ms, p.isFinite, p > 0 {
            // Capped at an hour: a p99 from a broken source must not overflow the query.
            let top = min(p, 3_600_000) * 4 * 1000
            rungsMicros = (0..<(maxSlowSearches - 1)).map { top / Double(1 << $0) }
        } else {
            rungsMicros = [10_000_000, 3_000_000, 1_000_000, 300_000, 100_000, 30_000, 10_000]
        }
        var out: [Duration?] = []
        var last: Int64?
        for us in rungsMicros {
            let whole = us >= 1000 ? Int64((us / 1000).rounded()) * 1000 : max(1, Int64(us.rounded()))
            if whole == last { continue }
            last = whole
            out.append(.microseconds(whole))
        }
        return out + [nil]
    }

    /// One list from the failing and the slow searches: no trace twice (the failing search's copy
    /// wins), only `version`'s traces when one is given, failing ones first, each part longest
    /// first (then newest, then by ID, so equal durations keep a stable order). Failing traces
    /// take at most half the list (rounded up) while there are enough slow ones to fill the rest; a trace from
    /// the failing search counts as failing even when its backend gave no error count (Tempo).
    public static func merge(failing: [TraceSummary], slow: [TraceSummary], limit: Int, version: String? = nil) -> [TraceSummary] {
        let (bad, good) = split(failing: failing, slow: slow, version: version)
        let n = max(0, limit)
        let shown = failingShown(bad: bad.count, good: good.count, limit: n)
        return Array(bad.prefix(shown)) + Array(good.prefix(n - shown))
    }

    /// True when the slow part of the list has what it needs: the search can stop stepping down.
    public static func isFull(failing: [TraceSummary], slow: [TraceSummary], limit: Int, version: String? = nil) -> Bool {
        let (bad, good) = split(failing: failing, slow: slow, version: version)
        let n = max(0, limit)
        return good.count >= n - min(bad.count, (n + 1) / 2)
    }

    /// Half the list (the odd row to the failing: they come first) unless slow ones run short.
    static func failingShown(bad: Int, good: Int, limit n: Int) -> Int { min(bad, max((n + 1) / 2, n - good)) }

    static func split(failing: [TraceSummary], slow: [TraceSummary], version: String?) -> (bad: [TraceSummary], good: [TraceSummary]) {
        let failingIDs = Set(failing.map(\.traceID))
        var seen = Set<String>()
        var bad: [TraceSummary] = [], good: [TraceSummary] = []
        for t in failing + slow where seen.insert(t.traceID).inserted {
            if let version, t.version != version { continue }
            if failingIDs.contains(t.traceID) || (t.errorCount ?? 0) > 0 { bad.append(t) } else { good.append(t) }
        }
        return (bad.sorted(by: longestFirst), good.sorted(by: longestFirst))
    }

    static func longestFirst(_ a: TraceSummary, _ b: TraceSummary) -> Bool {
        if a.durationMicros != b.durationMicros { return a.durationMicros > b.durationMicros }
        if a.startMicros != b.startMicros { return a.startMicros > b.startMicros }
        return a.traceID < b.traceID
    }
}

extension TraceMapping {
    /// The failing and the slowest traces of an endpoint over the `window` before `now`, at most
    /// `limit`, as `TraceTriage` orders them. The failing search runs beside the first slow one;
    /// the slow ones step down `TraceTriage.ladder(p99Ms:)` until the list is full, so at most
    /// `TraceTriage.maxSlowSearches` + 1 requests. `version` keeps only that version's traces and
    /// the search steps down until *they* fill the list.
    public func triage(_ source: any TraceSource, endpoint: String, path: String, now: Date = Date(), window: TimeInterval = 900,
                       limit: Int = 20, version: String? = nil, p99Ms: Double? = nil) async throws -> [TraceSummary] {
        let n = max(1, limit)
        async let failingSearch = source.search(query(endpoint: endpoint, path: path, now: now, window: window, errorsOnly: true, limit: n))
        var failing: [TraceSummary]?
        var slow: [TraceSummary] = []
        for threshold in TraceTriage.ladder(p99Ms: p99Ms) {
            var q = query(endpoint: endpoint, path: path, now: now, window: window, errorsOnly: false, limit: n)
            q.minDuration = threshold
            slow += try await source.search(q)
            if failing == nil { failing = try await failingSearch }
            if TraceTriage.isFull(failing: failing ?? [], slow: slow, limit: n, version: version) { break }
        }
        let found: [TraceSummary]
        if let failing { found = failing } else { found = try await failingSearch }
        return TraceTriage.merge(failing: found, slow: slow, limit: n, version: version)
    }
}

/// How far back a traces list searches (`tower traces --since`): Go-style durations, whole
/// numbers with units s, m, h, d, chained (`1h30m`). Nil for anything else, or for nothing at all.
public enum TraceWindow {
    public static func seconds(_ text: String) -> TimeInterval? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var total = 0.0, digits = ""
        for c in text.trimmingCharacters(in: .whitespaces) {
            if c.isASCII && c.isNumber { digits.append(c); continue }
            guard let unit = units[c], let n = Double(digits), digits.count <= 9 else { return nil }
            total += n * unit
            digits = ""
        }
        return digits.isEmpty && total > 0 ? total : nil
    }
}
