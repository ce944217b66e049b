import Foundation
import TowerSim
import TowerDomain
import TowerSources
import Yams

/// What `tower-sim stack` writes before it starts anything: the registry's seed (each version's
/// upstream pointing at its model server), Prometheus's scrape config, and `stack.json`. Pure, so
/// the files are tested without starting the stack.
public enum StackPlan {
    /// The stack's fleet: `alpha` (the endpoint the runbooks and tests use) on a 90/10 canary, a
    /// model with a failed gate, and a three-version model; upstreams are filled in at start.
    public static let defaultSeed = """
        - name: alpha
          path: /v1/models/alpha
          owner: team-vision
          baseline: v1
          slo: {availability: 0.999, latencyMs: 300, latencyTarget: 0.99, period: 30d}
          versions:
            - {name: v1, artifact: {uri: "s3://models/alpha/v1", digest: "sha256:0d9a88b78461a39b56e81c30674cf4cabe6f230005a2e7347cf2076605f4531e"}, weight: 90, gate: passed, stage: prod}
            - {name: v2, artifact: {uri: "s3://models/alpha/v2", digest: "sha256:a6e787b268ebda66a6642c3aa4a1c4996991ee2c11bfd8eae12d71ad7ab8b3b8"}, weight: 10, gate: passed, stage: prod}
        - name: fraud-score
          path: /v1/models/fraud-score
          owner: team-risk
          versions:
            - {name: v3, artifact: {uri: "s3://models/fraud-score/v3", digest: "sha256:ecf50fcf99c343b94f9acc94e54ec536cd1f424732326db50199331ef43f81ae"}, weight: 100, gate: passed, stage: prod}
            - {name: v4, artifact: {uri: "s3://models/fraud-score/v4", digest: "sha256:db39174d0f5fd9a6560447fcaee3bba84168f600ed524e7e20c7c1709bcfabea"}, weight: 0, gate: failed, gateSummary: "AUC 0.871 < 0.900 baseline", stage: staging}
        - name: search-rank
          path: /v1/models/search-rank
          owner: team-search
          versions:
            - {name: v7, artifact: {uri: "s3://models/search-rank/v7", digest: "sha256:5d41402abc4b2a76b9719d911017c592ae2e7e0f2b3c4d5e6f708192a3b4c5d6"}, weight: 50, gate: passed, stage: prod}
            - {name: v8, artifact: {uri: "s3://models/search-rank/v8", digest: "sha256:7d793037a0760186574b0282f2f435e7ae2e7e0f2b3c4d5e6f708192a3b4c5d6"}, weight: 50, gate: passed, stage: prod}
            - {name: v9, artifact: {uri: "s3://models/search-rank/v9", digest: "sha256:9e107d9d372bb6826bd81d3542a419d6ae2e7e0f2b3c4d5e6f708192a3b4c5d6"}, weight: 0, gate: pending, stage: staging}
        """

    public static func specs(yaml: String) throws -> [EndpointSpec] {
        do { return try YAMLDecoder().decode([EndpointSpec].self, from: yaml) } catch {
            throw StackError("the stack's seed is not a list of endpoint specs: \(error)")
        }
    }

    /// The (endpoint, version) pairs that need a model server.
    public static func versions(_ specs: [EndpointSpec]) -> [(endpoint: String, version: String)] {
        specs.flatMap { s in s.versions.map { (endpoint: s.name, version: $0.name) } }
    }

    /// The seed with every version's upstream set to its model server (`ports` keyed
    /// `<endpoint>--<version>`), as JSON (which YAML reads), ready for `tower-registry serve --seed`.
    public static func seed(_ specs: [EndpointSpec], ports: [String: Int], host: String = "127.0.0.1") throws -> Data {
        var out = specs
        for i in out.indices {
            for j in out[i].versions.indices {
                let key = "\(out[i].name)--\(out[i].versions[j].name)"
                guard let port = ports[key] else { throw StackError("no model server for \(key)") }
                out[i].versions[j].upstream = "\(host):\(port)"
            }
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try enc.encode(out)
    }

    /// Prometheus scraping the gateway's `/stats/prometheus` (job `envoy`) and the model servers'
    /// `/metrics` (job `models`) every second, so the console's two-interval staleness rule has
    /// fresh data to work with.
    public static func prometheusConfig(envoyAdmin: String, simulator: String) -> String {
        """
        global: {scrape_interval: 1s, evaluation_interval: 1s}
        scrape_configs:
          - job_name: envoy
            metrics_path: /stats/prometheus
            scrape_timeout: 900ms
            static_configs: [{targets: ["\(envoyAdmin)"]}]
          - job_name: models
            scrape_timeout: 900ms
            static_configs: [{targets: ["\(simulator)"]}]

        """
    }
}

extension StackPlan {
    /// A Tower config as YAML, the format operators edit (comments in the old file are not kept).
    public static func yaml(_ config: TowerConfig) throws -> String {
        "# Tower contexts; `local` is rewritten by `tower-sim stack` each time it starts.\n" + (try YAMLEncoder().encode(config))
    }
}

/// `DIR/stack.json`: where everything of a running stack is, for scripts and tests.
public struct StackManifest: Codable, Sendable, Equatable {
    public struct Envoy: Codable, Sendable, Equatable {
        public var listener: String
        public var admin: String
        public init(listener: String, admin: String) { self.listener = listener; self.admin = admin }
    }
    public struct Tokens: Codable, Sendable, Equatable {
        public var admin: String
        public var `operator`: String
        public var viewer: String
        public var gateway: String
        public init(admin: String, operator: String, viewer: String, gateway: String) {
            self.admin = admin; self.operator = `operator`; self.viewer = viewer; self.gateway = gateway
        }
    }
    /// The first registry replica (the only one on SQLite).
    public var registry: String
    /// Every registry replica, the first included (absent in a stack.json older than replicas).
    public var registries: [String]?
    /// The replicas to reach: every one listed, else the one registry.
    public var replicas: [String] { registries ?? [registry] }
    /// With `--store postgres`: the database every replica shares.
    public var postgres: String?
    public var envoy: Envoy
    public var prometheus: String
    public var simulator: String
    public var tokens: Tokens
    /// Model server per `<endpoint>--<version>`, as `host:port`.
    public var models: [String: String]
    /// The `tower-sim stack` process (SIGTERM stops everything) and each process it started.
    public var pid: Int32
    public var processes: [String: Int32]
    /// With `--tls`: the CA the registry's certificate chains to and the client certificates.
    public var tls: TLS?

