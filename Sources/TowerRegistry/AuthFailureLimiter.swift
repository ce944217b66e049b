import Foundation
import Synchronization

/// Failed authentications per source address, as a token bucket: `perSecond` refused tokens a
/// second (with as many in reserve), then 429 with `Retry-After` until the bucket refills. Only
/// failures draw on it, and a request is judged by its token first, so a client with a valid
/// token is never slowed, even from the address of one that is guessing. The token lookup itself
/// stays cheap (a hash and a cache, a database read on a miss) and the per-address connection cap
/// bounds how many run at once.
public final class AuthFailureLimiter: Sendable {
    public let perSecond: Double
    public let burst: Double
    private let buckets = Mutex<[String: (tokens: Double, at: ContinuousClock.Instant)]>([:])
    /// Addresses remembered at most; past it the full (idle) buckets are forgotten first.
    let capacity: Int

    public init(perSecond: Double = 10, burst: Double = 10, capacity: Int = 10_000) {
        self.perSecond = perSecond; self.burst = burst; self.capacity = capacity
    }

    /// Records one failed authentication from `address`: nil while under the limit, else the
    /// whole seconds until the next one would be allowed.
    public func fail(from address: String, now: ContinuousClock.Instant = .now) -> Int? {
        buckets.withLock { b in
            if b[address] == nil && b.count >= capacity {
                b = b.filter { refill($0.value, now: now) < burst }
                if b.count >= capacity { b.removeAll(keepingCapacity: true) }
            }
            var tokens = b[address].map { refill($0, now: now) } ?? burst
            defer { b[address] = (tokens, now) }
            if tokens >= 1 { tokens -= 1; return nil }
            return max(1, Int(((1 - tokens) / perSecond).rounded(.up)))
        }
    }

    private func refill(_ e: (tokens: Double, at: ContinuousClock.Instant), now: ContinuousClock.Instant) -> Double {
        let elapsed = now - e.at
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return min(burst, e.tokens + seconds * perSecond)
    }
}

/// Too many failed authentications from one address: 429 with `Retry-After`.
struct RateLimited: Error {
    var retryAfter: Int
    var address: String
}
