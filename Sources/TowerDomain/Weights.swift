/// Whole-percent arithmetic for traffic splits. Shares are apportioned by the largest-remainder
/// method, ties going to the name that sorts first, so every client and the server agree on the
/// same split to the percent.
public enum Weights {
    /// Splits `amount` into whole shares proportional to `basis` (equal shares when the basis is all
    /// zero). The shares always add up to `amount`.
    public static func apportion(_ amount: Int, basis: [String: Int]) -> [String: Int] {
        guard !basis.isEmpty else { return [:] }
        let names = basis.keys.sorted()
        let total = basis.values.reduce(0, +)
        let b: [String: Int] = total > 0 ? basis : Dictionary(uniqueKeysWithValues: names.map { ($0, 1) })
        let bTotal = total > 0 ? total : names.count
        var shares: [String: Int] = [:]
        var given = 0
        var remainders: [(name: String, rem: Int)] = []
        for n in names {
            let exact = amount * b[n]!
            shares[n] = exact / bTotal
            given += exact / bTotal
            remainders.append((n, exact % bTotal))
        }
        remainders.sort { $0.rem != $1.rem ? $0.rem > $1.rem : $0.name < $1.name }
        for r in remainders.prefix(amount - given) { shares[r.name]! += 1 }
        return shares
    }

    /// `apportion(_:basis:)` for names in an array (distinct, as a spec's versions are): the
    /// shares in the same order. The same arithmetic and tie-break (largest remainder, then name),
    /// without building dictionaries: the overview's bar apportions every row it draws.
    public static func apportion(_ amount: Int, weights: [Int], names: [String]) -> [Int] {
        guard !weights.isEmpty, weights.count == names.count else { return [] }
        let total = weights.reduce(0, +)
        let bTotal = total > 0 ? total : weights.count
        var shares = [Int](repeating: 0, count: weights.count)
        var given = 0
        var remainders: [(index: Int, rem: Int)] = []
        remainders.reserveCapacity(weights.count)
        for i in weights.indices {
            let exact = amount * (total > 0 ? weights[i] : 1)
            shares[i] = exact / bTotal
            given += exact / bTotal
            remainders.append((i, exact % bTotal))
        }
        remainders.sort { $0.rem != $1.rem ? $0.rem > $1.rem : names[$0.index] < names[$1.index] }
        for r in remainders.prefix(max(0, amount - given)) { shares[r.index] += 1 }
        return shares
    }

    /// Shares `amount` out among `recipients` in proportion to their current weights (equally when
    /// they all have 0), returning each recipient's new weight.
    public static func distribute(_ amount: Int, among recipients: [String: Int]) -> [String: Int] {
        recipients.merging(apportion(amount, basis: recipients), uniquingKeysWith: +)
    }

    /// Takes up to `amount` away from `donors` in proportion to their weights, returning each donor's
    /// new weight (never below 0).
    public static func withdraw(_ amount: Int, from donors: [String: Int]) -> [String: Int] {
        let total = donors.values.reduce(0, +)
        return apportion(total - min(amount, total), basis: donors)
    }

    /// The split after moving `version` by `delta` points (`+`/`-` in the console): the points come
    /// from, or go to, the other serving versions in proportion to their weights.
    public static func step(_ weights: [String: Int], version: String, by delta: Int, serving: Set<String>) -> [String: Int] {
        guard let current = weights[version] else { return weights }
        let others = weights.filter { $0.key != version && serving.contains($0.key) }
        guard !others.isEmpty else { return weights }
        var result = weights
        if delta > 0 {
            let moved = min(delta, others.values.reduce(0, +), 100 - current)
            result[version] = current + moved
            result.merge(withdraw(moved, from: others)) { _, new in new }
        } else if delta < 0 {
            let moved = min(-delta, current)
            result[version] = current - moved
            result.merge(distribute(moved, among: others)) { _, new in new }
        }
        return result
    }
}
