import Foundation
import TerminalUI
import TowerDomain
@testable import TowerConsole

enum CF {
    static let now = Timestamp.date(ms: 1_795_000_000_000)

    static func v(_ name: String, _ w: Int, gate: GateStatus = .passed, state: VersionState = .serving, summary: String? = nil) -> Version {
        Version(name: name, artifact: Artifact(uri: "s3://m/\(name)", digest: "sha256:" + String(repeating: "c0ffee", count: 11).prefix(64)),
                weight: w, state: state, drainingSince: state == .draining ? now : nil, gate: gate, gateSummary: summary, stage: .prod)
    }

    static func e(_ name: String, _ versions: [Version], state: EndpointState = .serving, revision: Int64 = 3, by: String = "alice", ago: Double = 120) -> Endpoint {
        try! Endpoint(name: name, path: "/v1/models/\(name)", owner: "team-\(name.prefix(3))", state: state, revision: revision,
                      versions: versions, updatedAt: now.addingTimeInterval(-ago), updatedBy: by)
    }

    static let fleet: [Endpoint] = [
        e("alpha", [v("v1", 90), v("v2", 10)]),
        e("doc-embed", [v("v7", 70), v("v8", 30)], revision: 12, by: "bob", ago: 3600),
        e("fraud-score", [v("v3", 100), v("v4", 0, gate: .failed, summary: "AUC 0.871 < 0.900")], revision: 5),
        e("translate-ru", [v("v2", 100), v("v3", 0, state: .draining)], revision: 9, ago: 20),
        e("vision-ocr", [v("v1", 50), v("v2", 50)], state: .outOfService, revision: 21, by: "carol", ago: 400),
    ]

    static func loaded(width: Int = 80, height: Int = 24, readOnly: Bool = false) -> ConsoleState {
        var s = ConsoleState(width: width, height: height, now: now, contextName: "local", readOnly: readOnly)
        s.sort = .name
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: fleet, auditSeq: 40), at: now.addingTimeInterval(-1)))
        s.now = now
        return s
    }

    /// Sends keys, collecting every effect.
    @discardableResult
    static func keys(_ s: inout ConsoleState, _ keys: [KeyEvent]) -> [Effect] {
        keys.flatMap { update(&s, .key($0)) }
    }

    static func type(_ text: String) -> [KeyEvent] { text.map { .char($0) } }
}
