import Foundation

/// What Tower shows for one endpoint or version over the last window. A figure that could not be
/// read is nil — "no data" is never 0.
public struct Figures: Codable, Sendable, Equatable {
    public var rps: Double?
    public var errorRatio: Double?
    public var p50Ms: Double?
    public var p95Ms: Double?
    public var p99Ms: Double?
    /// Requests behind the percentiles in the window (so a p99 over 3 requests reads as such).
    public var samples: Double?
    /// When the source answered with these figures.
    public var readAt: Date
    /// The counts behind the figures over their window, for the statistics that judge a canary
    /// (TowerAnalysis): nil when the source could not say.
    public var window: WindowCounts?

    public init(rps: Double? = nil, errorRatio: Double? = nil, p50Ms: Double? = nil, p95Ms: Double? = nil, p99Ms: Double? = nil,
                samples: Double? = nil, readAt: Date, window: WindowCounts? = nil) {
        self.rps = rps; self.errorRatio = errorRatio; self.p50Ms = p50Ms; self.p95Ms = p95Ms; self.p99Ms = p99Ms
        self.samples = samples; self.readAt = readAt; self.window = window
    }
}

/// What one endpoint or version did over a window, as counts (rate × window from Prometheus,
/// counter deltas from a scrape), so a test can weigh how much evidence there is. Fractional
/// counts are allowed (rates are); nil is "could not be read", never 0.
public struct WindowCounts: Codable, Sendable, Equatable {
    /// The window's length in seconds.
    public var seconds: Double
    public var requests: Double?
    /// 5xx answers.
    public var errors: Double?
    /// Cumulative latency buckets, `le` in milliseconds, ascending (the last may be +Inf).
    public var latencyBuckets: [Bucket]?

    public init(seconds: Double, requests: Double? = nil, errors: Double? = nil, latencyBuckets: [Bucket]? = nil) {
        self.seconds = seconds; self.requests = requests; self.errors = errors; self.latencyBuckets = latencyBuckets
    }
}

/// One endpoint's bad-event ratios over the burn-rate windows (keyed by window length in seconds):
/// `errors` = 5xx ÷ requests, `slow` = requests slower than the SLO's latencyMs ÷ requests. A
/// window the source could not read is absent; `partial` lists windows longer than the history the
/// source holds (a scrape source knows only what it has seen since the console started).
public struct BadRatios: Codable, Sendable, Equatable {
    public var errors: [Int: Double]
    public var slow: [Int: Double]
    public var partial: [Int]
    public init(errors: [Int: Double] = [:], slow: [Int: Double] = [:], partial: [Int] = []) {
        self.errors = errors; self.slow = slow; self.partial = partial
    }
}

/// One histogram bucket: the cumulative count (or rate) of observations ≤ `le`.
public struct Bucket: Sendable, Equatable, Codable {
    public var le: Double
    public var count: Double
    public init(le: Double, count: Double) { self.le = le; self.count = count }
}

public enum SpanStatus: String, Codable, Sendable, Equatable {
    case unset, ok, error
}

/// A span as every trace source is decoded into. IDs are lower-case hex (trace 32 digits, span
/// 16), whatever the wire used (hex or base64). Times are microseconds since the epoch, the
/// finest unit any of the sources uses.
public struct Span: Codable, Sendable, Equatable {
    public var traceID: String
    public var spanID: String
    public var parentID: String?
    public var service: String
    public var name: String
    public var startMicros: Int64
    public var durationMicros: Int64
    public var status: SpanStatus
    public var attributes: [String: String]

    public init(traceID: String, spanID: String, parentID: String?, service: String, name: String, startMicros: Int64,
                durationMicros: Int64, status: SpanStatus, attributes: [String: String] = [:]) {
        self.traceID = traceID; self.spanID = spanID; self.parentID = parentID; self.service = service; self.name = name
        self.startMicros = startMicros; self.durationMicros = durationMicros; self.status = status; self.attributes = attributes
    }
}

public struct Trace: Codable, Sendable, Equatable {
    public var traceID: String
    public var spans: [Span]
    public init(traceID: String, spans: [Span]) { self.traceID = traceID; self.spans = spans }
}

/// A line of a trace search result.
public struct TraceSummary: Codable, Sendable, Equatable {
    public var traceID: String
    public var rootService: String
    public var rootName: String
    public var startMicros: Int64
    public var durationMicros: Int64
    public var spanCount: Int?
    public var errorCount: Int?
    /// The model version that served the request, when the trace says (TowerTraces' `TraceVersion`).
    public var version: String?
    public init(traceID: String, rootService: String, rootName: String, startMicros: Int64, durationMicros: Int64, spanCount: Int? = nil,
                errorCount: Int? = nil, version: String? = nil) {
        self.traceID = traceID; self.rootService = rootService; self.rootName = rootName; self.startMicros = startMicros
        self.durationMicros = durationMicros; self.spanCount = spanCount; self.errorCount = errorCount; self.version = version
    }

    enum CodingKeys: String, CodingKey { case traceID, rootService, rootName, startMicros, durationMicros, spanCount, errorCount, version }

    /// `version` is always written, null when unknown, so a reader of `tower traces --output json`
    /// can tell "not known" from "not asked".
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(traceID, forKey: .traceID)
        try c.encode(rootService, forKey: .rootService)
        try c.encode(rootName, forKey: .rootName)
        try c.encode(startMicros, forKey: .startMicros)
        try c.encode(durationMicros, forKey: .durationMicros)
        try c.encodeIfPresent(spanCount, forKey: .spanCount)
        try c.encodeIfPresent(errorCount, forKey: .errorCount)
        try c.encode(version, forKey: .version)
    }
}

/// How figures are keyed: `EndpointVersionKey`'s description. Only TowerConsole's `Figures.key`
/// still calls this spelling (its room is being reworked in parallel); new code uses the key type.
public enum FigureKey {
    public static func make(_ endpoint: String, _ version: String? = nil) -> String {
        EndpointVersionKey(endpoint, version).description
    }
}
