import Foundation
import Testing
@testable import TowerDomain

/// Reading a promotion bundle decodes and re-encodes through the canonical tree instead of
/// JSONDecoder and JSONEncoder (docs/performance.md, bundles): the tree coders must give exactly
/// what the Foundation ones give through `Wire`, or a bundle would verify here and not at its
/// source, or the other way round.
@Suite struct CanonicalJSONCodingTests {
    struct Odd: Codable, Equatable {
        var i8: Int8, u64: UInt64, whole: Double, flag: Bool, when: Date, link: URL, raw: Data
        var nested: [[String: Int]], absent: String?, present: String?
        var state: VersionState
    }

    static let odd = Odd(i8: -8, u64: 1 << 40, whole: 210, flag: false, when: Timestamp.date(ms: 1_795_000_000_123),
                         link: URL(string: "s3://m/a?b=c")!, raw: Data([0, 1, 254, 255]), nested: [["b": 2, "a": -1], [:]],
                         absent: nil, present: "é\"\\\n", state: .draining)

    @Test func theTreeEncoderGivesWhatJSONEncoderAndTheReaderGive() throws {
        let bundle = try PromotionBundle.read(try PromotionBundleTests.bundle()).bundle
        #expect(try CanonicalJSON.encoding(bundle) == CanonicalJSON.of(bundle))
        #expect(try CanonicalJSON.encoding(Self.odd) == CanonicalJSON.of(Self.odd))
        let entry = PromotionBundleTests.entry(seq: 7, prev: AuditEntry.genesisHash)
        #expect(try CanonicalJSON.encoding(entry) == CanonicalJSON.of(entry))
    }

    @Test func whatJSONEncoderCannotWriteCanonicallyTheTreeEncoderRefusesToo() {
        struct Fraction: Codable { var x: Double }
        struct Null: Encodable {
            func encode(to encoder: any Encoder) throws { var c = encoder.container(keyedBy: TreeIndexKey.self); try c.encodeNil(forKey: TreeIndexKey(stringValue: "n")) }
        }
        #expect(throws: (any Error).self) { try CanonicalJSON.of(Fraction(x: 0.5)) }
        #expect(throws: (any Error).self) { try CanonicalJSON.encoding(Fraction(x: 0.5)) }
        #expect(throws: (any Error).self) { try CanonicalJSON.encoding(Fraction(x: 1e300)) }
        #expect(throws: (any Error).self) { try CanonicalJSON.of(Null()) }
        #expect(throws: (any Error).self) { try CanonicalJSON.encoding(Null()) }
    }

    @Test func theTreeDecoderGivesWhatJSONDecoderGives() throws {
        let bytes = try PromotionBundleTests.bundle()
        let tree = try CanonicalJSON.parse(Array(bytes.dropLast()))
        #expect(try tree.decode(PromotionBundle.self) == Wire.decoder().decode(PromotionBundle.self, from: Data(bytes)))
        let odd = try CanonicalJSON.of(Self.odd)
        #expect(try odd.decode(Odd.self) == Self.odd)
        #expect(try odd.decode(Odd.self) == Wire.decoder().decode(Odd.self, from: Data(odd.bytes)))
    }

    /// The refusal sentences name the field: the tree decoder must throw the same kinds of error
    /// at the same paths as JSONDecoder.
    @Test(arguments: [
        (#"{"i8":1}"#, "keyNotFound u64"),
        (#"{"i8":"1"}"#, "typeMismatch i8"),
        (#"{"i8":1,"u64":1,"whole":1,"flag":true,"when":"yesterday"}"#, "dataCorrupted when"),
        (#"{"i8":1,"u64":1,"whole":1,"flag":true,"when":"2026-01-01T00:00:00Z","link":"s3://x","raw":"AA==","nested":[{"a":"x"}]}"#,
         "typeMismatch nested.0.a"),
        (#"{"i8":1,"u64":1,"whole":1,"flag":true,"when":"2026-01-01T00:00:00Z","link":"s3://x","raw":"AA==","nested":[],"state":"gone"}"#,
         "dataCorrupted state"),
    ])
    func decodingErrorsMatchJSONDecoders(json: String, expected: String) throws {
        func kind(_ body: () throws -> Odd) -> String {
            do { _ = try body(); return "decoded" } catch let e as DecodingError {
                switch e {
                case .keyNotFound(let k, _): return "keyNotFound \(k.stringValue)"
                case .typeMismatch(_, let c): return "typeMismatch " + c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
                case .valueNotFound(_, let c): return "valueNotFound " + c.codingPath.map(\.stringValue).joined(separator: ".")
                case .dataCorrupted(let c): return "dataCorrupted " + c.codingPath.map(\.stringValue).joined(separator: ".")
                @unknown default: return "unknown"
                }
            } catch { return "other \(error)" }
        }
        let tree = try CanonicalJSON.parse(Array(json.utf8))
        #expect(kind { try tree.decode(Odd.self) } == expected)
        #expect(kind { try Wire.decoder().decode(Odd.self, from: Data(json.utf8)) } == expected)
    }

    /// A number out of its type's range: both refuse it as corrupt; JSONDecoder leaves the path
    /// empty there, the tree decoder names the field. (No bundle field is narrower than 64 bits.)
    @Test func aNumberOutOfRangeIsCorruptData() throws {
        #expect(throws: DecodingError.self) { try CanonicalJSON.parse(Array(#"{"i8":300}"#.utf8)).decode(Odd.self) }
        #expect(throws: DecodingError.self) { try Wire.decoder().decode(Odd.self, from: Data(#"{"i8":300}"#.utf8)) }
        do { _ = try CanonicalJSON.parse(Array(#"{"i8":300}"#.utf8)).decode(Odd.self) } catch DecodingError.dataCorrupted(let c) {
            #expect(c.codingPath.map(\.stringValue) == ["i8"])
        }
    }

    @Test func aFieldsRangeIsWhereItsBytesAre() throws {
        let v = CanonicalJSONTests.tricky
        let bytes = v.bytes
        guard case .object(let fields) = v else { Issue.record("not an object"); return }
        for (key, value) in fields {
            let r = try #require(v.range(ofField: key, inCanonicalBytes: bytes.count))
            #expect(Array(bytes[r]) == value.bytes, "\(key)")
        }
        #expect(v.range(ofField: "missing", inCanonicalBytes: bytes.count) == nil)
        #expect(CanonicalJSON.int(1).range(ofField: "a", inCanonicalBytes: 1) == nil)
    }

    /// Escapes, multi-byte text and invalid UTF-8 around them, as the reader took them before it
    /// built strings from bytes.
    @Test func stringsWithAndWithoutEscapesReadAsBefore() throws {
        #expect(try CanonicalJSON.parse(Array(#""plain ascii""#.utf8)) == .string("plain ascii"))
        #expect(try CanonicalJSON.parse(Array("\"é😀 ✓\"".utf8)) == .string("é😀 ✓"))
        #expect(try CanonicalJSON.parse(Array(#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00é""#.utf8)) == .string("a\"b\\c/d\u{8}\u{C}\n\r\té😀é"))
        for bad: [UInt8] in [[0x22, 0xC3, 0x22], [0x22, 0x61, 0x5C, 0x6E, 0xFF, 0x22], [0x22, 0xE2, 0x82, 0x5C, 0x6E, 0xAC, 0x22]] {
            do { _ = try CanonicalJSON.parse(bad); Issue.record("\(bad) was read") } catch {
                #expect(error.problem.contains("not valid UTF-8"), "\(bad): \(error)")
            }
        }
    }
}
