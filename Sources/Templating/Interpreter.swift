import Foundation

/// Runs a template's syntax tree over variables.
final class Interpreter {
    let vars: [String: Value]
    let environment: TemplateEnvironment
    var hooks: TemplateHooks { environment.hooks }
    let template: Template
    /// Variables the template set: the template's own level first, then one per loop body or macro call.
    var frames: [[String: RV]] = [[:]]
    var callerStack: [Callable] = []
    var includeDepth = 0
    /// The templates imported so far: their macros run in their own interpreters, kept alive here.
    var imports: [TemplateModule] = []
    /// What the template printed at its own level, as Jinja's native rendering counts it: how many
    /// pieces (texts, `{{ }}` outputs), and the value of the piece when there is one `{{ }}`.
    var pieces = 0
    var onlyPiece: RV?
    /// Above 0 while a block's output is captured (`{% set %}` blocks, filter blocks, macro bodies).
    var capturing = 0

    func printed(_ value: RV?) {
        guard capturing == 0 else { return }
        pieces += 1
        onlyPiece = value
    }

    init(vars: [String: Value], environment: TemplateEnvironment, template: Template) {
        self.vars = vars
        self.environment = environment
        self.template = template
    }

    func fail(_ message: String, _ offset: Int?) -> RuntimeFailure { RuntimeFailure(message: message, offset: offset) }

    // MARK: Statements

    func run(_ nodes: [Node], into out: inout String) throws {
        for node in nodes { try run(node, into: &out) }
    }

    func run(_ node: Node, into out: inout String) throws {
        switch node {
        case .text(let t):
            out += t
            if !t.isEmpty { printed(nil) }
        case .output(let e, let at):
            let v = try eval(e)
            printed(v)
            if Interpreter.isTuple(e), case .value(.list(let items)) = v { out += Interpreter.tupleRepr(items); return }
            out += try text(v, at: at)
        case .ifBlock(let branches, let otherwise):
            for (condition, body) in branches where try truth(try eval(condition), at: nil) {
                try run(body, into: &out)
                return
            }
            try run(otherwise, into: &out)
        case .forBlock(let target, let iterable, let filter, let body, let otherwise, let recursive, let at):
            try runFor(target: target, items: try iterate(try eval(iterable), at: at), filter: filter, body: body,
                       otherwise: otherwise, recursive: recursive, depth: 0, at: at, into: &out)
        case .set(let target, let e, let at):
            try assign(target, try eval(e), at: at)
        case .setBlock(let name, let body, let filter):
            var v = RV.str(try captured(body))
            if let f = filter { v = try applyFilter(f.name, to: v, args: f.args, kwargs: f.kwargs, at: nil) }
            frames[frames.count - 1][name] = v
        case .macro(let name, let parameters, let body):
            frames[frames.count - 1][name] = .callable(makeMacro(name: name, parameters: parameters, body: body))
        case .callBlock(let call, let parameters, let body, let at):
            let caller = makeMacro(name: "caller", parameters: parameters, body: body)
            callerStack.append(caller)
            defer { callerStack.removeLast() }
            out += try text(try eval(call), at: at)
            printed(nil)
        case .filterBlock(let chain, let body):
            var v = RV.str(try captured(body))
            for f in chain { v = try applyFilter(f.name, to: v, args: f.args, kwargs: f.kwargs, at: f.offset) }
            out += try text(v, at: nil)
            printed(nil)
        case .include(let e, let ignoreMissing, let at):
            let name = try text(try eval(e), at: at)
            guard let loader = hooks.include else { throw fail("{% include %} is not available here", at) }
            guard let found = try loader(name) else {
                if ignoreMissing { return }
                throw fail("the template '\(name)' to include was not found", at)
            }
            guard includeDepth < 20 else { throw fail("includes nest deeper than 20 levels", at) }
            let included: Template
            do { included = try Template(found.text, options: template.options) } catch {
                throw fail("in \(found.name) line \(error.line): \(error.message)", at)
            }
            var flat = vars
            for frame in frames { for (k, v) in frame { if case .value(let x) = v { flat[k] = x } } }
            let sub = Interpreter(vars: flat, environment: environment, template: included)
            sub.includeDepth = includeDepth + 1
            printed(nil)  // what an include prints is text
            do { try sub.run(included.nodes, into: &out) } catch let f as RuntimeFailure {
                let e = included.error(f)
                throw fail("in \(found.name) line \(e.line): \(e.message)", at)
            }
        case .importing(let e, let alias, let names, let withContext, let at):
            let module = try importModule(try text(try eval(e), at: at), withContext: withContext, at: at)
            if let alias { frames[frames.count - 1][alias] = .module(module); return }
            for (name, local) in names {
                guard let value = module.exports[name] else { throw fail("the template '\(module.name)' does not export the requested name '\(name)'", at) }
                frames[frames.count - 1][local] = value
            }
        case .with(let assignments, let body):
            frames.append([:])
            defer { frames.removeLast() }
            for (t, e) in assignments { try assign(t, try eval(e), at: 0) }
            try run(body, into: &out)
        }
    }

