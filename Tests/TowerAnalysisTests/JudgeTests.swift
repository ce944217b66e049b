import Foundation
import Testing
import TowerDomain
@testable import TowerAnalysis

@Suite struct JudgeTests {
    static let bounds: [Double] = [5, 10, 25, 50, 100, 250, 500, .infinity]

    /// Cumulative buckets from per-bucket counts.
    static func buckets(_ counts: [Double]) -> [Bucket] {
        var c = 0.0
        return zip(bounds, counts).map { le, n in c += n; return Bucket(le: le, count: c) }
    }

    static func window(_ name: String, weight: Int, _ counts: [Double]?, requests: Double? = nil, errors: Double? = 0) -> VersionWindow {
        VersionWindow(name: name, weight: weight, latencyBuckets: counts.map(buckets),
                      requests: requests ?? counts?.reduce(0, +), errors: errors)
    }

    static let base: [Double] = [100, 900, 2000, 800, 150, 40, 10, 0]

    @Test func identicalVersionsPass() {
        let j = Judge.judge(canary: Self.window("v2", weight: 10, Self.base.map { $0 / 10 }),
                            baseline: Self.window("v1", weight: 90, Self.base))
        #expect(j.verdict == .pass)
        #expect(j.baseline == "v1")
        #expect(j.latency.samples == [400, 4000])
        // The rank test does not reject, so there is no shift interval to weigh (nor its cost).
        #expect(j.latency.pValue == 1)
        #expect(j.latency.shiftMs == nil && j.latency.intervalMs == nil)
        #expect(j.latency.verdict == .pass && j.errors.verdict == .pass)
    }

    @Test func aBigSlowdownFails() throws {
        // The canary's requests one to two buckets up: median ~17 ms → ~40 ms.
        let slow: [Double] = [0, 10, 60, 200, 100, 30, 5, 1]
        let j = Judge.judge(canary: Self.window("v2", weight: 10, slow), baseline: Self.window("v1", weight: 90, Self.base))
        #expect(j.latency.verdict == .fail)
        #expect(j.verdict == .fail)
        let p = try #require(j.latency.pValue)
        #expect(p < 0.02)
        let lower = try #require(j.latency.intervalMs?.first), median = try #require(j.latency.baselineMedianMs)
        #expect(lower > 0.25 * median)
        #expect(try #require(j.latency.shiftRelative) > 0.25)
    }

    @Test func aRealButSmallShiftPasses() throws {
        // Significant with this many requests, but within 0.25 × the median: not an alarm.
        let x: [Double] = [1000, 8500, 20000, 8000, 1500, 400, 100, 0]
        let y: [Double] = [1000, 9500, 20000, 7000, 1500, 400, 100, 0]
        let l = Judge.latency(canary: Self.buckets(x), baseline: Self.buckets(y))
        #expect(try #require(l.pValue) < 0.02)
        #expect(l.verdict == .pass)
    }

    @Test func fewSamplesAreInconclusiveAndSayHowManyAreMissing() {
        let j = Judge.judge(canary: Self.window("v2", weight: 10, [0, 1, 2, 2, 1, 0, 0, 0]), baseline: Self.window("v1", weight: 90, Self.base))
        #expect(j.latency.verdict == .inconclusive)
        #expect(j.latency.samplesNeeded == [44, 0])
        #expect(j.errors.samplesNeeded == [44, 0])
        #expect(j.verdict == .inconclusive)
    }

    @Test func zeroSamplesAreInconclusiveWithoutAPValue() {
        let l = Judge.latency(canary: Self.buckets([0, 0, 0, 0, 0, 0, 0, 0]), baseline: Self.buckets(Self.base))
        #expect(l.verdict == .inconclusive)
        #expect(l.pValue == nil)
        #expect(l.samplesNeeded == [50, 0])
    }

    @Test(arguments: [Double.nan, -3, .infinity])
    func badBucketRatesAreNoData(_ bad: Double) {
        var counts = Self.base
        counts[3] = bad
        let j = Judge.judge(canary: Self.window("v2", weight: 10, counts, requests: 1000), baseline: Self.window("v1", weight: 90, Self.base))
        #expect(j.latency.verdict == .noData)
        #expect(j.latency.reason?.contains("canary histogram") == true)
        #expect(j.verdict == .noData)
    }

    @Test func missingFiguresAreNoData() {
        let j = Judge.judge(canary: Self.window("v2", weight: 10, nil, requests: nil, errors: nil), baseline: Self.window("v1", weight: 90, Self.base))
        #expect(j.latency.verdict == .noData && j.errors.verdict == .noData && j.verdict == .noData)
    }

    @Test func onePointMoreErrorsFailsWhereTheTwoTimesRuleWouldNot() {
        // 2.5 % against 1.5 %: under twice the baseline, yet a real regression.
        let e = Judge.errors(canaryRequests: 10_000, canaryErrors: 250, baselineRequests: 100_000, baselineErrors: 1500)
        #expect(e.verdict == .fail)
        #expect(e.test == .z)
        #expect(e.ratios == [0.025, 0.015])
    }

