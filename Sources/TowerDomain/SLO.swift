import Foundation

/// An endpoint's service-level objectives, part of its spec (`slo:` in the seed YAML and in
/// `PUT /v1/endpoints/{name}`): changed only by admins, audited, and never touched by routing
/// changes. Burn rates are computed from it elsewhere (TowerAnalysis); this type only declares and
/// checks it.
///
/// Two objectives, either or both: `availability` (the share of requests that must succeed) and a
/// latency objective (`latencyTarget` of requests faster than `latencyMs`), both over `period`.
public struct SLO: Codable, Sendable, Equatable, Hashable {
    /// Share of requests that must not fail, in (0, 1): 0.999 is "three nines".
    public var availability: Double?
    /// The latency threshold in milliseconds; a request slower than this is a bad event.
    public var latencyMs: Double?
    /// Share of requests that must be faster than `latencyMs`, in (0, 1).
    public var latencyTarget: Double?
    /// The compliance period over which the error budget is counted: `30d`, `12h`. Nil means
    /// `defaultPeriod`.
    public var period: String?

    /// The SRE workbook's usual budget period.
    public static let defaultPeriod = "30d"
    static let minPeriodSeconds = 3_600
    static let maxPeriodSeconds = 90 * 86_400

    public init(availability: Double? = nil, latencyMs: Double? = nil, latencyTarget: Double? = nil, period: String? = nil) {
        self.availability = availability; self.latencyMs = latencyMs; self.latencyTarget = latencyTarget; self.period = period
    }

    /// The period in seconds (`defaultPeriod` when none is declared). A validated SLO's period
    /// always parses; an unparseable one counts as the default rather than trapping a reader.
    public var periodSeconds: Int {
        Self.seconds(ofPeriod: period ?? Self.defaultPeriod) ?? 30 * 86_400
    }

    /// `Nd` or `Nh` (N a whole number without leading zeros) in seconds; nil for anything else.
    public static func seconds(ofPeriod text: String) -> Int? {
        guard let unit = text.last, unit == "d" || unit == "h" else { return nil }
        let digits = text.dropLast()
        guard let first = digits.first, first != "0", digits.count <= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let n = Int(digits) else { return nil }
        return n * (unit == "d" ? 86_400 : 3_600)
    }

    /// What is wrong with this SLO, in a sentence naming the field, or nil when it is valid.
    public var problem: String? {
        if availability == nil && latencyMs == nil && latencyTarget == nil {
            return "slo needs at least one objective: availability (like 0.999), or latencyMs with latencyTarget (like 300 and 0.99)"
        }
        if let a = availability, !(a > 0 && a < 1) {
            return "slo.availability is \(Self.number(a)); it must be a share between 0 and 1, exclusive, like 0.999"
        }
        if let t = latencyTarget, !(t > 0 && t < 1) {
            return "slo.latencyTarget is \(Self.number(t)); it must be a share between 0 and 1, exclusive, like 0.99"
        }
        if let ms = latencyMs, !(ms > 0 && ms.isFinite) {
            return "slo.latencyMs is \(Self.number(ms)); it must be a number of milliseconds greater than 0, like 300"
        }
        // A threshold without a target (or the reverse) is not an objective anyone can meet or miss.
        if latencyMs != nil && latencyTarget == nil {
            return "slo.latencyMs needs slo.latencyTarget: the share of requests that must be faster than \(Self.number(latencyMs!)) ms, like 0.99"
        }
        if latencyTarget != nil && latencyMs == nil {
            return "slo.latencyTarget needs slo.latencyMs: the threshold in milliseconds the requests must be faster than, like 300"
        }
        if let p = period {
            guard let s = Self.seconds(ofPeriod: p) else {
                return "slo.period '\(Names.printable(p, limit: 40))' must be a whole number of days or hours, like 30d or 12h"
            }
            if s < Self.minPeriodSeconds || s > Self.maxPeriodSeconds {
                return "slo.period is \(p); it must be from 1h to 90d"
            }
        }
        return nil
    }

    /// The SLO in the spec's own YAML flow notation with only the declared fields, e.g.
    /// `{availability: 0.999, latencyMs: 300, latencyTarget: 0.99, period: 30d}`. This is what the
    /// audit records, as a string: its bytes depend only on the values (shortest round-trip
    /// decimals, integral values without a fraction), so the hashed form is reproducible anywhere.
    public var notation: String {
        var parts: [String] = []
        if let a = availability { parts.append("availability: \(Self.number(a))") }
        if let m = latencyMs { parts.append("latencyMs: \(Self.number(m))") }
        if let t = latencyTarget { parts.append("latencyTarget: \(Self.number(t))") }
        if let p = period { parts.append("period: \(p)") }
        return "{" + parts.joined(separator: ", ") + "}"
    }

    public static func number(_ x: Double) -> String {
        if x.isFinite && x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
        return x.description
    }
}
