import Foundation
import Testing
import TowerDomain
import TowerSim
import TowerStack
import TowerSources

/// What `tower-sim stack` writes before it starts anything, and the context it leaves behind.
@Suite struct StackPlanTests {
    static let manifest = StackManifest(
        registry: "http://127.0.0.1:8470", envoy: .init(listener: "http://127.0.0.1:10000", admin: "http://127.0.0.1:9901"),
        prometheus: "http://127.0.0.1:9090", simulator: "http://127.0.0.1:9464",
        tokens: .init(admin: "/s/tokens/admin.token", operator: "/s/tokens/operator.token", viewer: "/s/tokens/viewer.token",
                      gateway: "/s/tokens/gateway.token"),
        models: ["alpha--v1": "127.0.0.1:4001"], pid: 42, processes: ["registry": 43])

    @Test func theDefaultSeedHasAlphaAtItsPathWithV1AndV2() throws {
        let specs = try StackPlan.specs(yaml: StackPlan.defaultSeed)
        let alpha = try #require(specs.first { $0.name == "alpha" })
        #expect(alpha.path == "/v1/models/alpha")
        #expect(alpha.versions.map(\.name) == ["v1", "v2"])
        #expect(StackPlan.versions(specs).count == specs.reduce(0) { $0 + $1.versions.count })
    }

    @Test func theSeedPointsEveryVersionAtItsModelServer() throws {
        let specs = try StackPlan.specs(yaml: StackPlan.defaultSeed)
        var ports: [String: Int] = [:]
        for (i, pair) in StackPlan.versions(specs).enumerated() { ports["\(pair.endpoint)--\(pair.version)"] = 41000 + i }
        let seeded = try JSONDecoder().decode([EndpointSpec].self, from: StackPlan.seed(specs, ports: ports))
        for s in seeded {
            for v in s.versions { #expect(v.upstream == "127.0.0.1:\(ports["\(s.name)--\(v.name)"] ?? 0)") }
        }
        // Everything else is the seed as written.
        #expect(seeded.map { $0.versions.map(\.weight) } == specs.map { $0.versions.map(\.weight) })
        ports["alpha--v2"] = nil
        #expect(throws: StackError.self) { try StackPlan.seed(specs, ports: ports) }
    }

    @Test func prometheusScrapesEnvoysStatsAndTheModelServers() {
        let text = StackPlan.prometheusConfig(envoyAdmin: "127.0.0.1:9901", simulator: "127.0.0.1:9464")
        #expect(text.contains("metrics_path: /stats/prometheus"))
        #expect(text.contains(#"targets: ["127.0.0.1:9901"]"#) && text.contains(#"targets: ["127.0.0.1:9464"]"#))
        #expect(text.contains("scrape_interval: 1s"))
    }

    @Test func stackJSONHasTheDocumentedKeys() throws {
        let json = try #require(try JSONSerialization.jsonObject(with: Self.manifest.json()) as? [String: Any])
        #expect(json["registry"] as? String == "http://127.0.0.1:8470")
        #expect((json["envoy"] as? [String: String]) == ["listener": "http://127.0.0.1:10000", "admin": "http://127.0.0.1:9901"])
        #expect(json["prometheus"] as? String != nil && json["simulator"] as? String != nil)
        let tokens = try #require(json["tokens"] as? [String: String])
        #expect(Set(tokens.keys).isSuperset(of: ["admin", "operator", "viewer"]))
    }

    @Test func theLocalContextIsAddedBesideTheOperatorsOwnAndTheOldFileKept() throws {
        let dir = NSTemporaryDirectory() + "tower-stackctx-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/config.yaml"
        let original = """
            # my contexts
            currentContext: prod
            contexts:
              - {name: prod, registry: "https://registry.prod.example", tokenFile: ~/.tower/prod.token, readOnly: true}
              - {name: local, registry: "http://127.0.0.1:1", tokenFile: /old}
            """
        try original.write(toFile: path, atomically: true, encoding: .utf8)
        try StackContext.write(Self.manifest, path: path)
        let config = try TowerConfig.load(path: path)
        #expect(config.currentContext == "prod", "the operator's choice of context is kept")
        #expect(config.contexts.map(\.name) == ["prod", "local"])
        #expect(config.contexts[0].readOnly == true)
        let local = try #require(try config.context(named: "local"))
        #expect(local.registry == "http://127.0.0.1:8470" && local.tokenFile == "/s/tokens/operator.token")
        #expect(local.metrics?.prometheus == "http://127.0.0.1:9090" && local.metrics?.profile == "envoy")
        #expect(local.traces?.kind == .zipkin && local.traces?.url == "http://127.0.0.1:9464")
        #expect(local.traces?.service == "tower-gateway" && local.traces?.operation == "{path}", "Envoy's own spans")
        #expect(try String(contentsOfFile: path + ".bak", encoding: .utf8) == original)

        // Without a config, the local context becomes the current one.
        let fresh = dir + "/fresh/config.yaml"
        try StackContext.write(Self.manifest, path: fresh)
        #expect(try TowerConfig.load(path: fresh).currentContext == "local")
    }
}

extension StackPlanTests {
    static var tlsManifest: StackManifest {
        var m = manifest
        m.registry = "https://127.0.0.1:8470"
        m.tls = .init(caFile: "/s/tls/ca.pem", operator: .init(certFile: "/s/tls/otto.pem", keyFile: "/s/tls/otto.key"),
                      gateway: .init(certFile: "/s/tls/gateway.pem", keyFile: "/s/tls/gateway.key"))
        return m
    }

