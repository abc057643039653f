import Foundation
import Templating

/// How Ansible reads `key=value` text (`copy: src=a dest=b`, a free-form `shell:` block): its
/// split_args, parse_kv and join_args, so that spaces, newlines and `\` line continuations of a
/// free-form command come out as Ansible's do; and Python's shlex, with which the command module
/// splits its words.
public enum AnsibleArgs {
    /// The keys Ansible takes out of a free-form command's text (check_raw); any other `k=v`
    /// stays part of the command.
    static let freeFormKeys: Set<String> = ["creates", "removes", "chdir", "executable", "warn", "stdin", "stdin_add_newline", "strip_empty_ends"]

    struct Unbalanced: Error, CustomStringConvertible {
        var text: String
        var description: String { "failed at splitting arguments, either an unbalanced jinja2 block or quotes: \(text)" }
    }

    /// Ansible's split_args: words split on spaces, kept together inside quotes and Jinja blocks,
    /// each line's end kept as a newline on its last word, a lone `\` ending a line dropped.
    static func split(_ args: String) throws -> [String] {
        var params: [String] = []
        var quote: Character? = nil
        var printDepth = 0, blockDepth = 0, commentDepth = 0
        let items = args.components(separatedBy: "\n")
        for (itemIndex, item) in items.enumerated() {
            let tokens = item.components(separatedBy: " ")
            var continuation = false
            for (index, token) in tokens.enumerated() {
                if token.isEmpty && index != 0 {
                    if params.isEmpty { params.append("") }
                    params[params.count - 1] += " "
                    continue
                }
                if token == "\\" && quote == nil { continuation = true; continue }
                let wasInside = quote != nil
                quote = quoteState(token, quote)
                let inside = quote != nil
                var appended = false
                let inJinja = printDepth > 0 || blockDepth > 0 || commentDepth > 0
                if inside && !wasInside && !inJinja {
                    params.append(token)
                    appended = true
                } else if inJinja || inside || wasInside {
                    if params.isEmpty { params.append("") }
                    if index == 0 && wasInside {
                        params[params.count - 1] += token
                    } else {
                        params[params.count - 1] += (index > 0 ? " " : "") + token
                    }
                    appended = true
                }
                for (open, close, depth) in [("{{", "}}", 0), ("{%", "%}", 1), ("{#", "#}", 2)] {
                    let before = [printDepth, blockDepth, commentDepth][depth]
                    let after = jinjaDepth(token, before, open, close)
                    switch depth { case 0: printDepth = after; case 1: blockDepth = after; default: commentDepth = after }
                    if after != before && !appended { params.append(token); appended = true }
                }
                if printDepth == 0 && blockDepth == 0 && commentDepth == 0 && quote == nil && !appended && !token.isEmpty {
                    params.append(token)
                }
            }
            if items.count > 1 && itemIndex != items.count - 1 && !continuation {
                if params.isEmpty { params.append("") }
                params[params.count - 1] += "\n"
            }
        }
        if printDepth > 0 || blockDepth > 0 || commentDepth > 0 || quote != nil { throw Unbalanced(text: args) }
        return params
    }

