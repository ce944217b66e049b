/// Relative agreement, as promised against SciPy (1e-9); equal values (0, 1, ±inf) agree exactly.
func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
    if a == b { return true }
    return abs(a - b) <= tolerance * max(abs(a), abs(b))
}
