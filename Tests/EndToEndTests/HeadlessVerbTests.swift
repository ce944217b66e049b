import Foundation
import Testing
import TowerDomain

/// `tower`'s headless verbs against a real registry process: output, JSON and exit codes a
/// runbook script can branch on.
@Suite(.serialized) struct HeadlessVerbTests {
    static var tower: String { RegistryProcess.binDir + "/tower" }

    struct Run { var status: Int32; var out: String; var err: String }

    static func tower(_ args: [String], env: [String: String] = [:]) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tower)
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        e["XDG_CONFIG_HOME"] = NSTemporaryDirectory() + "tower-noconfig"
        e.removeValue(forKey: "TOWER_TOKEN")
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), r = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: r, as: UTF8.self))
    }

    static func tokenFile(_ reg: RegistryProcess, _ name: String, _ role: String) throws -> String {
        let path = reg.dataDir + "/\(name).token"
        try reg.token(name, role: role).write(toFile: path, atomically: true, encoding: .utf8)
        // Private, as a token file must be (a readable one is refused).
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return path
    }

    @Test func verbsActAndReportWithExitCodes() throws {
        let reg = RegistryProcess()
        defer { reg.cleanUp() }
        let op = try Self.tokenFile(reg, "otto", "operator")
        let viewer = try Self.tokenFile(reg, "vera", "viewer")
        try reg.start(seed: try reg.writeSeed(), extra: ["--log-level", "warning"])
        let conn = ["--registry", reg.url, "--token-file", op]

        let status = try Self.tower(["status", "--output", "json"] + conn)
        #expect(status.status == 0, "\(status.err)")
        let list = try Wire.decoder().decode(EndpointList.self, from: Data(status.out.utf8))
        #expect(list.endpoints.map(\.name) == ["alpha"])
        let text = try Self.tower(["status"] + conn)
        #expect(text.out.contains("alpha") && text.out.contains("v1=90 v2=10"))

        let shift = try Self.tower(["shift", "alpha", "v1=70", "v2=30", "--reason", "canary 30", "--output", "json"] + conn)
        #expect(shift.status == 0, "\(shift.err)")
        #expect(try Wire.decoder().decode(Endpoint.self, from: Data(shift.out.utf8)).weights == ["v1": 70, "v2": 30])

        let stale = try Self.tower(["shift", "alpha", "v1=50", "v2=50", "--reason", "x", "--expect-revision", "1"] + conn)
        #expect(stale.status == 3)
        #expect(stale.err.contains("otto changed it"))

        #expect(try Self.tower(["shift", "alpha", "v1=50", "v2=40", "--reason", "x"] + conn).status == 2)
        #expect(try Self.tower(["shift", "alpha", "v1=50", "v9=50", "--reason", "x"] + conn).status == 2)
        #expect(try Self.tower(["shift", "ghost", "v1=100", "--reason", "x"] + conn).status == 6)
        let forbidden = try Self.tower(["drain", "alpha", "v2", "--reason", "x", "--registry", reg.url, "--token-file", viewer])
        #expect(forbidden.status == 4)
        #expect(forbidden.err.contains("needs the operator role"))
        #expect(try Self.tower(["drain", "alpha", "v2", "--reason", "x", "--read-only"] + conn).status == 4)
        #expect(try Self.tower(["status", "--registry", "http://127.0.0.1:9", "--token-file", op]).status == 5)

        let drained = try Self.tower(["drain", "alpha", "v2", "--reason", "p99 red"] + conn)
        // The action applied, and the state it left: draining (drained comes with the drain timeout).
        #expect(drained.status == 0 && drained.out.contains("alpha: drain applied, revision 3") && drained.out.contains("v2=0 (draining)"), "\(drained.out)")
        // States in the table's words on `tower status`'s text (issue 11: one vocabulary).
        let draining = try Self.tower(["status"] + conn).out
        #expect(draining.contains("v2=0 (\(Vocabulary.word(VersionState.draining)))") && Vocabulary.strayWords(in: draining).isEmpty, "\(draining)")
        // A runbook re-run: the drain is already made, so the verb succeeds and says so, and no
        // revision is added.
        let again = try Self.tower(["drain", "alpha", "v2", "--reason", "p99 red (re-run)"] + conn)
        #expect(again.status == 0 && again.out.contains("v2 already draining; nothing changed (revision 3"), "\(again.out) \(again.err)")
        #expect(try Self.tower(["drain", "alpha", "--reason", "x"] + conn).status == 2, "whole-endpoint drain needs --confirm")
        #expect(try Self.tower(["undrain", "alpha", "v2", "--reason", "fixed"] + conn).status == 0)
        let undrainAgain = try Self.tower(["undrain", "alpha", "v2", "--reason", "fixed (re-run)"] + conn)
        #expect(undrainAgain.status == 0 && undrainAgain.out.contains("v2 already serving; nothing changed (revision 4"), "\(undrainAgain.out)")
        let back = try Self.tower(["rollback", "alpha", "--to", "2", "--reason", "back to canary", "--output", "json"] + conn)
        #expect(back.status == 0, "\(back.err)")
        #expect(try Wire.decoder().decode(Endpoint.self, from: Data(back.out.utf8)).weights == ["v1": 70, "v2": 30])

        let audit = try Self.tower(["audit", "--verify", "--output", "json"] + conn)
        #expect(audit.status == 0, "\(audit.err)")
        #expect(audit.out.contains("\"verified\" : true"))
        #expect(audit.out.contains("back to canary") && audit.out.contains("\"actor\" : \"otto\""))

        // The whole endpoint out of service: the table's phrase in the text, the API's value in JSON.
        #expect(try Self.tower(["drain", "alpha", "--confirm", "alpha", "--reason", "incident"] + conn).status == 0)
        let out = try Self.tower(["status"] + conn).out
        let row = out.split(separator: "\n").first { $0.hasPrefix("alpha ") } ?? ""
        #expect(row.contains(" \(Vocabulary.word(EndpointState.outOfService))  ") && row.contains(Vocabulary.word(EndpointState.outOfService) + ", v1="), "\(out)")
        #expect(Vocabulary.strayWords(in: out).isEmpty, "\(Vocabulary.strayWords(in: out)) in \(out)")
        #expect(try Self.tower(["status", "--output", "json"] + conn).out.contains(#""state" : "out-of-service""#))
        let auditText = try Self.tower(["audit"] + conn).out
        #expect(auditText.contains(Vocabulary.actor("otto", role: .operator)), "\(auditText)")

        // The token can come from the environment too, and never appears in any output.
        let env = try Self.tower(["status", "--registry", reg.url], env: ["TOWER_TOKEN": try String(contentsOfFile: op, encoding: .utf8)])
        #expect(env.status == 0)
        let token = try String(contentsOfFile: op, encoding: .utf8)
        for r in [status, text, shift, stale, forbidden, back, audit, env] { #expect(!r.out.contains(token) && !r.err.contains(token)) }
    }

    @Test func contextsComeFromTheConfigFile() throws {
        let reg = RegistryProcess()
        defer { reg.cleanUp() }
        let op = try Self.tokenFile(reg, "otto", "operator")
        try reg.start(seed: try reg.writeSeed(), extra: ["--log-level", "warning"])
        let home = reg.dataDir + "/xdg"
        try FileManager.default.createDirectory(atPath: home + "/tower", withIntermediateDirectories: true)
        try """
            currentContext: local
            contexts:
              - {name: local, registry: "\(reg.url)", tokenFile: "\(op)"}
              - {name: prod, registry: "\(reg.url)", tokenFile: "\(op)", readOnly: true}
            """.write(toFile: home + "/tower/config.yaml", atomically: true, encoding: .utf8)
        #expect(try Self.tower(["status"], env: ["XDG_CONFIG_HOME": home]).status == 0)
        let ro = try Self.tower(["shift", "alpha", "v1=100", "--reason", "x", "--context", "prod"], env: ["XDG_CONFIG_HOME": home])
        #expect(ro.status == 4 && ro.err.contains("read-only context 'prod'"))
        #expect(try Self.tower(["status", "--context", "nope"], env: ["XDG_CONFIG_HOME": home]).status == 2)
    }
}
