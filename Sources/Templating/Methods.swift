import Foundation

/// Python's methods on strings, lists and mappings (`name.split('-')`, `d.items()`), the ones
/// playbooks call. Values are never changed in place (`append` and the like are refused).
enum Methods {
    static func bind(_ v: Value, _ name: String, _ it: Interpreter) -> Callable? {
        let method: (([Value], [String: Value]) throws -> Value)?
        switch v {
        case .string(let s): method = string(s, name)
        case .list(let l): method = list(l, name)
        case .map(let m): method = map(m, name)
        default: method = nil
        }
        guard let method else {
            if case .list = v, ["append", "extend", "insert", "pop", "remove", "sort", "reverse", "clear"].contains(name) {
                return Callable(name: name) { _, _ in
                    throw RuntimeFailure(message: "list.\(name)() changes a list in place; parc's templates do not allow it (use filters: + [x], sort, reverse)", offset: nil)
                }
            }
            if case .map = v, ["update", "pop", "setdefault", "clear", "popitem"].contains(name) {
                return Callable(name: name) { _, _ in
                    throw RuntimeFailure(message: "dict.\(name)() changes a mapping in place; parc's templates do not allow it (use combine)", offset: nil)
                }
            }
            return nil
        }
        return Callable(name: name) { [unowned it] args, kwargs in
            let a = try args.map { try it.defined($0) }
            var kw: [String: Value] = [:]
            for (k, x) in kwargs { kw[k] = try it.defined(x) }
            return .value(try method(a, kw))
        }
    }

    static func arg(_ a: [Value], _ kw: [String: Value], _ i: Int, _ name: String) -> Value? {
        i < a.count ? a[i] : kw[name]
    }

    static func str(_ v: Value?, _ what: String) throws -> String {
        guard case .string(let s)? = v else {
            throw RuntimeFailure(message: "\(what) must be str, not \(v?.pythonType ?? "nothing")", offset: nil)
        }
        return s
    }

    static func isSpace(_ c: Character) -> Bool { c.isWhitespace }

    /// Python's `str.split(sep=None, maxsplit=-1)`.
    static func split(_ s: String, _ sep: String?, _ maxsplit: Int) -> [String] {
        if let sep {
            var parts: [String] = []
            var rest = Substring(s)
            while maxsplit < 0 || parts.count < maxsplit, let r = rest.range(of: sep) {
                parts.append(String(rest[..<r.lowerBound]))
                rest = rest[r.upperBound...]
            }
            parts.append(String(rest))
            return parts
        }
        var parts: [String] = []
        var rest = Substring(s).drop(while: isSpace)
        while !rest.isEmpty {
            if maxsplit >= 0, parts.count == maxsplit { parts.append(String(rest.reversed().drop(while: isSpace).reversed())); break }
            let word = rest.prefix { !isSpace($0) }
            parts.append(String(word))
            rest = rest.dropFirst(word.count).drop(while: isSpace)
        }
        return parts
    }

    static func strip(_ s: String, _ chars: String?, leading: Bool, trailing: Bool) -> String {
        let set: (Character) -> Bool = chars.map { c in { c.contains($0) } } ?? isSpace
        var sub = Substring(s)
        if leading { sub = sub.drop(while: set) }
        if trailing { while let l = sub.last, set(l) { sub = sub.dropLast() } }
        return String(sub)
    }

