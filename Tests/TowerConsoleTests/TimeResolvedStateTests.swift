import Foundation
import Testing
import TowerDomain
@testable import TowerConsole

/// State that changes by time alone (issue 11 item 3): the registry resolves `draining` →
/// `drained` on read, with no revision and so no watch event; the console must do the same on its
/// own clock, or it shows `draining` long after the registry says `drained`.
@Suite struct TimeResolvedStateTests {
    static func loaded(drainTimeout: Double?) -> ConsoleState {
        var s = ConsoleState(width: 80, height: 24, now: CF.now, contextName: "local")
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: CF.fleet, auditSeq: 40, drainTimeoutSeconds: drainTimeout), at: CF.now))
        return s
    }

    static func v3(_ s: ConsoleState) -> VersionState? {
        s.endpoints.first { $0.name == "translate-ru" }?.version("v3")?.state
    }

    @Test func aDrainTurnsDrainedWhenItsTimeoutPassesOnTheConsolesClock() {
        var s = Self.loaded(drainTimeout: 30)
        #expect(Self.v3(s) == .draining)
        _ = update(&s, .tick(CF.now.addingTimeInterval(29.9)))
        #expect(Self.v3(s) == .draining)
        _ = update(&s, .tick(CF.now.addingTimeInterval(30)))
        #expect(Self.v3(s) == .drained)
        // The overview says so with no key pressed: the row no longer reads "drain".
        let row = view(s).text.split(separator: "\n").first { $0.contains("translate-ru") } ?? ""
        #expect(!row.contains("drain") && row.contains("v3 0x"))
    }

    @Test func aListReadLateIsResolvedAtOnce() {
        var s = ConsoleState(width: 80, height: 24, now: CF.now.addingTimeInterval(100), contextName: "local")
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: CF.fleet, auditSeq: 40, drainTimeoutSeconds: 30), at: CF.now.addingTimeInterval(100)))
        #expect(Self.v3(s) == .drained)
    }

    /// The long poll answers within its timeout: an age counting up to it would read as stale
    /// when nothing is; past it, the age is the honest figure.
    @Test func theRegistryIsLiveWhileTheLongPollAnswersAndAgesAfter() {
        var s = Self.loaded(drainTimeout: 30)
        _ = update(&s, .tick(CF.now.addingTimeInterval(25)))
        #expect(view(s).text.hasPrefix(" tower  ctx local  registry ✓ live\n"))
        _ = update(&s, .registryAlive(at: CF.now.addingTimeInterval(26)))
        _ = update(&s, .tick(CF.now.addingTimeInterval(50)))
        #expect(view(s).text.contains("registry ✓ live"), "the poll's answer at 26 s keeps it live")
        _ = update(&s, .tick(CF.now.addingTimeInterval(60)))
        #expect(view(s).text.contains("registry ✓ read 34s ago"))
    }

    @Test func anOlderRegistryWithoutTheTimeoutLeavesTheDrainAsItSaid() {
        var s = Self.loaded(drainTimeout: nil)
        _ = update(&s, .tick(CF.now.addingTimeInterval(3600)))
        #expect(Self.v3(s) == .draining)
    }

    @Test func theSelectionStaysOnItsEndpointWhenTheOrderChanges() {
        var s = Self.loaded(drainTimeout: 30)
        s.sort = .attention
        let i = try! #require(s.visibleEndpoints.firstIndex { $0.name == "translate-ru" })
        s.selection = i
        _ = update(&s, .tick(CF.now.addingTimeInterval(31)))
        #expect(s.selectedEndpoint?.name == "translate-ru")
    }
}

/// The attention order (issue 11 item 2): live health, then routing states, then gates on
/// versions that carry traffic.
@Suite struct AttentionOrderTests {
    @Test func aFailedGateOnAZeroWeightVersionRanksBelowAFailingCanaryAndAGateWithTraffic() {
        var s = JF.judged()
        s.sort = .attention
        var fleet = s.endpoints
        // doc-embed's v8 carries 10 % with a failed gate; fraud-score's failed v4 carries nothing.
        fleet[1].versions[1].gate = .failed
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: fleet, auditSeq: 41), at: CF.now))
        let order = s.visibleEndpoints.map(\.name)
        #expect(order.first == "alpha", "the failing canary first: \(order)")
        let doc = order.firstIndex(of: "doc-embed")!, fraud = order.firstIndex(of: "fraud-score")!
        let out = order.firstIndex(of: "vision-ocr")!, draining = order.firstIndex(of: "translate-ru")!
        #expect(out < draining && draining < doc, "routing states before gates: \(order)")
        #expect(doc < fraud, "a failed gate with traffic before one without: \(order)")
    }

    @Test func sortingByAFigureMarksItsColumnAndPutsNoDataLast() {
        var s = TelemetryViewTests.live(width: 120, height: 30)
        s.sort = .attention
        for _ in 0..<5 { CF.keys(&s, [.char("o")]) }
        #expect(s.sort == .p99 || s.sort == .errors)
        s.sort = .errors
        #expect(s.visibleEndpoints.map(\.name).prefix(2) == ["alpha", "doc-embed"], "2.1 % then 0 %")
        #expect(s.visibleEndpoints.last.map { ["fraud-score", "translate-ru", "vision-ocr"].contains($0.name) } == true)
        #expect(view(s).text.contains("ERR↓"))
        s.sort = .p99
        #expect(view(s).text.contains("P99↓") && s.visibleEndpoints.first?.name == "alpha")
    }
}
