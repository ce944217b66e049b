import ArgumentParser
import Foundation
import Hummingbird
import Logging
import TowerDomain
import TowerRegistry

/// Argument parsing and wiring only; the registry itself is TowerRegistry.
@main
struct TowerRegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tower-registry",
        abstract: "The control plane for Tower: endpoints, versions, weights, revisions, audit, roles.",
        subcommands: [Serve.self, Migrate.self, TokenCommand.self, AuditCommand.self]
    )
}

struct DataOption: ParsableArguments {
    @Option(name: .long, help: "Directory holding registry.sqlite (created if missing).")
    var data: String
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

    func run() async throws {
        let (host, port) = try parseListen(listen)
        let logger = makeLogger(level: logLevel)
        let store = try RegistryStore(directory: data.data, drainTimeout: drainTimeout)
        if let seed {
            let created = try await Seed.apply(try Seed.load(path: seed), to: store, source: seed)
            logger.info("seeded", metadata: ["created": .string(created.joined(separator: ",")), "file": .string(seed)])
        }
        let readyFile = readyFile
        let app = buildApplication(store: store, host: host, port: port, logger: logger) { bound in
            let url = "http://\(host):\(bound)"
            logger.notice("listening", metadata: ["url": .string(url), "data": .string(store.path)])
            if let readyFile {
                try? Data((url + "\n").utf8).write(to: URL(fileURLWithPath: readyFile), options: .atomic)
            }
        }
        try await app.runService()
        logger.notice("stopped")
    }
}

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the database, then exit.")
    @OptionGroup var data: DataOption

    func run() throws {
        let applied = try RegistryStore.migrate(directory: data.data)
        print("migrations applied: \(applied.joined(separator: ", "))")
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
        @Option(help: "viewer, operator or admin.")
        var role: Role

        func run() throws {
            let store = try RegistryStore(directory: data.data)
            print(try store.createToken(name: name, role: role))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their values).")
        @OptionGroup var data: DataOption
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let tokens = try RegistryStore(directory: data.data).listTokens()
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
            try RegistryStore(directory: data.data).revokeToken(name: name)
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
            let store = try RegistryStore(directory: data.data)
            if let broken = try store.verifyAudit() {
                FileHandle.standardError.write(Data((broken.description + "\n").utf8))
                throw ExitCode(1)
            }
            print("audit chain intact: \(try store.auditCount()) entries")
        }
    }
}

extension Role: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}

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
