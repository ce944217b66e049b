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
    public var samples: Pair<UInt64>?
    /// Hodges-Lehmann shift canary − baseline, ms, and its interval at the confidence level.
    public var shiftMs: Double?
    public var intervalMs: Pair<Double>?
    /// The baseline's median (p50 as `histogram_quantile` gives it) the relative figures and the
    /// tolerance are taken against.
    public var baselineMedianMs: Double?
    /// shiftMs and intervalMs ÷ baselineMedianMs (0.38 is +38 %).
    public var shiftRelative: Double?
    public var intervalRelative: Pair<Double>?
    /// When inconclusive: requests still needed on [canary, baseline] to reach minSamples.
    public var samplesNeeded: Pair<UInt64>?
    /// Why there is no verdict, when there is none (`no-data`).
    public var reason: String?
    /// The tail test beside the rank test (`TailComparison`); nil when it could not be computed.
    /// The latency verdict is `fail` when either the rank test or this one fails.
    public var tail: TailJudgement?

    public init(verdict: Verdict, pValue: Double? = nil, samples: Pair<UInt64>? = nil, shiftMs: Double? = nil, intervalMs: Pair<Double>? = nil,
                baselineMedianMs: Double? = nil, shiftRelative: Double? = nil, intervalRelative: Pair<Double>? = nil,
                samplesNeeded: Pair<UInt64>? = nil, reason: String? = nil, tail: TailJudgement? = nil) {
        self.verdict = verdict; self.pValue = pValue; self.samples = samples; self.shiftMs = shiftMs; self.intervalMs = intervalMs
        self.baselineMedianMs = baselineMedianMs; self.shiftRelative = shiftRelative; self.intervalRelative = intervalRelative
        self.samplesNeeded = samplesNeeded; self.reason = reason; self.tail = tail
    }

    enum CodingKeys: String, CodingKey {
        case verdict, pValue, samples, shiftMs, intervalMs, baselineMedianMs, shiftRelative, intervalRelative, samplesNeeded, reason, tail
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
        try c.encode(tail, forKey: .tail)
    }
}

/// The latency tail test's evidence: the share of requests above the pooled p95's bucket bound,
/// and the p95 shift with its interval (`TailComparison`).
public struct TailJudgement: Codable, Sendable, Equatable {
    public var verdict: Verdict
    /// The quantile looked at (0.95).
    public var quantile: Double
    /// The bucket bound the shares are counted above, ms.
    public var thresholdMs: Double
    /// Requests above the threshold, [canary, baseline].
    public var above: Pair<UInt64>
    /// One-sided p-value that the canary's share above the threshold is the larger.
    public var pValue: Double
    public var test: ErrorComparison.Test
    /// Each side's p95, [canary, baseline], as `histogram_quantile` interpolates it.
    public var quantileMs: Pair<Double>?
    /// Interval of canary − baseline p95, ms; an end that cannot be bounded (a baseline p95 that
    /// may lie in +Inf) is null.
    public var intervalMs: Pair<Double?>?
    /// intervalMs ÷ the baseline's p95.
    public var intervalRelative: Pair<Double?>?

    public init(verdict: Verdict, quantile: Double, thresholdMs: Double, above: Pair<UInt64>, pValue: Double, test: ErrorComparison.Test,
                quantileMs: Pair<Double>? = nil, intervalMs: Pair<Double?>? = nil, intervalRelative: Pair<Double?>? = nil) {
        self.verdict = verdict; self.quantile = quantile; self.thresholdMs = thresholdMs; self.above = above
        self.pValue = pValue; self.test = test; self.quantileMs = quantileMs
        self.intervalMs = intervalMs; self.intervalRelative = intervalRelative
    }

    enum CodingKeys: String, CodingKey { case verdict, quantile, thresholdMs, above, pValue, test, quantileMs, intervalMs, intervalRelative }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(quantile, forKey: .quantile)
        try c.encode(thresholdMs, forKey: .thresholdMs)
        try c.encode(above, forKey: .above)
        try c.encode(pValue, forKey: .pValue)
        try c.encode(test, forKey: .test)
        try c.encode(quantileMs, forKey: .quantileMs)
        try c.encode(intervalMs, forKey: .intervalMs)
        try c.encode(intervalRelative, forKey: .intervalRelative)
    }
}

public struct ErrorJudgement: Codable, Sendable, Equatable {
    public var verdict: Verdict
    /// One-sided p-value that the canary fails more often.
    public var pValue: Double?
    /// Requests behind the test: [canary, baseline].
    public var samples: Pair<UInt64>?
    /// Error ratios [canary, baseline].
    public var ratios: Pair<Double>?
    /// Interval for canary − baseline error ratio at the confidence level.
    public var interval: Pair<Double>?
    /// `fisher` or `z`: which test gave the p-value.
    public var test: ErrorComparison.Test?
    public var samplesNeeded: Pair<UInt64>?
    public var reason: String?

    public init(verdict: Verdict, pValue: Double? = nil, samples: Pair<UInt64>? = nil, ratios: Pair<Double>? = nil, interval: Pair<Double>? = nil,
                test: ErrorComparison.Test? = nil, samplesNeeded: Pair<UInt64>? = nil, reason: String? = nil) {
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
