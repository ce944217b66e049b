import Foundation
import TowerDomain
import TowerHTTP
import TowerMetrics
import TowerTraces
import Yams

/// A named place to operate on, like a kubectl context: which registry, with which token, whether
/// actions are allowed, and where its live figures and traces come from. Read from
/// `$XDG_CONFIG_HOME/tower/config.yaml`.
public struct TowerContext: Codable, Sendable, Equatable {
    public var name: String
    /// The registry's URL, or its replicas' URLs joined by commas (`registryReplicas`).
    public var registry: String
    /// A file holding the token. Tokens never come from the command line.
    public var tokenFile: String?
    public var readOnly: Bool?
    /// A colour for the status line of a production context.
    public var banner: String?
    public var metrics: MetricsSettings?
    public var traces: TraceSettings?
    /// TLS to the registry: its CA, a client certificate, the server name (DESIGN §14).
    public var tls: ContextTLS?

    public init(name: String, registry: String, tokenFile: String? = nil, readOnly: Bool? = nil, banner: String? = nil,
                metrics: MetricsSettings? = nil, traces: TraceSettings? = nil, tls: ContextTLS? = nil) {
        self.name = name; self.registry = registry; self.tokenFile = tokenFile; self.readOnly = readOnly; self.banner = banner
        self.metrics = metrics; self.traces = traces; self.tls = tls
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case name, registry, tokenFile, readOnly, banner, metrics, traces, tls }

    /// The registry's replicas (one URL for a single registry).
    public var registryReplicas: [String] { RegistryClient.replicaURLs(registry) }

    /// Whether any server of this context is reached without verifying its certificate.
    public var tlsUnverified: Bool { tls?.unverified == true || metrics?.tls?.unverified == true || traces?.tls?.unverified == true }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        if name.isEmpty { throw StrictKeys.invalid(c, .name, "must not be empty") }
        // One URL, or a list: the replicas of one registry (DESIGN §12), kept as `URL,URL` as the
        // `--registry` flag takes them.
        if let list = try? c.decode([String].self, forKey: .registry) {
            guard !list.isEmpty, list.allSatisfy({ !$0.isEmpty && !$0.contains(",") }) else {
                throw StrictKeys.invalid(c, .registry, "must be the registry's URL, or a list of its replicas' URLs, like [https://reg-a:8443, https://reg-b:8443]")
            }
            registry = list.joined(separator: ",")
        } else {
            registry = try c.decode(String.self, forKey: .registry)
        }
        if registry.isEmpty { throw StrictKeys.invalid(c, .registry, "must be the registry's URL, like https://registry.prod:8443") }
        tokenFile = try c.decodeIfPresent(String.self, forKey: .tokenFile)
        readOnly = try c.decodeIfPresent(Bool.self, forKey: .readOnly)
        banner = try c.decodeIfPresent(String.self, forKey: .banner)
        metrics = try c.decodeIfPresent(MetricsSettings.self, forKey: .metrics)
        traces = try c.decodeIfPresent(TraceSettings.self, forKey: .traces)
        tls = try c.decodeIfPresent(ContextTLS.self, forKey: .tls)
    }

    /// Replicas are written as a list, as an operator would write them.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        let replicas = registryReplicas
        if replicas.count > 1 { try c.encode(replicas, forKey: .registry) } else { try c.encode(registry, forKey: .registry) }
        try c.encodeIfPresent(tokenFile, forKey: .tokenFile)
        try c.encodeIfPresent(readOnly, forKey: .readOnly)
        try c.encodeIfPresent(banner, forKey: .banner)
        try c.encodeIfPresent(metrics, forKey: .metrics)
        try c.encodeIfPresent(traces, forKey: .traces)
        try c.encodeIfPresent(tls, forKey: .tls)
    }
}

/// A context's `metrics:` block: Prometheus and/or exposition URLs to scrape, and how to read them.
public struct MetricsSettings: Codable, Sendable, Equatable {
    public var prometheus: String?
    public var scrape: [String]?
    /// `generic` or `envoy` (checked when the file is read).
    public var profile: String?
    /// Seconds between refreshes.
    public var interval: Double?
    /// Seconds one refresh may take before the source counts as failed.
    public var timeout: Double?
    /// A file holding a bearer token for Prometheus. There is no way to write the token itself
    /// into the config or onto the command line.
    public var tokenFile: String?
    /// PromQL replacing the profile's own, keyed by `MetricsQuery` raw value (`requestRate`,
    /// `errorRate`, `bucketRate`).
    public var queries: [String: String]?
    /// TLS to Prometheus and the scraped URLs.
    public var tls: ContextTLS?

