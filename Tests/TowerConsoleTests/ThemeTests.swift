import Foundation
import TerminalUI
import Testing
@testable import TowerConsole

@Suite struct ThemeTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let themesDir = repoRoot.appendingPathComponent("themes")
    static let builtInNames = Theme.builtInYAML.keys.sorted()

    /// A complete theme file with `roles` lines replaced or added, for the error cases.
    static func yaml(name: String = "mine", roles overrides: [String: String?] = [:]) -> String {
        var roles: [String: String] = Dictionary(uniqueKeysWithValues: Theme.Role.allCases.map { ($0.rawValue, "{}") })
        for (k, v) in overrides { roles[k] = v }
        let lines = roles.keys.sorted().map { "  \($0): \(roles[$0]!)" }
        return "name: \(name)\ndescription: test\nroles:\n" + lines.joined(separator: "\n") + "\n"
    }

    static func message(_ body: () throws -> Theme) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    // MARK: parsing

    @Test func parsesEveryColourForm() throws {
        let t = try Theme.parse(yaml: Self.yaml(roles: [
            "header": ##"{fg: "#ffffff", bg: "#005F87", bold: true}"##,
            "ok": "{fg: green}",
            "warn": "{fg: bright-yellow, bg: 208, underline: true}",
            "bad": "{fg: default, bg: bright-black, bold: true, dim: false}",
            "selected": "{reverse: true}",
            "dim": "{dim: true}",
            "field": "",
        ]))
        #expect(t.name == "mine")
        #expect(t.description == "test")
        #expect(t.header == Style(fg: .rgb(255, 255, 255), bg: .rgb(0, 0x5f, 0x87), bold: true))
        #expect(t.ok == Style(fg: .ansi(2)))
        #expect(t.warn == Style(fg: .ansi(11), bg: .indexed(208), underline: true))
        #expect(t.bad == Style(bg: .ansi(8), bold: true))
        #expect(t.selected == Style(reverse: true))
        #expect(t.dim == Style(dim: true))
        #expect(t.field == .plain)
    }

    @Test(arguments: [
        ("default", Color.default), ("black", .ansi(0)), ("white", .ansi(7)), ("bright-black", .ansi(8)),
        ("bright-white", .ansi(15)), ("Magenta", .ansi(5)), ("#00ff80", .rgb(0, 255, 128)), ("0", .indexed(0)),
        ("255", .indexed(255)),
    ])
    func colourNames(_ text: String, _ color: Color) {
        #expect(Theme.parseColor(text) == color)
    }

    @Test(arguments: ["256", "-1", "#fff", "#gggggg", "grey", "bright-orange", "", "0x10", "١"])
    func badColourNamesAreRejected(_ text: String) {
        #expect(Theme.parseColor(text) == nil)
    }

    @Test func aBadColourNamesTheThemeTheRoleAndTheChoices() {
        let m = Self.message { try Theme.parse(yaml: Self.yaml(roles: ["ok": "{fg: grean}"])) }
        #expect(m.contains("theme \"mine\""))
        #expect(m.contains("role ok"))
        #expect(m.contains("\"grean\""))
        #expect(m.contains("bright-white") && m.contains("#rrggbb"))
    }

    @Test func anUnquotedHexColourExplainsTheQuotes() {
        let block = Self.message { try Theme.parse(yaml: Self.yaml(roles: ["header": "\n    fg: #ffffff\n    bold: true"])) }
        #expect(block.contains("role header") && block.contains("quotes"))
        let flow = Self.message { try Theme.parse(yaml: Self.yaml(roles: ["header": "{fg: #ffffff}"])) }
        #expect(flow.contains("not valid YAML") && flow.contains("quotes"))
    }

    @Test func aMissingRoleIsNamed() {
        let m = Self.message { try Theme.parse(yaml: Self.yaml(roles: ["banner": nil, "read-only": nil])) }
        #expect(m.contains("theme \"mine\""))
        #expect(m.contains("missing roles read-only, banner"))
    }

    @Test func anUnknownRoleListsTheRealOnes() {
        let m = Self.message { try Theme.parse(yaml: Self.yaml(roles: ["dialogTitle": "{bold: true}"])) }
        #expect(m.contains("theme \"mine\""))
        #expect(m.contains("unknown role \"dialogTitle\""))
        #expect(m.contains("dialog-title"))
    }

    @Test func otherMistakesInARole() {
        let attr = Self.message { try Theme.parse(yaml: Self.yaml(roles: ["warn": "{italic: true}"])) }
        #expect(attr.contains("role warn") && attr.contains("unknown attribute \"italic\""))
        let flag = Self.message { try Theme.parse(yaml: Self.yaml(roles: ["bad": "{bold: very}"])) }
        #expect(flag.contains("role bad") && flag.contains("bold must be true or false"))
        let shape = Self.message { try Theme.parse(yaml: Self.yaml(roles: ["ok": "green"])) }
        #expect(shape.contains("role ok") && shape.contains("expected a mapping"))
        let twice = Self.message { try Theme.parse(yaml: Self.yaml() + "  ok: {}\n") }
        #expect(twice.contains("duplicated key") && twice.contains("'ok'"))
    }

    @Test func badYAMLAndBadShapes() {
        #expect(Self.message { try Theme.parse(yaml: "name: x\nroles: {ok: [}\n") }.contains("not valid YAML"))
        #expect(Self.message { try Theme.parse(yaml: "") }.contains("must be a mapping"))
        #expect(Self.message { try Theme.parse(yaml: "roles: {}\n") }.contains("missing name"))
        #expect(Self.message { try Theme.parse(yaml: "name: x\n") }.contains("theme \"x\": missing roles"))
        #expect(Self.message { try Theme.parse(yaml: Self.yaml() + "colours: {}\n") }.contains("unknown key \"colours\""))
    }

    // MARK: monochrome

    @Test func monochromeDropsColoursAndKeepsAttributes() {
        let t = Theme(name: "t", header: Style(fg: .rgb(1, 2, 3), bg: .ansi(4), bold: true), ok: Style(fg: .indexed(40), underline: true))
        let m = t.monochrome()
        #expect(m.header == Style(bold: true))
        #expect(m.ok == Style(underline: true))
        #expect(m.name == "t")
        for role in Theme.Role.allCases {
            #expect(m[role].fg == .default && m[role].bg == .default)
        }
        #expect(m.monochrome() == m)
    }

    /// The console never tells state by colour alone: without colour every built-in still marks these.
    @Test(arguments: builtInNames)
    func builtInsStayReadableWithoutColour(_ name: String) throws {
        let m = try #require(Theme.builtIn[name]).monochrome()
        for role in [Theme.Role.selected, .bad, .warn, .header, .field, .error, .readOnly] {
            #expect(m[role] != Style(), "\(name): \(role.rawValue) is plain without colour")
        }
        let states: [Theme.Role] = [.ok, .warn, .bad, .selected]
        #expect(Set(states.map { m[$0] }).count == states.count, "\(name): ok, warn, bad and selected look alike without colour")
    }

    @Test func resolveAppliesNoColor() throws {
        #expect(try Theme.resolve(named: "default", userDirectory: nil, noColor: false) == Theme.standard)
        #expect(try Theme.resolve(named: "default", userDirectory: nil, noColor: true) == Theme.standard.monochrome())
    }

    // MARK: built-ins and files

    @Test func everyBuiltInParsesUnderItsOwnName() throws {
        #expect(Set(Self.builtInNames).isSuperset(of: ["default", "light", "high-contrast", "monochrome", "colorblind"]))
        for (name, text) in Theme.builtInYAML {
            let t = try Theme.parse(yaml: text)
            #expect(t.name == name)
            #expect(!t.description.isEmpty)
            #expect(Theme.builtIn[name] == t)
        }
        #expect(Theme.standard.name == "default")
        #expect(Theme.standard != Theme.plain)
    }

    @Test func themeFilesAreTheBuiltInsByteForByte() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.themesDir.path).filter { $0.hasSuffix(".yaml") }
        #expect(Set(files.map { String($0.dropLast(5)) }) == Set(Self.builtInNames), "themes/ and BuiltinThemes.swift list different themes")
        for file in files {
            let data = try Data(contentsOf: Self.themesDir.appendingPathComponent(file))
            let text = try #require(String(data: data, encoding: .utf8))
            do { _ = try Theme.parse(yaml: text) } catch { Issue.record("themes/\(file): \(error)") }
            #expect(Data((Theme.builtInYAML[String(file.dropLast(5))] ?? "").utf8) == data, "themes/\(file) differs from its copy in BuiltinThemes.swift")
        }
    }

    @Test func colorblindNeverReliesOnRedAgainstGreen() throws {
        let t = try #require(Theme.builtIn["colorblind"])
        let redOrGreen: Set<UInt8> = [1, 2, 9, 10]
        #expect(!redOrGreen.contains(t.ok.fg.ansi16), "ok must not become red or green on 16 colours")
        for role in [t.ok, t.warn, t.bad] { #expect(![Color.ansi(1), .ansi(2), .ansi(9), .ansi(10)].contains(role.fg)) }
        // Distinct even on a 16-colour terminal, and bad is also bold.
        #expect(Set([t.ok.fg.ansi16, t.warn.fg.ansi16, t.bad.fg.ansi16]).count == 3)
        #expect(t.bad.bold)
        if case .rgb(let r, let g, let b) = t.ok.fg { #expect(b > r && b > g, "ok should be blue") } else { Issue.record("ok should be an RGB blue") }
    }

    // MARK: loading

    @Test func loadPrefersTheUserDirectoryThenBuiltIns() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tower-themes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.yaml(name: "mine", roles: ["ok": "{fg: blue}"]).write(to: dir.appendingPathComponent("mine.yaml"), atomically: true, encoding: .utf8)
        try Self.yaml(name: "light", roles: ["ok": "{fg: cyan}"]).write(to: dir.appendingPathComponent("light.yaml"), atomically: true, encoding: .utf8)
        try Self.yaml(name: "other", roles: [:]).write(to: dir.appendingPathComponent("renamed.yaml"), atomically: true, encoding: .utf8)
        try Self.yaml(name: "broken", roles: ["ok": "{fg: grean}"]).write(to: dir.appendingPathComponent("broken.yaml"), atomically: true, encoding: .utf8)

        #expect(try Theme.load(named: "mine", userDirectory: dir.path).ok == Style(fg: .ansi(4)))
        #expect(try Theme.load(named: "light", userDirectory: dir.path).ok == Style(fg: .ansi(6)))
        #expect(try Theme.load(named: "high-contrast", userDirectory: dir.path) == Theme.builtIn["high-contrast"])
        #expect(try Theme.load(named: "default", userDirectory: "/nonexistent/tower") == Theme.standard)

        let broken = Self.message { try Theme.load(named: "broken", userDirectory: dir.path) }
        #expect(broken.contains("broken.yaml") && broken.contains("role ok") && broken.contains("grean"))
        let renamed = Self.message { try Theme.load(named: "renamed", userDirectory: dir.path) }
        #expect(renamed.contains("name: renamed"))
        let unknown = Self.message { try Theme.load(named: "solarized", userDirectory: dir.path) }
        #expect(unknown.contains("unknown theme \"solarized\""))
        #expect(unknown.contains("colorblind") && unknown.contains("mine") && unknown.contains("default"))
        let escape = Self.message { try Theme.load(named: "../../etc/x", userDirectory: dir.path) }
        #expect(escape.contains("may only use"))
    }
}
