import Foundation

/// A value as it travels between parc's processes (a server and its relays): exact, so that what
/// a relay renders is what the server would have rendered. Numbers keep their kind (`1.0` stays a
/// float: `{"float": 1.0}`) and mappings their order (`{"map": [[key, value], …]}`).
extension Value: Codable {
    private enum Tag: String, CodingKey { case float, map }

    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: Tag.self) {
            if let d = try keyed.decodeIfPresent(Double.self, forKey: .float) { self = .double(d); return }
            if let pairs = try keyed.decodeIfPresent([Pair].self, forKey: .map) {
                var m = OrderedMap()
                for p in pairs { m[p.key] = p.value }
                self = .map(m)
                return
            }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "an object value is {\"float\": n} or {\"map\": [[k, v], …]}"))
        }
        if var list = try? decoder.unkeyedContainer() {
            var items: [Value] = []
            while !list.isAtEnd { items.append(try list.decode(Value.self)) }
            self = .list(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let b = try? single.decode(Bool.self) { self = .bool(b) }
        else if let i = try? single.decode(Int.self) { self = .int(i) }
        else { self = .string(try single.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case .bool(let b): var c = encoder.singleValueContainer(); try c.encode(b)
        case .int(let i): var c = encoder.singleValueContainer(); try c.encode(i)
        case .string(let s): var c = encoder.singleValueContainer(); try c.encode(s)
        case .double(let d): var c = encoder.container(keyedBy: Tag.self); try c.encode(d, forKey: .float)
        case .list(let items): var c = encoder.unkeyedContainer(); for v in items { try c.encode(v) }
        case .map(let m):
            var c = encoder.container(keyedBy: Tag.self)
            try c.encode(m.keys.map { Pair(key: $0, value: m[$0]!) }, forKey: .map)
        }
    }

    /// One entry of a mapping, as `[key, value]`.
    private struct Pair: Codable {
        var key: String
        var value: Value
        init(key: String, value: Value) { self.key = key; self.value = value }
        init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            key = try c.decode(String.self)
            value = try c.decode(Value.self)
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(key)
            try c.encode(value)
        }
    }
}
