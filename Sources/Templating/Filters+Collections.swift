import Foundation

extension Filters {
    /// Lists and mappings: length, order, selection, `map`, `combine`, `zip`, `flatten`, `groupby`, set operations, `subelements`, `extract`.
    static func collections(into t: inout [String: Filter]) {
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
}
