import Foundation
import ParcCore
import Stencil

extension TemplateEngine {
    /// Ansible's (Jinja's) filter names on Stencil.
    static func registerFilters(_ ext: Extension, capture: CaptureBox) {
        func text(_ v: Any?) -> String { v.map { Value(any: $0).description } ?? "" }
        func arg(_ a: [Any?], _ i: Int) -> Any? { i < a.count ? a[i] : nil }

        ext.registerFilter("parc_capture") { (value: Any?) in capture.set(value); return "" }
        // Jinja tests, as filters (see `rewrite`).
        ext.registerFilter("parc_is_defined") { (value: Any?) in value != nil }
        ext.registerFilter("parc_is_undefined") { (value: Any?) in value == nil }
        ext.registerFilter("parc_is_none") { (value: Any?) in value == nil }
        func status(_ v: Any?) -> [String: Value] { Value(any: v).map ?? [:] }
        ext.registerFilter("parc_is_succeeded") { (v: Any?) in !(status(v)["failed"]?.truthy ?? false) }
        ext.registerFilter("parc_is_success") { (v: Any?) in !(status(v)["failed"]?.truthy ?? false) }
        ext.registerFilter("parc_is_failed") { (v: Any?) in status(v)["failed"]?.truthy ?? false }
        ext.registerFilter("parc_is_failure") { (v: Any?) in status(v)["failed"]?.truthy ?? false }
        ext.registerFilter("parc_is_changed") { (v: Any?) in status(v)["changed"]?.truthy ?? false }
        ext.registerFilter("parc_is_skipped") { (v: Any?) in status(v)["skipped"]?.truthy ?? false }
        ext.registerFilter("parc_is_match") { (v: Any?, args: [Any?]) in
            (try? Regex(text(arg(args, 0)))).map { text(v).prefixMatch(of: $0) != nil } ?? false
        }
        ext.registerFilter("parc_is_search") { (v: Any?, args: [Any?]) in
            (try? Regex(text(arg(args, 0)))).map { text(v).firstMatch(of: $0) != nil } ?? false
        }
        ext.registerFilter("parc_is_string") { (v: Any?) in v is String }
        ext.registerFilter("parc_is_number") { (v: Any?) in v is Int || v is Double }
        ext.registerFilter("ternary") { (v: Any?, args: [Any?]) in Value(any: v).jinjaTruthy ? arg(args, 0) : arg(args, 1) }
        ext.registerFilter("comment") { (v: Any?) in text(v).split(separator: "\n", omittingEmptySubsequences: false).map { "# \($0)" }.joined(separator: "\n") }
        ext.registerFilter("regex_search") { (v: Any?, args: [Any?]) in
            (try? Regex(text(arg(args, 0)))).flatMap { text(v).firstMatch(of: $0).map { String(text(v)[$0.range]) } }
        }
        ext.registerFilter("to_yaml") { (v: Any?) in YAMLText.dump(Value(any: v)) }
        ext.registerFilter("to_nice_yaml") { (v: Any?) in YAMLText.dump(Value(any: v)) }
        ext.registerFilter("password_hash") { (v: Any?, args: [Any?]) in
            try PasswordHash.sha512(text(v), salt: arg(args, 1).map { text($0) })
        }
        for name in ["default", "d"] {
            ext.registerFilter(name) { (value: Any?, args: [Any?]) in
                let fallback = arg(args, 0)
                if value == nil { return fallback }
                if Value(any: arg(args, 1)).truthy, !Value(any: value).jinjaTruthy { return fallback }
                return value
            }
        }
        ext.registerFilter("lower") { (v: Any?) in text(v).lowercased() }
        ext.registerFilter("upper") { (v: Any?) in text(v).uppercased() }
        ext.registerFilter("capitalize") { (v: Any?) in let s = text(v).lowercased(); return s.prefix(1).uppercased() + s.dropFirst() }
        ext.registerFilter("title") { (v: Any?) in text(v).capitalized }
        ext.registerFilter("trim") { (v: Any?) in text(v).trimmed }
        ext.registerFilter("string") { (v: Any?) in text(v) }
        ext.registerFilter("replace") { (v: Any?, args: [Any?]) in text(v).replacingOccurrences(of: text(arg(args, 0)), with: text(arg(args, 1))) }
        ext.registerFilter("regex_replace") { (v: Any?, args: [Any?]) in
            text(v).replacingOccurrences(of: text(arg(args, 0)), with: text(arg(args, 1)).replacingOccurrences(of: #"\\(\d)"#, with: "\\$$1", options: .regularExpression),
                                         options: .regularExpression)
        }
        ext.registerFilter("join") { (v: Any?, args: [Any?]) in
            guard let list = Value(any: v).list else { return text(v) }
            return list.map(\.description).joined(separator: text(arg(args, 0)))
        }
        ext.registerFilter("split") { (v: Any?, args: [Any?]) in
            let sep = arg(args, 0).map { text($0) }
            return (sep.map { text(v).components(separatedBy: $0) } ?? text(v).split(separator: " ").map(String.init)) as [Any]
        }
        ext.registerFilter("bool") { (v: Any?) in Value(any: v).truthy }
        ext.registerFilter("int") { (v: Any?) in
            switch Value(any: v) {
            case .int(let i): return i
            case .double(let d): return Int(d)
            case .bool(let b): return b ? 1 : 0
            case let other: return Int(other.description.trimmed) ?? Int(Double(other.description.trimmed) ?? 0)
            }
        }
        ext.registerFilter("float") { (v: Any?) in Double(text(v)) ?? 0 }
        for name in ["length", "count"] {
            ext.registerFilter(name) { (v: Any?) in
                switch Value(any: v) {
                case .list(let l): return l.count
                case .map(let m): return m.count
                case .null: return 0
                case let other: return other.description.count
                }
            }
        }
        ext.registerFilter("first") { (v: Any?) in Value(any: v).list?.first?.any ?? text(v).first.map(String.init) }
        ext.registerFilter("last") { (v: Any?) in Value(any: v).list?.last?.any ?? text(v).last.map(String.init) }
        ext.registerFilter("unique") { (v: Any?) in
            var seen: [Value] = []
            for item in Value(any: v).list ?? [] where !seen.contains(item) { seen.append(item) }
            return seen.map { $0.any as Any }
        }
        ext.registerFilter("sort") { (v: Any?) in (Value(any: v).list ?? []).sorted { $0.description < $1.description }.map { $0.any as Any } }
        ext.registerFilter("reverse") { (v: Any?) in
            if let l = Value(any: v).list { return Array(l.reversed()).map { $0.any as Any } as Any }
            return String(text(v).reversed())
        }
        ext.registerFilter("list") { (v: Any?) in (Value(any: v).list ?? [Value(any: v)]).map { $0.any as Any } }
        ext.registerFilter("min") { (v: Any?) in (Value(any: v).list ?? []).min { $0.description < $1.description }?.any }
        ext.registerFilter("max") { (v: Any?) in (Value(any: v).list ?? []).max { $0.description < $1.description }?.any }
        ext.registerFilter("quote") { (v: Any?) in shellQuote(text(v)) }
        ext.registerFilter("to_json") { (v: Any?) in Value(any: v).json }
        ext.registerFilter("to_nice_json") { (v: Any?) in Value(any: v).niceJSON() }
        ext.registerFilter("basename") { (v: Any?) in (text(v) as NSString).lastPathComponent }
        ext.registerFilter("dirname") { (v: Any?) in (text(v) as NSString).deletingLastPathComponent }
        ext.registerFilter("b64encode") { (v: Any?) in Data(text(v).utf8).base64EncodedString() }
        ext.registerFilter("b64decode") { (v: Any?) in Data(base64Encoded: text(v)).map { String(decoding: $0, as: UTF8.self) } ?? "" }
        ext.registerFilter("dict2items") { (v: Any?) in
            (Value(any: v).map ?? [:]).sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value.any as Any] as [String: Any] }
        }
        ext.registerFilter("items2dict") { (v: Any?) in
            var out: [String: Any] = [:]
            for item in Value(any: v).list ?? [] { if let m = item.map, let k = m["key"] { out[k.description] = m["value"]?.any as Any } }
            return out
        }
        // Shallow merge, later mappings winning (Ansible's combine without recursive=True).
        ext.registerFilter("combine") { (v: Any?, args: [Any?]) in
            var out = Value(any: v).map ?? [:]
            for a in args { for (k, x) in Value(any: a).map ?? [:] { out[k] = x } }
            return Value.map(out).any
        }
        // map('attribute', 'name') and map('lower' | 'upper' | 'trim' | 'string' | 'int').
        ext.registerFilter("map") { (v: Any?, args: [Any?]) in
            let items = Value(any: v).list ?? []
            let how = text(arg(args, 0))
            switch how {
            case "attribute": return items.map { item in Self.lookup(text(arg(args, 1)), in: item.map ?? [:])?.any as Any }
            case "lower": return items.map { $0.description.lowercased() }
            case "upper": return items.map { $0.description.uppercased() }
            case "trim": return items.map { $0.description.trimmed }
            case "string": return items.map { $0.description }
            case "int": return items.map { Int($0.description.trimmed) ?? 0 }
            default: throw TemplateSyntaxError("map('\(how)') is not supported by parc yet (attribute, lower, upper, trim, string, int are)")
            }
        }
        ext.registerFilter("mandatory") { (v: Any?) in
            guard let v else { throw TemplateSyntaxError("a mandatory variable is undefined") }
            return v
        }
    }
}

