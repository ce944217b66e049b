import Foundation
import TowerDomain

/// A registry replica that cannot reach its database serves reads from memory and says so in its
/// `Tower-Stale` header ("database unavailable since 2026-11-29T07:00:00.123Z; served from memory
/// as of audit seq 42"). The routing on screen may then lack changes made through other replicas,
/// and the header must not call it live. Kept as state, parsed once here, never per frame.
public struct RegistryStale: Equatable, Sendable {
    /// The registry's sentence, as sent.
    public var detail: String
    /// When the database became unreachable, when the sentence says so in the registry's form.
    public var since: Date?

    public init(_ detail: String) {
        self.detail = detail
        let prefix = "database unavailable since "
        if detail.hasPrefix(prefix) {
            let stamp = detail.dropFirst(prefix.count).prefix { $0 != ";" }
            since = Timestamp.parse(String(stamp)).map { Timestamp.date(ms: $0) }
        }
    }

    /// What the header says after "stale:": short, because the header is shared with the gateways
    /// and the sources. The registry's own words are shown when they are not the known form.
    func summary(now: Date) -> String {
        if let since { return "database unreachable \(ageText(now.timeIntervalSince(since)))" }
        let first = detail.prefix { $0 != ";" }
        return Names.printable(String(first), limit: 60)
    }
}
