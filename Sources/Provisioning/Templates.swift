import Foundation
import ParcCore
import Templating

/// Playbook templating: parc's Jinja engine (the Templating target) with what a run adds —
/// lookups on the control node, password hashing, `{% include %}` from the playbook's
/// `templates/`, and errors as `PlaybookError`s with the file, line and a caret.
public final class TemplateEngine: Sendable {
    /// One cache for the process: what the loader read to check a playbook is what runs use.
    static let sharedCache = TemplateCache()
    let cache = TemplateEngine.sharedCache

    public init() {}

    /// Reads `text` once (cached); a syntax error, an unknown filter or test is reported here.
    public func template(_ text: String, options: TemplateOptions = .playbook, at location: SourceLocation? = nil) throws -> Template {
        do { return try cache.template(text, options: options) } catch { throw Self.playbookError(error, text: text, options: options, at: location) }
    }

    /// Renders `text` with `vars`; errors name `location`.
    public func render(_ text: String, vars: [String: Value], at location: SourceLocation? = nil, options: TemplateOptions = .playbook) throws -> String {
        guard Self.mayHoldMarkup(text, options) else { return text }
        let t = try template(text, options: options, at: location)
        do { return try t.render(vars, in: environment(vars)) } catch { throw Self.playbookError(error, text: text, options: options, at: location) }
    }

    /// Renders every string inside `value` with Ansible 2.19's typing: a string that prints one
    /// `{{ expression }}` gives its value (number, boolean, list, mapping, None), any other its text.
    public func evaluate(_ value: Value, vars: [String: Value], at location: SourceLocation? = nil) throws -> Value {
        switch value {
        case .string(let s):
            guard Self.mayHoldMarkup(s, .playbook) else { return value }
            let t = try template(s, at: location)
            do { return try t.evaluate(vars, in: environment(vars)) } catch { throw Self.playbookError(error, text: s, options: .playbook, at: location) }
        case .list(let items): return .list(try items.map { try evaluate($0, vars: vars, at: location) })
        case .map(let m): return .map(try m.mapValues { try evaluate($0, vars: vars, at: location) })
        default: return value
        }
    }

    /// A condition (`when`, `changed_when`, `failed_when`, `until`, assert's `that`) as Ansible
    /// 2.19 evaluates it: a bare Jinja expression (or one template) whose value is a boolean.
    public func condition(_ expression: String, vars: [String: Value], at location: SourceLocation? = nil) throws -> Bool {
        let e = expression.trimmed
        do {
            return try Template.condition(e, vars: vars, in: environment(vars), cache: cache)
        } catch {
            var error = error
            if !(e.contains("{{") || e.contains("{%")) { error.column = max(1, error.column - 3) }
            throw Self.playbookError(error, text: e, options: .playbook, at: location, what: "the condition '\(e)'")
        }
    }

    /// Why a lookup is refused, in one place for the load-time check and the run.
    static func lookupRefusal(_ plugin: String) -> String {
        if ["pipe", "ansible.builtin.pipe", "lines", "ansible.builtin.lines"].contains(plugin) {
            return "lookup('\(plugin)') is not supported by parc, by design: it runs a command on the control node — on a shared parc server every "
                + "playbook author would get a shell there, and a device's data in its text would choose the command"
        }
        return "lookup('\(plugin)') is not supported by parc (file, env, template, first_found, password, list, items, indexed_items, dict, sequence, nested and together are)"
    }

    /// Checks `text` reads as a template (at load, before anything runs).
    public func check(_ text: String, options: TemplateOptions = .playbook, at location: SourceLocation?) throws {
        guard Self.mayHoldMarkup(text, options) else { return }
        let t = try template(text, options: options, at: location)
        for plugin in t.lookupPlugins where !Self.lookupPlugins.contains(plugin) {
            throw PlaybookError(Self.lookupRefusal(plugin), at: location)
        }
    }

