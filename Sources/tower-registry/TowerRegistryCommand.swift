import ArgumentParser
import Foundation
import Hummingbird
import Logging
import TowerDomain
import TowerMetrics
import TowerRegistry
import TowerRegistryTLS
import TowerStorePostgres

/// Argument parsing and wiring only; the registry itself is TowerRegistry.
@main
struct TowerRegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tower-registry",
        abstract: "The control plane for Tower: endpoints, versions, weights, revisions, audit, roles.",
        subcommands: [Serve.self, Migrate.self, TokenCommand.self, AuditCommand.self, EnvoyBootstrapCommand.self]
    )
}

/// Where the registry keeps its state: an SQLite folder (`--data`, the embedded default) or a
/// PostgreSQL database (`--store postgres://…`, for several replicas).
struct DataOption: ParsableArguments {
    @Option(name: .long, help: "Directory holding registry.sqlite (created if missing).")
    var data: String?
    @Option(name: .long, help: "A PostgreSQL database instead of --data: postgres://USER@HOST:PORT/DB[?sslmode=verify-full&sslrootcert=CA.pem].")
    var store: String?
    @Option(name: .customLong("store-password-file"), help: "File holding the PostgreSQL password (private to its owner); else PGPASSFILE or ~/.pgpass.")
    var storePasswordFile: String?

    func validate() throws {
        switch (data, store) {
        case (nil, nil): throw ValidationError("give --data DIR (SQLite) or --store postgres://USER@HOST:PORT/DB")
        case (.some, .some): throw ValidationError("--data and --store are two different stores; give one")
        default: break
        }
        if storePasswordFile != nil && store == nil { throw ValidationError("--store-password-file goes with --store") }
        if let store, !PostgresStoreURL.isPostgres(store) {
            throw ValidationError("--store must be a postgres:// URL (an SQLite folder is --data), not '\(store)'")
        }
    }

    /// The backend, connected and checked: a wrong password, an unreachable server or a schema
    /// newer than this binary end here with a sentence, before anything is written.
    func backend() throws -> any StoreBackend {
        if let data { return try SQLiteBackend(directory: data) }
        let url = try PostgresStoreURL(store ?? "")
        return try PostgresBackend(url: url, password: try url.password(passwordFile: storePasswordFile))
    }

    func open(drainTimeout: TimeInterval = 30) throws -> RegistryStore {
        try RegistryStore(backend: try backend(), drainTimeout: drainTimeout)
    }

