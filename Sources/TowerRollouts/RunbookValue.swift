import Foundation
import Yams

/// A runbook as a tree of plain values, whether it came as a YAML file or inside a JSON request,
/// so one strict reader (`Runbook.parse`) checks both the same way.
public indirect enum RunbookValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case list([RunbookValue])
    /// Keys in the order given, so errors name the first bad key as the author wrote it.
    case map([(String, RunbookValue)])

    public static func == (a: RunbookValue, b: RunbookValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.int(let x), .int(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.list(let x), .list(let y)): x == y
        case (.map(let x), .map(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// What kind of value this is, for messages ("a number, not a list").
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "true or false"
        case .int: "a whole number"
        case .number: "a number"
        case .string: "a string"
        case .list: "a list"
        case .map: "a mapping"
        }
    }

    /// From a composed YAML node: plain scalars take their resolved type (`5` is a number, `"5"` a
    /// string), so a quoted weight is refused as a string rather than guessed at.
    init(yaml node: Node, path: String, file: String?) throws(RunbookError) {
        switch node {
        case .scalar(let s):
            if s.style != .plain { self = .string(s.string); return }
            if node.null != nil { self = .null; return }
            if let b = node.bool { self = .bool(b); return }
            if let i = node.int { self = .int(i); return }
            if let d = node.float { self = .number(d); return }
            self = .string(s.string)
        case .sequence(let seq):
            var out: [RunbookValue] = []
            for (i, n) in seq.enumerated() { out.append(try RunbookValue(yaml: n, path: "\(path)[\(i)]", file: file)) }
            self = .list(out)
        case .mapping(let m):
            var out: [(String, RunbookValue)] = []
            for (k, v) in m {
                guard let key = k.string else { throw RunbookError(file: file, key: path, "a key is not a string") }
                let sub = path.isEmpty ? key : "\(path).\(key)"
                out.append((key, try RunbookValue(yaml: v, path: sub, file: file)))
            }
            self = .map(out)
        case .alias:
            throw RunbookError(file: file, key: path, "YAML aliases are not allowed in a runbook")
        }
    }
}

extension RunbookValue: Codable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if var list = try? decoder.unkeyedContainer() {
            var out: [RunbookValue] = []
            while !list.isAtEnd { out.append(try list.decode(RunbookValue.self)) }
            self = .list(out)
            return
        }
        if let map = try? decoder.container(keyedBy: Key.self) {
            // JSON objects carry no order once decoded; sorted keys keep messages reproducible.
            self = .map(try map.allKeys.map(\.stringValue).sorted().map { k in (k, try map.decode(RunbookValue.self, forKey: Key(stringValue: k))) })
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case .bool(let b): var c = encoder.singleValueContainer(); try c.encode(b)
        case .int(let i): var c = encoder.singleValueContainer(); try c.encode(i)
        case .number(let d): var c = encoder.singleValueContainer(); try c.encode(d)
        case .string(let s): var c = encoder.singleValueContainer(); try c.encode(s)
        case .list(let l):
            var c = encoder.unkeyedContainer()
            for v in l { try c.encode(v) }
        case .map(let m):
            var c = encoder.container(keyedBy: Key.self)
            for (k, v) in m { try c.encode(v, forKey: Key(stringValue: k)) }
        }
    }
}

/// A runbook refused: which file, which key, and what is wrong with it.
public struct RunbookError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String?
    /// Where in the runbook, like `steps[2].setWeight`; empty for the whole document.
    public var key: String
    public var problem: String

    public init(file: String?, key: String, _ problem: String) {
        self.file = file; self.key = key; self.problem = problem
    }

    public var description: String {
        let place = [file, key.isEmpty ? nil : key].compactMap { $0 }.joined(separator: ": ")
        return place.isEmpty ? problem : "\(place): \(problem)"
    }
}
