import Foundation

/// How long the runtime's tests wait for a condition before failing. Only a failure waits this
/// long: a passing test returns as soon as its condition holds. It is generous because the runner's
/// work hops onto Swift's shared pool (two threads on two cores), where it queues behind every test
/// body the parallel runner has started: a 20 s bound ran out at load 8 in a 40 s run (2026-11-29).
enum Eventually {
    static let bound: TimeInterval = 90
}
