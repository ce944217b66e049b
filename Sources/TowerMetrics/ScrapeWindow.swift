import Foundation
import TowerDomain

// The scrape source's arithmetic (DESIGN §5): without Prometheus, rates come from the difference of
// two successive scrapes of the same target, computed as Prometheus's `rate` would over a window
// holding exactly those two points (increase / interval; no extrapolation, as there is nothing to
// extrapolate from), then summed over targets and grouped by (endpoint, version).
//
// Rules, each because "no data" must never read as 0:
// - A counter that went down was reset (the process restarted): the increase is the new value.
// - A (endpoint, version) needs to be in both scrapes of a target to have data from it; a target seen
//   once, or forgotten after a failed scrape, contributes nothing (not 0) until its next scrape.
// - Inside a version seen in both scrapes, a series that is new is counted from 0: Envoy creates
//   `upstream_rq_xx{class="5"}` at the first 5xx (wire-formats §5.4), and client libraries create a
//   `code="503"` child at its first request, so skipping it would hide exactly the first errors.
//   A series that vanished contributes nothing.
// - NaN, infinite or negative counter values are not counters: the series is ignored.
// Bucket bounds come out in milliseconds for both profiles, ready for `Quantile.histogramQuantile`.

public enum ScrapeProfile: String, Sendable, Equatable, CaseIterable {
    /// `envoy_cluster_upstream_rq_total`, `_rq_xx{envoy_response_code_class="5"}`,
    /// `_rq_time_bucket` (ms), with cluster names `<endpoint>--<version>`.
    case envoy
    /// `http_requests_total{endpoint,version,code}`, `http_request_duration_seconds_bucket{endpoint,version,le}`.
    case generic
}

/// The counters of one target's page that the profile reads, taken at one time.
public struct ScrapeSnapshot: Sendable {
    enum Kind: Hashable, Sendable {
        case requests, errors, requestsAndErrors
        case bucket(leMs: Double)
    }

    struct Counter: Sendable {
        var version: EndpointVersionKey
        var kind: Kind
        var value: Double
    }

    public let at: Date
    public let profile: ScrapeProfile
    /// By series identity (name and sorted labels).
    var counters: [String: Counter] = [:]
    /// Versions with at least one counter.
    public private(set) var versions: Set<EndpointVersionKey> = []

    public init(samples: [ExpositionSample], at: Date, profile: ScrapeProfile) {
        self.at = at
        self.profile = profile
        for sample in samples {
            guard let (version, kind) = Self.classify(sample, profile),
                  sample.value.isFinite, sample.value >= 0 else { continue }
            counters[Self.identity(of: sample)] = Counter(version: version, kind: kind, value: sample.value)
            versions.insert(version)
        }
    }

    static func classify(_ s: ExpositionSample, _ profile: ScrapeProfile) -> (EndpointVersionKey, Kind)? {
        switch profile {
        case .generic:
            switch s.name {
            case "http_requests_total":
                guard let version = genericVersion(s) else { return nil }
                let code = s.label("code") ?? ""
                let isServerError = code.utf8.count == 3 && code.utf8.first == UInt8(ascii: "5")
                return (version, isServerError ? .requestsAndErrors : .requests)
            case "http_request_duration_seconds_bucket":
                guard let version = genericVersion(s), let le = bucketBound(s, toMilliseconds: 3) else { return nil }
                return (version, .bucket(leMs: le))
            default:
                return nil
            }
        case .envoy:
            switch s.name {
            case "envoy_cluster_upstream_rq_total":
                guard let version = envoyVersion(s) else { return nil }
                return (version, .requests)
            case "envoy_cluster_upstream_rq_xx":
                guard s.label("envoy_response_code_class") == "5", let version = envoyVersion(s) else { return nil }
                return (version, .errors)
            case "envoy_cluster_upstream_rq_time_bucket":
                guard let version = envoyVersion(s), let le = bucketBound(s, toMilliseconds: 0) else { return nil }
                return (version, .bucket(leMs: le))
            default:
                return nil
            }
        }
    }

    static func genericVersion(_ s: ExpositionSample) -> EndpointVersionKey? {
        guard let endpoint = s.label("endpoint"), let version = s.label("version"), !endpoint.isEmpty, !version.isEmpty else { return nil }
        return EndpointVersionKey(endpoint: endpoint, version: version)
    }

    static func envoyVersion(_ s: ExpositionSample) -> EndpointVersionKey? {
        s.label("envoy_cluster_name").flatMap { EndpointVersionKey(envoyClusterName: $0) }
    }

