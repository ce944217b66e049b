import ArgumentParser
import Foundation
import TowerDomain
import TowerSources

/// Reads spec files, turning a refusal into the invalid-input exit with the file and key.
func readSpecs(_ path: String) throws -> [EndpointSpec] {
    do { return try SpecFile.read(path: path) } catch { throw VerbError(message: error.description, code: Exit.invalid) }
}

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply declarative endpoint specs: tower apply -f PATH (a YAML file, many documents, or a folder).",
        discussion: """
            Specs carry no weights or gates: existing versions keep theirs, a new version enters at 0 with its gate \
            pending until an evaluation is submitted, a new endpoint starts out of service until an operator shifts \
            traffic onto it (or --initial-weights). An endpoint that is already as declared is not touched. Each \
            change is sent with the revision read, so a change made meanwhile is never overwritten (exit 3).
            """)
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .shortAndLong, help: "The spec file or folder.") var file: String
    @Flag(help: "Say what would change and change nothing.") var dryRun = false
    @Flag(help: "Delete endpoints of --owner that the files no longer declare.") var prune = false
    @Option(help: "The team whose endpoints --prune may delete.") var owner: String?
    @Option(help: "Weights for endpoints this apply creates, like v1=100 (they then serve at once, gates permitting).") var initialWeights: [String] = []
    @Option(help: "Why: recorded in the audit log (default: tower apply -f PATH).") var reason: String?
    @Option(help: "Changes in flight at once (each to its own endpoint).") var parallel = 4
    @Flag(help: "Refuse every change (as a read-only context does).") var readOnly = false

    func run() async throws {
        try await perform(connection.output) {
            if prune && owner == nil { throw VerbError(message: "--prune needs --owner TEAM: only that team's endpoints are ever deleted", code: Exit.invalid) }
            if owner != nil && !prune { throw VerbError(message: "--owner is for --prune; leave it out or add --prune", code: Exit.invalid) }
            let weights = try parseWeights(initialWeights, flag: "--initial-weights")
            let specs = try readSpecs(file)
            let (client, ctx) = try connection.client()
            if !dryRun && (readOnly || ctx?.readOnly == true) {
                throw VerbError(message: "read-only\(ctx.map { " context '\($0.name)'" } ?? ""): no changes are made", code: Exit.forbidden)
            }
            let list = try await client.list()
            let plan = SpecDiff.plan(desired: specs, current: list.endpoints, pruneOwner: prune ? owner : nil)
            let unchanged = specs.count - plan.filter { if case .delete = $0 { false } else { true } }.count
            if dryRun {
                if connection.output == .json { try printJSON(ApplyOutput(plan, dryRun: true, unchanged: unchanged)) } else {
                    print(plan.isEmpty ? "nothing to change (\(unchanged) endpoint\(unchanged == 1 ? "" : "s") as declared)" : SpecDiff.text(plan))
                    print("dry run: nothing was changed")
                }
                return
            }
            let revisions = Dictionary(list.endpoints.map { ($0.name, $0.revision) }, uniquingKeysWith: { a, _ in a })
            let why = reason ?? "tower apply -f \(file)"
            let outcomes = await SpecApplier.run(plan, client: client, revisions: revisions, reason: why, initialWeights: weights,
                                                 deleteReason: "\(why): no longer declared (--prune --owner \(owner ?? ""))",
                                                 parallel: parallel)
            var results: [ApplyOutput.Item] = []
            var firstFailure: (String, Int32)? = nil
            for o in outcomes {
                var item = ApplyOutput.Item(endpoint: o.change.endpoint, action: "", revision: o.endpoint?.revision ?? o.deleted?.toRevision,
                                            state: o.endpoint?.state.rawValue, error: nil)
                switch o.change {
                case .create: item.action = "create"
                case .update: item.action = "update"
                case .delete: item.action = "delete"
                }
                if let e = o.error {
                    var message = e.description
                    if case .stale(let p) = e {
                        message = "\(o.change.endpoint) changed since it was read\(p.changedBy.map { " (by \($0))" } ?? ""); nothing was overwritten: apply again to see the new difference"
                    }
                    item.error = message
                    if firstFailure == nil { firstFailure = (message, Exit.code(for: e)) }
                }
                results.append(item)
            }
            if connection.output == .json {
                var out = ApplyOutput(plan, dryRun: false, unchanged: unchanged)
                out.changes = results
                try printJSON(out)
            } else {
                for r in results {
                    if let e = r.error { print("✗ \(r.endpoint): \(r.action) refused: \(e)"); continue }
                    switch r.action {
                    case "create": print("+ \(r.endpoint) created (revision \(r.revision ?? 0)\(r.state == EndpointState.outOfService.rawValue ? ", out of service until traffic is shifted onto it" : ""))")
                    case "update": print("~ \(r.endpoint) updated (revision \(r.revision ?? 0))")
                    default: print("- \(r.endpoint) deleted")
                    }
                }
                print("\(results.filter { $0.error == nil }.count) changed, \(unchanged) unchanged\(firstFailure == nil ? "" : ", \(results.filter { $0.error != nil }.count) refused")")
            }
            if let (message, code) = firstFailure {
                if connection.output == .json { Foundation.exit(code) }
                throw VerbError(message: message, code: code)
            }
        }
    }
}