    /// Another template run as Jinja runs an import: its output dropped, its top-level names
    /// kept; it sees the importing template's variables only `with context` (else the globals).
    func importModule(_ name: String, withContext: Bool, at: Int) throws -> TemplateModule {
        guard let loader = hooks.include else { throw fail("{% import %} is not available here", at) }
        guard let found = try loader(name) else { throw fail("the template '\(name)' to import was not found", at) }
        guard includeDepth < 20 else { throw fail("imports nest deeper than 20 levels", at) }
        let imported: Template
        do { imported = try Template(found.text, options: template.options) } catch {
            throw fail("in \(found.name) line \(error.line): \(error.message)", at)
        }
        var flat: [String: Value] = [:]
        if withContext {
            flat = vars
            for frame in frames { for (k, v) in frame { if case .value(let x) = v { flat[k] = x } } }
        }
        let sub = Interpreter(vars: flat, environment: environment, template: imported)
        sub.includeDepth = includeDepth + 1
        sub.capturing = 1
        var ignored = ""
        do { try sub.run(imported.nodes, into: &ignored) } catch let f as RuntimeFailure {
            let e = imported.error(f)
            throw fail("in \(found.name) line \(e.line): \(e.message)", at)
        }
        let exports = (sub.frames.first ?? [:]).filter { !$0.key.hasPrefix("_") }
        let module = TemplateModule(name: found.name, exports: exports, interpreter: sub)
        imports.append(module)
        return module
    }

    /// What `body` prints, kept apart from the template's own output.
    func captured(_ body: [Node]) throws -> String {
        var out = ""
        capturing += 1
        defer { capturing -= 1 }
        try run(body, into: &out)
        return out
    }

    func runFor(target: Target, items all: [RV], filter: Expr?, body: [Node], otherwise: [Node], recursive: Bool,
                depth: Int, at: Int, into out: inout String) throws {
        var items = all
        if let filter {
            items = []
            for item in all {
                frames.append([:])
                try assign(target, item, at: at)
                let keep = try truth(try eval(filter), at: at)
                frames.removeLast()
                if keep { items.append(item) }
            }
        }
        if items.isEmpty {
            try run(otherwise, into: &out)
            return
        }
        let loop = LoopState(items: items, depth0: depth)
        if recursive {
            loop.recurse = { [unowned self] children in
                var sub = ""
                try self.runFor(target: target, items: try self.iterate(children, at: at), filter: filter, body: body, otherwise: [],
                                recursive: true, depth: depth + 1, at: at, into: &sub)
                return sub
            }
        }
        for (i, item) in items.enumerated() {
            loop.index0 = i
            frames.append(["loop": .loop(loop)])
            defer { frames.removeLast() }
            try assign(target, item, at: at)
            try run(body, into: &out)
        }
    }

    func assign(_ target: Target, _ value: RV, at: Int) throws {
        switch target {
        case .name(let n):
            frames[frames.count - 1][n] = value
        case .tuple(let targets):
            let items = try iterate(value, at: at)
            guard items.count == targets.count else {
                throw fail(items.count > targets.count ? "too many values to unpack (expected \(targets.count))"
                                                       : "not enough values to unpack (expected \(targets.count), got \(items.count))", at)
            }
            for (t, v) in zip(targets, items) { try assign(t, v, at: at) }
        case .attribute(let object, let name):
            guard case .namespace(let ns) = lookup(object, at: at) else {
                throw fail("cannot assign attribute on non-namespace object '\(object)'", at)
            }
            ns.values[name] = try defined(value, at: at)
        }
    }

