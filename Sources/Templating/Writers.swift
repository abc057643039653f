import Foundation

/// JSON as Python's json.dumps writes it (`, ` and `: ` separators; `\uXXXX` for non-ASCII
/// unless told otherwise).
enum JSONText {
    static func encode(_ v: Value, indent: Int?, sortKeys: Bool, ensureASCII: Bool, htmlSafe: Bool = false, level: Int = 0) -> String {
        let itemSeparator = indent == nil ? ", " : ","
        func nl(_ l: Int) -> String { indent.map { "\n" + String(repeating: " ", count: $0 * l) } ?? "" }
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? Value.pythonFloat(d) : (d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity"))
        case .string(let s): return string(s, ensureASCII: ensureASCII, htmlSafe: htmlSafe)
        case .list(let l):
            if l.isEmpty { return "[]" }
            return "[" + l.map { nl(level + 1) + encode($0, indent: indent, sortKeys: sortKeys, ensureASCII: ensureASCII, htmlSafe: htmlSafe, level: level + 1) }
                .joined(separator: itemSeparator) + nl(level) + "]"
        case .map(let m):
            if m.isEmpty { return "{}" }
            return "{" + (sortKeys ? m.keys.sorted() : m.keys).map {
                nl(level + 1) + string($0, ensureASCII: ensureASCII, htmlSafe: htmlSafe) + ": "
                    + encode(m[$0]!, indent: indent, sortKeys: sortKeys, ensureASCII: ensureASCII, htmlSafe: htmlSafe, level: level + 1)
            }.joined(separator: itemSeparator) + nl(level) + "}"
        }
    }

    static func string(_ s: String, ensureASCII: Bool, htmlSafe: Bool) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "<" where htmlSafe: out += "\\u003c"
            case ">" where htmlSafe: out += "\\u003e"
            case "&" where htmlSafe: out += "\\u0026"
            case "'" where htmlSafe: out += "\\u0027"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            case _ where ensureASCII && u.value > 0x7e:
                if u.value > 0xFFFF {
                    let v = u.value - 0x10000
                    out += String(format: "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
                } else {
                    out += String(format: "\\u%04x", u.value)
                }
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

/// YAML as PyYAML's dump writes it for Ansible's to_yaml (leaf collections in flow style) and
/// to_nice_yaml (block style, 4 spaces); keys sorted.
enum YAMLWriter {
    static func dump(_ v: Value, indent: Int, flowLeaves: Bool) -> String {
        switch v {
        case .list(let l) where !l.isEmpty && !(flowLeaves && isLeaf(v)):
            return block(l, indent: indent, flowLeaves: flowLeaves, level: 0)
        case .map(let m) where !m.isEmpty && !(flowLeaves && isLeaf(v)):
            return block(m, indent: indent, flowLeaves: flowLeaves, level: 0)
        default:
            let s = flowLeaves || isCollection(v) ? flow(v) : scalar(v)
            return isCollection(v) ? s + "\n" : s + "\n...\n"
        }
    }

    static func isCollection(_ v: Value) -> Bool { switch v { case .list, .map: true; default: false } }
    static func isLeaf(_ v: Value) -> Bool {
        switch v {
        case .list(let l): !l.contains(where: isCollection)
        case .map(let m): !m.values.contains(where: isCollection)
        default: true
        }
    }

    static func block(_ l: [Value], indent: Int, flowLeaves: Bool, level: Int) -> String {
        var out = ""
        let pad = String(repeating: " ", count: level)
        for item in l {
            let nested: String?
            switch item {
            case .map(let m) where !m.isEmpty && !(flowLeaves && isLeaf(item)): nested = block(m, indent: indent, flowLeaves: flowLeaves, level: level + indent)
            case .list(let sub) where !sub.isEmpty && !(flowLeaves && isLeaf(item)): nested = block(sub, indent: indent, flowLeaves: flowLeaves, level: level + indent)
            default: nested = nil
            }
            if let nested {
                out += pad + "-" + String(repeating: " ", count: max(1, indent - 1)) + nested.dropFirst(level + indent)
            } else {
                out += pad + "- " + (isCollection(item) ? flow(item) : scalar(item)) + "\n"
            }
        }
        return out
    }

    static func block(_ m: OrderedMap, indent: Int, flowLeaves: Bool, level: Int) -> String {
        var out = ""
        let pad = String(repeating: " ", count: level)
        for k in m.keys.sorted() {
            let v = m[k]!
            let key = pad + scalar(.string(k)) + ":"
            switch v {
            case .map(let sub) where !sub.isEmpty && !(flowLeaves && isLeaf(v)):
                out += key + "\n" + block(sub, indent: indent, flowLeaves: flowLeaves, level: level + indent)
            case .list(let sub) where !sub.isEmpty && !(flowLeaves && isLeaf(v)):
                // PyYAML writes a mapping's list at the key's own indentation.
                out += key + "\n" + block(sub, indent: indent, flowLeaves: flowLeaves, level: level)
            default:
                out += key + " " + (isCollection(v) ? flow(v) : scalar(v)) + "\n"
            }
        }
        return out
    }

    static func flow(_ v: Value) -> String {
        switch v {
        case .list(let l): return "[" + l.map(flow).joined(separator: ", ") + "]"
        case .map(let m): return "{" + m.keys.sorted().map { scalar(.string($0)) + ": " + flow(m[$0]!) }.joined(separator: ", ") + "}"
        default: return scalar(v, inFlow: true)
        }
    }

    static let reserved: Set<String> = ["", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES",
                                        "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N", "="]

    static func scalar(_ v: Value, inFlow: Bool = false) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? Value.pythonFloat(d) : (d.isNaN ? ".nan" : (d > 0 ? ".inf" : "-.inf"))
        case .string(let s):
            let looksLikeNumber = Int(s) != nil || Double(s) != nil || s.range(of: #"^[-+]?(0x[0-9a-fA-F]+|0o?[0-7]+|\.[0-9]+|[0-9][0-9_:]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?)$"#, options: .regularExpression) != nil
            let special = s.first.map { "-?:,[]{}#&*!|>'\"%@`".contains($0) || $0 == " " } ?? true
            let unsafe = s.contains(": ") || s.contains(" #") || s.hasSuffix(":") || s.hasSuffix(" ") || s.contains("\n")
                || s.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f } || (inFlow && s.contains { ",[]{}".contains($0) })
            if reserved.contains(s) || looksLikeNumber || special || unsafe {
                if s.contains("\n") || s.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7f }) {
                    return JSONText.string(s, ensureASCII: false, htmlSafe: false)
                }
                return "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
            }
            return s
        case .list, .map: return flow(v)
        }
    }
}
