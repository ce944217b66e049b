import Foundation

/// Why bytes could not be read as `CanonicalJSON`, said where.
public struct CanonicalJSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var problem: String
    public var description: String { "\(problem) (at byte \(offset))" }
}

extension CanonicalJSON {
    /// Reads the JSON subset `CanonicalJSON` can write: objects, arrays, strings, whole numbers,
    /// booleans. Stricter than JSONDecoder on purpose, since what it reads is then signed or hashed:
    /// a key given twice in one object is refused (which of the two was meant cannot be known, and
    /// two parsers may pick differently), as are `null`, fractions and exponents, numbers beyond
    /// 64 bits, lone surrogates, nesting deeper than `maxDepth`, and anything after the value.
    /// Iterative with an explicit stack, so no input can exhaust the thread's stack.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws(CanonicalJSONError) -> CanonicalJSON {
        var reader = Reader(bytes: bytes, maxDepth: maxDepth)
        return try reader.document()
    }

    /// A Codable value as canonical JSON: its Wire encoding (RFC 3339 times, camelCase) read back
    /// through `parse`, so the bytes come from this one writer whatever Foundation does with
    /// whitespace, key order or escapes. Values holding fractions cannot be written and throw.
    public static func of<T: Encodable>(_ value: T) throws -> CanonicalJSON {
        try parse(Array(try Wire.encoder().encode(value)))
    }
}

private struct Reader {
    let bytes: [UInt8]
    let maxDepth: Int
    var i = 0

    /// What an open container is waiting for. The containers' contents live in `arrays` and
    /// `objects`, mutated in place: an enum carrying them would be copied on every element added
    /// (its payload shared while bound), which made a parse quadratic in a container's size.
    enum Open {
        case array
        case object(key: String, start: Int)
    }

