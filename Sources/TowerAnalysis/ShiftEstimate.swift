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

    /// `reps` are the shared groups' representatives; `a`, `b` the canary's and the baseline's
    /// counts; nil when a side is empty.
    public static func hodgesLehmann(reps: [Double], _ a: [UInt64], _ b: [UInt64], sigma: Double, confidence: Double) -> ShiftEstimate? {
        guard reps.count == a.count, a.count == b.count else { return nil }
        var pairs: [(d: Double, w: Double)] = []
        pairs.reserveCapacity(a.count * a.count)
        var n1 = 0.0, n2 = 0.0
        for k in b.indices where b[k] > 0 { n2 += Double(b[k]) }
        for j in a.indices where a[j] > 0 {
            n1 += Double(a[j])
            for k in b.indices where b[k] > 0 {
                pairs.append((reps[j] - reps[k], Double(a[j]) * Double(b[k])))
            }
        }
        guard !pairs.isEmpty else { return nil }
        pairs.sort { $0.d < $1.d }
        let total = n1 * n2
        // The smallest difference with at least m pairs at or below it.
        func orderStatistic(_ m: Double) -> Double {
            var cumulative = 0.0
            for p in pairs {
                cumulative += p.w
                if cumulative >= m { return p.d }
            }
            return pairs[pairs.count - 1].d
        }
        let median = (orderStatistic((total / 2).rounded(.up)) + orderStatistic((total / 2).rounded(.down) + 1)) / 2
        let alpha = confidence > 0 && confidence < 1 ? 1 - confidence : 0.02
        let z = Normal.quantile(1 - alpha / 2)
        let c = max(1, (total / 2 - z * sigma).rounded(.down))
        return ShiftEstimate(estimate: median, lower: orderStatistic(c), upper: orderStatistic(total + 1 - c))
    }
}
