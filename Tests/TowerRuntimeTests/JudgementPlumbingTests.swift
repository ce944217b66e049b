import Foundation
import Synchronization
import Testing
import TowerConsole
import TowerDomain
import TowerMetrics
import TowerSources
@testable import TowerRuntime

/// Burn polling and change impact as the runner carries them out, against a fake source.
@Suite struct JudgementPlumbingTests {
    /// Answers burn and past windows from tables, counting calls; `cannot` makes it a source
    /// without those abilities (the protocol's throwing defaults).
    final class Source: MetricsSource, @unchecked Sendable {
        let name: String
        let interval = 60.0
        let cannot: Bool
        let burnCalls = Mutex<[[Int]]>([])
        let windowCalls = Mutex<[(Date, Int)]>([])
        init(_ name: String = "prometheus", cannot: Bool = false) { self.name = name; self.cannot = cannot }

        func refresh() async throws -> [String: Figures] { [:] }

        func badRatios(windows: [Int], latencyMs: [String: Double]) async throws -> [String: BadRatios] {
            burnCalls.withLock { $0.append(windows) }
            if cannot { throw MetricsSourceError("\(name) cannot read burn rates") }
            var errors: [Int: Double] = [:]
            // 1h and 5m burn at 20 (page) for a 0.999 objective; the rest at 0.5.
            for w in windows { errors[w] = [300, 3600].contains(w) ? 0.02 : 0.0005 }
            return ["alpha": BadRatios(errors: errors), "beta": BadRatios(errors: errors)]
        }

        func figures(endingAt end: Date, windowSeconds: Int) async throws -> [String: Figures] {
            windowCalls.withLock { $0.append((end, windowSeconds)) }
            if cannot { throw MetricsSourceError("\(name) keeps no history to read a past window from") }
            let w = WindowCounts(seconds: Double(windowSeconds), requests: 1000, errors: 1,
                                 latencyBuckets: [Bucket(le: 100, count: 900), Bucket(le: .infinity, count: 1000)])
            return ["alpha/v1": Figures(p99Ms: 120, readAt: end, window: w), "other/v1": Figures(p99Ms: 1, readAt: end, window: w)]
        }
    }

    final class Posted: Sendable {
        let messages = Mutex<[Message]>([])
        func append(_ m: Message) { messages.withLock { $0.append(m) } }
        var all: [Message] { messages.withLock { $0 } }
        func wait(_ ok: ([Message]) -> Bool) async -> Bool {
            let deadline = Date().addingTimeInterval(Eventually.bound)
            while Date() < deadline {
                if ok(all) { return true }
                try? await Task.sleep(for: .milliseconds(5))
            }
            return ok(all)
        }
    }

    static let now = Date(timeIntervalSince1970: 1_795_000_000)
    static let hooks = ConsoleHooks(switchContext: { _ in throw MetricsSourceError("no contexts here") }, resolveTheme: { _ in .standard })
    static let client = RegistryClient(baseURL: "http://127.0.0.1:9", token: nil)

    static func burn(_ m: Message) -> [String: SLOReading]? {
        if case .burnLoaded(let r, _) = m { return r }
        return nil
    }

    @Test func burnIsPolledForTheSLOsOnItsOwnCadenceAndTurnedIntoStatus() async throws {
        let src = Source()
        let posted = Posted()
        let runner = EffectRunner(client: Self.client, sources: ConsoleSources(metrics: [src]), hooks: Self.hooks,
                                  clock: { Self.now }, burnInterval: 0.05) { posted.append($0) }
        defer { runner.stop() }
        let slo = SLO(availability: 0.999)
        runner.run(.pollBurn(["alpha": slo]))
        #expect(await posted.wait { $0.compactMap(Self.burn).count >= 2 }, "polled again after the interval")
        let reading = try #require(posted.all.compactMap(Self.burn).first?["alpha"])
        #expect(reading.status.alert == .page && reading.status.firing == "1h/5m")
        #expect(abs((reading.status.burnRates[.h1] ?? 0) - 20) < 1e-9)
        #expect(abs((reading.status.budgetRemaining ?? 0) - 0.5) < 1e-9, "the period's ratio (30d) gives the budget")
        #expect(posted.all.compactMap(Self.burn).allSatisfy { $0.keys.sorted() == ["alpha"] }, "only the endpoints asked for")
        // One call per poll for every endpoint, asking for the alerting windows and the period.
        #expect(src.burnCalls.withLock { $0.first } == [300, 1800, 3600, 7200, 21_600, 86_400, 259_200, 2_592_000])
        // The same targets again do not restart the poll; none stops it.
        let before = src.burnCalls.withLock { $0.count }
        runner.run(.pollBurn([:]))
        let stopped = src.burnCalls.withLock { $0.count }
        try await Task.sleep(for: .milliseconds(200))
        #expect(src.burnCalls.withLock { $0.count } <= stopped + 1 && stopped >= before)
    }

