import Foundation
import Testing
@testable import TowerDomain

@Suite struct UpstreamTests {
    @Test func addressesAndNamesParse() throws {
        func ok(_ s: String) throws -> Upstream { try Upstream.parse(s, version: "v1").get() }
        #expect(try ok("10.0.3.7:8080") == Upstream(host: "10.0.3.7", port: 8080, isIPLiteral: true))
        #expect(try ok("127.0.0.1:1") == Upstream(host: "127.0.0.1", port: 1, isIPLiteral: true))
        #expect(try ok("[::1]:65535") == Upstream(host: "::1", port: 65535, isIPLiteral: true))
        #expect(try ok("[fd00::7]:80") == Upstream(host: "fd00::7", port: 80, isIPLiteral: true))
        #expect(try ok("model-v7.internal:9000") == Upstream(host: "model-v7.internal", port: 9000, isIPLiteral: false))
        #expect(try ok("localhost:80") == Upstream(host: "localhost", port: 80, isIPLiteral: false))
    }

    @Test(arguments: ["", "host", ":80", "host:", "host:0", "host:65536", "host:99999999999999999999", "host:8O", "host:+80",
                      "ho st:80", "::1:80", "[::1]", "[]:80", "[zz]:80", "[::1:80", "10.0.0.300:80", "010.0.0.1:80",
                      "-a.example:80", "a-.example:80", "a..b:80", ".a:80", "a_b:80", "é.example:80", "a\n:80"])
    func badUpstreamsSayWhatIsWrong(_ s: String) {
        guard case .failure(let e) = Upstream.parse(s, version: "v7") else {
            Issue.record("'\(s)' should be refused")
            return
        }
        #expect(e.kind == .invalid)
        #expect(e.detail.hasPrefix("upstream of v7 is '"))
        #expect(e.detail.contains("host:port"))
        #expect(!e.detail.contains("\n"), "control characters are not echoed")
    }

    @Test func anEndpointWithABadUpstreamIsInvalid() throws {
        var v = Fx.version("v1", 100)
        v.upstream = "nowhere"
        #expect(throws: RoutingError.self) { try Fx.endpoint([v]) }
        v.upstream = "10.0.0.1:80"
        _ = try Fx.endpoint([v])
    }

    @Test func everyRoutingChangeKeepsUpstreams() throws {
        let now = Fx.t0.addingTimeInterval(60)
        var v1 = Fx.version("v1", 90), v2 = Fx.version("v2", 10)
        v1.upstream = "10.0.0.1:8080"
        v2.upstream = "model-v2.internal:8080"
        let e = try Fx.endpoint([v1, v2])
        let before = try Fx.endpoint([v1, v2], revision: 1)
        let steps: [RoutingChange] = [.shift(["v1": 50, "v2": 50]), .drainVersion("v2"), .undrainVersion("v2"),
                                      .drainEndpoint, .undrainEndpoint, .restore(before)]
        var cur = e
        for step in steps {
            cur = try cur.applying(step, now: now, role: .operator)
            #expect(cur.versions.map(\.upstream) == ["10.0.0.1:8080", "model-v2.internal:8080"], "\(step)")
        }
        let back = try Wire.decoder().decode(Endpoint.self, from: Wire.encoder().encode(cur))
        #expect(back == cur)
    }

    @Test func aSpecCarriesUpstreamsAndTheSummaryNamesAChange() throws {
        let spec = EndpointSpec(name: "alpha", path: "/v1/models/alpha", owner: "o", versions: [
            .init(name: "v1", artifact: Artifact(uri: "s3://a", digest: "sha256:" + String(repeating: "a", count: 64)),
                  weight: 100, gate: .passed, stage: .prod, upstream: "10.0.0.1:80"),
        ])
        let e = try spec.endpoint(replacing: nil, revision: 1, at: Fx.t0, by: "t")
        #expect(e.versions[0].upstream == "10.0.0.1:80")
        var moved = spec
        moved.versions[0].upstream = "10.0.0.2:80"
        let e2 = try moved.endpoint(replacing: e, revision: 2, at: Fx.t0, by: "t")
        #expect(ChangeSummary.describe(before: e, after: e2) == "v1 upstream 10.0.0.1:80→10.0.0.2:80")
        // Without an upstream the JSON has no key for it (never null).
        let plain = try Fx.endpoint([Fx.version("v1", 100)])
        #expect(!String(decoding: try Wire.encoder().encode(plain), as: UTF8.self).contains("upstream"))
    }

    @Test func gatewayIsTheLeastRole() {
        #expect(Role.gateway < .viewer && Role.viewer < .operator && Role.operator < .admin)
        #expect(Role(rawValue: "gateway") == .gateway)
    }
}
