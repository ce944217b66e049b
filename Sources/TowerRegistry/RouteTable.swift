import Hummingbird
import Synchronization

/// The routes the registry serves, by path template, so that a known path asked with a method it
/// does not take is answered 405 with `Allow` (RFC 9110 §15.5.6) rather than the router's 404,
/// which would tell a client the path does not exist. Filled once the routes are registered.
final class RouteTable: Sendable {
    private let templates = Mutex<[(segments: [Substring], method: String)]>([])

    func set(_ routes: [Router<RegistryContext>.RouteDescription]) {
        let t = routes.map { r in
            (r.path.description.split(separator: "/", omittingEmptySubsequences: true), r.method.rawValue)
        }
        templates.withLock { $0 = t }
    }

    /// The methods routed for `path`, sorted; empty when no route has this path.
    func methods(for path: String) -> [String] {
        let asked = path.split(separator: "/", omittingEmptySubsequences: true)
        let found = templates.withLock { ts in
            ts.filter { t in
                t.segments.count == asked.count && zip(t.segments, asked).allSatisfy { s, a in
                    (s.hasPrefix("{") && s.hasSuffix("}")) || s == a
                }
            }.map(\.method)
        }
        return Array(Set(found)).sorted()
    }
}
