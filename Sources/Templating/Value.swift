import Foundation

/// A variable's or an argument's value, as YAML and templates give it.
public indirect enum Value: Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([Value])
    case map(OrderedMap)

    /// Text of a scalar as a module argument reads it; lists and mappings as JSON.
    public var description: String {
        switch self {
        case .null: ""
        case .bool(let b): b ? "True" : "False"
        case .int(let i): String(i)
        case .double(let d): Value.pythonFloat(d)
        case .string(let s): s
        case .list, .map: json
        }
    }

    /// JSON text (keys sorted, non-ASCII as it is), as parc shows a value.
    public var json: String { JSONText.encode(self, indent: nil, sortKeys: true, ensureASCII: false) }

    /// Text as Python's `str()` gives it, which is what a Jinja template prints: `True`, `None`,
    /// `['a', 'b']`, `{'k': 1}` (keys in their order).
    public var pythonText: String {
        switch self {
        case .null: "None"
        case .string(let s): s
        default: pythonRepr
        }
    }

    /// Python's `repr()`.
    public var pythonRepr: String {
        switch self {
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return Value.pythonFloat(d)
        case .string(let s): return Value.pythonStringRepr(s)
        case .list(let l): return "[" + l.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .map(let m): return "{" + m.keys.map { "\(Value.pythonStringRepr($0)): \(m[$0]!.pythonRepr)" }.joined(separator: ", ") + "}"
        }
    }

    static func pythonFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d == d.rounded(), abs(d) < 1e16 { return String(format: "%.1f", d) }
        return "\(d)"
    }

    static func pythonStringRepr(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where Character(u) == quote: out += "\\" + String(quote)
            case _ where u.value < 0x20 || u.value == 0x7f: out += String(format: "\\x%02x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        out.append(quote)
        return out
    }

    /// Ansible's truthiness for `bool`, `become`, module flags: yes/no/true/false/on/off/1/0 strings.
    public var truthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return ["yes", "true", "on", "1", "y", "t"].contains(s.lowercased().trimmingCharacters(in: .whitespacesAndNewlines))
        case .list(let l): return !l.isEmpty
        case .map(let m): return !m.isEmpty
        }
    }

    /// Jinja's (Python's) truth: any non-empty string is true. `when:` and `{% if %}` use it.
    public var jinjaTruthy: Bool {
        switch self {
        case .string(let s): return !s.isEmpty
        default: return truthy
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
    public var int: Int? { if case .int(let i) = self { i } else { nil } }
    public var map: [String: Value]? { if case .map(let m) = self { m.dictionary } else { nil } }
    public var ordered: OrderedMap? { if case .map(let m) = self { m } else { nil } }

    /// The name Python gives the value's type (`type_debug`, error messages).
    public var pythonType: String {
        switch self {
        case .null: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .double: "float"
        case .string: "str"
        case .list: "list"
        case .map: "dict"
        }
    }
}
