import Testing
@testable import TowerAnalysis

@Suite struct MannWhitneyTests {
    @Test(arguments: mwuReferences.map(\.name))
    func equalsTheReference(_ name: String) throws {
        let r = try #require(mwuReferences.first { $0.name == name })
        let mw = try #require(MannWhitney.test(r.x, r.y))
        #expect(close(mw.u, r.u), "U \(mw.u) vs \(r.u) (\(r.source))")
        #expect(close(mw.pValue, r.p), "p \(mw.pValue) vs \(r.p) (\(r.source))")
    }

    @Test func anEmptySideHasNoTest() {
        #expect(MannWhitney.test([0, 0, 0], [1, 2, 3]) == nil)
        #expect(MannWhitney.test([1, 2, 3], [0, 0, 0]) == nil)
        #expect(MannWhitney.test([1, 2], [1, 2, 3]) == nil)
    }

    @Test func swappingSidesKeepsThePValueAndMirrorsU() throws {
        let a: [UInt64] = [5, 20, 60, 100, 15], b: [UInt64] = [40, 100, 50, 10, 0]
        let ab = try #require(MannWhitney.test(a, b)), ba = try #require(MannWhitney.test(b, a))
        #expect(ab.pValue == ba.pValue)
        #expect(ab.u + ba.u == Double(ab.n1 * ab.n2))
    }

    @Test func theNormalQuantileMatchesSciPy() {
        #expect(close(Normal.quantile(0.99), normalQuantile099, 1e-13))
        #expect(close(Normal.quantile(0.01), -normalQuantile099, 1e-13))
        #expect(abs(Normal.quantile(0.5)) < 1e-15)
    }
}