    @Test func aSourceThatCannotReadBurnSaysSo() async {
        let posted = Posted()
        let runner = EffectRunner(client: Self.client, sources: ConsoleSources(metrics: [Source(cannot: true)]), hooks: Self.hooks,
                                  clock: { Self.now }, burnInterval: 60) { posted.append($0) }
        defer { runner.stop() }
        runner.run(.pollBurn(["alpha": SLO(availability: 0.999)]))
        #expect(await posted.wait { $0.contains(.burnFailed("prometheus cannot read burn rates", at: Self.now)) })
    }

    @Test func impactReadsBothWindowsOnceAndServesTheRestFromTheCache() async {
        let src = Source()
        let posted = Posted()
        let runner = EffectRunner(client: Self.client, sources: ConsoleSources(metrics: [src]), hooks: Self.hooks,
                                  clock: { Self.now }) { posted.append($0) }
        defer { runner.stop() }
        let at = Self.now.addingTimeInterval(-900)
        func loaded(_ ms: [Message]) -> [ImpactWindows] {
            ms.compactMap { if case .impactLoaded("alpha", 7, let w) = $0 { return w } else { return nil } }
        }
        runner.run(.loadImpact(endpoint: "alpha", revision: 7, at: at, windowSeconds: 300))
        #expect(await posted.wait { loaded($0).count == 1 })
        let calls = src.windowCalls.withLock { $0 }
        #expect(calls.count == 2)
        #expect(Set(calls.map(\.0)) == [at, at.addingTimeInterval(300)] && calls.allSatisfy { $0.1 == 300 })
        let w = loaded(posted.all)[0]
        #expect(w.complete && Array(w.before.keys) == ["alpha/v1"] && Array(w.after.keys) == ["alpha/v1"], "only the endpoint's own figures")
        // History does not change: the second time costs the source nothing.
        runner.run(.loadImpact(endpoint: "alpha", revision: 7, at: at, windowSeconds: 300))
        #expect(await posted.wait { loaded($0).count == 2 })
        #expect(src.windowCalls.withLock { $0.count } == 2)
        #expect(loaded(posted.all)[1] == w)
    }

    @Test func aWindowStillOpenIsReadAsFarAsItGoesAndNotCached() async {
        let src = Source()
        let posted = Posted()
        let runner = EffectRunner(client: Self.client, sources: ConsoleSources(metrics: [src]), hooks: Self.hooks,
                                  clock: { Self.now }) { posted.append($0) }
        defer { runner.stop() }
        let at = Self.now.addingTimeInterval(-120)
        runner.run(.loadImpact(endpoint: "alpha", revision: 8, at: at, windowSeconds: 300))
        #expect(await posted.wait { $0.contains { if case .impactLoaded(_, 8, let w) = $0 { w.afterSeconds == 120 && !w.complete } else { false } } })
        runner.run(.loadImpact(endpoint: "alpha", revision: 8, at: at, windowSeconds: 300))
        #expect(await Self.waitFor { src.windowCalls.withLock { $0.count } == 4 })
    }

    @Test func aSourceThatCannotReadPastWindowsLeavesThePanelSayingSo() async {
        let posted = Posted()
        let runner = EffectRunner(client: Self.client, sources: ConsoleSources(metrics: [Source(cannot: true)]), hooks: Self.hooks,
                                  clock: { Self.now }) { posted.append($0) }
        defer { runner.stop() }
        runner.run(.loadImpact(endpoint: "alpha", revision: 7, at: Self.now.addingTimeInterval(-900), windowSeconds: 300))
        #expect(await posted.wait {
            $0.contains(.impactFailed(endpoint: "alpha", revision: 7, "prometheus keeps no history to read a past window from"))
        })
        let none = Posted()
        let bare = EffectRunner(client: Self.client, hooks: Self.hooks, clock: { Self.now }) { none.append($0) }
        bare.run(.loadImpact(endpoint: "alpha", revision: 7, at: Self.now, windowSeconds: 300))
        #expect(none.all == [.impactFailed(endpoint: "alpha", revision: 7, "no metrics source")])
    }

    static func waitFor(_ ok: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(Eventually.bound)
        while !ok() && Date() < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        return ok()
    }
}
