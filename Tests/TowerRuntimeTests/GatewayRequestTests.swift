import Foundation
import Synchronization
import Testing
import TowerConsole
import TowerDomain
import TowerHTTP
import TowerSources
@testable import TowerRuntime

@Suite struct GatewayRequestTests {
    /// A registry that takes its time over `/v1/gateways` and counts how often it is asked.
    final class SlowGateways: HTTPTransport, @unchecked Sendable {
        let status: Int
        let calls = Mutex(0)
        init(status: Int) { self.status = status }
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            calls.withLock { $0 += 1 }
            try await Task.sleep(for: .milliseconds(200))
            let body = status == 200 ? #"{"gateways":[]}"# : #"{"type":"about:blank","title":"Error","status":500,"detail":"boom"}"#
            return HTTPResponse(status: status, body: Array(body.utf8))
        }
    }

    final class Posted: Sendable {
        let messages = Mutex<[Message]>([])
        func withLock<R>(_ f: (inout [Message]) -> R) -> R { messages.withLock { f(&$0) } }
    }

    static func runner(_ transport: SlowGateways) -> (EffectRunner, Posted) {
        let posted = Posted()
        let hooks = ConsoleHooks(resolveContext: { _ in throw ConfigError("none") }, resolveTheme: { _ in .standard })
        let runner = EffectRunner(client: RegistryClient(baseURL: "http://reg", token: nil, transport: transport), hooks: hooks,
                                  clock: { Date(timeIntervalSince1970: 1000) }) { m in posted.withLock { $0.append(m) } }
        return (runner, posted)
    }

    static func waitFor(_ posted: Posted, count: Int) async throws {
        let deadline = Date().addingTimeInterval(Eventually.bound)
        while posted.withLock({ $0.count }) < count && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func oneRequestInFlightAtMost() async throws {
        let t = SlowGateways(status: 200)
        let (runner, posted) = Self.runner(t)
        for _ in 0..<3 { runner.run(.loadGateways) }
        try await Self.waitFor(posted, count: 1)
        try await Task.sleep(for: .milliseconds(300))
        #expect(t.calls.withLock { $0 } == 1)
        #expect(posted.withLock { $0 } == [.gatewaysLoaded(GatewayList(gateways: []), at: Date(timeIntervalSince1970: 1000))])
        runner.run(.loadGateways)
        try await Self.waitFor(posted, count: 2)
        #expect(t.calls.withLock { $0 } == 2, "answered: the next one goes out")
    }

    @Test func aFailureIsTheGatewaysAloneAndNotRetriedByItself() async throws {
        let t = SlowGateways(status: 500)
        let (runner, posted) = Self.runner(t)
        runner.run(.loadGateways)
        try await Self.waitFor(posted, count: 1)
        try await Task.sleep(for: .milliseconds(600))
        let messages = posted.withLock { $0 }
        #expect(messages.count == 1 && t.calls.withLock { $0 } == 1)
        guard case .gatewaysFailed(let why, _)? = messages.first else { Issue.record("\(messages)"); return }
        #expect(why.contains("boom"))
    }
}
