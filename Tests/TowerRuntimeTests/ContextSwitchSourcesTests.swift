import Foundation
import Synchronization
import Testing
import TerminalUI
import TowerConsole
import TowerDomain
import TowerMetrics
import TowerSources
@testable import TowerRuntime

/// A terminal made of a pipe and a list: keys go in, frames come out as text.
final class FakeTerminal: TerminalBackend, @unchecked Sendable {
    private let fds: (read: Int32, write: Int32)
    private let queue = Mutex<[InputEvent]>([])
    private let last = Mutex<String>("")
    let size: (width: Int, height: Int)
    var unicode: Bool { true }

    init(width: Int = 120, height: Int = 30) {
        var p: [Int32] = [0, 0]
        _ = pipe(&p)
        _ = fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK)
        fds = (p[0], p[1])
        size = (width, height)
    }

    deinit { close(fds.read); close(fds.write) }

    var inputDescriptor: Int32 { fds.read }
    func draw(_ frame: Frame) { last.withLock { $0 = frame.text } }
    func restore() {}

    func readInput() -> InputEvent? {
        var buf = [UInt8](repeating: 0, count: 64)
        while read(fds.read, &buf, buf.count) > 0 {}
        return queue.withLock { $0.isEmpty ? nil : $0.removeFirst() }
    }

    func press(_ keys: [KeyEvent]) {
        queue.withLock { $0 += keys.map { .key($0) } }
        var b: UInt8 = 1
        _ = write(fds.write, &b, 1)
    }

    func type(_ text: String) { press(text.map { .char($0) }) }

    var screen: String { last.withLock { $0 } }

    /// Waits (bounded) until the screen satisfies `ok`; returns the screen either way.
    func wait(timeout: TimeInterval = Eventually.bound, _ ok: (String) -> Bool) async -> (Bool, String) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if ok(screen) { return (true, screen) }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return (ok(screen), screen)
    }
}

/// A source that answers with the same figure and counts how often it was asked.
final class CountingSource: MetricsSource, @unchecked Sendable {
    let name: String
    let interval: Double
    let rps: Double
    let calls = Mutex(0)
    init(name: String, rps: Double, interval: Double = 0.1) { self.name = name; self.rps = rps; self.interval = interval }
    func refresh() async throws -> [String: Figures] {
        calls.withLock { $0 += 1 }
        return ["alpha": Figures(rps: rps, readAt: Date())]
    }
}

@Suite(.serialized) struct ContextSwitchSourcesTests {
    @Test func sourcesFollowTheContextAndTheOldOnesStop() async throws {
        let term = FakeTerminal()
        let prodSource = CountingSource(name: "prometheus", rps: 5)
        let stagingSource = CountingSource(name: "scrape", rps: 9, interval: 0.2)
        // The registry is unreachable: the header says so, and the sources carry on regardless.
        let dead = RegistryClient(baseURL: "http://127.0.0.1:9", token: nil)
        let hooks = ConsoleHooks(switchContext: { name in
            guard name == "staging" else { throw ConfigError("no context named '\(name)'") }
            return ContextSwitch(client: dead, readOnly: false, sources: ConsoleSources(metrics: [stagingSource]))
        }, resolveTheme: { _ in .standard })
        let state = ConsoleState(width: 120, height: 30, now: Date(), contextName: "prod")
        let loop = try ConsoleLoop(backend: term, client: dead, sources: ConsoleSources(metrics: [prodSource]), state: state, hooks: hooks)
        let done = Mutex(false)
        let thread = Thread { loop.run(); done.withLock { $0 = true } }
        thread.start()
        defer {
            if !done.withLock({ $0 }) { term.press([.char("q")]) }
        }

        let (up, before) = await term.wait { $0.contains("prometheus ✓") }
        #expect(up, "\(before)")

        term.type(":ctx staging")
        term.press([.enter])
        let (switched, after) = await term.wait { $0.contains("ctx staging") && $0.contains("scrape ✓") }
        #expect(switched, "\(after)")
        let header = after.split(separator: "\n").first.map(String.init) ?? ""
        #expect(!header.contains("prometheus"), "the old context's source is gone from the header: \(header)")
        #expect(stagingSource.calls.withLock { $0 } > 0)

        // The old source is no longer asked (one refresh may have been in flight at the switch).
        let asked = prodSource.calls.withLock { $0 }
        try await Task.sleep(for: .milliseconds(600))
        #expect(prodSource.calls.withLock { $0 } <= asked + 1)

        // An unknown context changes nothing and says why.
        term.type(":ctx nowhere")
        term.press([.enter])
        let (refused, screen) = await term.wait { $0.contains("cannot switch to context nowhere") }
        #expect(refused, "\(screen)")
        #expect(screen.contains("scrape ✓"))

        term.press([.char("q")])
        let deadline = Date().addingTimeInterval(Eventually.bound)
        while !done.withLock({ $0 }) && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(done.withLock { $0 }, "q ends the loop")
    }

