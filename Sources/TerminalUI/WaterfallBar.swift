/// One span of a trace waterfall: a bar placed on the trace's shared time axis, so bars line up
/// across rows. Times are in any one unit (the console uses microseconds).
public struct WaterfallBar: Hashable, Sendable {
    public var start: Int64
    public var duration: Int64
    /// The window every bar of the waterfall shares.
    public var windowStart: Int64
    public var windowEnd: Int64
    public var ascii: Bool

    public init(start: Int64, duration: Int64, windowStart: Int64, windowEnd: Int64, ascii: Bool = false) {
        self.start = start; self.duration = duration; self.windowStart = windowStart; self.windowEnd = windowEnd; self.ascii = ascii
    }

    /// Where the bar goes on `width` cells: always at least one cell, so an instant span still shows,
    /// and never past the end.
    public func cells(width: Int) -> (offset: Int, length: Int) {
        guard width > 0 else { return (0, 0) }
        let total = Double(max(1, windowEnd - windowStart))
        let offset = min(max(0, Int(Double(start - windowStart) / total * Double(width))), width - 1)
        let length = max(1, Int((Double(duration) / total * Double(width)).rounded()))
        return (offset, min(length, width - offset))
    }

    /// Draws the bar alone (the cells around it are left as they are) on `width` cells from x.
    public func draw(into f: inout Frame, x: Int, y: Int, width: Int, style: Style = .plain) {
        let (offset, length) = cells(width: width)
        f.put(String(repeating: ascii ? "#" : "█", count: length), x: x + offset, y: y, style: style)
    }
}
