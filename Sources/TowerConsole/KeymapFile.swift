import Foundation
import TerminalUI
import Yams

extension Keymap {
    /// Reads `keymap.yaml`: action name → key name or list of key names, overriding only the actions
    /// it names, e.g.
    /// ```yaml
    /// step-up: ["+", "="]
    /// quit: [q, Ctrl-c]
    /// ```
    /// The result must still give every action a key and no key two actions, so a typo can never
    /// leave the operator without a way to quit or make one key do something unexpected.
    public static func parse(yaml: String, base: Keymap = .standard) throws -> Keymap {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            // `[#]` or `[q, #]`: the # starts a comment and swallows the rest of the list.
            let hint = yaml.range(of: #"[\[,]\s*#"#, options: .regularExpression) == nil ? ""
                : "\n(put punctuation keys in quotes, e.g. filter: [\"#\"] — an unquoted # starts a YAML comment)"
            throw ConfigFileError("keymap is not valid YAML: \(error)\(hint)")
        }
        // An empty file (or one with only comments) changes nothing.
        guard let root else { return base }
        guard let map = root.mapping else {
            throw ConfigFileError("keymap must be a mapping of action: [keys], e.g. quit: [q, Ctrl-c]")
        }
        var bindings = base.bindings
        var named = Set<Action>()  // Yams itself rejects an action given twice.
        for (k, v) in map {
            let name = k.string ?? ""
            guard let action = Action(rawValue: name) else {
                throw ConfigFileError("keymap\(at(k)): unknown action \"\(name)\" — the actions are \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            named.insert(action)
            let nodes: [Node]
            switch v {
            case .sequence(let s): nodes = Array(s)
            case .scalar: nodes = v.null != nil ? [] : [v]
            default: throw ConfigFileError("keymap\(at(v)): \(name) must be a key name or a list of them, e.g. \(name): [x, F5]")
            }
            var keys: [KeyEvent] = []
            for n in nodes {
                let key = try keyEvent(n, action: name)
                if !keys.contains(key) { keys.append(key) }
            }
            if keys.isEmpty {
                let keep = base.keys(action).isEmpty ? "" : ", or leave it out to keep \(base.keys(action))"
                throw ConfigFileError("keymap\(at(v)): \(name) has no keys — give it at least one\(keep)")
            }
            bindings[action] = keys
        }
        // Only possible with a partial base, but the console must never lose an action.
        for a in Action.allCases where (bindings[a] ?? []).isEmpty {
            throw ConfigFileError("keymap: \(a.rawValue) has no keys — give it at least one")
        }
        var owner: [KeyEvent: Action] = [:]
        for a in Action.allCases {
            for key in bindings[a]! {
                guard let other = owner[key] else { owner[key] = a; continue }
                // Say which side still has its default keys: that is usually the one the operator forgot.
                let untouched = [other, a].filter { !named.contains($0) }
                let hint = untouched.map { " \($0.rawValue) still has its default keys (\(base.keys($0))); rebind it too, or" }.joined()
                throw ConfigFileError("keymap: key \(key.name) is bound to both \(other.rawValue) and \(a.rawValue) —\(hint) give one of them another key")
            }
        }
        return Keymap(bindings: bindings)
    }

    /// The keymap at `path`, or `.standard` when there is no path or no file there.
    public static func load(path: String?) throws -> Keymap {
        guard let path, FileManager.default.fileExists(atPath: path) else { return .standard }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigFileError("\(path): cannot read the keymap: \(error.localizedDescription)")
        }
        do { return try parse(yaml: text) } catch let e as ConfigFileError { throw ConfigFileError("\(path): \(e.message)") }
    }

    static func keyEvent(_ node: Node, action: String) throws -> KeyEvent {
        // An unquoted `#` starts a comment and `-` or `:` alone confuse YAML, so an empty name is
        // nearly always punctuation that needed quotes.
        guard node.null == nil, let text = node.scalar?.string, !text.isEmpty else {
            throw ConfigFileError("keymap\(at(node)): \(action) has an empty key name — put punctuation keys in quotes, e.g. \"#\" or \"-\"")
        }
        // Terminals send the same byte for Ctrl-C and Ctrl-c; the decoder reports the lower case.
        let name = text.hasPrefix("Ctrl-") && text.count == 6 ? "Ctrl-" + text.suffix(1).lowercased() : text
        if let key = KeyEvent(name: name) { return key }
        let named = ["Space", "Enter", "Esc", "Tab", "Shift-Tab", "Backspace", "Delete", "Up", "Down", "Left", "Right",
                     "Home", "End", "PgUp", "PgDn"]
        let lower = text.lowercased()
        let suggestion = named.first { $0.lowercased() == lower }
            ?? ["escape": "Esc", "return": "Enter", "pageup": "PgUp", "pagedown": "PgDn", "del": "Delete"][lower]
            ?? [("ctrl+", "Ctrl-"), ("ctrl-", "Ctrl-"), ("f", "F")].lazy.compactMap { prefix, fixed in
                lower.hasPrefix(prefix) ? KeyEvent(name: fixed + lower.dropFirst(prefix.count))?.name : nil
            }.first
        let fix = suggestion.map { " — did you mean \($0)?" }
            ?? " — use a single character, \(named.joined(separator: ", ")), F1–F12 or Ctrl-a … Ctrl-z"
        throw ConfigFileError("keymap\(at(node)): \(action): unknown key \"\(text)\"\(fix)")
    }

    static func at(_ node: Node) -> String { node.mark.map { " (line \($0.line))" } ?? "" }
}
