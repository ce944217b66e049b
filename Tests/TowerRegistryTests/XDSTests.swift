import Foundation
import Testing
import TowerDomain
@testable import TowerRegistry
import TowerSim

/// The gateway's configuration over REST-JSON xDS: what Envoy is given for each routing state,
/// version_info and 304, who may poll, and what `/v1/gateways` says about the pollers.
@Suite struct XDSTests {
    typealias JSON = [String: Any]

    static let clustersPath = "/v3/discovery:clusters"
    static let routesPath = "/v3/discovery:routes"

    /// A DiscoveryRequest as Envoy's REST fetcher sends it (snake_case, zero values left out).
    static func request(node: String = "edge-1", cluster: String? = "tower-gateway", metadataToken: String? = nil,
                        version: String? = nil, names: [String]? = nil, typeURL: String? = nil) -> String {
        var n: JSON = ["id": node, "user_agent_name": "envoy", "client_features": ["envoy.lb.does_not_support_overprovisioning"]]
        if let cluster { n["cluster"] = cluster }
        if let metadataToken { n["metadata"] = ["tower_token": metadataToken, "region": "test"] }
        var body: JSON = ["node": n]
        if let version { body["version_info"] = version }
        if let names { body["resource_names"] = names }
        if let typeURL { body["type_url"] = typeURL }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func poll(_ c: Client, _ path: String, bearer: String? = nil, node: String = "edge-1", metadataToken: String? = nil,
                     version: String? = nil, names: [String]? = nil) async throws -> Reply {
        try await c.call(.post, path, token: bearer, json: request(node: node, metadataToken: metadataToken, version: version, names: names))
    }

    static func object(_ r: Reply) throws -> JSON {
        try #require(try JSONSerialization.jsonObject(with: r.body) as? JSON, "not a JSON object: \(r.text.prefix(300))")
    }

    static func resources(_ r: Reply) throws -> [JSON] {
        try #require(try object(r)["resources"] as? [JSON])
    }

    /// The routes of the first RouteConfiguration's only virtual host.
    static func routes(_ r: Reply) throws -> [JSON] {
        let config = try #require(try resources(r).first)
        let hosts = try #require(config["virtual_hosts"] as? [JSON])
        #expect(hosts.count == 1)
        #expect(hosts.first?["domains"] as? [String] == ["*"])
        return try #require(hosts.first?["routes"] as? [JSON])
    }

    static func route(_ routes: [JSON], _ name: String) throws -> JSON {
        try #require(routes.first { $0["name"] as? String == name }, "no route \(name)")
    }

    /// `[cluster: weight]` of a weighted route, or nil for a direct response.
    static func weights(_ route: JSON) -> [String: Int]? {
        guard let wc = (route["route"] as? JSON)?["weighted_clusters"] as? JSON, let cs = wc["clusters"] as? [JSON] else { return nil }
        return Dictionary(uniqueKeysWithValues: cs.map { ($0["name"] as? String ?? "?", $0["weight"] as? Int ?? -1) })
    }

    static func version(_ r: Reply) throws -> String { try #require(try object(r)["version_info"] as? String) }

    // MARK: CDS

    @Test(arguments: StoreKind.available) func oneClusterPerVersionNamedEndpointDashDashVersion(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let r = try await Self.poll(c, Self.clustersPath, bearer: h.viewer)
            #expect(r.status == 200)
            #expect(r.headers[.contentType] == "application/json")
            let o = try Self.object(r)
            #expect(o["type_url"] as? String == "type.googleapis.com/envoy.config.cluster.v3.Cluster")
            let cs = try Self.resources(r)
            #expect(cs.map { $0["name"] as? String } == ["alpha--v1", "alpha--v2", "fraud--v3", "fraud--v4"])
            for cl in cs {
                #expect(cl["@type"] as? String == "type.googleapis.com/envoy.config.cluster.v3.Cluster")
                #expect(cl["connect_timeout"] as? String == "1s")
                // No upstream declared: a cluster without endpoints, so Envoy answers 503.
                #expect(cl["type"] as? String == "STATIC")
                let la = try #require(cl["load_assignment"] as? JSON)
                #expect(la["cluster_name"] as? String == cl["name"] as? String)
                #expect(la["endpoints"] == nil)
            }
        }
    }

    @Test(arguments: StoreKind.available) func upstreamsBecomeStaticOrDNSClusters(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let spec = #"{"path":"/v1/models/beta","owner":"o","versions":[{"name":"v1","artifact":{"uri":"s3://b/1","digest":"\#(Harness.digest(9))"},"weight":60,"gate":"passed","stage":"prod","upstream":"10.0.3.7:8080"},{"name":"v2","artifact":{"uri":"s3://b/2","digest":"\#(Harness.digest(8))"},"weight":40,"gate":"passed","stage":"prod","upstream":"model-v2.internal:9000"},{"name":"v3","artifact":{"uri":"s3://b/3","digest":"\#(Harness.digest(7))"},"weight":0,"gate":"passed","stage":"prod","upstream":"[::1]:7000"}]}"#
            #expect(try await c.call(.put, "/v1/endpoints/beta", token: h.admin, json: spec).status == 201)
            let cs = try Self.resources(try await Self.poll(c, Self.clustersPath, bearer: h.gateway))
            func cluster(_ n: String) throws -> JSON { try #require(cs.first { $0["name"] as? String == n }) }
            func address(_ cl: JSON) -> (String?, Int?) {
                let la = cl["load_assignment"] as? JSON
                let lb = ((la?["endpoints"] as? [JSON])?.first?["lb_endpoints"] as? [JSON])?.first
                let sa = ((lb?["endpoint"] as? JSON)?["address"] as? JSON)?["socket_address"] as? JSON
                return (sa?["address"] as? String, sa?["port_value"] as? Int)
            }
            let v1 = try cluster("beta--v1"), v2 = try cluster("beta--v2"), v3 = try cluster("beta--v3")
            #expect(v1["type"] as? String == "STATIC")
            #expect(address(v1) == ("10.0.3.7", 8080))
            #expect(v2["type"] as? String == "STRICT_DNS")
            #expect(v2["dns_lookup_family"] as? String == "V4_PREFERRED")
            #expect(address(v2) == ("model-v2.internal", 9000))
            #expect(v3["type"] as? String == "STATIC")
            #expect(address(v3) == ("::1", 7000))
            // GET shows it, and routing changes keep it.
            let got = try await c.call(.get, "/v1/endpoints/beta", token: h.viewer).decode(Endpoint.self)
            #expect(got.versions.map(\.upstream) == ["10.0.3.7:8080", "model-v2.internal:9000", "[::1]:7000"])
            #expect(try await c.call(.get, "/v1/endpoints/beta", token: h.viewer).text.contains(#""upstream":"10.0.3.7:8080""#))
            _ = try await c.call(.post, "/v1/endpoints/beta/shift", token: h.op, ifMatch: "\"1\"", json: #"{"weights":{"v1":50,"v2":50},"reason":"r"}"#)
            _ = try await c.call(.post, "/v1/endpoints/beta/drain", token: h.op, ifMatch: "\"2\"", json: #"{"version":"v2","reason":"r"}"#)
            _ = try await c.call(.post, "/v1/endpoints/beta/undrain", token: h.op, ifMatch: "\"3\"", json: #"{"version":"v2","reason":"r"}"#)
            _ = try await c.call(.post, "/v1/endpoints/beta/drain", token: h.op, ifMatch: "\"4\"", json: #"{"reason":"r"}"#)
            let rb = try await c.call(.post, "/v1/endpoints/beta/rollback", token: h.op, ifMatch: "\"5\"", json: #"{"toRevision":1,"reason":"r"}"#)
            #expect(rb.status == 200, "\(rb.text)")
            let after = try rb.decode(Endpoint.self)
            #expect(after.revision == 6)
            #expect(after.versions.map(\.upstream) == ["10.0.3.7:8080", "model-v2.internal:9000", "[::1]:7000"])
            let revisions = try await c.call(.get, "/v1/endpoints/beta/revisions", token: h.viewer).decode(RevisionList.self)
            #expect(revisions.revisions.allSatisfy { $0.endpoint.versions.map(\.upstream) == after.versions.map(\.upstream) })
        }
    }

    @Test(arguments: ["nohost", ":8080", "host:", "host:0", "host:65536", "host:80x", "ho st:80", "::1:80", "[::1]", "[zz]:80",
                      "10.0.0.300:80", "-bad.example:80", "a..b:80"])
    func badUpstreamsAreRefusedWithAReason(_ upstream: String) async throws {
        try await Harness.run { h, c in
            let spec = #"{"path":"/v1/models/beta","owner":"o","versions":[{"name":"v1","artifact":{"uri":"s3://b/1","digest":"\#(Harness.digest(9))"},"weight":100,"gate":"passed","stage":"prod","upstream":"\#(upstream)"}]}"#
            let r = try await c.call(.put, "/v1/endpoints/beta", token: h.admin, json: spec)
            #expect(r.status == 422, "\(upstream): \(r.text)")
            #expect(r.problem?.detail.contains("upstream of v1") == true, "\(r.text)")
            #expect(r.problem?.detail.contains("host:port") == true)
        }
    }

    // MARK: RDS

    @Test(arguments: StoreKind.available) func servingEndpointsSplitTheirPathByWeight(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let r = try await Self.poll(c, Self.routesPath, bearer: h.gateway, names: ["tower"])
            #expect(r.status == 200)
            #expect(try Self.object(r)["type_url"] as? String == "type.googleapis.com/envoy.config.route.v3.RouteConfiguration")
            let config = try #require(try Self.resources(r).first)
            #expect(config["name"] as? String == "tower")
            #expect(config["@type"] as? String == "type.googleapis.com/envoy.config.route.v3.RouteConfiguration")
            let routes = try Self.routes(r)
            let alpha = try Self.route(routes, "alpha")
            #expect(Self.weights(alpha) == ["alpha--v1": 90, "alpha--v2": 10])
            #expect((alpha["match"] as? JSON)?["path_separated_prefix"] as? String == "/v1/models/alpha")
            #expect(alpha["stat_prefix"] as? String == "alpha")
            #expect((alpha["decorator"] as? [String: Any])?["operation"] as? String == "/v1/models/alpha", "the gateway's span is named after the path")
            #expect(alpha["direct_response"] == nil)
            // A version whose gate failed is still a cluster, at weight 0.
            #expect(Self.weights(try Self.route(routes, "fraud")) == ["fraud--v3": 100, "fraud--v4": 0])
        }
    }

    @Test(arguments: StoreKind.available) func theRouteConfigurationTakesTheRequestedName(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let named = try Self.resources(try await Self.poll(c, Self.routesPath, bearer: h.gateway, names: ["edge-routes"]))
            #expect(named.map { $0["name"] as? String } == ["edge-routes"])
            let unnamed = try Self.resources(try await Self.poll(c, Self.routesPath, bearer: h.gateway))
            #expect(unnamed.map { $0["name"] as? String } == ["tower"])
        }
    }

    @Test(arguments: StoreKind.available) func drainingAndDrainedVersionsKeepTheirClusterAtWeightZero(store: StoreKind) async throws {
        try await Harness.run(store: store, drainTimeout: 0.2) { h, c in
            let d = try await c.call(.post, "/v1/endpoints/alpha/drain", token: h.op, ifMatch: "\"1\"", json: #"{"version":"v2","reason":"p99"}"#)
            #expect(d.status == 200)
            let draining = try await Self.poll(c, Self.routesPath, bearer: h.gateway)
            #expect(Self.weights(try Self.route(try Self.routes(draining), "alpha")) == ["alpha--v1": 100, "alpha--v2": 0])
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await c.call(.get, "/v1/endpoints/alpha", token: h.viewer).decode(Endpoint.self).version("v2")?.state == .drained)
            let drained = try await Self.poll(c, Self.routesPath, bearer: h.gateway)
            #expect(Self.weights(try Self.route(try Self.routes(drained), "alpha")) == ["alpha--v1": 100, "alpha--v2": 0])
            // Drained looks like draining to the gateway: nothing for Envoy to reload.
            #expect(try Self.version(drained) == Self.version(draining))
            let cs = try Self.resources(try await Self.poll(c, Self.clustersPath, bearer: h.gateway))
            #expect(cs.contains { $0["name"] as? String == "alpha--v2" })
        }
    }

    @Test(arguments: StoreKind.available) func outOfServiceAnswers503WithRetryAfter(store: StoreKind) async throws {
        try await Harness.run(store: store, xds: XDSOptions(retryAfterSeconds: 7)) { h, c in
            #expect(try await c.call(.post, "/v1/endpoints/alpha/drain", token: h.op, ifMatch: "\"1\"", json: #"{"reason":"incident"}"#).status == 200)
            let alpha = try Self.route(try Self.routes(try await Self.poll(c, Self.routesPath, bearer: h.gateway)), "alpha")
            #expect(alpha["route"] == nil)
            let direct = try #require(alpha["direct_response"] as? JSON)
            #expect(direct["status"] as? Int == 503)
            let body = try #require((direct["body"] as? JSON)?["inline_string"] as? String)
            #expect(body.contains("'alpha'") && body.contains("out of service"))
            let headers = try #require(alpha["response_headers_to_add"] as? [JSON])
            let header = try #require(headers.first?["header"] as? JSON)
            #expect(header["key"] as? String == "retry-after")
            #expect(header["value"] as? String == "7")
            #expect(alpha["stat_prefix"] as? String == "alpha")
        }
    }

    @Test(arguments: StoreKind.available) func theLongestPathIsMatchedFirst(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            for (name, path) in [("inner", "/v1/models/alpha/inner"), ("root", "/"), ("slashy", "/v2/slashy/")] {
                let spec = #"{"path":"\#(path)","owner":"o","versions":[{"name":"v1","artifact":{"uri":"s3://b/1","digest":"\#(Harness.digest(9))"},"weight":100,"gate":"passed","stage":"prod"}]}"#
                #expect(try await c.call(.put, "/v1/endpoints/\(name)", token: h.admin, json: spec).status == 201)
            }
            let routes = try Self.routes(try await Self.poll(c, Self.routesPath, bearer: h.gateway))
            #expect(routes.map { $0["name"] as? String } == ["inner", "alpha", "fraud", "slashy", "root"])
            // Envoy refuses a path_separated_prefix that ends with '/', and '/' alone is a prefix.
            #expect((try Self.route(routes, "slashy")["match"] as? JSON)?["path_separated_prefix"] as? String == "/v2/slashy")
            #expect((try Self.route(routes, "root")["match"] as? JSON)?["prefix"] as? String == "/")
        }
    }

    // MARK: version_info and 304

    @Test(arguments: StoreKind.available) func anUnchangedConfigurationIs304AndAShiftChangesTheRouteVersion(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let first = try await Self.poll(c, Self.routesPath, bearer: h.gateway)
            let v1 = try Self.version(first)
            #expect(v1.count == 16 && v1.allSatisfy(\.isHexDigit))
            let again = try await Self.poll(c, Self.routesPath, bearer: h.gateway, version: v1)
            #expect(again.status == 304)
            #expect(again.body.isEmpty)
            let clusters = try Self.version(try await Self.poll(c, Self.clustersPath, bearer: h.gateway))

            _ = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"1\"", json: #"{"weights":{"v1":50,"v2":50},"reason":"half"}"#)
            let shifted = try await Self.poll(c, Self.routesPath, bearer: h.gateway, version: v1)
            #expect(shifted.status == 200)
            let v2 = try Self.version(shifted)
            #expect(v2 != v1)
            #expect(Self.weights(try Self.route(try Self.routes(shifted), "alpha")) == ["alpha--v1": 50, "alpha--v2": 50])
            // Weights live in routes; the clusters did not change, so CDS stays put.
            #expect(try await Self.poll(c, Self.clustersPath, bearer: h.gateway, version: clusters).status == 304)
            // The same routing again is the same version again (content-addressed, not a counter).
            _ = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"2\"", json: #"{"weights":{"v1":90,"v2":10},"reason":"back"}"#)
            #expect(try await Self.poll(c, Self.routesPath, bearer: h.gateway, version: v1).status == 304)
        }
    }

    @Test func responsesAreCanonicalAndDeterministic() throws {
        let eps = try Harness.seed.map { try $0.endpoint(replacing: nil, revision: 1, at: Date(timeIntervalSince1970: 0), by: "t") }
        var shuffled = eps.reversed().map { $0 }
        for i in shuffled.indices { shuffled[i].versions.reverse() }
        for make in [{ XDS.clusters($0) }, { XDS.routes($0, names: ["tower"], retryAfterSeconds: 30) }] as [([Endpoint]) -> XDS.Response] {
            let a = make(eps), b = make(eps), c = make(shuffled)
            #expect(a == b)
            #expect(a == c, "order of endpoints or versions must not change the bytes")
            // The bytes are what JSONSerialization writes with sorted keys: canonical JSON.
            let reparsed = try JSONSerialization.jsonObject(with: Data(a.body))
            let sorted = try JSONSerialization.data(withJSONObject: reparsed, options: [.sortedKeys, .withoutEscapingSlashes])
            #expect(Array(sorted) == a.body)
        }
        // Routing that differs in any way a gateway sees gives another version.
        var other = eps
        other[0].versions[0].upstream = "127.0.0.1:1"
        #expect(XDS.clusters(other).versionInfo != XDS.clusters(eps).versionInfo)
        #expect(XDS.routes(eps, names: [], retryAfterSeconds: 30).versionInfo != XDS.routes(eps, names: ["other"], retryAfterSeconds: 30).versionInfo)
    }

    @Test func canonicalJSONEscapesWhatItMust() {
        let s = CanonicalJSON.object(["b": .string("q\"\\\n\t\u{1}/é"), "a": .array([.int(-1), .bool(true)])]).bytes
        #expect(String(decoding: s, as: UTF8.self) == #"{"a":[-1,true],"b":"q\"\\\n\t\u0001/é"}"#)
    }

    // MARK: Who may poll

    @Test(arguments: StoreKind.available) func pollsNeedATokenOrAnAllowListedNode(store: StoreKind) async throws {
        try await Harness.run(store: store, xds: XDSOptions(allowedNodes: ["trusted-edge"])) { h, c in
            let none = try await Self.poll(c, Self.clustersPath)
            #expect(none.status == 401)
            #expect(none.headers[.contentType] == "application/problem+json")
            #expect(none.problem?.detail.contains("tower_token") == true)
            #expect(try await Self.poll(c, Self.routesPath).status == 401)
            #expect(try await Self.poll(c, Self.clustersPath, bearer: "twr_madeup").status == 401)
            #expect(try await Self.poll(c, Self.clustersPath, metadataToken: "twr_madeup").status == 401)
            // Any role is at least gateway.
            #expect(try await Self.poll(c, Self.clustersPath, bearer: h.viewer).status == 200)
            #expect(try await Self.poll(c, Self.clustersPath, bearer: h.admin).status == 200)
            #expect(try await Self.poll(c, Self.clustersPath, bearer: h.gateway).status == 200)
            // How a real Envoy authenticates: its REST fetcher sends no headers.
            #expect(try await Self.poll(c, Self.clustersPath, metadataToken: h.gateway).status == 200)
            #expect(try await Self.poll(c, Self.routesPath, metadataToken: h.gateway).status == 200)
            #expect(try await Self.poll(c, Self.clustersPath, node: "trusted-edge").status == 200)
            #expect(try await Self.poll(c, Self.clustersPath, node: "other-edge").status == 401)
            // Revoked tokens stop working (after the token cache's second).
            try h.store.revokeToken(name: "edge")
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await Self.poll(c, Self.clustersPath, metadataToken: h.gateway).status == 401)
            let m = try await c.call(.get, "/metrics", token: nil).text
            #expect(m.contains(#"tower_registry_xds_polls_total{type="clusters",result="denied"} 5"#), "\(m)")
            #expect(m.contains(#"tower_registry_xds_polls_total{type="routes",result="denied"} 1"#))
            #expect(m.contains(#"tower_registry_xds_polls_total{type="clusters",result="served"} 5"#))
        }
    }

    @Test(arguments: StoreKind.available) func aGatewayTokenReadsNothingUnderV1(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            for path in ["/v1/endpoints", "/v1/endpoints/alpha", "/v1/audit", "/v1/gateways", "/v1/watch?timeout=0"] {
                let r = try await c.call(.get, path, token: h.gateway)
                #expect(r.status == 403, "\(path): \(r.status)")
                #expect(r.problem?.detail.contains("gateway") == true)
            }
            let shift = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.gateway, ifMatch: "\"1\"",
                                         json: #"{"weights":{"v1":50,"v2":50},"reason":"r"}"#)
            #expect(shift.status == 403)
        }
    }

