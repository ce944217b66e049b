import TowerDomain

/// One version's request latencies over a window as whole requests per histogram bucket: what the
/// rank test and the shift estimate work on. Bounds are upper bounds in milliseconds, strictly
/// ascending; the last may be +Inf.
public struct BinnedLatencies: Sendable, Equatable {
    public let bounds: [Double]
    public let counts: [UInt64]
    public let total: UInt64

    /// Why buckets could not be read as a histogram; every one of them means `no-data`.
    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case noBuckets
        case badBound(Double)
        case boundsNotAscending(Double)
        case badCount(le: Double)
        case notMonotone(le: Double)
        case tooLarge(le: Double)
        case noCommonBounds

        public var description: String {
            switch self {
            case .noBuckets: "no buckets"
            case .badBound(let le): "bucket bound \(le) is not a number ≥ -Inf"
            case .boundsNotAscending(let le): "bucket bound \(le) repeats or is out of order"
            case .badCount(let le): "count of bucket le=\(le) is NaN, infinite or negative"
            case .notMonotone(let le): "cumulative count falls at le=\(le)"
            case .tooLarge(let le): "count of bucket le=\(le) is above 2^53"
            case .noCommonBounds: "the two histograms share no finite bucket bound"
            }
        }
    }

    /// Cumulative counts may fall by this relative amount without being called non-monotone: rates
    /// of separate bucket series summed over shards differ in the last digits (the same noise
    /// Prometheus's `histogram_quantile` tolerates, with room for extrapolated rates).
    public static let monotonyTolerance = 1e-9

    /// Largest count kept exactly: every integer up to 2^53 is a Double.
    public static let maxCount: Double = 9_007_199_254_740_992

    /// Per-bucket whole counts with their bounds (tests and simulations). Not validated beyond
    /// lengths; use `fromCumulative` for anything read from a source.
    public init?(bounds: [Double], counts: [UInt64]) {
        guard bounds.count == counts.count, !bounds.isEmpty else { return nil }
        self.bounds = bounds
        self.counts = counts
        total = counts.reduce(0, &+)
    }

    /// Reads Prometheus-style cumulative buckets (`Bucket.count` = observations ≤ `le`, a rate ×
    /// window or a counter delta, so possibly fractional). Each cumulative count is rounded to the
    /// nearest whole request (halves away from zero) and the buckets are the differences of the
    /// rounded cumulative counts: so the total is the rounded total and no bucket goes negative.
    /// NaN, infinite or negative counts, bounds out of order, or a cumulative count that falls (by
    /// more than `monotonyTolerance`) are problems, never a crash.
    public static func fromCumulative(_ buckets: [Bucket]) -> Result<BinnedLatencies, Problem> {
        fromCumulative(buckets, sharingBounds: nil)
    }

    /// `fromCumulative`, taking `shared` as the bounds when they are the buckets' own: the versions
    /// of an endpoint nearly always have the same bounds, so a canary read against its baseline's
    /// histogram allocates only its counts, and the two compare as the same array.
    static func fromCumulative(_ buckets: [Bucket], sharingBounds shared: [Double]?) -> Result<BinnedLatencies, Problem> {
        guard !buckets.isEmpty else { return .failure(.noBuckets) }
        var reused: [Double]?
        if let shared, shared.count == buckets.count, buckets.indices.allSatisfy({ shared[$0] == buckets[$0].le }) { reused = shared }
        var counts: [UInt64] = []
        counts.reserveCapacity(buckets.count)
        var previousLe = -Double.infinity
        var previousRaw = 0.0
        var previousRounded = 0.0
        for i in buckets.indices {
            let b = buckets[i]
            if b.le.isNaN { return .failure(.badBound(b.le)) }
            if i > 0 && !(b.le > previousLe) { return .failure(.boundsNotAscending(b.le)) }
            if !b.count.isFinite || b.count < 0 { return .failure(.badCount(le: b.le)) }
            if b.count < previousRaw - monotonyTolerance * previousRaw { return .failure(.notMonotone(le: b.le)) }
            if b.count > maxCount { return .failure(.tooLarge(le: b.le)) }
            let rounded = max(previousRounded, roundedHalfAway(b.count))
            counts.append(UInt64(rounded - previousRounded))
            previousLe = b.le
            previousRaw = max(previousRaw, b.count)
            previousRounded = rounded
        }
        return .success(BinnedLatencies(bounds: reused ?? buckets.map(\.le), counts: counts, total: UInt64(previousRounded)))
    }

    private init(bounds: [Double], counts: [UInt64], total: UInt64) {
        self.bounds = bounds; self.counts = counts; self.total = total
    }

    /// `x.rounded(.toNearestOrAwayFromZero)` for 0 ≤ x ≤ 2^53 without the libm call (a judgement
    /// rounds every bucket of every version): the truncation and the fraction are exact there.
    @inline(__always) static func roundedHalfAway(_ x: Double) -> Double {
        let t = Double(UInt64(x))
        return x - t >= 0.5 ? t + 1 : t
    }

    /// The two histograms on the bounds they share: a bucket is merged into the next shared bound
    /// above it, and whatever lies above the last shared finite bound becomes one +Inf group. Tie
    /// groups must be the same intervals on both sides, and a bound only one side has says nothing
    /// about where the other side's requests lie. No shared finite bound → no comparison.
    public static func aligned(_ x: BinnedLatencies, _ y: BinnedLatencies) -> Result<(BinnedLatencies, BinnedLatencies), Problem> {
        if x.bounds == y.bounds {
            guard x.bounds.contains(where: { $0.isFinite }) else { return .failure(.noCommonBounds) }
            return .success((x, y))
        }
        let ySet = Set(y.bounds)
        var common = x.bounds.filter { $0.isFinite && ySet.contains($0) }
        guard !common.isEmpty else { return .failure(.noCommonBounds) }
        common.append(.infinity)
        func regroup(_ h: BinnedLatencies) -> BinnedLatencies {
            var out = [UInt64](repeating: 0, count: common.count)
            var g = 0
            for (le, c) in zip(h.bounds, h.counts) {
                while g < common.count - 1 && common[g] < le { g += 1 }
                out[g] += c
            }
            return BinnedLatencies(bounds: common, counts: out) ?? h
        }
        return .success((regroup(x), regroup(y)))
    }

    /// Where the shift estimate places a bucket's requests: the middle of the bucket (the first
    /// from 0, or its bound itself when that is ≤ 0); the +Inf bucket at the last finite bound, a
    /// lower bound for those requests, as `histogram_quantile` answers for ranks there.
    public var representatives: [Double] {
        var out: [Double] = []
        out.reserveCapacity(bounds.count)
        var lower: Double? = nil
        for le in bounds {
            if le.isInfinite {
                out.append(lower ?? 0)
            } else if let lo = lower {
                out.append((lo + le) / 2)
            } else {
                out.append(le <= 0 ? le : le / 2)
            }
            lower = le.isFinite ? le : lower
        }
        return out
    }

    /// The median as Prometheus's `histogram_quantile(0.5, …)` gives it for these counts (a +Inf
    /// bucket added when missing), so a relative shift is relative to the p50 the console shows.
    /// Written out rather than through `Quantile` (which sorts and copies): whole, ascending,
    /// monotone counts need none of its repairs, and this runs for every judgement.
    public var median: Double? {
        guard total > 0 else { return nil }
        let finite = bounds.last == .infinity ? bounds.count - 1 : bounds.count
        guard finite > 0 else { return nil }
        let rank = 0.5 * Double(total)
        var cumulative = 0.0
        for i in 0..<finite {
            let previous = cumulative
            cumulative += Double(counts[i])
            if cumulative >= rank {
                if i == 0 && bounds[0] <= 0 { return bounds[0] }
                let start = i == 0 ? 0 : bounds[i - 1]
                return start + (bounds[i] - start) * ((rank - previous) / Double(counts[i]))
            }
        }
        return bounds[finite - 1]
    }
}