    func makeMacro(name: String, parameters: [(String, Expr?)], body: [Node]) -> Callable {
        let definitionFrames = frames
        return Callable(name: name) { [unowned self] args, kwargs in
            var frame: [String: RV] = [:]
            for (i, (p, fallback)) in parameters.enumerated() {
                if i < args.count { frame[p] = args[i] }
                else if let kw = kwargs.first(where: { $0.0 == p }) { frame[p] = kw.1 }
                else if let fallback { frame[p] = try self.eval(fallback) }
                else { frame[p] = .undefined("'\(p)' is undefined: the macro '\(name)' was called without it") }
            }
            if args.count > parameters.count { frame["varargs"] = .value(.list(try args.dropFirst(parameters.count).map { try self.defined($0, at: nil) })) }
            if let caller = self.callerStack.last, name != "caller" { frame["caller"] = .callable(caller) }
            let saved = self.frames
            self.frames = [definitionFrames.first ?? [:], frame]
            defer { self.frames = saved }
            return .str(try self.captured(body))
        }
    }

    // MARK: Values

    /// Python tuples (a `(a, b)` literal, what splitext gives) print in parentheses; parc keeps
    /// them as lists otherwise.
    static func isTuple(_ e: Expr) -> Bool {
        switch e {
        case .tuple: return true
        case .filter(_, "splitext", _, _, _): return true
        default: return false
        }
    }

    static func tupleRepr(_ items: [Value]) -> String {
        "(" + items.map(\.pythonRepr).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
    }

    /// How a value prints: `None` as the environment's finalize says, the rest as Python's str().
    /// What an inline if without else gives when false: undefined, yet printed as nothing (Jinja's own undefined).
    static let noElse = "the inline if's condition was false and it has no else"

    func text(_ v: RV, at: Int?) throws -> String {
        switch v {
        case .value(.null): return environment.printsNoneAsNothing ? "" : "None"
        case .undefined(Interpreter.noElse): return ""
        case .value(let x): return x.pythonText
        case .undefined(let why): throw fail(why, at)
        case .callable(let c): return "<function \(c.name)>"
        case .namespace(let ns): return "<Namespace \(Value.map(ns.values).pythonRepr)>"
        case .loop: return "<LoopContext>"
        case .module(let m): return "<TemplateModule '\(m.name)'>"
        }
    }

    func defined(_ v: RV, at: Int? = nil) throws -> Value {
        switch v {
        case .value(let x): return x
        case .undefined(let why): throw fail(why, at)
        case .namespace(let ns): return Value.map(ns.values)
        case .callable(let c): return .string("<function \(c.name)>")
        case .loop(let l): return .map(["index": .int(l.index0 + 1), "index0": .int(l.index0), "length": .int(l.items.count)] as OrderedMap)
        case .module(let m): return .string("<TemplateModule '\(m.name)'>")
        }
    }

    func truth(_ v: RV, at: Int?) throws -> Bool {
        switch v {
        case .value(let x): return x.jinjaTruthy
        case .undefined(let why): throw fail(why, at)
        default: return true
        }
    }

    /// What a `for` goes through: a list's items, a mapping's keys, a string's characters.
    func iterate(_ v: RV, at: Int?) throws -> [RV] {
        switch try defined(v, at: at) {
        case .list(let l): return l.map { .value($0) }
        case .map(let m): return m.keys.map { .str($0) }
        case .string(let s): return s.map { .str(String($0)) }
        case let other: throw fail("'\(other.pythonType)' object is not iterable", at)
        }
    }

    func lookup(_ name: String, at: Int?) -> RV {
        for frame in frames.reversed() { if let v = frame[name] { return v } }
        if let v = vars[name] { return .value(v) }
        if let g = globals(name) { return g }
        return .undefined("'\(name)' is undefined")
    }

    // MARK: Expressions

