import Foundation
import Synchronization
import Testing
import TowerDomain
import TowerHTTP
@testable import TowerSources
import Yams

/// The client's failover rules across registry replicas (DESIGN §12), against a transport scripted
/// per replica: what moves on, what never does, and what a lost answer to a change becomes.
@Suite struct RegistryFailoverTests {
    /// Per host: a queue of outcomes, the last one repeated; every request is recorded.
    final class Replicas: HTTPTransport, @unchecked Sendable {
        enum Outcome { case answer(Int, [UInt8]), fail(HTTPTransportError) }
        let script: Mutex<[String: [Outcome]]>
        let asked = Mutex<[String]>([])
        init(_ script: [String: [Outcome]]) { self.script = Mutex(script) }
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            let host = URLComponents(string: request.url)?.host ?? "?"
            let path = URLComponents(string: request.url)?.path ?? "?"
            asked.withLock { $0.append("\(host) \(request.method) \(path)") }
            let outcome = script.withLock { s -> Outcome in
                var q = s[host] ?? [.fail(.notConnected("\(host): no such host"))]
                let o = q.count > 1 ? q.removeFirst() : q[0]
                s[host] = q
                return o
            }
            switch outcome {
            case .answer(let status, let body): return HTTPResponse(status: status, headers: ["content-type": "application/json"], body: body)
            case .fail(let e): throw e
            }
        }
    }

    static func endpoint(revision: Int64, by: String = "otto") throws -> [UInt8] {
        let v = Version(name: "v1", artifact: Artifact(uri: "s3://m/v1", digest: "sha256:" + String(repeating: "a", count: 64)),
                        weight: 100, gate: .passed, stage: .prod)
        let e = try Endpoint(name: "alpha", path: "/v1/models/alpha", owner: "ml", revision: revision, versions: [v],
                             updatedAt: Date(timeIntervalSince1970: 1_795_000_000), updatedBy: by)
        return Array(try Wire.encoder().encode(e))
    }

    static func problem(_ status: Int, _ detail: String) throws -> [UInt8] {
        Array(try Wire.encoder().encode(Problem(status: status, title: "t", detail: detail)))
    }

    static func client(_ t: Replicas) -> RegistryClient {
        RegistryClient(baseURL: "http://a:1, http://b:2", token: nil, transport: t)
    }

    @Test func aReadMovesToTheNextReplicaAndStaysThere() async throws {
        let t = Replicas(["a": [.fail(.notConnected("a:1: connection refused"))], "b": [.answer(200, try Self.endpoint(revision: 3))]])
        let c = Self.client(t)
        #expect(c.replicas == ["http://a:1", "http://b:2"] && c.baseURL == "http://a:1")
        #expect(try await c.endpoint("alpha").revision == 3)
        #expect(c.baseURL == "http://b:2", "the client stays on the replica that answered")
        _ = try await c.endpoint("alpha")
        #expect(t.asked.withLock { $0 } == ["a GET /v1/endpoints/alpha", "b GET /v1/endpoints/alpha", "b GET /v1/endpoints/alpha"])
    }

    @Test func aServerErrorMovesOnAndARefusalDoesNot() async throws {
        let t = Replicas(["a": [.answer(503, try Self.problem(503, "store unavailable")), .answer(404, try Self.problem(404, "no endpoint named 'x'"))],
                          "b": [.answer(200, try Self.endpoint(revision: 3))]])
        let c = Self.client(t)
        #expect(try await c.endpoint("alpha").revision == 3)
        // On b now; a 404 from b is the registry's answer, not a failed replica.
        let t2 = Replicas(["a": [.answer(404, try Self.problem(404, "no endpoint named 'x'"))], "b": [.answer(200, [])]])
        let c2 = Self.client(t2)
        await #expect(throws: RegistryClientError.self) { _ = try await c2.endpoint("x") }
        #expect(t2.asked.withLock { $0 } == ["a GET /v1/endpoints/x"], "a 4xx is never retried elsewhere")
    }

    /// A replica that lost its database answers from memory, marked: the other is asked first.
    @Test func aStaleReadIsTakenOnlyWhenNoReplicaHasBetter() async throws {
        final class Marked: HTTPTransport, @unchecked Sendable {
            let fresh: Bool
            let asked = Mutex<[String]>([])
            init(fresh: Bool) { self.fresh = fresh }
            func send(_ request: HTTPRequest) async throws -> HTTPResponse {
                let host = URLComponents(string: request.url)?.host ?? "?"
                asked.withLock { $0.append(host) }
                let staleHere = host == "a" || !fresh
                return HTTPResponse(status: 200, headers: staleHere ? ["tower-stale": "database unavailable since …"] : [:],
                                    body: try RegistryFailoverTests.endpoint(revision: staleHere ? 3 : 4))
            }
        }
        let t = Marked(fresh: true)
        let c = RegistryClient(baseURL: "http://a:1,http://b:2", token: nil, transport: t)
        #expect(try await c.endpoint("alpha").revision == 4, "the fresh replica's answer")
        #expect(c.baseURL == "http://b:2" && t.asked.withLock { $0 } == ["a", "b"])
        let allStale = Marked(fresh: false)
        let c2 = RegistryClient(baseURL: "http://a:1,http://b:2", token: nil, transport: allStale)
        #expect(try await c2.endpoint("alpha").revision == 3, "every replica stale: the first stale answer, not an error")
        #expect(c2.baseURL == "http://a:1")
    }

    @Test func everyReplicaFailingIsOneSentenceNamingEach() async throws {
        let t = Replicas(["a": [.fail(.notConnected("a:1: connection refused"))], "b": [.fail(.timedOut("b:2 did not answer within 5000 ms"))]])
        do {
            _ = try await Self.client(t).list()
            Issue.record("no replica answered, yet the list came back")
        } catch {
            #expect(error.description == "registry unreachable: no replica answered (a:1: unreachable: a:1: connection refused; b:2: timed out: b:2 did not answer within 5000 ms)", "\(error)")
        }
    }

    @Test func aChangeThatNeverArrivedGoesToTheNextReplica() async throws {
        let t = Replicas(["a": [.fail(.notConnected("a:1: connection refused"))], "b": [.answer(200, try Self.endpoint(revision: 4))]])
        let c = Self.client(t)
        let e = try await c.shift("alpha", weights: ["v1": 100], reason: "r", expected: 3)
        #expect(e.revision == 4 && c.baseURL == "http://b:2")
        #expect(t.asked.withLock { $0 } == ["a POST /v1/endpoints/alpha/shift", "b POST /v1/endpoints/alpha/shift"])
    }

    @Test func aLostAnswerIsSettledByAReadBeforeAnythingIsSentAgain() async throws {
        // Not applied: b still shows revision 3, so the change goes to b (If-Match "3" still on it).
        let t = Replicas(["a": [.fail(.timedOut("a:1 did not answer within 5000 ms"))],
                          "b": [.answer(200, try Self.endpoint(revision: 3)), .answer(200, try Self.endpoint(revision: 4))]])
        let e = try await Self.client(t).shift("alpha", weights: ["v1": 100], reason: "r", expected: 3)
        #expect(e.revision == 4)
        #expect(t.asked.withLock { $0 } == ["a POST /v1/endpoints/alpha/shift", "b GET /v1/endpoints/alpha", "b POST /v1/endpoints/alpha/shift"])

        // Applied (or someone else's change): b shows revision 4; nothing is sent again.
        let moved = Replicas(["a": [.fail(.unreachable("a:1: Connection reset by peer"))], "b": [.answer(200, try Self.endpoint(revision: 4, by: "otto"))]])
        do {
            _ = try await Self.client(moved).shift("alpha", weights: ["v1": 100], reason: "r", expected: 3)
            Issue.record("a lost answer became a success")
        } catch {
            guard case .outcomeUnknown(let why) = error else { Issue.record("\(error)"); return }
            #expect(why.contains("now at revision 4, by otto") && why.contains("nothing was sent again"), "\(why)")
        }
        #expect(moved.asked.withLock { $0 } == ["a POST /v1/endpoints/alpha/shift", "b GET /v1/endpoints/alpha"])
    }

    @Test func aChangeWithoutIfMatchIsNeverSentAgainAfterALostAnswer() async throws {
        let t = Replicas(["a": [.answer(502, try Self.problem(502, "bad gateway"))], "b": [.answer(200, [])]])
        do {
            let _: Endpoint = try await Self.client(t).startRollout("alpha", body: ["target": "v2", "reason": "r"])
            Issue.record("the rollout start was answered")
        } catch {
            guard case .outcomeUnknown(let why) = error else { Issue.record("\(error)"); return }
            #expect(why.contains("may have been applied"), "\(why)")
        }
        #expect(t.asked.withLock { $0 } == ["a POST /v1/endpoints/alpha/rollouts"])
    }

    @Test func oneRegistryTellsNotAppliedFromUnknown() async throws {
        // The answer was lost, a read shows the revision unchanged: "did not answer" (nothing changed) holds.
        let same = Replicas(["a": [.fail(.timedOut("a:1 did not answer within 5000 ms")), .answer(200, try Self.endpoint(revision: 3))]])
        let one = RegistryClient(baseURL: "http://a:1", token: nil, transport: same)
        do {
            _ = try await one.drain("alpha", version: "v1", reason: "r", expected: 3)
            Issue.record("answered")
        } catch {
            guard case .unreachable(.timedOut) = error else { Issue.record("\(error)"); return }
        }
        #expect(same.asked.withLock { $0 } == ["a POST /v1/endpoints/alpha/drain", "a GET /v1/endpoints/alpha"], "never sent twice to one registry")
        // The read fails too: nobody can say.
        let gone = Replicas(["a": [.fail(.timedOut("a:1 did not answer within 5000 ms"))]])
        do {
            _ = try await RegistryClient(baseURL: "http://a:1", token: nil, transport: gone).drain("alpha", version: "v1", reason: "r", expected: 3)
            Issue.record("answered")
        } catch {
            guard case .outcomeUnknown(let why) = error else { Issue.record("\(error)"); return }
            #expect(why.contains("no replica answered a read since"), "\(why)")
        }
    }

    @Test func aStaleRevisionIsTheAnswerWhereverItComesFrom() async throws {
        var p = Problem(status: 412, title: "stale", detail: "alpha is at revision 5, not 3")
        p.current = nil
        let t = Replicas(["a": [.answer(412, Array(try Wire.encoder().encode(p)))], "b": [.answer(200, try Self.endpoint(revision: 6))]])
        await #expect(throws: RegistryClientError.self) { _ = try await Self.client(t).shift("alpha", weights: ["v1": 100], reason: "r", expected: 3) }
        #expect(t.asked.withLock { $0 } == ["a POST /v1/endpoints/alpha/shift"])
    }

    @Test func aContextListsItsReplicas() throws {
        let yaml = """
            contexts:
            - name: prod
              registry: [https://reg-a:8443, https://reg-b:8443]
            """
        let cfg = try TowerConfig.parse(yaml, file: "config.yaml")
        let ctx = try #require(try cfg.context(named: "prod"))
        #expect(ctx.registryReplicas == ["https://reg-a:8443", "https://reg-b:8443"])
        #expect(RegistryClient(baseURL: ctx.registry, token: nil).replicas == ctx.registryReplicas)
        #expect(throws: (any Error).self) { try TowerConfig.parse("contexts:\n- name: p\n  registry: []\n", file: "config.yaml") }
        // Written back (the stack writes its `local` context) as a list, and read back the same.
        let written = try YAMLEncoder().encode(ctx)
        #expect(written.contains("registry:\n- https://reg-a:8443\n- https://reg-b:8443"), "\(written)")
        #expect(try YAMLDecoder().decode(TowerContext.self, from: written) == ctx)
    }
}