    public struct ClientCertificate: Codable, Sendable, Equatable {
        public var certFile: String
        public var keyFile: String
        public init(certFile: String, keyFile: String) { self.certFile = certFile; self.keyFile = keyFile }
    }
    public struct TLS: Codable, Sendable, Equatable {
        public var caFile: String
        /// The operator's (CN otto, role operator): what the `local` context signs in with.
        public var `operator`: ClientCertificate
        /// Envoy's (CN gateway, role gateway), for its xDS.
        public var gateway: ClientCertificate
        public init(caFile: String, operator: ClientCertificate, gateway: ClientCertificate) {
            self.caFile = caFile; self.operator = `operator`; self.gateway = gateway
        }
        public init(_ pki: StackPKI) {
            self.init(caFile: pki.caFile,
                      operator: .init(certFile: pki.cert(StackPKI.operatorName), keyFile: pki.key(StackPKI.operatorName)),
                      gateway: .init(certFile: pki.cert(StackPKI.gatewayName), keyFile: pki.key(StackPKI.gatewayName)))
        }
    }

    public init(registry: String, registries: [String]? = nil, postgres: String? = nil, envoy: Envoy, prometheus: String, simulator: String,
                tokens: Tokens, models: [String: String], pid: Int32, processes: [String: Int32] = [:], tls: TLS? = nil) {
        self.registry = registry; self.registries = registries; self.postgres = postgres; self.envoy = envoy; self.prometheus = prometheus; self.simulator = simulator
        self.tokens = tokens; self.models = models; self.pid = pid; self.processes = processes; self.tls = tls
    }

    public func json() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try enc.encode(self)
    }
}

/// The `local` context in the operator's Tower config: the stack's registry with the operator
/// token, Prometheus with the `envoy` profile (figures as the gateway saw them), and the
/// simulator's Zipkin API for traces, where Envoy reports its spans (service `tower-gateway`, named
/// after the endpoint's path by the route's decorator) and the model servers join them by B3. Other contexts are kept; the file is replaced atomically.
/// With `--tls` the registry is reached over mutual TLS: the context carries the stack's CA and the
/// operator's certificate and no token, so the certificate is who the operator is.
public enum StackContext {
    public static func context(_ m: StackManifest) -> TowerContext {
        TowerContext(name: "local", registry: m.replicas.joined(separator: ","), tokenFile: m.tls == nil ? m.tokens.operator : nil,
                     // Every 2 s: the stack's Prometheus scrapes every second on loopback, so a
                     // shorter poll shows an incident sooner at no real cost.
                     metrics: MetricsSettings(prometheus: m.prometheus, profile: "envoy", interval: 2),
                     traces: TraceSettings(kind: .zipkin, url: m.simulator, service: "tower-gateway", operation: "{path}"),
                     tls: m.tls.map { ContextTLS(caFile: $0.caFile, certFile: $0.operator.certFile, keyFile: $0.operator.keyFile) })
    }

    public static func write(_ m: StackManifest, path: String = TowerConfig.defaultPath()) throws {
        var config = try TowerConfig.load(path: path)
        // The rewrite cannot keep the operator's comments: the file as it was stays beside it.
        if FileManager.default.fileExists(atPath: path) {
            try? FileManager.default.removeItem(atPath: path + ".bak")
            try? FileManager.default.copyItem(atPath: path, toPath: path + ".bak")
        }
        config.contexts.removeAll { $0.name == "local" }
        config.contexts.append(context(m))
        if config.currentContext == nil { config.currentContext = "local" }
        let text: String
        do { text = try StackPlan.yaml(config) } catch { throw StackError("cannot write the local context: \(error)") }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try StackFiles.writeAtomically(Data(text.utf8), to: path)
    }
}

/// What the running stack says about its parts' health: only changes, so a healthy stack is quiet
/// and a flapping part is visible. Pure, so the wording and the transitions are tested.
public struct StackHealth: Sendable {
    private var state: [String: Bool] = [:]
    public init() {}

    /// A sentence when `part` changed from what it was last (a part starts healthy: the stack
    /// reported it ready), nil otherwise.
    public mutating func update(_ part: String, healthy: Bool, detail: String) -> String? {
        let was = state[part] ?? true
        state[part] = healthy
        if was == healthy { return nil }
        return healthy ? "\(part) healthy again" : "\(part) unhealthy: \(detail)"
    }
}
