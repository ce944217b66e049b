import Foundation
import Synchronization
import Testing
import TowerConsole
import TowerDomain
import TowerMetrics
@testable import TowerRuntime

/// A source that behaves as a script says, call by call: answer, fail, hang, garbage.
final class ScriptedSource: MetricsSource, @unchecked Sendable {
    enum Step { case answer(Double), fail(String), hang(Duration) }
    let name: String
    let key: String
    let interval: Double
    private let steps: Mutex<[Step]>
    init(name: String, key: String = "alpha", interval: Double, steps: [Step]) {
        self.name = name; self.key = key; self.interval = interval; self.steps = Mutex(steps)
    }

    func refresh() async throws -> [String: Figures] {
        let step = steps.withLock { $0.isEmpty ? Step.answer(1) : $0.removeFirst() }
        switch step {
        case .answer(let rps): return [key: Figures(rps: rps, readAt: Date())]
        case .fail(let why): throw MetricsSourceError(why)
        case .hang(let d):
            // What a transport timeout looks like from here: nothing, then an error.
            try await Task.sleep(for: d)
            throw MetricsSourceError("timed out after \(d)")
        }
    }
}

/// Messages from pollers, applied to a console state as the loop would.
final class Recorder: @unchecked Sendable {
    private let state: Mutex<ConsoleState>
    init() { state = Mutex(ConsoleState(width: 80, height: 24, now: Date())) }
    func post(_ m: Message) { state.withLock { _ = update(&$0, m) } }
    var current: ConsoleState { state.withLock { $0 } }
}

@Suite struct SourcePollingTests {
    @Test func aFailingOrHangingSourceIsMarkedAloneAndRecoversOnItsOwn() async throws {
        let rec = Recorder()
        let flaky = ScriptedSource(name: "prometheus", interval: 0.1, steps: [
            .answer(5), .fail("Prometheus answered 500"), .fail("the answer was not Prometheus JSON"), .hang(.milliseconds(400)), .answer(7),
        ])
        // Its own key, so its answers do not overwrite the flaky source's figures.
        let steady = ScriptedSource(name: "scrape", key: "beta", interval: 0.1, steps: [])
        let post: @Sendable (Message) -> Void = { rec.post($0) }
        let tasks = [flaky, steady].map { src in Task { await EffectRunner.pollSource(src, post: post) } }
        defer { tasks.forEach { $0.cancel() } }

        func health(_ name: String) -> SourceHealth? { rec.current.telemetry.sources.first { $0.name == name } }
        // The failure shows on that source only; the other keeps answering meanwhile.
        var sawFailure = false, steadyDuringFailure = 0
        // Generous: the whole suite runs in parallel on two cores and may starve these tasks for a while.
        let deadline = Date().addingTimeInterval(Eventually.bound)
        while Date() < deadline {
            if let err = health("prometheus")?.lastError {
                sawFailure = true
                #expect(err.contains("500") || err.contains("not Prometheus JSON") || err.contains("timed out"))
                if health("scrape")?.lastError == nil, let ok = health("scrape")?.lastSuccess, Date().timeIntervalSince(ok) < 1 { steadyDuringFailure += 1 }
            } else if sawFailure, rec.current.telemetry.figures["alpha"]?.rps != 5 {
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(sawFailure)
        #expect(steadyDuringFailure > 0, "a failing source never holds up the others")
        #expect(health("prometheus")?.lastError == nil, "recovered on its own")
        #expect(rec.current.telemetry.figures["alpha"]?.rps == 7 || rec.current.telemetry.figures["alpha"]?.rps == 1)
        #expect(rec.current.telemetry.figures["beta"]?.rps == 1)
    }

    @Test func backoffGrowsWithJitterAndIsCapped() {
        for failures in 1...10 {
            let b = EffectRunner.backoff(failures: failures)
            let base = min(8.0, 0.5 * pow(2.0, Double(failures - 1)))
            #expect(b >= base * 0.8 && b <= base * 1.2)
        }
    }

    @Test func staleWithinTwoIntervals() {
        var s = ConsoleState(width: 80, height: 24, now: Date(timeIntervalSince1970: 1000))
        s.telemetry.staleAfter = 2 * 5
        _ = update(&s, .figuresLoaded(source: "prometheus", ["alpha": Figures(rps: 3, readAt: Date(timeIntervalSince1970: 1000))], at: Date(timeIntervalSince1970: 1000)))
        #expect(!s.telemetry.isStale(s.telemetry.figures["alpha"]!, now: Date(timeIntervalSince1970: 1009)))
        #expect(s.telemetry.isStale(s.telemetry.figures["alpha"]!, now: Date(timeIntervalSince1970: 1011)))
    }
}
