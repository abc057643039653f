/// Reads a template's tokens into its syntax tree; an unknown filter or test, or a tag that is
/// never closed, is an error here, before anything renders.
struct Parser {
    var tokens: [Located]
    var index = 0
    let lexer: Lexer
    let filters: Set<String>
    let tests: Set<String>
    /// The names a statement ending the current block may have (`endif`, `elif`, …).
    var depth = 0
    static let maxDepth = 100

    init(lexer: Lexer, tokens: [Located], filters: Set<String>, tests: Set<String>) {
        self.lexer = lexer
        self.tokens = tokens
        self.filters = filters
        self.tests = tests
    }

    var current: Token { tokens[index].token }
    var offset: Int { tokens[index].offset }
    mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    func error(_ message: String, at offset: Int? = nil) -> TemplateError { lexer.error(message, at: offset ?? self.offset) }

    func describe(_ t: Token) -> String {
        switch t {
        case .text: "text"
        case .variableBegin: "'\(lexer.options.variableStart)'"
        case .variableEnd: "'\(lexer.options.variableEnd)'"
        case .blockBegin: "'\(lexer.options.blockStart)'"
        case .blockEnd: "end of statement block"
        case .name(let n): "'\(n)'"
        case .string(let s): "string '\(s)'"
        case .int(let i): "'\(i)'"
        case .float(let d): "'\(d)'"
        case .op(let o): "'\(o)'"
        case .end: "end of template"
        }
    }

    func isOp(_ o: String) -> Bool { if case .op(o) = current { return true }; return false }
    func isName(_ n: String) -> Bool { if case .name(n) = current { return true }; return false }

    mutating func expect(_ o: String) throws {
        guard isOp(o) else { throw error("expected '\(o)', got \(describe(current))") }
        advance()
    }

    mutating func expectName() throws -> String {
        guard case .name(let n) = current else { throw error("expected a name, got \(describe(current))") }
        advance()
        return n
    }

    mutating func expectBlockEnd() throws {
        guard current == .blockEnd else { throw error("expected the end of the statement, got \(describe(current))") }
        advance()
    }

    // MARK: Statements

    mutating func parseTemplate() throws -> [Node] {
        let (nodes, end) = try parseBody(until: [])
        if let end { throw error("unexpected '\(end)': no block is open here", at: tokens[index - 1].offset) }
        return nodes
    }

    /// Nodes up to one of the statements `until` (returned, its name consumed) or the end.
    mutating func parseBody(until: Set<String>, opener: (String, Int)? = nil) throws -> ([Node], String?) {
        var nodes: [Node] = []
        while true {
            switch current {
            case .end:
                if let opener {
                    throw error("the '\(opener.0)' block is never closed (expected \(until.sorted().map { "'\($0)'" }.joined(separator: " or ")))", at: opener.1)
                }
                return (nodes, nil)
            case .text(let t):
                nodes.append(.text(t))
                advance()
            case .variableBegin:
                let at = offset
                advance()
                let e = try parseExpression()
                guard current == .variableEnd else { throw error("expected the end of the expression '\(lexer.options.variableEnd)', got \(describe(current))") }
                advance()
                nodes.append(.output(e, at))
            case .blockBegin:
                let at = offset
                advance()
                guard case .name(let keyword) = current else { throw error("expected a statement name, got \(describe(current))") }
                if until.contains(keyword) {
                    advance()
                    return (nodes, keyword)
                }
                if keyword.hasPrefix("end") || ["elif", "else"].contains(keyword) {
                    throw error("unexpected '\(keyword)'" + (opener.map { ": the open block is '\($0.0)'" } ?? ": no block is open here"))
                }
                advance()
                nodes.append(try parseStatement(keyword, at: at))
            default:
                throw error("unexpected \(describe(current))")
            }
        }
    }

    mutating func nested<T>(_ body: (inout Parser) throws -> T, at: Int) throws -> T {
        depth += 1
        defer { depth -= 1 }
        if depth > Parser.maxDepth { throw error("blocks nest deeper than \(Parser.maxDepth) levels; split the template", at: at) }
        return try body(&self)
    }