    var isPostgres: Bool { store != nil }
}

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

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or upgrade the database, then exit.",
        discussion: """
            With --from-sqlite DIR and --store URL: copy an SQLite registry (every table, the audit
            chain verified before and after) into an empty PostgreSQL database.
            """)
    @OptionGroup var data: DataOption
    @Option(name: .customLong("from-sqlite"), help: "An SQLite registry's folder to copy into --store (which must be empty).")
    var fromSQLite: String?

    func validate() throws {
        if fromSQLite != nil && !data.isPostgres { throw ValidationError("--from-sqlite copies into a PostgreSQL --store") }
    }

    func run() throws {
        let backend = try data.backend()
        let applied = try backend.migrate()
        print("migrations applied: \(applied.joined(separator: ", "))")
        if let fromSQLite {
            guard FileManager.default.fileExists(atPath: (fromSQLite as NSString).appendingPathComponent("registry.sqlite")) else {
                throw PostgresStoreError("\(fromSQLite) holds no registry.sqlite")
            }
            let source = try SQLiteBackend(directory: fromSQLite)
            let copied = try SQLiteImport.copy(from: source, to: backend)
            print("copied \(copied.rows) rows from \(fromSQLite); audit chain intact: \(copied.auditEntries) entries")
        }
    }
}

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, list and revoke API tokens.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print it once on stdout; only its hash is stored.")
        @OptionGroup var data: DataOption
        @Option(help: "Who the token is for; recorded as the actor of every change made with it.")
        var name: String
        @Option(help: "gateway (xDS only, for Envoy), viewer, deployer (a pipeline: applies specs and submits evaluations, moves no traffic), operator or admin.")
        var role: Role

        func run() throws {
            let store = try data.open()
            print(try store.createToken(name: name, role: role))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their values).")
        @OptionGroup var data: DataOption
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let tokens = try data.open().listTokens()
            if json {
                print(String(decoding: try Wire.encoder(pretty: true).encode(tokens), as: UTF8.self))
                return
            }
            print("ID            NAME                 ROLE      CREATED                   REVOKED")
            for t in tokens {
                let revoked = t.revoked.map { Timestamp.rfc3339(ms: Timestamp.ms($0)) } ?? "-"
                print("\(t.id.padding(toLength: 14, withPad: " ", startingAt: 0))\(t.name.padding(toLength: 21, withPad: " ", startingAt: 0))\(t.role.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))\(Timestamp.rfc3339(ms: Timestamp.ms(t.created)))  \(revoked)")
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by name (effective within a second).")
        @OptionGroup var data: DataOption
        @Option(help: "The token's name.") var name: String

        func run() throws {
            try data.open().revokeToken(name: name)
            print("revoked \(name)")
        }
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Check the audit log.", subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the hash chain; exit 0 when intact, 1 naming the first bad entry.")
        @OptionGroup var data: DataOption

        func run() throws {
            let store = try data.open()
            if let broken = try store.verifyAudit() {
                FileHandle.standardError.write(Data((broken.description + "\n").utf8))
                throw ExitCode(1)
            }
            print("audit chain intact: \(try store.auditCount()) entries")
        }
    }
}