struct ApplyOutput: Encodable {
    struct Item: Encodable {
        var endpoint: String
        var action: String
        var revision: Int64?
        var state: String?
        var error: String?
        var changes: [String]?
    }
    var dryRun: Bool
    var changes: [Item]
    var unchanged: Int

    init(_ plan: [SpecDiff.Change], dryRun: Bool, unchanged: Int) {
        self.dryRun = dryRun
        self.unchanged = unchanged
        changes = plan.map { c in
            switch c {
            case .create(let s): Item(endpoint: s.name, action: "create")
            case .update(let s, let lines): Item(endpoint: s.name, action: "update", changes: lines)
            case .delete(let n): Item(endpoint: n, action: "delete")
            }
        }
    }
}

struct Diff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What tower apply -f PATH would change: exit 0 when nothing differs, 1 when something does.")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .shortAndLong, help: "The spec file or folder.") var file: String
    @Flag(help: "Also list endpoints of --owner that apply --prune would delete.") var prune = false
    @Option(help: "The team whose endpoints --prune would delete.") var owner: String?

    func run() async throws {
        try await perform(connection.output) {
            if prune && owner == nil { throw VerbError(message: "--prune needs --owner TEAM", code: Exit.invalid) }
            let specs = try readSpecs(file)
            let (client, _) = try connection.client()
            let plan = SpecDiff.plan(desired: specs, current: try await client.list().endpoints, pruneOwner: prune ? owner : nil)
            if connection.output == .json {
                try printJSON(ApplyOutput(plan, dryRun: true, unchanged: specs.count - plan.filter { if case .delete = $0 { false } else { true } }.count))
            } else if !plan.isEmpty {
                print(SpecDiff.text(plan))
            }
            if !plan.isEmpty { Foundation.exit(1) }
        }
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write endpoints' declarative specs as YAML that tower apply reads back unchanged.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Only these endpoints (default: all).") var endpoints: [String] = []

    func run() async throws {
        try await perform(connection.output) {
            let (client, _) = try connection.client()
            let all = try await client.list().endpoints
            var chosen = all
            if !endpoints.isEmpty {
                let byName = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
                chosen = try endpoints.map { n in
                    guard let e = byName[n] else { throw VerbError(message: "no endpoint named '\(Names.printable(n))'", code: Exit.notFound) }
                    return e
                }
            }
            let specs = chosen.map(\.declaredSpec)
            if connection.output == .json { try printJSON(specs); return }
            print(SpecExport.yaml(specs), terminator: "")
        }
    }
}

