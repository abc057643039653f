/// A mapping that keeps its keys in the order they were written, as Python's dicts (and so
/// Ansible's) do: a template looping over `d.items()` writes the lines in the YAML's order.
/// Equality ignores the order, as Python's.
public struct OrderedMap: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    public private(set) var keys: [String] = []
    private var storage: [String: Value] = [:]

    public init() {}

    /// From a dictionary: its keys sorted (a Swift dictionary has no order of its own).
    public init(_ dictionary: [String: Value]) {
        keys = dictionary.keys.sorted()
        storage = dictionary
    }

    public init(dictionaryLiteral elements: (String, Value)...) {
        for (k, v) in elements { self[k] = v }
    }

    public init<S: Sequence>(ordered pairs: S) where S.Element == (String, Value) {
        for (k, v) in pairs { self[k] = v }
    }

    public subscript(key: String) -> Value? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> Value? {
        let old = storage[key]
        self[key] = nil
        return old
    }

    public var values: [Value] { keys.map { storage[$0]! } }
    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }
    /// The plain dictionary (order lost).
    public var dictionary: [String: Value] { storage }

    public func mapValues(_ transform: (Value) throws -> Value) rethrows -> OrderedMap {
        var out = OrderedMap()
        for k in keys { out[k] = try transform(storage[k]!) }
        return out
    }

    public func makeIterator() -> AnyIterator<(key: String, value: Value)> {
        var i = 0
        return AnyIterator {
            guard i < keys.count else { return nil }
            defer { i += 1 }
            return (keys[i], storage[keys[i]]!)
        }
    }

    public static func == (a: OrderedMap, b: OrderedMap) -> Bool { a.storage == b.storage }
    public func hash(into hasher: inout Hasher) { hasher.combine(storage) }
    public var description: String { Value.map(self).pythonRepr }
}

extension Value {
    /// A mapping from a dictionary (keys sorted).
    public static func map(_ dictionary: [String: Value]) -> Value { .map(OrderedMap(dictionary)) }
}
