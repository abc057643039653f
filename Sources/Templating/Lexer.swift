import Foundation

/// Where a template went wrong: a message, the 1-based line and column inside the template's
/// text, and that line, for a caret.
public struct TemplateError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var line: Int
    public var column: Int
    public var sourceLine: String?

    public init(_ message: String, line: Int = 1, column: Int = 1, sourceLine: String? = nil) {
        self.message = message
        self.line = line
        self.column = column
        self.sourceLine = sourceLine
    }

    public var description: String { message }
}

/// How a template is read: Jinja's environment options as Ansible sets them.
public struct TemplateOptions: Sendable, Hashable {
    /// The first newline after a block tag or a comment is removed (Ansible: on).
    public var trimBlocks = true
    /// Spaces and tabs before a block tag at the start of a line are removed (Ansible: off).
    public var lstripBlocks = false
    /// Backslashes in string literals inside `{{ }}` are kept as written: Ansible doubles them in
    /// playbook text (not in template files) before Jinja reads the escapes.
    public var rawStringsInVariables = false
    public var variableStart = "{{", variableEnd = "}}"
    public var blockStart = "{%", blockEnd = "%}"
    public var commentStart = "{#", commentEnd = "#}"

    public init(trimBlocks: Bool = true, lstripBlocks: Bool = false, rawStringsInVariables: Bool = false) {
        self.trimBlocks = trimBlocks
        self.lstripBlocks = lstripBlocks
        self.rawStringsInVariables = rawStringsInVariables
    }

    /// Options for text written in a playbook (task arguments, vars, conditions).
    public static let playbook = TemplateOptions(rawStringsInVariables: true)
    /// Options for a bare condition (`when: x == 'a\n'`): Ansible reads it as an expression,
    /// its escapes as Jinja reads them.
    public static let condition = TemplateOptions(rawStringsInVariables: false)
    /// Options for a template file, as the template module reads it by default.
    public static let file = TemplateOptions()
}

/// A token of a template: text between tags, tag delimiters, and the tokens of expressions.
enum Token: Equatable {
    case text(String)
    case variableBegin, variableEnd, blockBegin, blockEnd
    case name(String)
    case string(String)
    case int(Int)
    case float(Double)
    case op(String)
    case end
}

struct Located {
    var token: Token
    var offset: Int
}

/// Splits a template into tokens, applying whitespace control (`-`, `+`, trim_blocks,
/// lstrip_blocks), comments and `{% raw %}` as Jinja's lexer does.
struct Lexer {
    let source: [Character]
    let options: TemplateOptions
    var tokens: [Located] = []
    /// Whether any tag, comment or raw block was read (a template of text only renders as itself).
    var sawTag = false
    /// Characters of the original text before `source` (a `#jinja2:` header line).
    let lineOffset: Int

    init(_ text: String, options: TemplateOptions, lineOffset: Int = 0) {
        source = Array(text)
        self.options = options
        self.lineOffset = lineOffset
    }

    func position(of offset: Int) -> (line: Int, column: Int, text: String) {
        var line = 1, lineStart = 0
        var i = 0
        while i < min(offset, source.count) {
            if source[i] == "\n" { line += 1; lineStart = i + 1 }
            i += 1
        }
        var end = lineStart
        while end < source.count, source[end] != "\n" { end += 1 }
        return (line + lineOffset, offset - lineStart + 1, String(source[lineStart..<end]))
    }

    func error(_ message: String, at offset: Int) -> TemplateError {
        let p = position(of: offset)
        return TemplateError(message, line: p.line, column: p.column, sourceLine: p.text)
    }

    func matches(_ s: String, at i: Int) -> Bool {
        var j = i
        for c in s {
            guard j < source.count, source[j] == c else { return false }
            j += 1
        }
        return true
    }

    static func isSpace(_ c: Character) -> Bool { c.isWhitespace }

