import Foundation

/// The hypergeometric upper tail for Fisher's exact test, stable for large counts: Catherine
/// Loader's saddle-point form of the binomial density ("Fast and accurate computation of binomial
/// probabilities", 2000) as R's `dhyper`/`phyper` use it. Plain log-gamma differences lose about
/// 1e-9 relative at a million requests, which is the tolerance we promise against SciPy.
enum Hypergeometric {
    /// P(X ≥ x) for X the white balls among `drawn` balls taken from `white` white and `black`
    /// black ones (SciPy's `hypergeom.sf(x − 1, white + black, white, drawn)`).
    static func upperTail(atLeast x: Double, white: Double, black: Double, drawn: Double) -> Double {
        // phyper(x − 1, …, lower_tail = false), summing whichever tail is the smaller one.
        var q = x - 1
        var nr = white, nb = black
        var lower = false
        if q * (nr + nb) > drawn * nr {
            swap(&nr, &nb)
            q = drawn - q - 1
            lower = true
        }
        if q < 0 || q < drawn - nb { return lower ? 0 : 1 }
        if q >= nr || q >= drawn { return lower ? 1 : 0 }
        let d = density(q, white: nr, black: nb, drawn: drawn)
        let pd = tailRatio(q, white: nr, black: nb, drawn: drawn)
        return lower ? d * pd : max(0, 1 - d * pd)
    }

    /// Σ_{i ≤ x} P(i) / P(x), by the ratio of neighbouring terms, until they stop mattering.
    private static func tailRatio(_ x0: Double, white nr: Double, black nb: Double, drawn n: Double) -> Double {
        var sum = 0.0, term = 1.0, x = x0
        while x > 0 && term >= Double.ulpOfOne * sum {
            // One division rather than two: the loop runs up to a few hundred times per table.
            term *= x * (nb - n + x) / ((n + 1 - x) * (nr + 1 - x))
            sum += term
            x -= 1
        }
        return 1 + sum
    }

    /// P(X = x), R's `dhyper`.
    static func density(_ x: Double, white r: Double, black b: Double, drawn n: Double) -> Double {
        if x < 0 || n < x || r < x || n - x > b { return 0 }
        if n == 0 { return x == 0 ? 1 : 0 }
        let p = n / (r + b), q = (r + b - n) / (r + b)
        return exp(logBinomialRaw(x, r, p, q) + logBinomialRaw(n - x, b, p, q) - logBinomialRaw(n, r + b, p, q))
    }

    /// log of R's `dbinom_raw(x, n, p, q)`.
    static func logBinomialRaw(_ x: Double, _ n: Double, _ p: Double, _ q: Double) -> Double {
        if p == 0 { return x == 0 ? 0 : -.infinity }
        if q == 0 { return x == n ? 0 : -.infinity }
        if x == 0 {
            if n == 0 { return 0 }
            return p < 0.1 ? -deviance(n, n * q) - n * p : n * log(q)
        }
        if x == n {
            return q < 0.1 ? -deviance(n, n * p) - n * q : n * log(p)
        }
        if x < 0 || x > n { return -.infinity }
        let lc = stirlingError(n) - stirlingError(x) - stirlingError(n - x) - deviance(x, n * p) - deviance(n - x, n * q)
        let lf = 1.8378770664093453 + log(x) + log1p(-x / n)  // log(2π) + log(x(n − x)/n)
        return lc - 0.5 * lf
    }

    /// log(n!) − log(√(2πn) (n/e)^n), Loader's `stirlerr`; the series is exact to double precision
    /// above 15, below it log-gamma is still precise enough.
    static func stirlingError(_ n: Double) -> Double {
        if n <= 15 {
            return lgamma(n + 1) - (n + 0.5) * log(n) + n - 0.9189385332046728
        }
        let s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680, s4 = 1.0 / 1188
        let nn = n * n
        if n > 500 { return (s0 - s1 / nn) / n }
        if n > 80 { return (s0 - (s1 - s2 / nn) / nn) / n }
        if n > 35 { return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n }
        return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n
    }

    /// x·log(x/np) + np − x without cancellation near x = np (Loader's `bd0`).
    static func deviance(_ x: Double, _ np: Double) -> Double {
        if abs(x - np) < 0.1 * (x + np) {
            var v = (x - np) / (x + np)
            var s = (x - np) * v
            var ej = 2 * x * v
            v *= v
            for j in 1..<1000 {
                ej *= v
                let s1 = s + ej / Double(2 * j + 1)
                if s1 == s { return s1 }
                s = s1
            }
        }
        return x * log(x / np) + np - x
    }
}
