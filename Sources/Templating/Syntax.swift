/// The syntax tree of a template: statements (`Node`) and expressions (`Expr`), each with the
/// offset in the template's text it came from (for errors).
indirect enum Expr: Sendable {
    case literal(Value)
    case name(String, Int)
    case list([Expr])
    case tuple([Expr])
    case dict([(Expr, Expr)])
    case attribute(Expr, String, Int)
    case index(Expr, Expr, Int)
    case slice(Expr, Expr?, Expr?, Expr?, Int)
    case call(Expr, [Expr], [(String, Expr)], Int)
    case filter(Expr?, String, [Expr], [(String, Expr)], Int)
    case test(Expr, String, [Expr], Bool, Int)
    case unary(String, Expr, Int)
    case binary(String, Expr, Expr, Int)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case not(Expr)
    case compare(Expr, [(String, Expr)], Int)
    case conditional(Expr, Expr, Expr?)
    case concat([Expr], Int)
}

/// What a `set` or a `for` assigns to: a name, a tuple of them, or a namespace's attribute.
enum Target: Sendable {
    case name(String)
    case tuple([Target])
    case attribute(String, String)
}

indirect enum Node: Sendable {
    case text(String)
    case output(Expr, Int)
    case ifBlock([(Expr, [Node])], [Node])
    case forBlock(target: Target, iterable: Expr, filter: Expr?, body: [Node], otherwise: [Node], recursive: Bool, offset: Int)
    case set(Target, Expr, Int)
    case setBlock(String, [Node], (name: String, args: [Expr], kwargs: [(String, Expr)])?)
    case macro(name: String, parameters: [(String, Expr?)], body: [Node])
    case callBlock(call: Expr, parameters: [(String, Expr?)], body: [Node], offset: Int)
    case filterBlock([(name: String, args: [Expr], kwargs: [(String, Expr)], offset: Int)], [Node])
    case include(Expr, ignoreMissing: Bool, offset: Int)
    /// `{% import 'file' as name %}` (names empty) or `{% from 'file' import a, b as c %}`.
    case importing(Expr, alias: String?, names: [(name: String, alias: String)], withContext: Bool, offset: Int)
    case with([(Target, Expr)], [Node])
}
