/// A colour as a theme names it; the backend degrades it to what the terminal has
/// (truecolor → 256 → 16 → none).
public enum Color: Hashable, Sendable {
    case `default`
    /// One of the 16 ANSI colours (0–7 normal, 8–15 bright).
    case ansi(UInt8)
    /// The xterm 256-colour palette.
    case indexed(UInt8)
    case rgb(UInt8, UInt8, UInt8)

    /// The nearest colour in the xterm 256 palette.
    public var indexed256: UInt8 {
        switch self {
        case .default: return 0
        case .ansi(let a): return a
        case .indexed(let i): return i
        case .rgb(let r, let g, let b):
            if r == g && g == b {
                if r < 8 { return 16 }
                if r > 248 { return 231 }
                return UInt8(232 + (Int(r) - 8) * 24 / 247)
            }
            func q(_ v: UInt8) -> Int { v < 48 ? 0 : v < 115 ? 1 : (Int(v) - 35) / 40 }
            return UInt8(16 + 36 * q(r) + 6 * q(g) + q(b))
        }
    }

    /// The nearest of the 16 ANSI colours.
    public var ansi16: UInt8 {
        switch self {
        case .default: return 7
        case .ansi(let a): return a
        case .indexed(let i) where i < 16: return i
        case .indexed(let i):
            let (r, g, b) = Color.rgbOf256(i)
            return Color.rgb(r, g, b).ansi16
        case .rgb(let r, let g, let b):
            let bright = max(r, g, b) > 170
            let bit: (UInt8) -> UInt8 = { $0 > (bright ? 130 : 64) ? 1 : 0 }
            let base = bit(r) | bit(g) << 1 | bit(b) << 2
            return base + (bright ? 8 : 0)
        }
    }

    static func rgbOf256(_ i: UInt8) -> (UInt8, UInt8, UInt8) {
        if i >= 232 { let v = UInt8(8 + Int(i - 232) * 10); return (v, v, v) }
        let n = Int(i) - 16
        let steps: [UInt8] = [0, 95, 135, 175, 215, 255]
        return (steps[n / 36], steps[n / 6 % 6], steps[n % 6])
    }
}

public struct Style: Hashable, Sendable {
    public var fg: Color
    public var bg: Color
    public var bold: Bool
    public var dim: Bool
    public var reverse: Bool
    public var underline: Bool

    public init(fg: Color = .default, bg: Color = .default, bold: Bool = false, dim: Bool = false, reverse: Bool = false, underline: Bool = false) {
        self.fg = fg; self.bg = bg; self.bold = bold; self.dim = dim; self.reverse = reverse; self.underline = underline
    }

    public static let plain = Style()
}
