import Foundation
import ParcCore

/// Before anything runs: every filter and test a playbook's templates use must exist.
enum TemplateCheck {
    static func check(_ plays: [Play], directory: String) throws {
        for play in plays {
            for t in play.tasks + play.handlers { try check(t, directory: directory) }
        }
    }

    static func check(_ t: TaskSpec, directory: String) throws {
        // Conditions are bare expressions; elsewhere only what stands inside {{ }} and {% %}.
        var texts: [String] = t.when + [t.changedWhen, t.failedWhen].compactMap { $0 } + expressions(in: t.name)
        func walk(_ v: Value) {
            switch v {
            case .string(let s): texts += expressions(in: s)
            case .list(let l): l.forEach(walk)
            case .map(let m): m.values.forEach(walk)
            default: break
            }
        }
        t.args.values.forEach(walk)
        t.vars.values.forEach(walk)
        if let loop = t.loop { walk(loop) }
        // A template file named plainly is checked too (one named by a variable is checked when rendered).
        if t.module == "template", let src = t.args["src"]?.string, !src.contains("{{"),
           let path = try? CopyModule.localFile(src, in: t.directory ?? directory, folder: "templates"),
           let data = FileManager.default.contents(atPath: path) {
            let body = TemplateEngine.applyHeader(String(decoding: data, as: UTF8.self))
            try TemplateEngine.checkNesting(body, at: SourceLocation(file: path, line: 1, column: 1))
            for text in expressions(in: body) {
                for name in filters(in: text) where !TemplateEngine.filterNames.contains(name) {
                    throw PlaybookError("the filter or test '\(name)' is not supported by parc yet (template \(src), task '\(t.name)')",
                                        at: SourceLocation(file: path, line: line(of: text, in: body), column: 1))
                }
            }
        }
        for text in texts {
            for m in text.matches(of: /lookup\(\s*['"]([A-Za-z_.]+)['"]/) where !["file", "env"].contains(String(m.1)) {
                throw PlaybookError("lookup('\(m.1)') is not supported by parc yet (file and env are) (task '\(t.name)')", at: t.location)
            }
            for name in filters(in: text) where !TemplateEngine.filterNames.contains(name) {
                throw PlaybookError("the filter or test '\(name)' is not supported by parc yet (task '\(t.name)')", at: t.location)
            }
        }
        for child in t.block + t.rescue + t.always { try check(child, directory: directory) }
    }

    static func line(of fragment: String, in text: String) -> Int {
        guard let r = text.range(of: fragment) else { return 1 }
        return text[..<r.lowerBound].filter { $0 == "\n" }.count + 1
    }

    /// The insides of the `{{ }}` and `{% %}` of a text.
    static func expressions(in text: String) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while let open = [rest.range(of: "{{"), rest.range(of: "{%")].compactMap({ $0 }).min(by: { $0.lowerBound < $1.lowerBound }) {
            let closing = rest[open] == "{{" ? "}}" : "%}"
            guard let close = rest[open.upperBound...].range(of: closing) else { break }
            out.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return out
    }

    /// Filter names after `|` and test names after `is` (outside string literals).
    static func filters(in text: String) -> [String] {
        var names: [String] = []
        var stripped = ""
        var quote: Character? = nil
        for c in text {
            if let q = quote { if c == q { quote = nil }; continue }
            if c == "\"" || c == "'" { quote = c; continue }
            stripped.append(c)
        }
        for m in stripped.matches(of: /\|\s*([A-Za-z_][A-Za-z0-9_]*)/) { names.append(String(m.1)) }
        for m in stripped.matches(of: /\bis\s+(?:not\s+)?([A-Za-z_][A-Za-z0-9_]*)/) { names.append("test:" + String(m.1)) }
        return names
    }
}