    public init(prometheus: String? = nil, scrape: [String]? = nil, profile: String? = nil, interval: Double? = nil,
                timeout: Double? = nil, tokenFile: String? = nil, queries: [String: String]? = nil, tls: ContextTLS? = nil) {
        self.prometheus = prometheus; self.scrape = scrape; self.profile = profile; self.interval = interval
        self.timeout = timeout; self.tokenFile = tokenFile; self.queries = queries; self.tls = tls
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case prometheus, scrape, profile, interval, timeout, tokenFile, queries, tls }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        prometheus = try c.decodeIfPresent(String.self, forKey: .prometheus)
        // One URL may be written without the brackets of a list.
        if let one = try? c.decodeIfPresent(String.self, forKey: .scrape) {
            scrape = [one]
        } else {
            scrape = try c.decodeIfPresent([String].self, forKey: .scrape)
        }
        profile = try c.decodeIfPresent(String.self, forKey: .profile)
        if let p = profile, MetricsProfile.Kind(rawValue: p) == nil {
            throw StrictKeys.invalid(c, .profile, "unknown metrics profile '\(p)'; known: \(MetricsProfile.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        interval = try c.decodeIfPresent(Double.self, forKey: .interval)
        if let i = interval, !(i > 0 && i.isFinite) { throw StrictKeys.invalid(c, .interval, "must be more than 0 seconds, not \(String(format: "%g", i))") }
        timeout = try c.decodeIfPresent(Double.self, forKey: .timeout)
        if let t = timeout, !(t > 0 && t.isFinite) { throw StrictKeys.invalid(c, .timeout, "must be more than 0 seconds, not \(String(format: "%g", t))") }
        tokenFile = try c.decodeIfPresent(String.self, forKey: .tokenFile)
        queries = try c.decodeIfPresent([String: String].self, forKey: .queries)
        tls = try c.decodeIfPresent(ContextTLS.self, forKey: .tls)
        for (key, promql) in queries ?? [:] {
            if MetricsQuery(rawValue: key) == nil {
                throw StrictKeys.invalid(c, .queries, "unknown query '\(key)'; known: \(MetricsQuery.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if promql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw StrictKeys.invalid(c, .queries, "the query for \(key) is empty")
            }
        }
    }
}

/// The tracing backends Tower reads.
public enum TraceKind: String, Codable, Sendable, CaseIterable {
    case jaeger, tempo, zipkin

    public func source(baseURL: String, transport: any HTTPTransport = CurlTransport()) -> any TraceSource {
        switch self {
        case .jaeger: JaegerTraceSource(baseURL: baseURL, transport: transport)
        case .tempo: TempoTraceSource(baseURL: baseURL, transport: transport)
        case .zipkin: ZipkinTraceSource(baseURL: baseURL, transport: transport)
        }
    }

    static var known: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// A context's `traces:` block: the backend, and which service and operation stand for an
/// endpoint (`{endpoint}` and `{path}` are filled in).
public struct TraceSettings: Codable, Sendable, Equatable {
    public var kind: TraceKind
    public var url: String
    public var service: String?
    public var operation: String?
    /// TLS to the tracing backend.
    public var tls: ContextTLS?

    public init(kind: TraceKind, url: String, service: String? = nil, operation: String? = nil, tls: ContextTLS? = nil) {
        self.kind = kind; self.url = url; self.service = service; self.operation = operation; self.tls = tls
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case kind, url, service, operation, tls }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let k = try c.decode(String.self, forKey: .kind)
        guard let kind = TraceKind(rawValue: k) else {
            throw StrictKeys.invalid(c, .kind, "unknown trace backend '\(k)'; known: \(TraceKind.known)")
        }
        self.kind = kind
        url = try c.decode(String.self, forKey: .url)
        service = try c.decodeIfPresent(String.self, forKey: .service)
        operation = try c.decodeIfPresent(String.self, forKey: .operation)
        tls = try c.decodeIfPresent(ContextTLS.self, forKey: .tls)
    }
}

public struct TowerConfig: Codable, Sendable, Equatable {
    public var currentContext: String?
    public var contexts: [TowerContext]

    public init(currentContext: String? = nil, contexts: [TowerContext] = []) {
        self.currentContext = currentContext; self.contexts = contexts
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case currentContext, contexts }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        currentContext = try c.decodeIfPresent(String.self, forKey: .currentContext)
        contexts = try c.decodeIfPresent([TowerContext].self, forKey: .contexts) ?? []
    }

    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config")
        return base + "/tower/config.yaml"
    }

