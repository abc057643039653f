import Foundation

/// `multipart/form-data` bodies (RFC 7578 over RFC 2046): a file sent from a form.
///
/// Linear in the body's size whatever it holds: the boundary (at most 70 characters, as RFC 2046
/// says) is searched with Knuth–Morris–Pratt, each part's header end with a single scan, and the
/// number of parts is bounded. A body that is not what it claims gives nil, never a partial read.
public enum Multipart {
    public struct Part: Sendable, Equatable {
        public var name: String
        public var filename: String?
        public var body: [UInt8]
    }

    /// RFC 2046: a boundary is 1 to 70 characters.
    public static let maxBoundaryLength = 70
    /// More parts than any form of parc sends.
    public static let maxParts = 64

    /// The boundary a `Content-Type` names, or nil when it is not `multipart/form-data` or its
    /// boundary is empty, too long, or holds characters RFC 2046 does not allow.
    public static func boundary(of contentType: String) -> String? {
        let fields = contentType.split(separator: ";").map { $0.trimmingSpaces }
        guard let kind = fields.first, kind.lowercased() == "multipart/form-data" else { return nil }
        for field in fields.dropFirst() where field.lowercased().hasPrefix("boundary=") {
            var value = Substring(field.dropFirst("boundary=".count))
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
            let allowed = "'()+_,-./:=? "
            guard (1...maxBoundaryLength).contains(value.utf8.count), value.last != " ",
                  value.unicodeScalars.allSatisfy({ $0.isASCII && (($0.properties.isAlphabetic || ("0"..."9").contains($0)) || allowed.unicodeScalars.contains($0)) })
            else { return nil }
            return String(value)
        }
        return nil
    }

    public static func parse(_ body: [UInt8], contentType: String) -> [Part]? {
        guard let boundary = boundary(of: contentType) else { return nil }
        // Every delimiter but the first follows a CRLF; searching "\r\n--boundary" in the body
        // with a CRLF before it finds the first one too.
        let delimiter: [UInt8] = [13, 10] + Array(("--" + boundary).utf8)
        var text: [UInt8] = [13, 10]
        text.reserveCapacity(body.count + 2)
        text.append(contentsOf: body)
        let found = occurrences(of: delimiter, in: text, limit: maxParts + 2)
        guard found.count >= 2, found.count <= maxParts + 1 else { return nil }
        var parts: [Part] = []
        for (k, start) in found.enumerated() {
            var i = start + delimiter.count
            // The close delimiter: "--" right after the boundary.
            if i + 1 < text.count && text[i] == 45 && text[i + 1] == 45 { return k == 0 ? nil : parts }
            guard k + 1 < found.count else { return nil }    // a part with no delimiter after it
            // Transport padding, then the CRLF ending the delimiter line.
            while i < text.count && (text[i] == 32 || text[i] == 9) { i += 1 }
            guard i + 1 < text.count, text[i] == 13, text[i + 1] == 10 else { return nil }
            i += 2
            let end = found[k + 1]
            guard i <= end, let part = part(text[i..<end]) else { return nil }
            parts.append(part)
        }
        return nil    // no close delimiter
    }

    /// One part: its headers up to the blank line, then its content.
    static func part(_ chunk: ArraySlice<UInt8>) -> Part? {
        var split: Int? = nil
        var i = chunk.startIndex
        while i + 3 < chunk.endIndex {
            if chunk[i] == 13 && chunk[i + 1] == 10 && chunk[i + 2] == 13 && chunk[i + 3] == 10 { split = i; break }
            i += 1
        }
        // Every part of a form has headers (its Content-Disposition), so a blank line ends them.
        guard let split, split - chunk.startIndex <= 8 * 1024 else { return nil }
        let head = String(decoding: chunk[chunk.startIndex..<split], as: UTF8.self)
        var name: String?, filename: String?
        for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
            for attribute in line.split(separator: ";").dropFirst().map({ $0.trimmingSpaces }) {
                guard let eq = attribute.firstIndex(of: "=") else { continue }
                let key = attribute[..<eq].lowercased()
                var value = attribute[attribute.index(after: eq)...]
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
                if key == "name" { name = String(value) }
                if key == "filename" { filename = String(value) }
            }
        }
        guard let name else { return nil }
        return Part(name: name, filename: filename, body: Array(chunk[(split + 4)...]))
    }

    /// Where `pattern` starts in `text`, in order (Knuth–Morris–Pratt: linear in `text`), at most `limit` of them.
    static func occurrences(of pattern: [UInt8], in text: [UInt8], limit: Int) -> [Int] {
        guard !pattern.isEmpty else { return [] }
        var failure = [Int](repeating: 0, count: pattern.count)
        var k = 0
        for i in 1..<max(1, pattern.count) {
            while k > 0 && pattern[i] != pattern[k] { k = failure[k - 1] }
            if pattern[i] == pattern[k] { k += 1 }
            failure[i] = k
        }
        var out: [Int] = []
        k = 0
        for (i, byte) in text.enumerated() {
            while k > 0 && byte != pattern[k] { k = failure[k - 1] }
            if byte == pattern[k] { k += 1 }
            if k == pattern.count {
                out.append(i - pattern.count + 1)
                if out.count >= limit { break }
                k = 0    // delimiters do not overlap
            }
        }
        return out
    }
}

extension StringProtocol {
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
