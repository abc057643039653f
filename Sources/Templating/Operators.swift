import Foundation

/// Python's arithmetic and comparisons, as Jinja applies them.
enum Operators {
    /// How Ansible 2.19's errors name a value's kind: `object of type 'dict'`.
    static func objectName(_ v: Value) -> String { "object of type '\(v.pythonType)'" }

    enum Number { case int(Int), double(Double) }

    static func number(_ v: Value) -> Number? {
        switch v {
        case .int(let i): .int(i)
        case .double(let d): .double(d)
        case .bool(let b): .int(b ? 1 : 0)
        default: nil
        }
    }

    static func double(_ n: Number) -> Double { switch n { case .int(let i): Double(i); case .double(let d): d } }

    static func unsupported(_ op: String, _ a: Value, _ b: Value, at: Int?) -> RuntimeFailure {
        RuntimeFailure(message: "unsupported operand type(s) for \(op): '\(a.pythonType)' and '\(b.pythonType)'", offset: at)
    }

    static func binary(_ op: String, _ a: Value, _ b: Value, at: Int?) throws -> Value {
        if op == "%", case .string(let format) = a { return .string(try printf(format, b, at: at)) }
        switch (op, a, b) {
        case ("+", .string(let x), .string(let y)): return .string(x + y)
        case ("+", .list(let x), .list(let y)): return .list(x + y)
        case ("*", .string(let s), .int(let n)), ("*", .int(let n), .string(let s)): return .string(String(repeating: s, count: max(0, n)))
        case ("*", .list(let l), .int(let n)), ("*", .int(let n), .list(let l)):
            return .list(Array([[Value]](repeating: l, count: max(0, n)).joined()))
        default: break
        }
        guard let x = number(a), let y = number(b) else { throw unsupported(op, a, b, at: at) }
        if case .int(let i) = x, case .int(let j) = y {
            switch op {
            case "+": let (r, o) = i.addingReportingOverflow(j); if !o { return .int(r) }
            case "-": let (r, o) = i.subtractingReportingOverflow(j); if !o { return .int(r) }
            case "*": let (r, o) = i.multipliedReportingOverflow(by: j); if !o { return .int(r) }
            case "/":
                guard j != 0 else { throw RuntimeFailure(message: "division by zero", offset: at) }
                return .double(Double(i) / Double(j))
            case "//":
                guard j != 0 else { throw RuntimeFailure(message: "integer division or modulo by zero", offset: at) }
                return .int(Int((Double(i) / Double(j)).rounded(.down)))
            case "%":
                guard j != 0 else { throw RuntimeFailure(message: "integer division or modulo by zero", offset: at) }
                let r = i % j
                return .int(r != 0 && (r < 0) != (j < 0) ? r + j : r)
            case "**":
                if j >= 0 {
                    var r = 1
                    for _ in 0..<min(j, 64) { let (m, o) = r.multipliedReportingOverflow(by: i); if o { return .double(pow(Double(i), Double(j))) }; r = m }
                    return j > 64 && abs(i) > 1 ? .double(pow(Double(i), Double(j))) : .int(r)
                }
                return .double(pow(Double(i), Double(j)))
            default: break
            }
        }
        let p = double(x), q = double(y)
        switch op {
        case "+": return .double(p + q)
        case "-": return .double(p - q)
        case "*": return .double(p * q)
        case "/":
            guard q != 0 else { throw RuntimeFailure(message: "float division by zero", offset: at) }
            return .double(p / q)
        case "//":
            guard q != 0 else { throw RuntimeFailure(message: "float floor division by zero", offset: at) }
            return .double((p / q).rounded(.down))
        case "%":
            guard q != 0 else { throw RuntimeFailure(message: "float modulo", offset: at) }
            let r = fmod(p, q)
            return .double(r != 0 && (r < 0) != (q < 0) ? r + q : r)
        case "**": return .double(pow(p, q))
        default: throw unsupported(op, a, b, at: at)
        }
    }

