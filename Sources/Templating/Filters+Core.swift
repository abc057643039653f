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
        // random and shuffle as Ansible's: with a seed, the very numbers Python's Random(seed) draws
        // (a cron minute spread by host name lands where Ansible put it); without, the system's.
        t["random"] = value { v, a in
            var seeded = a.get(2, "seed").flatMap { $0 == .null ? nil : PythonRandom(seed: $0) }
            switch v {
            case .int(let end):
                let start = a.int(0, "start") ?? 0, step = a.int(1, "step") ?? 1
                let drawn = seeded != nil ? seeded!.range(start, end, step) : SystemDraw.range(start, end, step)
                guard let drawn else { throw fail("random: empty range for randrange(\(start), \(end), \(step))") }
                return .int(drawn)
            case .list(let items):
                if a.get(0, "start") != nil || a.get(1, "step") != nil { throw fail("start and step can only be used with integer values") }
                guard !items.isEmpty else { throw fail("random: cannot choose from an empty sequence") }
                return items[seeded != nil ? seeded!.below(items.count) : Int.random(in: 0..<items.count)]
            case .string(let s):
                let chars = s.map { Value.string(String($0)) }
                guard !chars.isEmpty else { throw fail("random: cannot choose from an empty sequence") }
                return chars[seeded != nil ? seeded!.below(chars.count) : Int.random(in: 0..<chars.count)]
            default: throw fail("random can only be used on sequences and integers")
            }
        }
        t["shuffle"] = value { v, a in
            guard case .list(var items) = v else { return v }
            if let seed = a.get(0, "seed"), seed != .null {
                var r = PythonRandom(seed: seed)
                r.shuffle(&items)
            } else {
                items.shuffle()
            }
            return .list(items)
        }
    }
}
