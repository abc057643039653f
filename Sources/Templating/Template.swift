import Foundation

/// What a template may reach beyond its variables, supplied by whoever renders it: lookups
/// (`lookup('file', …)`), password hashing, and other template files (`{% include %}`).
public struct TemplateHooks: Sendable {
    public var lookup: (@Sendable (_ plugin: String, _ terms: [Value], _ options: [String: Value]) throws -> Value)?
    public var passwordHash: (@Sendable (_ password: String, _ scheme: String, _ salt: String?, _ rounds: Int?) throws -> String)?
    /// The text of a template named by `{% include %}`, and the name errors give it.
    public var include: (@Sendable (_ name: String) throws -> (text: String, name: String)?)?
    /// Global functions the host adds to Jinja's (Ansible's `now()`), by name: positional and
    /// keyword arguments in, a value out.
    public var functions: [String: @Sendable (_ args: [Value], _ kwargs: [String: Value]) throws -> Value] = [:]

    public init(lookup: (@Sendable (String, [Value], [String: Value]) throws -> Value)? = nil,
                passwordHash: (@Sendable (String, String, String?, Int?) throws -> String)? = nil,
                include: (@Sendable (String) throws -> (text: String, name: String)?)? = nil) {
        self.lookup = lookup
        self.passwordHash = passwordHash
        self.include = include
    }
}

/// A Jinja template read once (lexed, parsed, every filter and test checked) and rendered as
/// often as needed over `Value`s.
public final class Template: Sendable {
    public let source: String
    public let options: TemplateOptions
    let nodes: [Node]
    let lexer: Lexer
    /// `{{ name }}` and nothing else: Ansible gives a boolean or number variable as it is.
    public let singleVariable: String?
    /// Whether the text holds any template markup at all.
    public let hasMarkup: Bool
    /// Newlines ending the source (Ansible keeps them all).
    let trailingNewlines: Int

    /// An environment's keepsTrailingNewlines: the output ends with as many newlines as the source.
    func restoreNewlines(_ out: String, _ environment: TemplateEnvironment) -> String {
        guard environment.keepsTrailingNewlines else { return out }
        let have = out.reversed().prefix { $0 == "\n" || $0 == "\r\n" }.count
        return have < trailingNewlines ? out + String(repeating: "\n", count: trailingNewlines - have) : out
    }

    public init(_ text: String, options: TemplateOptions = .playbook) throws(TemplateError) {
        source = text
        var options = options
        var body = text
        var headerLines = 0
        if text.hasPrefix("#jinja2:"), let end = text.firstIndex(of: "\n") {
            Template.applyHeader(String(text[text.index(text.startIndex, offsetBy: 8)..<end]), to: &options)
            body = String(text[text.index(after: end)...])
            headerLines = 1
        }
        self.options = options
        // Jinja drops one newline at the very end (keep_trailing_newline off); an environment that
        // keeps them puts back what is missing after rendering (see `restoreNewlines`).
        if body.hasSuffix("\n") { body.removeLast() }
        trailingNewlines = text.reversed().prefix { $0 == "\n" || $0 == "\r\n" }.count
        var lexer = Lexer(body, options: options, lineOffset: headerLines)
        do {
            let tokens = try lexer.tokenize()
            hasMarkup = lexer.sawTag
            var parser = Parser(lexer: lexer, tokens: tokens, filters: Filters.names, tests: Tests.names)
            nodes = try parser.parseTemplate()
        } catch let e as TemplateError {
            throw e
        } catch {
            throw TemplateError("\(error)")
        }
        lexer.tokens = []
        self.lexer = lexer
        // Python's `$` also matches before a final newline.
        if let m = text.wholeMatch(of: /\{\{\s*(\w*)\s*\}\}\n?/), options.variableStart == "{{" {
            singleVariable = String(m.1)
        } else {
            singleVariable = nil
        }
    }