    static let lookupPlugins: Set<String> = {
        let names = ["file", "env", "template", "first_found", "password", "list", "items", "indexed_items", "dict", "sequence", "nested", "together"]
        return Set(names + names.map { "ansible.builtin." + $0 })
    }()

    /// Checks a condition reads.
    public func checkCondition(_ expression: String, at location: SourceLocation?) throws {
        let e = expression.trimmed
        if e.contains("{{") || e.contains("{%") { return try check(e, at: location) }
        do { _ = try cache.template("{{ " + e + " }}", options: .condition) } catch {
            var error = error
            error.column = max(1, error.column - 3)
            throw Self.playbookError(error, text: e, options: .playbook, at: location, what: "the condition '\(e)'")
        }
    }

    static func mayHoldMarkup(_ text: String, _ options: TemplateOptions) -> Bool {
        text.contains(options.variableStart) || text.contains(options.blockStart) || text.contains(options.commentStart) || text.hasPrefix("#jinja2:")
    }

    /// A path's value inside `vars` (`a.b.0`).
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

    /// A template error as a playbook error: in a template file, its own line and column; in a
    /// playbook string, the task's place and the string itself with a caret.
    static func playbookError(_ error: TemplateError, text: String, options: TemplateOptions, at location: SourceLocation?, what: String? = nil) -> PlaybookError {
        let isFile = !options.rawStringsInVariables
        if isFile, let location {
            return PlaybookError("template error: \(error.message)", at: SourceLocation(file: location.file, line: error.line, column: error.column),
                                 sourceLine: error.sourceLine)
        }
        let shown = TextRules.visible(text, max: 300)
        var message = "template error in \(what ?? "'\(shown)'"): \(error.message)"
        if error.line > 0, let line = error.sourceLine, text.count <= 300 {
            message += "\n\n    \(TextRules.visible(line, max: 300))\n    \(String(repeating: " ", count: max(0, error.column - 1)))^ here"
        }
        return PlaybookError(message, at: location)
    }

    // MARK: Ansible's rules, and what templates reach on the control node

    /// The environment a playbook's templates run in: Ansible 2.19's rules on top of Jinja's —
    /// None prints as nothing (its finalize), trailing newlines kept (preserve_trailing_newlines),
    /// native values (a string of one `{{ }}` gives its value), conditions that must be booleans —
    /// and the control node's lookups, password hashing and includes.
    func environment(_ vars: [String: Value]) -> TemplateEnvironment {
        TemplateEnvironment.ansible(hooks: hooks(vars))
    }

