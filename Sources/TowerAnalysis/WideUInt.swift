/// A 128-bit unsigned accumulator, enough for exact sums of products of two counts ≤ 2^53 over a
/// histogram's buckets. The standard library's UInt128 needs macOS 15; the package supports 14.
struct WideUInt: Equatable, Comparable {
    var high: UInt64 = 0
    var low: UInt64 = 0

    init(high: UInt64 = 0, low: UInt64 = 0) { self.high = high; self.low = low }
    init(_ v: UInt64) { low = v }

    static func product(_ a: UInt64, _ b: UInt64) -> WideUInt {
        let p = a.multipliedFullWidth(by: b)
        return WideUInt(high: p.high, low: p.low)
    }

    /// Wraps past 2^128, which products of counts ≤ 2^53 over ≤ 2^20 buckets cannot reach.
    static func + (a: WideUInt, b: WideUInt) -> WideUInt {
        let (l, carry) = a.low.addingReportingOverflow(b.low)
        return WideUInt(high: a.high &+ b.high &+ (carry ? 1 : 0), low: l)
    }

    /// a − b for a ≥ b.
    static func - (a: WideUInt, b: WideUInt) -> WideUInt {
        let (l, borrow) = a.low.subtractingReportingOverflow(b.low)
        return WideUInt(high: a.high &- b.high &- (borrow ? 1 : 0), low: l)
    }

    static func < (a: WideUInt, b: WideUInt) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }

    /// The nearest Double, to within an ulp or two (two roundings).
    var double: Double {
        Double(high) * 18_446_744_073_709_551_616.0 + Double(low)
    }
}
