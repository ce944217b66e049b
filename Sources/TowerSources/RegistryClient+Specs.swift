import Foundation
import TowerDomain
import TowerHTTP

/// The pipeline's calls (DESIGN §13): deleting a pruned endpoint and submitting evaluations.
extension RegistryClient {
    /// `DELETE /v1/endpoints/{name}?reason=…` at the revision the caller read.
    public func delete(_ name: String, reason: String, expected: Int64) async throws(RegistryClientError) -> AuditEntry {
        var h = headers()
        h.append(("If-Match", "\"\(expected)\""))
        let r = reason.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return try decode(try await write(Change(method: "DELETE", path: "/v1/endpoints/\(Self.escape(name))?reason=\(r)", headers: h,
                                                 body: nil, endpoint: name, expected: expected)))
    }

    /// `POST /v1/endpoints/{name}/versions/{v}/evaluations` with the document's bytes as given, so
    /// the registry's strict reading (a key given twice, say) sees what the pipeline wrote.
    public func submitEvaluation(_ name: String, version: String, document: [UInt8]) async throws(RegistryClientError) -> EvaluationResult {
        var h = headers()
        h.append(("Content-Type", "application/json"))
        return try decode(try await write(Change(method: "POST", path: "/v1/endpoints/\(Self.escape(name))/versions/\(Self.escape(version))/evaluations",
                                                 headers: h, body: document, endpoint: nil, expected: nil)))
    }

    /// `GET /v1/endpoints/{name}/versions/{v}/evaluations`, newest first.
    public func evaluations(_ name: String, version: String, limit: Int = 20) async throws(RegistryClientError) -> EvaluationList {
        try await get("/v1/endpoints/\(Self.escape(name))/versions/\(Self.escape(version))/evaluations?limit=\(limit)")
    }
}