    func hooks(_ vars: [String: Value]) -> TemplateHooks {
        // Ansible's search path: the role (and its tasks/), then the playbook's folder.
        let taskDir = vars["parc_task_dir"]?.string
        let dirs = [taskDir, taskDir.map { "\($0)/tasks" }, vars["parc_playbook_dir"]?.string].compactMap { $0 }
        return TemplateHooks(lookup: { [cache, self] plugin, terms, options in
            switch plugin {
            case "env", "ansible.builtin.env":
                return .list(terms.map { t in .string(getenv(t.pythonText).map { String(cString: $0) } ?? "") })
            case "file", "ansible.builtin.file":
                // Its options as Ansible's: rstrip (on by default) and lstrip, Python's str.strip of whitespace.
                let (lstrip, rstrip) = (options["lstrip"]?.truthy ?? false, options["rstrip"]?.truthy ?? true)
                return .list(try terms.map { t in
                    var content = Substring(String(decoding: try Self.controlFile(t.pythonText, dirs: dirs, folder: "files"), as: UTF8.self))
                    if lstrip { content = content.drop { $0.isWhitespace } }
                    if rstrip { while content.last?.isWhitespace == true { content.removeLast() } }
                    return .string(String(content))
                })
            case "list", "ansible.builtin.list":
                return .list(terms)
            case "items", "ansible.builtin.items":
                return .list(terms.flatMap { $0.list ?? [$0] })
            case "indexed_items", "ansible.builtin.indexed_items":
                return .list(LoopTerms.indexed(terms.flatMap { $0.list ?? [$0] }))
            case "dict", "ansible.builtin.dict":
                // In the mapping's own order, as Ansible's dict lookup.
                return .list(terms.flatMap { t -> [Value] in
                    guard case .map(let m) = t else { return [] }
                    return m.map { .map(["key": .string($0.key), "value": $0.value]) }
                })
            case "nested", "ansible.builtin.nested":
                return .list(LoopTerms.nested(terms.map { $0.list ?? [$0] }))
            case "together", "ansible.builtin.together":
                return .list(LoopTerms.together(terms.map { $0.list ?? [$0] }))
            case "sequence", "ansible.builtin.sequence":
                do { return .list(try terms.flatMap { try Runner.sequence($0.description, at: SourceLocation(file: "", line: 0, column: 0)).map { Value.string($0) } }) }
                catch let e as PlaybookError { throw TemplateError(e.message) }
            case "first_found", "ansible.builtin.first_found":
                let terms = options.isEmpty ? terms : terms + [.map(OrderedMap(options))]
                // As a lookup (not `with_first_found`), Ansible 2.19 looks in no subfolder: a name
                // under files/ is written `files/name`.
                do { return .list(try Self.firstFound(terms, dirs: dirs, folder: nil)) } catch { throw TemplateError("\(error)") }
            case "template", "ansible.builtin.template":
                // The template module's Jinja options (delimiters, trim_blocks…), and template_vars.
                let jinja: TemplateOptions
                do { jinja = try CopyModule.templateOptions(options) } catch { throw TemplateError("lookup('template'): \(error)") }
                var scope = vars
                if case .map(let extra)? = options["template_vars"] { for (k, v) in extra { scope[k] = v } }
                return .list(try terms.map { t in
                    let text = String(decoding: try Self.controlFile(t.pythonText, dirs: dirs, folder: "templates"), as: UTF8.self)
                    let template = try cache.template(text, options: jinja)
                    // With the same lookups and includes as a template task's file (its {% include %}s);
                    // a template that prints nothing gives None.
                    return try template.renderOrNone(scope, in: self.environment(scope))
                })
            case "password", "ansible.builtin.password":
                return .list(try terms.map { try Self.password($0.pythonText, options: options, dirs: dirs) })
            default:
                throw TemplateError(Self.lookupRefusal(plugin))
            }
        }, passwordHash: { password, scheme, salt, rounds in
            do { return try PasswordHash.hash(password, scheme: scheme, salt: salt, rounds: rounds) } catch { throw TemplateError("\(error)") }
        }, include: { name in
            guard let data = try? Self.controlFile(name, dirs: dirs, folder: "templates") else { return nil }
            return (String(decoding: data, as: UTF8.self), name)
        })
    }

