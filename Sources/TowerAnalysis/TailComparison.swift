/// The tail test beside the rank test: does the canary put more of its requests above the p95 of
/// the two sides pooled? A rank test over the whole distribution barely moves when only the tail
/// grows (a p99 ×2 moves the median by √2, often inside one bucket), while the share of requests
/// above a high bound doubles or more.
///
/// - Threshold: the highest finite bucket bound with at least 1 − `quantile` of the pooled
///   requests above it (the bucket bound at or just below the pooled p95; the first finite bound
///   when even that has less above it). At or below the p95 rather than above it: with coarse
///   buckets the bound above the p95 can hold a fraction of a percent of the requests, a handful
///   at canary sizes, too few for any test. Pooled rather than the baseline's alone: under "no
///   difference" the pooled sample is the same whichever request belongs to which side, so
///   choosing the bound from it keeps the test exact; a bound chosen from the baseline alone would
///   sit where the baseline happens to be light and lean the test towards failing the canary.
/// - Test: the requests above the threshold as the "errors" of a 2×2 table, one-sided (the canary
///   has more): Fisher's exact test, or the pooled z-test for large tables, as `ErrorComparison`.
/// - Effect: the canary's p95 − the baseline's p95 (interpolated within buckets as Prometheus's
///   `histogram_quantile` does), with the interval the MOVER method gives (Zou & Donner 2008; the
///   same construction as Newcombe's interval for the error ratios) from each side's
///   distribution-free interval for its p95 (binomial ranks n·q ∓ z·√(n·q·(1 − q))):
///   d − √((Qc − Lc)² + (Ub − Qb)²), d + √((Uc − Qc)² + (Qb − Lb)²). A baseline upper end in the
///   +Inf bucket is unknown, so the lower end of the difference is −∞ (never a fail); a canary
///   lower end there is the last finite bound, which is a true lower bound.
public struct TailComparison: Sendable, Equatable {
    public let thresholdMs: Double
    /// Requests above the threshold, [canary, baseline].
    public let above: Pair<UInt64>
    public let test: ErrorComparison.Test
    /// One-sided p-value that the canary's share above the threshold is the larger.
    public let pValue: Double
    /// The `quantile` of each side, [canary, baseline], NaN where the side has no finite bound for it.
    public let quantileMs: Pair<Double>
    /// The interval for canary − baseline at that quantile, ms; nil when the test did not reject
    /// (see `compare`).
    public let intervalMs: Pair<Double>?

    /// The tail the test looks at.
    public static let quantile = 0.95

    /// `x`, `y` the canary's and the baseline's counts on the same bounds (see
    /// `BinnedLatencies.aligned`); `z` the two-sided z of the intervals. The interval is computed
    /// only when p < `intervalBelow`: otherwise it cannot fail the canary, and it is the larger part
    /// of the cost. nil when a side is empty.
    public static func compare(canary x: BinnedLatencies, baseline y: BinnedLatencies, z: Double,
                               intervalBelow: Double = 1) -> TailComparison? {
        guard x.total > 0, y.total > 0, x.bounds.count == y.bounds.count,
              let t = threshold(x, y) else { return nil }
        var ax: UInt64 = 0, ay: UInt64 = 0
        for k in (t + 1)..<x.bounds.count { ax += x.counts[k]; ay += y.counts[k] }
        guard let c = RequestCounts(total: x.total, errors: ax), let b = RequestCounts(total: y.total, errors: ay) else { return nil }
        let useZ = ErrorComparison.usesZTest(canary: c, baseline: b)
        let p = useZ ? ErrorComparison.zTest(canary: c, baseline: b) : ErrorComparison.fisherGreater(canary: c, baseline: b)
        let q = quantile
        let qx = x.quantile(q) ?? .nan, qy = y.quantile(q) ?? .nan
        guard p < intervalBelow else {
            return TailComparison(thresholdMs: x.bounds[t], above: Pair(ax, ay), test: useZ ? .z : .fisher, pValue: p,
                                  quantileMs: Pair(qx, qy), intervalMs: nil)
        }
        let (xl, xu) = x.quantileInterval(q, z: z)
        let (yl, yu) = y.quantileInterval(q, z: z)
        let d = qx - qy
        let lower = d - ((qx - xl) * (qx - xl) + (yu - qy) * (yu - qy)).squareRoot()
        let upper = d + ((xu - qx) * (xu - qx) + (qy - yl) * (qy - yl)).squareRoot()
        return TailComparison(thresholdMs: x.bounds[t], above: Pair(ax, ay), test: useZ ? .z : .fisher, pValue: p,
                              quantileMs: Pair(qx, qy), intervalMs: Pair(lower, upper))
    }

    /// Index of the threshold bound: the highest finite bound with at least 1 − `quantile` of
    /// the pooled requests above it, else the first; nil without a finite bound.
    static func threshold(_ x: BinnedLatencies, _ y: BinnedLatencies) -> Int? {
        let finite = x.bounds.last == .infinity ? x.bounds.count - 1 : x.bounds.count
        guard finite > 0 else { return nil }
        let limit = quantile * (Double(x.total) + Double(y.total))
        var cumulative = 0.0
        var chosen = 0
        for k in 0..<finite {
            cumulative += Double(x.counts[k]) + Double(y.counts[k])
            if cumulative > limit { break }
            chosen = k
        }
        return chosen
    }
}

extension BinnedLatencies {
    /// The q-quantile as `histogram_quantile(q, …)` gives it: linear within the bucket holding the
    /// rank q·total, the first bucket from 0, a rank in +Inf at the last finite bound.
    public func quantile(_ q: Double) -> Double? {
        guard total > 0, q >= 0, q <= 1 else { return nil }
        return value(atRank: q * Double(total), inInfinity: nil)
    }

    /// The distribution-free interval for the q-quantile at two-sided normal quantile z: the
    /// values at ranks n·q ∓ z·√(n·q·(1 − q)) (clamped to the sample), interpolated as `quantile`.
    /// The lower end in +Inf is the last finite bound (the requests there are at least that slow);
    /// the upper end there is +∞ (nothing says how slow they are).
    func quantileInterval(_ q: Double, z: Double) -> (Double, Double) {
        let n = Double(total)
        let half = z * (n * q * (1 - q)).squareRoot()
        let lo = value(atRank: max(0, n * q - half), inInfinity: nil) ?? .nan
        let hi = value(atRank: min(n, n * q + half), inInfinity: .infinity) ?? .nan
        return (lo, hi)
    }

    /// The value at a rank in (0, total], interpolated within its bucket; a rank in the +Inf bucket
    /// answers `inInfinity`, or the last finite bound when that is nil.
    func value(atRank rank: Double, inInfinity: Double?) -> Double? {
        let finite = bounds.last == .infinity ? bounds.count - 1 : bounds.count
        guard finite > 0, total > 0 else { return nil }
        var cumulative = 0.0
        for i in 0..<finite {
            let previous = cumulative
            cumulative += Double(counts[i])
            if cumulative >= rank && counts[i] > 0 {
                if i == 0 && bounds[0] <= 0 { return bounds[0] }
                let start = i == 0 ? 0 : bounds[i - 1]
                return start + (bounds[i] - start) * (max(0, rank - previous) / Double(counts[i]))
            }
        }
        if cumulative >= rank { return bounds[finite - 1] }
        return inInfinity ?? bounds[finite - 1]
    }
}