    mutating func parseStatement(_ keyword: String, at: Int) throws -> Node {
        switch keyword {
        case "if":
            return try nested({ p in
                var branches: [(Expr, [Node])] = []
                var condition = try p.parseExpression()
                try p.expectBlockEnd()
                while true {
                    let (body, end) = try p.parseBody(until: ["elif", "else", "endif"], opener: ("if", at))
                    branches.append((condition, body))
                    if end == "elif" {
                        condition = try p.parseExpression()
                        try p.expectBlockEnd()
                        continue
                    }
                    if end == "else" {
                        try p.expectBlockEnd()
                        let (otherwise, _) = try p.parseBody(until: ["endif"], opener: ("if", at))
                        try p.expectBlockEnd()
                        return .ifBlock(branches, otherwise)
                    }
                    try p.expectBlockEnd()
                    return .ifBlock(branches, [])
                }
            }, at: at)
        case "for":
            return try nested({ p in
                let target = try p.parseAssignTarget(allowAttribute: false)
                guard p.isName("in") else { throw p.error("expected 'in' in the for statement, got \(p.describe(p.current))") }
                p.advance()
                let iterable = try p.parseTuple(withCondition: false, stopAtIf: true)
                var filter: Expr? = nil
                if p.isName("if") { p.advance(); filter = try p.parseExpression() }
                var recursive = false
                if p.isName("recursive") { p.advance(); recursive = true }
                try p.expectBlockEnd()
                let (body, end) = try p.parseBody(until: ["endfor", "else"], opener: ("for", at))
                var otherwise: [Node] = []
                if end == "else" {
                    try p.expectBlockEnd()
                    (otherwise, _) = try p.parseBody(until: ["endfor"], opener: ("for", at))
                }
                try p.expectBlockEnd()
                return .forBlock(target: target, iterable: iterable, filter: filter, body: body, otherwise: otherwise, recursive: recursive, offset: at)
            }, at: at)
        case "set":
            let target = try parseAssignTarget(allowAttribute: true)
            if isOp("=") {
                advance()
                let value = try parseTuple(withCondition: true)
                try expectBlockEnd()
                return .set(target, value, at)
            }
            guard case .name(let name) = target else { throw error("a block set assigns one name") }
            var filter: (name: String, args: [Expr], kwargs: [(String, Expr)])? = nil
            if isOp("|") {
                advance()
                let f = try parseFilterCall()
                filter = (f.name, f.args, f.kwargs)
            }
            try expectBlockEnd()
            return try nested({ p in
                let (body, _) = try p.parseBody(until: ["endset"], opener: ("set", at))
                try p.expectBlockEnd()
                return .setBlock(name, body, filter)
            }, at: at)
        case "macro":
            let name = try expectName()
            let parameters = try parseSignature()
            try expectBlockEnd()
            return try nested({ p in
                let (body, _) = try p.parseBody(until: ["endmacro"], opener: ("macro", at))
                if case .name = p.current { p.advance() }
                try p.expectBlockEnd()
                return .macro(name: name, parameters: parameters, body: body)
            }, at: at)
        case "call":
            var parameters: [(String, Expr?)] = []
            if isOp("(") { parameters = try parseSignature() }
            let call = try parseExpression()
            try expectBlockEnd()
            return try nested({ p in
                let (body, _) = try p.parseBody(until: ["endcall"], opener: ("call", at))
                try p.expectBlockEnd()
                return .callBlock(call: call, parameters: parameters, body: body, offset: at)
            }, at: at)
        case "filter":
            var chain: [(name: String, args: [Expr], kwargs: [(String, Expr)], offset: Int)] = []
            repeat {
                if isOp("|") { advance() }
                let f = try parseFilterCall()
                chain.append(f)
            } while isOp("|")
            try expectBlockEnd()
            return try nested({ p in
                let (body, _) = try p.parseBody(until: ["endfilter"], opener: ("filter", at))
                try p.expectBlockEnd()
                return .filterBlock(chain, body)
            }, at: at)
        case "include":
            let what = try parseExpression()
            var ignoreMissing = false
            if isName("ignore") { advance(); guard isName("missing") else { throw error("expected 'missing'") }; advance(); ignoreMissing = true }
            if isName("with") || isName("without") { advance(); guard isName("context") else { throw error("expected 'context'") }; advance() }
            try expectBlockEnd()
            return .include(what, ignoreMissing: ignoreMissing, offset: at)
        case "with":
            var assignments: [(Target, Expr)] = []
            while current != .blockEnd {
                if !assignments.isEmpty { try expect(",") }
                let t = try parseAssignTarget(allowAttribute: false)
                try expect("=")
                assignments.append((t, try parseExpression()))
            }
            try expectBlockEnd()
            return try nested({ p in
                let (body, _) = try p.parseBody(until: ["endwith"], opener: ("with", at))
                try p.expectBlockEnd()
                return .with(assignments, body)
            }, at: at)
        case "import", "from":
            let what = try parseExpression()
            var alias: String?
            var names: [(name: String, alias: String)] = []
            if keyword == "import" {
                guard isName("as") else { throw error("expected 'as' after the template to import") }
                advance()
                alias = try expectName()
            } else {
                guard isName("import") else { throw error("expected 'import' after the template of 'from'") }
                advance()
                repeat {
                    if isOp(",") { advance() }
                    if isName("with") || isName("without") { break }
                    let name = try expectName()
                    var local = name
                    if isName("as") { advance(); local = try expectName() }
                    names.append((name, local))
                } while isOp(",")
                guard !names.isEmpty else { throw error("expected the names to import") }
            }
            // Jinja's rule: an import sees no variables of the importing template unless `with context`.
            var withContext = false
            if isName("with") || isName("without") {
                withContext = isName("with")
                advance()
                guard isName("context") else { throw error("expected 'context'") }
                advance()
            }
            try expectBlockEnd()
            return .importing(what, alias: alias, names: names, withContext: withContext, offset: at)
        case "extends", "block", "autoescape", "trans":
            throw error("the '\(keyword)' statement is not supported by parc's templates", at: at)
        default:
            throw error("unknown statement '\(keyword)'", at: at)
        }
    }

