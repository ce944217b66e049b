import TowerDomain

/// How strict a judgement is; configurable per endpoint. Defaults: Kayenta's confidence (0.98),
/// the Spinnaker docs' 50 samples per side, and practical tolerances below which a real shift is
/// not worth an alarm.
public struct JudgePolicy: Codable, Sendable, Equatable {
    /// Confidence level of the tests and intervals: a test rejects when p < 1 − confidence.
    public var confidence: Double
    /// Fewer requests than this on either side gives `inconclusive`, whatever the test says.
    public var minSamples: Int
    /// Latency fails only when the shift interval lies wholly above this × the baseline's median.
    public var latencyTolerance: Double
    /// Errors fail only when the interval of (canary − baseline) error ratio lies wholly above this
    /// (an absolute ratio: 0.001 is 0.1 percentage point).
    public var errorTolerance: Double

    public init(confidence: Double = 0.98, minSamples: Int = 50, latencyTolerance: Double = 0.25, errorTolerance: Double = 0.001) {
        self.confidence = confidence; self.minSamples = minSamples
        self.latencyTolerance = latencyTolerance; self.errorTolerance = errorTolerance
    }

    public static let standard = JudgePolicy()

    /// An endpoint spec's `judge` settings over the defaults (a validated spec's values; see
    /// `JudgeSpec.problem`). Error tolerance is declared in percentage points there.
    public init(_ spec: JudgeSpec?) {
        let d = JudgePolicy.standard
        self.init(confidence: spec?.confidence ?? d.confidence, minSamples: spec?.minSamples ?? d.minSamples,
                  latencyTolerance: spec?.latencyTolerance ?? d.latencyTolerance,
                  errorTolerance: spec?.errorTolerancePoints.map { $0 / 100 } ?? d.errorTolerance)
    }

    /// The significance level the tests are compared with. A confidence outside (0, 1) is read as
    /// the default rather than trapping: a policy may come from a hand-edited spec.
    var alpha: Double {
        confidence > 0 && confidence < 1 ? 1 - confidence : 0.02
    }

    /// z(1 − α/2), for the two-sided intervals; the default's is computed once.
    var intervalZ: Double {
        confidence == 0.98 ? Self.z99 : Normal.quantile(1 - alpha / 2)
    }

    /// Latency is judged by two tests (rank and tail), each at half the significance level.
    var latencyAlpha: Double { alpha / 2 }

    /// The Hodges-Lehmann interval matching the rank test's level: z(1 − α/4).
    var latencyIntervalZ: Double {
        confidence == 0.98 ? Self.z995 : Normal.quantile(1 - alpha / 4)
    }

    /// The tail test's p95 intervals at its level, 1 − α/2: the same z as the rank test's.
    var tailIntervalZ: Double { latencyIntervalZ }

    private static let z99 = Normal.quantile(0.99)
    private static let z995 = Normal.quantile(0.995)
}
