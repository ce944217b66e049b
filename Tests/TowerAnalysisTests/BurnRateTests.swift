import Foundation
import Testing
import TowerDomain
@testable import TowerAnalysis

@Suite struct BurnRateTests {
    static func all(_ r: Double) -> [BurnWindow: Double] {
        Dictionary(uniqueKeysWithValues: BurnWindow.allCases.map { ($0, r) })
    }

    @Test func burnIsTheBadRatioOverTheBudget() throws {
        let r = BurnReport.evaluate(badRatios: [.m5: 0.0144], periodBadRatio: 0.0002, objective: 0.999)
        #expect(close(try #require(r.burnRates[.m5]), 14.4, 1e-12))
        #expect(close(try #require(r.budgetRemaining), 0.8, 1e-12))
    }

    /// (window → burn rate) → alert, from the SRE workbook's table at 30 days.
    @Test(arguments: [
        ([BurnWindow.h1: 15.0, .m5: 15.0], BurnAlert.page, "1h/5m"),
        ([.h1: 15.0, .m5: 14.4], .none, nil),          // both must exceed; equal is not above
        ([.h1: 13.0, .m5: 20.0, .h6: 7.0, .m30: 6.5], .page, "6h/30m"),
        ([.h6: 7.0, .m30: 5.0, .d1: 3.5, .h2: 4.0], .ticket, "1d/2h"),
        ([.d3: 1.2, .h6: 1.1], .ticket, "3d/6h"),
        ([.d3: 1.2, .h6: 0.9], .none, nil),
        ([.h1: 20.0, .m5: 20.0, .d3: 2.0, .h6: 2.0], .page, "1h/5m"),
        ([:], .none, nil),
    ] as [([BurnWindow: Double], BurnAlert, String?)])
    func theAlertTable(_ burns: [BurnWindow: Double], _ alert: BurnAlert, _ firing: String?) {
        let r = BurnReport.evaluate(badRatios: burns.mapValues { $0 * 0.001 }, periodBadRatio: nil, objective: 0.999)
        #expect(r.alert == alert)
        #expect(r.firing == firing)
    }

    @Test func missingWindowsAreNullAndOnlyPresentPairsAlert() throws {
        let r = BurnReport.evaluate(badRatios: [.h1: 0.02, .m5: 0.02, .m30: .nan, .h6: -1], periodBadRatio: nil, objective: 0.999)
        #expect(r.alert == .page)
        #expect(r.burnRates[.m30] == nil && r.burnRates[.h6] == nil)
        #expect(r.missingPairs == ["6h/30m", "1d/2h", "3d/6h"])
        #expect(r.budgetRemaining == nil)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let text = String(decoding: try enc.encode(r), as: UTF8.self)
        #expect(text.contains(#""30m":null"#) && text.contains(#""3d":null"#))
    }

    @Test func sloStatusHasTheIssuesShape() throws {
        let slo = SLO(availability: 0.999, latencyMs: 300, latencyTarget: 0.99, period: "30d")
        let s = SLOStatus.evaluate(slo, errorRatios: Self.all(0.0005), periodErrorRatio: 0.00017,
                                   slowRatios: Self.all(0.2), periodSlowRatio: 0.001)
        #expect(s.alert == .none)
        #expect(s.latency?.alert == .page)
        #expect(s.overallAlert == .page)
        #expect(close(try #require(s.budgetRemaining), 0.83, 1e-12))
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let data = try enc.encode(s)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix(#"{"alert":"none","availability":0.999,"budgetRemaining":0.83"#))
        #expect(try JSONDecoder().decode(SLOStatus.self, from: data) == s)
    }

    @Test func sloSpecsDecodeAndSayWhatIsWrong() throws {
        let slo = try JSONDecoder().decode(SLO.self, from: Data(#"{"availability":0.999,"latencyMs":300,"latencyTarget":0.99,"period":"28d"}"#.utf8))
        #expect(slo.periodSeconds == 28 * 86_400)
        #expect(slo.problem == nil)
        #expect(SLO(availability: 1).problem != nil)
        #expect(SLO(availability: 0.99, latencyMs: 300).problem != nil)
        #expect(SLO.seconds(ofPeriod: "30x") == nil && SLO.seconds(ofPeriod: "d") == nil && SLO.seconds(ofPeriod: "-3d") == nil)
        #expect(try JSONDecoder().decode(SLO.self, from: Data(#"{"availability":0.999,"period":"month"}"#.utf8)).problem != nil)
    }
}
