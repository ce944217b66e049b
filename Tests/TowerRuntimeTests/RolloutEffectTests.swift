import Foundation
import Synchronization
import Testing
import TowerConsole
import TowerDomain
import TowerHTTP
import TowerRollouts
import TowerSources
@testable import TowerRuntime

/// The runner's rollout effects: the read posted under the generation, a refusal as a failure
/// beside the panel, and the runbook folder listed (YAML files only, by name).
@Suite struct RolloutEffectTests {
    /// A registry that answers `GET …/rollout` with `body` and `status`, and records the paths asked.
    final class Registry: HTTPTransport, @unchecked Sendable {
        let status: Int
        let body: String
        let paths = Mutex<[String]>([])
        init(status: Int, body: String) { self.status = status; self.body = body }
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            paths.withLock { $0.append(request.url) }
            return HTTPResponse(status: status, body: Array(body.utf8))
        }
    }

    static func runner(_ t: Registry) -> (EffectRunner, GatewayRequestTests.Posted) {
        let posted = GatewayRequestTests.Posted()
        let hooks = ConsoleHooks(resolveContext: { _ in throw ConfigError("none") }, resolveTheme: { _ in .standard })
        let runner = EffectRunner(client: RegistryClient(baseURL: "http://reg", token: nil, transport: t), hooks: hooks,
                                  clock: { Date(timeIntervalSince1970: 1000) }) { m in posted.withLock { $0.append(m) } }
        return (runner, posted)
    }

    @Test func theRolloutIsReadAndPosted() async throws {
        let status = RolloutStatus(endpoint: "alpha", now: Date(timeIntervalSince1970: 990), current: nil, last: nil)
        let t = Registry(status: 200, body: String(decoding: try Wire.encoder().encode(status), as: UTF8.self))
        let (runner, posted) = Self.runner(t)
        runner.run(.loadRollout("alpha"))
        try await GatewayRequestTests.waitFor(posted, count: 1)
        #expect(posted.withLock { $0 } == [.rolloutLoaded(status, at: Date(timeIntervalSince1970: 1000))])
        #expect(t.paths.withLock { $0 }.first?.hasSuffix("/v1/endpoints/alpha/rollout") == true)
    }

    @Test func aRefusedReadIsAFailureOfThatEndpoint() async throws {
        let t = Registry(status: 404, body: #"{"type":"about:blank","title":"Not Found","status":404,"detail":"no endpoint beta"}"#)
        let (runner, posted) = Self.runner(t)
        runner.run(.loadRollout("beta"))
        try await GatewayRequestTests.waitFor(posted, count: 1)
        guard case .rolloutFailed(let endpoint, let why, _)? = posted.withLock({ $0.first }) else {
            Issue.record("expected rolloutFailed, got \(posted.withLock { $0 })"); return
        }
        #expect(endpoint == "beta" && why.contains("no endpoint beta"))
    }

    @Test func theRunbookFolderIsUnderTheConfigFolder() throws {
        #expect(EffectRunner.runbookFolder(environment: ["XDG_CONFIG_HOME": "/cfg"]) == "/cfg/tower/runbooks")
        #expect(EffectRunner.runbookFolder(environment: ["HOME": "/home/op"]) == "/home/op/.config/tower/runbooks")
    }

    @Test func aRunbookThatDoesNotParseIsRefusedNamingTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.yaml").path
        try "name: x\nsteps: []\nbogus: 1\n".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect { try EffectRunner.readRunbook(bad) } throws: { "\($0)".contains("bad.yaml") }
        let good = dir.appendingPathComponent("good.yaml").path
        try "name: quick\nsteps:\n  - setWeight: 50\n  - setWeight: 100\n".write(toFile: good, atomically: true, encoding: .utf8)
        #expect(try EffectRunner.readRunbook(good).steps.count == 2)
    }
}