struct EnvoyBootstrapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "envoy-bootstrap",
        abstract: "Print an Envoy bootstrap that takes its clusters and routes from this registry (REST-JSON xDS).",
        discussion: """
            The token (make one with `token create --role gateway`) is read from --token-file and
            written into the bootstrap's node metadata, since Envoy's REST fetcher cannot send
            headers: keep the output private (mode 0600).
            """)

    @Option(help: "The registry's URL as Envoy reaches it, like http://127.0.0.1:8470; several replicas' URLs separated by commas.")
    var registry: String
    @Option(help: "Envoy's node id; the registry lists gateways by it.")
    var node: String
    @Option(name: .customLong("node-cluster"), help: "Envoy's node cluster (the service name in its traces).")
    var nodeCluster = "tower-gateway"
    @Option(name: .customLong("token-file"), help: "File holding a registry token (role gateway or above).")
    var tokenFile: String?
    @Option(name: .customLong("listener-port"), help: "Port of the listener that serves the endpoints.")
    var listenerPort: Int
    @Option(name: .customLong("listener-address"), help: "Address of that listener.")
    var listenerAddress = "127.0.0.1"
    @Option(name: .customLong("admin-port"), help: "Port of Envoy's admin interface (always on 127.0.0.1).")
    var adminPort: Int
    @Option(name: .customLong("refresh-delay"), help: "Seconds between polls (Envoy adds up to as much again of jitter).")
    var refreshDelay: Double = 0.5
    @Option(name: .customLong("stats-flush-seconds"), help: "How often Envoy flushes histograms to /stats.")
    var statsFlushSeconds: Int = 1
    @Option(help: "Report Envoy's spans to this Zipkin v2 collector, HOST:PORT (its /api/v2/spans), with B3 headers to the model servers.")
    var zipkin: String?
    @Option(help: "For an https:// registry: PEM CA certificates its certificate must chain to.")
    var ca: String?
    @Option(help: "Envoy's PEM client certificate for the registry (mapped to the gateway role by the registry's --identities: no token needed).")
    var cert: String?
    @Option(help: "The private key of --cert, private to its owner.")
    var key: String?

    func run() throws {
        let replicas = try registry.split(separator: ",").map { try parseRegistryURL(String($0).trimmingCharacters(in: .whitespaces)) }
        guard let (_, _, secure) = replicas.first else { throw ValidationError("--registry must name at least one URL") }
        if replicas.contains(where: { $0.2 != secure }) { throw ValidationError("--registry: the replicas must all be https:// or all http://") }
        if secure && ca == nil { throw ValidationError("an https:// --registry needs --ca, the CA its certificate chains to") }
        if !secure && (ca != nil || cert != nil) { throw ValidationError("--ca and --cert are for an https:// --registry") }
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
        if let key, let p = SecretFile.permissionProblem(key, kind: "key file") { throw ValidationError(p) }
        for (flag, file) in [("--ca", ca), ("--cert", cert), ("--key", key)] {
            if let file, !FileManager.default.isReadableFile(atPath: file) { throw ValidationError("cannot read \(flag) \(file)") }
        }
        // Envoy resolves relative paths against its own working directory, not this one.
        func absolute(_ p: String?) -> String? { p.map { URL(fileURLWithPath: $0).standardizedFileURL.path } }
        let tls = absolute(ca).map { EnvoyBootstrap.UpstreamTLS(caFile: $0, certFile: absolute(cert), keyFile: absolute(key)) }
        for (flag, p) in [("--listener-port", listenerPort), ("--admin-port", adminPort)] where !(1...65535).contains(p) {
            throw ValidationError("\(flag) must be 1 to 65535")
        }
        if node.isEmpty || node.utf8.count > 128 { throw ValidationError("--node must be 1 to 128 characters") }
        if !(refreshDelay > 0 && refreshDelay <= 3600) { throw ValidationError("--refresh-delay must be more than 0 and at most 3600 seconds") }
        var token: String? = nil
        if let tokenFile {
            if let p = SecretFile.permissionProblem(tokenFile) { throw ValidationError(p) }
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ValidationError("cannot read the token file \(tokenFile)")
            }
            let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if t.isEmpty { throw ValidationError("the token file \(tokenFile) is empty") }
            token = t
        }
        var collector: (host: String, port: Int)?
        if let zipkin {
            guard case .success(let u) = Upstream.parse(zipkin, version: "--zipkin") else {
                throw ValidationError("--zipkin must be HOST:PORT, like 127.0.0.1:9411")
            }
            collector = (u.host, u.port)
        }
        print(EnvoyBootstrap.yaml(nodeID: node, nodeCluster: nodeCluster, token: token, registries: replicas.map { ($0.0, $0.1) },
                                  listenerPort: listenerPort, adminPort: adminPort, refreshDelay: refreshDelay,
                                  statsFlushSeconds: statsFlushSeconds, listenerAddress: listenerAddress, zipkin: collector, tls: tls), terminator: "")
    }
}

/// `http://HOST:PORT` or `https://HOST:PORT` (a path, if any, is ignored: xDS lives at the root);
/// the third value says whether it is TLS.
func parseRegistryURL(_ s: String) throws -> (String, Int, Bool) {
    guard let url = URL(string: s), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
        throw ValidationError("--registry must be a URL like https://registry.example:8443 or http://127.0.0.1:8470")
    }
    guard scheme == "http" || scheme == "https" else { throw ValidationError("--registry must be http:// or https://") }
    let secure = scheme == "https"
    let port = url.port ?? (secure ? 443 : 80)
    guard (1...65535).contains(port) else { throw ValidationError("--registry has an invalid port") }
    return (host, port, secure)
}

extension Role: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Whether plain HTTP may be served on `host` without --insecure-listen.
func isLoopback(_ host: String) -> Bool {
    let h = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
    return h == "localhost" || h == "::1" || h.hasPrefix("127.")
}

func parseListen(_ s: String) throws -> (String, Int) {
    guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (0...65535).contains(port) else {
        throw ValidationError("--listen must be HOST:PORT, like 127.0.0.1:8470")
    }
    return (String(s[..<colon]), port)
}

func makeLogger(level: Logger.Level) -> Logger {
    LoggingSystem.bootstrap { label in
        var h = StreamLogHandler.standardError(label: label)
        h.logLevel = level
        return h
    }
    var logger = Logger(label: "tower-registry")
    logger.logLevel = level
    return logger
}
