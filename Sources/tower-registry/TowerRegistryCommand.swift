import ArgumentParser
import Foundation
import Logging
import TowerDomain
import TowerRegistry
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
