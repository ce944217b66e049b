/// Why a change or a spec was refused, in words an operator can act on. The kind decides the HTTP
/// status on the server and the exit code of the command line.
public struct RoutingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The request itself is wrong (bad weights, unknown version, empty reason): 422.
        case invalid
        /// The request is well-formed but the endpoint's state refuses it (gate, drained, out of service): 409.
        case conflict
        /// Something named does not exist: 404.
        case notFound
        /// The caller's role does not allow it: 403.
        case forbidden
    }

    public var kind: Kind
    public var detail: String

    public init(_ kind: Kind, _ detail: String) { self.kind = kind; self.detail = detail }

    public static func invalid(_ d: String) -> RoutingError { .init(.invalid, d) }
    public static func conflict(_ d: String) -> RoutingError { .init(.conflict, d) }
    public static func notFound(_ d: String) -> RoutingError { .init(.notFound, d) }
    public static func forbidden(_ d: String) -> RoutingError { .init(.forbidden, d) }

    public var description: String { detail }
}
