import Foundation
import Testing
import TowerDomain
@testable import TowerConsole

/// Figures say their window, and a version without traffic is not an incident (issue 11 item 4):
/// after a drain its 1-minute figures still move for a minute, which must not read as a live red.
@Suite struct QuietVersionTests {
    /// alpha's failing v2 (JF.judged) drained: weight 0, draining since the fixture's `now`.
    static func drainedCanary(history: [RevisionRecord]? = nil) -> ConsoleState {
        var s = JF.judged(width: 120, height: 40)
        var alpha = s.endpoints[0]
        alpha.versions[0].weight = 100
        alpha.versions[1].weight = 0
        alpha.versions[1].state = .draining
        alpha.versions[1].drainingSince = CF.now.addingTimeInterval(-95)
        alpha.revision = 4
        var list = s.endpoints
        list[0] = alpha
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: list, auditSeq: 41), at: CF.now))
        if let history { _ = update(&s, .revisionsLoaded(endpoint: "alpha", history)) }
        s.screens = [.overview, .endpoint("alpha")]
        return s
    }

    static func line(_ s: ConsoleState, _ prefix: String) -> String {
        view(s).text.split(separator: "\n").map(String.init).first { $0.hasPrefix(prefix) } ?? ""
    }

    @Test func aVersionWithoutTrafficShowsSinceWhenAndNoVerdictWord() {
        let s = Self.drainedCanary()
        #expect(s.telemetry.judgements["alpha"]?["v2"]?.verdict == .fail, "the window's tail still fails")
        let line = Self.line(s, "v2 vs v1")
        // The fixture's now is 2026-11-18T11:06:40Z; the drain began 95 s before it.
        #expect(line.contains("no new traffic since 11:05:05"), "\(line)")
        #expect(line.contains("(last window: fail"), "what the tail said stays readable: \(line)")
        #expect(!line.contains("✗"), "no red verdict mark on a version without traffic: \(line)")
        // Nor on the overview.
        var o = s
        o.screens = [.overview]
        let row = view(o).text.split(separator: "\n").first { $0.contains("alpha") } ?? ""
        #expect(!row.contains("✗"), "\(row)")
    }

    @Test func theRevisionThatTookTheWeightAwayIsTheTimeWhenTheHistoryReachesIt() {
        let alpha = CF.fleet[0]
        var zero = alpha
        zero.versions[0].weight = 100
        zero.versions[1].weight = 0
        func rec(_ r: Int64, _ e: Endpoint, ago: Double) -> RevisionRecord {
            RevisionRecord(revision: r, time: CF.now.addingTimeInterval(-ago), actor: "alice", action: .shift, reason: "x", summary: "", endpoint: e)
        }
        // Newest first: r5 and r4 at weight 0, r3 still at 10.
        let history = [rec(5, zero, ago: 10), rec(4, zero, ago: 300), rec(3, alpha, ago: 900)]
        #expect(Judging.quietSince(zero.versions[1], history) == CF.now.addingTimeInterval(-300))
        #expect(Judging.quietSince(alpha.versions[1], history) == nil, "a version with weight has traffic")
        // A history all at weight 0 does not reach back: the drain's start, if there is one.
        #expect(Judging.quietSince(zero.versions[1], [rec(5, zero, ago: 10)]) == nil)
    }

    @Test func theFiguresTitleSaysTheirWindow() {
        var s = Self.drainedCanary()
        _ = update(&s, .sourcesChanged(["prometheus"], staleAfter: 10, window: 60))
        #expect(view(s).text.contains("ERR/1m"))
        #expect(Fmt.window(90) == "90s" && Fmt.window(120) == "2m" && Fmt.window(7200) == "2h")
    }
}
