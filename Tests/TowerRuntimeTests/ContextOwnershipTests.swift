import Foundation
import Synchronization
import Testing
import TowerConsole
import TowerDomain
import TowerHTTP
import TowerMetrics
import TowerSources
import TowerTraces
@testable import TowerRuntime

/// The effect runner owns the current context (client, traces, pollers) under one generation: a
/// switch drops what the old context still says, and a switch that fails changes nothing.
@Suite struct ContextOwnershipTests {
    /// Something held shut until the test opens it.
    final class Gate: Sendable {
        private let open = Mutex(false)
        func release() { open.withLock { $0 = true } }
        func pass() async { while !open.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) } }
    }

    /// A registry whose endpoint list carries `auditSeq`, so whose answer it was can be told; it
    /// answers once `gate` is open.
    final class Registry: HTTPTransport, @unchecked Sendable {
        let auditSeq: Int64
        let gate: Gate?
        let calls = Mutex(0)
        init(auditSeq: Int64, gate: Gate? = nil) { self.auditSeq = auditSeq; self.gate = gate }
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            calls.withLock { $0 += 1 }
            await gate?.pass()
            return HTTPResponse(status: 200, body: Array(#"{"endpoints":[],"auditSeq":\#(auditSeq)}"#.utf8))
        }
        var client: RegistryClient { RegistryClient(baseURL: "http://registry-\(auditSeq)", token: nil, transport: self) }
    }

    /// A metrics source whose refreshes wait for `gate` (when given) and are counted.
    final class Source: MetricsSource, @unchecked Sendable {
        let name: String
        let interval = 0.05
        let gate: Gate?
        let calls = Mutex(0)
        init(_ name: String, gate: Gate? = nil) { self.name = name; self.gate = gate }
        func refresh() async throws -> [String: Figures] {
            calls.withLock { $0 += 1 }
            await gate?.pass()
            return ["alpha": Figures(rps: 1, readAt: Date())]
        }
    }

    /// A trace source that fails with its own name, so which one was asked shows in the message.
    struct Traces: TraceSource {
        let name: String
        func search(_ q: TraceQuery) async throws -> [TraceSummary] { throw MetricsSourceError(name) }
        func trace(id: String) async throws -> Trace { throw MetricsSourceError(name) }
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

    static func listed(_ m: Message) -> Int64? {
        if case .endpointsLoaded(let list, _, _) = m { return list.auditSeq }
        return nil
    }

    static func figuresFrom(_ m: Message) -> String? {
        if case .figuresLoaded(let source, _, _, _) = m { return source }
        return nil
    }

    static func wait(_ ok: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(Eventually.bound)
        while !ok() && Date() < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        return ok()
    }

    @Test func aLateAnswerOfTheOldContextIsDropped() async throws {
        let gate = Gate()
        let prod = Registry(auditSeq: 7, gate: gate), staging = Registry(auditSeq: 42)
        let prodSource = Source("prometheus", gate: gate), stagingSource = Source("scrape")
        let hooks = ConsoleHooks(switchContext: { _ in
            ContextSwitch(client: staging.client, readOnly: false, sources: ConsoleSources(metrics: [stagingSource]))
        }, resolveTheme: { _ in .standard })
        let posted = Posted()
        let runner = EffectRunner(client: prod.client, sources: ConsoleSources(metrics: [prodSource]), hooks: hooks) { posted.append($0) }
        defer { runner.stop() }
        runner.start()
        runner.run(.loadEndpoints)
        // Both the list and a refresh of the old context are on their way when the switch happens.
        #expect(await Self.wait { prod.calls.withLock { $0 } == 1 && prodSource.calls.withLock { $0 } == 1 })
        runner.run(.switchContext("staging"))
        gate.release()
        #expect(await Self.wait { runner.dropped.load(ordering: .relaxed) >= 2 }, "\(posted.all)")
        runner.run(.loadEndpoints)
        #expect(await posted.wait { $0.contains { Self.listed($0) == 42 } && $0.contains { Self.figuresFrom($0) == "scrape" } })

        let messages = posted.all
        #expect(!messages.contains { Self.listed($0) == 7 }, "the old registry's late list is not shown as the new one's")
        let switched = try #require(messages.firstIndex(of: .contextSwitched(name: "staging", readOnly: false)))
        #expect(!messages[switched...].contains { Self.figuresFrom($0) == "prometheus" }, "\(messages)")
        // The header learns the new sources before the switch itself, in one trip.
        #expect(messages[switched - 1] == .sourcesChanged(["scrape"], staleAfter: 0.1))
        #expect(runner.generation == 1)
        // The new context's list went to the new registry alone.
        #expect(prod.calls.withLock { $0 } == 1 && staging.calls.withLock { $0 } == 1)
    }

    @Test func aFailedSwitchLeavesEverythingAsItWas() async throws {
        let prod = Registry(auditSeq: 7)
        let prodSource = Source("prometheus")
        let hooks = ConsoleHooks(switchContext: { name in throw ConfigError("no context named '\(name)'") },
                                 resolveTheme: { _ in .standard })
        let posted = Posted()
        let runner = EffectRunner(client: prod.client, sources: ConsoleSources(metrics: [prodSource], traces: Traces(name: "prod traces")),
                                  hooks: hooks) { posted.append($0) }
        defer { runner.stop() }
        runner.start()
        #expect(await posted.wait { $0.contains { Self.figuresFrom($0) == "prometheus" } })

        runner.run(.switchContext("nowhere"))
        #expect(await posted.wait { $0.contains(.notice("cannot switch to context nowhere: no context named 'nowhere'")) }, "\(posted.all)")
        #expect(runner.generation == 0)

        // The same registry answers, and its answer is not dropped.
        runner.run(.loadEndpoints)
        #expect(await posted.wait { $0.contains { Self.listed($0) == 7 } })
        // The same source is still polled, its figures still taken.
        let asked = prodSource.calls.withLock { $0 }
        let count = posted.all.filter { Self.figuresFrom($0) == "prometheus" }.count
        #expect(await Self.wait { prodSource.calls.withLock { $0 } > asked + 1 })
        #expect(await posted.wait { $0.filter { Self.figuresFrom($0) == "prometheus" }.count > count })
        // The same trace source is asked.
        runner.run(.loadTrace("4bf92f3577b34da6a3ce929d0e0e4736"))
        #expect(await posted.wait { $0.contains(.traceFailed("prod traces")) }, "\(posted.all)")

        #expect(runner.dropped.load(ordering: .relaxed) == 0)
        #expect(!posted.all.contains { if case .contextSwitched = $0 { true } else { false } })
        #expect(posted.all.filter { if case .sourcesChanged = $0 { true } else { false } }.count == 1, "only the start's")
    }
}
