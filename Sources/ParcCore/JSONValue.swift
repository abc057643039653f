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

    /// What JSONSerialization read (an answer of the API), as a JSONValue; objects' keys sorted.
    public static func from(_ any: Any) -> JSONValue {
        switch any {
        case let s as String: return .string(s)
        case let n as NSNumber:
            if String(cString: n.objCType) == "c" { return .bool(n.boolValue) }
            return .int(n.intValue)
        case let list as [Any]: return .array(list.map(from))
        case let object as [String: Any]: return .object(object.keys.sorted().map { ($0, from(object[$0]!)) })
        default: return .null
        }
    }
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
        String(decoding: bytes(indent: indent), as: UTF8.self)
    }

    /// The value on one line, as UTF-8 bytes: what a server sends (no String built on the way).
    public func compact() -> [UInt8] { bytes(indent: nil) }

    private func bytes(indent: Int?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out, indent: indent)
        return out
    }

    /// Writes the value; `indent` nil: on one line, else two spaces a level, one member a line.
    private func write(to out: inout [UInt8], indent: Int?) {
        switch self {
        case .string(let s): Self.escape(s, into: &out)
        case .int(let n): out.append(contentsOf: String(n).utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .null: out.append(contentsOf: "null".utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            let inner = indent.map { $0 + 1 }
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if let inner { Self.newline(&out, inner) }
                item.write(to: &out, indent: inner)
            }
            if let indent, !items.isEmpty { Self.newline(&out, indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let pairs):
            out.append(UInt8(ascii: "{"))
            let inner = indent.map { $0 + 1 }
            for (i, (key, value)) in pairs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if let inner { Self.newline(&out, inner) }
                Self.escape(key, into: &out)
                out.append(UInt8(ascii: ":"))
                if inner != nil { out.append(UInt8(ascii: " ")) }
                value.write(to: &out, indent: inner)
            }
            if let indent, !pairs.isEmpty { Self.newline(&out, indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ out: inout [UInt8], _ level: Int) {
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * level))
    }

    /// Most strings need no escape: copied whole; else byte by byte.
    private static func escape(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: s.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
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
}
