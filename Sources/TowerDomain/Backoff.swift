import Foundation

/// How long to wait before retrying something that failed `failures` times in a row: 0.5, 1, 2, 4,
/// capped at 8 s, ±20 % so that many clients do not retry in step. One policy for every poller
/// (the console's registry follower and sources, the simulator's registry follower).
public enum Backoff {
    public static func delay(failures: Int) -> Double {
        let base = min(8.0, 0.5 * pow(2.0, Double(max(0, failures - 1))))
        return base * Double.random(in: 0.8...1.2)
    }
}
