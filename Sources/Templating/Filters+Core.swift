import Foundation

extension Filters {
    /// Defaults and choices: `default`, `mandatory`, `ternary`, `bool`, `string`, `attr`, `type_debug`, `safe`, `escape`.
    static func core(into t: inout [String: Filter]) {
        let defaultFilter: Filter = { input, a, _, it, _ in
            let fallback = RV.value(a.get(0, "default_value") ?? .string(""))
            if case .undefined = input { return fallback }
            if a.bool(1, "boolean"), !(try it.truth(input, at: nil)) { return fallback }
            return input
        }
        t["default"] = defaultFilter
        t["d"] = defaultFilter
        t["mandatory"] = { input, a, _, _, _ in
            if case .undefined(let why) = input { throw fail(a.string(0, "msg") ?? "Mandatory variable \(why.replacingOccurrences(of: " is undefined", with: "")) not defined.") }
            return input
        }
        t["string"] = value { v, _ in .string(v.pythonText) }
        t["bool"] = { input, _, _, it, at in
            switch try it.defined(input, at: at) {
            case .null: return .bool(false)
            case .bool(let b): return .bool(b)
            case let v: return .bool(v.truthy)
            }
        }
        t["ternary"] = { input, a, _, it, at in
            let v = try it.defined(input, at: at)
            if v == .null, let none = a.get(2, "none_val") { return .value(none) }
            return .value((v.jinjaTruthy ? a.get(0, "true_val") : a.get(1, "false_val")) ?? .null)
        }
        t["attr"] = { input, a, _, it, at in try it.attribute(input, a.string(0, "name") ?? "", at: at ?? 0) }
        for name in ["escape", "e", "forceescape"] {
            t[name] = text { s, _ in
                .string(s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
                    .replacingOccurrences(of: "\"", with: "&#34;").replacingOccurrences(of: "'", with: "&#39;"))
            }
        }
        t["safe"] = { input, _, _, it, at in .value(try it.defined(input, at: at)) }
        t["type_debug"] = { input, _, _, it, at in
            if case .undefined = input { return .str("AnsibleUndefined") }
            let v = try it.defined(input, at: at)
            return .str(v.pythonType)
        }
        t["random"] = value { _, _ in throw fail("the random filter gives a different result on every run; parc refuses it (a play should decide the same way twice)") }
    }
}
