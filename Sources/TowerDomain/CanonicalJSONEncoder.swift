import Foundation

extension CanonicalJSON {
    /// A Codable value straight into the tree `of(_:)` gives (`Wire`'s times, keys as declared),
    /// without writing JSON text and reading it back: reading a promotion bundle re-encodes what
    /// it decoded to refuse fields it does not know, and through JSONEncoder and `parse` that
    /// re-encoding was a quarter of the verification. What `of` refuses this refuses too: `nil`
    /// written as `null` (synthesized Codable leaves an absent optional out instead), fractions,
    /// and whole numbers a Double cannot hold exactly.
    public static func encoding<T: Encodable>(_ value: T) throws -> CanonicalJSON {
        let root = TreeNode()
        try TreeEncoder(node: root, codingPath: []).encodeValue(value)
        return try root.tree(codingPath: [])
    }
}

/// A value being built: containers are shared by reference, as an Encoder's containers are.
final class TreeNode {
    enum Content { case empty, leaf(CanonicalJSON), array([TreeNode]), object([String: TreeNode]) }
    var content = Content.empty

    func tree(codingPath: [any CodingKey]) throws -> CanonicalJSON {
        switch content {
        case .empty:
            throw EncodingError.invalidValue((), .init(codingPath: codingPath, debugDescription: "a value encoded nothing"))
        case .leaf(let v): return v
        case .array(let items): return .array(try items.map { try $0.tree(codingPath: codingPath) })
        case .object(let fields): return .object(try fields.mapValues { try $0.tree(codingPath: codingPath) })
        }
    }

    func child(forKey key: String) -> TreeNode {
        guard case .object(var fields) = content else { return TreeNode() }
        if let existing = fields[key] { return existing }
        let n = TreeNode()
        content = .empty // drop the reference so the dictionary is mutated in place
        fields[key] = n
        content = .object(fields)
        return n
    }

    func append() -> TreeNode {
        let n = TreeNode()
        guard case .array(var items) = content else { return n }
        content = .empty
        items.append(n)
        content = .array(items)
        return n
    }
}

struct TreeEncoder: Encoder {
    let node: TreeNode
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.content {} else { node.content = .object([:]) }
        return KeyedEncodingContainer(TreeKeyedEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return TreeUnkeyedEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    /// The types JSONEncoder writes itself rather than through their own `encode(to:)`, as `Wire`
    /// configures it.
    func encodeValue<T: Encodable>(_ value: T) throws {
        // Metatypes compared first: a cast tried on every value cost more than the encoding.
        if T.self == Date.self, let d = value as? Date {
            node.content = .leaf(.string(Timestamp.rfc3339(ms: Timestamp.ms(d))))
        } else if T.self == [String: Int].self, let d = value as? [String: Int] {
            node.content = .leaf(.object(d.mapValues { .int($0) }))
        } else if T.self == URL.self, let u = value as? URL {
            node.content = .leaf(.string(u.absoluteString))
        } else if T.self == Data.self, let d = value as? Data {
            node.content = .leaf(.string(d.base64EncodedString()))
        } else {
            try value.encode(to: self)
        }
    }

    static func integer<I: BinaryInteger>(_ v: I, _ codingPath: [any CodingKey]) throws -> CanonicalJSON {
        guard let i = Int(exactly: v) else {
            throw EncodingError.invalidValue(v, .init(codingPath: codingPath, debugDescription: "\(v) does not fit in 64 bits"))
        }
        return .int(i)
    }

    /// JSONEncoder writes a whole Double below 2^53 without a fraction, which `parse` reads as an
    /// integer; anything else it writes with a fraction or an exponent, which `parse` refuses.
    static func floating(_ v: Double, _ codingPath: [any CodingKey]) throws -> CanonicalJSON {
        guard v.isFinite, v == v.rounded(.towardZero), abs(v) < 9_007_199_254_740_992 else {
            throw EncodingError.invalidValue(v, .init(codingPath: codingPath, debugDescription: "canonical JSON takes only whole numbers"))
        }
        return .int(Int(v))
    }
}

extension TreeEncoder: SingleValueEncodingContainer {
    func encodeNil() throws {
        throw EncodingError.invalidValue(Optional<Int>.none as Any, .init(codingPath: codingPath, debugDescription: "canonical JSON has no null"))
    }
    func encode(_ value: Bool) throws { node.content = .leaf(.bool(value)) }
    func encode(_ value: String) throws { node.content = .leaf(.string(value)) }
    func encode(_ value: Double) throws { node.content = .leaf(try Self.floating(value, codingPath)) }
    func encode(_ value: Float) throws { node.content = .leaf(try Self.floating(Double(value), codingPath)) }
    func encode(_ value: Int) throws { node.content = .leaf(.int(value)) }
    func encode(_ value: Int8) throws { node.content = .leaf(.int(Int(value))) }
    func encode(_ value: Int16) throws { node.content = .leaf(.int(Int(value))) }
    func encode(_ value: Int32) throws { node.content = .leaf(.int(Int(value))) }
    func encode(_ value: Int64) throws { node.content = .leaf(try Self.integer(value, codingPath)) }
    func encode(_ value: UInt) throws { node.content = .leaf(try Self.integer(value, codingPath)) }
    func encode(_ value: UInt8) throws { node.content = .leaf(.int(Int(value))) }
    func encode(_ value: UInt16) throws { node.content = .leaf(.int(Int(value))) }
    func encode(_ value: UInt32) throws { node.content = .leaf(.int(Int(value))) }
    func encode(_ value: UInt64) throws { node.content = .leaf(try Self.integer(value, codingPath)) }
    func encode<T: Encodable>(_ value: T) throws { try encodeValue(value) }
}

struct TreeKeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: TreeNode
    var codingPath: [any CodingKey]

