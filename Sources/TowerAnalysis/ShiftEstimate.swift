/// The Hodges-Lehmann shift (canary − baseline) for binned latencies and its distribution-free
/// interval: each request stands at its bucket's representative (`BinnedLatencies.representatives`),
/// the n1·n2 pairwise differences are weighted by bucket counts, the estimate is their median and
/// the interval is the pair of order statistics that inverting the rank test gives (Moses):
/// [D(C), D(N + 1 − C)] with N = n1·n2 and C = ⌊N/2 − z(1 − α/2)·σ⌋ (at least 1), σ the
/// tie-corrected standard deviation of U. Resolution is the bucket width: a shift smaller than
/// the buckets around the median reads as 0, and requests in +Inf count at the last finite bound.
public struct ShiftEstimate: Sendable, Equatable {
    public let estimate: Double
    public let lower: Double
    public let upper: Double

    /// `reps` are the shared groups' representatives (ascending); `a`, `b` the canary's and the
    /// baseline's counts; nil when a side is empty.
    public static func hodgesLehmann(reps: [Double], _ a: [UInt64], _ b: [UInt64], sigma: Double, confidence: Double) -> ShiftEstimate? {
        let alpha = confidence > 0 && confidence < 1 ? 1 - confidence : 0.02
        return hodgesLehmann(reps: reps, a, b, sigma: sigma, z: Normal.quantile(1 - alpha / 2))
    }

    static func hodgesLehmann(reps: [Double], _ a: [UInt64], _ b: [UInt64], sigma: Double, z: Double) -> ShiftEstimate? {
        guard reps.count == a.count, a.count == b.count, reps.allSatisfy({ $0.isFinite }) else { return nil }
        var pd = PairDifferences()
        for k in reps.indices {
            if a[k] > 0 { pd.xr.append(reps[k]); pd.xw.append(Double(a[k])) }
            if b[k] > 0 { pd.yr.append(reps[k]); pd.yw.append(Double(b[k])) }
        }
        guard !pd.xr.isEmpty, !pd.yr.isEmpty else { return nil }
        pd.n2 = pd.yw.reduce(0, +)
        let total = pd.xw.reduce(0, +) * pd.n2
        let m1 = (total / 2).rounded(.up), m2 = (total / 2).rounded(.down) + 1
        let s1 = pd.select(m1)
        // The two middle order statistics are nearly always the same difference: one pass says so.
        let (f1, after1) = pd.pass(s1)
        let s2 = m2 <= f1 ? s1 : pd.select(m2, above: s1, next: after1)
        let c = max(1, (total / 2 - z * sigma).rounded(.down))
        // The interval's ends lie either side of the median: search only there.
        let lower = c <= m1 ? pd.select(c, atMost: s1) : pd.select(c)
        let upper = total + 1 - c <= f1 ? s1 : pd.select(total + 1 - c, above: s1, next: after1)
        return ShiftEstimate(estimate: (s1 + s2) / 2, lower: lower, upper: upper)
    }
}

/// The weighted pairwise differences x − y of two grouped samples, never materialised: the k×k
/// differences form rows that are sorted, so how many lie at or below d, and the next one above
/// d, take one two-pointer pass (O(k)); an order statistic is found by bisecting on the value and
/// stepping to the next difference, with no sort and no k² array.
struct PairDifferences {
    var xr: [Double] = [], xw: [Double] = []
    var yr: [Double] = [], yw: [Double] = []
    var n2 = 0.0

    init() {
        xr.reserveCapacity(32); xw.reserveCapacity(32); yr.reserveCapacity(32); yw.reserveCapacity(32)
    }

    /// Pairs with difference ≤ d, and the smallest difference above d (+inf when none).
    func pass(_ d: Double) -> (count: Double, next: Double) {
        var k = 0
        var below = 0.0
        var count = 0.0
        var next = Double.infinity
        for j in xr.indices {
            // The difference xr[j] − yr[k] falls as k rises; skip those still above d.
            while k < yr.count && xr[j] - yr[k] > d { below += yw[k]; k += 1 }
            count += xw[j] * (n2 - below)
            if k > 0 { next = min(next, xr[j] - yr[k - 1]) }
        }
        return (count, next)
    }

    /// The smallest difference with at least m pairs at or below it (1 ≤ m ≤ N). The pivot is
    /// interpolated on the counts (the pairs' distribution is close to smooth, so this lands in a
    /// few passes), every other pivot a plain bisection so that the bracket always at least halves;
    /// a pivot is never below the next difference, so every pass also rules out one.
    func select(_ m: Double) -> Double {
        let lo = xr[0] - yr[yr.count - 1]
        let (flo, next) = pass(lo)
        if flo >= m { return lo }
        return search(m, lo: lo, flo: flo, candidate: next, hi: xr[xr.count - 1] - yr[0], fhi: xw.reduce(0, +) * n2)
    }

    /// `select` knowing that the answer is at most `hi` (F(hi) ≥ m).
    func select(_ m: Double, atMost hi: Double) -> Double {
        let lo = xr[0] - yr[yr.count - 1]
        let (flo, next) = pass(lo)
        if flo >= m { return lo }
        return search(m, lo: lo, flo: flo, candidate: next, hi: hi, fhi: pass(hi).count)
    }

    /// `select` knowing that fewer than m pairs are ≤ `lo`, `next` the difference after it.
    func select(_ m: Double, above lo: Double, next: Double) -> Double {
        search(m, lo: lo, flo: pass(lo).count, candidate: next, hi: xr[xr.count - 1] - yr[0], fhi: xw.reduce(0, +) * n2)
    }

    private func search(_ m: Double, lo: Double, flo: Double, candidate: Double, hi: Double, fhi: Double) -> Double {
        var lo = lo, flo = flo, candidate = candidate, hi = hi, fhi = fhi
        var bisect = false
        // Invariant: F(lo) < m ≤ F(hi); the answer is a difference in (lo, hi], candidate the
        // smallest difference above lo.
        while candidate < hi {
            var t = bisect ? lo + (hi - lo) / 2 : lo + (hi - lo) * ((m - flo) / (fhi - flo))
            bisect.toggle()
            if !(t >= candidate) { t = candidate }
            if !(t < hi) { t = candidate }
            let (ft, next) = pass(t)
            if ft >= m {
                if t == candidate { return candidate }
                hi = t; fhi = ft
            } else {
                lo = t; flo = ft; candidate = next
            }
        }
        return candidate
    }
}
