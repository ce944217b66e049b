import Testing
import TowerDomain

/// Hand-computed cases, one per rule of Prometheus's `BucketQuantile` (promql/quantile.go).
/// Bounds and counts are chosen exact in binary so the expected values are exact too.
@Suite struct QuantileTests {
    typealias B = Bucket
    static let inf = Double.infinity
    /// 10 observations: 2 ≤ 1, 4 in (1,2], 2 in (2,4], 2 above 4.
    static let basic = [B(le: 1, count: 2), B(le: 2, count: 6), B(le: 4, count: 8), B(le: inf, count: 10)]

    func q(_ q: Double, _ b: [Bucket]) -> Double? { Quantile.histogramQuantile(q, b) }

    @Test func outOfRangeAndNaNQuantiles() {
        #expect(q(-0.1, Self.basic) == -.infinity)
        #expect(q(1.1, Self.basic) == .infinity)
        #expect(q(.nan, Self.basic)?.isNaN == true)
        // The q checks come first: even buckets that would give NaN answer ±Inf.
        #expect(q(2, [B(le: 1, count: 1)]) == .infinity)
    }

    @Test func noBucketsIsNoAnswer() {
        #expect(q(0.5, []) == nil)
    }

    @Test func highestBucketMustBeInf() {
        #expect(q(0.5, [B(le: 1, count: 2), B(le: 2, count: 6)])?.isNaN == true)
    }

    @Test func fewerThanTwoBucketsIsNaN() {
        #expect(q(0.5, [B(le: Self.inf, count: 5)])?.isNaN == true)
        // Two +Inf buckets merge into one.
        #expect(q(0.5, [B(le: Self.inf, count: 3), B(le: Self.inf, count: 2)])?.isNaN == true)
    }

    @Test func noObservationsIsNaN() {
        #expect(q(0.5, [B(le: 1, count: 0), B(le: Self.inf, count: 0)])?.isNaN == true)
    }

    @Test func interpolatesLinearlyInsideTheBucket() {
        // rank 5 falls in (1,2] holding 4 (2…6): 1 + 1 × (5−2)/4.
        #expect(q(0.5, Self.basic) == 1.75)
        // rank 7.5 falls in (2,4] holding 2 (6…8): 2 + 2 × 1.5/2.
        #expect(q(0.75, Self.basic) == 3.5)
    }

    @Test func firstBucketStartsAtZero() {
        // rank 1 of the 2 in (0,1].
        #expect(q(0.1, Self.basic) == 0.5)
    }

    @Test func firstBucketAtOrBelowZeroReturnsItsBound() {
        let b = [B(le: -1, count: 2), B(le: 1, count: 4), B(le: Self.inf, count: 4)]
        #expect(q(0.25, b) == -1)
        let z = [B(le: 0, count: 2), B(le: 1, count: 4), B(le: Self.inf, count: 4)]
        #expect(q(0.25, z) == 0)
        // Past the first bucket it interpolates as usual, from -1 up to 1.
        #expect(q(0.75, b) == 0)
    }

    @Test func rankInTheInfBucketGivesTheSecondHighestBound() {
        #expect(q(0.99, Self.basic) == 4)
        #expect(q(0.81, Self.basic) == 4)
    }

    @Test func unsortedInputIsSorted() {
        #expect(q(0.5, Self.basic.reversed()) == 1.75)
        #expect(q(0.5, [Self.basic[3], Self.basic[1], Self.basic[0], Self.basic[2]]) == 1.75)
    }

    @Test func duplicateBoundsAreMerged() {
        // le="1" twice (e.g. "1" and "1.0" summed apart): counts add up to the 2 of `basic`.
        let b = [B(le: 1, count: 1), B(le: 1, count: 1), B(le: 2, count: 6), B(le: 4, count: 8), B(le: Self.inf, count: 10)]
        #expect(q(0.5, b) == 1.75)
    }

    @Test func decreasingCountsAreRaisedToTheMaximumSoFar() {
        // le=2 says 3 after le=1 said 4: it becomes 4. rank 5 is then in (2,4] holding 4 (4…8):
        // 2 + 2 × 1/4. Without the fix it would read 2 + 2 × 2/5 = 2.8.
        let b = [B(le: 1, count: 4), B(le: 2, count: 3), B(le: 4, count: 8), B(le: Self.inf, count: 10)]
        #expect(q(0.5, b) == 2.5)
        // The maximum carries on over several lower counts: le=2 and le=3 both become 4, and
        // rank 6 is in (3,4] holding 4 (4…8): 3 + 1 × 2/4. Unfixed it would be 3 + 4/6.
        let c = [B(le: 1, count: 4), B(le: 2, count: 3), B(le: 3, count: 2), B(le: 4, count: 8), B(le: Self.inf, count: 8)]
        #expect(q(0.75, c) == 3.5)
    }

    @Test func smallRelativeDeltasAreIgnored() {
        // 1e12 → 1e12+1 differs by 5e-13 of the sum, under the 1e-12 tolerance: it is noise, so
        // le=2 and +Inf keep 1e12, and q=1 lands in the first bucket. Read literally, it would be 2.
        let b = [B(le: 1, count: 1e12), B(le: 2, count: 1e12 + 1), B(le: Self.inf, count: 1e12 + 1)]
        #expect(q(1, b) == 1)
        // Also a tiny decrease, which is noise rather than a forced fix.
        let d = [B(le: 1, count: 1e12 + 1), B(le: 2, count: 1e12), B(le: Self.inf, count: 1e12 + 1)]
        #expect(q(1, d) == 1)
    }

    @Test func smallDeltasAreMeasuredFromTheLastAcceptedCount() {
        // le=2 (1e12+1.5) is noise against 1e12 and is set to 1e12. le=4 (1e12+3) is then compared
        // with 1e12, not with 1e12+1.5: 3/(2e12) = 1.5e-12 is over the tolerance, so it stands.
        // q=1: rank 1e12+3 is first reached at le=4, in (2,4] holding 3: 2 + 2 × 3/3 = 4. Had the
        // comparison moved on to 1e12+1.5, le=4 would be noise too (1e12+1.5), the rank first
        // reached at le=8, and the answer 8.
        let b = [B(le: 1, count: 1e12), B(le: 2, count: 1e12 + 1.5), B(le: 4, count: 1e12 + 3), B(le: 8, count: 1e12 + 3),
                 B(le: Self.inf, count: 1e12 + 3)]
        #expect(q(1, b) == 4)
    }

    @Test func quantileOne() {
        // All observations at or below 4: q=1 is the top of (2,4].
        let b = [B(le: 1, count: 2), B(le: 2, count: 6), B(le: 4, count: 10), B(le: Self.inf, count: 10)]
        #expect(q(1, b) == 4)
        // Some above 4: q=1 is in the +Inf bucket, so the second-highest bound.
        #expect(q(1, Self.basic) == 4)
        // An empty top of the range: rank 10 is first reached at le=2, whose upper bound it is.
        let e = [B(le: 1, count: 2), B(le: 2, count: 10), B(le: 4, count: 10), B(le: Self.inf, count: 10)]
        #expect(q(1, e) == 2)
    }

    @Test func quantileZero() {
        // rank 0 is reached by the first bucket; with observations in it, the answer is its lower
        // bound 0.
        #expect(q(0, Self.basic) == 0)
        // With none in it upstream computes 0 + 1 × 0/0: NaN, and so does Tower.
        #expect(q(0, [B(le: 1, count: 0), B(le: 2, count: 4), B(le: Self.inf, count: 4)])?.isNaN == true)
    }
}