    mutating func parseSignature() throws -> [(String, Expr?)] {
        try expect("(")
        var parameters: [(String, Expr?)] = []
        while !isOp(")") {
            if !parameters.isEmpty { try expect(",") }
            if isOp(")") { break }
            let n = try expectName()
            if isOp("=") { advance(); parameters.append((n, try parseExpression())) } else { parameters.append((n, nil)) }
        }
        try expect(")")
        return parameters
    }

    mutating func parseAssignTarget(allowAttribute: Bool) throws -> Target {
        var names: [Target] = []
        var parenthesised = false
        if isOp("(") { advance(); parenthesised = true }
        repeat {
            if !names.isEmpty { advance() }
            if parenthesised, isOp(")") { break }
            let n = try expectName()
            if allowAttribute, isOp(".") {
                advance()
                names.append(.attribute(n, try expectName()))
            } else {
                names.append(.name(n))
            }
        } while isOp(",")
        if parenthesised { try expect(")") }
        return names.count == 1 && !parenthesised ? names[0] : .tuple(names)
    }

    // MARK: Expressions

    /// A tuple without brackets (`a, b`) where Jinja allows one (for, set, do).
    mutating func parseTuple(withCondition: Bool, stopAtIf: Bool = false) throws -> Expr {
        var items: [Expr] = []
        var sawComma = false
        while true {
            if !items.isEmpty {
                guard isOp(",") else { break }
                advance()
                sawComma = true
                if current == .blockEnd || current == .variableEnd || isName("in") || (stopAtIf && isName("if")) { break }
            }
            items.append(withCondition ? try parseExpression() : try parseOr())
        }
        return items.count == 1 && !sawComma ? items[0] : .tuple(items)
    }

    mutating func parseExpression() throws -> Expr {
        let e = try parseOr()
        if isName("if") {
            advance()
            let condition = try parseOr()
            var otherwise: Expr? = nil
            if isName("else") { advance(); otherwise = try parseExpression() }
            return .conditional(condition, e, otherwise)
        }
        return e
    }

    mutating func parseOr() throws -> Expr {
        var e = try parseAnd()
        while isName("or") { advance(); e = .or(e, try parseAnd()) }
        return e
    }

