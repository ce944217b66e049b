import Foundation

/// The standard normal distribution's tail and quantile, as the tests and intervals need them.
enum Normal {
    /// P(Z > z), what `scipy.stats.norm.sf` gives. erfc keeps its relative accuracy in the upper
    /// tail, where a p-value is small and matters.
    static func sf(_ z: Double) -> Double {
        if z.isNaN { return .nan }
        return 0.5 * erfc(z * 0.7071067811865476)
    }

    static func pdf(_ z: Double) -> Double {
        0.3989422804014327 * exp(-0.5 * z * z)
    }

    /// The z with P(Z ≤ z) = p, for 0 < p < 1: Abramowitz & Stegun 26.2.23 as a start (error
    /// < 4.5e-4), then Newton steps on `sf`, which reach full double precision in three or four.
    static func quantile(_ p: Double) -> Double {
        if !(p > 0 && p < 1) { return p == 0 ? -.infinity : (p == 1 ? .infinity : .nan) }
        let tail = min(p, 1 - p)
        let t = (-2 * log(tail)).squareRoot()
        var z = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t)
        // z is now the upper-tail quantile of `tail`; refine on sf(z) = tail.
        for _ in 0..<6 {
            let step = (sf(z) - tail) / pdf(z)
            z += step
            if abs(step) <= 1e-15 * max(1, abs(z)) { break }
        }
        return p < 0.5 ? -z : z
    }
}
