import Foundation
import TerminalUI
import Yams

/// The console's colours and attributes, by role. Themes only describe colours; the curses backend
/// degrades them to what the terminal has (truecolor → 256 → 16 → 8 → none). Every built-in theme
/// also marks state with attributes (selected = reverse, bad = bold, warn = underline), so
/// `monochrome()` and colour-blind operators still see it: the console never tells state by colour alone.
public struct Theme: Equatable, Sendable {
    public var name: String
    public var description: String
    public var header, title, selected, ok, warn, bad, dim, dialog, dialogTitle, field, error, readOnly, banner: Style

    public init(name: String, description: String = "",
                header: Style = .plain, title: Style = .plain, selected: Style = .plain, ok: Style = .plain,
                warn: Style = .plain, bad: Style = .plain, dim: Style = .plain, dialog: Style = .plain,
                dialogTitle: Style = .plain, field: Style = .plain, error: Style = .plain, readOnly: Style = .plain,
                banner: Style = .plain) {
        self.name = name; self.description = description
        self.header = header; self.title = title; self.selected = selected; self.ok = ok; self.warn = warn
        self.bad = bad; self.dim = dim; self.dialog = dialog; self.dialogTitle = dialogTitle; self.field = field
        self.error = error; self.readOnly = readOnly; self.banner = banner
    }

    /// A role as theme files spell it (kebab-case, like key and action names).
    public enum Role: String, CaseIterable, Sendable {
        case header, title, selected, ok, warn, bad, dim, dialog
        case dialogTitle = "dialog-title", field, error, readOnly = "read-only", banner

        public var keyPath: WritableKeyPath<Theme, Style> {
            switch self {
            case .header: \.header
            case .title: \.title
            case .selected: \.selected
            case .ok: \.ok
            case .warn: \.warn
            case .bad: \.bad
            case .dim: \.dim
            case .dialog: \.dialog
            case .dialogTitle: \.dialogTitle
            case .field: \.field
            case .error: \.error
            case .readOnly: \.readOnly
            case .banner: \.banner
            }
        }
    }

    public subscript(role: Role) -> Style {
        get { self[keyPath: role.keyPath] }
        set { self[keyPath: role.keyPath] = newValue }
    }

    /// Every colour the terminal's default, attributes kept: what `NO_COLOR` and colourless terminals get.
    public func monochrome() -> Theme {
        var t = self
        for role in Role.allCases {
            t[role].fg = .default
            t[role].bg = .default
        }
        return t
    }
}

// MARK: - Parsing

