import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing
import TowerDomain
@testable import TowerRegistry

/// What an outside fuzzing run of the API found (issue 13, item 6), each through the router.
@Suite struct HardeningTests {
    @Test func aKeyGivenTwiceIsRefusedWherever() async throws {
        try await Harness.run { h, c in
            let before = try await h.state()
            // JSONDecoder kept the first `v1` here, shifting all traffic to v1.
            let shift = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"1\"",
                                         json: #"{"weights":{"v1":100,"v1":0,"v2":0},"reason":"r"}"#)
            #expect(shift.status == 400)
            #expect(shift.headers[.contentType] == "application/problem+json")
            #expect(shift.problem?.detail.contains("weights.v1 appears twice") == true, "\(shift.text)")
            // The same key spelled with an escape is the same key.
            let escaped = try await c.call(.post, "/v1/endpoints/alpha/drain", token: h.op, ifMatch: "\"1\"",
                                           json: #"{"reason":"a","re\u0061son":"b"}"#)
            #expect(escaped.status == 400)
            #expect(escaped.problem?.detail.contains("reason appears twice") == true, "\(escaped.text)")
            let spec = try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"1\"",
                                        json: #"{"path":"/a","path":"/b","owner":"o","versions":[]}"#)
            #expect(spec.status == 400)
            let xds = try await c.call(.post, "/v3/discovery:clusters", token: h.gateway,
                                       json: #"{"node":{"id":"a","id":"b"}}"#)
            #expect(xds.status == 400)
            #expect(xds.problem?.detail.contains("node.id appears twice") == true, "\(xds.text)")
            // Equal keys in different objects are not duplicates.
            let fine = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"1\"",
                                        json: #"{"weights":{"v1":100,"v2":0},"reason":"weights"}"#)
            #expect(fine.status == 200, "\(fine.text)")
            _ = before
        }
    }

    @Test(arguments: ["89.5", "1e309", "-0.5", "123456789012345678901234567890"])
    func aWeightThatIsNoWholePercentIsSaidSo(_ weight: String) async throws {
        try await Harness.run { h, c in
            let before = try await h.state()
            let r = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"1\"",
                                     json: #"{"weights":{"v1":\#(weight),"v2":0},"reason":"r"}"#)
            #expect(r.status == 400)
            #expect(r.headers[.contentType] == "application/problem+json")
            #expect(r.problem?.detail == "weight of v1 must be a whole percent from 0 to 100, not \(weight)", "\(r.text)")
            try await h.expectUnchanged(since: before)
        }
    }

    @Test func aFractionalRevisionIsNamed() async throws {
        try await Harness.run { h, c in
            let r = try await c.call(.post, "/v1/endpoints/alpha/rollback", token: h.op, ifMatch: "\"1\"",
                                     json: #"{"toRevision":1.5,"reason":"r"}"#)
            #expect(r.status == 400)
            #expect(r.problem?.detail == "toRevision must be a whole number, not 1.5", "\(r.text)")
        }
    }

    @Test func nullIsRefusedWhereverItIs() async throws {
        try await Harness.run { h, c in
            let before = try await h.state()
            // The decoder would take a null `override` as absent.
            let r = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"1\"",
                                     json: #"{"weights":{"v1":100,"v2":0},"reason":"r","override":null}"#)
            #expect(r.status == 400)
            #expect(r.problem?.detail.hasPrefix("override is null") == true, "\(r.text)")
            let xds = try await c.call(.post, "/v3/discovery:routes", token: h.gateway, json: #"{"node":{"id":"a"},"type_url":null}"#)
            #expect(xds.status == 400)
            #expect(xds.problem?.detail.hasPrefix("type_url is null") == true, "\(xds.text)")
            try await h.expectUnchanged(since: before)
        }
    }

    @Test(arguments: ["\"+1\"", "\"01\"", "+1", "1, 2", "*", "\" 1\""])
    func anIfMatchOutsideItsPatternIs400(_ value: String) async throws {
        try await Harness.run { h, c in
            let r = try await c.call(.post, "/v1/endpoints/alpha/drain", token: h.op, ifMatch: value, json: #"{"reason":"r"}"#)
            #expect(r.status == 400, "\(value): \(r.text)")
        }
    }

    @Test func deleteTakesItsReasonFromTheQueryOnly() async throws {
        try await Harness.run { h, c in
            let body = try await c.call(.delete, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"1\"", json: #"{"reason":"retired"}"#)
            #expect(body.status == 422, "\(body.text)")
            let query = try await c.call(.delete, "/v1/endpoints/alpha?reason=retired", token: h.admin, ifMatch: "\"1\"")
            #expect(query.status == 200)
        }
    }

    @Test func aKnownPathWithAnUndeclaredMethodIs405WithAllow() async throws {
        try await Harness.run { h, c in
            let trace = try await c.call(.init("TRACE")!, "/healthz", token: nil)
            #expect(trace.status == 405)
            #expect(trace.headers[.allow] == "GET")
            #expect(trace.headers[.contentType] == "application/problem+json")
            let patch = try await c.call(.patch, "/v1/endpoints/x", token: h.viewer)
            #expect(patch.status == 405)
            #expect(patch.headers[.allow] == "DELETE, GET, PUT")
            #expect(patch.problem?.detail.contains("PATCH is not allowed on /v1/endpoints/x") == true)
            let xds = try await c.call(.get, "/v3/discovery:routes", token: nil)
            #expect(xds.status == 405)
            #expect(xds.headers[.allow] == "POST")
            // An unknown path stays 404.
            let unknown = try await c.call(.get, "/v1/nothing/here", token: h.viewer)
            #expect(unknown.status == 404)
        }
    }

    @Test(arguments: ["line\u{2028}break", "shift \u{202E}2v", "isolate \u{2066}x\u{2069}", "para\u{2029}"])
    func aReasonThatCanMakeTheAuditLieIsRefused(_ reason: String) async throws {
        try await Harness.run { h, c in
            let before = try await h.state()
            let body = String(decoding: try JSONEncoder().encode(ShiftRequest(weights: ["v1": 100, "v2": 0], reason: reason)), as: UTF8.self)
            let r = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"1\"", json: body)
            #expect(r.status == 422, "\(r.text)")
            #expect(r.problem?.detail.contains("bidirectional") == true)
            try await h.expectUnchanged(since: before)
        }
    }

    @Test func anOwnerWithAnOverrideIsRefused() async throws {
        try await Harness.run { h, c in
            var spec = Harness.seed[0]
            spec.owner = "team-\u{202E}noisiv"
            let body = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
            let r = try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"1\"", json: body)
            #expect(r.status == 422, "\(r.text)")
            #expect(r.problem?.detail.contains("owner") == true)
            #expect(r.problem?.detail.contains("\\u{202E}") == true, "drawn escaped: \(r.text)")
        }
    }

    @Test func headersOverTheLimitAre431() async throws {
        try await Harness.run { _, c in
            let r = try await c.client.execute(uri: "/healthz", method: .get,
                                               headers: [HTTPField.Name("X-Big")!: String(repeating: "a", count: 40_000)], body: nil) { r in r }
            #expect(r.status.code == 431)
            #expect(r.headers[.contentType] == "application/problem+json")
        }
    }

    @Test func failedAuthenticationsAreCountedAndLimitedWithoutSlowingTokens() async throws {
        let h = try await Harness()
        defer { h.cleanUp() }
        let metrics = RegistryMetrics()
        let app = Application(router: buildRouter(store: h.store, metrics: metrics, authLimiter: AuthFailureLimiter(perSecond: 0.001, burst: 10)))
        try await app.test(.router) { client in
            let c = Client(client: client)
            for i in 0..<10 {
                let r = try await c.call(.get, "/v1/endpoints", token: "twr_guess\(i)")
                #expect(r.status == 401)
            }
            let limited = try await c.call(.get, "/v1/endpoints", token: "twr_guess-more")
            #expect(limited.status == 429)
            #expect(limited.headers[.contentType] == "application/problem+json")
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
            let none = try await c.call(.get, "/v1/endpoints", token: nil)
            #expect(none.status == 429)
            // A valid token from the same address is judged by its token, not the address's record.
            let ok = try await c.call(.get, "/v1/endpoints", token: h.viewer)
            #expect(ok.status == 200)
            let text = String(decoding: metrics.exposition(), as: UTF8.self)
            #expect(text.contains(#"tower_registry_auth_failures_total{reason="unknown",limited="false"} 10"#), "\(text)")
            #expect(text.contains(#"tower_registry_auth_failures_total{reason="unknown",limited="true"} 1"#))
            #expect(text.contains(#"tower_registry_auth_failures_total{reason="missing",limited="true"} 1"#))
        }
    }

    @Test func theLimiterRefillsAtItsRate() {
        let l = AuthFailureLimiter(perSecond: 10, burst: 10)
        let t0 = ContinuousClock.now
        for _ in 0..<10 { #expect(l.fail(from: "a", now: t0) == nil) }
        #expect(l.fail(from: "a", now: t0) == 1)
        #expect(l.fail(from: "b", now: t0) == nil, "another address has its own bucket")
        #expect(l.fail(from: "a", now: t0 + .milliseconds(250)) == nil, "2.5 tokens back after 250 ms")
    }

    @Test func aLongURLIsNotLoggedWhole() async throws {
        let h = try await Harness()
        defer { h.cleanUp() }
        let lines = LogCapture()
        var logger = Logger(label: "test") { _ in lines }
        logger.logLevel = .info
        let app = Application(router: buildRouter(store: h.store), logger: logger)
        try await app.test(.router) { client in
            let long = "/" + String(repeating: "x", count: 60_000)
            let r = try await Client(client: client).call(.get, long, token: nil)
            #expect(r.status == 404)
        }
        let logged = lines.paths()
        #expect(!logged.isEmpty)
        #expect(logged.allSatisfy { $0.unicodeScalars.count <= ProblemMiddleware.loggedPathLimit + 1 }, "\(logged.map(\.count))")
    }
}

/// Collects the `path` of every log line.
final class LogCapture: LogHandler, @unchecked Sendable {
    private let lock = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        if case .string(let p)? = event.metadata?["path"] { lock.withLock { $0.append(p) } }
    }
    func paths() -> [String] { lock.withLock { $0 } }
}