    func eval(_ e: Expr) throws -> RV {
        switch e {
        case .literal(let v): return .value(v)
        case .name(let n, let at): return lookup(n, at: at)
        case .list(let items): return .value(.list(try items.map { try defined(try eval($0)) }))
        case .tuple(let items): return .value(.list(try items.map { try defined(try eval($0)) }))
        case .dict(let pairs):
            var m = OrderedMap()
            for (k, v) in pairs { m[try defined(try eval(k)).pythonText] = try defined(try eval(v)) }
            return .value(.map(m))
        case .attribute(let base, let name, let at):
            return try attribute(try eval(base), name, at: at)
        case .index(let base, let key, let at):
            return try item(try eval(base), try eval(key), at: at)
        case .slice(let base, let a, let b, let c, let at):
            return try slice(try eval(base), a.map { try eval($0) }, b.map { try eval($0) }, c.map { try eval($0) }, at: at)
        case .call(let callee, let args, let kwargs, let at):
            let f = try eval(callee)
            let (a, kw) = try arguments(args, kwargs, at: at)
            switch f {
            case .callable(let c):
                do { return try c.call(a, kw) } catch let e as RuntimeFailure where e.offset == nil { throw fail(e.message, at) }
            case .loop(let l):
                guard let recurse = l.recurse else { throw fail("loop() is only for a recursive loop", at) }
                guard let first = a.first else { throw fail("loop() takes the items to recurse into", at) }
                return .str(try recurse(first))
            case .undefined(let why): throw fail(why, at)
            default: throw fail("'\(try defined(f).pythonType)' object is not callable", at)
            }
        case .filter(let base, let name, let args, let kwargs, let at):
            return try applyFilter(name, to: base.map { try eval($0) } ?? .str(""), args: args, kwargs: kwargs, at: at)
        case .test(let base, let name, let args, let negated, let at):
            let v = try eval(base)
            let a = try args.map { try eval($0) }
            let result = try Tests.apply(name, v, a, self, at: at)
            return .bool(negated ? !result : result)
        case .unary(let op, let inner, let at):
            let v = try defined(try eval(inner), at: at)
            switch (op, v) {
            case ("-", .int(let i)): return .value(.int(-i))
            case ("-", .double(let d)): return .value(.double(-d))
            case ("-", .bool(let b)): return .value(.int(b ? -1 : 0))
            case ("+", .int), ("+", .double): return .value(v)
            default: throw fail("bad operand type for unary \(op): '\(v.pythonType)'", at)
            }
        case .binary(let op, let l, let r, let at):
            return .value(try Operators.binary(op, try defined(try eval(l), at: at), try defined(try eval(r), at: at), at: at))
        case .and(let l, let r):
            let a = try eval(l)
            return try truth(a, at: nil) ? try eval(r) : a
        case .or(let l, let r):
            let a = try eval(l)
            return try truth(a, at: nil) ? a : try eval(r)
        case .not(let inner):
            return .bool(!(try truth(try eval(inner), at: nil)))
        case .compare(let first, let ops, let at):
            var left = try defined(try eval(first), at: at)
            for (op, e) in ops {
                let right = try defined(try eval(e), at: at)
                guard try Operators.compare(op, left, right, at: at) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let condition, let yes, let no):
            if try truth(try eval(condition), at: nil) { return try eval(yes) }
            return try no.map { try eval($0) } ?? .undefined(Interpreter.noElse)
        case .concat(let items, let at):
            return .str(try items.map { try text(try eval($0), at: at) }.joined())
        }
    }

    func attribute(_ base: RV, _ name: String, at: Int) throws -> RV {
        switch base {
        case .undefined: return base
        case .namespace(let ns): return ns.values[name].map { .value($0) } ?? .undefined("'Namespace' object has no attribute '\(name)'")
        case .loop(let l):
            if name == "cycle" {
                return .callable(Callable(name: "cycle") { args, _ in
                    guard !args.isEmpty else { throw RuntimeFailure(message: "no items for cycling given", offset: at) }
                    return args[l.index0 % args.count]
                })
            }
            if name == "changed" {
                return .callable(Callable(name: "changed") { [unowned self] args, _ in
                    let now = try args.map { try self.defined($0) }
                    defer { l.lastChanged = now }
                    return .bool(l.lastChanged != now)
                })
            }
            return l.attribute(name) ?? .undefined("'LoopContext' object has no attribute '\(name)'")
        case .callable(let c): return .undefined("'function' object '\(c.name)' has no attribute '\(name)'")
        case .module(let m): return m.exports[name] ?? .undefined("the template '\(m.name)' does not export '\(name)'")
        case .value(let v):
            // Python's attribute first (methods), then the item, as Jinja's getattr.
            if let method = Methods.bind(v, name, self) { return .callable(method) }
            switch v {
            case .map(let m): return m[name].map { .value($0) } ?? .undefined("object of type 'dict' has no attribute '\(name)'")
            default: return .undefined("\(Operators.objectName(v)) has no attribute '\(name)'")
            }
        }
    }