extension TemplateEngine {
    /// Every filter and test (as `test:name`) templates may use: checked when a playbook is loaded.
    static let filterNames: Set<String> = [
        "default", "d", "lower", "upper", "capitalize", "title", "trim", "string", "replace", "regex_replace", "regex_search", "join", "split",
        "bool", "int", "float", "length", "count", "first", "last", "unique", "sort", "reverse", "list", "min", "max", "quote", "to_json",
        "to_nice_json", "to_yaml", "to_nice_yaml", "basename", "dirname", "b64encode", "b64decode", "mandatory", "ternary", "comment",
        "password_hash", "dict2items", "items2dict", "combine", "map", "parc_capture",
        "test:defined", "test:undefined", "test:none", "test:succeeded", "test:success", "test:failed", "test:failure", "test:changed",
        "test:skipped", "test:match", "test:search", "test:string", "test:number",
    ]
}

extension Value {
    /// JSON with four-space indentation, keys sorted (Ansible's to_nice_json).
    func niceJSON(_ level: Int = 0) -> String {
        let pad = String(repeating: "    ", count: level + 1), close = String(repeating: "    ", count: level)
        switch self {
        case .list(let l) where !l.isEmpty: return "[\n" + l.map { pad + $0.niceJSON(level + 1) }.joined(separator: ",\n") + "\n\(close)]"
        case .map(let m) where !m.isEmpty:
            return "{\n" + m.keys.sorted().map { "\(pad)\(jsonStringLiteral($0)): \(m[$0]!.niceJSON(level + 1))" }.joined(separator: ",\n") + "\n\(close)}"
        default: return json
        }
    }
}