    @Test func withTLSStackJSONCarriesTheCAAndTheClientCertificates() throws {
        let json = try #require(try JSONSerialization.jsonObject(with: Self.tlsManifest.json()) as? [String: Any])
        #expect(json["registry"] as? String == "https://127.0.0.1:8470")
        let tls = try #require(json["tls"] as? [String: Any])
        #expect(tls["caFile"] as? String == "/s/tls/ca.pem")
        #expect((tls["operator"] as? [String: String]) == ["certFile": "/s/tls/otto.pem", "keyFile": "/s/tls/otto.key"])
        #expect((tls["gateway"] as? [String: String])?["certFile"] == "/s/tls/gateway.pem")
        // A plain stack writes no tls key at all, and an older stack.json (without one) still reads.
        let plain = try #require(try JSONSerialization.jsonObject(with: Self.manifest.json()) as? [String: Any])
        #expect(plain["tls"] == nil)
        #expect(try JSONDecoder().decode(StackManifest.self, from: Self.manifest.json()) == Self.manifest)
    }

    @Test func withTLSTheLocalContextSignsInWithTheOperatorsCertificateAndNoToken() throws {
        let dir = NSTemporaryDirectory() + "tower-stackctx-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/config.yaml"
        try StackContext.write(Self.tlsManifest, path: path)
        // Read back as `tower --context local` reads it.
        let local = try #require(try TowerConfig.load(path: path).context(named: "local"))
        #expect(local.registry == "https://127.0.0.1:8470")
        #expect(local.tokenFile == nil, "the certificate is the identity: no token beside it")
        #expect(local.tls == ContextTLS(caFile: "/s/tls/ca.pem", certFile: "/s/tls/otto.pem", keyFile: "/s/tls/otto.key"))
        #expect(local.tlsUnverified == false)
        #expect(local.metrics?.prometheus == "http://127.0.0.1:9090" && local.metrics?.tls == nil, "Prometheus stays plain on loopback")
    }
}

@Suite struct StackHealthTests {
    @Test func onlyChangesAreSaid() {
        var h = StackHealth()
        #expect(h.update("envoy", healthy: true, detail: "") == nil, "ready at start: nothing to say")
        #expect(h.update("envoy", healthy: false, detail: "http://127.0.0.1:1/ready answered 503") == "envoy unhealthy: http://127.0.0.1:1/ready answered 503")
        #expect(h.update("envoy", healthy: false, detail: "still 503") == nil, "said once, not every check")
        #expect(h.update("prometheus", healthy: true, detail: "") == nil)
        #expect(h.update("envoy", healthy: true, detail: "") == "envoy healthy again")
    }
}
