import ArgumentParser
import Foundation
import TowerConsole
import TowerDomain
import TowerMetrics
import TowerTraces

let noTraceSource = "no trace source: pass --traces KIND=URL, or give the context a traces: block"

struct Traces: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The failing, then the slowest traces of an endpoint, each longest first (last 15 minutes unless --since).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var sources: SourceOptions
    @Argument(help: "The endpoint.") var endpoint: String
    @Option(help: "Only this version's traces (model.version, else the service <endpoint>-<version>).") var version: String?
    @Option(help: "How far back to search: 90s, 15m, 2h, 1h30m.") var since: String = "15m"
    @Option(help: "At most this many traces (1-1000).") var limit: Int = 20

    // Swift 6.3.1's optimiser crashed on this verb in release builds (signal 11 "While splitting
    // coroutine", issue 9); reshaping it only moved the crash to the next verb, so the `tower`
    // target is built without optimisation (Package.swift says why). The named method stays: it
    // reads better than a long closure.
    func run() async throws {
        try await perform(connection.output) { try await listTraces() }
    }

    @inline(never)
    private func listTraces() async throws {
        guard let window = TraceWindow.seconds(since) else {
            throw VerbError(message: "--since must be a duration such as 90s, 15m, 2h or 1h30m, not '\(Names.printable(since))'", code: Exit.invalid)
        }
        guard (1...1000).contains(limit) else { throw VerbError(message: "--limit must be from 1 to 1000", code: Exit.invalid) }
        let (client, ctx) = try connection.client()
        let settings = try sources.settings(ctx)
        guard let source = try settings.traceSource() else { throw VerbError(message: noTraceSource, code: Exit.invalid) }
        let e = try await client.endpoint(endpoint)
        if let version, !e.versions.contains(where: { $0.name == version }) {
            throw VerbError(message: "\(e.name) has no version \(Names.printable(version)) (it has \(e.versions.map(\.name).joined(separator: ", ")))",
                            code: Exit.notFound)
        }
        // Where the search for slow traces starts: the endpoint's p99 from Prometheus when the
        // context has it (a scrape would cost two readings); else TraceTriage's fixed ladder.
        let prometheus = ((try? settings.metricsSources()) ?? []).filter { !($0 is ScrapeMetricsSource) }
        let figures = prometheus.isEmpty ? [:] : await readFigures(prometheus).figures
        let p99 = figures.filter { $0.key == e.name || $0.key.hasPrefix(e.name + "/") }.compactMap(\.value.p99Ms).filter(\.isFinite).max()
        let found: [TraceSummary]
        do {
            found = try await settings.traceMapping.triage(source, endpoint: e.name, path: e.path, window: window, limit: limit,
                                                          version: version, p99Ms: p99)
        } catch {
            throw VerbError(message: "traces: \(error)", code: Exit.unreachable)
        }
        if connection.output == .json { try printJSON(found); return }
        print(StatusText.columns([["TRACE ID", "DURATION", "ERRORS", "VERSION", "SPANS", "ROOT"]] + found.map {
            [$0.traceID, String(format: "%.1fms", Double($0.durationMicros) / 1000), $0.errorCount.map(String.init) ?? "-",
             $0.version.map { Names.printable($0) } ?? "-", $0.spanCount.map(String.init) ?? "-", Names.printable("\($0.rootService): \($0.rootName)")]
        }))
    }
}

struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trace", abstract: "One trace as a waterfall (text) or its spans (JSON).")
    @OptionGroup var contextOptions: ContextOptions
    @OptionGroup var sources: SourceOptions
    @Option(name: .shortAndLong, help: "text or json.") var output: OutputFormat = .text
    @Argument(help: "The trace ID (hex or base64).") var id: String

    func run() async throws {
        try await perform(output) {
            guard let source = try sources.settings(try contextOptions.load()).traceSource() else {
                throw VerbError(message: noTraceSource, code: Exit.invalid)
            }
            let trace: Trace
            do { trace = try await source.trace(id: id) } catch let e as TraceSourceError {
                if case .notFound = e { throw VerbError(message: "\(e)", code: Exit.notFound) }
                throw VerbError(message: "\(e)", code: Exit.unreachable)
            }
            if output == .json { try printJSON(trace); return }
            let start = trace.spans.map(\.startMicros).min() ?? 0
            let slow = Waterfall.slowest(trace)
            for (span, depth) in Waterfall.rows(trace) {
                let mark = span.status == .error ? "x " : span.spanID == slow ? "^ " : "  "
                // A failed span says the HTTP status it answered with, as the console's waterfall does.
                let code = span.status == .error ? Waterfall.httpStatus(span).map { " " + $0 } ?? "" : ""
                print(String(format: "%@%@%@  +%.1fms  %.1fms", String(repeating: "  ", count: depth), mark,
                             Names.printable("\(span.name) (\(span.service))\(code)"), Double(span.startMicros - start) / 1000, Double(span.durationMicros) / 1000))
            }
        }
    }
}