    /// The config at `path`, or an empty one when there is no file. A file that exists but cannot be
    /// read is an error: silently ignoring it could point an operator at the wrong registry.
    public static func load(path: String) throws -> TowerConfig {
        guard FileManager.default.fileExists(atPath: path) else { return TowerConfig() }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError("cannot read \(path)")
        }
        return try parse(text, file: path)
    }

    /// The config in `text`; errors name `file` and the key, as a sentence.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> TowerConfig {
        // A file of nothing but comments is an empty config, not a broken one.
        do {
            if try Yams.compose(yaml: text) == nil { return TowerConfig() }
        } catch {
            throw ConfigError("\(file): \(ConfigSentence.describe(error))")
        }
        let config: TowerConfig
        do {
            config = try YAMLDecoder().decode(TowerConfig.self, from: text)
        } catch {
            throw ConfigError("\(file): \(ConfigSentence.describe(error, contextNames: ConfigSentence.contextNames(in: text)))")
        }
        var seen = Set<String>()
        for c in config.contexts where !seen.insert(c.name).inserted {
            throw ConfigError("\(file): two contexts are named '\(c.name)'; names must be unique")
        }
        return config
    }

    public func context(named name: String?) throws -> TowerContext? {
        guard let wanted = name ?? currentContext else { return nil }
        guard let c = contexts.first(where: { $0.name == wanted }) else {
            throw ConfigError("no context named '\(wanted)'; known: \(contexts.map(\.name).joined(separator: ", "))")
        }
        return c
    }

    /// The context a command starts from. A `--registry` given without `--context` starts from
    /// none: the current context's token, sources and read-only flag belong to its own registry,
    /// and mixing them with another's puts one environment's figures beside another's routing
    /// (or sends its token to the wrong registry).
    public func context(named name: String?, registryFlag: String?) throws -> TowerContext? {
        if registryFlag != nil && name == nil { return nil }
        return try context(named: name)
    }
}

public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Where a token comes from, in order: `--token-file`, the context's token file, `TOWER_TOKEN`.
public enum TokenSource {
    public static func read(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        if let file { return try readFile(file) }
        if let t = environment["TOWER_TOKEN"], !t.isEmpty { return t }
        return nil
    }

    /// The token in `file` (a leading `~` is the home directory), trimmed. Errors name the file,
    /// never what is in it. A file its group or others can read is refused (`SecretFile`).
    public static func readFile(_ file: String) throws(ConfigError) -> String {
        if let p = SecretFile.permissionProblem((file as NSString).expandingTildeInPath) {
            throw ConfigError(p.replacingOccurrences(of: (file as NSString).expandingTildeInPath, with: file))
        }
        guard let raw = try? String(contentsOfFile: (file as NSString).expandingTildeInPath, encoding: .utf8) else {
            throw ConfigError("cannot read token file \(file)")
        }
        let token = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if token.isEmpty { throw ConfigError("token file \(file) is empty") }
        return token
    }
}

// MARK: Strict decoding

/// The config is read strictly: a misspelt key would otherwise be ignored in silence and leave an
/// operator looking at the wrong Prometheus, or at none.
enum StrictKeys {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
    }

    struct UnknownKey: Error {
        var path: [any CodingKey]
        var key: String
        var known: [String]
    }

    static func check<K: CodingKey & CaseIterable>(_ decoder: any Decoder, _ keys: K.Type) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        for key in c.allKeys where K(stringValue: key.stringValue) == nil {
            throw UnknownKey(path: c.codingPath, key: key.stringValue, known: K.allCases.map(\.stringValue))
        }
    }

    static func invalid<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K, _ why: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: c.codingPath + [key], debugDescription: why))
    }
}

