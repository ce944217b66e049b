/// Just enough JSON to write one canonical byte string: object keys sorted by their UTF-8 bytes, no
/// whitespace, minimal escaping (`\"`, `\\`, `\n`, `\r`, `\t`, other controls as `\u00xx`).
/// Written by hand rather than with JSONEncoder so that the bytes cannot change with how a
/// Foundation release orders keys or escapes slashes: the audit chain hashes them, and xDS derives
/// `version_info` from them, so a change would break every stored chain and make Envoy reload.
public indirect enum CanonicalJSON: Sendable, Equatable {
    case string(String), int(Int), bool(Bool), array([CanonicalJSON]), object([String: CanonicalJSON])
    /// A finite number, written as `SLO.notation` writes numbers: a whole value without a fraction
    /// (`210`), any other as Swift's shortest round-trip decimal (`0.93`, `1e-07`), which is the same
    /// text on every platform. JSON has no spelling for NaN or infinity: those are written as `null`,
    /// and every caller refuses them before they get here.
    case number(Double)

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        write(into: &out)
        return out
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public func write(into out: inout [UInt8]) {
        switch self {
        case .string(let s): Self.quote(s, into: &out)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let d): out.append(contentsOf: (d.isFinite ? SLO.number(d) : "null").utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            // By UTF-8 bytes, which orders as Unicode scalars do (and is cheaper to compare).
            let keyed = fields.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (i, (key, value)) in keyed.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.quote(key, into: &out)
                out.append(UInt8(ascii: ":"))
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Where the value of the field `key` of this object lies in its canonical bytes, which are
    /// `count` long: found by adding up the lengths of the fields written before it, so that a
    /// large last field (a bundle's signed part) is not written a second time to be verified.
    public func range(ofField key: String, inCanonicalBytes count: Int) -> Range<Int>? {
        guard case .object(let fields) = self, fields[key] != nil else { return nil }
        let keyed = fields.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        var offset = 1
        var quoted: [UInt8] = []
        for (i, (k, value)) in keyed.enumerated() {
            if i > 0 { offset += 1 }
            quoted.removeAll(keepingCapacity: true)
            Self.quote(k, into: &quoted)
            offset += quoted.count + 1
            if k == key { return offset..<(i == keyed.count - 1 ? count - 1 : offset + value.bytes.count) }
            offset += value.bytes.count
        }
        return nil
    }

    /// Runs of bytes that need no escape are copied whole: strings are most of a bundle's or an
    /// audit entry's bytes, and appending them byte by byte was a tenth of verifying a bundle.
    public static func quote(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var plain = 0
            for i in utf8.indices {
                let b = utf8[i]
                if b >= 0x20 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plain..<i]))
                plain = i + 1
                switch b {
                case UInt8(ascii: "\""): out += [0x5C, 0x22]
                case UInt8(ascii: "\\"): out += [0x5C, 0x5C]
                case 0x0A: out += [0x5C, UInt8(ascii: "n")]
                case 0x0D: out += [0x5C, UInt8(ascii: "r")]
                case 0x09: out += [0x5C, UInt8(ascii: "t")]
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xF)]]
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plain..<utf8.count]))
        }
        out.append(UInt8(ascii: "\""))
    }
}
