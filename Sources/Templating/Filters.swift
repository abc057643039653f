import Crypto
import Foundation

/// The arguments a filter was given, by position or by name.
struct Arguments {
    let positional: [Value]
    let named: [String: Value]

    func get(_ i: Int, _ name: String) -> Value? { i >= 0 && i < positional.count ? positional[i] : named[name] }
    func string(_ i: Int, _ name: String, default fallback: String? = nil) -> String? { get(i, name).map(\.pythonText) ?? fallback }
    func bool(_ i: Int, _ name: String, default fallback: Bool = false) -> Bool { get(i, name).map(\.jinjaTruthy) ?? fallback }
    func int(_ i: Int, _ name: String) -> Int? {
        switch get(i, name) {
        case .int(let n)?: n
        case .double(let d)?: Int(d)
        case .string(let s)?: Int(s)
        default: nil
        }
    }
}

/// Jinja's and Ansible's filters over `Value`.
enum Filters {
    typealias Filter = @Sendable (RV, Arguments, [RV], Interpreter, Int?) throws -> RV

    static var names: Set<String> { Set(table.keys) }

    static func apply(_ name: String, _ input: RV, _ args: [RV], _ kwargs: [(String, RV)], _ it: Interpreter, at: Int?) throws -> RV {
        guard let f = table[name] else { throw RuntimeFailure(message: "no filter named '\(name)'", offset: at) }
        // Only default, mandatory and the like see an undefined input; its arguments must be defined.
        let positional = try args.map { try it.defined($0, at: at) }
        var named: [String: Value] = [:]
        for (k, v) in kwargs { named[k] = try it.defined(v, at: at) }
        do {
            return try f(input, Arguments(positional: positional, named: named), args, it, at)
        } catch var e as RuntimeFailure {
            if e.offset == nil { e.offset = at }
            throw e
        }
    }

    static func fail(_ message: String) -> RuntimeFailure { RuntimeFailure(message: message, offset: nil) }

    /// A filter on a defined value.
    static func value(_ body: @escaping @Sendable (Value, Arguments) throws -> Value) -> Filter {
        { input, args, _, it, at in .value(try body(try it.defined(input, at: at), args)) }
    }

    static func text(_ body: @escaping @Sendable (String, Arguments) throws -> Value) -> Filter {
        value { v, a in try body(v.pythonText, a) }
    }

    static func items(_ v: Value, _ filter: String) throws -> [Value] {
        switch v {
        case .list(let l): return l
        case .map(let m): return m.keys.map { .string($0) }
        case .string(let s): return s.map { .string(String($0)) }
        default: throw fail("\(filter): '\(v.pythonType)' object is not iterable")
        }
    }

    static func attributePath(_ v: Value, _ path: String) -> Value? {
        var current = v
        for part in path.split(separator: ".") {
            switch current {
            case .map(let m): guard let next = m[String(part)] else { return nil }; current = next
            case .list(let l): guard let i = Int(part), l.indices.contains(i) else { return nil }; current = l[i]
            default: return nil
            }
        }
        return current
    }

    /// Every filter, by family (one file each).
    static let table: [String: Filter] = {
        var t: [String: Filter] = [:]
        core(into: &t)
        text(into: &t)
        numbers(into: &t)
        collections(into: &t)
        encoding(into: &t)
        paths(into: &t)
        return t
    }()

}