    mutating func parseAnd() throws -> Expr {
        var e = try parseNot()
        while isName("and") { advance(); e = .and(e, try parseNot()) }
        return e
    }

    mutating func parseNot() throws -> Expr {
        if isName("not") { advance(); return .not(try parseNot()) }
        return try parseCompare()
    }

    mutating func parseCompare() throws -> Expr {
        let at = offset
        let first = try parseMath1()
        var ops: [(String, Expr)] = []
        while true {
            if case .op(let o) = current, ["==", "!=", "<", "<=", ">", ">="].contains(o) {
                advance(); ops.append((o, try parseMath1()))
            } else if isName("in") {
                advance(); ops.append(("in", try parseMath1()))
            } else if isName("not"), index + 1 < tokens.count, tokens[index + 1].token == .name("in") {
                advance(); advance(); ops.append(("notin", try parseMath1()))
            } else { break }
        }
        return ops.isEmpty ? first : .compare(first, ops, at)
    }

    mutating func parseMath1() throws -> Expr {
        var e = try parseConcat()
        while case .op(let o) = current, o == "+" || o == "-" {
            let at = offset
            advance()
            e = .binary(o, e, try parseConcat(), at)
        }
        return e
    }

    mutating func parseConcat() throws -> Expr {
        let at = offset
        var items = [try parseMath2()]
        while isOp("~") { advance(); items.append(try parseMath2()) }
        return items.count == 1 ? items[0] : .concat(items, at)
    }

    mutating func parseMath2() throws -> Expr {
        var e = try parsePow()
        while case .op(let o) = current, ["*", "/", "//", "%"].contains(o) {
            let at = offset
            advance()
            e = .binary(o, e, try parsePow(), at)
        }
        return e
    }

    mutating func parsePow() throws -> Expr {
        var e = try parseUnary()
        while isOp("**") {
            let at = offset
            advance()
            e = .binary("**", e, try parseUnary(), at)
        }
        return e
    }

    mutating func parseUnary(withFilter: Bool = true) throws -> Expr {
        let at = offset
        var e: Expr
        if isOp("-") { advance(); e = .unary("-", try parseUnary(withFilter: false), at) }
        else if isOp("+") { advance(); e = .unary("+", try parseUnary(withFilter: false), at) }
        else { e = try parsePostfix(try parsePrimary()) }
        if withFilter { e = try parseFilterExpr(e) }
        return e
    }