/// YAML decoding errors as sentences an operator can act on: which key, where, and what it should
/// have been.
enum ConfigSentence {
    static func describe(_ error: any Error, contextNames: [Int: String] = [:]) -> String {
        func at(_ path: [any CodingKey]) -> String { phrase(path, contextNames) }
        switch error {
        case let e as StrictKeys.UnknownKey:
            return "unknown key \(at(e.path + [StrictKeys.AnyKey(stringValue: e.key)])); known there: \(e.known.joined(separator: ", "))"
        case let e as DecodingError:
            switch e {
            case .keyNotFound(let key, let ctx):
                return "\(at(ctx.codingPath + [key])) is missing"
            case .typeMismatch(let type, let ctx):
                return "\(at(ctx.codingPath)) must be \(expected(type, key: lastKey(ctx.codingPath)))"
            case .valueNotFound(let type, let ctx):
                return "\(at(ctx.codingPath)) is empty; it must be \(expected(type, key: lastKey(ctx.codingPath)))"
            case .dataCorrupted(let ctx):
                // Yams wraps what a type's own decoder throws (the unknown-key check) this way.
                if ctx.codingPath.isEmpty, let inner = ctx.underlyingError { return describe(inner, contextNames: contextNames) }
                if ctx.codingPath.isEmpty { return "not valid YAML: \(ctx.debugDescription)" }
                return "\(at(ctx.codingPath))\(ctx.debugDescription.hasPrefix("must") ? " " : ": ")\(ctx.debugDescription)"
            @unknown default:
                return "\(e)"
            }
        case let e as YamlError:
            return "not valid YAML: \(e)"
        default:
            return "\(error)"
        }
    }

    /// The key a value sits under; nil for an item of a list.
    static func lastKey(_ path: [any CodingKey]) -> String? { path.last.flatMap { $0.intValue == nil ? $0.stringValue : nil } }

    /// `'metrics.interval' in context 'prod'`; `'contexts[2].registry'` when the context has no
    /// readable name; `'currentContext'` outside the contexts.
    static func phrase(_ path: [any CodingKey], _ names: [Int: String]) -> String {
        func render(_ keys: some Collection<any CodingKey>) -> String {
            var text = ""
            for k in keys {
                if let n = k.intValue { text += "[\(n)]" } else { text += (text.isEmpty ? "" : ".") + k.stringValue }
            }
            return text
        }
        if path.count >= 2, path[0].stringValue == "contexts", let i = path[1].intValue, let name = names[i] {
            let rest = render(path.dropFirst(2))
            return rest.isEmpty ? "context '\(name)'" : "'\(rest)' in context '\(name)'"
        }
        let all = render(path)
        return all.isEmpty ? "the file" : "'\(all)'"
    }

    /// What a key should have held. Yams names the YAML node it wanted (a sequence, a mapping) or
    /// the Swift type of a scalar.
    static func expected(_ type: Any.Type, key: String?) -> String {
        switch key {
        case "contexts": return "a list of contexts"
        case "scrape": return "a URL or a list of URLs, like [http://10.0.0.5:9901/stats/prometheus]"
        case "queries": return "a mapping of query names to PromQL, like {requestRate: 'sum by (endpoint, version) (…)'}"
        case "metrics", "traces": return "a mapping (key: value)"
        default: break
        }
        switch type {
        case is Bool.Type: return "true or false"
        case is Double.Type, is Float.Type: return "a number"
        case is Int.Type, is Int64.Type: return "a whole number"
        case is String.Type: return "text"
        case is Node.Sequence.Type: return "a list"
        case is Node.Mapping.Type: return "a mapping (key: value)"
        default: return "a single value"
        }
    }

    /// The names of the contexts, by position, read leniently so that an error inside a context
    /// can name it.
    static func contextNames(in text: String) -> [Int: String] {
        guard let root = (try? Yams.load(yaml: text)) as? [String: Any], let list = root["contexts"] as? [Any] else { return [:] }
        var out: [Int: String] = [:]
        for (i, item) in list.enumerated() {
            if let name = (item as? [String: Any])?["name"] as? String { out[i] = name }
        }
        return out
    }
}
