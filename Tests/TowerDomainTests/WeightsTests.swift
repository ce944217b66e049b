import Testing
@testable import TowerDomain

@Suite struct WeightsTests {
    @Test func apportionIsProportionalAndExact() {
        #expect(Weights.apportion(10, basis: ["a": 60, "b": 30]) == ["a": 7, "b": 3])
        #expect(Weights.apportion(100, basis: ["a": 1, "b": 1, "c": 1]) == ["a": 34, "b": 33, "c": 33])
        #expect(Weights.apportion(5, basis: ["a": 0, "b": 0]) == ["a": 3, "b": 2])
        #expect(Weights.apportion(0, basis: ["a": 10]) == ["a": 0])
        #expect(Weights.apportion(7, basis: [:]) == [:])
    }

    /// The array form (the overview's bar, per row per frame) gives the dictionary form's shares,
    /// in the order given, including its tie-break by name.
    @Test func apportionInOrderGivesTheSameShares() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let n = Int.random(in: 1...6, using: &rng)
            let names = (0..<n).map { "v\($0 * 7 % 11)" }.shuffled(using: &rng)
            let weights = names.map { _ in Int.random(in: 0...3, using: &rng) * 25 }
            let amount = Int.random(in: 0...30, using: &rng)
            let byName = Weights.apportion(amount, basis: Dictionary(uniqueKeysWithValues: zip(names, weights)))
            #expect(Weights.apportion(amount, weights: weights, names: names) == names.map { byName[$0] ?? -1 }, "\(names) \(weights) \(amount)")
        }
        #expect(Weights.apportion(3, weights: [], names: []) == [])
    }

    @Test func apportionAlwaysAddsUp() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            let n = Int.random(in: 1...6, using: &rng)
            var basis: [String: Int] = [:]
            for i in 0..<n { basis["v\(i)"] = Int.random(in: 0...100, using: &rng) }
            let amount = Int.random(in: 0...100, using: &rng)
            let shares = Weights.apportion(amount, basis: basis)
            #expect(shares.values.reduce(0, +) == amount)
            #expect(shares.values.allSatisfy { $0 >= 0 })
        }
    }

    @Test func stepTakesFromOthersInProportion() {
        let w = Weights.step(["v1": 60, "v2": 30, "v3": 10], version: "v3", by: 5, serving: ["v1", "v2", "v3"])
        #expect(w == ["v1": 57, "v2": 28, "v3": 15])
        #expect(w.values.reduce(0, +) == 100)
    }

    @Test func stepDownGivesToOthersInProportion() {
        let w = Weights.step(["v1": 90, "v2": 10], version: "v2", by: -5, serving: ["v1", "v2"])
        #expect(w == ["v1": 95, "v2": 5])
    }

    @Test func stepIsClampedAndIgnoresNonServingVersions() {
        #expect(Weights.step(["v1": 98, "v2": 2], version: "v1", by: 5, serving: ["v1", "v2"]) == ["v1": 100, "v2": 0])
        #expect(Weights.step(["v1": 3, "v2": 97], version: "v1", by: -5, serving: ["v1", "v2"]) == ["v1": 0, "v2": 100])
        #expect(Weights.step(["v1": 100, "v2": 0], version: "v1", by: -5, serving: ["v1"]) == ["v1": 100, "v2": 0])
    }
}

