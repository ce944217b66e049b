import ArgumentParser
import Foundation
import TowerAnalysis
import TowerDomain
import TowerSources

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Routing state and live figures of every endpoint, or of one.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var sources: SourceOptions
    @Argument(help: "Only this endpoint.") var endpoint: String?

    func run() async throws {
        try await perform(connection.output) {
            let (client, ctx) = try connection.client()
            let settings = try sources.settings(ctx)
            let metricSources = try settings.metricsSources()
            async let figuresRead = readFigures(metricSources)
            let (list, stale) = try await client.listMarked()
            let (figures, sourceErrors) = await figuresRead
            if let stale { FileHandle.standardError.write(Data("tower: the registry served this from memory and may lack recent changes: \(stale)\n".utf8)) }
            let endpoints = endpoint.map { name in list.endpoints.filter { $0.name == name } } ?? list.endpoints
            if let endpoint, endpoints.isEmpty { throw VerbError(message: "no endpoint named '\(endpoint)'", code: Exit.notFound) }
            for e in sourceErrors { FileHandle.standardError.write(Data("tower: \(e)\n".utf8)) }
            // Verdicts from the same refresh's window counts; none without a metrics source.
            let judgements = metricSources.isEmpty ? [:] : Dictionary(uniqueKeysWithValues: endpoints.map { ($0.name, Judging.judgements($0, figures: figures)) })
            if connection.output == .json {
                let (ratios, burnErrors) = await Judging.badRatios(endpoints, sources: metricSources)
                for e in burnErrors { FileHandle.standardError.write(Data("tower: \(e)\n".utf8)) }
                let now = Date(), staleAfter = settings.interval * 2
                let out = StatusOutput(endpoints: endpoints.map { e in
                    StatusEndpoint(endpoint: e, metrics: { version in
                        metricSources.isEmpty ? nil : StatusMetrics(figures: figures[EndpointVersionKey(e.name, version).description], now: now, staleAfter: staleAfter)
                    }, judgements: metricSources.isEmpty ? nil : judgements[e.name] ?? [:],
                    slo: metricSources.isEmpty ? nil : e.slo.map { Judging.slo($0, ratios?[e.name]) })
                }, auditSeq: list.auditSeq, sourceErrors: sourceErrors.isEmpty && burnErrors.isEmpty ? nil : sourceErrors + burnErrors,
                   stale: stale == nil ? nil : true, staleDetail: stale)
                try printJSON(out)
                return
            }
            print(StatusText.table(endpoints, now: Date(), figures: metricSources.isEmpty ? nil : figures,
                                   verdicts: metricSources.isEmpty ? nil : judgements.mapValues(StatusText.verdict)))
        }
    }
}

struct Shift: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set the traffic split: tower shift ENDPOINT v1=90 v2=10 --reason '...'. Versions left out get 0.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var change: ChangeOptions
    @Argument(help: "The endpoint.") var endpoint: String
    @Argument(help: "VERSION=PERCENT pairs adding up to 100.") var weights: [String]
    @Flag(help: "Give weight to a version whose evaluation gate has not passed (admin only; audited).") var override = false

    func run() async throws {
        try await perform(connection.output) {
            var split: [String: Int] = [:]
            for pair in weights {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, let w = Int(parts[1]) else {
                    throw VerbError(message: "'\(pair)' is not VERSION=PERCENT, like v1=90", code: Exit.invalid)
                }
                split[String(parts[0])] = w
            }
            let total = split.values.reduce(0, +)
            if total != 100 { throw VerbError(message: "the weights add up to \(total); they must add up to 100", code: Exit.invalid) }
            try await applyChange(connection, change, endpoint, verb: "shift") { try await $0.shift(endpoint, weights: split, reason: change.reason, expected: $1, override: override) }
        }
    }
}

struct Drain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drain a version (its weight goes to the others), or with no version the whole endpoint (503 at the gateway).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var change: ChangeOptions
    @Argument(help: "The endpoint.") var endpoint: String
    @Argument(help: "The version; leave out to take the whole endpoint out of service.") var version: String?
    @Option(help: "For a whole-endpoint drain: the endpoint's name again, as a guard against slips.") var confirm: String?

    func run() async throws {
        try await perform(connection.output) {
            if version == nil && confirm != endpoint {
                throw VerbError(message: "draining the whole endpoint stops all its traffic; repeat its name with --confirm \(endpoint)", code: Exit.invalid)
            }
            try await applyChange(connection, change, endpoint, verb: "drain", alreadyDone: { e in
                if let version { return e.version(version).flatMap { $0.state == .serving ? nil : "\(version) already \(Vocabulary.word($0.state))" } }
                return e.state == .outOfService ? "already \(Vocabulary.word(e.state))" : nil
            }) { try await $0.drain(endpoint, version: version, reason: change.reason, expected: $1) }
        }
    }
}

