import Foundation
import TowerDomain
import TowerHTTP
import TowerMetrics
import TowerTraces

/// What the command line said about sources; nil where a flag was not given, so that the context
/// can fill it in.
public struct SourceFlags: Sendable, Equatable {
    public var prometheus: String?
    public var prometheusTokenFile: String?
    public var scrape: [String]?
    public var profile: String?
    public var interval: Double?
    public var timeout: Double?
    public var at: Date?
    /// `KIND=URL`, or `none`.
    public var traces: String?
    public var traceService: String?
    public var traceOperation: String?

    /// Given to `--prometheus`, `--scrape` or `--traces`, switches off what the context sets.
    public static let none = "none"

    public init(prometheus: String? = nil, prometheusTokenFile: String? = nil, scrape: [String]? = nil, profile: String? = nil,
                interval: Double? = nil, timeout: Double? = nil, at: Date? = nil, traces: String? = nil,
                traceService: String? = nil, traceOperation: String? = nil) {
        self.prometheus = prometheus; self.prometheusTokenFile = prometheusTokenFile; self.scrape = scrape; self.profile = profile
        self.interval = interval; self.timeout = timeout; self.at = at; self.traces = traces
        self.traceService = traceService; self.traceOperation = traceOperation
    }
}

/// Where live figures and traces come from, once flags and the context are put together: a flag
/// given wins, else the context's field, else the default. One exception: the context's Prometheus
/// token goes only to the context's Prometheus, so a `--prometheus URL` on the command line never
/// receives it (it takes `--prometheus-token-file` or nothing).
public struct SourceSettings: Sendable, Equatable {
    public struct Prometheus: Sendable, Equatable {
        public var url: String
        public var tokenFile: String?
        public var queries: [String: String]
    }

    public var prometheus: Prometheus?
    public var scrape: [String]
    public var profile: MetricsProfile.Kind
    public var interval: Double
    /// Seconds a refresh may take; nil leaves each source its own (scrape 3 s, Prometheus 10 s).
    public var timeout: Double?
    public var at: Date?
    public var traces: TraceSettings?
    public var traceMapping: TraceMapping
    /// TLS to Prometheus and the scraped URLs (the context's metrics.tls).
    public var metricsTLS: ContextTLS?

    public static let defaultInterval = 5.0

    public init(prometheus: Prometheus? = nil, scrape: [String] = [], profile: MetricsProfile.Kind = .generic,
                interval: Double = defaultInterval, timeout: Double? = nil, at: Date? = nil, traces: TraceSettings? = nil,
                traceMapping: TraceMapping = TraceMapping()) {
        self.prometheus = prometheus; self.scrape = scrape; self.profile = profile; self.interval = interval
        self.timeout = timeout; self.at = at; self.traces = traces; self.traceMapping = traceMapping
    }

