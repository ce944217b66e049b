import Foundation
import TerminalUI
import TowerAnalysis
import TowerDomain
@testable import TowerConsole

/// Window counts as a source would give them, built from requests per latency bucket.
enum JF {
    static let bounds: [Double] = [25, 50, 100, 250, 500, 1000, 2500, .infinity]

    /// `shares` of `requests` per bucket of `bounds` (the rest, if any, in the first bucket).
    static func window(requests: Double, errors: Double, shares: [Double], seconds: Double = 60) -> WindowCounts {
        var cumulative: [Bucket] = []
        var total = 0.0
        for (i, le) in bounds.enumerated() {
            total += (i < shares.count ? shares[i] : 0) * requests
            cumulative.append(Bucket(le: le, count: le.isInfinite ? requests : min(requests, total.rounded())))
        }
        return WindowCounts(seconds: seconds, requests: requests, errors: errors, latencyBuckets: cumulative)
    }

    /// Mostly under 100 ms.
    static let healthy: [Double] = [0.30, 0.35, 0.20, 0.10, 0.04, 0.008, 0.002, 0]
    /// The same requests two buckets slower.
    static let slow: [Double] = [0.02, 0.03, 0.10, 0.25, 0.30, 0.20, 0.08, 0.02]

    static func figures(_ f: Figures, _ w: WindowCounts) -> Figures {
        var f = f
        f.window = w
        return f
    }

    /// The live fixture with window counts: alpha's v2 (318 requests, 20 % errors, slower) fails
    /// against v1; doc-embed's v8 passes; alpha has an SLO.
    static func judged(width: Int = 80, height: Int = 24) -> ConsoleState {
        var s = TelemetryViewTests.live(width: width, height: height)
        var fleet = CF.fleet
        fleet[0].slo = SLO(availability: 0.999, latencyMs: 300, latencyTarget: 0.99)
        fleet[1].slo = SLO(availability: 0.99)
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: fleet, auditSeq: 40), at: CF.now.addingTimeInterval(-1)))
        let at = CF.now.addingTimeInterval(-1)
        let t = s.telemetry.figures
        _ = update(&s, .figuresLoaded(source: "prometheus", [
            "alpha/v1": figures(t["alpha/v1"]!, window(requests: 2826, errors: 3, shares: healthy)),
            "alpha/v2": figures(t["alpha/v2"]!, window(requests: 318, errors: 64, shares: slow)),
            "doc-embed/v7": Figures(rps: 98, errorRatio: 0, p50Ms: 12, p95Ms: 30, p99Ms: 48, samples: 5880, readAt: at,
                                    window: window(requests: 5880, errors: 0, shares: healthy)),
            "doc-embed/v8": Figures(rps: 42, errorRatio: 0, p50Ms: 12, p95Ms: 31, p99Ms: 49, samples: 2520, readAt: at,
                                    window: window(requests: 2520, errors: 0, shares: healthy)),
        ], at: at))
        s.now = CF.now
        return s
    }

    /// Availability burning at `fast` over 1h and 5m (page above 14.4), slow elsewhere.
    static func reading(_ slo: SLO, errorBurn fast: Double, slowBurn: Double = 0.2) -> SLOReading {
        let budget = 1 - (slo.availability ?? 0.999)
        var errors: [Int: Double] = [:]
        for w in BurnWindow.allCases { errors[w.seconds] = budget * ([.m5, .h1].contains(w) ? fast : slowBurn) }
        errors[slo.periodSeconds] = budget * 0.17
        var slow: [Int: Double] = [:]
        for w in BurnWindow.allCases { slow[w.seconds] = 0.01 * 0.3 }
        slow[slo.periodSeconds] = 0.01 * 0.1
        return SLOReading.from(slo, BadRatios(errors: errors, slow: slow), at: CF.now)
    }
}
