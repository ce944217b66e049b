import Foundation
import Yams

/// A named place to operate on, like a kubectl context: which registry, with which token, and
/// whether actions are allowed. Read from `$XDG_CONFIG_HOME/tower/config.yaml`.
public struct TowerContext: Codable, Sendable, Equatable {
    public var name: String
    public var registry: String
    /// A file holding the token. Tokens never come from the command line.
    public var tokenFile: String?
    public var readOnly: Bool?
    /// A colour for the status line of a production context.
    public var banner: String?

    public init(name: String, registry: String, tokenFile: String? = nil, readOnly: Bool? = nil, banner: String? = nil) {
        self.name = name; self.registry = registry; self.tokenFile = tokenFile; self.readOnly = readOnly; self.banner = banner
    }
}

public struct TowerConfig: Codable, Sendable, Equatable {
    public var currentContext: String?
    public var contexts: [TowerContext]

    public init(currentContext: String? = nil, contexts: [TowerContext] = []) {
        self.currentContext = currentContext; self.contexts = contexts
    }

    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config")
        return base + "/tower/config.yaml"
    }

    /// The config at `path`, or an empty one when there is no file. A file that exists but cannot be
    /// read is an error: silently ignoring it could point an operator at the wrong registry.
    public static func load(path: String) throws -> TowerConfig {
        guard FileManager.default.fileExists(atPath: path) else { return TowerConfig() }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError("cannot read \(path)")
        }
        do {
            return try YAMLDecoder().decode(TowerConfig.self, from: text)
        } catch {
            throw ConfigError("\(path) is not a valid Tower config: \(error)")
        }
    }

    public func context(named name: String?) throws -> TowerContext? {
        guard let wanted = name ?? currentContext else { return nil }
        guard let c = contexts.first(where: { $0.name == wanted }) else {
            throw ConfigError("no context named '\(wanted)'; known: \(contexts.map(\.name).joined(separator: ", "))")
        }
        return c
    }
}

public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Where a token comes from, in order: `--token-file`, the context's token file, `TOWER_TOKEN`.
public enum TokenSource {
    public static func read(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        if let file {
            guard let raw = try? String(contentsOfFile: (file as NSString).expandingTildeInPath, encoding: .utf8) else {
                throw ConfigError("cannot read token file \(file)")
            }
            let token = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if token.isEmpty { throw ConfigError("token file \(file) is empty") }
            return token
        }
        if let t = environment["TOWER_TOKEN"], !t.isEmpty { return t }
        return nil
    }
}
