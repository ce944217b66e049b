import Foundation
import TerminalUI
import Testing
import TowerDomain
@testable import TowerConsole

/// The gateways in the header: asked for on the clock and after a change, shown as sync state.
@Suite struct GatewaySyncTests {
    static func gw(_ node: String, inSync: Bool, polled: Double = 0.5) -> GatewayStatus {
        GatewayStatus(node: node, cluster: "edge", lastPollAt: CF.now.addingTimeInterval(-polled),
                      clusters: .init(applied: "c1", current: "c1"), routes: .init(applied: inSync ? "r2" : "r1", current: "r2"))
    }

    /// The gateway reads each tick asks for (the tick asks for other things too).
    static func ticks(_ s: inout ConsoleState, seconds: [Double]) -> [[Effect]] {
        seconds.map { update(&s, .tick(CF.now.addingTimeInterval($0))).filter { $0 == .loadGateways } }
    }

    @Test func theClockAsksAtMostEveryTwoSecondsAndOneAtATime() {
        var s = CF.loaded()
        #expect(Self.ticks(&s, seconds: [0]) == [[.loadGateways]])
        #expect(Self.ticks(&s, seconds: [1, 2.5, 3.9]) == [[], [], []], "in flight: nothing more is asked")
        _ = update(&s, .gatewaysLoaded(GatewayList(gateways: [Self.gw("envoy-1", inSync: true)]), at: CF.now.addingTimeInterval(4)))
        #expect(Self.ticks(&s, seconds: [4]) == [[.loadGateways]], "answered, and two seconds since the last request")
        _ = update(&s, .gatewaysLoaded(GatewayList(gateways: []), at: CF.now.addingTimeInterval(4.2)))
        #expect(Self.ticks(&s, seconds: [5, 5.9, 6]) == [[], [], [.loadGateways]])
    }

    @Test func aRequestWhoseAnswerNeverCameIsGivenUp() {
        var s = CF.loaded()
        #expect(Self.ticks(&s, seconds: [0, 14]) == [[.loadGateways], []])
        #expect(Self.ticks(&s, seconds: [15]) == [[.loadGateways]])
    }

    @Test func anAppliedChangeAsksAtOnceOrRightAfterTheRequestInFlight() {
        var s = CF.loaded()
        #expect(update(&s, .changeApplied(CF.fleet[0])) == [.loadRevisions("alpha"), .loadGateways])
        // In flight, and its answer may predate the change: no second request now, one when it is back.
        #expect(update(&s, .changeApplied(CF.fleet[0])) == [.loadRevisions("alpha")])
        #expect(update(&s, .changeApplied(CF.fleet[0])) == [.loadRevisions("alpha")])
        #expect(update(&s, .gatewaysLoaded(GatewayList(gateways: []), at: CF.now)) == [.loadGateways])
        #expect(update(&s, .gatewaysLoaded(GatewayList(gateways: []), at: CF.now)) == [])
    }

    @Test func aFailedReadKeepsTheLastListAndLeavesTheRegistryHealthy() {
        var s = CF.loaded()
        _ = Self.ticks(&s, seconds: [0])
        let list = GatewayList(gateways: [Self.gw("envoy-1", inSync: false)])
        _ = update(&s, .gatewaysLoaded(list, at: CF.now))
        #expect(s.gateways.outOfSyncSince == ["envoy-1": CF.now])
        _ = Self.ticks(&s, seconds: [2])
        _ = update(&s, .gatewaysFailed("unreachable (connection refused)", at: CF.now.addingTimeInterval(2)))
        #expect(s.gateways.gateways == list.gateways && s.gateways.lastError != nil && !s.gateways.inFlight)
        #expect(s.registryError == nil && !s.isStale)
        #expect(Self.ticks(&s, seconds: [4]) == [[.loadGateways]], "asked again on the clock")
    }

    @Test func outOfSyncIsTimedFromWhenItWasFirstSeen() {
        var s = CF.loaded()
        _ = update(&s, .gatewaysLoaded(GatewayList(gateways: [Self.gw("a", inSync: false), Self.gw("b", inSync: true)]), at: CF.now))
        _ = update(&s, .gatewaysLoaded(GatewayList(gateways: [Self.gw("a", inSync: false), Self.gw("b", inSync: false)]),
                                       at: CF.now.addingTimeInterval(2)))
        #expect(s.gateways.outOfSyncSince == ["a": CF.now, "b": CF.now.addingTimeInterval(2)])
        _ = update(&s, .gatewaysLoaded(GatewayList(gateways: [Self.gw("a", inSync: true)]), at: CF.now.addingTimeInterval(4)))
        #expect(s.gateways.outOfSyncSince.isEmpty, "back in sync, or gone")
    }

