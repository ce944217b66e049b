import Foundation
import TowerDomain

/// A look at a request body's raw bytes before it is decoded, for what Foundation's JSONDecoder
/// hides. JSONDecoder builds a dictionary per object and keeps one of two equal keys without a
/// word, so `{"weights":{"v1":100,"v1":0}}` would route by whichever it kept while the
/// client (and most other parsers, which keep the last) meant the other: a duplicate key is
/// refused instead. The decoder also reports a number it cannot hold (`89.5` for a whole
/// number, `1e309`) without saying where it was; the scan remembers where each such number is.
///
/// The scan is a single pass with an explicit stack (no recursion, so no nesting can exhaust the
/// thread's stack). It does not judge syntax: on anything it does not understand it stops, and
/// the decoder's own error says what is wrong.
struct JSONBodyScan {
    /// The first key that appears twice in one object, with where (e.g. `weights.v1`).
    var duplicate: String?
    /// Numbers written with a fraction or an exponent, or too long for a 64-bit integer, with where.
    var oddNumbers: [(path: String, literal: String)] = []
    /// Where the first `null` is: the API leaves absent fields out and never takes null, which
    /// the decoder would otherwise read as "absent" for an optional field and as an error elsewhere.
    var null: String?
    /// True when the body nests deeper than `maxDepth`.
    var tooDeep = false

    static let maxDepth = 64

    private enum Frame {
        case object(keys: Set<String>, key: String?, expectingKey: Bool)
        case array(index: Int)
    }

    init(_ bytes: [UInt8]) {
        var stack: [Frame] = []
        var i = 0
        let n = bytes.count

        func path(_ stack: [Frame]) -> String {
            var out = ""
            for f in stack {
                switch f {
                case .object(_, let key, _): if let key { out += out.isEmpty ? key : "." + key }
                case .array(let index): out += "[\(index)]"
                }
            }
            return out.isEmpty ? "the body" : out
        }

        scan: while i < n {
            let b = bytes[i]
            switch b {
            case 0x20, 0x09, 0x0A, 0x0D, 0x3A: // whitespace and ':'
                if b == 0x3A, case .object(let k, let key, _) = stack.last { stack[stack.count - 1] = .object(keys: k, key: key, expectingKey: false) }
                i += 1
            case 0x7B: // {
                if stack.count >= Self.maxDepth { tooDeep = true; break scan }
                stack.append(.object(keys: [], key: nil, expectingKey: true)); i += 1
            case 0x5B: // [
                if stack.count >= Self.maxDepth { tooDeep = true; break scan }
                stack.append(.array(index: 0)); i += 1
            case 0x7D, 0x5D: // } ]
                if stack.popLast() == nil { break scan }
                i += 1
            case 0x2C: // ,
                switch stack.last {
                case .array(let index): stack[stack.count - 1] = .array(index: index + 1)
                case .object(let k, let key, _): stack[stack.count - 1] = .object(keys: k, key: key, expectingKey: true)
                case nil: break scan
                }
                i += 1
            case 0x22: // "
                guard let (s, end) = Self.string(bytes, from: i) else { break scan }
                i = end
                if case .object(var keys, _, true) = stack.last {
                    if !keys.insert(s).inserted, duplicate == nil {
                        stack[stack.count - 1] = .object(keys: keys, key: s, expectingKey: false)
                        duplicate = path(stack)
                        break scan
                    }
                    stack[stack.count - 1] = .object(keys: keys, key: s, expectingKey: false)
                }
            case 0x2D, 0x30...0x39: // a number
                let start = i
                while i < n, (0x30...0x39).contains(bytes[i]) || [0x2D, 0x2B, 0x2E, 0x65, 0x45].contains(bytes[i]) { i += 1 }
                let literal = String(decoding: bytes[start..<i], as: UTF8.self)
                let digits = literal.utf8.filter { (0x30...0x39).contains($0) }.count
                if literal.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) || digits > 18 {
                    if oddNumbers.count < 16 { oddNumbers.append((path(stack), literal)) }
                }
            case 0x74, 0x66, 0x6E: // true, false, null
                let start = i
                while i < n, (0x61...0x7A).contains(bytes[i]) { i += 1 }
                if bytes[start..<i].elementsEqual("null".utf8), null == nil { null = path(stack) }
            default:
                break scan
            }
        }
    }

    /// The string starting at the quote at `start`, with its escapes resolved, and the index after
    /// its closing quote; nil when it is malformed (the decoder then says so).
    private static func string(_ bytes: [UInt8], from start: Int) -> (String, Int)? {
        var i = start + 1
        var scalars = String.UnicodeScalarView()
        var plain: [UInt8] = []
        func flush() {
            if !plain.isEmpty { scalars.append(contentsOf: String(decoding: plain, as: UTF8.self).unicodeScalars); plain.removeAll() }
        }
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= bytes.count else { return nil }
            return UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16)
        }
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x22 { flush(); return (String(scalars), i + 1) }
            if b != 0x5C { plain.append(b); i += 1; continue }
            flush()
            guard i + 1 < bytes.count else { return nil }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case 0x22: scalars.append("\"")
            case 0x5C: scalars.append("\\")
            case 0x2F: scalars.append("/")
            case 0x62: scalars.append("\u{8}")
            case 0x66: scalars.append("\u{C}")
            case 0x6E: scalars.append("\n")
            case 0x72: scalars.append("\r")
            case 0x74: scalars.append("\t")
            case 0x75:
                guard var v = hex4(i) else { return nil }
                i += 4
                // A surrogate pair spells one scalar, as the decoder reads it.
                if (0xD800...0xDBFF).contains(v), i + 6 <= bytes.count, bytes[i] == 0x5C, bytes[i + 1] == 0x75,
                   let low = hex4(i + 2), (0xDC00...0xDFFF).contains(low) {
                    v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                scalars.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            default: return nil
            }
        }
        return nil
    }
}