    func encoder(_ key: Key) -> TreeEncoder { TreeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key]) }

    /// A leaf written without an encoder for it (whose coding path is an array built per field).
    func leaf(_ key: Key, _ value: CanonicalJSON) { node.child(forKey: key.stringValue).content = .leaf(value) }

    mutating func encodeNil(forKey key: Key) throws { try encoder(key).encodeNil() }
    mutating func encode(_ value: Bool, forKey key: Key) throws { leaf(key, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { leaf(key, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try encoder(key).encode(value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try encoder(key).encode(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { leaf(key, .int(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try encoder(key).encode(value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try encoder(key).encode(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try encoder(key).encode(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { leaf(key, .int(Int(value))) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try encoder(key).encode(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try encoder(key).encode(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try encoder(key).encode(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try encoder(key).encode(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try encoder(key).encode(value) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        if T.self == Date.self, let d = value as? Date { return leaf(key, .string(Timestamp.rfc3339(ms: Timestamp.ms(d)))) }
        try encoder(key).encodeValue(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        encoder(key).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { encoder(key).unkeyedContainer() }
    mutating func superEncoder() -> any Encoder {
        TreeEncoder(node: node.child(forKey: "super"), codingPath: codingPath + [TreeIndexKey(stringValue: "super")])
    }
    mutating func superEncoder(forKey key: Key) -> any Encoder { encoder(key) }
}

struct TreeUnkeyedEncoder: UnkeyedEncodingContainer {
    let node: TreeNode
    var codingPath: [any CodingKey]
    var count: Int {
        guard case .array(let items) = node.content else { return 0 }
        return items.count
    }

    func next() -> TreeEncoder { TreeEncoder(node: node.append(), codingPath: codingPath + [TreeIndexKey(intValue: count)]) }

    mutating func encodeNil() throws { try next().encodeNil() }
    mutating func encode(_ value: Bool) throws { try next().encode(value) }
    mutating func encode(_ value: String) throws { try next().encode(value) }
    mutating func encode(_ value: Double) throws { try next().encode(value) }
    mutating func encode(_ value: Float) throws { try next().encode(value) }
    mutating func encode(_ value: Int) throws { try next().encode(value) }
    mutating func encode(_ value: Int8) throws { try next().encode(value) }
    mutating func encode(_ value: Int16) throws { try next().encode(value) }
    mutating func encode(_ value: Int32) throws { try next().encode(value) }
    mutating func encode(_ value: Int64) throws { try next().encode(value) }
    mutating func encode(_ value: UInt) throws { try next().encode(value) }
    mutating func encode(_ value: UInt8) throws { try next().encode(value) }
    mutating func encode(_ value: UInt16) throws { try next().encode(value) }
    mutating func encode(_ value: UInt32) throws { try next().encode(value) }
    mutating func encode(_ value: UInt64) throws { try next().encode(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try next().encodeValue(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        next().container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { next().unkeyedContainer() }
    mutating func superEncoder() -> any Encoder { next() }
}

/// A coding key for array positions and `super`.
struct TreeIndexKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue; intValue = nil }
    init(intValue: Int) { stringValue = "\(intValue)"; self.intValue = intValue }
}
