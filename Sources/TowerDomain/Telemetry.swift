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

    public init(rps: Double? = nil, errorRatio: Double? = nil, p50Ms: Double? = nil, p95Ms: Double? = nil, p99Ms: Double? = nil,
                samples: Double? = nil, readAt: Date) {
        self.rps = rps; self.errorRatio = errorRatio; self.p50Ms = p50Ms; self.p95Ms = p95Ms; self.p99Ms = p99Ms
        self.samples = samples; self.readAt = readAt
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
    public init(traceID: String, rootService: String, rootName: String, startMicros: Int64, durationMicros: Int64, spanCount: Int? = nil, errorCount: Int? = nil) {
        self.traceID = traceID; self.rootService = rootService; self.rootName = rootName; self.startMicros = startMicros
        self.durationMicros = durationMicros; self.spanCount = spanCount; self.errorCount = errorCount
    }
}

/// How figures are keyed: `EndpointVersionKey`'s description. Only TowerConsole's `Figures.key`
/// still calls this spelling (its room is being reworked in parallel); new code uses the key type.
public enum FigureKey {
    public static func make(_ endpoint: String, _ version: String? = nil) -> String {
        EndpointVersionKey(endpoint, version).description
    }
}