    public static func resolve(_ flags: SourceFlags, context: TowerContext?) throws(ConfigError) -> SourceSettings {
        let m = context?.metrics
        let t = context?.traces
        var out = SourceSettings()

        let profileName = flags.profile ?? m?.profile ?? MetricsProfile.Kind.generic.rawValue
        guard let profile = MetricsProfile.Kind(rawValue: profileName) else {
            throw ConfigError("unknown metrics profile '\(Names.printable(profileName))'; known: \(MetricsProfile.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        out.profile = profile

        out.interval = flags.interval ?? m?.interval ?? defaultInterval
        guard out.interval > 0, out.interval.isFinite else { throw ConfigError("the interval must be a number of seconds above 0, not \(out.interval)") }
        out.timeout = flags.timeout ?? m?.timeout
        if let timeout = out.timeout, !(timeout > 0 && timeout.isFinite) {
            throw ConfigError("the timeout must be a number of seconds above 0, not \(timeout)")
        }
        out.at = flags.at
        out.metricsTLS = m?.tls

        if let url = flags.prometheus {
            if url != SourceFlags.none {
                out.prometheus = Prometheus(url: try nonEmpty(url, "--prometheus"), tokenFile: flags.prometheusTokenFile, queries: m?.queries ?? [:])
            }
        } else if let url = m?.prometheus {
            out.prometheus = Prometheus(url: try nonEmpty(url, "the context's metrics.prometheus"),
                                        tokenFile: flags.prometheusTokenFile ?? m?.tokenFile, queries: m?.queries ?? [:])
        }
        if let p = out.prometheus {
            do { _ = try MetricsProfile(kind: profile, overrides: p.queries) } catch { throw ConfigError(error.description) }
        }

        if let urls = flags.scrape {
            if urls != [SourceFlags.none] {
                out.scrape = urls
                if out.scrape.isEmpty { throw ConfigError("--scrape needs at least one URL") }
            }
        } else {
            out.scrape = m?.scrape ?? []
        }
        if out.scrape.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) { throw ConfigError("a scrape URL is empty") }

        if let spec = flags.traces {
            if spec != SourceFlags.none {
                let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[1].isEmpty else { throw ConfigError("--traces must be KIND=URL, like zipkin=http://127.0.0.1:9411") }
                guard let kind = TraceKind(rawValue: parts[0]) else {
                    throw ConfigError("unknown trace backend '\(Names.printable(parts[0]))'; known: \(TraceKind.known)")
                }
                out.traces = TraceSettings(kind: kind, url: parts[1])
            }
        } else if let t {
            out.traces = TraceSettings(kind: t.kind, url: try nonEmpty(t.url, "the context's traces.url"), tls: t.tls)
        }
        let operation = flags.traceOperation ?? t?.operation ?? "POST {path}"
        out.traceMapping = TraceMapping(service: flags.traceService ?? t?.service ?? "gateway", operation: operation.isEmpty ? nil : operation)
        return out
    }

    private static func nonEmpty(_ s: String, _ what: String) throws(ConfigError) -> String {
        if s.trimmingCharacters(in: .whitespaces).isEmpty { throw ConfigError("\(what) is empty") }
        return s
    }

    /// The metrics sources, Prometheus first. Reads the Prometheus token file now, so that a
    /// missing or empty one is said at start rather than as a 401 on every refresh.
    public func metricsSources(readToken: (String) throws(ConfigError) -> String = { f throws(ConfigError) in try TokenSource.readFile(f) })
        throws(ConfigError) -> [any MetricsSource] {
        var out: [any MetricsSource] = []
        let limit = timeout.map { Duration.milliseconds(Int(($0 * 1000).rounded())) }
        if let p = prometheus {
            let metricsProfile: MetricsProfile
            do { metricsProfile = try MetricsProfile(kind: profile, overrides: p.queries) } catch { throw ConfigError(error.description) }
            let auth: PrometheusClient.Auth = try p.tokenFile.map { f throws(ConfigError) in .bearer(try readToken(f)) } ?? .none
            let transport = try metricsTLS?.transport() ?? CurlTransport()
            let client = PrometheusClient(baseURL: p.url, auth: auth, transport: transport, timeout: limit ?? .seconds(10))
            out.append(PrometheusMetricsSource(client: client, profile: metricsProfile, interval: interval, at: at))
        }
        if !scrape.isEmpty {
            let scrapeProfile: ScrapeProfile = profile == .envoy ? .envoy : .generic
            let transport = try metricsTLS?.transport(maxResponseBytes: 64 << 20) ?? CurlTransport(HTTPOptions(maxResponseBytes: 64 << 20))
            out.append(ScrapeMetricsSource(urls: scrape, profile: scrapeProfile, interval: interval, timeout: limit ?? .seconds(3), transport: transport))
        }
        return out
    }

    public func traceSource() throws(ConfigError) -> (any TraceSource)? {
        guard let t = traces else { return nil }
        return t.kind.source(baseURL: t.url, transport: try t.tls?.transport() ?? CurlTransport())
    }
}