    func item(_ base: RV, _ key: RV, at: Int) throws -> RV {
        if case .undefined = base { return base }
        let k = try defined(key, at: at)
        if case .namespace(let ns) = base, case .string(let s) = k { return ns.values[s].map { .value($0) } ?? .undefined("'Namespace' object has no attribute '\(s)'") }
        if case .loop = base, case .string(let s) = k { return try attribute(base, s, at: at) }
        let v = try defined(base, at: at)
        switch (v, k) {
        case (.map(let m), _):
            let name = k.pythonText
            if let x = m[name] { return .value(x) }
            if case .string(let s) = k, let method = Methods.bind(v, s, self) { return .callable(method) }
            return .undefined("object of type 'dict' has no attribute \(k.pythonRepr)")
        case (.list(let l), .int(let i)):
            let j = i < 0 ? l.count + i : i
            return l.indices.contains(j) ? .value(l[j]) : .undefined("object of type 'list' has no attribute \(i)")
        case (.list(let l), .bool(let b)):
            let j = b ? 1 : 0
            return l.indices.contains(j) ? .value(l[j]) : .undefined("object of type 'list' has no attribute \(j)")
        case (.string(let s), .int(let i)):
            let chars = Array(s)
            let j = i < 0 ? chars.count + i : i
            return chars.indices.contains(j) ? .str(String(chars[j])) : .undefined("object of type 'str' has no attribute \(i)")
        case (_, .string(let name)):
            return try attribute(base, name, at: at)
        default:
            return .undefined("\(Operators.objectName(v)) has no attribute \(k.pythonRepr)")
        }
    }

    func slice(_ base: RV, _ a: RV?, _ b: RV?, _ c: RV?, at: Int) throws -> RV {
        let v = try defined(base, at: at)
        func int(_ x: RV?) throws -> Int? {
            guard let x else { return nil }
            switch try defined(x, at: at) {
            case .null: return nil
            case .int(let i): return i
            case let other: throw fail("slice indices must be integers or None, not \(other.pythonType)", at)
            }
        }
        let step = try int(c) ?? 1
        guard step != 0 else { throw fail("slice step cannot be zero", at) }
        func pick<T>(_ items: [T]) throws -> [T] {
            let n = items.count
            func norm(_ i: Int?, _ fallback: Int) -> Int {
                guard var i else { return fallback }
                if i < 0 { i += n }
                return step > 0 ? min(max(i, 0), n) : min(max(i, -1), n - 1)
            }
            var out: [T] = []
            if step > 0 {
                var i = norm(try int(a), 0)
                let end = norm(try int(b), n)
                while i < end { out.append(items[i]); i += step }
            } else {
                var i = norm(try int(a), n - 1)
                let end = norm(try int(b), -1)
                while i > end { out.append(items[i]); i += step }
            }
            return out
        }
        switch v {
        case .list(let l): return .value(.list(try pick(l)))
        case .string(let s): return .str(String(try pick(Array(s))))
        default: throw fail("'\(v.pythonType)' object is not subscriptable", at)
        }
    }

    func applyFilter(_ name: String, to input: RV, args: [Expr], kwargs: [(String, Expr)], at: Int?) throws -> RV {
        let (a, kw) = try arguments(args, kwargs, at: at)
        return try Filters.apply(name, input, a, kw, self, at: at)
    }

    /// A call's arguments, `*items` added to the positional ones and `**mapping` to the keyword
    /// ones, as Python unpacks them.
    func arguments(_ args: [Expr], _ kwargs: [(String, Expr)], at: Int?) throws -> ([RV], [(String, RV)]) {
        var a = try args.map { try eval($0) }
        var kw: [(String, RV)] = []
        for (name, e) in kwargs {
            switch name {
            case "*":
                switch try defined(try eval(e), at: at) {
                case .list(let items): a += items.map { .value($0) }
                case .string(let text): a += text.map { .value(.string(String($0))) }
                case .map(let m): a += m.keys.map { .value(.string($0)) }
                case let v: throw fail("argument after * must be an iterable, not \(v.pythonType)", at)
                }
            case "**":
                guard case .map(let m) = try defined(try eval(e), at: at) else { throw fail("argument after ** must be a mapping", at) }
                for (k, v) in m { kw.append((k, .value(v))) }
            default:
                kw.append((name, try eval(e)))
            }
        }
        return (a, kw)
    }

