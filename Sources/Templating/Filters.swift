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

    /// Jinja's sort key: strings compared without case unless asked.
    static func sortKey(_ v: Value, caseSensitive: Bool) -> Value {
        if !caseSensitive, case .string(let s) = v { return .string(s.lowercased()) }
        return v
    }

    static func sorted(_ l: [Value], caseSensitive: Bool, attribute: String?, reverse: Bool) throws -> [Value] {
        var failure: RuntimeFailure? = nil
        let keyed = l.map { item in (item, sortKey(attribute.flatMap { attributePath(item, $0) } ?? item, caseSensitive: caseSensitive)) }
        let out = keyed.enumerated().sorted { x, y in
            do {
                if Operators.equal(x.element.1, y.element.1) { return x.offset < y.offset }
                return try Operators.less(x.element.1, y.element.1, at: nil) != reverse
            } catch { failure = error as? RuntimeFailure; return false }
        }.map(\.element.0)
        if let failure { throw failure }
        return out
    }

    static func title(_ s: String) -> String {
        var out = ""
        var previousIsLetter = false
        for c in s {
            out += previousIsLetter ? c.lowercased() : c.uppercased()
            previousIsLetter = c.isLetter
        }
        return out
    }

    static let table: [String: Filter] = {
        var t: [String: Filter] = [:]
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
        t["lower"] = text { s, _ in .string(s.lowercased()) }
        t["upper"] = text { s, _ in .string(s.uppercased()) }
        t["capitalize"] = text { s, _ in .string(s.prefix(1).uppercased() + s.dropFirst().lowercased()) }
        t["title"] = text { s, _ in .string(title(s)) }
        t["trim"] = text { s, a in .string(Methods.strip(s, a.string(0, "chars"), leading: true, trailing: true)) }
        t["string"] = value { v, _ in .string(v.pythonText) }
        t["replace"] = text { s, a in
            let old = a.string(0, "old") ?? "", new = a.string(1, "new") ?? ""
            if let count = a.int(2, "count") {
                var out = "", rest = Substring(s), n = 0
                while n < count, !old.isEmpty, let r = rest.range(of: old) { out += rest[..<r.lowerBound] + new; rest = rest[r.upperBound...]; n += 1 }
                return .string(out + rest)
            }
            return .string(old.isEmpty ? s : s.replacingOccurrences(of: old, with: new))
        }
        t["regex_replace"] = text { s, a in
            let re = try Regexes.compile(a.string(0, "regex") ?? "", ignoreCase: a.bool(2, "ignorecase"), multiline: a.bool(3, "multiline"))
            return .string(try Regexes.substitute(re, in: s, template: a.string(1, "replacement") ?? "", count: a.int(4, "count") ?? 0))
        }
        t["regex_search"] = text { s, a in
            let re = try Regexes.compile(a.string(0, "regex") ?? "", ignoreCase: a.bool(-1, "ignorecase"), multiline: a.bool(-1, "multiline"))
            let groups = a.positional.dropFirst()
            guard let m = re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else {
                // Ansible fails here when groups were asked for ('NoneType' object has no attribute 'group').
                if !groups.isEmpty { throw fail("regex_search: '\(a.string(0, "regex") ?? "")' does not match, so it has no group \(groups.map(\.pythonText).joined(separator: ", "))") }
                return .null
            }
            if groups.isEmpty { return .string(Regexes.group(m, 0, in: s) ?? "") }
            return .list(try groups.map { g -> Value in
                let ref = g.pythonText
                if let n = Int(ref.replacingOccurrences(of: "\\", with: "")) { return Regexes.group(m, n, in: s).map(Value.string) ?? .null }
                if ref.hasPrefix("\\g<"), ref.hasSuffix(">") {
                    let name = String(ref.dropFirst(3).dropLast())
                    let r = m.range(withName: name)
                    return r.location == NSNotFound ? .null : .string(String(s[Range(r, in: s)!]))
                }
                throw fail("regex_search: unknown group reference \(ref)")
            })
        }
        t["regex_findall"] = text { s, a in
            let re = try Regexes.compile(a.string(0, "regex") ?? "", ignoreCase: a.bool(2, "ignorecase"), multiline: a.bool(1, "multiline"))
            return .list(re.matches(in: s, range: NSRange(s.startIndex..., in: s)).map { m in
                switch re.numberOfCaptureGroups {
                case 0: return .string(Regexes.group(m, 0, in: s) ?? "")
                case 1: return .string(Regexes.group(m, 1, in: s) ?? "")
                default: return .list((1...re.numberOfCaptureGroups).map { .string(Regexes.group(m, $0, in: s) ?? "") })
                }
            })
        }
        t["regex_escape"] = text { s, _ in .string(Regexes.escape(s)) }
        t["join"] = value { v, a in
            let sep = a.string(0, "d") ?? ""
            var list = try items(v, "join")
            if let attribute = a.string(1, "attribute") { list = list.map { attributePath($0, attribute) ?? .null } }
            return .string(list.map(\.pythonText).joined(separator: sep))
        }
        t["split"] = text { s, a in
            let sep = a.get(0, "sep").flatMap { $0 == .null ? nil : $0.pythonText }
            if sep == "" { throw fail("split: empty separator") }
            return .list(Methods.split(s, sep, a.int(1, "maxsplit") ?? -1).map(Value.string))
        }
        t["bool"] = { input, _, _, it, at in
            switch try it.defined(input, at: at) {
            case .null: return .bool(false)
            case .bool(let b): return .bool(b)
            case let v: return .bool(v.truthy)
            }
        }
        t["int"] = value { v, a in
            let fallback = a.get(0, "default") ?? .int(0)
            switch v {
            case .int: return v
            case .double(let d): return .int(Int(d))
            case .bool(let b): return .int(b ? 1 : 0)
            case .string(let s):
                let base = a.int(1, "base") ?? 10
                let trimmed = s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
                if base != 10 {
                    var digits = trimmed.lowercased()
                    for p in ["0x", "0o", "0b"] where digits.hasPrefix(p) { digits.removeFirst(2) }
                    return Int(digits, radix: base).map(Value.int) ?? fallback
                }
                if let i = Int(trimmed) { return .int(i) }
                if let d = Double(trimmed), d.isFinite { return .int(Int(d)) }
                return fallback
            default: return fallback
            }
        }
        t["float"] = value { v, a in
            switch v {
            case .double: return v
            case .int(let i): return .double(Double(i))
            case .bool(let b): return .double(b ? 1 : 0)
            case .string(let s): return Double(s.trimmingCharacters(in: .whitespaces)).map(Value.double) ?? (a.get(0, "default") ?? .double(0))
            default: return a.get(0, "default") ?? .double(0)
            }
        }
        t["abs"] = value { v, _ in
            switch v {
            case .int(let i): return .int(abs(i))
            case .double(let d): return .double(abs(d))
            default: throw fail("bad operand type for abs(): '\(v.pythonType)'")
            }
        }
        t["round"] = value { v, a in
            guard let n = Operators.number(v) else { throw fail("round: a number is required, not \(v.pythonType)") }
            let precision = a.int(0, "precision") ?? 0
            let method = a.string(1, "method") ?? "common"
            let scale = pow(10, Double(precision))
            let x = Operators.double(n) * scale
            let r: Double = method == "ceil" ? x.rounded(.up) : method == "floor" ? x.rounded(.down) : x.rounded(.toNearestOrEven)
            return .double(r / scale)
        }
        let length: Filter = value { v, _ in
            switch v {
            case .list(let l): return .int(l.count)
            case .map(let m): return .int(m.count)
            case .string(let s): return .int(s.count)
            default: throw fail("object of type '\(v.pythonType)' has no len()")
            }
        }
        t["length"] = length
        t["count"] = length
        t["first"] = { input, _, _, it, at in
            let l = try items(try it.defined(input, at: at), "first")
            return l.first.map { .value($0) } ?? .undefined("No first item, sequence was empty.")
        }
        t["last"] = { input, _, _, it, at in
            let l = try items(try it.defined(input, at: at), "last")
            return l.last.map { .value($0) } ?? .undefined("No last item, sequence was empty.")
        }
        t["unique"] = value { v, a in
            let caseSensitive = a.bool(0, "case_sensitive"), attribute = a.string(1, "attribute")
            var seen: [Value] = []
            var out: [Value] = []
            for item in try items(v, "unique") {
                let key = sortKey(attribute.flatMap { attributePath(item, $0) } ?? item, caseSensitive: caseSensitive)
                if !seen.contains(where: { Operators.equal($0, key) }) { seen.append(key); out.append(item) }
            }
            return .list(out)
        }
        t["sort"] = value { v, a in
            .list(try sorted(try items(v, "sort"), caseSensitive: a.bool(1, "case_sensitive"), attribute: a.string(2, "attribute"), reverse: a.bool(0, "reverse")))
        }
        t["dictsort"] = value { v, a in
            guard case .map(let m) = v else { throw fail("dictsort: a mapping is required, not \(v.pythonType)") }
            let byValue = a.string(1, "by") == "value"
            let pairs = m.map { Value.list([.string($0.key), $0.value]) } as [Value]
            let caseSensitive = a.bool(0, "case_sensitive"), reverse = a.bool(2, "reverse")
            return .list(try sorted(pairs, caseSensitive: caseSensitive, attribute: byValue ? "1" : "0", reverse: reverse))
        }
        t["reverse"] = value { v, _ in
            switch v {
            case .string(let s): return .string(String(s.reversed()))
            default: return .list(try items(v, "reverse").reversed())
            }
        }
        t["list"] = value { v, _ in .list(try items(v, "list")) }
        t["items"] = value { v, _ in
            guard case .map(let m) = v else { throw fail("items: a mapping is required, not \(v.pythonType)") }
            return .list(m.map { .list([.string($0.key), $0.value]) })
        }
        for name in ["min", "max"] {
            t[name] = value { v, a in
                let l = try items(v, name)
                guard !l.isEmpty else { return .null }
                let sortedItems = try sorted(l, caseSensitive: a.bool(-1, "case_sensitive"), attribute: a.string(-1, "attribute"), reverse: false)
                return name == "min" ? sortedItems.first! : sortedItems.last!
            }
        }
        t["sum"] = value { v, a in
            var total = a.get(1, "start") ?? .int(0)
            let attribute = a.string(0, "attribute")
            for item in try items(v, "sum") {
                let x = attribute.flatMap { attributePath(item, $0) } ?? item
                total = try Operators.binary("+", total, x, at: nil)
            }
            return total
        }
        t["quote"] = value { v, _ in .string(pythonShellQuote(v == .null ? "" : v.pythonText)) }
        t["to_json"] = value { v, a in
            .string(JSONText.encode(v, indent: a.int(-1, "indent"), sortKeys: a.bool(-1, "sort_keys"), ensureASCII: a.bool(-1, "ensure_ascii", default: true)))
        }
        t["tojson"] = value { v, a in .string(JSONText.encode(v, indent: a.int(0, "indent"), sortKeys: true, ensureASCII: true, htmlSafe: true)) }
        t["to_nice_json"] = value { v, a in
            .string(JSONText.encode(v, indent: a.int(-1, "indent") ?? 4, sortKeys: a.bool(-1, "sort_keys", default: true),
                                    ensureASCII: a.bool(-1, "ensure_ascii", default: true)))
        }
        t["from_json"] = text { s, _ in
            guard let v = Template.parseLiteral(s.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw fail("from_json: the text is not JSON") }
            return v
        }
        t["to_yaml"] = value { v, a in .string(YAMLWriter.dump(v, indent: a.int(-1, "indent") ?? 2, flowLeaves: true)) }
        t["to_nice_yaml"] = value { v, a in .string(YAMLWriter.dump(v, indent: a.int(0, "indent") ?? 4, flowLeaves: false)) }
        // expanduser: `~` and `~/…` as the control node's home (Python's os.path.expanduser, run there by Ansible).
        t["expanduser"] = text { s, _ in
            guard s == "~" || s.hasPrefix("~/"), let home = getenv("HOME").map({ String(cString: $0) }), !home.isEmpty else { return .string(s) }
            return .string(home + s.dropFirst())
        }
        t["basename"] = text { s, _ in .string(s.hasSuffix("/") ? "" : String(s.split(separator: "/", omittingEmptySubsequences: false).last ?? "")) }
        t["dirname"] = text { s, _ in
            guard let slash = s.lastIndex(of: "/") else { return .string("") }
            var head = String(s[...slash])
            if head.count > 1, head.contains(where: { $0 != "/" }) { while head.hasSuffix("/") { head.removeLast() } }
            return .string(head)
        }
        t["splitext"] = text { s, _ in
            let base = s.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? s
            guard let dot = base.lastIndex(of: "."), dot != base.startIndex, base[..<dot].contains(where: { $0 != "." }) else { return .list([.string(s), .string("")]) }
            let ext = String(base[dot...])
            return .list([.string(String(s.dropLast(ext.count))), .string(ext)])
        }
        t["path_join"] = value { v, _ in
            var out = ""
            for part in try items(v, "path_join").map(\.pythonText) {
                if part.hasPrefix("/") { out = part } else if out.isEmpty || out.hasSuffix("/") { out += part } else { out += "/" + part }
            }
            return .string(out)
        }
        t["b64encode"] = text { s, _ in .string(Data(s.utf8).base64EncodedString()) }
        t["b64decode"] = text { s, _ in
            guard let d = Data(base64Encoded: s, options: .ignoreUnknownCharacters) else { throw fail("b64decode: the text is not base64") }
            return .string(String(decoding: d, as: UTF8.self))
        }
        t["ternary"] = { input, a, _, it, at in
            let v = try it.defined(input, at: at)
            if v == .null, let none = a.get(2, "none_val") { return .value(none) }
            return .value((v.jinjaTruthy ? a.get(0, "true_val") : a.get(1, "false_val")) ?? .null)
        }
        t["comment"] = text { s, a in .string(try comment(s, a)) }
        t["password_hash"] = { input, a, _, it, at in
            let password = try it.defined(input, at: at).pythonText
            var scheme = a.string(0, "hashtype") ?? "sha512"
            scheme = ["sha512_crypt": "sha512", "sha256_crypt": "sha256", "md5_crypt": "md5"][scheme] ?? scheme
            guard ["sha512", "sha256", "md5"].contains(scheme) else { throw fail("password_hash: parc supports sha512, sha256 and md5, not '\(scheme)'") }
            guard let hook = it.hooks.passwordHash else { throw fail("password_hash is not available here") }
            return .str(try hook(password, scheme, a.string(1, "salt"), a.int(3, "rounds")))
        }
        t["dict2items"] = value { v, a in
            guard case .map(let m) = v else { throw fail("dict2items requires a dictionary, got \(v.pythonType) instead.") }
            let k = a.string(0, "key_name") ?? "key", n = a.string(1, "value_name") ?? "value"
            return .list(m.map { .map(OrderedMap(ordered: [(k, .string($0.key)), (n, $0.value)])) })
        }
        t["items2dict"] = value { v, a in
            let k = a.string(0, "key_name") ?? "key", n = a.string(1, "value_name") ?? "value"
            var out = OrderedMap()
            for item in try items(v, "items2dict") {
                guard case .map(let m) = item, let key = m[k], let value = m[n] else {
                    throw fail("items2dict requires each item to have a '\(k)' and a '\(n)' key")
                }
                out[key.pythonText] = value
            }
            return .map(out)
        }
        t["combine"] = value { v, a in
            let recursive = a.named["recursive"]?.jinjaTruthy ?? false
            let listMerge = a.named["list_merge"]?.pythonText ?? "replace"
            var dicts = [v] + a.positional
            if dicts.count == 2, case .list(let l) = dicts[1] { dicts = [v] + l }
            var out = OrderedMap()
            for d in dicts {
                if case .list(let l) = d {
                    for x in l { guard case .map(let m) = x else { throw fail("combine: mappings are required") }; out = merge(out, m, recursive: recursive, listMerge: listMerge) }
                    continue
                }
                guard case .map(let m) = d else { throw fail("failed to combine variables, expected dicts but got '\(d.pythonType)'") }
                out = merge(out, m, recursive: recursive, listMerge: listMerge)
            }
            return .map(out)
        }
        t["map"] = { input, a, _, it, at in
            let list = try items(try it.defined(input, at: at), "map")
            if let attribute = a.named["attribute"]?.pythonText {
                return .value(.list(try list.map { item in
                    if let v = attributePath(item, attribute) { return v }
                    if let d = a.named["default"] { return d }
                    throw RuntimeFailure(message: "\(Operators.objectName(item)) has no attribute '\(attribute)'", offset: at)
                }))
            }
            guard let name = a.positional.first?.pythonText else { return .value(.list(list)) }
            guard table[name] != nil else { throw fail("map: no filter named '\(name)'") }
            let rest = Array(a.positional.dropFirst()).map { RV.value($0) }
            let kw = a.named.map { ($0.key, RV.value($0.value)) }
            return .value(.list(try list.map { try it.defined(try apply(name, .value($0), rest, kw, it, at: at), at: at) }))
        }
        for (name, keep) in [("select", true), ("reject", false)] {
            t[name] = { input, a, _, it, at in
                let list = try items(try it.defined(input, at: at), name)
                guard let test = a.positional.first?.pythonText else { return .value(.list(list.filter { $0.jinjaTruthy == keep })) }
                let rest = Array(a.positional.dropFirst()).map { RV.value($0) }
                return .value(.list(try list.filter { try Tests.apply(test, .value($0), rest, it, at: at) == keep }))
            }
        }
        for (name, keep) in [("selectattr", true), ("rejectattr", false)] {
            t[name] = { input, a, _, it, at in
                let list = try items(try it.defined(input, at: at), name)
                guard let attribute = a.positional.first?.pythonText else { throw fail("\(name) needs an attribute name") }
                let test = a.positional.count > 1 ? a.positional[1].pythonText : nil
                let rest = Array(a.positional.dropFirst(2)).map { RV.value($0) }
                return .value(.list(try list.filter { item in
                    let field: RV = attributePath(item, attribute).map { .value($0) } ?? .undefined("\(Operators.objectName(item)) has no attribute '\(attribute)'")
                    guard let test else { return try it.truth(field, at: at) == keep }
                    return try Tests.apply(test, field, rest, it, at: at) == keep
                }))
            }
        }
        t["format"] = text { s, a in
            if !a.named.isEmpty { return .string(try Operators.printf(s, Value.map(a.named), at: nil)) }
            return .string(try Operators.printf(s, .list(a.positional), at: nil))
        }
        t["zip"] = value { v, a in
            let lists = try ([v] + a.positional).map { try items($0, "zip") }
            let n = lists.map(\.count).min() ?? 0
            return .list((0..<n).map { i in .list(lists.map { $0[i] }) })
        }
        t["zip_longest"] = value { v, a in
            let lists = try ([v] + a.positional).map { try items($0, "zip_longest") }
            let n = lists.map(\.count).max() ?? 0
            let fill = a.named["fillvalue"] ?? .null
            return .list((0..<n).map { i in .list(lists.map { i < $0.count ? $0[i] : fill }) })
        }
        t["flatten"] = value { v, a in
            let levels = a.int(0, "levels")
            let skipNulls = a.bool(1, "skip_nulls", default: true)
            func flat(_ l: [Value], _ depth: Int) -> [Value] {
                var out: [Value] = []
                for item in l {
                    if skipNulls, item == .null || item == .string("None") || item == .string("null") { continue }
                    if case .list(let inner) = item, levels.map({ depth < $0 }) ?? true { out += flat(inner, depth + 1) } else { out.append(item) }
                }
                return out
            }
            return .list(flat(try items(v, "flatten"), 0))
        }
        t["product"] = value { v, a in
            let lists = try ([v] + a.positional).map { try items($0, "product") }
            var out: [[Value]] = [[]]
            for l in lists { out = out.flatMap { prefix in l.map { prefix + [$0] } } }
            return .list(out.map(Value.list))
        }
        t["hash"] = text { s, a in .string(try digest(s, a.string(0, "hashtype") ?? "sha1")) }
        t["checksum"] = text { s, _ in .string(try digest(s, "sha1")) }
        t["sha1"] = text { s, _ in .string(try digest(s, "sha1")) }
        t["md5"] = text { s, _ in .string(try digest(s, "md5")) }
        t["urlsplit"] = text { s, a in
            let parts = URLParts(s)
            if let query = a.string(0, "query"), !query.isEmpty {
                guard let v = parts.fields[query] else { throw fail("urlsplit: unknown URL component: \(query)") }
                return v
            }
            return Value.map(parts.fields)
        }
        t["indent"] = text { s, a in
            let width = a.get(0, "width").map { v -> String in if case .int(let n) = v { return String(repeating: " ", count: n) }; return v.pythonText } ?? "    "
            let first = a.bool(1, "first"), blank = a.bool(2, "blank")
            var lines = s.components(separatedBy: "\n")
            for i in lines.indices where (i > 0 || first) && (blank || !lines[i].trimmingCharacters(in: .whitespaces).isEmpty) { lines[i] = width + lines[i] }
            return .string(lines.joined(separator: "\n"))
        }
        t["center"] = text { s, a in
            let w = a.int(0, "width") ?? 80, n = max(0, w - s.count)
            let left = n / 2 + (n & w & 1)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: n - left))
        }
        t["wordcount"] = text { s, _ in .int(s.split { !$0.isLetter && !$0.isNumber && $0 != "_" }.count) }
        t["truncate"] = text { s, a in
            let length = a.int(0, "length") ?? 255, killwords = a.bool(1, "killwords"), end = a.string(2, "end") ?? "..."
            let leeway = a.int(3, "leeway") ?? 5
            if s.count <= length + leeway { return .string(s) }
            if killwords { return .string(String(s.prefix(length - end.count)) + end) }
            var cut = String(s.prefix(length - end.count))
            if let space = cut.lastIndex(of: " ") { cut = String(cut[..<space]) }
            return .string(cut + end)
        }
        t["batch"] = value { v, a in
            let n = max(1, a.int(0, "linecount") ?? 1)
            let fill = a.get(1, "fill_with")
            var out: [Value] = []
            var l = try items(v, "batch")
            while !l.isEmpty {
                var chunk = Array(l.prefix(n))
                l = Array(l.dropFirst(n))
                if let fill, chunk.count < n { chunk += Array(repeating: fill, count: n - chunk.count) }
                out.append(.list(chunk))
            }
            return .list(out)
        }
        t["groupby"] = value { v, a in
            guard let attribute = a.string(0, "attribute") else { throw fail("groupby needs an attribute") }
            var groups: [(Value, [Value])] = []
            for item in try sorted(try items(v, "groupby"), caseSensitive: true, attribute: attribute, reverse: false) {
                let key = attributePath(item, attribute) ?? .null
                if let i = groups.firstIndex(where: { Operators.equal($0.0, key) }) { groups[i].1.append(item) } else { groups.append((key, [item])) }
            }
            return .list(groups.map { .list([$0.0, .list($0.1)]) })
        }
        func setOperation(_ name: String, _ body: @escaping @Sendable ([Value], [Value]) -> [Value]) {
            t[name] = value { v, a in
                guard let other = a.positional.first else { throw fail("\(name) needs a second list") }
                var out: [Value] = []
                for x in body(try items(v, name), try items(other, name)) where !out.contains(where: { Operators.equal($0, x) }) { out.append(x) }
                // Ansible goes through a Python set: small integers come out in order.
                if out.allSatisfy({ if case .int(let i) = $0 { return i >= 0 }; return false }) { out.sort { ($0.int ?? 0) < ($1.int ?? 0) } }
                return .list(out)
            }
        }
        setOperation("difference") { a, b in a.filter { x in !b.contains { Operators.equal($0, x) } } }
        setOperation("intersect") { a, b in a.filter { x in b.contains { Operators.equal($0, x) } } }
        setOperation("union") { a, b in a + b }
        setOperation("symmetric_difference") { a, b in
            a.filter { x in !b.contains { Operators.equal($0, x) } } + b.filter { x in !a.contains { Operators.equal($0, x) } }
        }
        t["attr"] = { input, a, _, it, at in try it.attribute(input, a.string(0, "name") ?? "", at: at ?? 0) }
        for name in ["escape", "e", "forceescape"] {
            t[name] = text { s, _ in
                .string(s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
                    .replacingOccurrences(of: "\"", with: "&#34;").replacingOccurrences(of: "'", with: "&#39;"))
            }
        }
        t["safe"] = { input, _, _, it, at in .value(try it.defined(input, at: at)) }
        t["urlencode"] = value { v, _ in
            var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
            allowed.insert(charactersIn: "-._~/")
            func enc(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s }
            if case .map(let m) = v { return .string(m.map { enc($0.key) + "=" + enc($0.value.pythonText) }.joined(separator: "&")) }
            return .string(enc(v.pythonText))
        }
        t["type_debug"] = { input, _, _, it, at in
            if case .undefined = input { return .str("AnsibleUndefined") }
            let v = try it.defined(input, at: at)
            return .str(v.pythonType)
        }
        t["subelements"] = value { v, a in
            guard let path = a.string(0, "subelements") else { throw fail("subelements needs the name of the sub-list") }
            let skipMissing = a.bool(1, "skip_missing") || (a.named["skip_missing"]?.truthy ?? false)
            var out: [Value] = []
            let list: [Value] = try { if case .map(let m) = v { return m.values }; return try items(v, "subelements") }()
            for item in list {
                guard let sub = attributePath(item, path) else {
                    if skipMissing { continue }
                    throw fail("could not find '\(path)' key in iterated item '\(item.pythonRepr)'")
                }
                guard case .list(let l) = sub else { throw fail("the key \(path) should point to a list, got '\(sub.pythonRepr)'") }
                for x in l { out.append(.list([item, x])) }
            }
            return .list(out)
        }
        t["extract"] = value { v, a in
            guard let container = a.get(0, "container") else { throw fail("extract needs a container") }
            var keys = [v]
            if let more = a.get(1, "morekeys") { keys += more.list ?? [more] }
            var current = container
            for k in keys {
                switch (current, k) {
                case (.map(let m), _): guard let n = m[k.pythonText] else { throw fail("extract: \(Operators.objectName(current)) has no attribute \(k.pythonRepr)") }; current = n
                case (.list(let l), .int(let i)) where l.indices.contains(i): current = l[i]
                default: throw fail("extract: \(k.pythonRepr) is not in the container")
                }
            }
            return current
        }
        t["random"] = value { _, _ in throw fail("the random filter gives a different result on every run; parc refuses it (a play should decide the same way twice)") }
        return t
    }()

    static func merge(_ a: OrderedMap, _ b: OrderedMap, recursive: Bool, listMerge: String) -> OrderedMap {
        var out = a
        for (k, v) in b {
            if recursive, case .map(let x)? = out[k], case .map(let y) = v {
                out[k] = .map(merge(x, y, recursive: true, listMerge: listMerge))
            } else if case .list(let x)? = out[k], case .list(let y) = v, listMerge != "replace" {
                switch listMerge {
                case "keep": break
                case "append": out[k] = .list(x + y)
                case "prepend": out[k] = .list(y + x)
                case "append_rp": out[k] = .list(x.filter { !y.contains($0) } + y)
                case "prepend_rp": out[k] = .list(y + x.filter { !y.contains($0) })
                default: out[k] = v
                }
            } else {
                out[k] = v
            }
        }
        return out
    }

    static func digest(_ s: String, _ kind: String) throws -> String {
        let data = Data(s.utf8)
        let bytes: [UInt8]
        switch kind {
        case "md5": bytes = Array(Insecure.MD5.hash(data: data))
        case "sha1": bytes = Array(Insecure.SHA1.hash(data: data))
        case "sha256": bytes = Array(SHA256.hash(data: data))
        case "sha384": bytes = Array(SHA384.hash(data: data))
        case "sha512": bytes = Array(SHA512.hash(data: data))
        default: throw fail("hash: parc supports md5, sha1, sha256, sha384 and sha512, not '\(kind)'")
        }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Ansible's `comment` filter: the text's lines behind a decoration, with a prefix and a
    /// postfix line (`#`, `# text`, `#` for the plain style).
    static func comment(_ text: String, _ a: Arguments) throws -> String {
        let style = a.string(0, "style") ?? "plain"
        let styles: [String: [String: String]] = [
            "plain": ["decoration": "# "], "erlang": ["decoration": "% "], "c": ["decoration": "// "],
            "cblock": ["beginning": "/*", "decoration": " * ", "end": " */"], "xml": ["beginning": "<!--", "decoration": " - ", "end": "-->"],
        ]
        guard let chosen = styles[style] else { throw fail("comment: unknown style '\(style)'") }
        let prepostfix = a.named["decoration"]?.pythonText ?? chosen["decoration"]!
        var p: [String: String] = ["newline": "\n", "beginning": "", "prefix": Methods.strip(prepostfix, nil, leading: false, trailing: true),
                                   "decoration": "", "postfix": Methods.strip(prepostfix, nil, leading: false, trailing: true), "end": ""]
        for (k, v) in chosen { p[k] = v }
        var prefixCount = 1, postfixCount = 1
        for (k, v) in a.named {
            if k == "prefix_count" { prefixCount = Int(v.pythonText) ?? 1 } else if k == "postfix_count" { postfixCount = Int(v.pythonText) ?? 1 } else { p[k] = v.pythonText }
        }
        let nl = p["newline"]!, decoration = p["decoration"]!
        let beginning = p["beginning"]!.isEmpty ? "" : p["beginning"]! + nl
        var prefix = ""
        if !p["prefix"]!.isEmpty {
            prefix = String(repeating: p["prefix"]! != nl ? p["prefix"]! + nl : nl, count: prefixCount)
        }
        let body = (decoration + text.replacingOccurrences(of: nl, with: nl + decoration))
            .replacingOccurrences(of: decoration + nl, with: Methods.strip(decoration, nil, leading: false, trailing: true) + nl)
        let postfix = ([""] + Array(repeating: p["postfix"]!, count: postfixCount)).joined(separator: nl)
        let end = p["end"]!.isEmpty ? "" : nl + p["end"]!
        return beginning + prefix + body + postfix + end
    }

    /// Python's `str.format`: `{}`, `{0}`, `{name}`, `{{`, `}}` (format specs are ignored but for `:>N`, `:<N`).
    static func pythonFormat(_ format: String, _ args: [Value], _ kwargs: [String: Value]) throws -> String {
        var out = ""
        var auto = 0
        var chars = Array(format)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "{", chars.first == "{" { out.append("{"); chars = chars.dropFirst(); continue }
            if c == "}", chars.first == "}" { out.append("}"); chars = chars.dropFirst(); continue }
            guard c == "{" else { out.append(c); continue }
            guard let close = chars.firstIndex(of: "}") else { throw fail("Single '{' encountered in format string") }
            let field = String(chars[..<close])
            chars = chars[(close + 1)...]
            let parts = field.split(separator: ":", maxSplits: 1).map(String.init)
            let name = parts.first ?? ""
            let v: Value
            if name.isEmpty { guard auto < args.count else { throw fail("Replacement index \(auto) out of range") }; v = args[auto]; auto += 1 }
            else if let i = Int(name) { guard i < args.count else { throw fail("Replacement index \(i) out of range") }; v = args[i] }
            else { guard let x = kwargs[name] else { throw fail("KeyError: '\(name)'") }; v = x }
            var piece = v.pythonText
            if parts.count > 1 {
                let spec = parts[1]
                if let m = spec.wholeMatch(of: /([<>^])?(\d+)/), let w = Int(m.2), piece.count < w {
                    let pad = String(repeating: " ", count: w - piece.count)
                    piece = m.1 == ">" || (m.1 == nil && Operators.number(v) != nil) ? pad + piece : piece + pad
                } else if let m = spec.wholeMatch(of: /\.(\d+)f/), let n = Operators.number(v) {
                    piece = String(format: "%.\(m.1)f", Operators.double(n))
                }
            }
            out += piece
        }
        return out
    }
}


