import TowerDomain

/// The windows burn rates are read over (the SRE workbook's multi-window, multi-burn-rate alerts).
public enum BurnWindow: String, Codable, Sendable, CaseIterable, Comparable {
    case m5 = "5m", m30 = "30m", h1 = "1h", h2 = "2h", h6 = "6h", d1 = "1d", d3 = "3d"

    public var seconds: Int {
        switch self {
        case .m5: 300
        case .m30: 1800
        case .h1: 3600
        case .h2: 7200
        case .h6: 21_600
        case .d1: 86_400
        case .d3: 259_200
        }
    }

    public static func < (a: BurnWindow, b: BurnWindow) -> Bool { a.seconds < b.seconds }
}

public enum BurnAlert: String, Codable, Sendable, Comparable {
    case none, ticket, page

    private var rank: Int { self == .none ? 0 : (self == .ticket ? 1 : 2) }
    public static func < (a: BurnAlert, b: BurnAlert) -> Bool { a.rank < b.rank }
}

/// A long and a short window that must both burn faster than `threshold` (30-day thresholds).
public struct BurnPair: Sendable, Equatable {
    public let long: BurnWindow
    public let short: BurnWindow
    public let threshold: Double
    public let alert: BurnAlert

    /// In order from the fastest-alerting pair: the first that fires names the alert.
    public static let standard: [BurnPair] = [
        BurnPair(long: .h1, short: .m5, threshold: 14.4, alert: .page),
        BurnPair(long: .h6, short: .m30, threshold: 6, alert: .page),
        BurnPair(long: .d1, short: .h2, threshold: 3, alert: .ticket),
        BurnPair(long: .d3, short: .h6, threshold: 1, alert: .ticket),
    ]
}

/// One objective's burn: rates per window (nil where the window could not be read), the alert,
/// and the budget left over the period.
public struct BurnReport: Codable, Sendable, Equatable {
    public var burnRates: [BurnWindow: Double]
    public var alert: BurnAlert
    /// The pair that raised the alert (nil for none), e.g. "1h/5m".
    public var firing: String?
    /// Pairs that could not be evaluated because a window is missing: the alert is computed only
    /// from the pairs that are present, so `none` with missing pairs means "none that we can see".
    public var missingPairs: [String]
    /// 1 − (bad ratio over the period) ÷ (1 − objective); negative once the budget is overspent.
    public var budgetRemaining: Double?

    /// `badRatios` per window (error ratio, or the share of requests slower than the threshold);
    /// NaN, infinite or negative ratios count as missing.
    public static func evaluate(badRatios: [BurnWindow: Double], periodBadRatio: Double?, objective: Double,
                                pairs: [BurnPair] = BurnPair.standard) -> BurnReport {
        let budget = 1 - objective
        var rates: [BurnWindow: Double] = [:]
        if budget > 0 && budget < 1 {
            for (w, r) in badRatios where r.isFinite && r >= 0 { rates[w] = r / budget }
        }
        var alert = BurnAlert.none
        var firing: String?
        var missing: [String] = []
        for p in pairs {
            guard let long = rates[p.long], let short = rates[p.short] else {
                missing.append("\(p.long.rawValue)/\(p.short.rawValue)")
                continue
            }
            if long > p.threshold && short > p.threshold && p.alert > alert {
                alert = p.alert
                firing = "\(p.long.rawValue)/\(p.short.rawValue)"
            }
        }
        var remaining: Double?
        if let r = periodBadRatio, r.isFinite, r >= 0, budget > 0 && budget < 1 { remaining = 1 - r / budget }
        return BurnReport(burnRates: rates, alert: alert, firing: firing, missingPairs: missing, budgetRemaining: remaining)
    }

    enum CodingKeys: String, CodingKey { case burnRates, alert, firing, missingPairs, budgetRemaining }

