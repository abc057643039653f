import Foundation
import ParcCore
import Stencil

extension TemplateEngine {
    /// Ansible's (Jinja's) filter names on Stencil.
    static func registerFilters(_ ext: Extension, capture: CaptureBox) {
        func text(_ v: Any?) -> String { v.map { Value(any: $0).description } ?? "" }
        func arg(_ a: [Any?], _ i: Int) -> Any? { i < a.count ? a[i] : nil }

        ext.registerFilter("parc_capture") { (value: Any?) in capture.set(value); return "" }
        ext.registerFilter("parc_defined") { (value: Any?) in value != nil }
        for name in ["default", "d"] {
            ext.registerFilter(name) { (value: Any?, args: [Any?]) in
                let fallback = arg(args, 0)
                if value == nil { return fallback }
                if Value(any: arg(args, 1)).truthy, !Value(any: value).truthy { return fallback }
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
        ext.registerFilter("to_nice_json") { (v: Any?) in Value(any: v).json }
        ext.registerFilter("basename") { (v: Any?) in (text(v) as NSString).lastPathComponent }
        ext.registerFilter("dirname") { (v: Any?) in (text(v) as NSString).deletingLastPathComponent }
        ext.registerFilter("b64encode") { (v: Any?) in Data(text(v).utf8).base64EncodedString() }
        ext.registerFilter("b64decode") { (v: Any?) in Data(base64Encoded: text(v)).map { String(decoding: $0, as: UTF8.self) } ?? "" }
        ext.registerFilter("mandatory") { (v: Any?) in
            guard let v else { throw TemplateSyntaxError("a mandatory variable is undefined") }
            return v
        }
    }
}
