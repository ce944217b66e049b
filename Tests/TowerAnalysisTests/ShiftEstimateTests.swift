import Testing
@testable import TowerAnalysis

@Suite struct ShiftEstimateTests {
    @Test(arguments: hlReferences.map(\.name))
    func equalsTheBruteForceReference(_ name: String) throws {
        let r = try #require(hlReferences.first { $0.name == name })
        let h = try #require(BinnedLatencies(bounds: r.bounds, counts: r.x))
        let mw = try #require(MannWhitney.test(r.x, r.y))
        let s = try #require(ShiftEstimate.hodgesLehmann(reps: h.representatives, r.x, r.y, sigma: mw.sigma, confidence: 0.98))
        #expect(s == ShiftEstimate(estimate: r.shift, lower: r.lower, upper: r.upper))
    }

    @Test func anEmptySideHasNoEstimate() {
        #expect(ShiftEstimate.hodgesLehmann(reps: [1, 2], [0, 0], [1, 1], sigma: 1, confidence: 0.98) == nil)
    }

    @Test func hugeCountsGiveTheBucketShift() throws {
        let reps = [5.0, 15, 30, 60]
        let x: [UInt64] = [0, 1_000_000_000, 0, 0], y: [UInt64] = [1_000_000_000, 0, 0, 0]
        let mw = try #require(MannWhitney.test(x, y))
        let s = try #require(ShiftEstimate.hodgesLehmann(reps: reps, x, y, sigma: mw.sigma, confidence: 0.98))
        #expect(s == ShiftEstimate(estimate: 10, lower: 10, upper: 10))
    }
}
