import Foundation
import TerminalUI
import Testing
import TowerDomain
@testable import TowerConsole

/// A context that does not verify a server's certificate says so in the header, loudly, on any
/// width, and a switch to a verified context takes the mark away.
@Suite struct TLSUnverifiedTests {
    static func header(_ s: ConsoleState) -> String {
        String(view(s).text.split(separator: "\n", omittingEmptySubsequences: false)[0])
    }

    @Test func theHeaderSaysTLSUnverifiedWhileItIsSo() {
        var s = CF.loaded(width: 60, height: 20)
        #expect(!Self.header(s).contains("TLS UNVERIFIED"))
        s.registryError = "unreachable: a long error that would fill a narrow header from end to end"
        _ = update(&s, .contextSwitched(name: "lab", readOnly: false, tlsUnverified: true))
        s.registryError = "unreachable: a long error that would fill a narrow header from end to end"
        let line = Self.header(s)
        #expect(line.contains("ctx lab  TLS UNVERIFIED "), "\(line)")
        let f = view(s)
        let at = Array(line).firstIndex(of: "T") ?? 0
        #expect(f[at, 0].style == s.theme.error, "the mark is drawn in the error style")
        _ = update(&s, .contextSwitched(name: "prod", readOnly: false))
        #expect(!Self.header(s).contains("TLS UNVERIFIED"))
    }
}