    /// The `le` bound in ms; `toMilliseconds` is the power of ten from the page's unit (3 for seconds).
    static func bucketBound(_ s: ExpositionSample, toMilliseconds shift: Int) -> Double? {
        guard let text = s.label("le"), let le = parseExpositionNumber(text, timesPowerOfTen: shift), !le.isNaN else { return nil }
        return le
    }

    /// Name and labels sorted by name (Envoy's label order is not to be relied on).
    static func identity(of s: ExpositionSample) -> String {
        var key = s.name
        for label in s.labels.sorted(by: { $0.name < $1.name }) {
            key += "\u{0}" + label.name + "\u{1}" + label.value
        }
        return key
    }
}

/// What the scrapes say about one version, or one endpoint (summed over its versions).
public struct ScrapeRates: Sendable, Equatable {
    /// Requests per second.
    public var requestRate: Double?
    /// 5xx responses per second; 0 when the version had requests but no 5xx series.
    public var errorRate: Double?
    /// Requests in the window(s) (the increase, not a rate).
    public var requests: Double?
    public var errors: Double?
    /// Cumulative bucket rates per second, `le` in milliseconds, ascending, `+Inf` last; nil when
    /// the page has no latency histogram for this version.
    public var bucketRates: [Bucket]?
    /// Observations behind the buckets in the window (the `+Inf` bucket's increase): `Figures.samples`.
    public var observations: Double?
    /// The newest scrape these figures come from.
    public var readAt: Date
    /// Cumulative bucket increases (counts, not rates), `le` in ms, ascending: `WindowCounts`.
    public var bucketIncreases: [Bucket]?
    /// Seconds between the two scrapes the counts come from; with several targets, the longest of
    /// their intervals (the counts cover the union of them).
    public var seconds: Double?

    public init(requestRate: Double? = nil, errorRate: Double? = nil, requests: Double? = nil, errors: Double? = nil,
                bucketRates: [Bucket]? = nil, observations: Double? = nil, readAt: Date, bucketIncreases: [Bucket]? = nil,
                seconds: Double? = nil) {
        self.requestRate = requestRate; self.errorRate = errorRate; self.requests = requests; self.errors = errors
        self.bucketRates = bucketRates; self.observations = observations; self.readAt = readAt
        self.bucketIncreases = bucketIncreases; self.seconds = seconds
    }

    /// The counts behind the rates, for the canary statistics; nil without an interval.
    public var windowCounts: WindowCounts? {
        seconds.map { WindowCounts(seconds: $0, requests: requests, errors: errors, latencyBuckets: bucketIncreases) }
    }

    /// 5xx / all, as `sum(rate(5xx)) / sum(rate(all))`; nil without requests (0/0 is not 0 %).
    public var errorRatio: Double? {
        guard let requestRate, requestRate > 0, let errorRate else { return nil }
        return errorRate / requestRate
    }
}

public struct ScrapeResult: Sendable, Equatable {
    /// Only versions with data; a missing key means no data.
    public var versions: [EndpointVersionKey: ScrapeRates]
    /// Sums over each endpoint's versions with data.
    public var endpoints: [String: ScrapeRates]

    public init(versions: [EndpointVersionKey: ScrapeRates] = [:], endpoints: [String: ScrapeRates] = [:]) {
        self.versions = versions; self.endpoints = endpoints
    }

    public func rates(endpoint: String, version: String) -> ScrapeRates? { versions[EndpointVersionKey(endpoint: endpoint, version: version)] }
    public func rates(endpoint: String) -> ScrapeRates? { endpoints[endpoint] }

    /// The rates between two scrapes of one target.
    public static func between(_ previous: ScrapeSnapshot, _ current: ScrapeSnapshot) -> ScrapeResult {
        merge([(previous, current)])
    }

    /// Sums of the per-target rates, each over its own interval (as `sum(rate(...))` does).
    static func merge(_ pairs: [(ScrapeSnapshot, ScrapeSnapshot)]) -> ScrapeResult {
        var sums: [EndpointVersionKey: Sum] = [:]
        for (previous, current) in pairs {
            let seconds = current.at.timeIntervalSince(previous.at)
            guard seconds > 0 else { continue }
            let both = previous.versions.intersection(current.versions)
            for (key, counter) in current.counters where both.contains(counter.version) {
                let before = previous.counters[key]?.value ?? 0 // new inside a known version: from 0
                let increase = counter.value >= before ? counter.value - before : counter.value // reset
                sums[counter.version, default: Sum()].add(counter.kind, increase: increase, seconds: seconds, at: current.at)
            }
        }
        var result = ScrapeResult()
        var endpointSums: [String: Sum] = [:]
        for (version, sum) in sums {
            result.versions[version] = sum.rates
            endpointSums[version.endpoint, default: Sum()].absorb(sum)
        }
        for (endpoint, sum) in endpointSums { result.endpoints[endpoint] = sum.rates }
        return result
    }

