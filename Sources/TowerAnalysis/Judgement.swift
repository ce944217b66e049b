/// A canary against its baseline over one window, with the evidence behind the verdict; the shape
/// of `judgement` in `tower status --output json`. A figure that could not be computed is encoded
/// as `null`, never left out and never 0.
public struct Judgement: Codable, Sendable, Equatable {
    public var baseline: String
    public var verdict: Verdict
    public var confidence: Double
    public var latency: LatencyJudgement
    public var errors: ErrorJudgement

    public init(baseline: String, verdict: Verdict, confidence: Double, latency: LatencyJudgement, errors: ErrorJudgement) {
        self.baseline = baseline; self.verdict = verdict; self.confidence = confidence
        self.latency = latency; self.errors = errors
    }
}

public struct LatencyJudgement: Codable, Sendable, Equatable {
    public var verdict: Verdict
    /// Two-sided Mann-Whitney p-value.
    public var pValue: Double?
    /// Requests behind the test: [canary, baseline].
    public var samples: [UInt64]?
    /// Hodges-Lehmann shift canary − baseline, ms, and its interval at the confidence level.
    public var shiftMs: Double?
    public var intervalMs: [Double]?
    /// The baseline's median (p50 as `histogram_quantile` gives it) the relative figures and the
    /// tolerance are taken against.
    public var baselineMedianMs: Double?
    /// shiftMs and intervalMs ÷ baselineMedianMs (0.38 is +38 %).
    public var shiftRelative: Double?
    public var intervalRelative: [Double]?
    /// When inconclusive: requests still needed on [canary, baseline] to reach minSamples.
    public var samplesNeeded: [UInt64]?
    /// Why there is no verdict, when there is none (`no-data`).
    public var reason: String?

    public init(verdict: Verdict, pValue: Double? = nil, samples: [UInt64]? = nil, shiftMs: Double? = nil, intervalMs: [Double]? = nil,
                baselineMedianMs: Double? = nil, shiftRelative: Double? = nil, intervalRelative: [Double]? = nil,
                samplesNeeded: [UInt64]? = nil, reason: String? = nil) {
        self.verdict = verdict; self.pValue = pValue; self.samples = samples; self.shiftMs = shiftMs; self.intervalMs = intervalMs
        self.baselineMedianMs = baselineMedianMs; self.shiftRelative = shiftRelative; self.intervalRelative = intervalRelative
        self.samplesNeeded = samplesNeeded; self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case verdict, pValue, samples, shiftMs, intervalMs, baselineMedianMs, shiftRelative, intervalRelative, samplesNeeded, reason
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(pValue, forKey: .pValue)
        try c.encode(samples, forKey: .samples)
        try c.encode(shiftMs, forKey: .shiftMs)
        try c.encode(intervalMs, forKey: .intervalMs)
        try c.encode(baselineMedianMs, forKey: .baselineMedianMs)
        try c.encode(shiftRelative, forKey: .shiftRelative)
        try c.encode(intervalRelative, forKey: .intervalRelative)
        try c.encode(samplesNeeded, forKey: .samplesNeeded)
        try c.encode(reason, forKey: .reason)
    }
}

public struct ErrorJudgement: Codable, Sendable, Equatable {
    public var verdict: Verdict
    /// One-sided p-value that the canary fails more often.
    public var pValue: Double?
    /// Requests behind the test: [canary, baseline].
    public var samples: [UInt64]?
    /// Error ratios [canary, baseline].
    public var ratios: [Double]?
    /// Interval for canary − baseline error ratio at the confidence level.
    public var interval: [Double]?
    /// `fisher` or `z`: which test gave the p-value.
    public var test: ErrorComparison.Test?
    public var samplesNeeded: [UInt64]?
    public var reason: String?

    public init(verdict: Verdict, pValue: Double? = nil, samples: [UInt64]? = nil, ratios: [Double]? = nil, interval: [Double]? = nil,
                test: ErrorComparison.Test? = nil, samplesNeeded: [UInt64]? = nil, reason: String? = nil) {
        self.verdict = verdict; self.pValue = pValue; self.samples = samples; self.ratios = ratios; self.interval = interval
        self.test = test; self.samplesNeeded = samplesNeeded; self.reason = reason
    }

    enum CodingKeys: String, CodingKey { case verdict, pValue, samples, ratios, interval, test, samplesNeeded, reason }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(pValue, forKey: .pValue)
        try c.encode(samples, forKey: .samples)
        try c.encode(ratios, forKey: .ratios)
        try c.encode(interval, forKey: .interval)
        try c.encode(test, forKey: .test)
        try c.encode(samplesNeeded, forKey: .samplesNeeded)
        try c.encode(reason, forKey: .reason)
    }
}
