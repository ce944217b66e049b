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

    /// Built as UTF-8 bytes and made a String once: the overview draws a bar on every row of every
    /// frame, and joining `String(repeating:)` pieces was most of that column's cost.
    public var text: String {
        let shades = ascii ? Self.asciiShadeBytes : Self.shadeBytes
        var out: [UInt8] = []
        out.reserveCapacity(width * 3)
        var used = 0
        for (i, n) in segments.enumerated() where used < width {
            let n = max(0, min(n, width - used))
            let shade = shading == .solid ? shades[0] : shades[i % shades.count]
            for _ in 0..<n { out.append(contentsOf: shade) }
            used += n
        }
        let empty = ascii ? Self.asciiEmptyBytes : Self.emptyBytes
        for _ in 0..<(width - used) { out.append(contentsOf: empty) }
        return String(decoding: out, as: UTF8.self)
    }

    static let shadeBytes = shades(ascii: false).map { Array(String($0).utf8) }
    static let asciiShadeBytes = shades(ascii: true).map { Array(String($0).utf8) }
    static let emptyBytes = Array(String(empty(ascii: false)).utf8)
    static let asciiEmptyBytes = Array(String(empty(ascii: true)).utf8)

    public func draw(into f: inout Frame, x: Int, y: Int, style: Style = .plain) {
        f.put(text, x: x, y: y, style: style, maxWidth: width)
    }
}
