import Foundation

extension PromotionBundleReader {
    /// Canonical JSON of known shape, byte by byte. Every method reads exactly what the canonical
    /// writer would write for the value it returns, or throws.
    struct Cursor {
        let b: UnsafeBufferPointer<UInt8>
        var i = 0

        static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")

        mutating func take(_ byte: UInt8) throws(NotTaken) {
            guard i < b.count, b[i] == byte else { throw NotTaken() }
            i += 1
        }

        func next(is byte: UInt8) -> Bool { i < b.count && b[i] == byte }

        /// An object whose keys come in strictly ascending order (so none twice); `field` reads
        /// the value of each key it knows and throws for any other.
        mutating func object(_ field: (inout Cursor, String) throws(NotTaken) -> Void) throws(NotTaken) {
            try take(UInt8(ascii: "{"))
            if next(is: UInt8(ascii: "}")) { i += 1; return }
            var previous: String?
            while true {
                let key = try string()
                if let previous, !previous.utf8.lexicographicallyPrecedes(key.utf8) { throw NotTaken() }
                try take(UInt8(ascii: ":"))
                try field(&self, key)
                previous = key
                if next(is: UInt8(ascii: ",")) { i += 1; continue }
                try take(UInt8(ascii: "}"))
                return
            }
        }

        /// An audit entry's object: each key a plain run of bytes matched against `AuditKey.table`
        /// from where the previous key matched, so keys out of order, repeated or unknown are not
        /// taken, exactly as in `object`.
        mutating func auditObject(_ field: (inout Cursor, AuditKey) throws(NotTaken) -> Void) throws(NotTaken) {
            try take(UInt8(ascii: "{"))
            if next(is: UInt8(ascii: "}")) { i += 1; return }
            let table = AuditKey.table
            var candidate = 0
            while true {
                try take(Self.quote)
                let start = i
                while i < b.count, b[i] != Self.quote {
                    // Escapes and non-ASCII never spell a field name: leave such a file to `object`'s kind.
                    if b[i] == Self.backslash || b[i] < 0x20 || b[i] >= 0x80 { throw NotTaken() }
                    i += 1
                }
                guard i < b.count else { throw NotTaken() }
                let key = UnsafeBufferPointer(rebasing: b[start..<i])
                i += 1
                while candidate < table.count && !table[candidate].bytes.elementsEqual(key) { candidate += 1 }
                guard candidate < table.count else { throw NotTaken() }
                try take(UInt8(ascii: ":"))
                try field(&self, table[candidate].key)
                candidate += 1
                if next(is: UInt8(ascii: ",")) { i += 1; continue }
                try take(UInt8(ascii: "}"))
                return
            }
        }

        mutating func array<T>(_ element: (inout Cursor) throws(NotTaken) -> T) throws(NotTaken) -> [T] {
            try take(UInt8(ascii: "["))
            var out: [T] = []
            if next(is: UInt8(ascii: "]")) { i += 1; return out }
            while true {
                out.append(try element(&self))
                if next(is: UInt8(ascii: ",")) { i += 1; continue }
                try take(UInt8(ascii: "]"))
                return out
            }
        }

        /// An audit entry's weights: an object of whole numbers.
        mutating func weights() throws(NotTaken) -> [String: Int] {
            var out: [String: Int] = [:]
            try object { (c, k) throws(NotTaken) in out[k] = try c.int() }
            return out
        }

        mutating func raw<T: RawRepresentable>(_ type: T.Type) throws(NotTaken) -> T where T.RawValue == String {
            guard let v = T(rawValue: try string()) else { throw NotTaken() }
            return v
        }

        /// A time as the writer spells it: `Timestamp.rfc3339` of its whole milliseconds, and the
        /// Date the general path decodes from it.
        mutating func date() throws(NotTaken) -> Date {
            let s = try string()
            guard let ms = Timestamp.parse(s) else { throw NotTaken() }
            let d = Timestamp.date(ms: ms)
            guard Timestamp.rfc3339(ms: Timestamp.ms(d)) == s else { throw NotTaken() }
            return d
        }

