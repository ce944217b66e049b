import Foundation
import TerminalUI
import Testing
import TowerDomain
@testable import TowerConsole

/// Text written before the registry refused bidirectional overrides and line separators (or by
/// something else) is drawn with them escaped, so an audit line cannot read as another.
@Suite struct DeceptiveTextViewTests {
    @Test func theEndpointScreenDrawsOverridesEscaped() throws {
        var s = CF.loaded(width: 120, height: 30)
        CF.keys(&s, [.char("j"), .char("j"), .enter])
        _ = update(&s, .revisionsLoaded(endpoint: "fraud-score", [
            RevisionRecord(revision: 5, time: CF.now.addingTimeInterval(-300), actor: "alice", action: .shift,
                           reason: "approved \u{202E}devorppa ton\u{2028}x", summary: "v3 90→100, v4 10→0", endpoint: CF.fleet[2]),
        ]))
        let text = view(s).text
        #expect(text.contains("approved \\u{202E}devorppa ton\\u{2028}x"), "\(text)")
        #expect(!text.unicodeScalars.contains { Names.isDeceptive($0) })
    }
}
