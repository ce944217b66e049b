import Testing
@testable import TowerAnalysis

@Suite struct ErrorComparisonTests {
    @Test(arguments: fisherReferences.map(\.name))
    func fisherEqualsSciPy(_ name: String) throws {
        let r = try #require(fisherReferences.first { $0.name == name })
        let c = try #require(RequestCounts(total: r.canaryErrors + r.canaryOk, errors: r.canaryErrors))
        let b = try #require(RequestCounts(total: r.baselineErrors + r.baselineOk, errors: r.baselineErrors))
        let p = ErrorComparison.fisherGreater(canary: c, baseline: b)
        #expect(close(p, r.p), "p \(p) vs \(r.p)")
    }

    @Test(arguments: zReferences.map(\.name))
    func zTestEqualsTheFormula(_ name: String) throws {
        let r = try #require(zReferences.first { $0.name == name })
        let c = try #require(RequestCounts(total: r.canaryTotal, errors: r.canaryErrors))
        let b = try #require(RequestCounts(total: r.baselineTotal, errors: r.baselineErrors))
        let p = ErrorComparison.zTest(canary: c, baseline: b)
        #expect(close(p, r.p), "p \(p) vs \(r.p)")
    }

    @Test func theSwitchNeedsSizeAndExpectedCounts() throws {
        func counts(_ e: UInt64, _ n: UInt64) -> RequestCounts { RequestCounts(total: n, errors: e)! }
        // Large but with too few errors to expect 5 in the canary's error cell: Fisher.
        #expect(!ErrorComparison.usesZTest(canary: counts(1, 100_000), baseline: counts(3, 1_000_000)))
        // Below 1000 requests on a side: Fisher however many errors.
        #expect(!ErrorComparison.usesZTest(canary: counts(100, 999), baseline: counts(1000, 100_000)))
        #expect(ErrorComparison.usesZTest(canary: counts(20, 10_000), baseline: counts(200, 100_000)))
        let cmp = try #require(ErrorComparison.compare(canary: counts(20, 10_000), baseline: counts(200, 100_000), confidence: 0.98))
        #expect(cmp.test == .z)
    }

    @Test func newcombeIntervalCoversTheDifferenceAndHandlesZeros() throws {
        let c = try #require(RequestCounts(total: 200, errors: 0)), b = try #require(RequestCounts(total: 300, errors: 0))
        let cmp = try #require(ErrorComparison.compare(canary: c, baseline: b, confidence: 0.98))
        #expect(cmp.lower < 0 && cmp.upper > 0)
        #expect(cmp.pValue == 1)
        let worse = try #require(ErrorComparison.compare(canary: RequestCounts(total: 10_000, errors: 250)!,
                                                         baseline: RequestCounts(total: 100_000, errors: 1500)!, confidence: 0.98))
        #expect(worse.lower > 0.005 && worse.upper < 0.015)
    }

    @Test(arguments: [(Double.nan, 1.0), (10, -1), (10, 11), (.infinity, 1), (1e17, 1)])
    func unreadableCountsAreNil(_ total: Double, _ errors: Double) {
        #expect(RequestCounts.rounding(total: total, errors: errors) == nil)
    }

    @Test func countsRoundToWholeRequests() {
        #expect(RequestCounts.rounding(total: 99.5, errors: 2.49) == RequestCounts(total: 100, errors: 2))
    }
}
