import Foundation
import Synchronization
import Testing
import TowerDomain
import TowerHTTP
@testable import TowerSources

@Suite struct RegistryClientGatewaysTests {
    /// Answers every request with one status and body, remembering what it was asked.
    final class Canned: HTTPTransport, @unchecked Sendable {
        let status: Int
        let body: [UInt8]
        let asked = Mutex<[HTTPRequest]>([])
        init(status: Int, body: [UInt8] = []) { self.status = status; self.body = body }
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            asked.withLock { $0.append(request) }
            return HTTPResponse(status: status, headers: ["content-type": "application/json"], body: body)
        }
    }

    @Test func readsTheListWithTheToken() async throws {
        let list = GatewayList(gateways: [GatewayStatus(node: "edge-1", cluster: "edge", lastPollAt: Timestamp.date(ms: 1_795_000_000_000),
                                                        clusters: .init(applied: "a", current: "a"), routes: .init(applied: "b", current: "c"))])
        let t = Canned(status: 200, body: Array(try Wire.encoder().encode(list)))
        let got = try await RegistryClient(baseURL: "http://reg/", token: "s3cret", transport: t).gateways()
        #expect(got == list && got.gateways[0].inSync == false)
        let r = try #require(t.asked.withLock { $0.first })
        #expect(r.method == "GET" && r.url == "http://reg/v1/gateways")
        #expect(r.headers.contains { $0.0 == "Authorization" && $0.1 == "Bearer s3cret" })
    }

    @Test func anOlderRegistrysNotFoundIsNoGatewaysKnown() async throws {
        let problem = #"{"type":"about:blank","title":"Not Found","status":404,"detail":"no route for GET /v1/gateways"}"#
        for body in [Array(problem.utf8), []] {
            let got = try await RegistryClient(baseURL: "http://reg", token: nil, transport: Canned(status: 404, body: body)).gateways()
            #expect(got == GatewayList(gateways: []))
        }
    }

    @Test func otherRefusalsAndGarbageAreErrors() async {
        await #expect(throws: RegistryClientError.self) {
            _ = try await RegistryClient(baseURL: "http://reg", token: "bad", transport: Canned(status: 401)).gateways()
        }
        await #expect(throws: RegistryClientError.self) {
            _ = try await RegistryClient(baseURL: "http://reg", token: nil, transport: Canned(status: 200, body: Array("<html>".utf8))).gateways()
        }
    }
}
