import Foundation

/// JSON as server and clients speak it: camelCase, RFC 3339 UTC times with milliseconds.
public enum Wire {
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, enc in
            var c = enc.singleValueContainer()
            try c.encode(Timestamp.rfc3339(ms: Timestamp.ms(date)))
        }
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { dec in
            let c = try dec.singleValueContainer()
            let s = try c.decode(String.self)
            guard let ms = Timestamp.parse(s) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(Names.printable(s))' is not an RFC 3339 time")
            }
            return Timestamp.date(ms: ms)
        }
        return d
    }
}

/// Times as whole milliseconds since the epoch, so that what is stored, hashed and sent is exact.
public enum Timestamp {
    public static func ms(_ d: Date) -> Int64 { Int64((d.timeIntervalSince1970 * 1000).rounded(.down)) }
    public static func date(ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
    public static func now() -> Date { date(ms: ms(Date())) }

    /// `2026-11-27T07:00:00.123Z`, computed with integer arithmetic so the text is the same on every
    /// platform (it is part of the audit chain's hashed form).
    public static func rfc3339(ms: Int64) -> String {
        let secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let milli = Int(ms - secs * 1000)
        var days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400
        let rem = Int(secs - days * 86400)
        // Civil-from-days (Howard Hinnant's algorithm).
        days += 719468
        let era = (days >= 0 ? days : days - 146096) / 146097
        let doe = days - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        var y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        if m <= 2 { y += 1 }
        if (0...9999).contains(y) {
            // Digits written in place: this runs for every time a bundle or an audit chain holds.
            return String(unsafeUninitializedCapacity: 24) { buf in
                func put(_ v: Int64, _ width: Int, at: Int) {
                    var v = v
                    for k in stride(from: at + width - 1, through: at, by: -1) { buf[k] = UInt8(ascii: "0") + UInt8(v % 10); v /= 10 }
                }
                put(y, 4, at: 0); buf[4] = UInt8(ascii: "-"); put(m, 2, at: 5); buf[7] = UInt8(ascii: "-"); put(d, 2, at: 8)
                buf[10] = UInt8(ascii: "T"); put(Int64(rem / 3600), 2, at: 11); buf[13] = UInt8(ascii: ":")
                put(Int64(rem / 60 % 60), 2, at: 14); buf[16] = UInt8(ascii: ":"); put(Int64(rem % 60), 2, at: 17)
                buf[19] = UInt8(ascii: "."); put(Int64(milli), 3, at: 20); buf[23] = UInt8(ascii: "Z")
                return 24
            }
        }
        func pad(_ v: Int64, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(Int64(rem / 3600), 2)):\(pad(Int64(rem / 60 % 60), 2)):\(pad(Int64(rem % 60), 2)).\(pad(Int64(milli), 3))Z"
    }

    /// Parses RFC 3339 (`Z` or a numeric offset, any number of fraction digits) to whole milliseconds.
    public static func parse(_ s: String) -> Int64? {
        let b = Array(s.utf8)
        func num(_ from: Int, _ len: Int) -> Int64? {
            guard from + len <= b.count else { return nil }
            var v: Int64 = 0
            for i in from..<(from + len) {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                v = v * 10 + Int64(b[i] - 0x30)
            }
            return v
        }
        guard b.count >= 20, let y = num(0, 4), b[4] == 0x2D, let mo = num(5, 2), b[7] == 0x2D, let d = num(8, 2),
              b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20, let h = num(11, 2), b[13] == 0x3A, let mi = num(14, 2),
              b[16] == 0x3A, let sec = num(17, 2),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec < 61 else { return nil }
        var i = 19
        var milli: Int64 = 0
        if i < b.count && b[i] == 0x2E {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 {
                if digits < 3 { milli = milli * 10 + Int64(b[i] - 0x30) }
                digits += 1; i += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { milli *= 10 } }
        }
        var offset: Int64 = 0
        guard i < b.count else { return nil }
        if b[i] == 0x5A || b[i] == 0x7A { i += 1 } else if b[i] == 0x2B || b[i] == 0x2D {
            guard let oh = num(i + 1, 2), b.count > i + 3, b[i + 3] == 0x3A, let om = num(i + 4, 2) else { return nil }
            offset = (oh * 60 + om) * 60 * (b[i] == 0x2B ? 1 : -1)
            i += 6
        } else { return nil }
        guard i == b.count else { return nil }
        // Days-from-civil.
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let mp = mo > 2 ? mo - 3 : mo + 9
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        let secs = days * 86400 + h * 3600 + mi * 60 + sec - offset
        return secs * 1000 + milli
    }
}
