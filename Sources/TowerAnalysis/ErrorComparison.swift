/// A version's requests and failed requests over the window, as whole numbers.
public struct RequestCounts: Sendable, Equatable {
    public let total: UInt64
    public let errors: UInt64

    public init?(total: UInt64, errors: UInt64) {
        guard errors <= total else { return nil }
        self.total = total; self.errors = errors
    }

    /// From rate × window or counter deltas: each rounded to the nearest whole request (halves away
    /// from zero). NaN, infinite, negative, above 2^53, or more errors than requests (beyond the
    /// rounding) → nil, which judges as `no-data`.
    public static func rounding(total: Double, errors: Double) -> RequestCounts? {
        guard total.isFinite, errors.isFinite, total >= 0, errors >= 0,
              total <= BinnedLatencies.maxCount else { return nil }
        let t = total.rounded(.toNearestOrAwayFromZero), e = errors.rounded(.toNearestOrAwayFromZero)
        guard e <= t else { return nil }
        return RequestCounts(total: UInt64(t), errors: UInt64(e))
    }

    public var ratio: Double? { total > 0 ? Double(errors) / Double(total) : nil }
}

/// One-sided test that the canary fails more often than the baseline, with an interval for the
/// difference of error ratios (canary − baseline).
public struct ErrorComparison: Sendable, Equatable {
    public enum Test: String, Codable, Sendable { case fisher, z }
    public let test: Test
    public let pValue: Double
    /// Newcombe's hybrid score interval (his method 10, from Wilson intervals of each ratio),
    /// two-sided at the confidence level: good coverage at the small counts where Wald's fails.
    public let lower: Double
    public let upper: Double

    /// The z-test is used only when both sides have at least this many requests and every
    /// expected cell count of the 2×2 table is at least `minExpected`; below, Fisher's exact test.
    public static let zTestMinRequests: UInt64 = 1000
    public static let minExpected = 5.0

    /// nil when a side has no requests.
    public static func compare(canary c: RequestCounts, baseline b: RequestCounts, confidence: Double) -> ErrorComparison? {
        compare(canary: c, baseline: b, z: JudgePolicy(confidence: confidence).intervalZ)
    }

    static func compare(canary c: RequestCounts, baseline b: RequestCounts, z: Double) -> ErrorComparison? {
        guard c.total > 0, b.total > 0 else { return nil }
        let useZ = usesZTest(canary: c, baseline: b)
        let p = useZ ? zTest(canary: c, baseline: b) : fisherGreater(canary: c, baseline: b)
        let (lo, hi) = newcombeInterval(canary: c, baseline: b, z: z)
        return ErrorComparison(test: useZ ? .z : .fisher, pValue: p, lower: lo, upper: hi)
    }

    static func usesZTest(canary c: RequestCounts, baseline b: RequestCounts) -> Bool {
        guard c.total >= zTestMinRequests, b.total >= zTestMinRequests else { return false }
        let n = Double(c.total) + Double(b.total)
        let errors = Double(c.errors) + Double(b.errors)
        let oks = n - errors
        let smallest = min(errors, oks) * Double(min(c.total, b.total)) / n
        return smallest >= minExpected
    }

    /// `scipy.stats.fisher_exact([[cErr, cOk], [bErr, bOk]], alternative="greater").pvalue`:
    /// P(X ≥ cErr) with X hypergeometric (all errors drawn, the canary's requests the white balls).
    public static func fisherGreater(canary c: RequestCounts, baseline b: RequestCounts) -> Double {
        let errors = Double(c.errors) + Double(b.errors)
        if errors == 0 || c.total == 0 || b.total == 0 || errors == Double(c.total) + Double(b.total) { return 1 }
        let p = Hypergeometric.upperTail(atLeast: Double(c.errors), white: Double(c.total), black: Double(b.total), drawn: errors)
        return min(1, max(0, p))
    }

    /// Pooled two-proportion z-test, one-sided: `scipy.stats.norm.sf((p1 − p2) / se)` with
    /// se = √(p(1 − p)(1/n1 + 1/n2)), p the pooled ratio. No spread at all (p = 0 or 1) → 1.
    public static func zTest(canary c: RequestCounts, baseline b: RequestCounts) -> Double {
        let n1 = Double(c.total), n2 = Double(b.total)
        let pooled = (Double(c.errors) + Double(b.errors)) / (n1 + n2)
        let se = (pooled * (1 - pooled) * (1 / n1 + 1 / n2)).squareRoot()
        guard se > 0 else { return 1 }
        return Normal.sf((Double(c.errors) / n1 - Double(b.errors) / n2) / se)
    }

    static func wilson(_ x: UInt64, _ n: UInt64, z: Double) -> (Double, Double) {
        let nd = Double(n), p = Double(x) / nd, z2 = z * z
        let centre = (p + z2 / (2 * nd)) / (1 + z2 / nd)
        let half = z / (1 + z2 / nd) * (p * (1 - p) / nd + z2 / (4 * nd * nd)).squareRoot()
        return (max(0, centre - half), min(1, centre + half))
    }

    static func newcombeInterval(canary c: RequestCounts, baseline b: RequestCounts, z: Double) -> (Double, Double) {
        let p1 = Double(c.errors) / Double(c.total), p2 = Double(b.errors) / Double(b.total)
        let (l1, u1) = wilson(c.errors, c.total, z: z)
        let (l2, u2) = wilson(b.errors, b.total, z: z)
        let d = p1 - p2
        let lower = d - ((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2)).squareRoot()
        let upper = d + ((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2)).squareRoot()
        return (lower, upper)
    }
}
