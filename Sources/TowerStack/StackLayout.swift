import Foundation
import TowerSim

/// The stack's files under DIR.
public struct StackLayout: Sendable {
    public let dir: String
    public var registryData: String { dir + "/registry" }
    public var tokens: String { dir + "/tokens" }
    /// `--tls`: the CA, certificates and keys (`StackPKI`), made again each run.
    public var tls: String { dir + "/tls" }
    /// With `--store postgres`: the stack's own PostgreSQL server (data, socket, log).
    public var postgres: String { dir + "/postgres" }
    public var logs: String { dir + "/logs" }
    public var seed: String { dir + "/seed.json" }
    public var envoyConfig: String { dir + "/envoy.yaml" }
    public var prometheusConfig: String { dir + "/prometheus.yml" }
    public var prometheusData: String { dir + "/prometheus-data" }
    public var manifest: String { dir + "/stack.json" }
    public func log(_ name: String) -> String { logs + "/\(name).log" }

    public init(dir: String) throws {
        let abs = URL(fileURLWithPath: (dir as NSString).expandingTildeInPath).standardizedFileURL.path
        self.dir = abs
        let fm = FileManager.default
        if fm.fileExists(atPath: abs + "/stack.json"),
           let data = fm.contents(atPath: abs + "/stack.json"),
           let m = try? JSONDecoder().decode(StackManifest.self, from: data), kill(m.pid, 0) == 0 {
            throw StackError("a stack is already running from \(abs) (pid \(m.pid)); stop it first")
        }
        // A fresh registry each run: the model servers' ports are new, so old upstreams would be wrong.
        for sub in ["/registry", "/prometheus-data", "/stack.json", "/tls", "/postgres"] { try? fm.removeItem(atPath: abs + sub) }
        for sub in ["", "/registry", "/tokens", "/logs", "/prometheus-data"] {
            try fm.createDirectory(atPath: abs + sub, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
    }
}

/// What the stack says on its standard output: progress, then a table of its parts.
public final class StackOutput: Sendable {
    public init() {}

    public func say(_ s: String) {
        FileHandle.standardOutput.write(Data("stack: \(s)\n".utf8))
    }

    public func report(_ m: StackManifest, children: [ChildProcess], contextWritten: Bool) {
        func state(_ name: String) -> String { children.first { $0.name == name }.map { $0.ended ?? "up" } ?? "up" }
        let replicas = m.replicas.enumerated().map { i, url in
            i == 0 ? ("registry", url, state("registry")) : ("registry \(i + 1)", url, state("registry-\(i + 1)"))
        }
        let rows = replicas + (m.postgres.map { [("postgres", $0, "up")] } ?? []) + [
            ("envoy listener", m.envoy.listener, state("envoy")),
            ("envoy admin", m.envoy.admin, state("envoy")),
            ("prometheus", m.prometheus, state("prometheus")),
            ("simulator", m.simulator + "  (/metrics, Zipkin /api/v2)", "up"),
            ("model servers", "\(m.models.count) versions on 127.0.0.1", "up"),
        ]
        var text = "stack: ready\n"
        for (name, url, st) in rows { text += "  \(name.padding(toLength: 15, withPad: " ", startingAt: 0)) \(st.padding(toLength: 4, withPad: " ", startingAt: 0)) \(url)\n" }
        text += "  tokens          \(URL(fileURLWithPath: m.tokens.operator).deletingLastPathComponent().path)/{admin,operator,viewer,gateway}.token\n"
        if let tls = m.tls {
            text += "  tls             CA \(tls.caFile); operator \(tls.operator.certFile) (no token); Envoy \(tls.gateway.certFile)\n"
            text += "                  (Prometheus, Envoy's admin and the simulator stay plain HTTP on 127.0.0.1)\n"
        }
        if contextWritten { text += "  console         tower --context local\n" }
        text += "  Ctrl-C stops everything.\n"
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