    static func equal(_ a: Value, _ b: Value) -> Bool {
        if let x = number(a), let y = number(b) {
            if case .int(let i) = x, case .int(let j) = y { return i == j }
            return double(x) == double(y)
        }
        switch (a, b) {
        case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.map(let x), .map(let y)): return x.count == y.count && x.allSatisfy { k, v in y[k].map { equal(v, $0) } ?? false }
        default: return a == b
        }
    }

    /// Python's ordering: numbers, strings, lists; anything else is a TypeError.
    static func less(_ a: Value, _ b: Value, op: String = "<", at: Int?) throws -> Bool {
        if let x = number(a), let y = number(b) {
            if case .int(let i) = x, case .int(let j) = y { return i < j }
            return double(x) < double(y)
        }
        switch (a, b) {
        case (.string(let x), .string(let y)): return Array(x.unicodeScalars.map(\.value)).lexicographicallyPrecedes(y.unicodeScalars.map(\.value))
        case (.list(let x), .list(let y)):
            for (p, q) in zip(x, y) where !equal(p, q) { return try less(p, q, op: op, at: at) }
            return x.count < y.count
        default:
            throw RuntimeFailure(message: "'\(op)' not supported between instances of '\(a.pythonType)' and '\(b.pythonType)'", offset: at)
        }
    }

    static func contains(_ container: Value, _ item: Value, at: Int?) throws -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let sub) = item else {
                throw RuntimeFailure(message: "'in <string>' requires string as left operand, not \(item.pythonType)", offset: at)
            }
            return sub.isEmpty || s.contains(sub)
        case .list(let l): return l.contains { equal($0, item) }
        case .map(let m): return m[item.pythonText] != nil && !(item == .null)
        default: throw RuntimeFailure(message: "argument of type '\(container.pythonType)' is not iterable", offset: at)
        }
    }

    static func compare(_ op: String, _ a: Value, _ b: Value, at: Int?) throws -> Bool {
        switch op {
        case "==": return equal(a, b)
        case "!=": return !equal(a, b)
        case "<": return try less(a, b, op: "<", at: at)
        case ">": return try less(b, a, op: ">", at: at)
        case "<=": return try !less(b, a, op: "<=", at: at)
        case ">=": return try !less(a, b, op: ">=", at: at)
        case "in": return try contains(b, a, at: at)
        case "notin": return try !contains(b, a, at: at)
        default: throw RuntimeFailure(message: "unknown comparison \(op)", offset: at)
        }
    }

    /// Python's `format % values` (`%s`, `%d`, `%5.2f`, `%(name)s`, `%%`).
    static func printf(_ format: String, _ values: Value, at: Int?) throws -> String {
        var args: [Value]
        var named: [String: Value] = [:]
        switch values {
        case .list(let l): args = l
        case .map(let m): args = [values]; named = m.dictionary
        default: args = [values]
        }
        var out = ""
        let chars = Array(format)
        var i = 0
        var next = 0
        while i < chars.count {
            let c = chars[i]
            guard c == "%" else { out.append(c); i += 1; continue }
            i += 1
            guard i < chars.count else { throw RuntimeFailure(message: "incomplete format", offset: at) }
            if chars[i] == "%" { out.append("%"); i += 1; continue }
            var key: String? = nil
            if chars[i] == "(" {
                guard let close = chars[i...].firstIndex(of: ")") else { throw RuntimeFailure(message: "incomplete format key", offset: at) }
                key = String(chars[(i + 1)..<close])
                i = close + 1
            }
            var flags = ""
            while i < chars.count, "-+ 0#".contains(chars[i]) { flags.append(chars[i]); i += 1 }
            var width = ""
            while i < chars.count, chars[i].isNumber { width.append(chars[i]); i += 1 }
            var precision: Int? = nil
            if i < chars.count, chars[i] == "." {
                i += 1
                var p = ""
                while i < chars.count, chars[i].isNumber { p.append(chars[i]); i += 1 }
                precision = Int(p) ?? 0
            }
            guard i < chars.count else { throw RuntimeFailure(message: "incomplete format", offset: at) }
            let conversion = chars[i]
            i += 1
            let value: Value
            if let key {
                guard let v = named[key] else { throw RuntimeFailure(message: "format key '\(key)' is missing", offset: at) }
                value = v
            } else {
                guard next < args.count else { throw RuntimeFailure(message: "not enough arguments for format string", offset: at) }
                value = args[next]
                next += 1
            }
            var piece: String
            switch conversion {
            case "s": piece = value.pythonText; if let precision { piece = String(piece.prefix(precision)) }
            case "r": piece = value.pythonRepr
            case "d", "i", "u":
                guard let n = number(value) else { throw RuntimeFailure(message: "%\(conversion) format: a number is required, not \(value.pythonType)", offset: at) }
                let v: Int = { switch n { case .int(let i): i; case .double(let d): Int(d) } }()
                piece = String(v)
                if flags.contains("+"), v >= 0 { piece = "+" + piece }
            case "f", "F", "e", "E", "g", "G":
                guard let n = number(value) else { throw RuntimeFailure(message: "must be real number, not \(value.pythonType)", offset: at) }
                piece = String(format: "%\(flags.contains("+") ? "+" : "").\(precision ?? 6)\(conversion)", double(n))
            case "x", "X", "o":
                guard case .int(let v)? = number(value).map({ n -> Number in n }) else { throw RuntimeFailure(message: "%\(conversion) format: an integer is required", offset: at) }
                piece = String(v, radix: conversion == "o" ? 8 : 16, uppercase: conversion == "X")
            case "c": piece = value.pythonText
            default: throw RuntimeFailure(message: "unsupported format character '\(conversion)'", offset: at)
            }
            if let w = Int(width), piece.count < w {
                let pad = String(repeating: flags.contains("0") && !flags.contains("-") && "dfieEgGxXo".contains(conversion) ? "0" : " ", count: w - piece.count)
                if flags.contains("-") { piece += pad }
                else if pad.first == "0", piece.first == "-" || piece.first == "+" { piece = String(piece.first!) + pad + piece.dropFirst() }
                else { piece = pad + piece }
            }
            out += piece
        }
        if named.isEmpty, next < args.count, case .list = values {
            throw RuntimeFailure(message: "not all arguments converted during string formatting", offset: at)
        }
        return out
    }
}
