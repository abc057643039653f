import Foundation

extension Filters {
    /// Text: case, trimming, replacing, regular expressions, splitting and joining, formatting, `comment`, `quote`.
    static func text(into t: inout [String: Filter]) {
        t["lower"] = text { s, _ in .string(s.lowercased()) }
        t["upper"] = text { s, _ in .string(s.uppercased()) }
        t["capitalize"] = text { s, _ in .string(s.prefix(1).uppercased() + s.dropFirst().lowercased()) }
        t["title"] = text { s, _ in .string(title(s)) }
        t["trim"] = text { s, a in .string(Methods.strip(s, a.string(0, "chars"), leading: true, trailing: true)) }
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
        t["quote"] = value { v, _ in .string(pythonShellQuote(v == .null ? "" : v.pythonText)) }
        t["comment"] = text { s, a in .string(try comment(s, a)) }
        t["format"] = text { s, a in
            if !a.named.isEmpty { return .string(try Operators.printf(s, Value.map(a.named), at: nil)) }
            return .string(try Operators.printf(s, .list(a.positional), at: nil))
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

/// Single-quoted shell words (as Python's shlex.quote).
func pythonShellQuote(_ s: String) -> String {
    if s.isEmpty { return "''" }
    if s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "@%+=:,./-_".contains($0)) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\"'\"'") + "'"
}
