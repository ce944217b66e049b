import Foundation
import TerminalUI
import Testing
@testable import TowerConsole

@Suite struct KeymapFileTests {
    static func message(_ yaml: String, base: Keymap = .standard) -> String {
        do { _ = try Keymap.parse(yaml: yaml, base: base); return "no error" } catch { return "\(error)" }
    }

    @Test func overridesOnlyTheActionsNamed() throws {
        let k = try Keymap.parse(yaml: """
            # comments are fine
            step-up: ["+", "="]
            quit: [q, Ctrl-c]
            help: F1
            open: [Enter, Space, Enter]
            """)
        #expect(k.bindings[.stepUp] == [.char("+"), .char("=")])
        #expect(k.bindings[.quit] == [.char("q"), .ctrl("c")])
        #expect(k.bindings[.help] == [.function(1)])
        #expect(k.bindings[.open] == [.enter, .char(" ")], "a repeated key is kept once")
        for a in Action.allCases where ![.stepUp, .quit, .help, .open].contains(a) {
            #expect(k.bindings[a] == Keymap.standard.bindings[a])
        }
        #expect(k.action(for: .char("=")) == .stepUp)
        #expect(k.action(for: .char("?")) == nil)
    }

    @Test func movingAKeyBetweenActionsWorksWhenBothAreNamed() throws {
        let k = try Keymap.parse(yaml: "drain: [x]\nquit: [d]\n")
        #expect(k.action(for: .char("d")) == .quit)
        #expect(k.action(for: .char("x")) == .drain)
    }

    @Test func emptyFilesChangeNothing() throws {
        #expect(try Keymap.parse(yaml: "") == .standard)
        #expect(try Keymap.parse(yaml: "# nothing yet\n") == .standard)
    }

    @Test func controlKeysIgnoreCase() throws {
        #expect(try Keymap.parse(yaml: "quit: [q, Ctrl-C]").bindings[.quit] == [.char("q"), .ctrl("c")])
    }

    @Test func anUnknownActionListsTheRealOnes() {
        let m = Self.message("stepup: [+]\n")
        #expect(m.contains("unknown action \"stepup\""))
        #expect(m.contains("step-up") && m.contains("drain-endpoint") && m.contains("line 1"))
    }

    @Test func anUnknownKeySaysWhatToWrite() {
        let enter = Self.message("open: [enter]")
        #expect(enter.contains("open") && enter.contains("unknown key \"enter\"") && enter.contains("did you mean Enter?"))
        #expect(Self.message("back: Escape").contains("did you mean Esc?"))
        #expect(Self.message("help: f1").contains("did you mean F1?"))
        #expect(Self.message("quit: ctrl+c").contains("did you mean Ctrl-c?"))
        let junk = Self.message("quit: [q, F13]")
        #expect(junk.contains("unknown key \"F13\"") && junk.contains("PgDn") && junk.contains("Ctrl-a"))
    }

    @Test func anUnquotedHashIsExplained() {
        let m = Self.message("filter: [#]\n")
        #expect(m.contains("filter") && m.contains("quotes"))
    }

    @Test func aKeyOnTwoActionsNamesBoth() {
        let m = Self.message("quit: [d]\n")
        #expect(m.contains("key d is bound to both quit and drain"))
        #expect(m.contains("drain still has its default keys (d)"))
        let both = Self.message("quit: [x]\nhelp: [x]\n")
        #expect(both.contains("key x is bound to both quit and help"))
    }

    @Test func anActionLeftWithoutKeys() {
        #expect(Self.message("quit: []").contains("quit has no keys"))
        #expect(Self.message("quit:").contains("quit has no keys"))
        let partial = Keymap(bindings: Keymap.standard.bindings.filter { $0.key != .rollback })
        #expect(Self.message("quit: [q]", base: partial).contains("rollback has no keys"))
    }

    @Test func otherShapesAndBadYAML() {
        #expect(Self.message("- quit\n").contains("must be a mapping"))
        #expect(Self.message("quit: {key: q}").contains("must be a key name or a list"))
        #expect(Self.message("quit: [q\n").contains("not valid YAML"))
        #expect(Self.message("quit: [q]\nquit: [x]\n").contains("duplicated key"))
    }

    @Test func loadReadsAFileOrFallsBackToStandard() throws {
        #expect(try Keymap.load(path: nil) == .standard)
        #expect(try Keymap.load(path: "/nonexistent/tower/keymap.yaml") == .standard)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tower-keymap-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try "sort: [O]\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try Keymap.load(path: file.path).bindings[.sort] == [.char("O")])
        try "sort: [Enter]\n".write(to: file, atomically: true, encoding: .utf8)
        var message = ""
        do { _ = try Keymap.load(path: file.path) } catch { message = "\(error)" }
        #expect(message.hasPrefix(file.path) && message.contains("key Enter is bound to both open and sort"))
    }
}