    @Test func aTinyErrorRiseWithinTheToleranceDoesNotFail() throws {
        // 0.13 % against 0.10 % over a million requests: significant but under 0.1 point.
        let e = Judge.errors(canaryRequests: 1_000_000, canaryErrors: 1300, baselineRequests: 9_000_000, baselineErrors: 9000)
        #expect(try #require(e.pValue) < 0.02)
        #expect(e.verdict == .pass)
    }

    @Test func fewErrorsOnSmallCountsUseFisherAndPass() {
        let e = Judge.errors(canaryRequests: 60, canaryErrors: 2, baselineRequests: 600, baselineErrors: 6)
        #expect(e.test == .fisher)
        #expect(e.verdict == .pass)
    }

    @Test func theBaselineIsTheMostWeightedUnlessNamed() {
        let vs = [Self.window("v1", weight: 30, Self.base), Self.window("v2", weight: 60, Self.base), Self.window("v3", weight: 10, Self.base)]
        let byWeight = Judge.endpoint(vs)
        #expect(Set(byWeight.keys) == ["v1", "v3"])
        #expect(byWeight["v1"]?.baseline == "v2")
        let named = Judge.endpoint(vs, baseline: "v1")
        #expect(Set(named.keys) == ["v2", "v3"])
        let absent = Judge.endpoint(vs, baseline: "v9")
        #expect(absent.count == 3 && absent.values.allSatisfy { $0.verdict == .noData })
    }

    @Test func thePolicyIsHonoured() {
        let slow: [Double] = [0, 10, 60, 200, 100, 30, 5, 1]
        let lax = JudgePolicy(latencyTolerance: 5)
        #expect(Judge.latency(canary: Self.buckets(slow), baseline: Self.buckets(Self.base), policy: lax).verdict == .pass)
        let strict = JudgePolicy(minSamples: 1000)
        #expect(Judge.latency(canary: Self.buckets(slow), baseline: Self.buckets(Self.base), policy: strict).verdict == .inconclusive)
    }

    @Test func theJSONHasTheIssuesShapeWithNulls() throws {
        let j = Judge.judge(canary: Self.window("v2", weight: 10, [0, 1, 2, 2, 1, 0, 0, 0]), baseline: Self.window("v1", weight: 90, Self.base))
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let text = String(decoding: try enc.encode(j), as: UTF8.self)
        #expect(text.hasPrefix(#"{"baseline":"v1","confidence":0.98,"errors":{"interval":["#))
        #expect(text.contains(#""samples":[6,4000]"#))
        #expect(text.contains(#""verdict":"inconclusive""#))
        let nodata = Judge.judge(canary: Self.window("v2", weight: 10, nil), baseline: Self.window("v1", weight: 90, Self.base))
        let t2 = String(decoding: try enc.encode(nodata), as: UTF8.self)
        #expect(t2.contains(#""latency":{"baselineMedianMs":null,"intervalMs":null,"intervalRelative":null,"pValue":null,"#))
        #expect(t2.contains(#""verdict":"no-data""#))
        #expect(try JSONDecoder().decode(Judgement.self, from: enc.encode(j)) == j)
    }

    @Test func overallVerdicts() {
        #expect(Verdict.combined([.pass, .pass]) == .pass)
        #expect(Verdict.combined([.pass, .fail]) == .fail)
        #expect(Verdict.combined([.noData, .fail]) == .fail)
        #expect(Verdict.combined([.inconclusive, .noData]) == .noData)
        #expect(Verdict.combined([.pass, .inconclusive]) == .inconclusive)
        #expect(Verdict.combined([]) == .noData)
    }

    @Test func theBenchmarkJudgesTheWholeFleet() {
        let f = JudgeBenchmark.run(endpoints: 20, versions: 3, buckets: 20, repeats: 1)
        #expect(f.judgements == 40)
    }
}

@Suite struct JudgePolicyFromSpecTests {
    @Test func absentSettingsAreTheDefaultsAndPointsBecomeARatio() {
        #expect(JudgePolicy(nil) == .standard)
        let p = JudgePolicy(JudgeSpec(errorTolerancePoints: 0.5, minSamples: 200))
        #expect(p.errorTolerance == 0.005 && p.minSamples == 200)
        #expect(p.confidence == 0.98 && p.latencyTolerance == 0.25)
    }

    @Test func theEndpointsSettingsDecideTheVerdict() {
        // 400 canary requests: enough by default, not by a spec asking for 1,000.
        let canary = JudgeTests.window("v2", weight: 10, JudgeTests.base.map { $0 / 10 })
        let base = JudgeTests.window("v1", weight: 90, JudgeTests.base)
        #expect(Judge.endpoint([base, canary], policy: JudgePolicy(nil))["v2"]?.verdict == .pass)
        let strict = Judge.endpoint([base, canary], policy: JudgePolicy(JudgeSpec(minSamples: 1000)))["v2"]
        #expect(strict?.verdict == .inconclusive)
        #expect(strict?.latency.samplesNeeded == [600, 0])
    }
}