    /// lookup('password', 'path length=… chars=… seed=…'): the password kept in `path` on the
    /// control node (its first word; relative to the playbook's folder, and never outside its
    /// tree), or a new one drawn as
    /// Ansible's random_password draws it — Python's Random(seed) with a seed — written there
    /// (mode 0600, its folder 0700) unless the path is /dev/null.
    static func password(_ term: String, options: [String: Value], dirs: [String]) throws -> Value {
        var words = term.split(separator: " ").map(String.init)
        guard !words.isEmpty else { throw TemplateError("lookup('password') needs a path") }
        var path = words.removeFirst()
        // A path with spaces: words up to the first key=value.
        while let next = words.first, !next.contains("=") { path += " " + next; words.removeFirst() }
        var params: [String: String] = [:]
        for w in words {
            guard let eq = w.firstIndex(of: "=") else { throw TemplateError("lookup('password'): '\(w)' is not key=value") }
            params[String(w[..<eq])] = String(w[w.index(after: eq)...])
        }
        for (k, v) in options { params[k] = v.list.map { $0.map(\.pythonText).joined(separator: ",") } ?? v.pythonText }
        for k in params.keys where !["length", "chars", "seed", "encrypt", "ident"].contains(k) {
            throw TemplateError("lookup('password'): unknown parameter '\(k)'")
        }
        if params["encrypt"] != nil { throw TemplateError("lookup('password') with encrypt is not supported by parc yet (hash it with password_hash)") }
        guard let length = Int(params["length"] ?? "20"), length > 0 else { throw TemplateError("lookup('password'): length must be a number") }
        let named = ["ascii_letters": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "ascii_lowercase": "abcdefghijklmnopqrstuvwxyz",
                     "ascii_uppercase": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "digits": "0123456789", "hexdigits": "0123456789abcdefABCDEF",
                     "octdigits": "01234567", "punctuation": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
                     "letters": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"]
        var groups: [String] = ["ascii_letters", "digits", ".,:-_"]
        if let chars = params["chars"] {
            // `,,` is a comma itself, as Ansible reads it.
            groups = chars.replacingOccurrences(of: ",,", with: "\u{0}").split(separator: ",").map { $0.replacingOccurrences(of: "\u{0}", with: ",") }
        }
        let alphabet = Array(groups.map { named[$0] ?? $0 }.joined().filter { $0 != "\"" && $0 != "'" })
        guard !alphabet.isEmpty else { throw TemplateError("lookup('password'): no characters to choose from") }
        var file = path == "/dev/null" || path.hasPrefix("/") ? path : ((dirs.last ?? ".") as NSString).appendingPathComponent(path)
        if file != "/dev/null" {
            // Kept only inside the playbook's tree (a host name in the path cannot lead out of it).
            file = PlaybookLoader.normalised(file)
            guard dirs.contains(where: { file.hasPrefix(PlaybookLoader.normalised($0) + "/") }) else {
                throw TemplateError("lookup('password'): \(path) is outside the playbook's folder; parc keeps passwords only inside it (or give /dev/null)")
            }
        }
        if file != "/dev/null", let data = FileManager.default.contents(atPath: file) {
            // The kept password: the file's first word (a ` salt=…` after it is Ansible's).
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return .string(String(text.split(separator: " ").first ?? ""))
        }
        var seeded = params["seed"].map { PythonRandom(seed: .string($0)) }
        let password = String((0..<length).map { _ in alphabet[seeded != nil ? seeded!.below(alphabet.count) : Int.random(in: 0..<alphabet.count)] })
        if file != "/dev/null" {
            let folder = (file as NSString).deletingLastPathComponent
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                guard FileManager.default.createFile(atPath: file, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                    throw TemplateError("cannot write \(file)")
                }
            } catch { throw TemplateError("lookup('password'): cannot keep the password in \(file): \(error)") }
        }
        return .string(password)
    }

    /// first_found: the first file that exists among the terms (names, lists of names, or
    /// `{files, paths, skip}`), looked for in `folder` (if any) of each of `dirs`, then in each of
    /// `dirs` itself; none: an error, or nothing with `skip`.
    static func firstFound(_ terms: [Value], dirs: [String], folder: String?) throws -> [Value] {
        func split(_ v: Value?, _ separators: Set<Character>) -> [String] {
            switch v {
            case .list(let l)?: return l.flatMap { split($0, separators) }
            case .string(let s)?: return s.split(whereSeparator: { separators.contains($0) }).map { String($0).trimmed }.filter { !$0.isEmpty }
            case let other?: return [other.description]
            case nil: return []
            }
        }
        var candidates: [String] = []
        var skip = false
        func walk(_ terms: [Value]) {
            for term in terms {
                switch term {
                case .map(let m):
                    let files = split(m["files"], [",", ";"]), paths = split(m["paths"], [",", ":", ";"])
                    skip = m["skip"]?.truthy ?? skip
                    candidates += paths.isEmpty ? files : paths.flatMap { p in files.map { (p as NSString).appendingPathComponent($0) } }
                case .list(let l): walk(l)
                default: candidates += split(term, [",", ";"])
                }
            }
        }
        walk(terms)
        for name in candidates {
            let places = name.hasPrefix("/") ? [name] : dirs.flatMap { dir in (folder.map { ["\(dir)/\($0)/\(name)"] } ?? []) + ["\(dir)/\(name)"] }
            if let found = places.first(where: { FileManager.default.fileExists(atPath: $0) }) { return [.string(PlaybookLoader.normalised(found))] }
        }
        if skip { return [] }
        throw PlaybookError("No file was found when using first_found.")
    }

