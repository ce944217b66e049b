import ArgumentParser
import Foundation
import TowerDomain
import TowerSources

/// `tower`: the live console by default, and headless verbs for scripts. Argument parsing and
/// wiring; the work is done by TowerRuntime, RegistryClient and the domain's rules.
@main
struct TowerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tower",
        abstract: "Operate model endpoints: read routing state, shift, drain, undrain, roll back, audit.",
        discussion: """
            Exit codes: 0 ok, 2 invalid input, 3 conflict (stale revision or refused by the endpoint's \
            state), 4 not allowed (401/403), 5 registry unreachable, 6 not found, 1 anything else; \
            `judge` also 8 (a version fails against its baseline) and 9 (inconclusive or no data); \
            `rollout status --watch` 8 (aborted) and 9 (paused waiting for a person); `diff` 1 when something \
            differs; `gate submit` 8 (the gate failed) and 9 (pending).
            """,
        subcommands: [Console.self, Demo.self, Status.self, JudgeCommand.self, Shift.self, Drain.self, Undrain.self, Rollback.self, RolloutCommand.self, PromoteCommand.self, Audit.self, Traces.self, TraceCommand.self,
                      Apply.self, Diff.self, Export.self, GateCommand.self],
        defaultSubcommand: Console.self
    )
}

enum Exit {
    static let ok: Int32 = 0, other: Int32 = 1, invalid: Int32 = 2, conflict: Int32 = 3, forbidden: Int32 = 4,
               unreachable: Int32 = 5, notFound: Int32 = 6

    static func code(for error: RegistryClientError) -> Int32 {
        switch error {
        case .unreachable, .outcomeUnknown: unreachable
        case .stale: conflict
        case .malformed: other
        case .refused(let p):
            switch p.status {
            case 400, 413, 422: invalid
            case 401, 403: forbidden
            case 404: notFound
            case 409, 412, 428: conflict
            default: other
            }
        }
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

/// Where to connect and as whom: flags, then the context, then the environment.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Registry URL, e.g. http://127.0.0.1:8470 (default: the context's).")
    var registry: String?
    @Option(help: "File holding the API token (default: the context's, then $TOWER_TOKEN).")
    var tokenFile: String?
    @Option(help: "Context from the config file ($XDG_CONFIG_HOME/tower/config.yaml).")
    var context: String?
    @Option(help: "Config file.")
    var config: String?
    @Option(name: .shortAndLong, help: "text or json.")
    var output: OutputFormat = .text
    @OptionGroup var tls: TLSFlags

    func client() throws -> (RegistryClient, TowerContext?) {
        let cfg = try TowerConfig.load(path: config ?? TowerConfig.defaultPath())
        let ctx = try cfg.context(named: context, registryFlag: registry)
        guard let url = registry ?? ctx?.registry else {
            throw ConfigError("no registry: pass --registry URL or choose a context with --context")
        }
        let token = try TokenSource.read(file: tokenFile ?? ctx?.tokenFile)
        if ctx?.tlsUnverified == true { warnUnverified(ctx) }
        return (try RegistryClient.make(url: url, token: token, tls: tls.over(ctx?.tls)), ctx)
    }
}

/// `--ca-file`, `--cert-file`, `--key-file`: TLS to the registry, over the context's `tls:`.
struct TLSFlags: ParsableArguments {
    @Option(help: "PEM CA certificates the registry's certificate must chain to (default: the context's tls.caFile, then the system's).")
    var caFile: String?
    @Option(help: "PEM client certificate to present to the registry (default: the context's tls.certFile).")
    var certFile: String?
    @Option(help: "PEM private key of --cert-file, private to its owner (default: the context's tls.keyFile).")
    var keyFile: String?
    @Option(help: "File whose first line is the passphrase of an encrypted --key-file, private to its owner (default: the context's tls.keyPasswordFile).")
    var keyPasswordFile: String?

    func over(_ context: ContextTLS?) -> ContextTLS? {
        if caFile == nil && certFile == nil && keyFile == nil && keyPasswordFile == nil { return context }
        return (context ?? ContextTLS()).overridden(caFile: caFile, certFile: certFile, keyFile: keyFile, keyPasswordFile: keyPasswordFile)
    }
}

/// The line `tower status` and every verb say when the context does not verify a server's
/// certificate: on stderr, so that JSON output stays JSON.
func warnUnverified(_ ctx: TowerContext?) {
    guard let ctx, ctx.tlsUnverified else { return }
    var which: [String] = []
    if ctx.tls?.unverified == true { which.append("the registry") }
    if ctx.metrics?.tls?.unverified == true { which.append("metrics") }
    if ctx.traces?.tls?.unverified == true { which.append("traces") }
    FileHandle.standardError.write(Data("tower: TLS UNVERIFIED: context \(ctx.name) does not check the certificate of \(which.joined(separator: ", ")) (insecureSkipVerify): anyone on the path can read and change that traffic\n".utf8))
}

struct ChangeOptions: ParsableArguments {
    @Option(help: "Why: recorded in the audit log. Required.")
    var reason: String
    @Option(help: "The revision you expect the endpoint to be at; refused (exit 3) if it moved. Default: the one just read.")
    var expectRevision: Int64?
    @Flag(help: "Refuse every change (as a read-only context does).")
    var readOnly = false
}

/// Runs a verb, printing failures as a sentence (or JSON) and exiting with the verb's code.
func perform(_ output: OutputFormat, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let e as RegistryClientError {
        report(output, message: e.description, code: Exit.code(for: e), problem: {
            if case .stale(let p) = e { return p }
            if case .refused(let p) = e { return p }
            return nil
        }())
    } catch let e as ConfigError {
        report(output, message: e.description, code: Exit.invalid, problem: nil)
    } catch let e as VerbError {
        report(output, message: e.message, code: e.code, problem: nil)
    }
}

struct VerbError: Error {
    var message: String
    var code: Int32
}

func report(_ output: OutputFormat, message: String, code: Int32, problem: Problem?) -> Never {
    if output == .json {
        struct Failure: Encodable { var error: String; var exitCode: Int32; var problem: Problem? }
        if let data = try? Wire.encoder(pretty: true).encode(Failure(error: message, exitCode: code, problem: problem)) {
            print(String(decoding: data, as: UTF8.self))
        }
    }
    FileHandle.standardError.write(Data(("tower: " + message + "\n").utf8))
    exit(code)
}

func printJSON<T: Encodable>(_ value: T) throws {
    print(String(decoding: try Wire.encoder(pretty: true).encode(value), as: UTF8.self))
}
