import ArgumentParser
import Foundation
import Hummingbird
import Logging
import TowerDomain
import TowerMetrics
import TowerRegistry
import TowerRegistryTLS
import TowerStorePostgres

/// `tower-registry serve`: the flags, their checks, and the wiring of store, TLS, rollouts and server.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the registry API.")

    @OptionGroup var data: DataOption
    @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free one).")
    var listen = "127.0.0.1:8470"
    @Option(help: "YAML list of endpoint specs to create if they do not exist yet.")
    var seed: String?
    @Option(help: "Seconds a draining version keeps finishing in-flight requests before it counts as drained.")
    var drainTimeout: Double = 30
    @Option(help: "Write the registry's URL to this file once it is listening.")
    var readyFile: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info
    @Option(name: .customLong("xds-allow-node"),
            help: "An Envoy node id that may poll xDS without a token (repeatable). Prefer a gateway token.")
    var xdsAllowNode: [String] = []
    @Option(name: .customLong("xds-retry-after"), help: "Seconds in the Retry-After of an out-of-service endpoint's 503.")
    var xdsRetryAfter: Int = 30
    @Option(help: "Open connections one IP address may hold; the next is answered 429 and closed.")
    var maxConnectionsPerAddress: Int = ServerLimits().connectionsPerAddress
    @Option(help: "Seconds a request's head may take from its first byte (408 after).")
    var headerTimeout: Double = 10
    @Option(help: "Seconds a request's body may take after its head (408 after).")
    var bodyTimeout: Double = 20
    @Option(help: "Seconds a keep-alive connection may stay idle before it is closed.")
    var idleTimeout: Double = 30
    @Option(help: "Failed authentications one IP address may make a second before they are answered 429.")
    var authFailuresPerSecond: Double = 10
    @Option(help: "Prometheus base URL the rollouts' checks read (without one, every check is inconclusive).")
    var prometheus: String?
    @Option(help: "Metric names for --prometheus: envoy (envoy_cluster_…) or generic (http_requests_total…).")
    var profile: String = "envoy"
    @Option(name: .customLong("prometheus-token-file"), help: "File holding a bearer token for --prometheus.")
    var prometheusTokenFile: String?
    @Option(name: .customLong("metrics-window"), help: "Seconds of traffic each rollout check looks at.")
    var metricsWindow: Int = 60
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain to serve TLS with (needs --tls-key).")
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert; refused when its group or others may read it.")
    var tlsKey: String?
    @Option(name: .customLong("tls-key-password-file"), help: "File whose first line is the passphrase of an encrypted --tls-key, private to its owner.")
    var tlsKeyPasswordFile: String?
    @Option(name: .customLong("client-ca"), help: "PEM CA certificates whose client certificates are verified (and, with --identities, are identities).")
    var clientCA: String?
    @Flag(name: .customLong("require-client-cert"), help: "Refuse, in the handshake, a client without a certificate from --client-ca.")
    var requireClientCert = false
    @Option(help: "YAML list mapping client certificates to roles: {match: {cn|subject|sanEmail|sanDNS: GLOB}, role: ROLE, name?: NAME}.")
    var identities: String?
    @Option(help: "Certificate revocation list (PEM or DER) signed by --client-ca; read again when the file changes.")
    var crl: String?
    @Flag(name: .customLong("insecure-listen"), help: "Allow plain HTTP on a non-loopback address (tokens cross the network in clear).")
    var insecureListen = false
    @Option(name: .customLong("trust-promotion-keys"),
            help: "File of public keys (ed25519:<hex>, one a line) whose signed promotion bundles this registry imports. Without it, every import is refused.")
    var trustPromotionKeys: String?

    func validate() throws {
        if MetricsProfile.Kind(rawValue: profile) == nil { throw ValidationError("--profile must be envoy or generic, not '\(profile)'") }
        if !(5...3600).contains(metricsWindow) { throw ValidationError("--metrics-window must be 5 to 3600 seconds") }
        if prometheusTokenFile != nil && prometheus == nil { throw ValidationError("--prometheus-token-file needs --prometheus") }
        if !(0...86400).contains(xdsRetryAfter) { throw ValidationError("--xds-retry-after must be 0 to 86400 seconds") }
        if xdsAllowNode.contains(where: \.isEmpty) { throw ValidationError("--xds-allow-node needs a node id") }
        if maxConnectionsPerAddress < 1 { throw ValidationError("--max-connections-per-address must be 1 or more") }
        for (flag, v) in [("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout), ("--idle-timeout", idleTimeout)]
        where !(v > 0 && v <= 3600) {
            throw ValidationError("\(flag) must be more than 0 and at most 3600 seconds")
        }
        if !(authFailuresPerSecond > 0) { throw ValidationError("--auth-failures-per-second must be more than 0") }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if tlsKeyPasswordFile != nil && tlsKey == nil { throw ValidationError("--tls-key-password-file is the passphrase of --tls-key: give --tls-cert and --tls-key too") }
        if clientCA != nil && tlsCert == nil { throw ValidationError("--client-ca needs TLS: give --tls-cert and --tls-key") }
        for (flag, set) in [("--require-client-cert", requireClientCert), ("--identities", identities != nil), ("--crl", crl != nil)]
        where set && clientCA == nil {
            throw ValidationError("\(flag) needs --client-ca (the CA whose client certificates are verified)")
        }
        let (host, _) = try parseListen(listen)
        if tlsCert == nil && !insecureListen && !isLoopback(host) {
            throw ValidationError("--listen \(listen) is not a loopback address and the registry has no TLS, so tokens and routing changes would cross the network in clear: give --tls-cert and --tls-key, listen on 127.0.0.1, or pass --insecure-listen to accept that")
        }
    }

    /// Set when the registry serves plain HTTP off loopback: said at start and in /readyz.
    var insecureWarning: String? {
        guard tlsCert == nil, let (host, _) = try? parseListen(listen), !isLoopback(host) else { return nil }
        return "serving plain HTTP on \(listen) (--insecure-listen): tokens and routing changes cross the network in clear"
    }

    func run() async throws {
        let (host, port) = try parseListen(listen)
        let logger = makeLogger(level: logLevel)
        if let insecureWarning { logger.warning("\(insecureWarning)") }
        var tls: RegistryTLS?
        if let tlsCert, let tlsKey {
            do {
                tls = try RegistryTLS(RegistryTLSSettings(certificateFile: tlsCert, keyFile: tlsKey, clientCAFile: clientCA,
                                                          requireClientCertificate: requireClientCert, revocationFile: crl,
                                                          keyPasswordFile: tlsKeyPasswordFile), logger: logger)
            } catch { throw ValidationError("\(error)") }
        }
        var certificateIdentities = CertificateIdentities()
        if let identities {
            do { certificateIdentities = try CertificateIdentities.load(path: identities) } catch { throw ValidationError("\(error)") }
        }
        let certificates = CertificateAuth(peers: tls?.peers, identities: certificateIdentities)
        let store = try data.open(drainTimeout: drainTimeout)
        // Another replica's commits reach this one's memory, watchers and xDS answers.
        let follower = (store.backend as? PostgresBackend).map { pg in Task { await ReplicaFollower(store: store, backend: pg, logger: logger).run() } }
        defer { follower?.cancel() }
        if let seed {
            let created = try await Seed.apply(try Seed.load(path: seed), to: store, source: seed)
            logger.info("seeded", metadata: ["created": .string(created.joined(separator: ",")), "file": .string(seed)])
        }
        var promotion = PromotionOptions()
        if let trustPromotionKeys {
            do { promotion.trusted = try TrustedPromotionKeys.load(path: trustPromotionKeys) } catch { throw ValidationError(error.message) }
            logger.info("promotion keys trusted", metadata: ["keys": .string(promotion.trusted.keys.keys.sorted().joined(separator: ","))])
        }
        let identity = try store.registryID()
        logger.info("registry identity", metadata: ["id": .string(identity)])
        let reader = try rolloutMetrics()
        if let reader { logger.info("rollout checks read \(reader.name)") } else {
            logger.notice("no --prometheus: rollout checks will be inconclusive, so rollouts with analysis pause rather than promote")
        }
        let controller = RolloutController(store: store, metrics: reader, logger: logger)
        // With replicas, the controller runs on whichever one holds the lease (DESIGN §12).
        let loop = if let pg = store.backend as? PostgresBackend {
            Task { await PostgresLease(backend: pg, logger: logger).run { await controller.run() } }
        } else {
            Task { await controller.run() }
        }
        defer { loop.cancel() }
        let readyFile = readyFile
        let xds = XDSOptions(allowedNodes: Set(xdsAllowNode), retryAfterSeconds: xdsRetryAfter)
        let limits = ServerLimits(connectionsPerAddress: maxConnectionsPerAddress, headerTimeout: .milliseconds(Int64(headerTimeout * 1000)),
                                  bodyTimeout: .milliseconds(Int64(bodyTimeout * 1000)), idleTimeout: .milliseconds(Int64(idleTimeout * 1000)),
                                  authFailuresPerSecond: authFailuresPerSecond)
        let scheme = tls == nil ? "http" : "https"
        let app = buildApplication(store: store, host: host, port: port, logger: logger, xds: xds, limits: limits,
                                   secure: tls?.wrapper, certificates: certificates, warning: insecureWarning,
                                   promotion: promotion) { bound in
            let url = "\(scheme)://\(host):\(bound)"
            logger.notice("listening", metadata: ["url": .string(url), "store": .string(store.backend.location)])
            if let readyFile {
                try? Data((url + "\n").utf8).write(to: URL(fileURLWithPath: readyFile), options: .atomic)
            }
        }
        try await app.runService()
        logger.notice("stopped")
    }

    func rolloutMetrics() throws -> (any RolloutMetricsReader)? {
        guard let prometheus else { return nil }
        var auth = PrometheusClient.Auth.none
        if let file = prometheusTokenFile {
            guard let raw = try? String(contentsOfFile: (file as NSString).expandingTildeInPath, encoding: .utf8),
                  case let token = raw.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
                throw ValidationError("cannot read a token from --prometheus-token-file \(file)")
            }
            auth = .bearer(token)
        }
        let kind = MetricsProfile.Kind(rawValue: profile) ?? .envoy
        let source = PrometheusMetricsSource(client: PrometheusClient(baseURL: prometheus, auth: auth),
                                             profile: try MetricsProfile(kind: kind, windowSeconds: metricsWindow))
        return PrometheusRolloutMetrics(source: source)
    }
}

/// The registry's rollout checks reading Prometheus through the console's own client and profile:
/// one refresh (the profile's fixed handful of queries) per round, for every rollout at once.
struct PrometheusRolloutMetrics: RolloutMetricsReader {
    let source: PrometheusMetricsSource
    var name: String { "prometheus \(source.client.baseURL) (\(source.profile.kind.rawValue))" }
    func read() async throws -> [String: Figures] { try await source.refresh() }
}