    /// Every window appears in `burnRates`, `null` where it could not be read.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        var rc = c.nestedContainer(keyedBy: WindowKey.self, forKey: .burnRates)
        for w in BurnWindow.allCases { try rc.encode(burnRates[w], forKey: WindowKey(stringValue: w.rawValue)) }
        try c.encode(alert, forKey: .alert)
        try c.encode(firing, forKey: .firing)
        try c.encode(missingPairs, forKey: .missingPairs)
        try c.encode(budgetRemaining, forKey: .budgetRemaining)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let rc = try c.nestedContainer(keyedBy: WindowKey.self, forKey: .burnRates)
        var rates: [BurnWindow: Double] = [:]
        for w in BurnWindow.allCases {
            if let v = try rc.decodeIfPresent(Double.self, forKey: WindowKey(stringValue: w.rawValue)) { rates[w] = v }
        }
        burnRates = rates
        alert = try c.decode(BurnAlert.self, forKey: .alert)
        firing = try c.decodeIfPresent(String.self, forKey: .firing)
        missingPairs = try c.decodeIfPresent([String].self, forKey: .missingPairs) ?? []
        budgetRemaining = try c.decodeIfPresent(Double.self, forKey: .budgetRemaining)
    }

    public init(burnRates: [BurnWindow: Double], alert: BurnAlert, firing: String?, missingPairs: [String], budgetRemaining: Double?) {
        self.burnRates = burnRates; self.alert = alert; self.firing = firing
        self.missingPairs = missingPairs; self.budgetRemaining = budgetRemaining
    }

    struct WindowKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// An endpoint's SLO status, the `slo` object of `tower status --output json`: the availability
/// objective's burn at the top level, the latency objective's (when declared) under `latency`.
public struct SLOStatus: Codable, Sendable, Equatable {
    /// Nil when the SLO declares only a latency objective (then the top-level figures are empty).
    public var availability: Double?
    public var burnRates: [BurnWindow: Double]
    public var alert: BurnAlert
    public var firing: String?
    public var missingPairs: [String]
    public var budgetRemaining: Double?
    public var latency: BurnReport?

    /// `errorRatios` and `slowRatios` per window (slow = share of requests above slo.latencyMs),
    /// the period's ratios for the budget.
    public static func evaluate(_ slo: SLO, errorRatios: [BurnWindow: Double], periodErrorRatio: Double?,
                                slowRatios: [BurnWindow: Double] = [:], periodSlowRatio: Double? = nil) -> SLOStatus {
        let a = slo.availability.map { BurnReport.evaluate(badRatios: errorRatios, periodBadRatio: periodErrorRatio, objective: $0) }
        var l: BurnReport?
        if let t = slo.latencyTarget, slo.latencyMs != nil {
            l = BurnReport.evaluate(badRatios: slowRatios, periodBadRatio: periodSlowRatio, objective: t)
        }
        return SLOStatus(availability: slo.availability, burnRates: a?.burnRates ?? [:], alert: a?.alert ?? .none, firing: a?.firing,
                         missingPairs: a?.missingPairs ?? [], budgetRemaining: a?.budgetRemaining, latency: l)
    }

    /// The more urgent of the two objectives' alerts.
    public var overallAlert: BurnAlert { max(alert, latency?.alert ?? .none) }

    enum CodingKeys: String, CodingKey { case availability, burnRates, alert, firing, missingPairs, budgetRemaining, latency }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(availability, forKey: .availability)
        var rc = c.nestedContainer(keyedBy: BurnReport.WindowKey.self, forKey: .burnRates)
        for w in BurnWindow.allCases { try rc.encode(burnRates[w], forKey: BurnReport.WindowKey(stringValue: w.rawValue)) }
        try c.encode(alert, forKey: .alert)
        try c.encode(firing, forKey: .firing)
        try c.encode(missingPairs, forKey: .missingPairs)
        try c.encode(budgetRemaining, forKey: .budgetRemaining)
        try c.encode(latency, forKey: .latency)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        availability = try c.decodeIfPresent(Double.self, forKey: .availability)
        let rc = try c.nestedContainer(keyedBy: BurnReport.WindowKey.self, forKey: .burnRates)
        var rates: [BurnWindow: Double] = [:]
        for w in BurnWindow.allCases {
            if let v = try rc.decodeIfPresent(Double.self, forKey: BurnReport.WindowKey(stringValue: w.rawValue)) { rates[w] = v }
        }
        burnRates = rates
        alert = try c.decode(BurnAlert.self, forKey: .alert)
        firing = try c.decodeIfPresent(String.self, forKey: .firing)
        missingPairs = try c.decodeIfPresent([String].self, forKey: .missingPairs) ?? []
        budgetRemaining = try c.decodeIfPresent(Double.self, forKey: .budgetRemaining)
        latency = try c.decodeIfPresent(BurnReport.self, forKey: .latency)
    }

    public init(availability: Double?, burnRates: [BurnWindow: Double], alert: BurnAlert, firing: String?, missingPairs: [String],
                budgetRemaining: Double?, latency: BurnReport?) {
        self.availability = availability; self.burnRates = burnRates; self.alert = alert; self.firing = firing
        self.missingPairs = missingPairs; self.budgetRemaining = budgetRemaining; self.latency = latency
    }
}
