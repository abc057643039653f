import Foundation
import ParcCore
import Stencil

/// Jinja-style templates through Stencil: `{{ }}` expressions, `{% if %}` / `{% for %}` blocks and
/// Ansible's filter names (`default`, `lower`, `join`, `replace`, `bool`, …). Jinja's filter-call
/// syntax (`| replace('a', 'b')`) and tests (`is defined`) are rewritten into Stencil's before
/// rendering; an undefined variable is an error, as in Ansible, unless a `default` covers it.
public final class TemplateEngine: @unchecked Sendable {
    private let environment: Environment
    /// The value a whole-string expression produced (see `evaluate`); one per thread of use.
    private let captured = CaptureBox()

    public init() {
        let ext = Extension()
        TemplateEngine.registerFilters(ext, capture: captured)
        environment = Environment(extensions: [ext])
    }

    final class CaptureBox: @unchecked Sendable {
        private let lock = NSLock()
        private var byThread: [UInt64: Any?] = [:]
        func set(_ v: Any?) { lock.lock(); byThread[Self.thread()] = .some(v); lock.unlock() }
        func take() -> Any?? { lock.lock(); defer { lock.unlock() }; return byThread.removeValue(forKey: Self.thread()) }
        static func thread() -> UInt64 { UInt64(pthread_self()) }
    }

    // MARK: Rendering

    /// Renders `text` with `vars`; errors name `location`.
    public func render(_ text: String, vars: [String: Value], at location: SourceLocation? = nil) throws -> String {
        guard text.contains("{{") || text.contains("{%") || text.contains("{#") || text.hasPrefix("#jinja2:") else { return text }
        try Self.checkNesting(text, at: location)
        var (source, lookups) = try Self.resolveLookups(text, vars: vars, at: location)
        source = Self.applyHeader(source)
        let (unescaped, literals) = Self.extractEscapedLiterals(source)
        source = unescaped
        lookups.merge(literals) { a, _ in a }
        let translated = try Self.translate(source, at: location)
        try Self.checkDefined(translated, vars: vars.merging(lookups) { a, _ in a }, at: location)
        do {
            var context = vars.mapValues { $0.any as Any }
            for (k, v) in lookups { context[k] = v.any }
            context["parc_none"] = Optional<Any>.none as Any
            for (delimiter, name) in Self.delimiterNames { context["parc_delim_\(name)"] = delimiter }
            context["parc_empty_list"] = [Any]()
            context["parc_empty_map"] = [String: Any]()
            return try environment.renderTemplate(string: translated, context: context)
        } catch let e as TemplateSyntaxError {
            throw PlaybookError("template: \(e.reason)", at: location)
        } catch let e as PlaybookError {
            throw e
        } catch {
            throw PlaybookError("template: \(error)", at: location)
        }
    }

    /// Renders every string inside `value`. A string that is one `{{ expression }}` gives the
    /// expression's own value (a list stays a list), as Ansible does.
    public func evaluate(_ value: Value, vars: [String: Value], at location: SourceLocation? = nil) throws -> Value {
        switch value {
        case .string(let s):
            // Only a string that is nothing but the expression (a trailing newline is content).
            let t = s.trimmingCharacters(in: .init(charactersIn: " "))
            if t.hasPrefix("{{"), t.hasSuffix("}}"), t.components(separatedBy: "{{").count == 2, !t.dropFirst(2).dropLast(2).contains("}}") {
                let expression = String(t.dropFirst(2).dropLast(2)).trimmed
                // An inline if gives the value of the branch taken; a concatenation gives text;
                // anything else keeps its type.
                let ifParts = Self.topLevelSplit(expression, " if ")
                if ifParts.count == 2 {
                    let rest = Self.topLevelSplit(ifParts[1], " else ")
                    if try condition(rest[0], vars: vars, at: location) { return try evaluate(.string("{{ \(ifParts[0]) }}"), vars: vars, at: location) }
                    return rest.count > 1 ? try evaluate(.string("{{ \(rest.dropFirst().joined(separator: " else ")) }}"), vars: vars, at: location) : .string("")
                }
                if Self.topLevelSplit(expression, "~").count == 1 {
                    _ = try render("{{ \(expression) | parc_capture }}", vars: vars, at: location)
                    if let v = captured.take() { return Value(any: v ?? nil) }
                }
            }
            return .string(try render(s, vars: vars, at: location))
        case .list(let items): return .list(try items.map { try evaluate($0, vars: vars, at: location) })
        case .map(let m): return .map(try m.mapValues { try evaluate($0, vars: vars, at: location) })
        default: return value
        }
    }