    static func string(_ s: String, _ name: String) -> (([Value], [String: Value]) throws -> Value)? {
        switch name {
        case "split", "rsplit":
            return { a, kw in
                let sep = arg(a, kw, 0, "sep").flatMap { $0 == .null ? nil : $0 }
                let max: Int = { if case .int(let n)? = arg(a, kw, 1, "maxsplit") { return n }; return -1 }()
                let sepText = try sep.map { try str($0, "the separator") }
                if sepText == "" { throw RuntimeFailure(message: "empty separator", offset: nil) }
                if name == "rsplit", max >= 0 {
                    let reversed = split(String(s.reversed()), sepText.map { String($0.reversed()) }, max)
                    return .list(reversed.reversed().map { .string(String($0.reversed())) })
                }
                return .list(split(s, sepText, max).map { .string($0) })
            }
        case "splitlines":
            return { _, _ in .list(s.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }.map { .string(String($0)) }.dropLastIfEmpty()) }
        case "startswith", "endswith":
            return { a, kw in
                let candidates: [Value]
                switch arg(a, kw, 0, "prefix") {
                case .list(let l)?: candidates = l
                case let v?: candidates = [v]
                case nil: throw RuntimeFailure(message: "\(name)() takes at least 1 argument", offset: nil)
                }
                for c in candidates {
                    let t = try str(c, "\(name) first arg")
                    if name == "startswith" ? s.hasPrefix(t) : s.hasSuffix(t) { return .bool(true) }
                }
                return .bool(false)
            }
        case "replace":
            return { a, kw in
                let old = try str(arg(a, kw, 0, "old"), "replace() argument 1"), new = try str(arg(a, kw, 1, "new"), "replace() argument 2")
                if case .int(let count)? = arg(a, kw, 2, "count"), count >= 0 {
                    var out = "", rest = Substring(s), n = 0
                    while n < count, let r = rest.range(of: old), !old.isEmpty { out += rest[..<r.lowerBound] + new; rest = rest[r.upperBound...]; n += 1 }
                    return .string(out + rest)
                }
                return .string(old.isEmpty ? s : s.replacingOccurrences(of: old, with: new))
            }
        case "lower": return { _, _ in .string(s.lowercased()) }
        case "upper": return { _, _ in .string(s.uppercased()) }
        case "title": return { _, _ in .string(Filters.title(s)) }
        case "capitalize": return { _, _ in .string(s.prefix(1).uppercased() + s.dropFirst().lowercased()) }
        case "swapcase": return { _, _ in .string(String(s.map { $0.isUppercase ? Character($0.lowercased()) : Character($0.uppercased()) })) }
        case "strip", "lstrip", "rstrip":
            return { a, kw in
                let chars = arg(a, kw, 0, "chars").flatMap { $0 == .null ? nil : $0.pythonText }
                return .string(strip(s, chars, leading: name != "rstrip", trailing: name != "lstrip"))
            }
        case "find", "rfind", "index", "rindex":
            return { a, kw in
                let sub = try str(arg(a, kw, 0, "sub"), "\(name)() argument")
                let r = name.hasPrefix("r") ? s.range(of: sub, options: .backwards) : s.range(of: sub)
                guard let r else {
                    if name.hasSuffix("index") { throw RuntimeFailure(message: "substring not found", offset: nil) }
                    return .int(-1)
                }
                return .int(s.distance(from: s.startIndex, to: r.lowerBound))
            }
        case "count":
            return { a, kw in
                let sub = try str(arg(a, kw, 0, "sub"), "count() argument")
                return .int(sub.isEmpty ? s.count + 1 : s.components(separatedBy: sub).count - 1)
            }
        case "join":
            return { a, _ in
                guard case .list(let l)? = a.first else { throw RuntimeFailure(message: "can only join an iterable", offset: nil) }
                return .string(try l.map { try str($0, "sequence item") }.joined(separator: s))
            }
        case "format":
            return { a, kw in .string(try Filters.pythonFormat(s, a, kw)) }
        case "isdigit", "isnumeric", "isdecimal": return { _, _ in .bool(!s.isEmpty && s.allSatisfy(\.isNumber)) }
        case "isalpha": return { _, _ in .bool(!s.isEmpty && s.allSatisfy(\.isLetter)) }
        case "isalnum": return { _, _ in .bool(!s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber }) }
        case "isspace": return { _, _ in .bool(!s.isEmpty && s.allSatisfy(\.isWhitespace)) }
        case "isupper": return { _, _ in .bool(s.contains(where: \.isLetter) && !s.contains(where: \.isLowercase)) }
        case "islower": return { _, _ in .bool(s.contains(where: \.isLetter) && !s.contains(where: \.isUppercase)) }
        case "zfill":
            return { a, _ in
                guard case .int(let w)? = a.first else { throw RuntimeFailure(message: "zfill() takes an integer", offset: nil) }
                let sign = s.first == "-" || s.first == "+" ? String(s.first!) : ""
                let digits = sign.isEmpty ? s : String(s.dropFirst())
                return .string(sign + String(repeating: "0", count: max(0, w - s.count)) + digits)
            }
        case "center", "ljust", "rjust":
            return { a, _ in
                guard case .int(let w)? = a.first else { throw RuntimeFailure(message: "\(name)() takes an integer", offset: nil) }
                let fill = a.count > 1 ? a[1].pythonText : " "
                let n = max(0, w - s.count)
                switch name {
                case "ljust": return .string(s + String(repeating: fill, count: n))
                case "rjust": return .string(String(repeating: fill, count: n) + s)
                default:
                    let left = n / 2 + (n & w & 1)
                    return .string(String(repeating: fill, count: left) + s + String(repeating: fill, count: n - left))
                }
            }
        case "partition", "rpartition":
            return { a, _ in
                let sep = try str(a.first, "\(name)() argument")
                guard let r = name == "partition" ? s.range(of: sep) : s.range(of: sep, options: .backwards) else {
                    return .list(name == "partition" ? [.string(s), .string(""), .string("")] : [.string(""), .string(""), .string(s)])
                }
                return .list([.string(String(s[..<r.lowerBound])), .string(sep), .string(String(s[r.upperBound...]))])
            }
        case "encode", "decode": return { _, _ in .string(s) }
        default: return nil
        }
    }

    static func list(_ l: [Value], _ name: String) -> (([Value], [String: Value]) throws -> Value)? {
        switch name {
        case "index":
            return { a, _ in
                guard let x = a.first else { throw RuntimeFailure(message: "index() takes exactly one argument", offset: nil) }
                guard let i = l.firstIndex(where: { Operators.equal($0, x) }) else {
                    throw RuntimeFailure(message: "\(x.pythonRepr) is not in list", offset: nil)
                }
                return .int(i)
            }
        case "count":
            return { a, _ in
                guard let x = a.first else { throw RuntimeFailure(message: "count() takes exactly one argument", offset: nil) }
                return .int(l.filter { Operators.equal($0, x) }.count)
            }
        case "copy": return { _, _ in .list(l) }
        default: return nil
        }
    }

    static func map(_ m: OrderedMap, _ name: String) -> (([Value], [String: Value]) throws -> Value)? {
        switch name {
        case "items", "iteritems": return { _, _ in .list(m.map { .list([.string($0.key), $0.value]) }) }
        case "keys", "iterkeys": return { _, _ in .list(m.keys.map { .string($0) }) }
        case "values", "itervalues": return { _, _ in .list(m.values) }
        case "get":
            return { a, _ in
                guard let k = a.first else { throw RuntimeFailure(message: "get expected at least 1 argument", offset: nil) }
                return m[k.pythonText] ?? (a.count > 1 ? a[1] : .null)
            }
        case "copy": return { _, _ in .map(m) }
        default: return nil
        }
    }
}

extension Array where Element == Value {
    func dropLastIfEmpty() -> [Value] {
        if last == .string("") { return Array(dropLast()) }
        return self
    }
}
