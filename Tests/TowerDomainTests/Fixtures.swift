import Foundation
@testable import TowerDomain

enum Fx {
    static let t0 = Timestamp.date(ms: 1_795_000_000_000)

    static func digest(_ s: String) -> String {
        "sha256:" + String(repeating: String(format: "%02x", abs(s.hashValue) % 256), count: 32)
    }

    static func version(_ name: String, _ weight: Int, gate: GateStatus = .passed, state: VersionState = .serving) -> Version {
        Version(name: name, artifact: Artifact(uri: "s3://m/\(name)", digest: "sha256:" + String(repeating: "a", count: 64)),
                weight: weight, state: state, drainingSince: state == .draining ? t0 : nil, gate: gate, stage: .prod)
    }

    static func endpoint(_ versions: [Version], state: EndpointState = .serving, revision: Int64 = 1) throws -> Endpoint {
        try Endpoint(name: "alpha", path: "/v1/models/alpha", owner: "team-x", state: state, revision: revision,
                     versions: versions, updatedAt: t0, updatedBy: "seed")
    }
}
