import Crypto
import Foundation

/// Lower-case hex, the one spelling keys and signatures have in Tower's files: unlike base64,
/// every string decodes to exactly one byte sequence and back, so no character of a signed file
/// can change without the bytes it stands for changing too.
public enum Hex {
    public static func encode<B: Sequence>(_ bytes: B) -> String where B.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// SHA-256 of `bytes`, in hex.
    public static func sha256<B: Sequence>(_ bytes: B) -> String where B.Element == UInt8 {
        encode(SHA256.hash(data: Array(bytes)))
    }

    /// Nil unless `s` is lower-case hex of `count` bytes.
    public static func decode(_ s: String, count: Int) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count == count * 2 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var i = 0
        while i < u.count {
            guard let h = nibble(u[i]), let l = nibble(u[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }

    private static func nibble(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

/// A public key that may sign promotion bundles. Written on one line as `ed25519:<64 hex>`; its
/// id (`fingerprint`) is the SHA-256 of the 32 raw key bytes, in hex, which is what trust lists,
/// audit entries and the console name.
public struct PromotionPublicKey: Sendable, Equatable, Hashable, CustomStringConvertible {
    public let raw: [UInt8]
    public static let prefix = "ed25519:"

    public init(raw: [UInt8]) throws(PromotionKeyError) {
        guard raw.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil else {
            throw PromotionKeyError("an Ed25519 public key is 32 bytes")
        }
        self.raw = raw
    }

    /// Bytes the library itself produced, so there is nothing to check.
    init(raw32: [UInt8]) { raw = raw32 }

    /// Reads `ed25519:<hex>`, optionally followed by a space and a comment (as `keygen` writes it).
    public init(text: String) throws(PromotionKeyError) {
        let first = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
        guard first.hasPrefix(Self.prefix), let raw = Hex.decode(String(first.dropFirst(Self.prefix.count)), count: 32) else {
            throw PromotionKeyError("'\(Names.printable(first, limit: 80))' is not a promotion public key; one reads ed25519: and 64 lower-case hex digits")
        }
        try self.init(raw: raw)
    }

    public var text: String { Self.prefix + Hex.encode(raw) }
    public var description: String { text }

    /// SHA-256 of the raw key, 64 hex digits: the key's id.
    public var fingerprint: String { Hex.encode(SHA256.hash(data: raw)) }

    /// The first 16 hex digits of the fingerprint, where a screen has no room for all 64.
    public static func shortID(_ fingerprint: String) -> String { String(fingerprint.prefix(16)) }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
        return key.isValidSignature(signature, for: message)
    }
}

/// The private half, kept in a file of mode 0600 as one line `ed25519-private:<64 hex>` (the
/// 32-byte seed).
public struct PromotionSigningKey: Sendable {
    /// The 32-byte seed; the library's key type is not Sendable, so it is made when used.
    private let seed: [UInt8]
    public static let prefix = "ed25519-private:"

    public init() { seed = Array(Curve25519.Signing.PrivateKey().rawRepresentation) }

    public init(text: String) throws(PromotionKeyError) {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.hasPrefix(Self.prefix), let raw = Hex.decode(String(t.dropFirst(Self.prefix.count)), count: 32),
              (try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)) != nil else {
            throw PromotionKeyError("this is not a promotion private key; one reads ed25519-private: and 64 lower-case hex digits (made by tower promote keygen)")
        }
        seed = raw
    }

    public var text: String { Self.prefix + Hex.encode(seed) }

    private func key() throws -> Curve25519.Signing.PrivateKey { try Curve25519.Signing.PrivateKey(rawRepresentation: seed) }

    public var publicKey: PromotionPublicKey {
        // The seed was checked when this value was made, so the key can be made again.
        PromotionPublicKey(raw32: (try? key().publicKey.rawRepresentation).map(Array.init) ?? [])
    }

    public func signature(for message: [UInt8]) throws -> [UInt8] { Array(try key().signature(for: message)) }

    /// Reads a private key file, refusing one its group or others may read.
    public static func load(path: String) throws(PromotionKeyError) -> PromotionSigningKey {
        if let p = SecretFile.permissionProblem(path, kind: "private key") { throw PromotionKeyError(p) }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PromotionKeyError("cannot read the private key \(path)")
        }
        do { return try PromotionSigningKey(text: text) } catch {
            throw PromotionKeyError("\(path): \(error.message)")
        }
    }
}

public struct PromotionKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The keys a registry accepts promotion bundles from: a file of public keys, one a line
/// (`ed25519:<hex> [comment]`), `#` starting a comment line. Read at start, never from a request:
/// trust is the registry's configuration, which no client can add to.
public struct TrustedPromotionKeys: Sendable, Equatable {
    /// By fingerprint.
    public var keys: [String: PromotionPublicKey]
    public init(_ keys: [PromotionPublicKey] = []) {
        self.keys = Dictionary(keys.map { ($0.fingerprint, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public static func parse(_ text: String, source: String) throws(PromotionKeyError) -> TrustedPromotionKeys {
        var keys: [PromotionPublicKey] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("#") { continue }
            do { keys.append(try PromotionPublicKey(text: t)) } catch {
                throw PromotionKeyError("\(source) line \(n + 1): \(error.message)")
            }
        }
        return TrustedPromotionKeys(keys)
    }

    public static func load(path: String) throws(PromotionKeyError) -> TrustedPromotionKeys {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PromotionKeyError("cannot read the trusted promotion keys file \(path)")
        }
        return try parse(text, source: path)
    }
}
