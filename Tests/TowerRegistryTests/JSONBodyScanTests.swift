import Foundation
import Testing
import TowerDomain
@testable import TowerRegistry

/// The pre-decoding scan: exact on what it reports, and never stuck or crashing on bytes a
/// client chose (it is not a fuzz target, since tower-fuzz stays free of the server's modules).
@Suite struct JSONBodyScanTests {
    @Test func itFindsWhatItReportsWhereItIs() {
        #expect(JSONBodyScan(Array(#"{"a":{"b":[{"c":1,"c":2}]}}"#.utf8)).duplicate == "a.b[0].c")
        #expect(JSONBodyScan(Array(#"{"a":1,"b":{"a":2}}"#.utf8)).duplicate == nil, "equal keys in different objects")
        #expect(JSONBodyScan(Array(#"{"k\"q":1,"k\u0022q":2}"#.utf8)).duplicate == #"k"q"#)
        #expect(JSONBodyScan(Array(#"{"x":[1,null]}"#.utf8)).null == "x[1]")
        #expect(JSONBodyScan(Array(#"{"x":"null"}"#.utf8)).null == nil, "a string is not null")
        #expect(JSONBodyScan(Array(#"{"w":{"v1":89.5},"n":7}"#.utf8)).oddNumbers.map(\.path) == ["w.v1"])
        #expect(JSONBodyScan(Array((String(repeating: "[", count: 100) + String(repeating: "]", count: 100)).utf8)).tooDeep)
        #expect(!JSONBodyScan(Array((String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).utf8)).tooDeep)
    }

    @Test func bodiesWithUniqueKeysAreNeverCalledDuplicate() throws {
        var rng = SplitMix64(seed: 13)
        for _ in 0..<300 {
            var object: [String: Any] = [:]
            for _ in 0..<Int(rng.next() % 8) {
                let key = String((0..<Int(rng.next() % 4)).map { _ in Character(UnicodeScalar(UInt8(0x61 + rng.next() % 3))) })
                object[key] = rng.next() % 2 == 0 ? Int(rng.next() % 100) : ["é\u{1F680}": [key: true]]
            }
            let data = try JSONSerialization.data(withJSONObject: object)
            let scan = JSONBodyScan(Array(data))
            #expect(scan.duplicate == nil && scan.null == nil && !scan.tooDeep, "\(String(decoding: data, as: UTF8.self))")
        }
    }

    @Test func arbitraryBytesEndTheScan() {
        var rng = SplitMix64(seed: 7)
        let alphabet = Array(#"{}[]":,\u0009 0123456789.eE-+tfnaulrsx"#.utf8) + [0xC3, 0xA9, 0xFF, 0x00]
        for _ in 0..<2000 {
            let bytes = (0..<Int(rng.next() % 64)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            _ = JSONBodyScan(bytes)
        }
    }
}
