/// A sparkline: one cell per value, eight heights (or four ASCII ones), scaled to `top` when given
/// (so lines side by side share a scale and can be compared), else to the largest value shown. A
/// missing value is a blank, never a zero.
public enum Sparkline {
    static let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    static let asciiBlocks: [Character] = ["_", ".", "-", "=", "#"]

    public static func render(_ values: [Double?], width: Int, ascii: Bool = false, top: Double? = nil) -> String {
        guard width > 0 else { return "" }
        let shown = Array(values.suffix(width))
        let top = top ?? Self.top(of: [values], width: width) ?? 0
        let set = ascii ? asciiBlocks : blocks
        var out = String(repeating: " ", count: width - shown.count)
        for v in shown {
            guard let v, v.isFinite else { out.append(" "); continue }
            let level = top > 0 ? Int((max(0, v) / top * Double(set.count - 1)).rounded()) : 0
            out.append(set[min(set.count - 1, level)])
        }
        return out
    }

    /// The largest finite value the last `width` of each series would show: the scale several
    /// sparklines share. Nil when none has one.
    public static func top(of series: [[Double?]], width: Int) -> Double? {
        series.flatMap { $0.suffix(width) }.compactMap { $0 }.filter { $0.isFinite }.max()
    }
}
