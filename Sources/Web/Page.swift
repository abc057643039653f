import Foundation
import ParcCore

/// The pages of the portal, written as `SafeHTML` and text: what is not markup is escaped. No
/// inline script or style; one stylesheet of parc's own (``Page/css``).
struct HTMLWriter {
    private(set) var out = ""

    mutating func html(_ h: SafeHTML) { out += h.markup }
    mutating func text(_ s: String) { out += Self.escape(s) }

    static func escape(_ s: String) -> String { HTMLText.escape(s) }

    /// `<tag>text</tag>`.
    mutating func element(_ tag: String, _ content: String, class cls: String? = nil) {
        html(cls.map { "<\(SafeHTML(written: tag)) class=\"\($0)\">" } ?? "<\(SafeHTML(written: tag))>")
        text(content)
        html("</\(SafeHTML(written: tag))>\n")
    }

    mutating func link(_ href: String, _ label: String) {
        html("<a href=\"\(href)\">")
        text(label)
        html("</a>")
    }

    /// A paragraph saying there is nothing to show.
    mutating func empty(_ message: String) { element("p", message, class: "vide") }

    /// A table with a caption, column headers with `scope="col"` and, when `rowHeader`, the first
    /// cell of each row as a `scope="row"` header. Cells are `Cell`s: text, or a link.
    mutating func table(caption: String, _ header: [String], _ rows: [[Cell]], numeric: Set<Int> = [], rowHeader: Bool = false, empty: String? = nil) {
        if rows.isEmpty {
            if let empty { self.empty(empty) }
            return
        }
        html("<div class=\"tableau\"><table><caption>")
        text(caption)
        html("</caption><thead><tr>")
        for (i, h) in header.enumerated() {
            html(numeric.contains(i) ? "<th scope=\"col\" class=\"n\">" : "<th scope=\"col\">")
            text(h)
            html("</th>")
        }
        html("</tr></thead><tbody>")
        for row in rows {
            html("<tr>")
            for (i, cell) in row.enumerated() {
                let tag: SafeHTML = rowHeader && i == 0 ? "th" : "td"
                var attrs: SafeHTML = rowHeader && i == 0 ? " scope=\"row\"" : ""
                if numeric.contains(i) { attrs += " class=\"n\"" }
                html("<\(tag)\(attrs)>")
                cell.write(into: &self)
                html("</\(tag)>")
            }
            html("</tr>")
        }
        html("</tbody></table></div>\n")
    }

    /// A definition list of label → value (identity blocks); `ids` gives some values an id (a
    /// script fills them in later).
    mutating func facts(_ pairs: [(String, Cell)], ids: [String: String] = [:]) {
        html("<dl class=\"fiche\">")
        for (k, v) in pairs {
            html("<div><dt>")
            text(k)
            html(ids[k].map { "</dt><dd id=\"\($0)\">" } ?? "</dt><dd>")
            v.write(into: &self)
            html("</dd></div>")
        }
        html("</dl>\n")
    }
}

/// A table cell or a value in a definition list.
enum Cell: ExpressibleByStringLiteral {
    case text(String)
    case link(String, href: String)
    /// A state shown as a word and a symbol, never by colour alone.
    case badge(String, tone: String)
    /// Markup (its values escaped as it was made).
    case html(SafeHTML)

    init(stringLiteral value: String) { self = .text(value) }

    static func optional(_ s: String?, _ fallback: String = "—") -> Cell { .text(s.flatMap { $0.isEmpty ? nil : $0 } ?? fallback) }

    func write(into w: inout HTMLWriter) {
        switch self {
        case .text(let s): w.text(s)
        case .link(let label, let href): w.link(href, label)
        case .badge(let label, let tone):
            w.html("<span class=\"etat etat-\(tone)\">")
            w.text(label)
            w.html("</span>")
        case .html(let h): w.html(h)
        }
    }
}

/// A whole page: layout, navigation for the viewer's role, the content.
struct Page {
    var title: String
    var viewer: Viewer?
    /// The path of the page, to mark the current navigation entry.
    var path: String = ""
    var body = HTMLWriter()
    /// A short message shown at the top (after a form was sent).
    var notice: String?
    /// Reload the page every so many seconds (work in progress); with `script`, only without JavaScript.
    var refresh: Int?
    /// The console's script (live progress through server-sent events), parc's own file.
    var script = false
    /// An error shown at the top, as an alert.
    var alert: String?

    init(_ title: String, viewer: Viewer?, path: String = "") {
        self.title = title
        self.viewer = viewer
        self.path = path
    }