extension Theme {
    /// The colour names a theme file may use, in ANSI order (0–15).
    public static let colorNames: [String] = {
        let base = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]
        return base + base.map { "bright-" + $0 }
    }()

    /// Parses a theme file:
    /// ```yaml
    /// name: default
    /// description: Dark background, the default.
    /// roles:
    ///   header: {fg: "#ffffff", bg: "#005f87", bold: true}
    ///   ok: {fg: green}
    /// ```
    /// Every role must be present, so a theme never silently inherits a colour from somewhere else.
    public static func parse(yaml: String) throws -> Theme {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            // An unquoted `#rrggbb` turns the rest of the line into a comment, which breaks `{…}`.
            let hint = yaml.range(of: #"[:,{]\s*#[0-9A-Fa-f]{6}"#, options: .regularExpression) == nil ? ""
                : "\n(hex colours need quotes, e.g. fg: \"#005f87\" — an unquoted # starts a YAML comment)"
            throw ConfigFileError("theme file is not valid YAML: \(error)\(hint)")
        }
        guard let top = root?.mapping else {
            throw ConfigFileError("theme file must be a mapping with name, description and roles")
        }
        var fields: [String: Node] = [:]
        for (k, v) in top {
            let key = k.string ?? ""
            guard ["name", "description", "roles"].contains(key) else {
                throw ConfigFileError("theme file\(at(k)): unknown key \"\(key)\" — the keys are name, description and roles")
            }
            fields[key] = v
        }
        guard let name = fields["name"]?.scalar?.string, !name.isEmpty else {
            throw ConfigFileError("theme file: missing name: (e.g. name: default)")
        }
        let label = "theme \"\(name)\""
        var theme = Theme(name: name, description: fields["description"]?.scalar?.string ?? "")
        guard let roles = fields["roles"]?.mapping else {
            throw ConfigFileError("\(label): missing roles: (a mapping of \(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        // Yams itself rejects a key given twice.
        var seen = Set<Role>()
        for (k, v) in roles {
            let key = k.string ?? ""
            guard let role = Role(rawValue: key) else {
                throw ConfigFileError("\(label)\(at(k)): unknown role \"\(key)\" — the roles are \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            seen.insert(role)
            do { theme[role] = try style(v) } catch let e as ConfigFileError {
                throw ConfigFileError("\(label), role \(key)\(at(v)): \(e.message)")
            }
        }
        let missing = Role.allCases.filter { !seen.contains($0) }
        if !missing.isEmpty {
            throw ConfigFileError("\(label): missing role\(missing.count == 1 ? "" : "s") \(missing.map(\.rawValue).joined(separator: ", ")) — every role must be given (use {} for plain)")
        }
        return theme
    }

    /// `{fg: COLOUR, bg: COLOUR, bold: BOOL, dim: BOOL, reverse: BOOL, underline: BOOL}`, all optional.
    static func style(_ node: Node) throws -> Style {
        // `ok:` with nothing after it is an empty role, same as `ok: {}`.
        if node.null != nil { return .plain }
        guard let map = node.mapping else {
            throw ConfigFileError("expected a mapping like {fg: green, bold: true}, got \"\(node.string ?? "a list")\"")
        }
        var s = Style()
        for (k, v) in map {
            let key = k.string ?? ""
            switch key {
            case "fg": s.fg = try color(v, key)
            case "bg": s.bg = try color(v, key)
            case "bold": s.bold = try flag(v, key)
            case "dim": s.dim = try flag(v, key)
            case "reverse": s.reverse = try flag(v, key)
            case "underline": s.underline = try flag(v, key)
            default: throw ConfigFileError("unknown attribute \"\(key)\" — use fg, bg, bold, dim, reverse, underline")
            }
        }
        return s
    }

    static func flag(_ node: Node, _ key: String) throws -> Bool {
        guard let b = node.bool else { throw ConfigFileError("\(key) must be true or false, not \"\(node.string ?? "")\"") }
        return b
    }

    static func color(_ node: Node, _ key: String) throws -> Color {
        // An unquoted `#ffffff` is a YAML comment, which leaves the value empty.
        if node.null != nil { throw ConfigFileError("\(key) is empty — write hex colours in quotes, e.g. \(key): \"#005f87\"") }
        guard let text = node.scalar?.string, let c = parseColor(text) else {
            throw ConfigFileError("\(key): unknown colour \"\(node.string ?? "")\" — use default, \(colorNames.joined(separator: ", ")), \"#rrggbb\" or a number 0–255")
        }
        return c
    }

    /// `default`, an ANSI name, `#rrggbb`, or an xterm palette number 0–255.
    public static func parseColor(_ text: String) -> Color? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t == "default" { return .default }
        if let i = colorNames.firstIndex(of: t) { return .ansi(UInt8(i)) }
        if t.hasPrefix("#"), t.count == 7, let v = UInt32(t.dropFirst(), radix: 16) {
            return .rgb(UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF))
        }
        if t.allSatisfy(\.isASCII), let n = Int(t), (0...255).contains(n) { return .indexed(UInt8(n)) }
        return nil
    }

    static func at(_ node: Node) -> String { node.mark.map { " (line \($0.line))" } ?? "" }
}

// MARK: - Built-in and user themes

extension Theme {
    /// The themes compiled in, by name; the texts are `themes/*.yaml` (a test keeps them identical).
    /// A built-in that fails to parse becomes `plain` under its name rather than stopping the console.
    public static let builtIn: [String: Theme] = builtInYAML.reduce(into: [:]) { out, entry in
        var t = (try? parse(yaml: entry.value)) ?? plain
        t.name = entry.key
        out[entry.key] = t
    }

    /// The theme the console starts with.
    public static var standard: Theme { builtIn["default"] ?? plain }

    /// Hard-coded and attribute-only, so it cannot fail: the last resort if a built-in is broken.
    public static let plain = Theme(
        name: "plain", description: "Attributes only; used when a built-in theme cannot be read.",
        header: Style(bold: true, reverse: true), title: Style(bold: true, underline: true), selected: Style(reverse: true),
        warn: Style(underline: true), bad: Style(bold: true), dim: Style(dim: true),
        dialogTitle: Style(bold: true), field: Style(underline: true), error: Style(bold: true, reverse: true),
        readOnly: Style(bold: true, reverse: true), banner: Style(reverse: true))

    /// `userDirectory/NAME.yaml` if it exists (so an operator can override a built-in), else the built-in.
    public static func load(named name: String, userDirectory: String?) throws -> Theme {
        // The name comes from `:theme NAME`; it must not reach outside the theme directory.
        guard !name.isEmpty, !name.hasPrefix("."), name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw ConfigFileError("theme name \"\(name)\" may only use letters, digits, - _ and . — known themes: \(knownNames(userDirectory: userDirectory).joined(separator: ", "))")
        }
        if let dir = userDirectory {
            let path = URL(fileURLWithPath: dir).appendingPathComponent(name + ".yaml").path
            if FileManager.default.fileExists(atPath: path) {
                let text: String
                do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                    throw ConfigFileError("\(path): cannot read the theme file: \(error.localizedDescription)")
                }
                let theme: Theme
                do { theme = try parse(yaml: text) } catch let e as ConfigFileError { throw ConfigFileError("\(path): \(e.message)") }
                guard theme.name == name else {
                    throw ConfigFileError("\(path): the file says name: \(theme.name) — change it to name: \(name) to match the file name")
                }
                return theme
            }
        }
        if let t = builtIn[name] { return t }
        throw ConfigFileError("unknown theme \"\(name)\" — known themes: \(knownNames(userDirectory: userDirectory).joined(separator: ", "))")
    }

    /// `load`, then without colour when the caller says so (`NO_COLOR` set and non-empty).
    public static func resolve(named name: String, userDirectory: String?, noColor: Bool) throws -> Theme {
        let t = try load(named: name, userDirectory: userDirectory)
        return noColor ? t.monochrome() : t
    }

    /// Built-in names and the `.yaml` files in the user's directory, sorted, without repeats.
    public static func knownNames(userDirectory: String?) -> [String] {
        var names = Set(builtIn.keys)
        if let dir = userDirectory, let files = try? FileManager.default.contentsOfDirectory(atPath: dir) {
            for f in files where f.hasSuffix(".yaml") && !f.hasPrefix(".") { names.insert(String(f.dropLast(5))) }
        }
        return names.sorted()
    }
}