extension JSONBodyScan {
    /// Refuses what the decoder would let through: a key given twice, or nesting no request needs.
    func check() throws {
        if let d = duplicate {
            throw Problem(status: 400, title: "Bad Request",
                          detail: "\(Names.printable(d)) appears twice in the body; give each key once (which one was meant cannot be known)")
        }
        if let n = null {
            throw Problem(status: 400, title: "Bad Request",
                          detail: "\(Names.printable(n)) is null; leave out a field that has no value (this API never takes null)")
        }
        if tooDeep {
            throw Problem(status: 400, title: "Bad Request", detail: "the body nests deeper than \(Self.maxDepth) levels; no request of this API does")
        }
    }

    /// What is wrong with a number the decoder refused, said where it is: `weight of v1 must be a
    /// whole percent from 0 to 100, not 89.5`. Nil when the error is not about one of the numbers
    /// the scan saw.
    func numberProblem(_ error: DecodingError, path: String) -> String? {
        let description: String
        switch error {
        case .dataCorrupted(let c), .typeMismatch(_, let c): description = c.debugDescription
        default: return nil
        }
        let hit = oddNumbers.first { $0.path == path }
            ?? oddNumbers.first { description.contains($0.literal) }
            ?? (oddNumbers.count == 1 ? oddNumbers.first : nil)
        guard let hit else { return nil }
        let value = Double(hit.literal)
        let outOfRange = value.map { !$0.isFinite || abs($0) > 9.2e18 } ?? true
        if hit.path.hasPrefix("weights.") {
            return "weight of \(Names.printable(String(hit.path.dropFirst(8)))) must be a whole percent from 0 to 100, not \(Names.printable(hit.literal, limit: 40))"
        }
        if hit.path.hasSuffix(".weight") {
            return "\(Names.printable(hit.path)) must be a whole percent from 0 to 100, not \(Names.printable(hit.literal, limit: 40))"
        }
        if outOfRange { return "\(Names.printable(hit.path)) is \(Names.printable(hit.literal, limit: 40)), which is out of range" }
        return "\(Names.printable(hit.path)) must be a whole number, not \(Names.printable(hit.literal, limit: 40))"
    }
}
