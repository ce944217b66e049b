import TerminalUI

/// How many colours the terminal can show, and how a theme's `Color` is degraded to one of them.
/// Pure: the backend builds it from curses' `COLORS` (and the terminfo `RGB` flag); tests build it
/// from numbers.
public enum ColorDepth: Hashable, Sendable {
    /// No colour at all (monochrome, `NO_COLOR`, or colours turned off): attributes only.
    case none
    /// The 8 basic colours; bright foregrounds are drawn as bold.
    case ansi8
    /// The 16 ANSI colours.
    case ansi16
    /// The xterm 256-colour palette.
    case indexed256
    /// A direct-colour terminal (terminfo `RGB`, e.g. `xterm-direct`): colour numbers below 8 are
    /// the ANSI colours, others are `0xRRGGBB`.
    case direct

    /// The depth for a terminal with `colors` colours (curses' `COLORS`). `directColor` is the
    /// terminfo `RGB` flag, which changes what colour numbers mean when there are more than 256.
    public init(colors: Int, directColor: Bool = false) {
        switch colors {
        case 257... where directColor: self = .direct
        case 256...: self = .indexed256
        case 16...: self = .ansi16
        case 8...: self = .ansi8
        default: self = .none
        }
    }

    /// The curses colour number for `color`, or nil for the terminal's default (curses' -1).
    /// `bright` is set when an 8-colour terminal has to show a bright colour as its normal one.
    public func number(for color: Color) -> (number: Int32, bright: Bool)? {
        if color == .default { return nil }
        switch self {
        case .none: return nil
        case .ansi8:
            let a = color.ansi16
            return (Int32(a % 8), a >= 8)
        case .ansi16: return (Int32(color.ansi16), false)
        case .indexed256: return (Int32(color.indexed256), false)
        case .direct:
            switch color {
            case .default: return nil
            case .ansi(let i) where i < 8, .indexed(let i) where i < 8: return (Int32(i), false)
            case .ansi(let i), .indexed(let i):
                let (r, g, b) = ColorDepth.rgb(ofIndexed: i)
                return (ColorDepth.packed(r, g, b), false)
            case .rgb(let r, let g, let b): return (ColorDepth.packed(r, g, b), false)
            }
        }
    }

    /// The foreground and background numbers of the colour pair for a style. `defaultColors` says
    /// whether `use_default_colors()` worked (so -1 means "the terminal's own colour"); without it
    /// the default is white on black. Nil when this depth shows no colour.
    public func pair(fg: Color, bg: Color, defaultColors: Bool = true) -> ColorPairChoice? {
        if self == .none { return nil }
        let f = number(for: fg)
        let b = number(for: bg)
        return ColorPairChoice(
            fg: f?.number ?? (defaultColors ? -1 : 7),
            bg: b?.number ?? (defaultColors ? -1 : 0),
            boldForBright: f?.bright ?? false)
    }

    /// Packs 24-bit colour; values that would collide with the 8 ANSI numbers become black.
    static func packed(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int32 {
        let v = Int32(r) << 16 | Int32(g) << 8 | Int32(b)
        return v < 8 ? 0 : v
    }

    /// The RGB value of an xterm palette entry.
    static func rgb(ofIndexed i: UInt8) -> (UInt8, UInt8, UInt8) {
        let base16: [(UInt8, UInt8, UInt8)] = [
            (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
            (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
        ]
        if i < 16 { return base16[Int(i)] }
        if i >= 232 { let v = UInt8(8 + Int(i - 232) * 10); return (v, v, v) }
        let n = Int(i) - 16
        let steps: [UInt8] = [0, 95, 135, 175, 215, 255]
        return (steps[n / 36], steps[n / 6 % 6], steps[n % 6])
    }
}

/// The colours of one curses colour pair, after degradation.
public struct ColorPairChoice: Hashable, Sendable {
    /// Curses colour numbers; -1 is the terminal's default colour.
    public var fg: Int32
    public var bg: Int32
    /// Draw with bold because the foreground is a bright colour an 8-colour terminal lacks.
    public var boldForBright: Bool

    public init(fg: Int32, bg: Int32, boldForBright: Bool = false) {
        self.fg = fg; self.bg = bg; self.boldForBright = boldForBright
    }
}
