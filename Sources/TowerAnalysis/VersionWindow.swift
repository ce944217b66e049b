import TowerDomain

/// What one version did over the judged window, as read from a source: cumulative latency
/// buckets (`le` in milliseconds) and request/error counts. nil is "could not be read".
public struct VersionWindow: Sendable, Equatable {
    public var name: String
    public var weight: Int
    public var latencyBuckets: [Bucket]?
    public var requests: Double?
    public var errors: Double?

    public init(name: String, weight: Int, latencyBuckets: [Bucket]?, requests: Double?, errors: Double?) {
        self.name = name; self.weight = weight; self.latencyBuckets = latencyBuckets
        self.requests = requests; self.errors = errors
    }
}
