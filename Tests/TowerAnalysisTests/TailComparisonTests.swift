import Foundation
import Testing
import TowerDomain
@testable import TowerAnalysis

@Suite struct TailComparisonTests {
    @Test(arguments: tailReferences)
    func thresholdCountsAndPValueEqualSciPy(_ r: TailReference) throws {
        let x = try #require(BinnedLatencies(bounds: r.bounds, counts: r.x))
        let y = try #require(BinnedLatencies(bounds: r.bounds, counts: r.y))
        let t = try #require(TailComparison.compare(canary: x, baseline: y, z: 2.8))
        #expect(t.thresholdMs == r.thresholdMs, "\(r.name)")
        #expect(t.above == [r.aboveX, r.aboveY], "\(r.name)")
        #expect(t.test.rawValue == r.test, "\(r.name)")
        #expect(close(t.pValue, r.p), "\(r.name): \(t.pValue) vs SciPy \(r.p)")
    }

    @Test func anEmptySideHasNoTailTest() throws {
        let x = try #require(BinnedLatencies(bounds: [10, .infinity], counts: [0, 0]))
        let y = try #require(BinnedLatencies(bounds: [10, .infinity], counts: [3, 1]))
        #expect(TailComparison.compare(canary: x, baseline: y, z: 2.8) == nil)
    }

    @Test func quantilesInterpolateAsHistogramQuantile() throws {
        // 100 requests: 50 in (0, 10], 40 in (10, 20], 10 in +Inf.
        let h = try #require(BinnedLatencies(bounds: [10, 20, .infinity], counts: [50, 40, 10]))
        #expect(h.quantile(0.5) == 10)
        #expect(h.quantile(0.7) == 15)
        #expect(h.quantile(0.95) == 20)  // in +Inf: the last finite bound, as Prometheus answers
        let (lo, hi) = h.quantileInterval(0.95, z: 2)
        #expect(lo > 15 && lo <= 20)
        #expect(hi == .infinity)  // the upper end lies in +Inf: nothing bounds it
    }

    /// The simulator's baseline (p50 35 ms, p99 160 ms) against a canary whose p99 doubled: the
    /// rank test cannot tell at 360 requests, the tail test can, and latency fails.
    @Test func aDoubledP99FailsByTheTailTest() throws {
        let r = try #require(tailReferences.first { $0.name == "p99Doubled" })
        let x = try #require(BinnedLatencies(bounds: r.bounds, counts: r.x))
        let y = try #require(BinnedLatencies(bounds: r.bounds, counts: r.y))
        let l = Judge.latency(canary: x, baseline: y)
        let tail = try #require(l.tail)
        #expect(tail.verdict == .fail)
        #expect(l.verdict == .fail)
        let lower = try #require(tail.intervalMs?[0])
        let baseP95 = try #require(tail.quantileMs?[1])
        #expect(lower > 0.25 * baseP95)
        // The rank test on its own would not have failed it.
        #expect(try #require(l.pValue) >= JudgePolicy.standard.latencyAlpha || (l.intervalMs?[0] ?? 0) <= 0.25 * (l.baselineMedianMs ?? 0))
    }

    @Test func aHealthyCanaryPassesTheTailTest() throws {
        let r = try #require(tailReferences.first { $0.name == "aa" })
        let l = Judge.latency(canary: try #require(BinnedLatencies(bounds: r.bounds, counts: r.x)),
                              baseline: try #require(BinnedLatencies(bounds: r.bounds, counts: r.y)))
        #expect(l.tail?.verdict == .pass)
        #expect(l.verdict == .pass)
    }

    /// Significant, but the p95 moved by less than the tolerance: a heavier tail that is
    /// harmless by the policy is not an alarm.
    @Test func aSignificantTailShiftWithinTheToleranceDoesNotFail() throws {
        let bounds: [Double] = [50, 100, 110, 120, .infinity]
        let y: [UInt64] = [60000, 34000, 5000, 1000, 0]
        let x: [UInt64] = [60000, 33000, 5000, 2000, 0]
        let l = Judge.latency(canary: try #require(BinnedLatencies(bounds: bounds, counts: x)),
                              baseline: try #require(BinnedLatencies(bounds: bounds, counts: y)))
        let tail = try #require(l.tail)
        #expect(tail.pValue < 1e-6)
        #expect(tail.verdict == .pass)
    }

    @Test func fewSamplesLeaveTheTailInconclusive() throws {
        let bounds: [Double] = [10, 100, .infinity]
        let l = Judge.latency(canary: try #require(BinnedLatencies(bounds: bounds, counts: [0, 0, 10])),
                              baseline: try #require(BinnedLatencies(bounds: bounds, counts: [900, 90, 10])))
        #expect(l.verdict == .inconclusive)
        #expect(l.tail?.verdict == .inconclusive)
    }

    @Test func theTailEncodesUnboundedEndsAsNull() throws {
        let bounds: [Double] = [10, 100, .infinity]
        let l = Judge.latency(canary: try #require(BinnedLatencies(bounds: bounds, counts: [100, 50, 50])),
                              baseline: try #require(BinnedLatencies(bounds: bounds, counts: [100, 80, 20])))
        let json = String(decoding: try JSONEncoder().encode(l), as: UTF8.self)
        #expect(json.contains("\"tail\":{"))
        #expect(json.contains("\"intervalMs\":[null,null]") || json.contains(",null]"))
    }
}
