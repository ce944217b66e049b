/// A one-line message (the outcome of an action, a refusal) with an optional companion, such as
/// the filter in force, right-aligned when it fits after the message: the message always wins.
public struct Toast: Hashable, Sendable {
    public var text: String
    public var trailing: String?
    public var style: Style
    public init(_ text: String, trailing: String? = nil, style: Style = .plain) {
        self.text = text; self.trailing = trailing; self.style = style
    }

    /// Cells kept blank between the message and the companion.
    public static let spacing = 3

    public func draw(into f: inout Frame, x: Int = 0, y: Int, width: Int) {
        let end = f.put(text, x: x, y: y, style: style, maxWidth: width)
        if let trailing, !trailing.isEmpty, end + Self.spacing + trailing.count <= x + width {
            f.put(trailing, x: x + width - trailing.count, y: y, style: style)
        }
    }
}