    @Test(arguments: StoreKind.available) func malformedPollsAre400(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            #expect(try await c.call(.post, Self.clustersPath, token: h.gateway, json: "{oops").status == 400)
            #expect(try await c.call(.post, Self.clustersPath, token: h.gateway, json: #"{"version_info":"x"}"#).status == 400)
            #expect(try await c.call(.post, Self.clustersPath, token: h.gateway, json: #"{"node":{"id":""}}"#).status == 400)
            #expect(try await c.call(.post, Self.routesPath, token: h.gateway, json: #"{"node":{"id":"e","metadata":{"tower_token":5}}}"#).status == 400)
            let wrongType = try await c.call(.post, Self.routesPath, token: h.gateway,
                                             json: Self.request(typeURL: "type.googleapis.com/envoy.config.cluster.v3.Cluster"))
            #expect(wrongType.status == 400)
            #expect(wrongType.problem?.detail.contains("type_url") == true)
            #expect([404, 405].contains(try await c.call(.get, Self.clustersPath, token: h.gateway).status))
        }
    }

    // MARK: Gateways

    @Test(arguments: StoreKind.available) func gatewaysReportWhatTheyHoldAgainstWhatIsCurrent(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            #expect(try await c.call(.get, "/v1/gateways", token: h.viewer).decode(GatewayList.self).gateways.isEmpty)
            // First polls: Envoy holds nothing yet.
            let cds = try Self.version(try await Self.poll(c, Self.clustersPath, metadataToken: h.gateway))
            let rds = try Self.version(try await Self.poll(c, Self.routesPath, metadataToken: h.gateway, names: ["tower"]))
            var g = try await c.call(.get, "/v1/gateways", token: h.viewer).decode(GatewayList.self).gateways
            #expect(g.count == 1)
            #expect(g.first?.node == "edge-1" && g.first?.cluster == "tower-gateway")
            #expect(g.first?.clusters == .init(applied: nil, current: cds))
            #expect(g.first?.inSync == false)
            // The next polls report what was applied.
            #expect(try await Self.poll(c, Self.clustersPath, metadataToken: h.gateway, version: cds).status == 304)
            #expect(try await Self.poll(c, Self.routesPath, metadataToken: h.gateway, version: rds, names: ["tower"]).status == 304)
            let raw = try await c.call(.get, "/v1/gateways", token: h.viewer)
            #expect(raw.text.contains(#""lastPollAt":"20"#))
            g = try raw.decode(GatewayList.self).gateways
            #expect(g.first?.clusters == .init(applied: cds, current: cds))
            #expect(g.first?.routes == .init(applied: rds, current: rds))
            #expect(g.first?.inSync == true)
            #expect(abs(try #require(g.first?.lastPollAt).timeIntervalSinceNow) < 5)
            // A shift the gateway has not fetched yet shows as out of sync.
            _ = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"1\"", json: #"{"weights":{"v1":50,"v2":50},"reason":"half"}"#)
            g = try await c.call(.get, "/v1/gateways", token: h.viewer).decode(GatewayList.self).gateways
            #expect(g.first?.routes?.applied == rds && g.first?.routes?.current != rds)
            #expect(g.first?.clusters?.inSync == true)
            #expect(g.first?.inSync == false)
            // Gateways are read with the viewer role.
            #expect(try await c.call(.get, "/v1/gateways", token: nil).status == 401)
            let m = try await c.call(.get, "/metrics", token: nil).text
            #expect(m.contains(#"tower_registry_xds_polls_total{type="routes",result="not_modified"} 1"#))
        }
    }

    // MARK: Bootstrap

    static let envoy = ProcessInfo.processInfo.environment["TOWER_ENVOY"]

    @Test func theBootstrapCarriesNodeTokenAndRESTSources() throws {
        let yaml = EnvoyBootstrap.yaml(nodeID: "edge \"1\"", nodeCluster: "tower-gateway", token: "twr_secret", registryHost: "127.0.0.1",
                                       registryPort: 8470, listenerPort: 10000, adminPort: 9901)
        #expect(yaml.contains(#"id: "edge \"1\"""#))
        #expect(yaml.contains(#"tower_token: "twr_secret""#))
        #expect(yaml.components(separatedBy: "api_type: REST").count == 3)
        #expect(yaml.contains("refresh_delay: 0.5s"))
        #expect(yaml.contains("route_config_name: tower"))
        #expect(yaml.contains("stats_flush_interval: 1s"))
        #expect(!EnvoyBootstrap.yaml(nodeID: "e", nodeCluster: "c", token: nil, registryHost: "registry.internal", registryPort: 80,
                                     listenerPort: 1, adminPort: 2).contains("tower_token"))
        #expect(EnvoyBootstrap.duration(0.5) == "0.5s" && EnvoyBootstrap.duration(2) == "2s" && EnvoyBootstrap.duration(1.25) == "1.25s")
        #expect(EnvoyBootstrap.duration(0) == "0.01s")
        // Tracing only when asked for: Envoy's Zipkin tracer, JSON v2 (the zero value is rejected), to the collector.
        #expect(!yaml.contains("tracing:") && !yaml.contains("tower_traces"))
        let traced = EnvoyBootstrap.yaml(nodeID: "e", nodeCluster: "tower-gateway", token: nil, registryHost: "127.0.0.1", registryPort: 8470,
                                         listenerPort: 10000, adminPort: 9901, zipkin: ("127.0.0.1", 9411))
        #expect(traced.contains("name: envoy.tracers.zipkin") && traced.contains("collector_endpoint_version: HTTP_JSON"))
        #expect(traced.contains("collector_cluster: tower_traces") && traced.contains("port_value: 9411"))
    }

    @Test(.enabled(if: XDSTests.envoy != nil, "TOWER_ENVOY is not set: `source scripts/setup` installs Envoy and exports it"),
          arguments: [("127.0.0.1", "twr_x", false), ("registry.internal", nil, true)] as [(String, String?, Bool)])
    func envoyAcceptsTheBootstrap(_ host: String, _ token: String?, tracing: Bool) async throws {
        // With tracing: the Zipkin tracer and its collector cluster (`envoy-bootstrap --zipkin`).
        let zipkin: (host: String, port: Int)? = tracing ? ("127.0.0.1", 9411) : nil
        let path = NSTemporaryDirectory() + "tower-bootstrap-\(UUID().uuidString).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try EnvoyBootstrap.yaml(nodeID: "edge-1", nodeCluster: "tower-gateway", token: token, registryHost: host, registryPort: 8470,
                                listenerPort: 10000, adminPort: 9901, zipkin: zipkin).write(toFile: path, atomically: true, encoding: .utf8)
        let (status, text) = try await Self.envoyValidate(path)
        #expect(status == 0, "envoy --mode validate: \(text)")
        #expect(text.contains("OK"), "\(text)")
    }

    /// `envoy-bootstrap --registry https://… --ca --cert --key`: the registry cluster's
    /// UpstreamTlsContext, which Envoy accepts with real files (made with the `openssl` CLI).
    @Test(.enabled(if: XDSTests.envoy != nil, "TOWER_ENVOY is not set: `source scripts/setup` installs Envoy and exports it"),
          arguments: ["127.0.0.1", "registry.internal"])
    func envoyAcceptsTheTLSBootstrap(_ host: String) async throws {
        let dir = NSTemporaryDirectory() + "tower-bootstrap-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = try ChildProcess(name: "openssl", executable: "/usr/bin/env",
                                 arguments: ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                             "-keyout", dir + "/envoy.key", "-out", dir + "/envoy.pem", "-days", "1", "-subj", "/CN=envoy-edge-1"],
                                 logPath: dir + "/openssl.log")
        p.waitUntilExit()
        try #require(p.exitCode == 0, "openssl could not make a certificate")
        let tls = EnvoyBootstrap.UpstreamTLS(caFile: dir + "/envoy.pem", certFile: dir + "/envoy.pem", keyFile: dir + "/envoy.key")
        let yaml = EnvoyBootstrap.yaml(nodeID: "edge-1", nodeCluster: "tower-gateway", token: nil, registryHost: host, registryPort: 8443,
                                       listenerPort: 10000, adminPort: 9901, tls: tls)
        #expect(yaml.contains("UpstreamTlsContext") && yaml.contains("tls_minimum_protocol_version: TLSv1_2") && !yaml.contains("tower_token"))
        #expect(yaml.contains(host == "127.0.0.1" ? "san_type: IP_ADDRESS" : "sni: \"registry.internal\""))
        let path = dir + "/bootstrap.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let (status, text) = try await Self.envoyValidate(path)
        #expect(status == 0, "envoy --mode validate: \(text)")
    }

    /// `envoy --mode validate -c path`: its exit status and what it printed. Started with
    /// posix_spawn (`ChildProcess`): Foundation's `Process.run()` crashed in memmove while other
    /// suites started processes at the same time. Waited for on a thread of its own: blocking one
    /// of Swift's few shared threads for Envoy's start-up (seconds on a loaded machine, and the
    /// cases run in parallel) starved the other suites' pollers.
    static func envoyValidate(_ path: String) async throws -> (Int32, String) {
        let envoy = try #require(Self.envoy)
        let log = path + ".validate.log"
        defer { unlink(log) }
        let p = try ChildProcess(name: "envoy", executable: envoy,
                                 arguments: ["--mode", "validate", "-c", path, "--disable-hot-restart", "-l", "error"], logPath: log)
        let status: Int32 = await withCheckedContinuation { c in
            Thread.detachNewThread {
                p.waitUntilExit()
                c.resume(returning: p.exitCode ?? -1)
            }
        }
        return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// The resources themselves pass Envoy's validation: served as a static config, which Envoy
    /// checks with the same rules (and validates that every route's clusters exist).
    @Test(.enabled(if: XDSTests.envoy != nil, "TOWER_ENVOY is not set: `source scripts/setup` installs Envoy and exports it"))
    func envoyAcceptsTheResources() async throws {
        var specs = Harness.seed
        specs[0].versions[0].upstream = "127.0.0.1:9001"
        specs[0].versions[1].upstream = "model.internal:9002"
        var eps = try specs.map { try $0.endpoint(replacing: nil, revision: 1, at: Date(), by: "t") }
        eps[1].state = .outOfService
        eps[0].versions[1].state = .draining
        eps[0].versions[0].weight = 100
        eps[0].versions[1].weight = 0
        func resources(_ r: XDS.Response) throws -> [Any] {
            try #require((try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])?["resources"] as? [Any])
        }
        let clusters = try resources(XDS.clusters(eps))
        var route = try #require(try resources(XDS.routes(eps, names: ["tower"], retryAfterSeconds: 30)).first as? [String: Any])
        route.removeValue(forKey: "@type")
        route["validate_clusters"] = true
        let config: [String: Any] = [
            "admin": ["address": ["socket_address": ["address": "127.0.0.1", "port_value": 9901]]],
            "static_resources": [
                "clusters": clusters.map { c -> Any in var c = c as? [String: Any] ?? [:]; c.removeValue(forKey: "@type"); return c },
                "listeners": [[
                    "name": "ingress",
                    "address": ["socket_address": ["address": "127.0.0.1", "port_value": 10000]],
                    "filter_chains": [["filters": [[
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": [
                            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                            "stat_prefix": "ingress", "route_config": route,
                            "http_filters": [["name": "envoy.filters.http.router",
                                              "typed_config": ["@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"]]],
                        ],
                    ]]]],
                ]],
            ],
        ]
        let path = NSTemporaryDirectory() + "tower-static-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
        let (status, text) = try await Self.envoyValidate(path)
        #expect(status == 0, "envoy --mode validate: \(text)")
    }
}
