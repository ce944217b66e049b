import ArgumentParser
import Foundation
import TowerAnalysis
import TowerDomain
import TowerMetrics

/// `tower judge ENDPOINT`: is the canary worse than the baseline? A gate for pipelines: exit 0
/// when every version judged passes, 8 when one fails, 9 when the figures are too few or missing.
struct JudgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "judge",
        abstract: "Judge each version of an endpoint against its baseline: exit 0 pass, 8 fail, 9 inconclusive or no data.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var sources: SourceOptions
    @Argument(help: "The endpoint.") var endpoint: String
    @Option(help: "Only this version (default: every version but the baseline).") var version: String?
    @Option(help: "The window judged, ending now (or at --at): 5m, 300s, 1h.") var window = "5m"

    // The async part (read) apart from the printing (report): see `Traces.run` and Package.swift
    // for why the `tower` target is built without optimisation.
    func run() async throws {
        let code = Box()
        try await perform(connection.output) { code.value = try await judge() }
        // Exit after `perform` has restored whatever it set up, with the verdict's code.
        if code.value != Exit.ok { Foundation.exit(code.value) }
    }

    final class Box: @unchecked Sendable { var value = Exit.ok }

    /// `tower judge --output json`.
    struct Out: Encodable {
        var endpoint: String; var baseline: String; var windowSeconds: Int; var verdict: Verdict
        var judgements: [String: Judgement]; var sourceErrors: [String]?
    }

    /// Prints the verdicts; returns the exit code they mean.
    @inline(never)
    private func judge() async throws -> Int32 {
        guard let seconds = Judging.seconds(window) else {
            throw VerbError(message: "--window must be a duration like 5m, 300s or 1h, not '\(Names.printable(window))'", code: Exit.invalid)
        }
        let (client, ctx) = try connection.client()
        let settings = try sources.settings(ctx)
        let metricSources = try settings.metricsSources()
        if metricSources.isEmpty {
            throw VerbError(message: "no metrics source: pass --prometheus URL or --scrape URLS, or use a context that has one", code: Exit.invalid)
        }
        let e = try await client.endpoint(endpoint)
        let base = try Self.check(e, version: version)
        let end = settings.at ?? Date()
        let reading = await Self.read(metricSources, windowSeconds: seconds, end: end)
        return try report(e, baseline: base, figures: reading.0, errors: reading.1, seconds: seconds)
    }

    /// The baseline, once the endpoint and the asked-for version are known to be judgeable.
    static func check(_ e: Endpoint, version: String?) throws -> String {
        guard let base = Judging.baseline(e) else { throw VerbError(message: "\(e.name) has no versions", code: Exit.invalid) }
        if let version {
            if e.version(version) == nil { throw VerbError(message: "\(e.name) has no version '\(Names.printable(version))'", code: Exit.notFound) }
            if version == base { throw VerbError(message: "\(version) is the baseline of \(e.name): there is nothing to judge it against", code: Exit.invalid) }
        }
        return base
    }

    /// What `judge` found, printed.
    private func report(_ e: Endpoint, baseline base: String, figures: [String: Figures], errors: [String], seconds: Int) throws -> Int32 {
        for err in errors { FileHandle.standardError.write(Data("tower: \(err)\n".utf8)) }
        var judgements = Judging.judgements(e, figures: figures)
        if let version { judgements = judgements.filter { $0.key == version } }
        let order = e.versions.map(\.name).filter { judgements[$0] != nil }
        let verdict: Verdict = order.isEmpty ? .noData : Verdict.combined(order.compactMap { judgements[$0]?.verdict })

        let label = seconds % 3600 == 0 ? "\(seconds / 3600)h" : seconds % 60 == 0 ? "\(seconds / 60)m" : "\(seconds)s"
        if connection.output == .json {
            try printJSON(Out(endpoint: e.name, baseline: base, windowSeconds: seconds, verdict: verdict, judgements: judgements,
                              sourceErrors: errors.isEmpty ? nil : errors))
        } else if order.isEmpty {
            print("\(e.name): no version to judge against \(base)")
        } else {
            print(order.compactMap { v in judgements[v].map { Judging.text(version: v, $0, window: label, minSamples: JudgePolicy(e.judge).minSamples) } }
                .joined(separator: "\n"))
        }
        return Self.exitCode(verdict)
    }

    static let failed: Int32 = 8, undecided: Int32 = 9

    static func exitCode(_ v: Verdict) -> Int32 {
        switch v {
        case .pass: Exit.ok
        case .fail: failed
        case .inconclusive, .noData: undecided
        }
    }

    /// The figures over the window from the first source that answers. Prometheus evaluates its
    /// queries over the window ending at `end`; a scrape source has only the seconds between two
    /// scrapes (read 2 s apart, as `status` does), which its counts say.
    @inline(never)
    static func read(_ sources: [any MetricsSource], windowSeconds: Int, end: Date) async -> ([String: Figures], [String]) {
        var errors: [String] = []
        for src in sources {
            do {
                if src is PrometheusMetricsSource { return (try await src.figures(endingAt: end, windowSeconds: windowSeconds), errors) }
                let (f, e) = await readFigures([src])
                if e.isEmpty { return (f, errors) }
                errors += e
            } catch {
                errors.append("\(src.name): \(error)")
            }
        }
        return ([:], errors)
    }
}