    func render() -> String {
        var w = HTMLWriter()
        w.html("<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
        w.text("\(title) — parc")
        w.html("</title>\n<link rel=\"stylesheet\" href=\"/static/parc.css\">\n")
        if let refresh { w.html(script ? "<noscript><meta http-equiv=\"refresh\" content=\"\(refresh)\"></noscript>\n" : "<meta http-equiv=\"refresh\" content=\"\(refresh)\">\n") }
        if script { w.html("<script src=\"/static/console.js\" defer></script>\n") }
        w.html("</head>\n<body>\n<a class=\"evitement\" href=\"#contenu\">Aller au contenu</a>\n")
        w.html("<header class=\"entete\"><p class=\"marque\"><a href=\"/\">parc</a> <span>Équipements numériques des écoles</span></p>\n")
        if let viewer {
            w.html("<nav aria-label=\"Navigation principale\"><ul>")
            for (label, href) in viewer.navigation {
                let current = href == path || (href != "/" && path.hasPrefix(href + "/"))
                w.html(current ? "<li><a href=\"\(href)\" aria-current=\"page\">" : "<li><a href=\"\(href)\">")
                w.text(label)
                w.html("</a></li>")
            }
            w.html("</ul></nav>\n<form class=\"session\" method=\"post\" action=\"/deconnexion\"><p>")
            w.text("Connecté : \(viewer.shownName) (\(viewer.memberName.map { "commune de \($0)" } ?? viewer.account.role.french))")
            w.html("</p>")
            if let csrf = viewer.csrf { w.html("<input type=\"hidden\" name=\"csrf\" value=\"\(csrf)\">") }
            w.html("<button type=\"submit\">Se déconnecter</button></form>\n")
        }
        w.html("</header>\n<main id=\"contenu\" tabindex=\"-1\">\n")
        w.element("h1", title)
        if let alert {
            w.html("<div class=\"erreurs\" role=\"alert\"><p>")
            w.text(alert)
            w.html("</p></div>\n")
        }
        if let notice {
            w.html("<p class=\"avis\" role=\"status\">")
            w.text(notice)
            w.html("</p>\n")
        }
        w.html(SafeHTML(written: body.out))
        w.html("</main>\n<footer class=\"pied\"><p>parc — inventaire des équipements acquis par le groupement Fus@é. ")
        w.html("En cas de question, contactez votre technicien.</p></footer>\n</body>\n</html>\n")
        return w.out
    }

    static let css = """
        :root{--texte:#1b1b1b;--fond:#fff;--lien:#0b4f8a;--bord:#767676;--doux:#f3f4f6;--accent:#0b4f8a}
        *{box-sizing:border-box}
        body{margin:0;font-family:system-ui,"DejaVu Sans",Arial,sans-serif;font-size:1rem;line-height:1.5;color:var(--texte);background:var(--fond)}
        a{color:var(--lien);text-underline-offset:.15em}
        a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,main:focus-visible{outline:3px solid #d35400;outline-offset:2px}
        .evitement{position:absolute;left:-999px;top:0;background:#fff;padding:.5em;z-index:2}
        .visuellement-cache{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
        .evitement:focus{left:.5em}
        .entete{display:flex;flex-wrap:wrap;gap:.5em 1.5em;align-items:center;padding:.75em 1em;border-bottom:3px solid var(--accent);background:var(--doux)}
        .marque{margin:0;font-weight:bold;font-size:1.25rem}.marque a{text-decoration:none}.marque span{font-weight:normal;font-size:.9rem;color:#444}
        nav ul{display:flex;flex-wrap:wrap;gap:.25em 1em;list-style:none;margin:0;padding:0}
        nav a[aria-current=page]{font-weight:bold;text-decoration-thickness:3px}
        .session{display:flex;gap:.75em;align-items:center;margin-left:auto}.session p{margin:0;font-size:.9rem}
        main{max-width:72rem;margin:0 auto;padding:1em}
        h1{font-size:1.6rem;margin:.5em 0}h2{font-size:1.3rem;margin-top:1.5em}
        .tableau{overflow-x:auto;position:relative}
        table{border-collapse:collapse;width:100%;margin:.5em 0 1em}
        caption{text-align:left;font-weight:bold;padding:.25em 0}
        th,td{border:1px solid #c9c9c9;padding:.35em .5em;text-align:left;vertical-align:top}
        thead th{background:var(--doux)}.n{text-align:right;font-variant-numeric:tabular-nums}
        dl.fiche{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:.5em 1.5em}
        dl.fiche div{border-bottom:1px solid #ddd;padding:.25em 0}dl.fiche dd{overflow-wrap:anywhere}dt{font-size:.85rem;color:#444}dd{margin:0;font-weight:600}
        .etat{display:inline-block;padding:0 .4em;border:1px solid currentColor;border-radius:.25em;font-size:.9rem}
        .etat-ok{color:#1e5e2f}.etat-ok::before{content:"✓ "}
        .etat-alerte{color:#8a1c1c}.etat-alerte::before{content:"⚠ "}
        .etat-info{color:#0b4f8a}.etat-info::before{content:"• "}
        .etat-neutre{color:#444}
        .avis{border-left:4px solid var(--accent);background:#eef4fa;padding:.5em 1em}
        .erreurs{border-left:4px solid #8a1c1c;background:#fbeeee;padding:.5em 1em}.description{white-space:pre-wrap;overflow-wrap:anywhere}.avertissement{border-left:4px solid #8a5a00;background:#fdf6e3;padding:.5em 1em}
        .vide{color:#444;font-style:italic}
        form.formulaire{max-width:40rem}
        .champ{margin:0 0 1em}.champ label{display:block;font-weight:600}
        .champ input,.champ select,.champ textarea{width:100%;padding:.45em;font:inherit;border:1px solid var(--bord);border-radius:.2em}
        .champ .aide{display:block;font-size:.9rem;color:#444}
        .champ .erreur{display:block;color:#8a1c1c;font-weight:600}.champ .erreur::before{content:"⚠ "}
        .champ [aria-invalid=true]{border:2px solid #8a1c1c}
        button{font:inherit;padding:.45em 1em;border:1px solid var(--accent);background:var(--accent);color:#fff;border-radius:.2em;cursor:pointer}
        .session button{background:#fff;color:var(--accent)}
        .actions{display:flex;gap:1em;flex-wrap:wrap;align-items:center}
        .chiffres{display:flex;flex-wrap:wrap;gap:1em}.chiffres p{margin:0;padding:.5em 1em;background:var(--doux);border-radius:.3em}
        .chiffres strong{display:block;font-size:1.4rem}
        pre{white-space:pre-wrap;background:var(--doux);padding:.5em;overflow-x:auto}
        .pied{border-top:1px solid #ccc;color:#444;font-size:.9rem;padding:.5em 1em;margin-top:2em}
        fieldset{border:1px solid #c9c9c9;margin:0 0 1em;padding:.5em 1em}legend{font-weight:600}
        .case{display:flex;gap:.5em;align-items:flex-start;margin:.25em 0}.case input{margin-top:.35em}
        .liste-choix{max-height:24rem;overflow-y:auto}
        @media (max-width:40rem){.session{margin-left:0}th,td{padding:.25em}}
        @media print{.entete nav,.session,.evitement,.pied,form{display:none}main{max-width:none}a{color:inherit;text-decoration:none}}
        """
}

/// A form field as the portal shows it: label, value kept, error next to it.
struct FormField {
    var name: String
    var label: String
    var value: String = ""
    var error: String?
    var help: String?
    var type: String = "text"
    var required = false
    var maxLength: Int?
    /// For a select: (value, label).
    var options: [(String, String)]? = nil
    var multiline = false
    var autocomplete: String?

