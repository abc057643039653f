import CQREncode
import Foundation
import InventoryStore
import ParcCore

/// A QR code's modules, made by libqrencode.
public struct QRMatrix: Sendable, Equatable {
    public let width: Int
    public let version: Int
    /// Row-major; true is a dark module.
    public let modules: [Bool]

    /// Encodes `text` (8-bit mode, error correction M).
    public init(_ text: String) throws {
        guard let code = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M) else {
            throw InvalidValue(field: "qr", value: text, problem: "libqrencode could not encode it (too long?)")
        }
        defer { QRcode_free(code) }
        width = Int(code.pointee.width)
        version = Int(code.pointee.version)
        modules = (0..<(width * width)).map { code.pointee.data[$0] & 1 == 1 }
    }

    public func isDark(_ x: Int, _ y: Int) -> Bool { modules[y * width + x] }

    /// An SVG drawing of the code with a quiet zone of 4 modules; `size` in millimetres; `label`:
    /// its text alternative (what the code holds, for screen readers).
    public func svg(size: Double, label: String? = nil) -> SafeHTML {
        let total = width + 8
        var path = ""
        for y in 0..<width {
            var x = 0
            while x < width {
                if isDark(x, y) {
                    var run = 1
                    while x + run < width && isDark(x + run, y) { run += 1 }
                    path += "M\(x + 4),\(y + 4)h\(run)v1h-\(run)z"
                    x += run
                } else {
                    x += 1
                }
            }
        }
        let named: SafeHTML = label.map { " role=\"img\" aria-label=\"\($0)\"><title>\($0)</title>" } ?? ">"
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(total) \(total)\" width=\"\(size)mm\" height=\"\(size)mm\" shape-rendering=\"crispEdges\""
            + named + "<rect width=\"\(total)\" height=\"\(total)\" fill=\"#fff\"/><path d=\"\(path)\" fill=\"#000\"/></svg>"
    }

    /// A binary PGM (P5) image, `scale` pixels per module with the quiet zone: what scanners read.
    public func pgm(scale: Int = 4) -> [UInt8] {
        let side = (width + 8) * scale
        var pixels = [UInt8](repeating: 255, count: side * side)
        for y in 0..<width {
            for x in 0..<width where isDark(x, y) {
                for dy in 0..<scale {
                    let row = ((y + 4) * scale + dy) * side
                    for dx in 0..<scale { pixels[row + (x + 4) * scale + dx] = 0 }
                }
            }
        }
        return Array("P5\n\(side) \(side)\n255\n".utf8) + pixels
    }
}

/// A printable sheet of asset labels (A4, 3 × 8): asset tag, serial, school and a QR code of the tag.
public enum LabelSheet {
    /// With `baseURL`, each QR code holds the device page's address in the portal
    /// (`BASE/materiels/SERIAL`): a phone's camera opens the device, after signing in.
    /// With `stylesheet` (an address), the sheet links its stylesheet instead of holding it (the
    /// portal, whose policy allows no inline style).
    public static func html(_ devices: [DeviceRow], title: String, baseURL: String? = nil, stylesheet: String? = nil) throws -> String {
        var b = HTML()
        b.head(title: title, linking: stylesheet, inline: css)
        b.html("<div class=\"planche\">\n")
        for d in devices {
            let code = d.assetTag ?? d.serial
            let content = baseURL.map { deviceURL(base: $0, serial: d.serial) } ?? code
            b.html("<div class=\"etiquette\">")
            b.html(try QRMatrix(content).svg(size: 22, label: "QR code : \(content)"))
            b.html("<div class=\"texte\"><p class=\"tag\">")
            b.text(code)
            b.html("</p><p>")
            b.text("N° de série : \(d.serial)")
            b.html("</p><p>")
            b.text(d.school.map { "\($0)\(d.uai.map { " (\($0))" } ?? "")" } ?? "Non affecté")
            b.html("</p>")
            if let room = d.room { b.html("<p>"); b.text(room); b.html("</p>") }
            if baseURL != nil { b.html("<p>Scannez pour ouvrir la fiche</p>") }
            else if d.assetTag == nil { b.html("<p class=\"alerte\">Sans n° d'inventaire : QR du n° de série</p>") }
            b.html("</div></div>\n")
        }
        b.html("</div>\n</body>\n</html>\n")
        return b.out
    }

    /// The portal's page of a device.
    public static func deviceURL(base: String, serial: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#")
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        return "\(trimmed)/materiels/\(serial.addingPercentEncoding(withAllowedCharacters: allowed) ?? serial)"
    }

    /// The sheet's stylesheet: A4, 3 × 8 labels.
    public static let css = """
        @page{size:A4;margin:10mm 7mm}body{font-family:"DejaVu Sans",Arial,sans-serif;margin:0}
        .planche{display:grid;grid-template-columns:repeat(3,64mm);grid-auto-rows:33.9mm;gap:0 2.5mm}
        .etiquette{display:flex;align-items:center;gap:2mm;padding:2mm;border:1px dashed #bbb;overflow:hidden;break-inside:avoid}
        .texte p{margin:0;font-size:7pt;line-height:1.25}.texte p.tag{font-size:10pt;font-weight:bold}.alerte{color:#a00}
        """
}
