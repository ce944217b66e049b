import Foundation
import TowerDomain

/// The rollout calls (DESIGN §11). Their bodies are TowerRollouts types, which this target does
/// not import, so the caller names them; the client only carries them.
extension RegistryClient {
    /// `POST /v1/endpoints/{name}/rollouts`.
    public func startRollout<B: Encodable & Sendable, T: Decodable>(_ name: String, body: B) async throws(RegistryClientError) -> T {
        try await send("POST", "/v1/endpoints/\(Self.escape(name))/rollouts", body: body, ifMatch: nil)
    }

    /// `GET /v1/endpoints/{name}/rollout`.
    public func rollout<T: Decodable>(_ name: String) async throws(RegistryClientError) -> T {
        try await get("/v1/endpoints/\(Self.escape(name))/rollout")
    }

    /// `GET /v1/rollouts`: every endpoint's running, paused or recently finished rollout.
    public func rollouts<T: Decodable>() async throws(RegistryClientError) -> T {
        try await get("/v1/rollouts")
    }

    /// `POST /v1/endpoints/{name}/rollout/{pause|resume|promote|abort}`.
    public func rolloutAction<T: Decodable>(_ name: String, action: String, reason: String) async throws(RegistryClientError) -> T {
        try await send("POST", "/v1/endpoints/\(Self.escape(name))/rollout/\(Self.escape(action))", body: RolloutReasonBody(reason: reason), ifMatch: nil)
    }
}

struct RolloutReasonBody: Encodable, Sendable { var reason: String }