    /// The lookup plugins the template names plainly (`lookup('pipe', …)` → "pipe"), for
    /// checks before a run.
    public var lookupPlugins: [String] {
        var out: [String] = []
        func expr(_ e: Expr) {
            switch e {
            case .call(let callee, let args, let kwargs, _):
                if case .name(let n, _) = callee, ["lookup", "query", "q"].contains(n), case .literal(.string(let plugin))? = args.first { out.append(plugin) }
                expr(callee); args.forEach(expr); kwargs.forEach { expr($0.1) }
            case .list(let l), .tuple(let l): l.forEach(expr)
            case .dict(let pairs): pairs.forEach { expr($0.0); expr($0.1) }
            case .attribute(let b, _, _): expr(b)
            case .index(let a, let b, _): expr(a); expr(b)
            case .slice(let a, let b, let c, let d, _): expr(a); [b, c, d].compactMap { $0 }.forEach(expr)
            case .filter(let b, _, let args, let kwargs, _): b.map(expr); args.forEach(expr); kwargs.forEach { expr($0.1) }
            case .test(let b, _, let args, _, _): expr(b); args.forEach(expr)
            case .unary(_, let b, _): expr(b)
            case .binary(_, let a, let b, _), .and(let a, let b), .or(let a, let b): expr(a); expr(b)
            case .not(let a): expr(a)
            case .compare(let a, let ops, _): expr(a); ops.forEach { expr($0.1) }
            case .conditional(let a, let b, let c): expr(a); expr(b); c.map(expr)
            case .concat(let l, _): l.forEach(expr)
            case .literal, .name: break
            }
        }
        func node(_ n: Node) {
            switch n {
            case .text: break
            case .output(let e, _), .set(_, let e, _), .include(let e, _, _), .importing(let e, _, _, _, _): expr(e)
            case .ifBlock(let branches, let otherwise): branches.forEach { expr($0.0); $0.1.forEach(node) }; otherwise.forEach(node)
            case .forBlock(_, let iterable, let filter, let body, let otherwise, _, _): expr(iterable); filter.map(expr); (body + otherwise).forEach(node)
            case .setBlock(_, let body, _), .macro(_, _, let body), .filterBlock(_, let body): body.forEach(node)
            case .callBlock(let call, _, let body, _): expr(call); body.forEach(node)
            case .with(let assignments, let body): assignments.forEach { expr($0.1) }; body.forEach(node)
            }
        }
        nodes.forEach(node)
        return out
    }