    mutating func tokenize() throws -> [Located] {
        var i = 0
        var text = ""
        var textStart = 0
        /// Strip the whitespace at the start of the next text (after a `-…}`).
        var stripNext = false
        /// Remove one newline at the start of the next text (trim_blocks).
        var trimNewline = false

        func flush(_ stripEnd: Bool, lstrip: Bool) {
            var t = text
            if stripEnd {
                while let last = t.last, Lexer.isSpace(last) { t.removeLast() }
            } else if lstrip {
                // Only spaces and tabs between the line's start and the tag.
                let isBlank: (Substring) -> Bool = { $0.allSatisfy { $0 == " " || $0 == "\t" } }
                if let nl = t.lastIndex(of: "\n") {
                    if isBlank(t[t.index(after: nl)...]) { t = String(t[...nl]) }
                } else if isBlank(Substring(t)), textStart == 0 || source[textStart - 1] == "\n" {
                    t = ""
                }
            }
            if !t.isEmpty { tokens.append(Located(token: .text(t), offset: textStart)) }
            text = ""
        }
        while i < source.count {
            let starts: [(String, Int)] = [(options.commentStart, 0), (options.blockStart, 1), (options.variableStart, 2)]
            var matched: (String, Int)? = nil
            for s in starts where matches(s.0, at: i) { matched = s; break }
            guard let (delimiter, kind) = matched else {
                let c = source[i]
                if text.isEmpty {
                    textStart = i
                    if stripNext {
                        if Lexer.isSpace(c) { i += 1; continue }
                        stripNext = false
                    }
                    if trimNewline {
                        trimNewline = false
                        if c == "\n" { i += 1; continue }
                        if c == "\r", i + 1 < source.count, source[i + 1] == "\n" { i += 2; continue }
                    }
                }
                text.append(c)
                i += 1
                continue
            }
            stripNext = false
            trimNewline = false
            sawTag = true
            let tagStart = i
            var j = i + delimiter.count
            let minus = j < source.count && source[j] == "-"
            let plus = j < source.count && source[j] == "+"
            if minus || plus { j += 1 }
            flush(minus, lstrip: kind != 2 && options.lstripBlocks && !plus)
            switch kind {
            case 0:
                // A comment: up to its end.
                var k = j
                while k < source.count, !matches(options.commentEnd, at: k) { k += 1 }
                guard k < source.count else { throw error("the comment is never closed by \(options.commentEnd)", at: tagStart) }
                let stripAfter = k > j && source[k - 1] == "-"
                i = k + options.commentEnd.count
                if stripAfter { stripNext = true } else if options.trimBlocks { trimNewline = true }
            case 1:
                // {% raw %} … {% endraw %}: the text between is kept as it is.
                if let after = rawBody(at: j) {
                    i = after.next
                    if after.leadingStrip { stripNext = false }
                    if !after.body.isEmpty { tokens.append(Located(token: .text(after.body), offset: j)) }
                    if after.stripAfter { stripNext = true } else if options.trimBlocks { trimNewline = true }
                    continue
                }
                tokens.append(Located(token: .blockBegin, offset: tagStart))
                let (next, stripAfter) = try expressionTokens(from: j, end: options.blockEnd, rawStrings: false)
                i = next
                tokens.append(Located(token: .blockEnd, offset: i - options.blockEnd.count))
                if stripAfter { stripNext = true } else if options.trimBlocks { trimNewline = true }
            default:
                tokens.append(Located(token: .variableBegin, offset: tagStart))
                let (next, stripAfter) = try expressionTokens(from: j, end: options.variableEnd, rawStrings: options.rawStringsInVariables)
                i = next
                if stripAfter { stripNext = true }
                tokens.append(Located(token: .variableEnd, offset: i - options.variableEnd.count))
            }
        }
        flush(false, lstrip: false)
        tokens.append(Located(token: .end, offset: source.count))
        return tokens
    }

    /// When the block tag opening at `start` (after its delimiter) is `raw`, its body up to the
    /// matching `endraw`.
    func rawBody(at start: Int) -> (body: String, next: Int, stripAfter: Bool, leadingStrip: Bool)? {
        var k = start
        while k < source.count, Lexer.isSpace(source[k]) { k += 1 }
        guard matches("raw", at: k) else { return nil }
        k += 3
        while k < source.count, Lexer.isSpace(source[k]) { k += 1 }
        var stripBody = false
        if k < source.count, source[k] == "-" { stripBody = true; k += 1 }
        guard matches(options.blockEnd, at: k) else { return nil }
        k += options.blockEnd.count
        // Find {%[-+]? endraw [-]?%}
        var m = k
        while m < source.count {
            if matches(options.blockStart, at: m) {
                var n = m + options.blockStart.count
                let minus = n < source.count && source[n] == "-"
                if n < source.count, source[n] == "-" || source[n] == "+" { n += 1 }
                while n < source.count, Lexer.isSpace(source[n]) { n += 1 }
                if matches("endraw", at: n) {
                    n += 6
                    while n < source.count, Lexer.isSpace(source[n]) { n += 1 }
                    var stripAfter = false
                    if n < source.count, source[n] == "-" { stripAfter = true; n += 1 }
                    if matches(options.blockEnd, at: n) {
                        var body = String(source[k..<m])
                        if stripBody { body = String(body.drop(while: Lexer.isSpace)) }
                        if minus { while let l = body.last, Lexer.isSpace(l) { body.removeLast() } }
                        return (body, n + options.blockEnd.count, stripAfter, stripBody)
                    }
                }
            }
            m += 1
        }
        return nil
    }

