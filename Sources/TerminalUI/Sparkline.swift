/// A sparkline: one cell per value, eight heights (or four ASCII ones), scaled to the largest
/// value shown. A missing value is a blank, never a zero.
public enum Sparkline {
    static let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    static let asciiBlocks: [Character] = ["_", ".", "-", "=", "#"]

    public static func render(_ values: [Double?], width: Int, ascii: Bool = false) -> String {
        guard width > 0 else { return "" }
        let shown = Array(values.suffix(width))
        let finite = shown.compactMap { $0 }.filter { $0.isFinite }
        let top = finite.max() ?? 0
        let set = ascii ? asciiBlocks : blocks
        var out = String(repeating: " ", count: width - shown.count)
        for v in shown {
            guard let v, v.isFinite else { out.append(" "); continue }
            let level = top > 0 ? Int((max(0, v) / top * Double(set.count - 1)).rounded()) : 0
            out.append(set[min(set.count - 1, level)])
        }
        return out
    }
}
