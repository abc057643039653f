import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// template's `output_encoding`: the rendered text in the encoding Python's codecs name (glibc's
/// iconv knows the same names: `windows-1252`, `latin-1`, `utf-16`, …). As Python's strict
/// encoder, a character the encoding cannot hold is an error, not a guess.
enum OutputEncoding {
    /// Python's spellings iconv does not take as they are.
    private static let aliases = ["latin-1": "ISO-8859-1", "latin1": "ISO-8859-1", "cp1252": "WINDOWS-1252", "utf8": "UTF-8"]

    static func encode(_ text: String, as name: String) throws -> [UInt8] {
        let wanted = name.trimmingCharacters(in: .whitespaces)
        if wanted.isEmpty || ["utf-8", "utf8", "utf_8"].contains(wanted.lowercased()) { return Array(text.utf8) }
        let iconvName = aliases[wanted.lowercased()] ?? wanted.replacingOccurrences(of: "_", with: "-").uppercased()
        let converter = iconv_open(iconvName, "UTF-8")
        guard let converter, converter != iconv_t(bitPattern: -1) else {
            throw ModuleFailure("output_encoding: unknown encoding: \(name)")
        }
        defer { iconv_close(converter) }
        var input = Array(text.utf8).map { CChar(bitPattern: $0) }
        var output = [UInt8](repeating: 0, count: max(64, input.count * 4 + 8))
        let inputCount = input.count
        let written: Int = try input.withUnsafeMutableBufferPointer { inBuffer in
            try output.withUnsafeMutableBufferPointer { outBuffer in
                var inPointer: UnsafeMutablePointer<CChar>? = inBuffer.baseAddress
                var inLeft = inputCount
                var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuffer.baseAddress!).assumingMemoryBound(to: CChar.self)
                var outLeft = outBuffer.count
                if iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft) == -1 {
                    let offset = inputCount - inLeft
                    let done = String(decoding: Array(text.utf8).prefix(offset), as: UTF8.self)
                    let character = text.dropFirst(done.count).first.map(String.init) ?? "?"
                    throw ModuleFailure("'\(name)' codec can't encode character '\(character)' in position \(done.count): the rendered template holds a character \(name) has no code for")
                }
                return outBuffer.count - outLeft
            }
        }
        return Array(output.prefix(written))
    }
}
