import Crypto
import Foundation

import TowerDomain

public struct TokenInfo: Codable, Sendable, Equatable {
    /// The first 12 hex digits of the token's hash: enough to tell tokens apart, useless to an attacker.
    public var id: String
    public var name: String
    public var role: Role
    public var created: Date
    public var revoked: Date?
}

/// Bearer tokens. Only their SHA-256 is stored; a token is 32 random bytes, so an unsalted hash is
/// as strong as the token itself. The plain token exists only in what `createToken` returns.
extension RegistryStore {
    static func hash(token: String) -> String {
        Hex.encode(SHA256.hash(data: Array(token.utf8)))
    }

    public static func tokenNameProblem(_ name: String) -> String? {
        let ok = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-".utf8)
        if name.isEmpty || name.utf8.count > 64 || !name.utf8.allSatisfy({ ok.contains($0) }) {
            return "token name must be 1 to 64 letters, digits or . _ @ -"
        }
        return nil
    }

    /// Creates a token and returns it; this is the only time it is ever seen.
    public func createToken(name: String, role: Role) throws -> String {
        if let p = Self.tokenNameProblem(name) { throw RoutingError.invalid(p) }
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let token = "twr_" + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let h = Self.hash(token: token)
        try backend.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM token WHERE name = ?", arguments: [name]) == true {
                throw RoutingError.conflict("a token named '\(name)' already exists; revoke it or choose another name")
            }
            try db.execute(sql: "INSERT INTO token (id, name, role, hash, created_ms) VALUES (?, ?, ?, ?, ?)",
                           arguments: [String(h.prefix(12)), name, role.rawValue, h, Timestamp.ms(Date())])
        }
        return token
    }

    public func listTokens() throws -> [TokenInfo] {
        try backend.read { db in
            try StoreRow.fetchAll(db, sql: "SELECT * FROM token ORDER BY name").map { row in
                TokenInfo(id: row["id"], name: row["name"], role: Role(rawValue: row["role"]) ?? .gateway,
                          created: Timestamp.date(ms: row["created_ms"]),
                          revoked: (row["revoked_ms"] as Int64?).map { Timestamp.date(ms: $0) })
            }
        }
    }

    public func revokeToken(name: String) throws {
        try backend.write { db in
            let changed = try db.execute(sql: "UPDATE token SET revoked_ms = ? WHERE name = ? AND revoked_ms IS NULL",
                                         arguments: [Timestamp.ms(Date()), name])
            if changed == 0 { throw RoutingError.notFound("no active token named '\(name)'") }
        }
    }

    /// How long a token lookup is remembered. A revocation made by another process (the
    /// `token revoke` command) takes effect within this time.
    public static let tokenCacheTTL: TimeInterval = 1

    /// The principal a presented token stands for, or nil for an unknown or revoked token.
    public func principal(forToken token: String, now: Date = Date()) async throws -> Principal? {
        let h = Self.hash(token: token)
        if let hit = tokenCacheLookup(h, now: now) { return hit.principal }
        let p: Principal?
        do {
            p = try await backend.read { db in
                guard let row = try StoreRow.fetchOne(db, sql: "SELECT name, role FROM token WHERE hash = ? AND revoked_ms IS NULL", arguments: [h]),
                      let role = Role(rawValue: row["role"]) else { return nil }
                return Principal(name: row["name"], role: role)
            }
        } catch let down as StoreUnavailable {
            // The database is down: a token known before stays known (nothing can revoke it
            // meanwhile), so reads served from memory keep working; an unknown one cannot be checked.
            if let known = tokenCache.withLock({ $0[h] }) { return known.principal }
            throw down
        }
        tokenCacheStore(h, principal: p, now: now)
        return p
    }
}

extension RegistryStore {
    func tokenCacheLookup(_ hash: String, now: Date) -> (principal: Principal?, fetched: Date)? {
        tokenCache.withLock { c in
            guard let hit = c[hash], now.timeIntervalSince(hit.fetched) < Self.tokenCacheTTL else { return nil }
            return hit
        }
    }

    func tokenCacheStore(_ hash: String, principal: Principal?, now: Date) {
        tokenCache.withLock { c in
            // Bounded, so a flood of made-up tokens cannot grow it without limit.
            if c.count > 4096 { c.removeAll(keepingCapacity: true) }
            c[hash] = (principal, now)
        }
    }
}