    @Test func aContextSwitchForgetsTheOldRegistrysGateways() {
        var s = CF.loaded()
        _ = Self.ticks(&s, seconds: [0])
        _ = update(&s, .contextSwitched(name: "prod", readOnly: true))
        #expect(s.gateways == GatewaySync())
        #expect(Self.ticks(&s, seconds: [0.5]) == [[.loadGateways]], "not held up by the old registry's request")
    }

    // MARK: - The header

    static func header(_ gateways: [GatewayStatus], firstSeen: Double = 0, at: Double = 0, ascii: Bool = false,
                       width: Int = 80) -> (String, Frame) {
        var s = CF.loaded(width: width)
        s.ascii = ascii
        _ = update(&s, .gatewaysLoaded(GatewayList(gateways: gateways), at: CF.now.addingTimeInterval(firstSeen)))
        _ = update(&s, .tick(CF.now.addingTimeInterval(at)))
        let f = view(s)
        // Frame text drops trailing blanks; the texts end in one.
        return (String(f.text.split(separator: "\n", omittingEmptySubsequences: false)[0]) + " ", f)
    }

    @Test func noGatewayKnownShowsNothing() {
        let (line, _) = Self.header([])
        #expect(!line.contains("gateway"))
        #expect(line == String(view(CF.loaded()).text.split(separator: "\n")[0]) + " ")
    }

    @Test func eachStateAsText() {
        #expect(Self.header([Self.gw("e", inSync: true)]).0.contains(" registry ✓ live  gateway ✓ "))
        #expect(Self.header([Self.gw("e", inSync: false)], at: 4.9).0.contains(" gateway … syncing "))
        #expect(Self.header([Self.gw("e", inSync: false)], at: 7).0.contains(" gateway ✗ behind 7s "))
        #expect(Self.header([Self.gw("e", inSync: true, polled: 12)]).0.contains(" gateway ✗ silent 12s "))
        #expect(Self.header([Self.gw("e", inSync: true)], at: 11).0.contains(" gateway ✗ silent 11s "),
                "a list no longer read ages like any other: an old ✓ turns silent")

        let three = [Self.gw("a", inSync: true), Self.gw("b", inSync: false), Self.gw("c", inSync: true)]
        #expect(Self.header(three.map { Self.gw($0.node, inSync: true) }).0.contains(" gateways 3/3 ✓ "))
        #expect(Self.header(three, at: 2).0.contains(" gateways 2/3 … syncing "))
        #expect(Self.header(three, at: 6).0.contains(" gateways ✗ 1 behind 6s "))
        #expect(Self.header(three + [Self.gw("d", inSync: true, polled: 30), Self.gw("e", inSync: true, polled: 20)]).0
            .contains(" gateways ✗ 2 silent 30s "), "silent is worse than behind, and told first")
    }

    @Test func asciiToo() {
        let cases: [([GatewayStatus], Double, String)] = [
            ([Self.gw("e", inSync: true)], 0, " gateway + "),
            ([Self.gw("e", inSync: false)], 1, " gateway ? syncing "),
            ([Self.gw("e", inSync: false)], 5, " gateway x behind 5s "),
            ([Self.gw("e", inSync: true, polled: 15)], 0, " gateway x silent 15s "),
            ([Self.gw("a", inSync: true), Self.gw("b", inSync: true)], 0, " gateways 2/2 + "),
        ]
        for (gws, at, text) in cases {
            let (line, f) = Self.header(gws, at: at, ascii: true)
            #expect(line.contains(text), "\(line)")
            #expect(f.text.unicodeScalars.allSatisfy { $0.isASCII })
        }
    }

    @Test func troubleIsStyledAsAnErrorLikeTheOtherSources() throws {
        for (inSync, at, style) in [(false, 6.0, Theme.standard.error), (true, 0, Theme.standard.header)] {
            var s = CF.loaded()
            s.theme = Theme.standard
            _ = update(&s, .gatewaysLoaded(GatewayList(gateways: [Self.gw("e", inSync: inSync)]), at: CF.now))
            _ = update(&s, .tick(CF.now.addingTimeInterval(at)))
            let f = view(s)
            let line = Array(String(f.text.split(separator: "\n")[0]))
            let x = try #require((0..<line.count - 7).first { String(line[$0..<$0 + 7]) == "gateway" })
            #expect(f[x, 0].style == style)
        }
    }

    @Test func aLongRegistryErrorLeavesTheGatewayAndSourcesTheirRoom() {
        var s = CF.loaded()
        s.telemetry.sources = [SourceHealth(name: "prometheus", lastSuccess: CF.now)]
        _ = update(&s, .gatewaysLoaded(GatewayList(gateways: [Self.gw("e", inSync: true)]), at: CF.now))
        _ = update(&s, .registryFailed(String(repeating: "connection refused ", count: 10), at: CF.now))
        let line = String(view(s).text.split(separator: "\n")[0])
        #expect(line.contains(" gateway ✓ ") && line.contains(" prometheus ✓"), "\(line)")
    }
}
