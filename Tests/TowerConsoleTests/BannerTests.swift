import Foundation
import TerminalUI
import Testing
import TowerDomain
@testable import TowerConsole

/// A context's banner colour marks its name in the header, so a production console does not look
/// like a local one at 3 a.m.
@Suite struct BannerTests {
    static func ctxCells(_ f: Frame, _ name: String) -> [Cell] {
        let line = Array(f.text.split(separator: "\n", omittingEmptySubsequences: false)[0])
        let word = Array("ctx \(name)")
        guard let start = (0...(line.count - word.count)).first(where: { Array(line[$0..<$0 + word.count]) == word }) else { return [] }
        return (start..<start + word.count).map { f[$0, 0] }
    }

    @Test func aBannerColoursTheContextNameAndNothingElse() throws {
        var s = CF.loaded(width: 100, height: 30)
        s.contextName = "prod"
        let plain = Self.ctxCells(view(s), "prod")
        #expect(!plain.isEmpty && plain.allSatisfy { $0.style == s.theme.header })

        s.banner = .ansi(1)
        let f = view(s)
        let marked = Self.ctxCells(f, "prod")
        #expect(!marked.isEmpty && marked.allSatisfy { $0.style.bg == .ansi(1) && $0.style.bold })
        #expect(f[1, 0].style == s.theme.header, "the rest of the header keeps its style")
    }

    @Test func switchingContextTakesItsBannerOrNone() {
        var s = CF.loaded()
        _ = update(&s, .contextSwitched(name: "prod", readOnly: true, banner: .ansi(1)))
        #expect(s.banner == .ansi(1) && s.contextName == "prod")
        _ = update(&s, .contextSwitched(name: "local", readOnly: false))
        #expect(s.banner == nil)
    }

    @Test func inMonochromeTheBannerStillShowsAsReverse() throws {
        var s = CF.loaded(width: 100, height: 30)
        s.theme = try Theme.parse(yaml: Theme.builtInYAML["monochrome"] ?? "")
        s.contextName = "prod"
        s.banner = .ansi(1)
        #expect(Self.ctxCells(view(s), "prod").allSatisfy { $0.style.reverse })
    }
}
