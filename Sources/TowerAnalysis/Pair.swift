/// Two figures of one kind, [canary, baseline]: what a judgement reports as a two-element JSON
/// array (`samples`, `ratios`, intervals as [lower, upper]). Held inline rather than as an Array,
/// so that a judgement allocates nothing for its figures: judging a fleet from one refresh made a
/// dozen small arrays per version (docs/performance.md, judging 1,000 endpoints). A collection of
/// exactly two, so it is indexed, counted and mapped as the arrays were.
public struct Pair<Element>: RandomAccessCollection, MutableCollection {
    public var left: Element
    public var right: Element

    public init(_ first: Element, _ second: Element) { left = first; right = second }

    public var startIndex: Int { 0 }
    public var endIndex: Int { 2 }

    public subscript(i: Int) -> Element {
        get {
            precondition(i == 0 || i == 1, "a Pair has indices 0 and 1")
            return i == 0 ? left : right
        }
        set {
            precondition(i == 0 || i == 1, "a Pair has indices 0 and 1")
            if i == 0 { left = newValue } else { right = newValue }
        }
    }

    /// Both figures transformed, still a pair.
    public func mapPair<T>(_ f: (Element) throws -> T) rethrows -> Pair<T> { Pair<T>(try f(left), try f(right)) }
}

extension Pair: Equatable where Element: Equatable {
    public static func == (a: Pair, b: Pair) -> Bool { a.left == b.left && a.right == b.right }
}

extension Pair: Hashable where Element: Hashable {}
extension Pair: Sendable where Element: Sendable {}

/// Written in code as the arrays were (`[412, 3980]`); exactly two elements.
extension Pair: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: Element...) {
        precondition(elements.count == 2, "a Pair is written with two elements")
        self.init(elements[0], elements[1])
    }
}

/// A two-element JSON array, as before.
extension Pair: Encodable where Element: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(left)
        try c.encode(right)
    }
}

extension Pair: Decodable where Element: Decodable {
    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        let a = try c.decode(Element.self), b = try c.decode(Element.self)
        guard c.isAtEnd else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected two elements"))
        }
        self.init(a, b)
    }
}
