import Foundation
import Synchronization
import TowerDomain
import TowerHTTP

/// A source of live figures, keyed by `FigureKey` (per endpoint and per version).
public protocol MetricsSource: Sendable {
    var name: String { get }
    /// Seconds between refreshes.
    var interval: Double { get }
    func refresh() async throws -> [String: Figures]
    /// Recent p99 (ms) per key, oldest first, to back-fill sparklines at start; empty when the
    /// source keeps no history (a scrape only knows the present).
    func history(points: Int) async throws -> [String: [Double?]]
    /// What the source warned about in its last answer (Prometheus `warnings`), for the header.
    var warnings: [String] { get }
    /// Per endpoint (keyed by name), the bad-event ratios over each window (seconds) for SLO burn
    /// rates; `latencyMs` per endpoint decides what is slow. A fixed number of queries whatever the
    /// number of endpoints. Throws `MetricsSourceError` when the source cannot say at all.
    func badRatios(windows: [Int], latencyMs: [String: Double]) async throws -> [String: BadRatios]
    /// Figures (with `window` counts) for the window of `windowSeconds` that ended at `end`: what
    /// the versions did before and after a change (change impact). History does not change, so
    /// callers may cache the answer.
    func figures(endingAt end: Date, windowSeconds: Int) async throws -> [String: Figures]
    /// The window the live figures' rates and quantiles are taken over (seconds), which the console
    /// shows beside them: a drained version's error ratio still moves for that long. Nil when unknown.
    var rateWindowSeconds: Int? { get }
}

extension MetricsSource {
    public func history(points: Int) async throws -> [String: [Double?]] { [:] }
    public var warnings: [String] { [] }
    public var rateWindowSeconds: Int? { nil }
    public func badRatios(windows: [Int], latencyMs: [String: Double]) async throws -> [String: BadRatios] {
        throw MetricsSourceError("\(name) cannot read burn rates")
    }
    public func figures(endingAt end: Date, windowSeconds: Int) async throws -> [String: Figures] {
        throw MetricsSourceError("\(name) keeps no history to read a past window from")
    }
}

