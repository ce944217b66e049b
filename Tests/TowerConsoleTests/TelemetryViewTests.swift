import Foundation
import TerminalUI
import Testing
import TowerDomain
@testable import TowerConsole

@Suite struct TelemetryViewTests {
    static func live(width: Int = 80, height: Int = 24) -> ConsoleState {
        var s = CF.loaded(width: width, height: height)
        let at = CF.now.addingTimeInterval(-1)
        var figures: [String: Figures] = [
            "alpha": Figures(rps: 52.4, errorRatio: 0.021, p50Ms: 41, p95Ms: 180, p99Ms: 950, samples: 3144, readAt: at),
            "alpha/v1": Figures(rps: 47.1, errorRatio: 0.001, p50Ms: 38, p95Ms: 120, p99Ms: 190, samples: 2826, readAt: at),
            "alpha/v2": Figures(rps: 5.3, errorRatio: 0.2, p50Ms: 90, p95Ms: 700, p99Ms: 1480, samples: 318, readAt: at),
            "doc-embed": Figures(rps: 140, errorRatio: 0, p50Ms: 12, p95Ms: 30, p99Ms: 48, samples: 8400, readAt: at),
            // fraud-score: the source has no series for it — "no data", not 0.
            "translate-ru": Figures(rps: 3.2, errorRatio: nil, p50Ms: nil, p95Ms: nil, p99Ms: nil, samples: 0, readAt: at),
        ]
        figures["vision-ocr"] = Figures(rps: 0, errorRatio: nil, p50Ms: nil, p95Ms: nil, p99Ms: nil, samples: 0, readAt: at)
        _ = update(&s, .historyLoaded(["alpha": [200, 210, 190, 220, 400, 800, 900], "doc-embed": [50, 48, nil, 47]]))
        _ = update(&s, .figuresLoaded(source: "prometheus", figures, at: at))
        s.now = CF.now
        return s
    }

    @Test func figuresArriveWithTheirHistoryAndTheSourcesHealth() {
        let s = Self.live()
        #expect(s.telemetry.history["alpha"]?.last == 950)
        #expect(s.telemetry.history["alpha"]?.count == 8)
        #expect(s.telemetry.sources == [SourceHealth(name: "prometheus", lastSuccess: CF.now.addingTimeInterval(-1))])
        var t = s
        _ = update(&t, .sourceFailed(source: "prometheus", "timed out after 2 s", at: CF.now.addingTimeInterval(30)))
        #expect(t.telemetry.sources[0].lastError == "timed out after 2 s")
        #expect(t.telemetry.isStale(t.telemetry.figures["alpha"]!, now: t.now))
        #expect(view(t).text.contains("~950ms"), "stale figures are marked, not shown as live")
        #expect(view(t).text.contains("prometheus ✗ 31s old:"))
    }

    @Test func aSourcesWarningsShowInTheHeader() {
        var s = Self.live()
        _ = update(&s, .figuresLoaded(source: "prometheus", [:], at: CF.now, warnings: ["results truncated due to limit"]))
        #expect(s.telemetry.sources[0].warnings == ["results truncated due to limit"])
        #expect(view(s).text.contains("prometheus ! 0s warns:"))
        _ = update(&s, .figuresLoaded(source: "prometheus", [:], at: CF.now))
        #expect(!view(s).text.contains("warns"))
    }

    @Test func noDataIsNotZero() {
        let text = view(Self.live()).text
        let fraud = text.split(separator: "\n").first { $0.contains("fraud-score") }!
        #expect(fraud.contains("—") && !fraud.contains(" 0%"))
    }

    @Test(arguments: SnapshotTests.sizes) func liveOverview(_ size: (Int, Int)) throws {
        try assertSnapshot(view(Self.live(width: size.0, height: size.1)), named: "live-overview-\(size.0)x\(size.1)")
    }

    /// Figures without window counts give no verdict: a point estimate (v2's 20 % errors) is
    /// shown, never flagged (the statistics need the counts; JudgementTests has them).
    @Test(arguments: SnapshotTests.sizes) func liveEndpointWithoutWindowCountsJudgesNothing(_ size: (Int, Int)) throws {
        var s = Self.live(width: size.0, height: size.1)
        CF.keys(&s, [.enter])
        let f = view(s)
        #expect(f.text.contains("verdicts: no data — the source gives no window counts"))
        #expect(!f.text.contains("✗"))
        try assertSnapshot(f, named: "live-endpoint-\(size.0)x\(size.1)")
    }

    @Test func sparklinesScaleAndKeepGaps() {
        #expect(Sparkline.render([1, 2, 4, 8], width: 4) == "▂▃▅█")
        #expect(Sparkline.render([1, nil, 1], width: 5) == "  █ █")
        #expect(Sparkline.render([0, 0], width: 2) == "▁▁")
        #expect(Sparkline.render([0, 8], width: 2, ascii: true) == "_#")
    }

    /// Side by side, sparklines share one scale (issue 11): a flat 190 ms line must not look like a
    /// flat 950 ms one, and the title names the top.
    @Test func sparklinesOnAScreenShareOneScaleNamedInTheTitle() {
        let top = Sparkline.top(of: [[100, 200], [800, 400, nil]], width: 12)
        #expect(top == 800)
        #expect(Sparkline.render([100, 200], width: 2, top: top) == "▂▃")
        #expect(Sparkline.render([800, 400], width: 2, top: top) == "█▅")
        #expect(Sparkline.top(of: [[nil], []], width: 4) == nil)
        let s = Self.live(width: 120, height: 30)
        #expect(view(s).text.contains("P99 ≤950ms"), "the overview's trend column names its scale")
    }
}
