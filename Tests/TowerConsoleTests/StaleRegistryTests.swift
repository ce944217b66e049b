import Foundation
import TerminalUI
import Testing
import TowerDomain
@testable import TowerConsole

/// A replica cut off from its database serves reads from memory, marked `Tower-Stale`; the header
/// then says the routing shown is stale and why, in the warning style, never "live", and goes back
/// to live at the next fresh answer.
@Suite struct StaleRegistryTests {
    static let sentence = "database unavailable since \(Timestamp.rfc3339(ms: Timestamp.ms(CF.now) - 12_000)); served from memory as of audit seq 40"

    static func header(_ s: ConsoleState) -> String {
        String(view(s).text.split(separator: "\n", omittingEmptySubsequences: false)[0])
    }

    /// A console whose last list came from a replica without its database, through two replicas.
    static func stale(width: Int, height: Int) -> ConsoleState {
        var s = CF.loaded(width: width, height: height)
        _ = update(&s, .registryReplica("10.0.0.2:8470"))
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: CF.fleet, auditSeq: 40), at: CF.now, stale: sentence))
        return s
    }

    @Test func aStaleListIsMarkedWithWhyAndSinceWhen() throws {
        let s = Self.stale(width: 120, height: 24)
        let h = Self.header(s)
        #expect(h.contains("registry ⚠ stale: database unreachable 12s via 10.0.0.2:8470"), "\(h)")
        #expect(!h.contains("live"), "a stale read is never called live: \(h)")
        let at = try #require(h.range(of: "registry ⚠").map { h.distance(from: h.startIndex, to: $0.lowerBound) })
        #expect(view(s)[at, 0].style == s.theme.warn, "the mark is drawn in the warning style")
    }

    @Test func aFreshAnswerMakesItLiveAgain() {
        var s = Self.stale(width: 120, height: 24)
        _ = update(&s, .registryAlive(at: CF.now, stale: Self.sentence))
        #expect(Self.header(s).contains("stale"), "a stale long poll keeps the mark: \(Self.header(s))")
        _ = update(&s, .registryAlive(at: CF.now))
        #expect(s.registryStale == nil)
        #expect(Self.header(s).contains("registry ✓ live via 10.0.0.2:8470"), "\(Self.header(s))")

        var t = Self.stale(width: 120, height: 24)
        _ = update(&t, .endpointsLoaded(EndpointList(endpoints: CF.fleet, auditSeq: 41), at: CF.now))
        #expect(Self.header(t).contains("registry ✓ live"), "a fresh list clears it too: \(Self.header(t))")
    }

    @Test func aStaleLongPollMarksAConsoleThatWasLive() {
        var s = CF.loaded(width: 120, height: 24)
        #expect(Self.header(s).contains("live"))
        _ = update(&s, .registryAlive(at: CF.now, stale: Self.sentence))
        #expect(s.registryStale?.since == CF.now.addingTimeInterval(-12))
        #expect(Self.header(s).contains("registry ⚠ stale: database unreachable 12s"), "\(Self.header(s))")
    }

    @Test func anErrorOutranksStalenessAndASwitchForgetsIt() {
        var s = Self.stale(width: 120, height: 24)
        _ = update(&s, .registryFailed("unreachable (connection refused)", at: CF.now))
        #expect(Self.header(s).contains("registry ✗"), "no answer at all is worse news: \(Self.header(s))")
        _ = update(&s, .contextSwitched(name: "lab", readOnly: false))
        #expect(s.registryStale == nil)
    }

    @Test func anUnknownSentenceIsShownAsTheRegistryWroteIt() {
        var s = CF.loaded(width: 120, height: 24)
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: CF.fleet, auditSeq: 40), at: CF.now, stale: "following a restore; try later"))
        #expect(s.registryStale?.since == nil)
        #expect(Self.header(s).hasSuffix("registry ⚠ stale: following a restore"), "\(Self.header(s))")
    }

    @Test func asciiModeHasNoWarningGlyph() {
        var s = Self.stale(width: 120, height: 24)
        s.ascii = true
        #expect(Self.header(s).contains("registry ! stale:"), "\(Self.header(s))")
    }

    @Test(arguments: SnapshotTests.sizes) func staleHeader(_ size: (Int, Int)) throws {
        try assertSnapshot(view(Self.stale(width: size.0, height: size.1)), named: "overview-stale-\(size.0)x\(size.1)")
    }
}
