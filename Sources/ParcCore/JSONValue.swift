import Foundation

/// A JSON value with its keys kept in order, so that `--json` output reads like the table.
public enum JSONValue: Equatable, Sendable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.serialized(indent: nil) == b.serialized(indent: nil) }

    public static func text(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
    public static func number(_ n: Int?) -> JSONValue { n.map(JSONValue.int) ?? .null }

    /// The plain text of a value, for tables and CSV cells.
    public var plain: String {
        switch self {
        case .string(let s): s
        case .int(let n): String(n)
        case .bool(let b): b ? "yes" : "no"
        case .null: ""
        case .array(let items): items.map(\.plain).joined(separator: " ")
        case .object(let pairs): pairs.map { "\($0.0)=\($0.1.plain)" }.joined(separator: " ")
        }
    }

    public func serialized(indent: Int? = 0) -> String {
        guard let indent else { return String(decoding: compact(), as: UTF8.self) }
        var out = ""
        write(to: &out, indent: indent)
        return out
    }

    /// The value on one line, as UTF-8 bytes: what a server sends (no String built on the way).
    public func compact() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        appendCompact(to: &out)
        return out
    }

    private func appendCompact(to out: inout [UInt8]) {
        switch self {
        case .string(let s): Self.escape(s, into: &out)
        case .int(let n): out.append(contentsOf: String(n).utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .null: out.append(contentsOf: "null".utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.appendCompact(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let pairs):
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in pairs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.escape(key, into: &out)
                out.append(UInt8(ascii: ":"))
                value.appendCompact(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func escape(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private func write(to out: inout String, indent: Int?) {
        let pad = indent.map { String(repeating: "  ", count: $0 + 1) }
        let closePad = indent.map { String(repeating: "  ", count: $0) } ?? ""
        let newline = indent == nil ? "" : "\n"
        switch self {
        case .string(let s): Self.escape(s, into: &out)
        case .int(let n): out += String(n)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[" + newline
            for (i, item) in items.enumerated() {
                out += pad ?? ""
                item.write(to: &out, indent: indent.map { $0 + 1 })
                out += (i < items.count - 1 ? "," : "") + newline
            }
            out += closePad + "]"
        case .object(let pairs):
            if pairs.isEmpty { out += "{}"; return }
            out += "{" + newline
            for (i, (key, value)) in pairs.enumerated() {
                out += pad ?? ""
                Self.escape(key, into: &out)
                out += indent == nil ? ":" : ": "
                value.write(to: &out, indent: indent.map { $0 + 1 })
                out += (i < pairs.count - 1 ? "," : "") + newline
            }
            out += closePad + "}"
        }
    }

    private static func escape(_ s: String, into out: inout String) {
        out += "\""
        // Most values need no escape: append them whole.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += s
            out += "\""
            return
        }
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}
