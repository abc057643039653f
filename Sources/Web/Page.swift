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
        let head: [[String: Any]] = header.enumerated().map { i, h in ["label": h, "numeric": numeric.contains(i)] }
        // The rows as SafeHTML (their values escaped as they are written): a 150-row table costs a
        // template per table, not one per cell.
        var body: SafeHTML = ""
        for row in rows {
            body += "<tr>"
            for (i, cell) in row.enumerated() {
                let tag: SafeHTML = rowHeader && i == 0 ? "th" : "td"
                let attributes: SafeHTML = (rowHeader && i == 0 ? " scope=\"row\"" : "") + (numeric.contains(i) ? " class=\"n\"" : "")
                body += "<\(tag)\(attributes)>\(cell.markup)</\(tag)>"
            }
            body += "</tr>"
        }
        html(Templates.render("table", ["caption": caption, "header": head, "rows": body.markup]))
    }

    /// A definition list of label → value (identity blocks); `ids` gives some values an id (a
    /// script fills them in later).
    mutating func facts(_ pairs: [(String, Cell)], ids: [String: String] = [:]) {
        let items: [[String: Any]] = pairs.map { label, value in
            var item: [String: Any] = ["value": value.markup.markup]
            item["label"] = label
            if let id = ids[label] { item["id"] = id }
            return item
        }
        html(Templates.render("facts", ["pairs": items]))
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

    /// The value as markup: text escaped, a link's address and label escaped, a badge's word escaped.
    var markup: SafeHTML {
        switch self {
        case .text(let s): "\(s)"
        case .link(let label, let href): "<a href=\"\(href)\">\(label)</a>"
        case .badge(let label, let tone): "<span class=\"etat etat-\(tone)\">\(label)</span>"
        case .html(let h): h
        }
    }

    func write(into w: inout HTMLWriter) { w.html(markup) }
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
        var context: [String: Any] = ["title": title, "body": body.out]
        if let refresh { context[script ? "refreshNoScript" : "refresh"] = String(refresh) }
        if script { context["script"] = true }
        if let viewer {
            var session: [String: Any] = [
                "navigation": viewer.navigation.map { label, href -> [String: Any] in
                    ["label": label, "href": href, "current": href == path || (href != "/" && path.hasPrefix(href + "/"))]
                },
                "who": "\(viewer.shownName) (\(viewer.memberName.map { "commune de \($0)" } ?? viewer.account.role.french))",
            ]
            if let csrf = viewer.csrf { session["csrf"] = csrf }
            context["viewer"] = session
        }
        if let alert { context["alert"] = alert }
        if let notice { context["notice"] = notice }
        return Templates.render("layout", context).markup
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
        var context: [String: Any] = ["id": id, "name": name, "label": label + (required ? " (obligatoire)" : ""), "value": value,
                                      "required": required, "invalid": error != nil]
        var described: [String] = []
        if let help { context["help"] = help; described.append("\(id)-aide") }
        if let error { context["error"] = error; described.append("\(id)-erreur") }
        if !described.isEmpty { context["describedBy"] = described.joined(separator: " ") }
        if let maxLength { context["maxLength"] = String(maxLength) }
        if let autocomplete { context["autocomplete"] = autocomplete }
        if let options {
            context["select"] = true
            context["options"] = options.map { v, l -> [String: Any] in ["value": v, "label": l, "selected": v == value] }
        } else if multiline {
            context["textarea"] = true
        } else {
            context["input"] = true
            context["type"] = type
            context["shown"] = type != "password"
        }
        w.html(Templates.render("field", context))
    }
}
