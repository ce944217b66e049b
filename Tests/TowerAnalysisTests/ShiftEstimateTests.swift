import Testing
import TowerDomain
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

    /// The two-pointer selection against sorting every pair, on seeded random histograms with
    /// empty buckets and repeated differences.
    @Test func selectionEqualsSortingEveryPair() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<300 {
            let k = Int(rng.next() % 12) + 1
            var reps: [Double] = []
            var r = 0.0
            for _ in 0..<k { r += Double(rng.next() % 4 + 1) * (rng.next() % 2 == 0 ? 1 : 2.5); reps.append(r) }
            let a = (0..<k).map { _ in rng.next() % 3 == 0 ? 0 : rng.next() % 7 }
            let b = (0..<k).map { _ in rng.next() % 3 == 0 ? 0 : rng.next() % 7 }
            var pd = PairDifferences()
            var all: [Double] = []
            for i in 0..<k {
                if a[i] > 0 { pd.xr.append(reps[i]); pd.xw.append(Double(a[i])) }
                if b[i] > 0 { pd.yr.append(reps[i]); pd.yw.append(Double(b[i])) }
                for j in 0..<k { all += Array(repeating: reps[i] - reps[j], count: Int(a[i] * b[j])) }
            }
            guard !all.isEmpty else { continue }
            pd.n2 = pd.yw.reduce(0, +)
            all.sort()
            for m in Set([1, all.count, (all.count + 1) / 2, Int(rng.next() % UInt64(all.count)) + 1]) {
                #expect(pd.select(Double(m)) == all[m - 1], "m \(m) of \(all.count), reps \(reps), a \(a), b \(b)")
            }
        }
    }
}