    func fail(_ problem: String, at: Int? = nil) -> CanonicalJSONError { CanonicalJSONError(offset: at ?? i, problem: problem) }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
    }

    mutating func expect(_ b: UInt8, _ what: String) throws(CanonicalJSONError) {
        skipSpace()
        guard i < bytes.count else { throw fail("the JSON ends where \(what) was expected") }
        guard bytes[i] == b else { throw fail("expected \(what)") }
        i += 1
    }

    mutating func document() throws(CanonicalJSONError) -> CanonicalJSON {
        let v = try value()
        skipSpace()
        if i != bytes.count { throw fail("something follows the JSON value") }
        return v
    }

    /// One value; containers are walked with a stack rather than by recursion.
    mutating func value() throws(CanonicalJSONError) -> CanonicalJSON {
        var stack: [Open] = []
        var arrays: [[CanonicalJSON]] = []
        var objects: [[String: CanonicalJSON]] = []
        while true {
            skipSpace()
            guard i < bytes.count else { throw fail(stack.isEmpty ? "the JSON is empty" : "the JSON ends inside a value (truncated?)") }
            var done: CanonicalJSON
            switch bytes[i] {
            case UInt8(ascii: "{"):
                if stack.count >= maxDepth { throw fail("the JSON nests deeper than \(maxDepth) levels") }
                i += 1
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; done = .object([:]); break }
                let start = i
                let key = try string()
                try expect(UInt8(ascii: ":"), "':' after a key")
                stack.append(.object(key: key, start: start))
                objects.append([:])
                continue
            case UInt8(ascii: "["):
                if stack.count >= maxDepth { throw fail("the JSON nests deeper than \(maxDepth) levels") }
                i += 1
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; done = .array([]); break }
                stack.append(.array)
                arrays.append([])
                continue
            case UInt8(ascii: "\""): done = .string(try string())
            case UInt8(ascii: "t"): try word("true"); done = .bool(true)
            case UInt8(ascii: "f"): try word("false"); done = .bool(false)
            case UInt8(ascii: "n"): throw fail("null is not taken: leave out a field that has no value")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): done = .int(try number())
            default: throw fail("a JSON value was expected")
            }
            // Hand the finished value to the containers it closes.
            closing: while true {
                guard let top = stack.last else { return done }
                switch top {
                case .array:
                    arrays[arrays.count - 1].append(done)
                    skipSpace()
                    guard i < bytes.count else { throw fail("the JSON ends inside an array (truncated?)") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; break closing }
                    guard bytes[i] == UInt8(ascii: "]") else { throw fail("expected ',' or ']' in an array") }
                    i += 1
                    stack.removeLast()
                    done = .array(arrays.removeLast())
                case .object(let key, let start):
                    if objects[objects.count - 1][key] != nil {
                        throw fail("the key \"\(Names.printable(key, limit: 60))\" appears twice in one object; which one was meant cannot be known", at: start)
                    }
                    objects[objects.count - 1][key] = done
                    skipSpace()
                    guard i < bytes.count else { throw fail("the JSON ends inside an object (truncated?)") }
                    if bytes[i] == UInt8(ascii: ",") {
                        i += 1
                        skipSpace()
                        let next = i
                        let k = try string()
                        try expect(UInt8(ascii: ":"), "':' after a key")
                        stack[stack.count - 1] = .object(key: k, start: next)
                        break closing
                    }
                    guard bytes[i] == UInt8(ascii: "}") else { throw fail("expected ',' or '}' in an object") }
                    i += 1
                    stack.removeLast()
                    done = .object(objects.removeLast())
                }
            }
        }
    }

    mutating func word(_ w: String) throws(CanonicalJSONError) {
        let u = Array(w.utf8)
        guard i + u.count <= bytes.count, Array(bytes[i..<i + u.count]) == u else { throw fail("a JSON value was expected") }
        i += u.count
    }

    mutating func number() throws(CanonicalJSONError) -> Int {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        let digitsStart = i
        while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
        if i == digitsStart { throw fail("a number needs digits", at: start) }
        if bytes[digitsStart] == UInt8(ascii: "0") && i - digitsStart > 1 { throw fail("a number must not start with 0", at: start) }
        if i < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[i]) {
            throw fail("only whole numbers are taken here, without fraction or exponent", at: start)
        }
        guard let n = Int(String(decoding: bytes[start..<i], as: UTF8.self)) else {
            throw fail("the number does not fit in 64 bits", at: start)
        }
        return n
    }

    /// A string at the quote at `i`, escapes resolved. A string without escapes (nearly all) is
    /// made from its bytes in one step; one with escapes collects UTF-8 bytes and is made once at
    /// its end (appending scalar by scalar to a String was a sixth of reading a bundle).
    mutating func string() throws(CanonicalJSONError) -> String {
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("a string was expected") }
        let start = i
        i += 1
        var plainStart = i
        var ascii = true
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let s = try Self.text(bytes[plainStart..<i], at: plainStart, ascii: ascii)
                i += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("a string holds a raw control character; JSON needs it escaped") }
            if b >= 0x80 { ascii = false }
            i += 1
        }
        var out: [UInt8] = []
        func flush(_ upTo: Int) throws(CanonicalJSONError) {
            guard plainStart < upTo else { return }
            let segment = bytes[plainStart..<upTo]
            // Each run between escapes must be valid UTF-8 on its own, as before: an escape writes
            // whole scalars, so it can neither complete nor break a sequence around it.
            if !segment.allSatisfy({ $0 < 0x80 }) { _ = try Self.text(segment, at: plainStart, ascii: false) }
            out.append(contentsOf: segment)
        }
        func append(_ scalar: Unicode.Scalar) { out.append(contentsOf: Character(scalar).utf8) }
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                try flush(i)
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b < 0x20 { throw fail("a string holds a raw control character; JSON needs it escaped") }
            if b != UInt8(ascii: "\\") { i += 1; continue }
            try flush(i)
            guard i + 1 < bytes.count else { break }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard let high = hex4(i) else { throw fail("\\u needs four hex digits") }
                i += 4
                var scalar = high
                if (0xD800...0xDBFF).contains(high) {
                    guard i + 6 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u"),
                          let low = hex4(i + 2), (0xDC00...0xDFFF).contains(low) else {
                        throw fail("a \\u escape names half of a surrogate pair")
                    }
                    scalar = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("a \\u escape names half of a surrogate pair") }
                append(u)
            default: throw fail("unknown escape in a string")
            }
            plainStart = i
        }
        throw CanonicalJSONError(offset: start, problem: "a string is not closed (truncated?)")
    }

    /// Bytes without escapes as a String, refused unless they are valid UTF-8.
    static func text(_ segment: ArraySlice<UInt8>, at offset: Int, ascii: Bool) throws(CanonicalJSONError) -> String {
        if ascii { return String(decoding: segment, as: UTF8.self) }
        guard let s = String(validating: segment, as: UTF8.self) else {
            throw CanonicalJSONError(offset: offset, problem: "a string is not valid UTF-8")
        }
        return s
    }

    func hex4(_ at: Int) -> UInt32? {
        guard at + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for b in bytes[at..<at + 4] {
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }
}