struct Undrain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a drained version again (at weight 0, ready for a shift), or bring the whole endpoint back.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var change: ChangeOptions
    @Argument(help: "The endpoint.") var endpoint: String
    @Argument(help: "The version; leave out for the whole endpoint.") var version: String?

    func run() async throws {
        try await perform(connection.output) {
            try await applyChange(connection, change, endpoint, verb: "undrain", alreadyDone: { e in
                if let version { return e.version(version).flatMap { $0.state == .serving ? "\(version) already \(Vocabulary.word($0.state))" : nil } }
                return e.state == .serving ? "already \(Vocabulary.word(e.state))" : nil
            }) { try await $0.undrain(endpoint, version: version, reason: change.reason, expected: $1) }
        }
    }
}

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Route as an earlier revision did (default: the one before).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var change: ChangeOptions
    @Argument(help: "The endpoint.") var endpoint: String
    @Option(help: "The revision to return to.") var to: Int64?
    @Flag(help: "Allow weight for a version whose gate has not passed (admin only; audited).") var override = false

    func run() async throws {
        try await perform(connection.output) {
            try await applyChange(connection, change, endpoint, verb: "rollback") { try await $0.rollback(endpoint, to: to, reason: change.reason, expected: $1, override: override) }
        }
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The audit log, newest first; --verify checks its hash chain.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "How many entries.") var limit = 20
    @Flag(help: "Verify the whole chain (exit 3 if broken).") var verify = false

    func run() async throws {
        try await perform(connection.output) {
            let (client, _) = try connection.client()
            let page = try await client.recentAudit(limit: limit)
            var broken: ChainBreak? = nil
            if verify {
                // Verify locally from the entries themselves rather than trusting a server's verdict.
                var all: [AuditEntry] = []
                var after: Int64 = 0
                while true {
                    let p = try await client.audit(after: after, limit: 1000)
                    all += p.entries
                    guard let last = p.entries.last, last.seq < p.lastSeq else { break }
                    after = last.seq
                }
                broken = AuditEntry.verifyChain(all)
            }
            if connection.output == .json {
                struct Out: Encodable { var entries: [AuditEntry]; var verified: Bool?; var firstBreak: ChainBreak? }
                try printJSON(Out(entries: page.entries, verified: verify ? broken == nil : nil, firstBreak: broken))
            } else {
                print(StatusText.audit(page.entries))
                if verify { print(broken.map { "✗ \($0)" } ?? "✓ audit chain intact (\(page.lastSeq) entries)") }
            }
            if broken != nil { Foundation.exit(Exit.conflict) }
        }
    }
}

/// The shared shape of every change verb: connect, refuse when read-only, learn the revision to
/// expect, make the call, print the result.
/// `alreadyDone` says when the endpoint is already as the change would leave it (a drain of a
/// drained version): then nothing is sent and the verb succeeds, saying so, so a runbook can be
/// re-run (as `kubectl` and Argo treat a change already made). Checked again after a 409, in case
/// someone else made the same change in between.
func applyChange(_ connection: ConnectionOptions, _ change: ChangeOptions, _ endpoint: String, verb: String,
                 alreadyDone: ((Endpoint) -> String?)? = nil,
                 _ call: (RegistryClient, Int64) async throws -> Endpoint) async throws {
    let (client, ctx) = try connection.client()
    try refuseIfReadOnly(change, ctx)
    if let alreadyDone {
        let current = try await client.endpoint(endpoint)
        if let said = alreadyDone(current) { return try showUnchanged(current, said, connection.output) }
        do {
            try show(try await call(client, change.expectRevision ?? current.revision), connection.output, verb: verb)
        } catch let RegistryClientError.refused(problem) where problem.status == 409 {
            let now = try await client.endpoint(endpoint)
            guard let said = alreadyDone(now) else { throw RegistryClientError.refused(problem) }
            try showUnchanged(now, said, connection.output)
        }
        return
    }
    let expected = try await expectedRevision(client, endpoint, change)
    try show(try await call(client, expected), connection.output, verb: verb)
}

private func showUnchanged(_ e: Endpoint, _ said: String, _ output: OutputFormat) throws {
    if output == .json { try printJSON(e); return }
    print("\(e.name): \(said); nothing changed (revision \(e.revision), \(StatusText.split(e)))")
}

func refuseIfReadOnly(_ change: ChangeOptions, _ ctx: TowerContext?) throws {
    if change.readOnly || ctx?.readOnly == true {
        throw VerbError(message: "read-only\(ctx.map { " context '\($0.name)'" } ?? ""): no changes are made", code: Exit.forbidden)
    }
}

func expectedRevision(_ client: RegistryClient, _ endpoint: String, _ change: ChangeOptions) async throws -> Int64 {
    if let r = change.expectRevision { return r }
    return try await client.endpoint(endpoint).revision
}

func show(_ e: Endpoint, _ output: OutputFormat, verb: String) throws {
    if output == .json { try printJSON(e); return }
    // "drain applied", not "drained": a drained version is a state (`Vocabulary`), which a version
    // reaches only after the drain timeout; right after the call it is draining.
    print("\(e.name): \(verb) applied, revision \(e.revision), \(StatusText.split(e))")
}
