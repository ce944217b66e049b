import Testing
import TowerDomain
@testable import TowerAnalysis

@Suite struct BinnedLatenciesTests {
    func cumulative(_ bounds: [Double], _ counts: [Double]) -> [Bucket] {
        zip(bounds, counts).map { Bucket(le: $0, count: $1) }
    }

    @Test func fractionalCountsRoundOnTheCumulativeSoTheTotalIsKept() throws {
        // 2.4, 2.4, 2.4 per bucket: rounded per bucket would give 6; the cumulative 7.2 gives 7.
        let h = try BinnedLatencies.fromCumulative(cumulative([10, 20, .infinity], [2.4, 4.8, 7.2])).get()
        #expect(h.counts == [2, 3, 2])
        #expect(h.total == 7)
    }

    @Test(arguments: [
        ([1.0, .nan, 3.0], BinnedLatencies.Problem.badCount(le: 20)),
        ([1.0, -2.0, 3.0], .badCount(le: 20)),
        ([1.0, 2.0, .infinity], .badCount(le: .infinity)),
        ([5.0, 4.0, 6.0], .notMonotone(le: 20)),
        ([1.0, 2.0, 1e17], .tooLarge(le: .infinity)),
    ])
    func invalidCountsAreProblemsNotCrashes(_ counts: [Double], _ problem: BinnedLatencies.Problem) {
        let r = BinnedLatencies.fromCumulative(cumulative([10, 20, .infinity], counts))
        #expect(r == .failure(problem))
    }

    @Test func boundsMustAscend() {
        #expect(BinnedLatencies.fromCumulative(cumulative([10, 10, .infinity], [1, 2, 3])) == .failure(.boundsNotAscending(10)))
        #expect(BinnedLatencies.fromCumulative(cumulative([.nan, 10], [1, 2])).isFailure)
        #expect(BinnedLatencies.fromCumulative([]) == .failure(.noBuckets))
    }

    @Test func floatingNoiseInTheCumulativeIsNotAFall() throws {
        let h = try BinnedLatencies.fromCumulative(cumulative([10, 20, .infinity], [1000, 999.9999999999, 1500])).get()
        #expect(h.counts == [1000, 0, 500])
    }

    @Test func differentBoundsAreComparedOnTheSharedOnes() throws {
        let x = try #require(BinnedLatencies(bounds: [5, 10, 25, 50, .infinity], counts: [1, 2, 3, 4, 5]))
        let y = try #require(BinnedLatencies(bounds: [10, 50, 100], counts: [6, 7, 8]))
        let (ax, ay) = try BinnedLatencies.aligned(x, y).get()
        #expect(ax.bounds == [10, 50, .infinity])
        #expect(ax.counts == [3, 7, 5])
        #expect(ay.counts == [6, 7, 8])
    }

    @Test func noSharedFiniteBoundIsNoComparison() throws {
        let x = try #require(BinnedLatencies(bounds: [0.005, 0.01, .infinity], counts: [1, 2, 3]))
        let y = try #require(BinnedLatencies(bounds: [5, 10, .infinity], counts: [1, 2, 3]))
        #expect(BinnedLatencies.aligned(x, y).isFailure)
    }

    @Test func representativesAreMidpointsAndInfSitsAtTheLastBound() throws {
        let h = try #require(BinnedLatencies(bounds: [10, 20, 40, .infinity], counts: [1, 1, 1, 1]))
        #expect(h.representatives == [5, 15, 30, 40])
    }

    @Test func theMedianIsPrometheuss() throws {
        let h = try #require(BinnedLatencies(bounds: [10, 20, 40], counts: [10, 20, 10]))
        // rank 20 of 40 lies halfway through (10, 20]: Prometheus interpolates to 15.
        #expect(h.median == 15)
    }
}

extension Result {
    var isFailure: Bool { if case .failure = self { true } else { false } }
}
