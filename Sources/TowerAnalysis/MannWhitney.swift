/// Two-sided Mann-Whitney U over grouped observations (each bucket a tie group), with the tie
/// correction and the continuity correction: the same statistic and p-value as
/// `scipy.stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=True)` on the expanded
/// samples, computed in O(buckets).
public struct MannWhitney: Sendable, Equatable {
    /// U for the first sample (x, the canary): pairs with x above y, ties counting one half.
    public let u: Double
    /// The standardised statistic of max(U1, U2), continuity-corrected, as SciPy forms it.
    public let z: Double
    public let pValue: Double
    /// The tie-corrected standard deviation of U under the null (also sizes the shift interval).
    public let sigma: Double
    public let n1: UInt64
    public let n2: UInt64

    /// nil when either side has no observations (SciPy answers NaN there). `a` and `b` are the
    /// per-group counts of x and y on the same groups, in ascending order.
    public static func test(_ a: [UInt64], _ b: [UInt64]) -> MannWhitney? {
        guard a.count == b.count else { return nil }
        let n1 = a.reduce(0, &+), n2 = b.reduce(0, &+)
        guard n1 > 0, n2 > 0 else { return nil }
        let n = n1 + n2
        // S = 2·U1 − n1·n2 = Σ a_k (B_below − B_above): exact in 128 bits, because U1 − n1·n2/2 is
        // a small difference of numbers near 1e18 when the samples are large and alike.
        var positive = WideUInt(), negative = WideUInt()
        var below: UInt64 = 0
        var tieSum = 0.0
        let nd = Double(n)
        for k in a.indices {
            let above = n2 - below - b[k]
            if a[k] > 0 {
                if below >= above {
                    positive = positive + .product(a[k], below - above)
                } else {
                    negative = negative + .product(a[k], above - below)
                }
            }
            // n³ − Σt³ written as Σ t(n − t)(n + t): positive terms, so no cancellation when
            // nearly everything is in one bucket.
            let t = Double(a[k] + b[k])
            tieSum += t * Double(n - a[k] - b[k]) * (nd + t)
            below += b[k]
        }
        let nn = WideUInt.product(n1, n2)
        let twiceU1: WideUInt
        let absS: WideUInt
        if negative < positive || negative == positive {
            absS = positive - negative
            twiceU1 = nn + absS
        } else {
            absS = negative - positive
            twiceU1 = nn - absS
        }
        let u = twiceU1.double / 2
        let variance = Double(n1) * Double(n2) / 12 * (tieSum / (nd * (nd - 1)))
        let sigma = variance > 0 ? variance.squareRoot() : 0
        // max(U1, U2) − n1·n2/2 − 0.5 = (|S| − 1) / 2
        let numerator = absS == WideUInt() ? -0.5 : (absS - WideUInt(1)).double / 2
        let z = numerator / sigma
        let p = min(1, max(0, 2 * Normal.sf(z)))
        return MannWhitney(u: u, z: z, pValue: p.isNaN ? 1 : p, sigma: sigma, n1: n1, n2: n2)
    }
}
