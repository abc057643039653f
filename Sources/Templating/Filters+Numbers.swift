import Foundation

extension Filters {
    /// Numbers: `int`, `float`, `abs`, `round`, `min`, `max`, `sum`.
    static func numbers(into t: inout [String: Filter]) {
        t["int"] = value { v, a in
            let fallback = a.get(0, "default") ?? .int(0)
            switch v {
            case .int: return v
            case .double(let d): return .int(Int(d))
            case .bool(let b): return .int(b ? 1 : 0)
            case .string(let s):
                let base = a.int(1, "base") ?? 10
                let trimmed = s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
                if base != 10 {
                    var digits = trimmed.lowercased()
                    for p in ["0x", "0o", "0b"] where digits.hasPrefix(p) { digits.removeFirst(2) }
                    return Int(digits, radix: base).map(Value.int) ?? fallback
                }
                if let i = Int(trimmed) { return .int(i) }
                if let d = Double(trimmed), d.isFinite { return .int(Int(d)) }
                return fallback
            default: return fallback
            }
        }
        t["float"] = value { v, a in
            switch v {
            case .double: return v
            case .int(let i): return .double(Double(i))
            case .bool(let b): return .double(b ? 1 : 0)
            case .string(let s): return Double(s.trimmingCharacters(in: .whitespaces)).map(Value.double) ?? (a.get(0, "default") ?? .double(0))
            default: return a.get(0, "default") ?? .double(0)
            }
        }
        t["abs"] = value { v, _ in
            switch v {
            case .int(let i): return .int(abs(i))
            case .double(let d): return .double(abs(d))
            default: throw fail("bad operand type for abs(): '\(v.pythonType)'")
            }
        }
        t["round"] = value { v, a in
            guard let n = Operators.number(v) else { throw fail("round: a number is required, not \(v.pythonType)") }
            let precision = a.int(0, "precision") ?? 0
            let method = a.string(1, "method") ?? "common"
            let scale = pow(10, Double(precision))
            let x = Operators.double(n) * scale
            let r: Double = method == "ceil" ? x.rounded(.up) : method == "floor" ? x.rounded(.down) : x.rounded(.toNearestOrEven)
            return .double(r / scale)
        }
        for name in ["min", "max"] {
            t[name] = value { v, a in
                let l = try items(v, name)
                guard !l.isEmpty else { return .null }
                let sortedItems = try sorted(l, caseSensitive: a.bool(-1, "case_sensitive"), attribute: a.string(-1, "attribute"), reverse: false)
                return name == "min" ? sortedItems.first! : sortedItems.last!
            }
        }
        t["sum"] = value { v, a in
            var total = a.get(1, "start") ?? .int(0)
            let attribute = a.string(0, "attribute")
            for item in try items(v, "sum") {
                let x = attribute.flatMap { attributePath(item, $0) } ?? item
                total = try Operators.binary("+", total, x, at: nil)
            }
            return total
        }
    }
}