/// `urlsplit`: Python's urllib.parse.urlsplit fields.
struct URLParts {
    var fields: [String: Value] = [:]
    init(_ s: String) {
        var rest = Substring(s)
        var scheme = ""
        if let colon = rest.firstIndex(of: ":"), rest[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }), !rest[..<colon].isEmpty {
            scheme = rest[..<colon].lowercased()
            rest = rest[rest.index(after: colon)...]
        }
        var netloc = ""
        if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
            let end = rest.firstIndex { "/?#".contains($0) } ?? rest.endIndex
            netloc = String(rest[..<end])
            rest = rest[end...]
        }
        var fragment = ""
        if let hash = rest.firstIndex(of: "#") { fragment = String(rest[rest.index(after: hash)...]); rest = rest[..<hash] }
        var query = ""
        if let q = rest.firstIndex(of: "?") { query = String(rest[rest.index(after: q)...]); rest = rest[..<q] }
        var username: Value = .null, password: Value = .null, hostname: Value = .null, port: Value = .null
        if !netloc.isEmpty {
            var hostPart = Substring(netloc)
            if let at = netloc.lastIndex(of: "@") {
                let user = netloc[..<at]
                hostPart = netloc[netloc.index(after: at)...]
                let up = user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                username = .string(String(up[0]))
                if up.count > 1 { password = .string(String(up[1])) }
            }
            if hostPart.hasPrefix("["), let close = hostPart.firstIndex(of: "]") {
                hostname = .string(hostPart[hostPart.index(after: hostPart.startIndex)..<close].lowercased())
                let after = hostPart[hostPart.index(after: close)...]
                if after.hasPrefix(":"), let p = Int(after.dropFirst()) { port = .int(p) }
            } else {
                let hp = hostPart.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                if !hp[0].isEmpty { hostname = .string(hp[0].lowercased()) }
                if hp.count > 1, let p = Int(hp[1]) { port = .int(p) }
            }
        }
        fields = ["scheme": .string(scheme), "netloc": .string(netloc), "path": .string(String(rest)), "query": .string(query),
                  "fragment": .string(fragment), "username": username, "password": password, "hostname": hostname, "port": port]
    }
}

/// Single-quoted shell words (as Python's shlex.quote).
func pythonShellQuote(_ s: String) -> String {
    if s.isEmpty { return "''" }
    if s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "@%+=:,./-_".contains($0)) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\"'\"'") + "'"
}
