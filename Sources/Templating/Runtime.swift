import Foundation

/// A value while a template runs: a plain value, an undefined one (an error when used, as
/// Ansible's undefined), or one of the objects only templates hold.
enum RV {
    case value(Value)
    /// Undefined: why, as the error a use of it gives.
    case undefined(String)
    case callable(Callable)
    case namespace(Namespace)
    case loop(LoopState)
    /// What `{% import %}` gives: the other template's macros and top-level variables.
    case module(TemplateModule)

    static func str(_ s: String) -> RV { .value(.string(s)) }
    static func bool(_ b: Bool) -> RV { .value(.bool(b)) }

    var isUndefined: Bool { if case .undefined = self { return true }; return false }
}

/// A function a template can call: a global (`range`, `lookup`, `dict`), a macro, a bound
/// method (`name.split('-')`).
struct Callable {
    let name: String
    let call: ([RV], [(String, RV)]) throws -> RV
}

/// An imported template: the names it defines at its top level (macros, `set`), minus those
/// starting with `_` (Jinja's private names). It keeps the interpreter its macros run in.
final class TemplateModule {
    let name: String
    let exports: [String: RV]
    let interpreter: AnyObject
    init(name: String, exports: [String: RV], interpreter: AnyObject) { self.name = name; self.exports = exports; self.interpreter = interpreter }
}

/// `namespace()`: the one object a template may change across loop iterations.
final class Namespace {
    var values: [String: Value]
    init(_ values: [String: Value]) { self.values = values }
}

/// The `loop` variable of a `{% for %}`.
final class LoopState {
    let items: [RV]
    var index0 = 0
    let depth0: Int
    var recurse: ((RV) throws -> String)?
    var lastChanged: [Value]? = nil
    init(items: [RV], depth0: Int) { self.items = items; self.depth0 = depth0 }

    func attribute(_ name: String) -> RV? {
        let n = items.count
        switch name {
        case "index": return .value(.int(index0 + 1))
        case "index0": return .value(.int(index0))
        case "revindex": return .value(.int(n - index0))
        case "revindex0": return .value(.int(n - index0 - 1))
        case "first": return .bool(index0 == 0)
        case "last": return .bool(index0 == n - 1)
        case "length": return .value(.int(n))
        case "depth": return .value(.int(depth0 + 1))
        case "depth0": return .value(.int(depth0))
        case "previtem": return index0 > 0 ? items[index0 - 1] : .undefined("there is no previous item")
        case "nextitem": return index0 + 1 < n ? items[index0 + 1] : .undefined("there is no next item")
        default: return nil
        }
    }
}

/// A template's failure while it runs, at an offset of its text.
struct RuntimeFailure: Error {
    var message: String
    var offset: Int?
}