    /// Python's shlex.quote: a word of safe characters as it is, any other in single quotes.
    static func pythonQuote(_ word: String) -> String {
        if word.isEmpty { return "''" }
        if word.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "@%+=:,./-_".unicodeScalars.contains($0)) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\"'\"'") + "'"
    }

    /// Ansible's _get_quote_state: the quote a token leaves open (an escaped quote does not count).
    static func quoteState(_ token: String, _ start: Character?) -> Character? {
        var current = start
        var previous: Character? = nil
        for c in token {
            if (c == "\"" || c == "'") && previous != "\\" {
                if current == nil { current = c } else if current == c { current = nil }
            }
            previous = c
        }
        return current
    }

    /// Ansible's _count_jinja2_blocks.
    static func jinjaDepth(_ token: String, _ depth: Int, _ open: String, _ close: String) -> Int {
        var d = depth
        d += token.components(separatedBy: open).count - 1
        d -= token.components(separatedBy: close).count - 1
        return max(0, d)
    }

    /// Ansible's join_args: the words back together, a space between them unless one ends a line.
    static func join(_ params: [String]) -> String {
        var out = ""
        for p in params { out += (out.isEmpty || out.hasSuffix("\n")) ? p : " " + p }
        return out
    }

    /// Ansible's parse_kv: `k=v` words as arguments (values with their escapes decoded and outer
    /// quotes removed), the rest joined as `_raw_params`. With `freeForm`, only
    /// ``freeFormKeys`` are taken out; `isKey` decides for other modules.
    static func parse(_ text: String, freeForm: Bool, isKey: (String) -> Bool = { _ in true }) throws -> (args: [String: Value], raw: [String]) {
        var options: [String: Value] = [:]
        var raw: [String] = []
        for original in try split(text) {
            let x = decodeEscapes(original)
            guard let pos = firstUnescapedEquals(x) else {
                raw.append(x.contains("=") ? x.replacingOccurrences(of: "\\=", with: "=") : original)
                continue
            }
            let key = String(x[..<pos]), value = String(x[x.index(after: pos)...])
            if (freeForm && !freeFormKeys.contains(key)) || !isKey(key.trimmingCharacters(in: .whitespaces)) {
                raw.append(original)
            } else {
                options[key.trimmingCharacters(in: .whitespaces)] = .string(unquote(value.trimmingCharacters(in: .whitespacesAndNewlines)))
            }
        }
        return (options, raw)
    }

    /// `-e key=value …` as Ansible's parse_kv reads it (quotes keep spaces in a value); a word
    /// that is not `key=value` is returned to be named in the caller's error.
    public static func keyValues(_ text: String) throws -> (vars: [String: Value], stray: String?) {
        let (args, raw) = try parse(text, freeForm: false)
        return (args, raw.first)
    }

    /// The first `=` after the first character that no backslash escapes.
    static func firstUnescapedEquals(_ x: String) -> String.Index? {
        guard !x.isEmpty else { return nil }
        var previous = x.first!
        var i = x.index(after: x.startIndex)
        while i < x.endIndex {
            if x[i] == "=" && previous != "\\" { return i }
            previous = x[i]
            i = x.index(after: i)
        }
        return nil
    }

    /// Ansible's unquote: matching outer quotes removed.
    static func unquote(_ s: String) -> String {
        guard s.count >= 2, let f = s.first, f == "\"" || f == "'", s.last == f else { return s }
        let inner = s.dropFirst().dropLast()
        if inner.last == "\\" { return s }
        return String(inner)
    }

    /// Ansible's _decode_escapes: Python's backslash escapes in a `k=v` word (\n, \t, \x41, \u00e9…).
    static func decodeEscapes(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var out = ""
        var chars = Array(s.unicodeScalars)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            guard c == "\\", let next = chars.first else { out.unicodeScalars.append(c); continue }
            func hex(_ n: Int) -> Bool {
                let digits = chars.dropFirst().prefix(n)
                guard digits.count == n, let v = UInt32(String(String.UnicodeScalarView(digits)), radix: 16), let u = Unicode.Scalar(v) else { return false }
                out.unicodeScalars.append(u)
                chars = chars.dropFirst(n + 1)
                return true
            }
            switch next {
            case "\\", "'", "\"": out.unicodeScalars.append(next); chars = chars.dropFirst()
            case "a": out += "\u{07}"; chars = chars.dropFirst()
            case "b": out += "\u{08}"; chars = chars.dropFirst()
            case "f": out += "\u{0C}"; chars = chars.dropFirst()
            case "n": out += "\n"; chars = chars.dropFirst()
            case "r": out += "\r"; chars = chars.dropFirst()
            case "t": out += "\t"; chars = chars.dropFirst()
            case "v": out += "\u{0B}"; chars = chars.dropFirst()
            case "x": if !hex(2) { out.unicodeScalars.append(c) }
            case "u": if !hex(4) { out.unicodeScalars.append(c) }
            case "U": if !hex(8) { out.unicodeScalars.append(c) }
            case "0"..."7":
                let digits = chars.prefix { ("0"..."7").contains($0) }.prefix(3)
                if let v = UInt32(String(String.UnicodeScalarView(digits)), radix: 8), let u = Unicode.Scalar(v) { out.unicodeScalars.append(u) }
                chars = chars.dropFirst(digits.count)
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    struct ShlexError: Error, CustomStringConvertible {
        var description: String
    }

    /// Python's `shlex.split` (POSIX mode): words split on whitespace, quotes joining and removed,
    /// a backslash escaping the next character outside single quotes (inside double quotes only
    /// before `\`, `"`, `$`, `` ` `` and a newline), `#` starting nothing (comments off).
    static func shlex(_ text: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var chars = Array(text)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            switch c {
            case " ", "\t", "\n", "\r":
                if inWord { words.append(current); current = ""; inWord = false }
            case "\\":
                inWord = true
                guard let next = chars.first else { throw ShlexError(description: "No escaped character") }
                current.append(next)
                chars = chars.dropFirst()
            case "'":
                inWord = true
                guard let end = chars.firstIndex(of: "'") else { throw ShlexError(description: "No closing quotation") }
                current += chars[chars.startIndex..<end]
                chars = chars[chars.index(after: end)...]
            case "\"":
                inWord = true
                var closed = false
                while let d = chars.first {
                    chars = chars.dropFirst()
                    if d == "\"" { closed = true; break }
                    if d == "\\", let e = chars.first, "\\\"$`\n".contains(e) { current.append(e); chars = chars.dropFirst(); continue }
                    current.append(d)
                }
                if !closed { throw ShlexError(description: "No closing quotation") }
            default:
                inWord = true
                current.append(c)
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