    /// `#jinja2:variable_start_string:'[%', …` on the first line sets the delimiters.
    static func applyHeader(_ header: String, to options: inout TemplateOptions) {
        for item in header.split(separator: ",") {
            let kv = item.split(separator: ":", maxSplits: 1).map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
            }
            guard kv.count == 2 else { continue }
            switch kv[0] {
            case "variable_start_string": options.variableStart = kv[1]
            case "variable_end_string": options.variableEnd = kv[1]
            case "block_start_string": options.blockStart = kv[1]
            case "block_end_string": options.blockEnd = kv[1]
            case "comment_start_string": options.commentStart = kv[1]
            case "comment_end_string": options.commentEnd = kv[1]
            case "trim_blocks": options.trimBlocks = ["true", "yes", "1"].contains(kv[1].lowercased())
            case "lstrip_blocks": options.lstripBlocks = ["true", "yes", "1"].contains(kv[1].lowercased())
            default: break
            }
        }
    }

    func error(_ failure: RuntimeFailure) -> TemplateError {
        guard let offset = failure.offset else { return TemplateError(failure.message, line: 0, column: 0) }
        return lexer.error(failure.message, at: offset)
    }

    /// The template's text with `vars`, by the environment's rules.
    public func render(_ vars: [String: Value], in environment: TemplateEnvironment = TemplateEnvironment()) throws(TemplateError) -> String {
        try running(vars, environment) { interpreter in
            var out = ""
            try interpreter.run(nodes, into: &out)
            return restoreNewlines(out, environment)
        }
    }

    /// Runs `body` with an interpreter, its failures as errors at their place in the text.
    func running<T>(_ vars: [String: Value], _ environment: TemplateEnvironment, _ body: (Interpreter) throws -> T) throws(TemplateError) -> T {
        do {
            return try body(Interpreter(vars: vars, environment: environment, template: self))
        } catch let f as RuntimeFailure {
            throw error(f)
        } catch let e as TemplateError {
            throw e
        } catch {
            throw TemplateError("\(error)")
        }
    }

    /// The template's value: with the environment's nativeValues, a template of one expression
    /// gives that expression's own value (a number, a boolean, a list, a mapping, None; a tuple as
    /// a list) and anything else its text; without, always the text. Text is never read back
    /// into a value.
    public func evaluate(_ vars: [String: Value], in environment: TemplateEnvironment = TemplateEnvironment()) throws(TemplateError) -> Value {
        guard hasMarkup else { return .string(source) }
        guard environment.nativeValues else { return .string(try render(vars, in: environment)) }
        return try nativeValue(vars, environment)
    }

    /// The value native rendering gives: when the template printed one piece and that piece is
    /// a `{{ }}` output, its value (a text keeps the template's trailing newlines as the
    /// environment says); otherwise the text.
    func nativeValue(_ vars: [String: Value], _ environment: TemplateEnvironment) throws(TemplateError) -> Value {
        func restoring(_ v: Value) -> Value {
            if case .string(let s) = v { return .string(restoreNewlines(s, environment)) }
            return v
        }
        if nodes.count == 1, case .output = nodes[0], let name = singleVariable, let v = vars[name] { return restoring(v) }
        return try running(vars, environment) { interpreter in
            var out = ""
            try interpreter.run(nodes, into: &out)
            if interpreter.pieces == 1, let only = interpreter.onlyPiece { return restoring(try interpreter.defined(only)) }
            return .string(restoreNewlines(out, environment))
        }
    }

    /// The text, or None when the template printed nothing at all (what Ansible 2.19's template
    /// lookup gives).
    public func renderOrNone(_ vars: [String: Value], in environment: TemplateEnvironment = TemplateEnvironment()) throws(TemplateError) -> Value {
        try running(vars, environment) { interpreter in
            var out = ""
            try interpreter.run(nodes, into: &out)
            return interpreter.pieces == 0 ? .null : .string(restoreNewlines(out, environment))
        }
    }

    /// A value from JSON text (null, true, numbers, strings, lists, objects in their order).
    public static func json(_ text: String) -> Value? { parseLiteral(text.trimmingCharacters(in: .whitespacesAndNewlines)) }

    /// A Python literal as `ast.literal_eval` reads it (`5`, `True`, `[1, 'a']`), or nil.
    public static func literalValue(_ text: String) -> Value? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if ["true", "false", "null"].contains(t) { return nil }
        if ["None"].contains(t) { return .null }
        return parseLiteral(t)
    }

    /// A Python or JSON literal (`[1, 'a']`, `{"k": true}`, `-3`, `null`).
    static func parseLiteral(_ text: String) -> Value? {
        var lexer = Lexer(text, options: TemplateOptions(), lineOffset: 0)
        guard (try? lexer.expressionTokens(from: 0, end: "", rawStrings: false)) != nil, !lexer.tokens.isEmpty else { return nil }
        var parser = Parser(lexer: lexer, tokens: lexer.tokens + [Located(token: .end, offset: lexer.source.count)], filters: [], tests: [])
        guard let e = try? parser.parseExpression(), parser.current == .end else { return nil }
        return constant(e)
    }

    static func constant(_ e: Expr) -> Value? {
        switch e {
        case .literal(let v): return v
        case .name(let n, _): return ["true": Value.bool(true), "false": .bool(false), "null": .null][n]
        case .list(let items), .tuple(let items):
            var out: [Value] = []
            for i in items { guard let v = constant(i) else { return nil }; out.append(v) }
            return .list(out)
        case .dict(let pairs):
            var out = OrderedMap()
            for (k, v) in pairs {
                guard let key = constant(k), let value = constant(v) else { return nil }
                out[key.pythonText] = value
            }
            return .map(out)
        case .unary("-", let inner, _):
            switch constant(inner) {
            case .int(let i): return .int(-i)
            case .double(let d): return .double(-d)
            default: return nil
            }
        default: return nil
        }
    }

    /// A condition (`when:`, `failed_when`, assert's `that`): a bare Jinja expression, or one
    /// template. With the environment's booleanConditions its value must be a boolean (a string,
    /// a number, a list or None is an error, not a truth value); without, its truth counts.
    public static func condition(_ expression: String, vars: [String: Value], in environment: TemplateEnvironment = TemplateEnvironment(),
                                 cache: TemplateCache? = nil) throws(TemplateError) -> Bool {
        let templated = expression.contains("{{") || expression.contains("{%")
        let text = templated ? expression : "{{ " + expression + " }}"
        let options: TemplateOptions = templated ? .playbook : .condition
        let t: Template
        if let cache { t = try cache.template(text, options: options) } else { t = try Template(text, options: options) }
        // The expression's own value (as an `{% if %}` sees it), whatever the environment's rendering.
        let v = t.hasMarkup ? try t.nativeValue(vars, environment) : .string(t.source)
        guard environment.booleanConditions else { return v.jinjaTruthy }
        guard case .bool(let b) = v else {
            let truth = v.jinjaTruthy ? "True" : "False"
            throw TemplateError("conditional result (\(truth)) was derived from \(v.pythonRepr), of type '\(v.pythonType)'; conditionals must have a boolean result (compare it, or add '| bool')")
        }
        return b
    }
}

/// Templates read once and kept, by text and options (a playbook's strings are rendered for
/// every host and loop item).
public final class TemplateCache: @unchecked Sendable {
    private let lock = NSLock()
    private var templates: [TemplateKey: Template] = [:]
    private let limit: Int

    struct TemplateKey: Hashable { let text: String; let options: TemplateOptions }

    public init(limit: Int = 20_000) { self.limit = limit }

    public func template(_ text: String, options: TemplateOptions) throws(TemplateError) -> Template {
        let key = TemplateKey(text: text, options: options)
        lock.lock()
        if let t = templates[key] { lock.unlock(); return t }
        lock.unlock()
        let t = try Template(text, options: options)
        lock.lock()
        if templates.count >= limit { templates.removeAll() }
        templates[key] = t
        lock.unlock()
        return t
    }
}
