import Foundation
import Yams

/// How a simulated version behaves: the median and 99th-percentile latency and the share of
/// requests that fail.
public struct Behaviour: Codable, Sendable, Equatable {
    public var p50Ms: Double
    public var p99Ms: Double
    public var errorRatio: Double

    public init(p50Ms: Double, p99Ms: Double, errorRatio: Double) {
        self.p50Ms = p50Ms; self.p99Ms = p99Ms; self.errorRatio = errorRatio
    }

    public static let healthy = Behaviour(p50Ms: 35, p99Ms: 160, errorRatio: 0.002)
}

/// A timed change: "at 90 s, v2's p99 ×6 and 4 % errors, for two minutes".
public struct ScenarioEvent: Codable, Sendable, Equatable {
    public var at: Double
    public var endpoint: String
    public var version: String?
    /// Multiplies the tail (p99) latency; the median moves by its square root, as slow
    /// dependencies stretch the tail more than the middle.
    public var latencyFactor: Double?
    public var errorRatio: Double?
    /// Seconds the event lasts; forever when absent.
    public var duration: Double?

    enum CodingKeys: String, CodingKey { case at, endpoint, version, latencyFactor, errorRatio, duration = "for" }

    public init(at: Double, endpoint: String, version: String? = nil, latencyFactor: Double? = nil, errorRatio: Double? = nil, duration: Double? = nil) {
        self.at = at; self.endpoint = endpoint; self.version = version; self.latencyFactor = latencyFactor
        self.errorRatio = errorRatio; self.duration = duration
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        at = try Scenario.seconds(c, .at)
        endpoint = try c.decode(String.self, forKey: .endpoint)
        version = try c.decodeIfPresent(String.self, forKey: .version)
        latencyFactor = try c.decodeIfPresent(Double.self, forKey: .latencyFactor)
        errorRatio = try c.decodeIfPresent(Double.self, forKey: .errorRatio)
        duration = c.contains(.duration) ? try Scenario.seconds(c, .duration) : nil
    }
}

/// A scenario file (YAML): request rates, behaviours per endpoint and version, timed events.
///
/// ```yaml
/// rate: 20                      # requests per second per endpoint
/// default: {p50Ms: 35, p99Ms: 160, errorRatio: 0.002}
/// endpoints:
///   alpha: {rate: 50, versions: {v2: {p50Ms: 60, p99Ms: 250, errorRatio: 0.01}}}
/// events:
///   - {at: 90s, endpoint: alpha, version: v2, latencyFactor: 6, errorRatio: 0.04, for: 2m}
/// ```
public struct Scenario: Codable, Sendable, Equatable {
    public struct EndpointSettings: Codable, Sendable, Equatable {
        public var rate: Double?
        public var versions: [String: Behaviour]?
        public init(rate: Double? = nil, versions: [String: Behaviour]? = nil) { self.rate = rate; self.versions = versions }
    }

    public var rate: Double
    public var `default`: Behaviour
    public var endpoints: [String: EndpointSettings]
    public var events: [ScenarioEvent]

    public init(rate: Double = 20, default d: Behaviour = .healthy, endpoints: [String: EndpointSettings] = [:], events: [ScenarioEvent] = []) {
        self.rate = rate; self.default = d; self.endpoints = endpoints; self.events = events
    }

    enum CodingKeys: String, CodingKey { case rate, `default`, endpoints, events }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rate = try c.decodeIfPresent(Double.self, forKey: .rate) ?? 20
        self.default = try c.decodeIfPresent(Behaviour.self, forKey: .default) ?? .healthy
        endpoints = try c.decodeIfPresent([String: EndpointSettings].self, forKey: .endpoints) ?? [:]
        events = try c.decodeIfPresent([ScenarioEvent].self, forKey: .events) ?? []
    }

    public static func parse(yaml: String) throws -> Scenario {
        let s: Scenario
        do { s = try YAMLDecoder().decode(Scenario.self, from: yaml) } catch {
            throw ScenarioError("the scenario is not valid: \(error)")
        }
        try s.validate()
        return s
    }

    func validate() throws {
        func check(_ b: Behaviour, _ what: String) throws {
            if !(b.p50Ms > 0) || !(b.p99Ms >= b.p50Ms) { throw ScenarioError("\(what): p99Ms must be at least p50Ms, both positive") }
            if !(0...1).contains(b.errorRatio) { throw ScenarioError("\(what): errorRatio must be between 0 and 1") }
        }
        if !(rate >= 0) || rate > 10_000 { throw ScenarioError("rate must be 0 to 10000 requests per second") }
        try check(self.default, "default")
        for (e, settings) in endpoints {
            if let r = settings.rate, !(r >= 0) || r > 10_000 { throw ScenarioError("\(e): rate must be 0 to 10000") }
            for (v, b) in settings.versions ?? [:] { try check(b, "\(e)/\(v)") }
        }
        for ev in events {
            if let f = ev.latencyFactor, !(f > 0) { throw ScenarioError("event at \(ev.at)s: latencyFactor must be positive") }
            if let r = ev.errorRatio, !(0...1).contains(r) { throw ScenarioError("event at \(ev.at)s: errorRatio must be between 0 and 1") }
        }
    }

    /// The behaviour of a version `elapsed` seconds into the run, with the events active then.
    public func behaviour(endpoint: String, version: String, elapsed: Double) -> Behaviour {
        var b = endpoints[endpoint]?.versions?[version] ?? self.default
        for ev in events where ev.endpoint == endpoint && (ev.version == nil || ev.version == version)
            && elapsed >= ev.at && elapsed < ev.at + (ev.duration ?? .infinity) {
            if let f = ev.latencyFactor {
                b.p99Ms *= f
                b.p50Ms *= f.squareRoot()
            }
            if let r = ev.errorRatio { b.errorRatio = r }
        }
        return b
    }

    public func rate(of endpoint: String) -> Double { endpoints[endpoint]?.rate ?? rate }

    /// `90`, `90s`, `2m`, `1h`, `500ms` → seconds.
    static func seconds<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> Double {
        if let d = try? c.decode(Double.self, forKey: key) { return d }
        let text = try c.decode(String.self, forKey: key)
        guard let v = parseDuration(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "'\(text)' is not a duration like 90s, 2m or 500ms")
        }
        return v
    }

    public static func parseDuration(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let v = Double(text.dropLast(suffix.count)), v >= 0 { return v * scale }
        }
        return Double(text).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// The scenario `tower demo` runs without a file: everything healthy, except one canary that
    /// degrades on a schedule so there is always something to triage.
    public static func demo(misbehaving endpoint: String = "alpha", version: String = "v2", firstAt: Double = 30) -> Scenario {
        Scenario(rate: 25, endpoints: [endpoint: EndpointSettings(rate: 40)], events: [
            ScenarioEvent(at: firstAt, endpoint: endpoint, version: version, latencyFactor: 6, errorRatio: 0.04, duration: 120),
            ScenarioEvent(at: firstAt + 300, endpoint: endpoint, version: version, latencyFactor: 6, errorRatio: 0.04, duration: 120),
        ])
    }
}

public struct ScenarioError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}
