import Foundation
import TowerDomain
import Yams

/// The seed file of `serve --seed`: a YAML list of endpoint specs (DESIGN §4's body, in YAML).
public enum Seed {
    public static func load(path: String) throws -> [EndpointSpec] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RoutingError.invalid("cannot read seed file \(path)")
        }
        do {
            return try YAMLDecoder().decode([EndpointSpec].self, from: text)
        } catch let e as DecodingError {
            throw RoutingError.invalid("seed file \(path): \(describe(e))")
        } catch {
            throw RoutingError.invalid("seed file \(path) is not valid YAML: \(error)")
        }
    }

    /// Creates every endpoint of the seed that does not exist yet; existing ones are left alone,
    /// so restarting with the same seed changes nothing. Returns the names created.
    @discardableResult
    public static func apply(_ specs: [EndpointSpec], to store: RegistryStore, source: String) async throws -> [String] {
        var created: [String] = []
        let seeder = Principal(name: "seed", role: .admin)
        for spec in specs where store.endpoint(spec.name) == nil {
            var s = spec
            if s.reason == nil { s.reason = "seeded from \(source)" }
            _ = try await store.put(s, expected: nil, principal: seeder, defaultReason: "seeded")
            created.append(spec.name)
        }
        return created
    }
}
