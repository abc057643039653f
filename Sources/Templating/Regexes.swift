import Foundation

/// Python's `re` over NSRegularExpression: `(?P<name>…)` groups and `\1` / `\g<name>`
/// replacement templates are translated.
enum Regexes {
    static func compile(_ pattern: String, ignoreCase: Bool, multiline: Bool) throws -> NSRegularExpression {
        var p = pattern.replacingOccurrences(of: "(?P<", with: "(?<")
        p = p.replacingOccurrences(of: #"\(\?P=(\w+)\)"#, with: #"\\k<$1>"#, options: .regularExpression)
        p = p.replacingOccurrences(of: #"\Z"#, with: #"\z"#)
        var options: NSRegularExpression.Options = []
        if ignoreCase { options.insert(.caseInsensitive) }
        if multiline { options.insert(.anchorsMatchLines) }
        do { return try NSRegularExpression(pattern: p, options: options) } catch {
            throw RuntimeFailure(message: "the regular expression '\(pattern)' is not valid", offset: nil)
        }
    }

    static func group(_ m: NSTextCheckingResult, _ n: Int, in s: String) -> String? {
        guard n <= m.numberOfRanges - 1 else { return nil }
        let r = m.range(at: n)
        guard r.location != NSNotFound, let range = Range(r, in: s) else { return nil }
        return String(s[range])
    }

    /// `re.sub(pattern, template, s, count)`.
    static func substitute(_ re: NSRegularExpression, in s: String, template: String, count: Int) throws -> String {
        let matches = re.matches(in: s, range: NSRange(s.startIndex..., in: s))
        var out = ""
        var last = s.startIndex
        for (i, m) in matches.enumerated() {
            if count > 0, i >= count { break }
            guard let range = Range(m.range, in: s) else { continue }
            out += s[last..<range.lowerBound]
            out += try expand(template, m, in: s, re: re)
            last = range.upperBound
        }
        out += s[last...]
        return out
    }

    static func expand(_ template: String, _ m: NSTextCheckingResult, in s: String, re: NSRegularExpression) throws -> String {
        var out = ""
        let chars = Array(template)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            guard c == "\\", i + 1 < chars.count else { out.append(c); i += 1; continue }
            let e = chars[i + 1]
            if e.isNumber {
                var j = i + 1, digits = ""
                while j < chars.count, chars[j].isNumber, digits.count < 2 { digits.append(chars[j]); j += 1 }
                let n = Int(digits)!
                guard n < m.numberOfRanges else { throw RuntimeFailure(message: "invalid group reference \(n)", offset: nil) }
                out += group(m, n, in: s) ?? ""
                i = j
                continue
            }
            if e == "g", i + 2 < chars.count, chars[i + 2] == "<", let close = chars[(i + 3)...].firstIndex(of: ">") {
                let ref = String(chars[(i + 3)..<close])
                if let n = Int(ref) {
                    guard n < m.numberOfRanges else { throw RuntimeFailure(message: "invalid group reference \(n)", offset: nil) }
                    out += group(m, n, in: s) ?? ""
                } else {
                    let r = m.range(withName: ref)
                    if r.location != NSNotFound, let range = Range(r, in: s) { out += s[range] }
                }
                i = close + 1
                continue
            }
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "\\": out.append("\\")
            default: out.append("\\"); out.append(e)
            }
            i += 2
        }
        return out
    }

    /// Python's `re.escape`.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            if "()[]{}?*+-|^$\\.&~# \t\n\r\u{0B}\u{0C}".contains(c) { out += "\\" + String(c) } else { out.append(c) }
        }
        return out
    }
}

/// Python's `re.search` for callers outside templates (wait_for's `search_regex`): the groups of
/// the first match, in order, and the named ones.
public enum PythonRegex {
    public struct Match: Sendable {
        public var groups: [String?]
        public var named: [(name: String, value: String?)]
    }

    /// The first match of `pattern` in `text` (`multiline`: `^` and `$` at every line), or nil.
    public static func search(_ pattern: String, in text: String, multiline: Bool) throws -> Match? {
        let re: NSRegularExpression
        do { re = try Regexes.compile(pattern, ignoreCase: false, multiline: multiline) } catch let f as RuntimeFailure {
            throw TemplateError(f.message)
        }
        guard let m = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return nil }
        let groups = (0..<max(0, m.numberOfRanges - 1)).map { Regexes.group(m, $0 + 1, in: text) }
        let named = groupNames(pattern).map { (name: $0.name, value: $0.index <= groups.count ? groups[$0.index - 1] : nil) }
        return Match(groups: groups, named: named)
    }

    /// The named groups of a Python pattern with their numbers (`(?P<name>…)`, `(?<name>…)`).
    static func groupNames(_ pattern: String) -> [(name: String, index: Int)] {
        let chars = Array(pattern)
        var out: [(String, Int)] = []
        var index = 0, i = 0, inClass = false
        while i < chars.count {
            let c = chars[i]
            if c == "\\" { i += 2; continue }
            if inClass { if c == "]" { inClass = false }; i += 1; continue }
            if c == "[" { inClass = true; i += 1; continue }
            if c == "(" {
                let rest = String(chars[(i + 1)...].prefix(4))
                if !rest.hasPrefix("?") {
                    index += 1
                } else if rest.hasPrefix("?P<") || (rest.hasPrefix("?<") && !rest.hasPrefix("?<=") && !rest.hasPrefix("?<!")) {
                    index += 1
                    let start = i + (rest.hasPrefix("?P<") ? 4 : 3)
                    if let end = chars[start...].firstIndex(of: ">") { out.append((String(chars[start..<end]), index)) }
                }
            }
            i += 1
        }
        return out
    }
}