    // MARK: Globals

    func globals(_ name: String) -> RV? {
        switch name {
        case "range":
            return .callable(Callable(name: "range") { [unowned self] args, _ in
                let n = try args.map { a -> Int in
                    guard case .int(let i) = try self.defined(a) else { throw RuntimeFailure(message: "range() takes integers", offset: nil) }
                    return i
                }
                let (start, stop, step) = n.count == 1 ? (0, n[0], 1) : n.count == 2 ? (n[0], n[1], 1) : n.count == 3 ? (n[0], n[1], n[2]) : (0, 0, 0)
                guard step != 0, (1...3).contains(n.count) else { throw RuntimeFailure(message: "range() takes 1 to 3 integers, the step not zero", offset: nil) }
                let count = step > 0 ? max(0, (stop - start + step - 1) / step) : max(0, (start - stop - step - 1) / -step)
                guard count <= 100_000 else { throw RuntimeFailure(message: "range() is too long (more than 100000 items)", offset: nil) }
                return .value(.list(Array(stride(from: start, to: stop, by: step)).map { .int($0) }))
            })
        case "lookup", "query", "q":
            let wantList = name != "lookup"
            return .callable(Callable(name: name) { [unowned self] args, kwargs in
                guard let plugin = args.first else { throw RuntimeFailure(message: "\(name)() needs the name of a lookup plugin", offset: nil) }
                guard let hook = self.hooks.lookup else { throw RuntimeFailure(message: "lookups are not available here", offset: nil) }
                let terms = try args.dropFirst().map { try self.defined($0) }
                var options: [String: Value] = [:]
                for (k, v) in kwargs { options[k] = try self.defined(v) }
                let wantsList = wantList || options["wantlist"]?.truthy == true
                options["wantlist"] = nil
                do {
                    let result = try hook(try self.defined(plugin).pythonText, terms, options)
                    if wantsList { return .value(result) }
                    // lookup() joins the results with commas, a single one is itself.
                    guard case .list(let l) = result else { return .value(result) }
                    if l.count == 1 { return .value(l[0]) }
                    return .str(l.map(\.pythonText).joined(separator: ","))
                } catch let e as TemplateError {
                    throw RuntimeFailure(message: e.message, offset: nil)
                }
            })
        case "dict":
            return .callable(Callable(name: "dict") { [unowned self] args, kwargs in
                var m = OrderedMap()
                if let first = args.first {
                    switch try self.defined(first) {
                    case .map(let given): m = given
                    case .list(let pairs):
                        for p in pairs {
                            guard case .list(let kv) = p, kv.count == 2 else { throw RuntimeFailure(message: "dict() takes pairs", offset: nil) }
                            m[kv[0].pythonText] = kv[1]
                        }
                    case let other: throw RuntimeFailure(message: "'\(other.pythonType)' object is not iterable", offset: nil)
                    }
                }
                for (k, v) in kwargs { m[k] = try self.defined(v) }
                return .value(.map(m))
            })
        case "namespace":
            return .callable(Callable(name: "namespace") { [unowned self] args, kwargs in
                var m: [String: Value] = [:]
                if let first = args.first, case .map(let given) = try self.defined(first) { m = given.dictionary }
                for (k, v) in kwargs { m[k] = try self.defined(v) }
                return .namespace(Namespace(m))
            })
        case "caller":
            return callerStack.last.map { .callable($0) }
        default:
            guard let function = hooks.functions[name] else { return nil }
            return .callable(Callable(name: name) { [unowned self] args, kwargs in
                var named: [String: Value] = [:]
                for (k, v) in kwargs { named[k] = try self.defined(v) }
                do { return .value(try function(try args.map { try self.defined($0) }, named)) } catch let e as TemplateError {
                    throw RuntimeFailure(message: e.message, offset: nil)
                }
            })
        }
    }
}