    /// A file a lookup or include names: under the task's (role's) and the playbook's folder.
    static func controlFile(_ name: String, dirs: [String], folder: String) throws -> Data {
        let candidates = name.hasPrefix("/") ? [name] : dirs.flatMap { ["\($0)/\(folder)/\(name)", "\($0)/\(name)"] }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }),
              let data = FileManager.default.contents(atPath: found) else {
            throw TemplateError("could not find or access '\(name)' on the control node (looked in \(candidates.joined(separator: ", ")))")
        }
        return data
    }
}

/// The list-making rules shared by the `with_*` loops and the lookups of the same names.
enum LoopTerms {
    /// Every combination, the first list's items varying slowest (`with_nested`).
    static func nested(_ lists: [[Value]]) -> [Value] {
        guard let first = lists.first else { return [] }
        return lists.dropFirst().reduce(first.map { [$0] }) { acc, next in acc.flatMap { a in next.map { a + [$0] } } }.map { .list($0) }
    }

    /// Side by side, the shorter lists filled with None (`with_together`).
    static func together(_ lists: [[Value]]) -> [Value] {
        let length = lists.map(\.count).max() ?? 0
        return (0..<length).map { i in .list(lists.map { i < $0.count ? $0[i] : .null }) }
    }

    /// Each item with its index (`with_indexed_items`).
    static func indexed(_ items: [Value]) -> [Value] {
        items.enumerated().map { .list([.int($0.offset), $0.element]) }
    }
}

extension TemplateEnvironment {
    /// Ansible 2.19's rules for templates, with `hooks` for what they reach.
    public static func ansible(hooks: TemplateHooks = TemplateHooks()) -> TemplateEnvironment {
        var hooks = hooks
        hooks.functions["now"] = { args, kwargs in try ansibleNow(args, kwargs) }
        return TemplateEnvironment(hooks: hooks, printsNoneAsNothing: true, keepsTrailingNewlines: true, nativeValues: true, booleanConditions: true)
    }

    /// Ansible's `now(utc=False, fmt=None)`: the control node's time, local or UTC, formatted by
    /// Python's strftime (`%f` its microseconds) — or, without `fmt`, as str() of a datetime
    /// (parc has no datetime values: its text, `2026-12-08 01:58:00.123456`).
    static func ansibleNow(_ args: [Value], _ kwargs: [String: Value], at date: Date = Date()) throws -> Value {
        let utc = (kwargs["utc"] ?? args.first)?.truthy ?? false
        let format = (kwargs["fmt"] ?? (args.count > 1 ? args[1] : nil)).flatMap { $0 == .null ? nil : $0.pythonText }
        let seconds = date.timeIntervalSince1970
        var whole = time_t(seconds.rounded(.down))
        let micro = Int((seconds - seconds.rounded(.down)) * 1_000_000)
        var parts = tm()
        if utc { gmtime_r(&whole, &parts) } else { localtime_r(&whole, &parts) }
        let pattern = (format ?? "%Y-%m-%d %H:%M:%S.%f").replacingOccurrences(of: "%f", with: String(format: "%06d", micro))
        var buffer = [CChar](repeating: 0, count: 512)
        let n = strftime(&buffer, buffer.count, pattern, &parts)
        guard n > 0 || pattern.isEmpty else { throw TemplateError("now(): the format '\(pattern)' gives no text", line: 0, column: 0) }
        return .string(String(cString: buffer))
    }
}
