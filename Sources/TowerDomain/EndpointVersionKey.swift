import Foundation

/// Whose figures or counters: a version of an endpoint, or the endpoint as a whole (`version ==
/// nil`, the sum over its versions). One type for every reader (Prometheus profiles, scrapes, the
/// console's figures, which are keyed by its description: `alpha`, `alpha/v2`).
public struct EndpointVersionKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var endpoint: String
    public var version: String?

    public init(endpoint: String, version: String? = nil) { self.endpoint = endpoint; self.version = version }
    public init(_ endpoint: String, _ version: String? = nil) { self.init(endpoint: endpoint, version: version) }

    /// `a--b` → endpoint `a`, version `b` (how the registry names a gateway's clusters). nil for
    /// names that are not ours: no `--`, more than one, an empty side, or a side starting or ending
    /// with `-` (`a---b` is ambiguous). Endpoint and version names never contain `--` (`Names`), so
    /// the split is unique.
    public init?(envoyClusterName name: String) {
        let parts = name.components(separatedBy: "--")
        guard parts.count == 2, let endpoint = parts.first, let version = parts.last,
              !endpoint.isEmpty, !version.isEmpty,
              !endpoint.hasPrefix("-"), !endpoint.hasSuffix("-"), !version.hasPrefix("-"), !version.hasSuffix("-")
        else { return nil }
        self.init(endpoint: endpoint, version: version)
    }

    public static func < (a: Self, b: Self) -> Bool { (a.endpoint, a.version ?? "") < (b.endpoint, b.version ?? "") }
    public var description: String { version.map { "\(endpoint)/\($0)" } ?? endpoint }
}