struct GateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate", abstract: "Evaluation gates: submit a version's evaluation results, list them.",
        subcommands: [GateSubmit.self, GateList.self])
}

struct GateSubmit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit an evaluation document; the registry sets the gate from the endpoint's policy.",
        discussion: "Exit 0 when the gate passed, 8 when it failed, 9 when it is pending (a baseline comparison lacks evidence).")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The endpoint.") var endpoint: String
    @Argument(help: "The version evaluated.") var version: String
    @Option(help: "The evaluation document: {\"suite\": …, \"dataset\": …, \"metrics\": {…}} (JSON).") var results: String

    func run() async throws {
        try await perform(connection.output) {
            guard let data = FileManager.default.contents(atPath: results) else {
                throw VerbError(message: "cannot read \(results)", code: Exit.invalid)
            }
            if data.count > 1 << 20 { throw VerbError(message: "\(results) is \(data.count) bytes; an evaluation document is at most 1 MiB", code: Exit.invalid) }
            do { _ = try JSONDecoder().decode(EvaluationDocument.self, from: data) } catch let e as DecodingError {
                throw VerbError(message: "\(results): \(Self.describe(e))", code: Exit.invalid)
            } catch {
                throw VerbError(message: "\(results) is not JSON: \(error)", code: Exit.invalid)
            }
            let (client, ctx) = try connection.client()
            if ctx?.readOnly == true { throw VerbError(message: "read-only context '\(ctx!.name)': no changes are made", code: Exit.forbidden) }
            let r = try await client.submitEvaluation(endpoint, version: version, document: Array(data))
            if connection.output == .json { try printJSON(r) } else {
                let ev = r.evaluation
                print("\(endpoint) \(version): gate \(ev.gate.rawValue) (\(ev.gateSummary))")
                print("evaluation \(ev.document.suite) \(ev.sha256) by \(ev.submittedBy), revision \(r.endpoint.revision)")
            }
            switch r.evaluation.gate {
            case .passed: break
            case .failed: Foundation.exit(8)
            case .pending: Foundation.exit(9)
            }
        }
    }

    static func describe(_ e: DecodingError) -> String {
        switch e {
        case .dataCorrupted(let c): c.debugDescription
        case .keyNotFound(let k, _): "\(k.stringValue) is missing"
        case .typeMismatch(_, let c), .valueNotFound(_, let c):
            "\(c.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type"
        @unknown default: "\(e)"
        }
    }
}

struct GateList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "A version's evaluations, newest first.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The endpoint.") var endpoint: String
    @Argument(help: "The version.") var version: String

    func run() async throws {
        try await perform(connection.output) {
            let (client, _) = try connection.client()
            let list = try await client.evaluations(endpoint, version: version)
            if connection.output == .json { try printJSON(list); return }
            if list.evaluations.isEmpty { print("\(endpoint) \(version): no evaluation submitted yet") }
            for e in list.evaluations {
                print("\(Timestamp.rfc3339(ms: Timestamp.ms(e.submittedAt)))  \(e.submittedBy)  \(e.document.suite)  \(e.gate.rawValue)  \(e.gateSummary)  \(e.sha256)")
            }
        }
    }
}

/// `v1=90 v2=10` as weights, refusing anything else with the flag's name.
func parseWeights(_ pairs: [String], flag: String) throws -> [String: Int] {
    var out: [String: Int] = [:]
    for pair in pairs.flatMap({ $0.split(separator: ",").map(String.init) }) {
        let parts = pair.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let w = Int(parts[1]), (0...100).contains(w) else {
            throw VerbError(message: "\(flag): '\(pair)' is not VERSION=PERCENT, like v1=100", code: Exit.invalid)
        }
        out[String(parts[0])] = w
    }
    if !out.isEmpty, out.values.reduce(0, +) != 100 {
        throw VerbError(message: "\(flag): the weights add up to \(out.values.reduce(0, +)); they must add up to 100", code: Exit.invalid)
    }
    return out
}
