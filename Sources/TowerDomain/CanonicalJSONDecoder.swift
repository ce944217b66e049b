import Foundation

extension CanonicalJSON {
    /// Decodes a Codable value from a tree already read, as `Wire.decoder()` would from its bytes
    /// (RFC 3339 times, keys as declared, unknown keys ignored), with the same DecodingError cases
    /// and coding paths. Reading a promotion bundle decodes the tree it has just parsed; handing
    /// the bytes to JSONDecoder parsed them a second time.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try TreeDecoder(value: self, codingPath: []).decodeValue(type)
    }
}

struct TreeDecoder: Decoder {
    let value: CanonicalJSON
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch<T>(_ type: T.Type) -> DecodingError {
        let found: String
        switch value {
        case .string: found = "a string"
        case .int, .number: found = "a number"
        case .bool: found = "a boolean"
        case .array: found = "an array"
        case .object: found = "an object"
        }
        return .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "expected \(type) but found \(found)"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let fields) = value else { throw mismatch([String: Any].self) }
        return KeyedDecodingContainer(TreeKeyedDecoder<Key>(fields: fields, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch([Any].self) }
        return TreeUnkeyedDecoder(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    /// The types JSONDecoder reads itself, as `Wire` configures it; and `[String: Int]` (an audit
    /// entry's weights) read directly, since Dictionary's own decoding, generic over its keys,
    /// was a tenth of reading a bundle.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if type == [String: Int].self, case .object(let fields) = value {
            var out: [String: Int] = [:]
            out.reserveCapacity(fields.count)
            for (k, v) in fields {
                guard case .int(let i) = v else { return try T(from: self) } // JSONDecoder's error, with its path
                out[k] = i
            }
            return try cast(out)
        }
        if type == Date.self {
            let s = try decode(String.self)
            guard let ms = Timestamp.parse(s) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "'\(Names.printable(s))' is not an RFC 3339 time"))
            }
            return try cast(Timestamp.date(ms: ms))
        }
        if type == URL.self {
            let s = try decode(String.self)
            guard let u = URL(string: s) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "Invalid URL string."))
            }
            return try cast(u)
        }
        if type == Data.self {
            let s = try decode(String.self)
            guard let d = Data(base64Encoded: s) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "Encountered Data is not valid Base64."))
            }
            return try cast(d)
        }
        return try T(from: self)
    }

    func cast<T>(_ v: Any) throws -> T {
        guard let t = v as? T else { throw mismatch(T.self) }
        return t
    }

    func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        guard case .int(let i) = value else { throw mismatch(type) }
        guard let v = I(exactly: i) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "Number \(i) is not representable in Swift."))
        }
        return v
    }
}

extension TreeDecoder: SingleValueDecodingContainer {
    // The reader refuses null, so no value in a tree is one.
    func decodeNil() -> Bool { false }
    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = value else { throw mismatch(type) }
        return b
    }
    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = value else { throw mismatch(type) }
        return s
    }
    func decode(_ type: Double.Type) throws -> Double {
        switch value {
        case .int(let i): return Double(i)
        case .number(let d): return d
        default: throw mismatch(type)
        }
    }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type) }
}

struct TreeKeyedDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let fields: [String: CanonicalJSON]
    var codingPath: [any CodingKey]

    var allKeys: [Key] { fields.keys.compactMap { Key(stringValue: $0) } }
    func contains(_ key: Key) -> Bool { fields[key.stringValue] != nil }

    func decoder(_ key: Key) throws -> TreeDecoder {
        guard let v = fields[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key.stringValue)."))
        }
        return TreeDecoder(value: v, codingPath: codingPath + [key])
    }

    /// The value at `key` without a decoder for it: the coding path (an array built per field) is
    /// made only when there is an error to report.
    func field(_ key: Key) throws -> CanonicalJSON {
        guard let v = fields[key.stringValue] else { return try decoder(key).value }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool { try decoder(key).decodeNil() }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        guard case .bool(let b) = try field(key) else { return try decoder(key).decode(type) }
        return b
    }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        guard case .string(let s) = try field(key) else { return try decoder(key).decode(type) }
        return s
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decoder(key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decoder(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        guard case .int(let i) = try field(key) else { return try decoder(key).decode(type) }
        return i
    }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decoder(key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decoder(key).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decoder(key).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        guard case .int(let i) = try field(key) else { return try decoder(key).decode(type) }
        return Int64(i)
    }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decoder(key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decoder(key).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decoder(key).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decoder(key).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decoder(key).decode(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decoder(key).decodeValue(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try decoder(key).unkeyedContainer() }
    func superDecoder() throws -> any Decoder {
        TreeDecoder(value: fields["super"] ?? .object([:]), codingPath: codingPath + [TreeIndexKey(stringValue: "super")])
    }
    func superDecoder(forKey key: Key) throws -> any Decoder { try decoder(key) }
}

struct TreeUnkeyedDecoder: UnkeyedDecodingContainer {
    let items: [CanonicalJSON]
    var codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func next<T>(_ type: T.Type) throws -> TreeDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath + [TreeIndexKey(intValue: currentIndex)],
                                                          debugDescription: "Unkeyed container is at end."))
        }
        defer { currentIndex += 1 }
        return TreeDecoder(value: items[currentIndex], codingPath: codingPath + [TreeIndexKey(intValue: currentIndex)])
    }

    mutating func decodeNil() throws -> Bool { false }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type).decode(type) }
    mutating func decode(_ type: String.Type) throws -> String { try next(type).decode(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type).decode(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type).decode(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type).decode(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type).decode(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type).decode(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type).decode(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type).decode(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type).decode(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type).decode(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type).decode(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type).decode(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type).decode(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type).decodeValue(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next(type).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next([Any].self).unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next(Any.self) }
}
