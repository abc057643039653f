import Foundation
import ParcCore

/// A variable's or an argument's value, as YAML and templates give it.
public indirect enum Value: Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([Value])
    case map([String: Value])

    /// Text as a template prints it.
    public var description: String {
        switch self {
        case .null: ""
        case .bool(let b): b ? "True" : "False"
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .string(let s): s
        case .list, .map: json
        }
    }

    /// JSON text (keys sorted).
    public var json: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return jsonStringLiteral(s)
        case .list(let items): return "[" + items.map(\.json).joined(separator: ", ") + "]"
        case .map(let m): return "{" + m.keys.sorted().map { "\(jsonStringLiteral($0)): \(m[$0]!.json)" }.joined(separator: ", ") + "}"
        }
    }

    /// Ansible's truthiness for `when`, `bool`, `become`…: yes/no/true/false/on/off/1/0 strings too.
    /// Jinja's (Python's) truth: any non-empty string is true. `default(x, true)` and `ternary` use it.
    public var jinjaTruthy: Bool {
        if case .string(let s) = self { return !s.isEmpty }
        return truthy
    }

    public var truthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return ["yes", "true", "on", "1", "y"].contains(s.lowercased().trimmed)
        case .list(let l): return !l.isEmpty
        case .map(let m): return !m.isEmpty
        }
    }

    public var string: String? {
        switch self {
        case .string(let s): s
        case .int, .double, .bool: description
        default: nil
        }
    }

    public var list: [Value]? { if case .list(let l) = self { l } else { nil } }
    public var map: [String: Value]? { if case .map(let m) = self { m } else { nil } }

    /// The value as Stencil sees it.
    var any: Any? {
        switch self {
        case .null: return nil
        case .bool(let b): return b
        case .int(let i): return i
        case .double(let d): return d
        case .string(let s): return s
        case .list(let l): return l.map { $0.any as Any }
        case .map(let m): return m.mapValues { $0.any as Any }
        }
    }

    /// A value from what Stencil or Foundation gives back.
    init(any: Any?) {
        switch any {
        case nil: self = .null
        case let v as Value: self = v
        case let b as Bool: self = .bool(b)
        case let i as Int: self = .int(i)
        case let d as Double: self = .double(d)
        case let f as Float: self = .double(Double(f))
        case let s as String: self = .string(s)
        case let l as [Any?]: self = .list(l.map(Value.init(any:)))
        case let l as [Any]: self = .list(l.map { Value(any: $0) })
        case let m as [String: Any?]: self = .map(m.mapValues(Value.init(any:)))
        case let m as [String: Any]: self = .map(m.mapValues { Value(any: $0) })
        default: self = .string("\(any!)")
        }
    }
}