    /// How deep `{% if %}` / `{% for %}` blocks may nest: real templates use a handful; ten
    /// thousand took the old engine 19 s, so deeper is refused before rendering.
    public static let maxNesting = 100

    static func checkNesting(_ text: String, at location: SourceLocation?) throws {
        guard text.contains("{%") else { return }
        var depth = 0
        var rest = Substring(text)
        while let open = rest.range(of: "{%") {
            guard let close = rest[open.upperBound...].range(of: "%}") else { return }
            let word = rest[open.upperBound..<close.lowerBound].drop { $0 == "-" || $0 == "+" || $0 == " " }.prefix { $0.isLetter || $0 == "_" }
            if ["if", "for", "macro", "call", "filter", "block", "with", "raw"].contains(String(word)) {
                depth += 1
                if depth > maxNesting {
                    let line = text[..<open.lowerBound].filter { $0 == "\n" }.count + 1
                    let at = location.map { SourceLocation(file: $0.file, line: $0.line + line - 1, column: 1) }
                    throw PlaybookError("template: blocks nest deeper than \(maxNesting) levels; split the template", at: at)
                }
            } else if word.hasPrefix("end") {
                depth -= 1
            }
            rest = rest[close.upperBound...]
        }
    }

    /// Evaluates a condition (`when`, `changed_when`, `failed_when`): a bare expression.
    public func condition(_ expression: String, vars: [String: Value], at location: SourceLocation? = nil) throws -> Bool {
        let e = expression.trimmed
        if e.hasPrefix("{{") && e.hasSuffix("}}") { return try evaluate(.string(e), vars: vars, at: location).truthy }
        // A bare variable holding "yes"/"no" strings follows Ansible's truthiness.
        if e.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }), let v = Self.lookup(e, in: vars) { return v.truthy }
        let out = try render("{% if \(e) %}1{% else %}0{% endif %}", vars: vars, at: location)
        return out == "1"
    }

    static func lookup(_ path: String, in vars: [String: Value]) -> Value? {
        var parts = path.split(separator: ".").map(String.init)
        guard !parts.isEmpty, var current = vars[parts.removeFirst()] else { return nil }
        for p in parts {
            switch current {
            case .map(let m): guard let next = m[p] else { return nil }; current = next
            case .list(let l): guard let i = Int(p), l.indices.contains(i) else { return nil }; current = l[i]
            default: return nil
            }
        }
        return current
    }

    // MARK: Jinja → Stencil

    /// Rewrites Jinja syntax Stencil does not read: `| f(a, b)` → `|f:a,b`; `x is defined`;
    /// `loop.index`; `True`/`False`. Text outside `{{ }}` and `{% %}` is left as it is.
    static func translate(_ text: String, at location: SourceLocation?) throws -> String {
        var out = ""
        var rest = Substring(text)
        while true {
            let starts = [rest.range(of: "{%"), rest.range(of: "{{")].compactMap { $0 }
            guard let first = starts.min(by: { $0.lowerBound < $1.lowerBound }) else { break }
            out += rest[..<first.lowerBound]
            let isTag = rest[first] == "{%"
            let closing = isTag ? "%}" : "}}"
            guard let close = rest[first.upperBound...].range(of: closing) else {
                throw PlaybookError("template: `\(rest[first])` is never closed by `\(closing)`", at: location)
            }
            let inner = String(rest[first.upperBound..<close.lowerBound])
            out += isTag ? "{%" + rewrite(inner) + closing : try output(inner, at: location)
            rest = rest[close.upperBound...]
        }
        out += rest
        return out
    }

    /// An output expression: Jinja's inline `A if C else B` and `a ~ b` concatenation become
    /// Stencil's `{% if %}` and consecutive outputs (filters bind tighter than both, as in Jinja).
    static func output(_ inner: String, at location: SourceLocation?) throws -> String {
        let ifParts = topLevelSplit(inner, " if ")
        if ifParts.count == 2 {
            let rest = topLevelSplit(ifParts[1], " else ")
            let yes = try output(ifParts[0], at: location)
            let otherwise = rest.count > 1 ? try output(rest.dropFirst().joined(separator: " else "), at: location) : ""
            return "{% if " + rewrite(rest[0]) + " %}" + yes + (otherwise.isEmpty ? "" : "{% else %}" + otherwise) + "{% endif %}"
        }
        let parts = topLevelSplit(inner, "~")
        if parts.count > 1 { return try parts.map { try output($0, at: location) }.joined() }
        return "{{" + rewrite(inner) + "}}"
    }

    /// `s` cut at `separator` where it stands outside quotes, parentheses and brackets.
    static func topLevelSplit(_ s: String, _ separator: String) -> [String] {
        var parts: [String] = []
        var depth = 0
        var quote: Character? = nil
        var start = s.startIndex
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if let q = quote { if c == q { quote = nil } }
            else if c == "\"" || c == "'" { quote = c }
            else if c == "(" || c == "[" || c == "{" { depth += 1 }
            else if c == ")" || c == "]" || c == "}" { depth -= 1 }
            else if depth == 0, s[i...].hasPrefix(separator) {
                parts.append(String(s[start..<i]))
                i = s.index(i, offsetBy: separator.count)
                start = i
                continue
            }
            i = s.index(after: i)
        }
        parts.append(String(s[start...]))
        return parts
    }

    static func rewrite(_ expression: String) -> String {
        var e = expression
        // Outside string literals only.
        e = mapOutsideQuotes(e) { code in
            var c = code
            // Jinja tests: `x is [not] name[(args)]` → `[not ]x|parc_is_name[:args]`.
            c = c.replacingOccurrences(of: #"([A-Za-z_][\w.\[\]]*)\s+is\s+not\s+([A-Za-z_]\w*)"#, with: "not $1|parc_is_$2", options: .regularExpression)
            c = c.replacingOccurrences(of: #"([A-Za-z_][\w.\[\]]*)\s+is\s+([A-Za-z_]\w*)"#, with: "$1|parc_is_$2", options: .regularExpression)
            c = c.replacingOccurrences(of: #"\bloop\.index0\b"#, with: "forloop.counter0", options: .regularExpression)
            c = c.replacingOccurrences(of: #"\bloop\.index\b"#, with: "forloop.counter", options: .regularExpression)
            c = c.replacingOccurrences(of: #"\bloop\.(first|last)\b"#, with: "forloop.$1", options: .regularExpression)
            c = c.replacingOccurrences(of: #"\bTrue\b"#, with: "true", options: .regularExpression)
            c = c.replacingOccurrences(of: #"\bFalse\b"#, with: "false", options: .regularExpression)
            c = c.replacingOccurrences(of: #"\s*\|\s*"#, with: "|", options: .regularExpression)
            // Stencil has no list or mapping literals: the empty ones are variables of their own.
            c = c.replacingOccurrences(of: #"\[\s*\]"#, with: "parc_empty_list", options: .regularExpression)
            c = c.replacingOccurrences(of: #"\{\s*\}"#, with: "parc_empty_map", options: .regularExpression)
            return c
        }
        // `|name(args)` → `|name:args` (arguments may hold quoted parentheses).
        var result = ""
        var i = e.startIndex
        while i < e.endIndex {
            let c = e[i]
            if c == "\"" || c == "'" {
                let end = e[e.index(after: i)...].firstIndex(of: c).map { e.index(after: $0) } ?? e.endIndex
                result += e[i..<end]
                i = end
                continue
            }
            if c == "|" {
                var j = e.index(after: i)
                while j < e.endIndex, e[j].isLetter || e[j].isNumber || e[j] == "_" { j = e.index(after: j) }
                let name = e[e.index(after: i)..<j]
                if j < e.endIndex, e[j] == "(" {
                    var depth = 0
                    var k = j
                    var quote: Character? = nil
                    while k < e.endIndex {
                        let ch = e[k]
                        if let q = quote { if ch == q { quote = nil } }
                        else if ch == "\"" || ch == "'" { quote = ch }
                        else if ch == "(" { depth += 1 }
                        else if ch == ")" { depth -= 1; if depth == 0 { break } }
                        k = e.index(after: k)
                    }
                    let args = String(e[e.index(after: j)..<min(k, e.endIndex)]).trimmed
                    result += "|" + String(name) + (args.isEmpty ? "" : ":" + splitTopLevel(args).joined(separator: ","))
                    i = k < e.endIndex ? e.index(after: k) : k
                    continue
                }
                result += "|" + String(name)
                i = j
                continue
            }
            result.append(c)
            i = e.index(after: i)
        }
        return result
    }

    /// `lookup('file', 'x')` and `lookup('env', 'X')`, read on the control node before rendering.
    /// Only inside `{{ }}` and `{% %}`: the same words in a template's plain text are text.
    static func resolveLookups(_ text: String, vars: [String: Value], at location: SourceLocation?) throws -> (String, [String: Value]) {
        guard text.contains("lookup(") else { return (text, [:]) }
        var out = ""
        var values: [String: Value] = [:]
        var rest = Substring(text)
        while let open = [rest.range(of: "{{"), rest.range(of: "{%")].compactMap({ $0 }).min(by: { $0.lowerBound < $1.lowerBound }) {
            let closing = rest[open] == "{{" ? "}}" : "%}"
            let end = rest[open.upperBound...].range(of: closing)?.upperBound ?? rest.endIndex
            out += rest[..<open.lowerBound]
            out += try resolveLookups(inExpression: String(rest[open.lowerBound..<end]), into: &values, vars: vars, at: location)
            rest = rest[end...]
        }
        out += rest
        return (out, values)
    }

    static func resolveLookups(inExpression text: String, into values: inout [String: Value], vars: [String: Value],
                               at location: SourceLocation?) throws -> String {
        var out = text
        let pattern = /lookup\(\s*['"](file|env|pipe|template)['"]\s*,\s*['"]([^'"]+)['"]\s*\)/
        for m in text.matches(of: pattern) {
            let n = values.count
            let name = "parc_lookup_\(n)"
            switch m.1 {
            case "env":
                values[name] = .string(getenv(String(m.2)).map { String(cString: $0) } ?? "")
            case "file":
                let file = String(m.2)
                let dirs = [vars["parc_task_dir"]?.string.map { "\($0)/files" }, vars["parc_task_dir"]?.string,
                            vars["parc_playbook_dir"]?.string.map { "\($0)/files" }, vars["parc_playbook_dir"]?.string].compactMap { $0 }
                let candidates = file.hasPrefix("/") ? [file] : dirs.map { "\($0)/\(file)" }
                guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }),
                      let data = FileManager.default.contents(atPath: found) else {
                    throw PlaybookError("lookup('file', '\(file)'): no such file (looked in \(candidates.joined(separator: ", ")))", at: location)
                }
                var content = String(decoding: data, as: UTF8.self)
                if content.hasSuffix("\n") { content.removeLast() }
                values[name] = .string(content)
            default:
                throw PlaybookError("lookup('\(m.1)') is not supported by parc yet (file and env are)", at: location)
            }
            out = out.replacingOccurrences(of: String(m.0), with: name)
        }
        return out
    }

    /// Jinja reads backslash escapes in string literals (`'\\s+'`, `'a\n'`); Stencil keeps them as
    /// they are. A literal holding one becomes a variable with the unescaped value.
    static func extractEscapedLiterals(_ text: String) -> (String, [String: Value]) {
        guard text.contains("\\") else { return (text, [:]) }
        var out = ""
        var values: [String: Value] = [:]
        var rest = Substring(text)
        while let open = [rest.range(of: "{{"), rest.range(of: "{%")].compactMap({ $0 }).min(by: { $0.lowerBound < $1.lowerBound }) {
            let closing = rest[open] == "{{" ? "}}" : "%}"
            out += rest[..<open.upperBound]
            var i = open.upperBound
            var quote: Character? = nil
            var literal = ""
            var escaped = false
            var sawBackslash = false
            while i < rest.endIndex {
                let c = rest[i]
                if let q = quote {
                    if escaped {
                        switch c {
                        case "n": literal.append("\n")
                        case "t": literal.append("\t")
                        case "r": literal.append("\r")
                        default: literal.append(c)
                        }
                        escaped = false
                    } else if c == "\\" {
                        escaped = true; sawBackslash = true
                    } else if c == q {
                        if sawBackslash {
                            let name = "parc_literal_\(values.count)"
                            values[name] = .string(literal)
                            out += name
                        } else {
                            out += String(q) + literal + String(q)
                        }
                        quote = nil
                    } else {
                        literal.append(c)
                    }
                    i = rest.index(after: i)
                    continue
                }
                if rest[i...].hasPrefix(closing) { break }
                if c == "\"" || c == "'" { quote = c; literal = ""; sawBackslash = false } else { out.append(c) }
                i = rest.index(after: i)
            }
            if let q = quote { out += String(q) + literal }  // unterminated: left for the parser to report
            rest = rest[i...]
        }
        out += rest
        return (out, values)
    }

    /// A template's `#jinja2:variable_start_string:'[%', variable_end_string:'%]'` first line:
    /// its delimiters become the usual ones.
    static func applyHeader(_ text: String) -> String {
        guard text.hasPrefix("#jinja2:"), let end = text.firstIndex(of: "\n") else { return text }
        let header = text[text.index(text.startIndex, offsetBy: 8)..<end]
        var body = String(text[text.index(after: end)...])
        var pairs: [(String, String)] = []
        for item in header.split(separator: ",") {
            let kv = item.split(separator: ":", maxSplits: 1).map { $0.trimmed.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) }
            guard kv.count == 2 else { continue }
            let standard = ["variable_start_string": "{{", "variable_end_string": "}}", "block_start_string": "{%", "block_end_string": "%}",
                            "comment_start_string": "{#", "comment_end_string": "#}"][kv[0]]
            if let standard { pairs.append((kv[1], standard)) }
        }
        // The standard delimiters a header replaced are plain text in this template: set them
        // aside, map the custom ones (longest first, so one is not cut by another), then print
        // the set-aside ones through variables.
        let replaced = pairs.map(\.1).filter { !$0.isEmpty }
        for (n, standard) in replaced.enumerated() {
            body = body.replacingOccurrences(of: standard, with: "\u{E000}\(n)\u{E001}")
        }
        for (custom, standard) in pairs.sorted(by: { $0.0.count > $1.0.count }) where !custom.isEmpty {
            body = body.replacingOccurrences(of: custom, with: standard)
        }
        for (n, standard) in replaced.enumerated() {
            body = body.replacingOccurrences(of: "\u{E000}\(n)\u{E001}", with: "{{ parc_delim_\(delimiterNames[standard] ?? "x") }}")
        }
        return body
    }

    static let delimiterNames = ["{{": "vs", "}}": "ve", "{%": "bs", "%}": "be", "{#": "cs", "#}": "ce"]

    static func splitTopLevel(_ s: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var quote: Character? = nil
        var depth = 0
        for c in s {
            if let q = quote { current.append(c); if c == q { quote = nil }; continue }
            if c == "\"" || c == "'" { quote = c; current.append(c); continue }
            if c == "(" || c == "[" { depth += 1 }
            if c == ")" || c == "]" { depth -= 1 }
            if c == "," && depth == 0 { parts.append(current.trimmed); current = ""; continue }
            current.append(c)
        }
        if !current.trimmed.isEmpty { parts.append(current.trimmed) }
        return parts
    }

    static func mapOutsideQuotes(_ s: String, _ transform: (String) -> String) -> String {
        var out = ""
        var code = ""
        var quote: Character? = nil
        var literal = ""
        for c in s {
            if let q = quote {
                literal.append(c)
                if c == q { out += literal; literal = ""; quote = nil }
                continue
            }
            if c == "\"" || c == "'" {
                out += transform(code); code = ""
                quote = c
                literal = String(c)
                continue
            }
            code.append(c)
        }
        out += transform(code) + literal
        return out
    }

    /// Ansible fails on an undefined variable; Stencil would print nothing. Check first.
    static func checkDefined(_ translated: String, vars: [String: Value], at location: SourceLocation?) throws {
        var rest = Substring(translated)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            let expression = rest[open.upperBound..<close.lowerBound].trimmed
            rest = rest[close.upperBound...]
            let head = expression.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            guard !head.isEmpty, head.first!.isLetter || head.first == "_" else { continue }
            if ["true", "false", "none", "forloop", "not", "parc_empty_list", "parc_empty_map"].contains(String(head)) || head.hasPrefix("parc_lookup_") || head.hasPrefix("parc_literal_") || head.hasPrefix("parc_delim_") { continue }
            if vars[String(head)] != nil || expression.contains("|default") || expression.contains("|d:") || expression.contains("|d|")
                || expression.hasSuffix("|d") || expression.contains("parc_is_defined") || expression.contains("parc_is_undefined")
                || translated.contains("\(head)|parc_is_defined") || translated.contains("\(head)|parc_is_undefined") { continue }
            // A loop variable of an enclosing {% for %} is defined by the template itself.
            if translated.contains("for \(head) in") || translated.range(of: #"for [\w, ]*\b\#(head)\b[\w, ]* in"#, options: .regularExpression) != nil { continue }
            throw PlaybookError("template: '\(head)' is undefined; define it (vars, -e \(head)=…) or write {{ \(head) | default(…) }}", at: location)
        }
    }
}
