import Foundation

/// Where a version came from when it was imported from a signed promotion bundle: shown on the
/// Endpoint screen ("promoted from registry X, signed by K") and kept with the version for as
/// long as it exists here.
public struct VersionPromotion: Codable, Sendable, Equatable {
    /// The source registry's id.
    public var registry: String
    /// Fingerprint of the key that signed the bundle (SHA-256 of the raw key, hex).
    public var signer: String
    /// The bundle's id and the SHA-256 of its file.
    public var bundle: String
    public var bundleSha256: String
    public var importedAt: Date
    public var importedBy: String

    public init(registry: String, signer: String, bundle: String, bundleSha256: String, importedAt: Date, importedBy: String) {
        self.registry = registry; self.signer = signer; self.bundle = bundle; self.bundleSha256 = bundleSha256
        self.importedAt = Timestamp.date(ms: Timestamp.ms(importedAt)); self.importedBy = importedBy
    }

    /// "promoted from registry reg-3f9a0c27b1d4e865, signed by 5c1f0e9a2b7d4c38".
    public var line: String {
        "promoted from registry \(registry), signed by \(PromotionPublicKey.shortID(signer))"
    }
}