    @Test func sourcesChangedStartsTheFiguresAndHealthOver() {
        var s = ConsoleState(width: 100, height: 30, now: Date(timeIntervalSince1970: 1000))
        _ = update(&s, .figuresLoaded(source: "prometheus", ["alpha": Figures(rps: 3, readAt: s.now)], at: s.now))
        _ = update(&s, .historyLoaded(["alpha": [1, 2]]))
        _ = update(&s, .sourcesChanged(["scrape"], staleAfter: 4))
        #expect(s.telemetry.figures.isEmpty && s.telemetry.history.isEmpty)
        #expect(s.telemetry.sources == [SourceHealth(name: "scrape")] && s.telemetry.staleAfter == 4)
    }

    @Test(arguments: [80, 100, 160])
    func aLongErrorLeavesRoomForTheOtherSourcesInTheHeader(_ width: Int) {
        let now = Date(timeIntervalSince1970: 1000)
        var s = ConsoleState(width: width, height: 24, now: now)
        s.telemetry.sources = [SourceHealth(name: "prometheus"), SourceHealth(name: "scrape")]
        _ = update(&s, .registryFailed("unreachable (http://registry.prod:8443: Couldn't connect to server, and a long tail of words)", at: now))
        _ = update(&s, .sourceFailed(source: "prometheus", String(repeating: "Prometheus failed internally; check its logs ", count: 4), at: now))
        _ = update(&s, .figuresLoaded(source: "scrape", [:], at: now))
        let header = view(s).text.split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.contains("registry ✗") && header.contains("prometheus ✗") && header.contains("scrape ✓"), "\(header)")
    }

    @Test func staleAfterIsTwoOfTheLongestIntervals() throws {
        let (names, staleAfter, window) = EffectRunner.health(of: [CountingSource(name: "scrape", rps: 1, interval: 1),
                                                                  CountingSource(name: "prometheus", rps: 1, interval: 3),
                                                                  CountingSource(name: "scrape", rps: 1, interval: 1)])
        #expect(names == ["scrape", "prometheus"] && staleAfter == 6)
        #expect(window == nil, "sources that do not say their window")
        #expect(EffectRunner.health(of: []).1 == nil)
    }

    @Test func theWindowIsTheSourcesOwnWhenTheyAgree() throws {
        let scrape = ScrapeMetricsSource(urls: [], interval: 5)
        #expect(EffectRunner.health(of: [scrape]).2 == 5, "a scrape source's rates are between two scrapes")
        let prom = PrometheusMetricsSource(client: try PrometheusClient(baseURL: "http://127.0.0.1:9"), profile: try MetricsProfile(kind: .envoy, windowSeconds: 60))
        #expect(EffectRunner.health(of: [prom]).2 == 60)
        #expect(EffectRunner.health(of: [prom, scrape]).2 == nil, "two windows: neither is shown as the one")
        // The console shows it beside the figures.
        var s = ConsoleState(width: 80, height: 24, now: Date())
        _ = update(&s, .sourcesChanged(["prometheus"], staleAfter: 10, window: 60))
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: [], auditSeq: 1), at: Date()))
        #expect(view(s).text.contains("ERR/1m"))
    }
}
