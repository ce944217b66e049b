import Foundation
import TowerDomain
import Yams

/// `--identities FILE`: which verified client certificates are whom. A YAML list of
/// `{match: {cn: "alice"}, role: operator, name: alice}`; every key given under `match` must match
/// (`cn`, `subject` for the whole DN, `sanEmail`, `sanDNS`: any one of the certificate's SANs),
/// each a glob (`*`, `?`, `[…]`); the first entry that matches wins; `name` defaults to the CN.
public struct CertificateIdentities: Sendable, Equatable {
    public struct Match: Codable, Sendable, Equatable {
        public var cn: String?
        public var subject: String?
        public var sanEmail: String?
        public var sanDNS: String?
        public init(cn: String? = nil, subject: String? = nil, sanEmail: String? = nil, sanDNS: String? = nil) {
            self.cn = cn; self.subject = subject; self.sanEmail = sanEmail; self.sanDNS = sanDNS
        }
        var isEmpty: Bool { cn == nil && subject == nil && sanEmail == nil && sanDNS == nil }
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var match: Match
        public var role: Role
        public var name: String?
        public init(match: Match, role: Role, name: String? = nil) { self.match = match; self.role = role; self.name = name }
    }

    public var entries: [Entry]

    public init(entries: [Entry] = []) { self.entries = entries }

    /// Reads and checks the file; errors are sentences naming the file and the entry.
    public static func load(path: String) throws -> CertificateIdentities {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RoutingError.invalid("cannot read the identities file \(path)")
        }
        return try parse(text, source: path)
    }

    public static func parse(_ text: String, source: String) throws -> CertificateIdentities {
        let entries: [Entry]
        do {
            entries = try YAMLDecoder().decode([Entry].self, from: text)
        } catch {
            throw RoutingError.invalid("the identities file \(source) is not a list of {match: {cn|subject|sanEmail|sanDNS: GLOB}, role: ROLE, name?: NAME}: \(error)")
        }
        for (i, e) in entries.enumerated() {
            if e.match.isEmpty { throw RoutingError.invalid("entry \(i + 1) of \(source) matches nothing: give match at least one of cn, subject, sanEmail, sanDNS") }
            if let n = e.name, let p = RegistryStore.tokenNameProblem(n) { throw RoutingError.invalid("entry \(i + 1) of \(source): \(p)") }
        }
        return CertificateIdentities(entries: entries)
    }

    /// The principal a verified certificate stands for, or nil when no entry matches.
    public func principal(for cert: PeerCertificate) -> Principal? {
        for e in entries where Self.matches(e.match, cert) {
            let name = e.name ?? cert.commonName.map { Names.printable($0, limit: 64) } ?? Names.printable(cert.subject, limit: 64)
            return Principal(name: name, role: e.role, certificate: cert.auditLabel)
        }
        return nil
    }

    static func matches(_ m: Match, _ c: PeerCertificate) -> Bool {
        if let p = m.cn, !(c.commonName.map { glob(p, $0) } ?? false) { return false }
        if let p = m.subject, !glob(p, c.subject) { return false }
        if let p = m.sanEmail, !c.emails.contains(where: { glob(p, $0) }) { return false }
        if let p = m.sanDNS, !c.dnsNames.contains(where: { glob(p, $0) }) { return false }
        return true
    }

    /// fnmatch(3) without flags: `*` and `?` also match `/` and `.`, as a DN or an address needs.
    static func glob(_ pattern: String, _ s: String) -> Bool {
        fnmatch(pattern, s, 0) == 0
    }
}