    mutating func parsePrimary() throws -> Expr {
        let at = offset
        switch current {
        case .name(let n):
            advance()
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.null)
            default: return .name(n, at)
            }
        case .string(var s):
            advance()
            while case .string(let more) = current { s += more; advance() }
            return .literal(.string(s))
        case .int(let i): advance(); return .literal(.int(i))
        case .float(let d): advance(); return .literal(.double(d))
        case .op("("):
            advance()
            if isOp(")") { advance(); return .tuple([]) }
            let e = try parseExpression()
            if isOp(",") {
                var items = [e]
                while isOp(",") {
                    advance()
                    if isOp(")") { break }
                    items.append(try parseExpression())
                }
                try expect(")")
                return .tuple(items)
            }
            try expect(")")
            return e
        case .op("["):
            advance()
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expect(","); if isOp("]") { break } }
                items.append(try parseExpression())
            }
            try expect("]")
            return .list(items)
        case .op("{"):
            advance()
            var pairs: [(Expr, Expr)] = []
            while !isOp("}") {
                if !pairs.isEmpty { try expect(","); if isOp("}") { break } }
                let k = try parseExpression()
                try expect(":")
                pairs.append((k, try parseExpression()))
            }
            try expect("}")
            return .dict(pairs)
        default:
            throw error("unexpected \(describe(current))")
        }
    }

    mutating func parsePostfix(_ base: Expr) throws -> Expr {
        var e = base
        while true {
            let at = offset
            if isOp(".") {
                advance()
                switch current {
                case .name(let n): advance(); e = .attribute(e, n, at)
                case .int(let i): advance(); e = .index(e, .literal(.int(i)), at)
                default: throw error("expected an attribute name after '.', got \(describe(current))")
                }
            } else if isOp("[") {
                advance()
                e = try parseSubscript(e, at: at)
            } else if isOp("(") {
                let (args, kwargs) = try parseCallArguments()
                e = .call(e, args, kwargs, at)
            } else {
                return e
            }
        }
    }

    mutating func parseSubscript(_ base: Expr, at: Int) throws -> Expr {
        var parts: [Expr?] = [nil]
        var isSlice = false
        while !isOp("]") {
            if isOp(":") { advance(); isSlice = true; parts.append(nil); continue }
            parts[parts.count - 1] = try parseExpression()
        }
        try expect("]")
        guard isSlice else {
            guard let key = parts[0] else { throw error("expected an index between '[' and ']'", at: at) }
            return .index(base, key, at)
        }
        guard parts.count <= 3 else { throw error("a slice has at most three parts", at: at) }
        return .slice(base, parts[0], parts.count > 1 ? parts[1] : nil, parts.count > 2 ? parts[2] : nil, at)
    }

    mutating func parseCallArguments() throws -> ([Expr], [(String, Expr)]) {
        try expect("(")
        var args: [Expr] = []
        var kwargs: [(String, Expr)] = []
        while !isOp(")") {
            if !args.isEmpty || !kwargs.isEmpty { try expect(","); if isOp(")") { break } }
            if case .name(let n) = current, index + 1 < tokens.count, tokens[index + 1].token == .op("=") {
                advance(); advance()
                kwargs.append((n, try parseExpression()))
            } else if isOp("*") || isOp("**") {
                // `*items` and `**mapping`, unpacked when the call is made: kept among the keyword
                // arguments, in their order, under the names `*` and `**` (no argument's name).
                let splat = isOp("*") ? "*" : "**"
                advance()
                kwargs.append((splat, try parseExpression()))
            } else {
                guard kwargs.allSatisfy({ $0.0 == "*" }) else { throw error("a positional argument follows a keyword argument") }
                args.append(try parseExpression())
            }
        }
        try expect(")")
        return (args, kwargs)
    }

    /// A filter's dotted name (`ansible.builtin.` is Ansible's own collection) and arguments.
    mutating func parseFilterCall() throws -> (name: String, args: [Expr], kwargs: [(String, Expr)], offset: Int) {
        let at = offset
        var name = try expectName()
        while isOp(".") { advance(); name += "." + (try expectName()) }
        let short = Parser.shortName(name)
        guard filters.contains(short) else {
            throw error("no filter named '\(name)': it is not supported by parc", at: at)
        }
        var args: [Expr] = [], kwargs: [(String, Expr)] = []
        if isOp("(") { (args, kwargs) = try parseCallArguments() }
        return (short, args, kwargs, at)
    }

    static func shortName(_ name: String) -> String {
        for prefix in ["ansible.builtin.", "ansible.legacy."] where name.hasPrefix(prefix) { return String(name.dropFirst(prefix.count)) }
        return name
    }

    mutating func parseFilterExpr(_ base: Expr) throws -> Expr {
        var e = base
        while true {
            if isOp("|") {
                advance()
                let f = try parseFilterCall()
                e = try parsePostfix(.filter(e, f.name, f.args, f.kwargs, f.offset))
            } else if isName("is") {
                advance()
                var negated = false
                if isName("not") { advance(); negated = true }
                let at = offset
                var name = try expectName()
                while isOp(".") { advance(); name += "." + (try expectName()) }
                let short = Parser.shortName(name)
                guard tests.contains(short) else { throw error("no test named '\(name)': it is not supported by parc", at: at) }
                var args: [Expr] = []
                if isOp("(") {
                    let (a, kw) = try parseCallArguments()
                    args = a + kw.map(\.1)
                } else if startsArgument() {
                    args = [try parsePostfix(try parsePrimary())]
                }
                e = .test(e, short, args, negated, at)
            } else {
                return e
            }
        }
    }

    /// Whether the token after a test's name starts its single argument (`is divisibleby 3`).
    func startsArgument() -> Bool {
        switch current {
        case .name(let n): return !["else", "or", "and", "if", "is", "in", "not"].contains(n)
        case .string, .int, .float: return true
        case .op(let o): return o == "[" || o == "{"
        default: return false
        }
    }
}