    static let operators = ["//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", "=", "<", ">", ";"]

    /// The tokens of an expression up to `end` (outside brackets); returns the index after `end`.
    mutating func expressionTokens(from start: Int, end: String, rawStrings: Bool) throws -> (next: Int, stripAfter: Bool) {
        var i = start
        var depth: [Character] = []
        while true {
            guard i < source.count else {
                if end.isEmpty { return (i, false) }
                throw error("this tag is never closed by \(end)", at: start - 2)
            }
            let c = source[i]
            if Lexer.isSpace(c) { i += 1; continue }
            if depth.isEmpty, !end.isEmpty, matches(end, at: i) { return (i + end.count, false) }
            if depth.isEmpty, !end.isEmpty, c == "-", matches(end, at: i + 1) { return (i + 1 + end.count, true) }
            if c == "'" || c == "\"" {
                var k = i + 1
                var value = ""
                var closed = false
                while k < source.count {
                    let d = source[k]
                    if d == c { closed = true; break }
                    if d == "\\", k + 1 < source.count {
                        let e = source[k + 1]
                        if rawStrings { value.append("\\"); value.append(e); k += 2; continue }
                        k += 2
                        switch e {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        case "r": value.append("\r")
                        case "0": value.append("\0")
                        case "a": value.append("\u{07}")
                        case "b": value.append("\u{08}")
                        case "f": value.append("\u{0C}")
                        case "v": value.append("\u{0B}")
                        case "\\", "'", "\"": value.append(e)
                        case "\n": break
                        case "x", "u", "U":
                            let n = e == "x" ? 2 : e == "u" ? 4 : 8
                            let hex = String(source[k..<min(k + n, source.count)])
                            if hex.count == n, let v = UInt32(hex, radix: 16), let s = Unicode.Scalar(v) {
                                value.unicodeScalars.append(s); k += n
                            } else { value.append("\\"); value.append(e) }
                        default: value.append("\\"); value.append(e)
                        }
                        continue
                    }
                    value.append(d)
                    k += 1
                }
                guard closed else { throw error("a string literal is never closed", at: i) }
                tokens.append(Located(token: .string(value), offset: i))
                i = k + 1
                continue
            }
            if c.isNumber, c.isASCII {
                var k = i
                var s = ""
                var isFloat = false
                while k < source.count, source[k].isASCII, source[k].isNumber || source[k] == "_" { if source[k] != "_" { s.append(source[k]) }; k += 1 }
                if k + 1 < source.count, source[k] == ".", source[k + 1].isASCII, source[k + 1].isNumber {
                    isFloat = true
                    s.append("."); k += 1
                    while k < source.count, source[k].isASCII, source[k].isNumber || source[k] == "_" { if source[k] != "_" { s.append(source[k]) }; k += 1 }
                }
                if k < source.count, source[k] == "e" || source[k] == "E" {
                    var m = k + 1
                    if m < source.count, source[m] == "+" || source[m] == "-" { m += 1 }
                    if m < source.count, source[m].isASCII, source[m].isNumber {
                        isFloat = true
                        s += String(source[k..<m])
                        k = m
                        while k < source.count, source[k].isASCII, source[k].isNumber { s.append(source[k]); k += 1 }
                    }
                }
                if isFloat {
                    tokens.append(Located(token: .float(Double(s) ?? 0), offset: i))
                } else {
                    guard let n = Int(s) else { throw error("the number \(s) is too large", at: i) }
                    tokens.append(Located(token: .int(n), offset: i))
                }
                i = k
                continue
            }
            if c.isLetter || c == "_" {
                var k = i
                while k < source.count, source[k].isLetter || source[k].isNumber || source[k] == "_" { k += 1 }
                tokens.append(Located(token: .name(String(source[i..<k])), offset: i))
                i = k
                continue
            }
            var matchedOp: String? = nil
            for op in Lexer.operators where matches(op, at: i) { matchedOp = op; break }
            guard let op = matchedOp else { throw error("unexpected character '\(c)'", at: i) }
            switch op {
            case "(", "[", "{": depth.append(Character(op))
            case ")", "]", "}":
                let expected: Character = op == ")" ? "(" : op == "]" ? "[" : "{"
                guard depth.last == expected else { throw error("unexpected '\(op)'", at: i) }
                depth.removeLast()
            default: break
            }
            tokens.append(Located(token: .op(op), offset: i))
            i += op.count
        }
    }
}
