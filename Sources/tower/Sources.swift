import ArgumentParser
import Foundation
import TowerAnalysis
import TowerDomain
import TowerMetrics
import TowerSources

/// Where live figures and traces come from: Prometheus with a profile, and/or a direct scrape of
/// exposition endpoints (for when Prometheus is down or absent), and a tracing backend. Each flag
/// given wins over the context's field; `none` switches off what the context sets.
struct SourceOptions: ParsableArguments {
    @Option(help: "Prometheus base URL, e.g. http://127.0.0.1:9090 (default: the context's; none: off).") var prometheus: String?
    @Option(help: "File holding a bearer token for --prometheus (default: the context's metrics.tokenFile, for the context's Prometheus only).")
    var prometheusTokenFile: String?
    @Option(help: "Comma-separated exposition URLs to scrape directly (…/metrics, …/stats/prometheus) (default: the context's; none: off).")
    var scrape: String?
    @Option(help: "Metric names: generic (http_requests_total…) or envoy (envoy_cluster_…) (default: the context's, else generic).")
    var profile: String?
    @Option(help: "Seconds between refreshes (default: the context's, else 5).") var interval: Double?
    @Option(help: "Seconds a refresh may take before the source counts as failed (default: the context's, else 3 for a scrape, 10 for Prometheus).")
    var timeout: Double?
    @Option(help: "Evaluate Prometheus queries at this RFC 3339 time instead of now.") var at: String?
    @Option(help: "Tracing backend, KIND=URL with KIND jaeger, tempo or zipkin (default: the context's; none: off).") var traces: String?
    @Option(help: "Trace service for an endpoint; {endpoint}, {path} are filled in (default: the context's, else gateway).")
    var traceService: String?
    @Option(help: "Trace operation for an endpoint; {endpoint}, {path} are filled in (default: the context's, else 'POST {path}').")
    var traceOperation: String?

    func flags() throws -> SourceFlags {
        var time: Date? = nil
        if let at {
            guard let ms = Timestamp.parse(at) else { throw ConfigError("--at must be an RFC 3339 time, like 2026-11-27T08:00:00Z") }
            time = Timestamp.date(ms: ms)
        }
        return SourceFlags(prometheus: prometheus, prometheusTokenFile: prometheusTokenFile,
                           scrape: scrape.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } },
                           profile: profile, interval: interval, timeout: timeout, at: time, traces: traces,
                           traceService: traceService, traceOperation: traceOperation)
    }

    /// The flags over `context`'s sources.
    func settings(_ context: TowerContext?) throws -> SourceSettings {
        try SourceSettings.resolve(try flags(), context: context)
    }
}

/// The config file and the context in it, for verbs that need no registry.
struct ContextOptions: ParsableArguments {
    @Option(help: "Context from the config file ($XDG_CONFIG_HOME/tower/config.yaml).") var context: String?
    @Option(help: "Config file.") var config: String?

    func load() throws -> TowerContext? {
        try TowerConfig.load(path: config ?? TowerConfig.defaultPath()).context(named: context)
    }
}

/// The `metrics` object of `tower status --output json`. Encoded with JSONEncoder, whose numbers
/// round-trip exactly (JSONSerialization's can be a unit in the last place off what Prometheus
/// said); a figure that could not be read is written as null.
struct StatusMetrics: Encodable {
    var figures: Figures?
    var now: Date
    var staleAfter: Double

    enum K: String, CodingKey { case rps, errorRatio, p50Ms, p95Ms, p99Ms, samples, ageSeconds, stale }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: K.self)
        func put(_ v: Double?, _ k: K) throws {
            if let v, v.isFinite { try c.encode(v, forKey: k) } else { try c.encodeNil(forKey: k) }
        }
        let f = figures
        try put(f?.rps, .rps); try put(f?.errorRatio, .errorRatio); try put(f?.p50Ms, .p50Ms); try put(f?.p95Ms, .p95Ms)
        try put(f?.p99Ms, .p99Ms); try put(f?.samples, .samples)
        let age = f.map { now.timeIntervalSince($0.readAt) }
        try put(age.map { ($0 * 1000).rounded() / 1000 }, .ageSeconds)
        try c.encode(age.map { $0 > staleAfter } ?? true, forKey: .stale)
    }
}

/// An endpoint as the registry sends it, with a `metrics` object on it and on each version, a
/// `judgement` on each version but the baseline, and for an endpoint with an SLO, `slo` with its
/// burn (the spec's fields kept beside it).
struct StatusEndpoint: Encodable {
    var endpoint: Endpoint
    var metrics: (String?) -> StatusMetrics?
    /// Nil without a metrics source; a version judged is in it, the baseline is not.
    var judgements: [String: Judgement]? = nil
    var slo: Judging.SLOOutput? = nil

    enum K: String, CodingKey { case metrics, versions, judgement, slo }

    struct VersionWithMetrics: Encodable {
        var version: Version
        var metrics: StatusMetrics?
        /// nil: no judgement key (the baseline, or no source); .some(nil): null.
        var judgement: Judgement??
        func encode(to encoder: any Encoder) throws {
            try version.encode(to: encoder)
            var c = encoder.container(keyedBy: K.self)
            if let metrics { try c.encode(metrics, forKey: .metrics) }
            if let judgement { try c.encode(judgement, forKey: .judgement) }
        }
    }

    func encode(to encoder: any Encoder) throws {
        try endpoint.encode(to: encoder)
        var c = encoder.container(keyedBy: K.self)
        if let m = metrics(nil) { try c.encode(m, forKey: .metrics) }
        let baseline = Judging.baseline(endpoint)
        try c.encode(endpoint.versions.map { v in
            VersionWithMetrics(version: v, metrics: metrics(v.name),
                               judgement: judgements == nil || v.name == baseline ? nil : .some(judgements?[v.name]))
        }, forKey: .versions)
        // Replaces the spec's `slo` (whose fields it carries) with the spec and its burn.
        if let slo { try c.encode(slo, forKey: .slo) }
    }
}

struct StatusOutput: Encodable {
    var endpoints: [StatusEndpoint]
    var auditSeq: Int64
    var sourceErrors: [String]?
    /// Present (true) only when the registry served the list from memory, its database unreachable:
    /// the routing may lack changes made through other replicas. `staleDetail` is the registry's
    /// own sentence (its `Tower-Stale` header).
    var stale: Bool?
    var staleDetail: String?
}

/// Reads every source once. A scrape needs two readings to make a rate, so it is read twice,
/// `interval` apart (capped at 2 s for a command line).
func readFigures(_ sources: [any MetricsSource]) async -> (figures: [String: Figures], errors: [String]) {
    var figures: [String: Figures] = [:]
    var errors: [String] = []
    for src in sources {
        do {
            if src is ScrapeMetricsSource {
                _ = try await src.refresh()
                try? await Task.sleep(for: .milliseconds(Int(min(src.interval, 2) * 1000)))
            }
            figures.merge(try await src.refresh()) { old, _ in old }
        } catch {
            errors.append("\(src.name): \(error)")
        }
    }
    return (figures, errors)
}
