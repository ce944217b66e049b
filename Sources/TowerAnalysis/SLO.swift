/// An endpoint's service-level objectives (`slo: {availability: 0.999, latencyMs: 300,
/// latencyTarget: 0.99, period: 30d}`). Kept here until the endpoint spec carries it.
public struct SLO: Codable, Sendable, Equatable {
    /// Share of requests that must succeed (0.999).
    public var availability: Double
    /// A request slower than this is a bad event for the latency objective (optional).
    public var latencyMs: Double?
    /// Share of requests that must be at or under latencyMs (0.99).
    public var latencyTarget: Double?
    /// The budget's period, written as Prometheus durations are: `30d`, `4w`, `720h`.
    public var period: SLOPeriod

    public init(availability: Double, latencyMs: Double? = nil, latencyTarget: Double? = nil, period: SLOPeriod = .days30) {
        self.availability = availability; self.latencyMs = latencyMs; self.latencyTarget = latencyTarget; self.period = period
    }

    /// What is wrong with it, or nil: objectives must lie strictly between 0 and 1 (a budget of 0
    /// would make every burn rate infinite), latencyMs and latencyTarget come together.
    public var problem: String? {
        if !(availability > 0 && availability < 1) { return "availability must be between 0 and 1 (exclusive), not \(availability)" }
        if (latencyMs == nil) != (latencyTarget == nil) { return "latencyMs and latencyTarget go together" }
        if let ms = latencyMs, !(ms > 0 && ms.isFinite) { return "latencyMs must be a positive number, not \(ms)" }
        if let t = latencyTarget, !(t > 0 && t < 1) { return "latencyTarget must be between 0 and 1 (exclusive), not \(t)" }
        return nil
    }
}

/// A period like `30d`: a whole number and one of s, m, h, d, w.
public struct SLOPeriod: Codable, Sendable, Equatable, CustomStringConvertible {
    public let seconds: Int
    public let text: String

    public static let days30 = SLOPeriod("30d")!

    public init?(_ text: String) {
        guard let unit = text.last, let n = Int(text.dropLast()), n > 0 else { return nil }
        let scale: Int
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86_400
        case "w": scale = 604_800
        default: return nil
        }
        guard n <= Int.max / scale else { return nil }
        seconds = n * scale
        self.text = text
    }

    public var description: String { text }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let p = SLOPeriod(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "period must be a whole number and s, m, h, d or w (30d), not '\(s)'")
        }
        self = p
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }
}