public struct MetricsSourceError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Reads exposition text straight from gateways or model servers (for when Prometheus is down or
/// absent, and for the demo) and derives rates and quantiles from the change between two scrapes.
/// The first refresh has nothing to compare with, so it yields no figures: no data, not zero.
public final class ScrapeMetricsSource: MetricsSource {
    public let name = "scrape"
    public let urls: [String]
    public let profile: ScrapeProfile
    public let interval: Double
    private let transport: any HTTPTransport
    private let timeout: Duration
    private let window: Mutex<ScrapeWindow>
    private let kept = Mutex(ScrapeHistory())
    private let failing = Mutex<[String]>([])

    /// The targets that failed in the last refresh while others answered: the source as a whole is
    /// up, but the figures behind those targets are ageing, and the header should say which.
    public var warnings: [String] { failing.withLock { $0 } }

    /// Rates are taken between the last two scrapes.
    public var rateWindowSeconds: Int? { max(1, Int(interval.rounded())) }

    public init(urls: [String], profile: ScrapeProfile = .generic, interval: Double = 5, timeout: Duration = .seconds(3),
                transport: any HTTPTransport = CurlTransport(HTTPOptions(maxResponseBytes: 64 << 20))) {
        self.urls = urls
        self.profile = profile
        self.interval = interval
        self.timeout = timeout
        self.transport = transport
        window = Mutex(ScrapeWindow(profile: profile))
    }

    public func refresh() async throws -> [String: Figures] {
        let scrapes = await withTaskGroup(of: (String, Result<TargetScrape, any Error>).self) { group in
            for url in urls {
                group.addTask { [transport, timeout] in
                    do {
                        let r = try await transport.send(HTTPRequest(url: url, headers: [("Accept", ExpositionFormat.acceptHeader)], timeout: timeout))
                        guard r.status == 200 else { throw MetricsSourceError("\(url) answered \(r.status)") }
                        let format = ExpositionFormat(contentType: r.headers["content-type"]) ?? .text
                        let doc = try ExpositionParser(format: format, policy: .skipInvalidLines).parse(r.body)
                        return (url, .success(TargetScrape(target: url, at: Date(), samples: doc.samples)))
                    } catch {
                        return (url, .failure(error))
                    }
                }
            }
            var out: [(String, Result<TargetScrape, any Error>)] = []
            for await r in group { out.append(r) }
            return out
        }
        let ok = scrapes.compactMap { try? $0.1.get() }
        if ok.isEmpty, let first = scrapes.first, case .failure(let e) = first.1 {
            failing.withLock { $0 = [] }
            throw MetricsSourceError(scrapes.count == 1 ? "\(e)" : "all \(scrapes.count) targets failed, e.g. \(e)")
        }
        let failed: [String] = scrapes.compactMap { url, r in
            if case .failure(let e) = r { return "\(url): \(e)" }
            return nil
        }.sorted()
        failing.withLock {
            $0 = failed.isEmpty ? [] : ["\(failed.count) of \(scrapes.count) targets failing: " + failed.joined(separator: "; ")]
        }
        let result = window.withLock { $0.update(ok) }
        kept.withLock { $0.add(result) }
        var figures: [String: Figures] = [:]
        for (k, r) in result.versions { figures[k.description] = Self.figures(r) }
        for (e, r) in result.endpoints { figures[EndpointVersionKey(e).description] = Self.figures(r) }
        return figures
    }

    /// From what this source has scraped since it started (`ScrapeHistory`): windows longer than
    /// that are read over all of it and listed in `partial`.
    public func badRatios(windows: [Int], latencyMs: [String: Double]) async throws -> [String: BadRatios] {
        let h = kept.withLock { $0 }
        guard h.latest != nil else { throw MetricsSourceError("scrape has not read two scrapes yet: no history to read burn rates from") }
        return h.badRatios(windows: windows, latencyMs: latencyMs)
    }

    /// Rates into figures; percentiles by Prometheus's own `histogram_quantile` rules.
    static func figures(_ r: ScrapeRates) -> Figures {
        func q(_ x: Double) -> Double? {
            guard let b = r.bucketRates, let v = Quantile.histogramQuantile(x, b), v.isFinite else { return nil }
            return v
        }
        return Figures(rps: r.requestRate, errorRatio: r.errorRatio, p50Ms: q(0.5), p95Ms: q(0.95), p99Ms: q(0.99),
                       samples: r.observations ?? r.requests, readAt: r.readAt, window: r.windowCounts)
    }
}

/// Figures from Prometheus with a profile's fixed handful of queries (the same count for 10 or
/// 1,000 endpoints). A refresh in which every query failed is a failure of the source; one in
/// which some failed leaves only those figures out.
public struct PrometheusMetricsSource: MetricsSource {
    public let name = "prometheus"
    public let client: PrometheusClient
    public let profile: MetricsProfile
    public let interval: Double
    /// Evaluate at this instant instead of now (reproducible reads, and tests against PromQL).
    public let at: Date?
    private let lastWarnings = WarningBox()

    final class WarningBox: Sendable {
        let value = Mutex<[String]>([])
    }

    public var warnings: [String] { lastWarnings.value.withLock { $0 } }

    /// The profile's range (`rate(…[1m])`).
    public var rateWindowSeconds: Int? { profile.windowSeconds }

    public init(client: PrometheusClient, profile: MetricsProfile, interval: Double = 5, at: Date? = nil) {
        self.client = client
        self.profile = profile
        self.interval = interval
        self.at = at
    }

    public func refresh() async throws -> [String: Figures] {
        let reading = await profile.read(with: client, at: at)
        lastWarnings.value.withLock { $0 = reading.warnings }
        if reading.figures.isEmpty, let failure = reading.failures.values.first {
            throw MetricsSourceError(failure.description)
        }
        var out: [String: Figures] = [:]
        for (k, f) in reading.figures { out[k.description] = f }
        return out
    }

    /// Three instant queries whatever the number of endpoints and windows (`BurnRateQueries`),
    /// sent concurrently; a kind that fails leaves only its ratios out, all failing is an error.
    public func badRatios(windows: [Int], latencyMs: [String: Double]) async throws -> [String: BadRatios] {
        let burn = BurnRateQueries(profile: profile, windows: windows)
        guard !burn.windows.isEmpty else { return [:] }
        let time = at
        let answers = await withTaskGroup(of: (BurnRateQueries.Kind, Result<PrometheusQueryResponse, PrometheusError>).self) { group in
            for (kind, promql) in burn.queries {
                group.addTask { [client] in
                    do throws(PrometheusError) { return (kind, .success(try await client.instant(query: promql, time: time))) } catch {
                        return (kind, .failure(error))
                    }
                }
            }
            var all: [(BurnRateQueries.Kind, Result<PrometheusQueryResponse, PrometheusError>)] = []
            for await a in group { all.append(a) }
            return all
        }
        var results: [BurnRateQueries.Kind: PrometheusQueryResponse] = [:]
        var firstFailure: PrometheusError?
        for (kind, r) in answers {
            switch r {
            case .success(let response): results[kind] = response
            case .failure(let e): firstFailure = firstFailure ?? e
            }
        }
        if results.isEmpty, let firstFailure { throw MetricsSourceError(firstFailure.description) }
        return burn.badRatios(from: results, latencyMs: latencyMs)
    }

    /// The profile's own queries over a window of `windowSeconds`, evaluated at `end` (instant
    /// queries with `time=`): the same three queries as a refresh, so the same figures and counts.
    public func figures(endingAt end: Date, windowSeconds: Int) async throws -> [String: Figures] {
        let windowed: MetricsProfile
        do { windowed = try profile.windowed(seconds: windowSeconds) } catch { throw MetricsSourceError(error.description) }
        let reading = await windowed.read(with: client, at: end)
        if reading.figures.isEmpty, let failure = reading.failures.values.first {
            throw MetricsSourceError(failure.description)
        }
        var out: [String: Figures] = [:]
        for (k, f) in reading.figures { out[k.description] = f }
        return out
    }

    /// One range query of the bucket rates; p99 per step computed here by the same rules as the
    /// live figures, per version and per endpoint (buckets summed over versions).
    public func history(points: Int) async throws -> [String: [Double?]] {
        guard let query = profile.queries[.bucketRate], points > 1 else { return [:] }
        let end = at ?? Date()
        let step = max(1, interval)
        let answer = try await client.range(query: query, start: end.addingTimeInterval(-step * Double(points - 1)), end: end,
                                            step: .milliseconds(Int(step * 1000)))
        // key → timestamp → le → rate
        var buckets: [String: [Int64: [Double: Double]]] = [:]
        for series in answer.result.series {
            guard let e = series.labels["endpoint"], let v = series.labels["version"], let leText = series.labels["le"] else { continue }
            let le = leText == "+Inf" ? Double.infinity : Double(leText)
            guard let le else { continue }
            for sample in series.samples where sample.value.isFinite {
                for key in [EndpointVersionKey(e, v).description, EndpointVersionKey(e).description] {
                    buckets[key, default: [:]][sample.timestampMs, default: [:]][le, default: 0] += sample.value
                }
            }
        }
        var out: [String: [Double?]] = [:]
        for (key, byTime) in buckets {
            out[key] = byTime.keys.sorted().map { t in
                let b = byTime[t]!.map { Bucket(le: $0.key, count: $0.value) }
                return Quantile.histogramQuantile(0.99, b).flatMap { $0.isFinite ? $0 * profile.latencyScaleToMs : nil }
            }
        }
        return out
    }
}
