import ArgumentParser
import Foundation
import TowerConsole
import TowerDomain
import TowerTraces

let noTraceSource = "no trace source: pass --traces KIND=URL, or give the context a traces: block"

struct Traces: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The slowest and failing traces of an endpoint (last 15 minutes).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var sources: SourceOptions
    @Argument(help: "The endpoint.") var endpoint: String

    // Swift 6.3.1's optimiser crashed on this verb in release builds (signal 11 "While splitting
    // coroutine", issue 9); reshaping it only moved the crash to the next verb, so the `tower`
    // target is built without optimisation (Package.swift says why). The named method stays: it
    // reads better than a long closure.
    func run() async throws {
        try await perform(connection.output) { try await listTraces() }
    }

    @inline(never)
    private func listTraces() async throws {
        let (client, ctx) = try connection.client()
        let settings = try sources.settings(ctx)
        guard let source = settings.traceSource() else { throw VerbError(message: noTraceSource, code: Exit.invalid) }
        let e = try await client.endpoint(endpoint)
        let found: [TraceSummary]
        do { found = try await settings.traceMapping.triage(source, endpoint: e.name, path: e.path) } catch {
            throw VerbError(message: "traces: \(error)", code: Exit.unreachable)
        }
        if connection.output == .json { try printJSON(found); return }
        print(StatusText.columns([["TRACE ID", "DURATION", "ERRORS", "SPANS", "ROOT"]] + found.map {
            [$0.traceID, String(format: "%.1fms", Double($0.durationMicros) / 1000), $0.errorCount.map(String.init) ?? "-",
             $0.spanCount.map(String.init) ?? "-", Names.printable("\($0.rootService): \($0.rootName)")]
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
                print(String(format: "%@%@%@  +%.1fms  %.1fms", String(repeating: "  ", count: depth), mark,
                             Names.printable("\(span.name) (\(span.service))"), Double(span.startMicros - start) / 1000, Double(span.durationMicros) / 1000))
            }
        }
    }
}
