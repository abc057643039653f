import Foundation

/// Jinja's and Ansible's tests (`x is defined`, `result is failed`, `v is version('2', '>=')`).
enum Tests {
    typealias Test = @Sendable (RV, [Value], Interpreter, Int?) throws -> Bool

    static var names: Set<String> { Set(table.keys) }

    static func apply(_ name: String, _ input: RV, _ args: [RV], _ it: Interpreter, at: Int?) throws -> Bool {
        guard let t = table[name] else { throw RuntimeFailure(message: "no test named '\(name)'", offset: at) }
        let a = try args.map { try it.defined($0, at: at) }
        do { return try t(input, a, it, at) } catch var e as RuntimeFailure {
            if e.offset == nil { e.offset = at }
            throw e
        }
    }

    static func value(_ body: @escaping @Sendable (Value, [Value]) throws -> Bool) -> Test {
        { input, a, it, at in try body(try it.defined(input, at: at), a) }
    }

    static func status(_ v: Value, _ key: String) throws -> Bool {
        guard case .map(let m) = v else { throw RuntimeFailure(message: "The '\(key)' test expects a dictionary", offset: nil) }
        return m[key]?.truthy ?? false
    }

    static func argument(_ a: [Value], _ name: String) throws -> Value {
        guard let x = a.first else { throw RuntimeFailure(message: "the '\(name)' test needs an argument", offset: nil) }
        return x
    }

