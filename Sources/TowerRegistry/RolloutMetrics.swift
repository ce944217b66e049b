import Foundation
import TowerDomain

/// Where rollout checks read figures from. The registry does not import the metrics clients; the
/// executable wires one in (`tower-registry serve --prometheus URL --profile envoy`).
public protocol RolloutMetricsReader: Sendable {
    /// For messages: "prometheus http://…".
    var name: String { get }
    /// One round of the profile's queries, whatever the number of rollouts: figures keyed by
    /// `EndpointVersionKey.description`. Throws when the source cannot answer at all.
    func read() async throws -> [String: Figures]
}