    func write(into w: inout HTMLWriter) {
        let id = "champ-\(name)"
        w.html("<div class=\"champ\"><label for=\"\(id)\">")
        w.text(label + (required ? " (obligatoire)" : ""))
        w.html("</label>")
        var described: [String] = []
        if let help {
            w.html("<span class=\"aide\" id=\"\(id)-aide\">")
            w.text(help)
            w.html("</span>")
            described.append("\(id)-aide")
        }
        if let error {
            w.html("<span class=\"erreur\" id=\"\(id)-erreur\">")
            w.text(error)
            w.html("</span>")
            described.append("\(id)-erreur")
        }
        var attrs: SafeHTML = " id=\"\(id)\" name=\"\(name)\""
        if required { attrs += " required" }
        if let maxLength { attrs += " maxlength=\"\(maxLength)\"" }
        if let autocomplete { attrs += " autocomplete=\"\(autocomplete)\"" }
        if error != nil { attrs += " aria-invalid=\"true\"" }
        if !described.isEmpty { attrs += " aria-describedby=\"\(described.joined(separator: " "))\"" }
        if let options {
            w.html("<select\(attrs)>")
            for (v, l) in options {
                w.html("<option value=\"\(v)\"\(v == value ? " selected" : "")>")
                w.text(l)
                w.html("</option>")
            }
            w.html("</select>")
        } else if multiline {
            w.html("<textarea\(attrs) rows=\"5\">")
            w.text(value)
            w.html("</textarea>")
        } else {
            w.html("<input type=\"\(type)\"\(attrs)")
            if type != "password" { w.html(" value=\"\(value)\"") }
            w.html(">")
        }
        w.html("</div>\n")
    }
}
