import Foundation

/// Latency as a log-normal distribution fitted to a median and a 99th percentile: the shape real
/// model-serving latencies have (a floor of work, a long right tail).
public struct LatencyModel: Sendable, Equatable {
    public let mu: Double
    public let sigma: Double

    /// z for the 99th percentile of the standard normal.
    static let z99 = 2.3263478740408408

    public init(p50Ms: Double, p99Ms: Double) {
        mu = log(max(p50Ms, 0.001))
        sigma = max(0, (log(max(p99Ms, p50Ms)) - mu) / Self.z99)
    }

    /// One latency in milliseconds.
    public func sample<G: RandomNumberGenerator>(using rng: inout G) -> Double {
        exp(mu + sigma * Self.standardNormal(using: &rng))
    }

    /// The exact quantile of the model, for tests.
    public func quantile(_ q: Double) -> Double { exp(mu + sigma * Self.inverseNormal(q)) }

    static func standardNormal<G: RandomNumberGenerator>(using rng: inout G) -> Double {
        // Box–Muller; u1 is kept away from 0 so log never sees it.
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &rng)
        let u2 = Double.random(in: 0..<1, using: &rng)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// Acklam's rational approximation of the inverse normal CDF (relative error < 1.2e-9).
    static func inverseNormal(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - low {
            let q = (-2 * log(1 - p)).squareRoot()
            return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let q = p - 0.5, r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}
