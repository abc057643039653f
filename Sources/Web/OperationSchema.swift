import Foundation
import ParcApp
import ParcCore

/// The JSON Schema of a `Decodable` type, found by decoding it once from a decoder that answers
/// every question with a plausible value and writes the question down: each key asked for (and
/// whether it may be absent), each value's type, an enum's cases, an array's items. The command
/// line's operations are documented this way, from the very types that travel.
enum OperationSchema {
    static func of<T: Decodable>(_ type: T.Type) -> JSONValue {
        let probe = Probe()
        _ = try? probe.value(T.self)
        return probe.schema
    }

    /// One value being probed; `schema` is what was learnt of it.
    final class Probe: Decoder, @unchecked Sendable {
        var codingPath: [any CodingKey] = []
        var userInfo: [CodingUserInfoKey: Any] = [:]
        var schema: JSONValue = .object([])
        var properties: [(String, JSONValue)] = []
        var required: [String] = []
        var optional: Set<String> = []
        var isMap = false
        var depth = 0

        /// A value of `T`, probing its shape (types decoded from a string of their own are named here).
        func value<T: Decodable>(_ type: T.Type) throws -> T {
            switch type {
            case is Day.Type: schema = Self.scalar("string", format: "date"); return try Day(year: 2026, month: 9, day: 1) as! T
            case is Money.Type: schema = Self.scalar("string", description: "euros, e.g. 810.00"); return Money.zero as! T
            case is Data.Type: schema = Self.scalar("string", description: "base64"); return Data() as! T
            case is Date.Type: schema = Self.scalar("number", description: "seconds since 2001-01-01"); return Date(timeIntervalSinceReferenceDate: 0) as! T
            default: break
            }
            if let cases = T.self as? any (CaseIterable & RawRepresentable).Type, let first = Self.firstCase(cases) as? T {
                schema = .object([("type", .string("string")), ("enum", .array(Self.rawValues(cases)))])
                return first
            }
            guard depth < 12 else { throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "too deep")) }
            return try T(from: self)
        }

        static func firstCase<C: CaseIterable & RawRepresentable>(_ type: C.Type) -> Any? { type.allCases.first }
        static func rawValues<C: CaseIterable & RawRepresentable>(_ type: C.Type) -> [JSONValue] { type.allCases.map { .string("\($0.rawValue)") } }

        static func scalar(_ type: String, format: String? = nil, description: String? = nil) -> JSONValue {
            var pairs: [(String, JSONValue)] = [("type", .string(type))]
            if let format { pairs.append(("format", .string(format))) }
            if let description { pairs.append(("description", .string(description))) }
            return .object(pairs)
        }

        func child<T: Decodable>(_ type: T.Type) throws -> (T, JSONValue) {
            let p = Probe()
            p.depth = depth + 1
            p.codingPath = codingPath
            let v = try p.value(type)
            return (v, p.schema)
        }

        func finishObject() {
            var pairs: [(String, JSONValue)] = [("type", .string("object"))]
            if isMap { pairs.append(("additionalProperties", .bool(true))) }
            pairs.append(("properties", .object(properties)))
            pairs.append(("required", .array(required.map(JSONValue.string))))
            schema = .object(pairs)
        }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            finishObject()
            return KeyedDecodingContainer(Keyed<Key>(probe: self))
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { Unkeyed(probe: self) }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(probe: self) }

        func note(_ key: String, _ schema: JSONValue) {
            guard !properties.contains(where: { $0.0 == key }) else { return }
            properties.append((key, schema))
            if !optional.contains(key) { required.append(key) }
            finishObject()
        }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let probe: Probe
        var codingPath: [any CodingKey] { probe.codingPath }
        var allKeys: [Key] {
            // A dictionary asks which keys there are: a map of any keys.
            probe.isMap = true
            probe.finishObject()
            return []
        }
        func contains(_ key: Key) -> Bool { true }
        /// Only `decodeIfPresent` asks: the key may be absent.
        func decodeNil(forKey key: Key) throws -> Bool {
            probe.optional.insert(key.stringValue)
            return false
        }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { probe.note(key.stringValue, Probe.scalar("boolean")); return false }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { probe.note(key.stringValue, Probe.scalar("string")); return "" }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { probe.note(key.stringValue, Probe.scalar("number")); return 0 }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { probe.note(key.stringValue, Probe.scalar("number")); return 0 }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { probe.note(key.stringValue, Probe.scalar("integer")); return 0 }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { probe.note(key.stringValue, Probe.scalar("integer")); return 0 }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { probe.note(key.stringValue, Probe.scalar("integer")); return 0 }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { probe.note(key.stringValue, Probe.scalar("integer")); return 0 }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            let (value, schema) = try probe.child(type)
            probe.note(key.stringValue, schema)
            return value
        }
        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            let p = Probe()
            defer { probe.note(key.stringValue, p.schema) }
            return try p.container(keyedBy: type)
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            probe.note(key.stringValue, .object([("type", .string("array"))]))
            return Unkeyed(probe: Probe())
        }
        func superDecoder() throws -> any Decoder { probe }
        func superDecoder(forKey key: Key) throws -> any Decoder { probe }
    }

    /// An array: one item is probed, then it ends.
    final class Unkeyed: UnkeyedDecodingContainer {
        let probe: Probe
        var currentIndex = 0
        var codingPath: [any CodingKey] { probe.codingPath }
        var count: Int? { nil }
        var isAtEnd: Bool { currentIndex > 0 }
        init(probe: Probe) {
            self.probe = probe
            probe.schema = .object([("type", .string("array"))])
        }
        func item(_ schema: JSONValue) {
            currentIndex += 1
            probe.schema = .object([("type", .string("array")), ("items", schema)])
        }
        func decodeNil() throws -> Bool { false }
        func decode(_ type: Bool.Type) throws -> Bool { item(Probe.scalar("boolean")); return false }
        func decode(_ type: String.Type) throws -> String { item(Probe.scalar("string")); return "" }
        func decode(_ type: Double.Type) throws -> Double { item(Probe.scalar("number")); return 0 }
        func decode(_ type: Int.Type) throws -> Int { item(Probe.scalar("integer")); return 0 }
        func decode(_ type: Int64.Type) throws -> Int64 { item(Probe.scalar("integer")); return 0 }
        func decode(_ type: UInt8.Type) throws -> UInt8 { item(Probe.scalar("integer")); return 0 }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let (value, schema) = try probe.child(type)
            item(schema)
            return value
        }
        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            currentIndex += 1
            return try Probe().container(keyedBy: type)
        }
        func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { currentIndex += 1; return Unkeyed(probe: Probe()) }
        func superDecoder() throws -> any Decoder { probe }
    }

    struct Single: SingleValueDecodingContainer {
        let probe: Probe
        var codingPath: [any CodingKey] { probe.codingPath }
        func decodeNil() -> Bool { false }
        func decode(_ type: Bool.Type) throws -> Bool { probe.schema = Probe.scalar("boolean"); return false }
        func decode(_ type: String.Type) throws -> String { probe.schema = Probe.scalar("string"); return "" }
        func decode(_ type: Double.Type) throws -> Double { probe.schema = Probe.scalar("number"); return 0 }
        func decode(_ type: Float.Type) throws -> Float { probe.schema = Probe.scalar("number"); return 0 }
        func decode(_ type: Int.Type) throws -> Int { probe.schema = Probe.scalar("integer"); return 0 }
        func decode(_ type: Int64.Type) throws -> Int64 { probe.schema = Probe.scalar("integer"); return 0 }
        func decode(_ type: UInt8.Type) throws -> UInt8 { probe.schema = Probe.scalar("integer"); return 0 }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let (value, schema) = try probe.child(type)
            probe.schema = schema
            return value
        }
    }

    /// The input and output schemas of an operation.
    static func schemas(_ type: any InventoryOperation.Type) -> (input: JSONValue, output: JSONValue) { opened(type) }

    private static func opened<O: InventoryOperation>(_ type: O.Type) -> (input: JSONValue, output: JSONValue) {
        (of(O.self), of(O.Output.self))
    }

    /// `member.add` → `MemberAdd`.
    static func component(_ name: String) -> String {
        name.split(whereSeparator: { $0 == "." || $0 == "-" }).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