        mutating func bool() throws(NotTaken) -> Bool {
            if b.count - i >= 4, b[i] == UInt8(ascii: "t"), b[i + 1] == UInt8(ascii: "r"), b[i + 2] == UInt8(ascii: "u"), b[i + 3] == UInt8(ascii: "e") {
                i += 4
                return true
            }
            if b.count - i >= 5, b[i] == UInt8(ascii: "f"), b[i + 1] == UInt8(ascii: "a"), b[i + 2] == UInt8(ascii: "l"),
               b[i + 3] == UInt8(ascii: "s"), b[i + 4] == UInt8(ascii: "e") {
                i += 5
                return false
            }
            throw NotTaken()
        }

        /// A whole number as `String(Int)` writes it: no plus sign, no leading zero, no `-0`.
        mutating func int() throws(NotTaken) -> Int {
            let negative = next(is: UInt8(ascii: "-"))
            if negative { i += 1 }
            let start = i
            var v = 0
            while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") {
                let d = Int(b[i] - UInt8(ascii: "0"))
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
                if o1 || o2 { throw NotTaken() }
                v = s
                i += 1
            }
            if i == start || (b[start] == UInt8(ascii: "0") && (i - start > 1 || negative)) { throw NotTaken() }
            return v
        }

        /// A string with only the escapes `CanonicalJSON.quote` writes: `\"`, `\\`, `\n`, `\r`,
        /// `\t`, and `\u00xx` (lower-case hex) for the other control characters; valid UTF-8.
        mutating func string() throws(NotTaken) -> String {
            try take(Self.quote)
            let start = i
            var ascii = true
            while i < b.count {
                let c = b[i]
                if c == Self.quote {
                    let run = UnsafeBufferPointer(rebasing: b[start..<i])
                    i += 1
                    if ascii { return String(decoding: run, as: UTF8.self) }
                    guard let s = String(validating: run, as: UTF8.self) else { throw NotTaken() }
                    return s
                }
                if c == Self.backslash { break }
                if c < 0x20 { throw NotTaken() }
                if c >= 0x80 { ascii = false }
                i += 1
            }
            var out = Array(UnsafeBufferPointer(rebasing: b[start..<i]))
            while i < b.count {
                let c = b[i]
                if c == Self.quote {
                    i += 1
                    // Escapes write only ASCII, which cannot complete or break a UTF-8 sequence
                    // around it: the whole is valid exactly when each run between them is.
                    guard let s = String(validating: out, as: UTF8.self) else { throw NotTaken() }
                    return s
                }
                if c < 0x20 { throw NotTaken() }
                if c != Self.backslash { out.append(c); i += 1; continue }
                guard i + 1 < b.count else { throw NotTaken() }
                switch b[i + 1] {
                case Self.quote: out.append(Self.quote); i += 2
                case Self.backslash: out.append(Self.backslash); i += 2
                case UInt8(ascii: "n"): out.append(0x0A); i += 2
                case UInt8(ascii: "r"): out.append(0x0D); i += 2
                case UInt8(ascii: "t"): out.append(0x09); i += 2
                case UInt8(ascii: "u"):
                    guard i + 6 <= b.count, b[i + 2] == UInt8(ascii: "0"), b[i + 3] == UInt8(ascii: "0"),
                          let high = Self.lowerHex(b[i + 4]), high <= 1, let low = Self.lowerHex(b[i + 5]) else { throw NotTaken() }
                    let v = high << 4 | low
                    if v == 0x09 || v == 0x0A || v == 0x0D { throw NotTaken() }
                    out.append(v)
                    i += 6
                default: throw NotTaken()
                }
            }
            throw NotTaken()
        }

        static func lowerHex(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            default: nil
            }
        }
    }
}

extension PromotionBundleReader.Cursor {
    /// A finite number as `SLO.number` writes it: a whole value without a fraction, any other as
    /// Swift's shortest round-trip decimal.
    mutating func number() throws(PromotionBundleReader.NotTaken) -> Double {
        let start = i
        while i < b.count, Self.isNumberByte(b[i]) { i += 1 }
        guard i > start else { throw PromotionBundleReader.NotTaken() }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        guard let d = Double(text), d.isFinite, SLO.number(d) == text else { throw PromotionBundleReader.NotTaken() }
        return d
    }

    static func isNumberByte(_ c: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".")
            || c == UInt8(ascii: "e")
    }
}
