#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a version's model server listens, parsed from `host:port` (`[v6-address]:port` for IPv6).
/// The gateway needs to know whether the host is an address or a name: an address becomes a
/// STATIC cluster, a name one that Envoy resolves (STRICT_DNS).
public struct Upstream: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var isIPLiteral: Bool

    /// The parsed upstream, or an `invalid` error naming the version and what is wrong.
    public static func parse(_ text: String, version: String) -> Result<Upstream, RoutingError> {
        func bad(_ why: String) -> Result<Upstream, RoutingError> {
            .failure(.invalid("upstream of \(version) is '\(Names.printable(text))': \(why); write it as host:port, like 10.0.3.7:8080 or model-v7.internal:8080"))
        }
        guard let colon = text.lastIndex(of: ":") else { return bad("it has no port") }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard !portText.isEmpty, portText.utf8.count <= 5, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let port = Int(portText), (1...65535).contains(port) else {
            return bad("the port must be a whole number from 1 to 65535")
        }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { return bad("an IPv6 address must be written in brackets, like [::1]:8080") }
            host = String(host.dropFirst().dropLast())
            guard isIPv6(host) else { return bad("'\(Names.printable(host))' is not an IPv6 address") }
            return .success(Upstream(host: host, port: port, isIPLiteral: true))
        }
        if host.isEmpty { return bad("the host is empty") }
        if host.contains(":") { return bad("an IPv6 address must be written in brackets, like [::1]:8080") }
        if isIPv4(host) { return .success(Upstream(host: host, port: port, isIPLiteral: true)) }
        if let p = hostnameProblem(host) { return bad(p) }
        return .success(Upstream(host: host, port: port, isIPLiteral: false))
    }

    /// A DNS name as Envoy will resolve it: labels of letters, digits and '-', separated by dots.
    static func hostnameProblem(_ host: String) -> String? {
        if host.utf8.count > 253 { return "the host name is longer than 253 characters" }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            if label.isEmpty || label.utf8.count > 63 { return "each dot-separated part of the host name must be 1 to 63 characters" }
            let ok = label.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
            if !ok { return "the host may hold only letters, digits, '-' and '.'" }
            if label.hasPrefix("-") || label.hasSuffix("-") { return "a part of the host name must not start or end with '-'" }
        }
        // All-numeric dotted hosts that are not valid IPv4 (like 10.0.0.300) are typos, not names.
        if labels.allSatisfy({ $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }) { return "it is not a valid IPv4 address" }
        return nil
    }

    public static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { p in
            // No leading zeros: inet_aton would read them as octal, Envoy as decimal.
            !p.isEmpty && p.utf8.count <= 3 && p.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
                && (p == "0" || !p.hasPrefix("0")) && (Int(p) ?? 256) <= 255
        }
    }

    public static func isIPv6(_ s: String) -> Bool {
        var addr = in6_addr()
        return s.withCString { inet_pton(AF_INET6, $0, &addr) } == 1
    }
}
