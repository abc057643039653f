import Foundation
import ParcCore

/// HTML to PDF through WeasyPrint (Debian's `weasyprint`), which reads CSS paged media: page size,
/// running headers, page numbers. The command line's `--format pdf` and the portal's
/// `rapport.pdf` render the same way.
public enum ReportPDF {
    /// Where WeasyPrint is, if installed.
    public static var tool: String? {
        ["/usr/bin/weasyprint", "/usr/local/bin/weasyprint"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public static func render(_ html: String) throws -> [UInt8] {
        guard let tool else { throw AppError("a PDF needs WeasyPrint: install it (apt-get install weasyprint), or print the HTML page") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-pdf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("rapport.html"), target = dir.appendingPathComponent("rapport.pdf")
        try Data(html.utf8).write(to: source)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = ["--quiet", "--encoding", "utf-8", source.path, target.path]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        p.standardError = errors
        try p.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, let pdf = FileManager.default.contents(atPath: target.path) else {
            throw AppError("WeasyPrint could not make the PDF: \(String(decoding: message, as: UTF8.self).trimmed)")
        }
        return [UInt8](pdf)
    }
}
