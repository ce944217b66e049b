import ArgumentParser
import Foundation
import TowerDomain
import TowerSources

/// Where live figures come from: Prometheus with a profile, or a direct scrape of exposition
/// endpoints (for when Prometheus is down or absent).
struct SourceOptions: ParsableArguments {
    @Option(help: "Prometheus base URL, e.g. http://127.0.0.1:9090.") var prometheus: String?
    @Option(help: "Comma-separated exposition URLs to scrape directly (…/metrics, …/stats/prometheus).") var scrape: String?
    @Option(help: "Metric names: generic (http_requests_total…) or envoy (envoy_cluster_…).") var profile = "generic"
    @Option(help: "Seconds between refreshes.") var interval = 5.0

    func metricsSources() throws -> [any MetricsSource] {
        var out: [any MetricsSource] = []
        if let prometheus {
            let profile: MetricsProfile
            do { profile = try MetricsProfile(name: self.profile) } catch { throw ValidationError("\(error)") }
            out.append(PrometheusMetricsSource(client: PrometheusClient(baseURL: prometheus), profile: profile, interval: interval))
        }
        if let scrape {
            guard let p = ScrapeProfile(rawValue: profile) else { throw ValidationError("unknown profile '\(profile)': generic or envoy") }
            let urls = scrape.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if urls.isEmpty { throw ValidationError("--scrape needs at least one URL") }
            out.append(ScrapeMetricsSource(urls: urls, profile: p, interval: interval))
        }
        return out
    }
}

/// The `metrics` object of `tower status --output json`: a figure that could not be read is null.
func metricsJSON(_ f: Figures?, now: Date, staleAfter: Double) -> Any {
    guard let f else {
        return ["rps": NSNull(), "errorRatio": NSNull(), "p50Ms": NSNull(), "p95Ms": NSNull(), "p99Ms": NSNull(),
                "samples": NSNull(), "ageSeconds": NSNull(), "stale": true] as [String: Any]
    }
    func n(_ v: Double?) -> Any { v.flatMap { $0.isFinite ? $0 : nil } ?? NSNull() }
    let age = now.timeIntervalSince(f.readAt)
    return ["rps": n(f.rps), "errorRatio": n(f.errorRatio), "p50Ms": n(f.p50Ms), "p95Ms": n(f.p95Ms), "p99Ms": n(f.p99Ms),
            "samples": n(f.samples), "ageSeconds": (age * 1000).rounded() / 1000, "stale": age > staleAfter] as [String: Any]
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
