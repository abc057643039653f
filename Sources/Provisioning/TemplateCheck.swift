import Foundation
import ParcCore

/// Before anything runs: every filter and test a playbook's templates use must exist.
enum TemplateCheck {
    static func check(_ plays: [Play]) throws {
        for play in plays {
            for t in play.tasks + play.handlers { try check(t) }
        }
    }

    static func check(_ t: TaskSpec) throws {
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
        for text in texts {
            for m in text.matches(of: /lookup\(\s*['"]([A-Za-z_.]+)['"]/) where !["file", "env"].contains(String(m.1)) {
                throw PlaybookError("lookup('\(m.1)') is not supported by parc yet (file and env are) (task '\(t.name)')", at: t.location)
            }
            for name in filters(in: text) where !TemplateEngine.filterNames.contains(name) {
                throw PlaybookError("the filter or test '\(name)' is not supported by parc yet (task '\(t.name)')", at: t.location)
            }
        }
        for child in t.block + t.rescue + t.always { try check(child) }
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
