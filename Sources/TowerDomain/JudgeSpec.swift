import Foundation

/// How strictly an endpoint's canaries are judged, part of its spec (`judge:` in the seed YAML and
/// in `PUT /v1/endpoints/{name}`): set only by admins, audited, kept by routing changes, like `slo`.
/// Every field is optional; an absent one takes the default (TowerAnalysis's `JudgePolicy`).
public struct JudgeSpec: Codable, Sendable, Equatable, Hashable {
    /// Latency fails only when its shift's interval lies above this × the baseline's median (and the
    /// tail's above this × the baseline's p95): 0.25 is 25 %.
    public var latencyTolerance: Double?
    /// Errors fail only when the interval of (canary − baseline) error ratio lies above this many
    /// percentage points: 0.1 is 0.1 point (a ratio of 0.001).
    public var errorTolerancePoints: Double?
    /// Fewer requests than this on either side is `inconclusive`.
    public var minSamples: Int?
    /// The confidence level of the tests and intervals, like 0.98.
    public var confidence: Double?

    public init(latencyTolerance: Double? = nil, errorTolerancePoints: Double? = nil, minSamples: Int? = nil, confidence: Double? = nil) {
        self.latencyTolerance = latencyTolerance; self.errorTolerancePoints = errorTolerancePoints
        self.minSamples = minSamples; self.confidence = confidence
    }

    enum CodingKeys: String, CodingKey { case latencyTolerance, errorTolerancePoints, minSamples, confidence }

    /// minSamples is read as a number and then checked to be whole, so that 12.5 is refused with
    /// the field's name rather than as JSON that is "not valid".
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        latencyTolerance = try c.decodeIfPresent(Double.self, forKey: .latencyTolerance)
        errorTolerancePoints = try c.decodeIfPresent(Double.self, forKey: .errorTolerancePoints)
        confidence = try c.decodeIfPresent(Double.self, forKey: .confidence)
        if let m = try c.decodeIfPresent(Double.self, forKey: .minSamples) {
            guard m == m.rounded(), abs(m) <= Double(Self.maxMinSamples) * 10 else {
                throw DecodingError.dataCorruptedError(forKey: .minSamples, in: c,
                                                       debugDescription: "\(SLO.number(m)) is not a whole number of requests")
            }
            minSamples = Int(m)
        }
    }

    /// Bounds that keep a judgement meaningful: a tolerance of 10 × the median or 100 points
    /// could never fail anything; a confidence below 0.5 would fail healthy canaries at will.
    static let maxLatencyTolerance = 10.0
    static let maxMinSamples = 1_000_000

    /// What is wrong with these settings, in a sentence naming the field, or nil when valid.
    public var problem: String? {
        if latencyTolerance == nil && errorTolerancePoints == nil && minSamples == nil && confidence == nil {
            return "judge needs at least one setting: latencyTolerance (like 0.25), errorTolerancePoints (like 0.1), minSamples (like 50) or confidence (like 0.98)"
        }
        if let t = latencyTolerance, !(t >= 0 && t <= Self.maxLatencyTolerance) {
            return "judge.latencyTolerance is \(SLO.number(t)); it must be a share of the baseline's median from 0 to 10, like 0.25"
        }
        if let e = errorTolerancePoints, !(e >= 0 && e < 100) {
            return "judge.errorTolerancePoints is \(SLO.number(e)); it must be percentage points from 0 to below 100, like 0.1"
        }
        if let m = minSamples, !(m >= 1 && m <= Self.maxMinSamples) {
            return "judge.minSamples is \(m); it must be a whole number of requests from 1 to 1000000, like 50"
        }
        if let c = confidence, !(c >= 0.5 && c < 1) {
            return "judge.confidence is \(SLO.number(c)); it must be from 0.5 to below 1, like 0.98"
        }
        return nil
    }

    /// The settings in the spec's YAML flow notation with only the declared fields, e.g.
    /// `{latencyTolerance: 0.25, minSamples: 50}`: what the audit records (see `SLO.notation`).
    public var notation: String {
        var parts: [String] = []
        if let t = latencyTolerance { parts.append("latencyTolerance: \(SLO.number(t))") }
        if let e = errorTolerancePoints { parts.append("errorTolerancePoints: \(SLO.number(e))") }
        if let m = minSamples { parts.append("minSamples: \(m)") }
        if let c = confidence { parts.append("confidence: \(SLO.number(c))") }
        return "{" + parts.joined(separator: ", ") + "}"
    }
}
