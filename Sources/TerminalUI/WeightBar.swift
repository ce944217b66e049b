/// A horizontal bar of `width` cells: segments one after another, the rest empty. Split mode gives
/// each segment its own shade, so a traffic split reads without colour; solid mode is a level.
public struct WeightBar: Hashable, Sendable {
    public enum Shading: Hashable, Sendable { case solid, alternating }
    /// Cells of each segment, in order.
    public var segments: [Int]
    public var width: Int
    public var shading: Shading
    public var ascii: Bool

    public init(segments: [Int], width: Int, shading: Shading = .alternating, ascii: Bool = false) {
        self.segments = segments; self.width = max(0, width); self.shading = shading; self.ascii = ascii
    }

    /// `value` out of `total` as a solid level, rounded down.
    public static func level(_ value: Int, of total: Int, width: Int, ascii: Bool = false) -> WeightBar {
        let filled = total > 0 ? max(0, min(width, value * width / total)) : 0
        return WeightBar(segments: [filled], width: width, shading: .solid, ascii: ascii)
    }

    public static func shades(ascii: Bool) -> [Character] { ascii ? ["#", "=", "+", "~"] : ["█", "▓", "▒", "░"] }
    public static func empty(ascii: Bool) -> Character { ascii ? "." : "░" }

    public var text: String {
        let shades = Self.shades(ascii: ascii)
        var out = ""
        var used = 0
        for (i, n) in segments.enumerated() where used < width {
            let n = max(0, min(n, width - used))
            out += String(repeating: shading == .solid ? shades[0] : shades[i % shades.count], count: n)
            used += n
        }
        return out + String(repeating: Self.empty(ascii: ascii), count: width - used)
    }

    public func draw(into f: inout Frame, x: Int, y: Int, style: Style = .plain) {
        f.put(text, x: x, y: y, style: style, maxWidth: width)
    }
}