    struct Sum {
        var requests: Double?, requestRate: Double?
        var errors = 0.0, errorRate = 0.0
        var buckets: [Double: (increase: Double, rate: Double)]?
        var readAt = Date.distantPast
        var seconds: Double?

        mutating func add(_ kind: ScrapeSnapshot.Kind, increase: Double, seconds: Double, at: Date) {
            readAt = max(readAt, at)
            self.seconds = max(self.seconds ?? 0, seconds)
            let rate = increase / seconds
            switch kind {
            case .requests, .requestsAndErrors:
                requests = (requests ?? 0) + increase
                requestRate = (requestRate ?? 0) + rate
                if kind == .requestsAndErrors { errors += increase; errorRate += rate }
            case .errors:
                errors += increase; errorRate += rate
            case .bucket(let le):
                let old = buckets?[le] ?? (0, 0)
                buckets = buckets ?? [:]
                buckets![le] = (old.increase + increase, old.rate + rate)
            }
        }

        mutating func absorb(_ other: Sum) {
            readAt = max(readAt, other.readAt)
            if let s = other.seconds { seconds = max(seconds ?? 0, s) }
            if let r = other.requests { requests = (requests ?? 0) + r }
            if let r = other.requestRate { requestRate = (requestRate ?? 0) + r }
            if other.requestRate != nil { errors += other.errors; errorRate += other.errorRate }
            if let otherBuckets = other.buckets {
                var merged = buckets ?? [:]
                for (le, b) in otherBuckets {
                    let old = merged[le] ?? (0, 0)
                    merged[le] = (old.increase + b.increase, old.rate + b.rate)
                }
                buckets = merged
            }
        }

        var rates: ScrapeRates {
            let sorted = buckets?.sorted { $0.key < $1.key }
            return ScrapeRates(
                requestRate: requestRate,
                // Errors mean something only next to requests (5xx / all); alone they are no data.
                errorRate: requestRate == nil ? nil : errorRate,
                requests: requests,
                errors: requestRate == nil ? nil : errors,
                bucketRates: sorted.map { $0.map { Bucket(le: $0.key, count: $0.value.rate) } },
                observations: buckets?[.infinity]?.increase,
                readAt: readAt,
                bucketIncreases: sorted.map { $0.map { Bucket(le: $0.key, count: $0.value.increase) } },
                seconds: seconds)
        }
    }
}

/// One target's page as read at `at` (the time the response arrived; sample timestamps are not
/// used: Envoy and client libraries do not write them).
public struct TargetScrape: Sendable {
    public var target: String
    public var at: Date
    public var samples: [ExpositionSample]
    public init(target: String, at: Date, samples: [ExpositionSample]) { self.target = target; self.at = at; self.samples = samples }
}

/// Keeps the last two scrapes of each target and produces the rates when new ones arrive.
public struct ScrapeWindow: Sendable {
    public let profile: ScrapeProfile
    private var previous: [String: ScrapeSnapshot] = [:]
    private var latest: [String: ScrapeSnapshot] = [:]

    public init(profile: ScrapeProfile) { self.profile = profile }

    /// Targets with at least one scrape kept.
    public var targets: [String] { latest.keys.sorted() }

    /// A new scrape of `target`; the one before becomes its baseline. A scrape not newer than the
    /// last one kept is ignored (a duplicate or a late answer).
    public mutating func record(target: String, samples: [ExpositionSample], at: Date) {
        if let last = latest[target], at <= last.at { return }
        previous[target] = latest[target]
        latest[target] = ScrapeSnapshot(samples: samples, at: at, profile: profile)
    }

    /// A target that failed or was removed: its history goes, so it has no data (not 0) until it
    /// has been scraped twice again.
    public mutating func forget(target: String) {
        previous[target] = nil
        latest[target] = nil
    }

    /// Rates over each target's last interval, summed over targets.
    public func rates() -> ScrapeResult {
        ScrapeResult.merge(latest.compactMap { target, current in previous[target].map { ($0, current) } })
    }

    /// One refresh round: the new scrape of every target that answered. Targets not in `scrapes`
    /// are forgotten, so a target that disappears gives no data instead of a stale rate.
    public mutating func update(_ scrapes: [TargetScrape]) -> ScrapeResult {
        let answered = Set(scrapes.map(\.target))
        for target in latest.keys where !answered.contains(target) { forget(target: target) }
        for scrape in scrapes { record(target: scrape.target, samples: scrape.samples, at: scrape.at) }
        return rates()
    }
}
