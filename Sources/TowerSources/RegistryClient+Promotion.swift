import Foundation
import TowerDomain
import TowerHTTP

/// The promotion calls (DESIGN §13).
extension RegistryClient {
    /// `GET /v1/endpoints/{name}/versions/{v}/bundle`: what the registry vouches for, unsigned.
    public func promotionPayload(_ name: String, version: String) async throws(RegistryClientError) -> PromotionPayload {
        try await get("/v1/endpoints/\(Self.escape(name))/versions/\(Self.escape(version))/bundle")
    }

    /// `POST /v1/promotions` with the bundle file's bytes as they are (the registry hashes and
    /// verifies exactly those), narrowed to `trust` (key fingerprints) when given.
    public func importPromotion(_ bundle: [UInt8], trust: [String]?, reason: String?) async throws(RegistryClientError) -> PromotionImportResult {
        var query: [String] = []
        if let trust { query.append("trust=" + trust.joined(separator: ",")) }
        if let reason { query.append("reason=" + (reason.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")) }
        var h = headers()
        h.append(("Content-Type", "application/json"))
        let path = "/v1/promotions" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        return try decode(try await write(Change(method: "POST", path: path, headers: h, body: bundle, endpoint: nil, expected: nil)))
    }
}