    static let table: [String: Test] = {
        var t: [String: Test] = [:]
        t["defined"] = { input, _, _, _ in !input.isUndefined }
        t["undefined"] = { input, _, _, _ in input.isUndefined }
        t["none"] = value { v, _ in v == .null }
        t["boolean"] = value { v, _ in if case .bool = v { return true }; return false }
        t["true"] = value { v, _ in v == .bool(true) }
        t["false"] = value { v, _ in v == .bool(false) }
        t["integer"] = value { v, _ in if case .int = v { return true }; return false }
        t["float"] = value { v, _ in if case .double = v { return true }; return false }
        t["number"] = value { v, _ in switch v { case .int, .double, .bool: true; default: false } }
        t["string"] = value { v, _ in if case .string = v { return true }; return false }
        t["mapping"] = value { v, _ in if case .map = v { return true }; return false }
        t["iterable"] = value { v, _ in switch v { case .list, .map, .string: true; default: false } }
        t["sequence"] = value { v, _ in switch v { case .list, .map, .string: true; default: false } }
        t["callable"] = { input, _, _, _ in if case .callable = input { return true }; return false }
        t["even"] = value { v, _ in guard case .int(let i) = v else { throw RuntimeFailure(message: "'even' needs an integer", offset: nil) }; return i % 2 == 0 }
        t["odd"] = value { v, _ in guard case .int(let i) = v else { throw RuntimeFailure(message: "'odd' needs an integer", offset: nil) }; return i % 2 != 0 }
        t["divisibleby"] = value { v, a in
            guard case .int(let i) = v, case .int(let n) = try argument(a, "divisibleby"), n != 0 else {
                throw RuntimeFailure(message: "'divisibleby' needs integers, the divisor not zero", offset: nil)
            }
            return i % n == 0
        }
        for (names, op) in [(["eq", "equalto", "=="], "=="), (["ne", "!="], "!="), (["lt", "lessthan", "<"], "<"), (["le", "<="], "<="),
                            (["gt", "greaterthan", ">"], ">"), (["ge", ">="], ">=")] {
            for n in names { t[n] = { input, a, it, at in try Operators.compare(op, try it.defined(input, at: at), try argument(a, n), at: at) } }
        }
        t["in"] = { input, a, it, at in try Operators.contains(try argument(a, "in"), try it.defined(input, at: at), at: at) }
        t["contains"] = { input, a, it, at in try Operators.contains(try it.defined(input, at: at), try argument(a, "contains"), at: at) }
        t["sameas"] = value { v, a in v == (try argument(a, "sameas")) }
        t["lower"] = value { v, _ in v.pythonText == v.pythonText.lowercased() }
        t["upper"] = value { v, _ in v.pythonText == v.pythonText.uppercased() }
        for name in ["match", "search", "regex"] {
            t[name] = value { v, a in
                let pattern = try argument(a, name).pythonText
                let ignoreCase = a.count > 1 && a[1].jinjaTruthy, multiline = a.count > 2 && a[2].jinjaTruthy
                let re = try Regexes.compile(pattern, ignoreCase: ignoreCase, multiline: multiline)
                let s = v.pythonText
                guard let m = re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else { return false }
                return name != "match" || m.range.location == 0
            }
        }
        for name in ["succeeded", "success", "successful"] { t[name] = value { v, _ in !(try status(v, "failed")) } }
        for name in ["failed", "failure"] { t[name] = value { v, _ in try status(v, "failed") } }
        for name in ["changed", "change"] { t[name] = value { v, _ in try status(v, "changed") } }
        for name in ["skipped", "skip"] { t[name] = value { v, _ in try status(v, "skipped") } }
        t["finished"] = value { v, _ in guard case .map(let m) = v else { return false }; return m["finished"].map(\.truthy) ?? true }
        t["reachable"] = value { v, _ in !(try status(v, "unreachable")) }
        t["unreachable"] = value { v, _ in try status(v, "unreachable") }
        t["truthy"] = value { v, _ in v.jinjaTruthy }
        t["falsy"] = value { v, _ in !v.jinjaTruthy }
        t["any"] = value { v, _ in (v.list ?? []).contains(where: \.jinjaTruthy) }
        t["all"] = value { v, _ in (v.list ?? []).allSatisfy(\.jinjaTruthy) }
        t["subset"] = value { v, a in
            let big = try argument(a, "subset").list ?? []
            return (v.list ?? []).allSatisfy { x in big.contains { Operators.equal($0, x) } }
        }
        t["superset"] = value { v, a in
            let small = try argument(a, "superset").list ?? []
            return small.allSatisfy { x in (v.list ?? []).contains { Operators.equal($0, x) } }
        }
        for name in ["version", "version_compare"] {
            t[name] = value { v, a in
                let other = try argument(a, name).pythonText
                let op = a.count > 1 ? a[1].pythonText : "eq"
                let c = Versions.compare(v.pythonText, other)
                switch op {
                case "<", "lt": return c < 0
                case "<=", "le": return c <= 0
                case ">", "gt": return c > 0
                case ">=", "ge": return c >= 0
                case "==", "=", "eq": return c == 0
                case "!=", "<>", "ne": return c != 0
                default: throw RuntimeFailure(message: "version: unknown comparison '\(op)'", offset: nil)
                }
            }
        }
        t["exists"] = value { v, _ in FileManager.default.fileExists(atPath: v.pythonText) }
        t["file"] = value { v, _ in var d: ObjCBool = false; return FileManager.default.fileExists(atPath: v.pythonText, isDirectory: &d) && !d.boolValue }
        t["directory"] = value { v, _ in var d: ObjCBool = false; return FileManager.default.fileExists(atPath: v.pythonText, isDirectory: &d) && d.boolValue }
        t["link"] = value { v, _ in (try? FileManager.default.destinationOfSymbolicLink(atPath: v.pythonText)) != nil }
        t["abs"] = value { v, _ in v.pythonText.hasPrefix("/") }
        return t
    }()
}

/// Loose version comparison (Ansible's LooseVersion): numbers compare as numbers, words as text.
enum Versions {
    static func parts(_ s: String) -> [Value] {
        var out: [Value] = []
        var current = ""
        var digits = false
        func flush() {
            if !current.isEmpty { out.append(digits ? .int(Int(current) ?? 0) : .string(current)) }
            current = ""
        }
        for c in s {
            if c == "." || c == "-" || c == "_" || c == "+" || c == "~" { flush(); continue }
            if c.isNumber != digits { flush(); digits = c.isNumber }
            current.append(c)
        }
        flush()
        return out
    }

    static func compare(_ a: String, _ b: String) -> Int {
        let x = parts(a), y = parts(b)
        for (p, q) in zip(x, y) {
            switch (p, q) {
            case (.int(let i), .int(let j)) where i != j: return i < j ? -1 : 1
            case (.string(let s), .string(let t)) where s != t: return s < t ? -1 : 1
            case (.int, .string): return 1
            case (.string, .int): return -1
            default: continue
            }
        }
        return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
    }
}
