import Foundation

extension EquipmentReport {
    // MARK: Text (French)

    public func text() -> String {
        var out = "\(title)\n\(String(repeating: "=", count: title.count))\n"
        out += membershipLines().map { "\($0.0) : \($0.1)" }.joined(separator: "\n") + "\n"
        out += "Édité le \(generatedOn.french)\n\n"
        out += "Synthèse : \(FrenchText.count(allDevices.count, "équipement"))\n"
        for (k, n) in byKind { out += "  - \(k.french) : \(FrenchText.number(n))\n" }
        out += "États :\n"
        for (s, n) in byStatus { out += "  - \(s.french) : \(FrenchText.number(n))\n" }
        for school in schools {
            out += "\n\(school.school.name) (\(school.school.uai)) — \(FrenchText.count(school.deviceCount, "équipement"))\n"
            for room in school.rooms {
                out += "  \(room.name)\n"
                for d in room.devices { out += "    - \(deviceLine(d))\n" }
            }
        }
        if !unplaced.isEmpty {
            out += "\nEn stock (hors école)\n"
            for d in unplaced { out += "  - \(deviceLine(d))\n" }
        }
        out += "\nCommandes (total \(knownTotal(\.amountExclTax)) HT, \(knownTotal(\.amountInclTax)) TTC)\n"
        for line in orders {
            let o = line.order
            out += "  - \(o.number)\(line.lot.map { " — lot \($0.number) \($0.title)" } ?? "") : \(o.amountInclTax?.french ?? "montant non renseigné") TTC"
            out += "\(o.orderedOn.map { ", commandée le \($0.french)" } ?? "")\(o.deliveredOn.map { ", livrée le \($0.french)" } ?? ""), \(FrenchText.count(line.devices, "équipement"))\n"
            out += "    subventions accordées \(line.granted.french) (\(Self.rate(line.granted, of: o.amountInclTax)) du TTC), reste à charge \(line.ownShare?.french ?? "non calculable (montant TTC non renseigné)")\n"
        }
        out += "Reste à charge de la commune (TTC − subventions accordées) : \(totalOwnShare.french)\n"
        if !byLot.isEmpty {
            out += "Par lot :\n"
            for l in byLot { out += "  - \(l.lot) : \(FrenchText.count(l.orders, "commande")), \(l.amount.french) TTC\n" }
        }
        out += "\nFinancements (demandé / accordé)\n"
        if funding.isEmpty { out += "  (aucun financement enregistré)\n" }
        for f in funding { out += "  - \(f.funder.french) : \(f.requested.french) / \(f.granted.french) (\(Self.rate(f.granted, of: f.requested)) de la demande)\n" }
        out += "\nGaranties se terminant d'ici \(warrantyMonths) mois\n"
        out += warrantyEnding.isEmpty ? "  (aucune)\n" : warrantyEnding.map { "  - \($0.warrantyEnd!.french) : \(deviceLine($0))\n" }.joined()
        out += "\nÉcarts entre l'inventaire et les appareils\n"
        out += findings.isEmpty ? "  (aucun)\n" : findings.map { "  - \($0.device) (\($0.serial)) : \(Self.french($0))\n" }.joined()
        if !overdueLoans.isEmpty {
            out += "\nClasses mobiles prêtées, non rendues à la date prévue\n"
            out += overdueLoans.map { "  - chariot \($0.cart) prêté à \($0.to) depuis le \($0.since.french), à rendre le \($0.until.french)\n" }.joined()
        }
        out += "\nMatériel en réparation ou perdu\n"
        out += needsAttention.isEmpty ? "  (aucun)\n" : needsAttention.map { "  - \($0.status.french) : \(deviceLine($0))\n" }.joined()
        return out
    }

    /// A finding as a town hall reads it.
    static func french(_ f: Finding) -> String {
        switch f.kind {
        case .serialDiffers: "numéro de série différent (appareil échangé ?)"
        case .macDiffers: "adresses MAC différentes"
        case .hostnameDiffers: "nom d'appareil différent"
        case .answersAsAnother: "un autre appareil répond à son adresse"
        case .neverSeen: "jamais vu sur le réseau"
        case .notSeenRecently: "pas vu depuis plus de 30 jours"
        }
    }

    /// The sum of an amount over the orders, or "non renseigné" when no order gives it.
    func knownTotal(_ amount: KeyPath<Order, Money?>) -> String {
        let known = orders.compactMap { $0.order[keyPath: amount] }
        return known.isEmpty ? "non renseigné" : known.reduce(Money.zero, +).french
    }

    func deviceLine(_ d: DeviceRow) -> String {
        var parts = [d.kind.french]
        if let m = [d.manufacturer, d.model].compactMap({ $0 }).joined(separator: " ").nonEmpty { parts.append(m) }
        parts.append("n° de série \(d.serial)")
        if let t = d.assetTag { parts.append("inventaire \(t)") }
        if let c = d.cart { parts.append("chariot \(c)") }
        if d.status != .deployed { parts.append(d.status.french.lowercased()) }
        if let p = d.purchasePrice { parts.append("\(p.french) TTC") }
        return parts.joined(separator: ", ")
    }

    public func membershipLines() -> [(String, String)] {
        let m = member
        var lines: [(String, String)] = [("Membre du groupement Fus@é", "\(m.name) (\(m.kind == .commune ? "commune" : m.kind.rawValue.uppercased()))")]
        if let s = m.siren { lines.append(("SIREN", s)) }
        if let i = m.insee { lines.append(("Code INSEE", i)) }
        if let n = m.deliberationNumber {
            lines.append(("Délibération d'adhésion", n + (m.deliberationDate.map { " du \($0.french)" } ?? "")))
        }
        if let r = m.prefectureReceipt { lines.append(("Accusé de réception préfecture", r)) }
        if let c = m.conventionDate {
            lines.append(("Convention signée", "le \(c.french)\(m.conventionSignatory.map { " par \($0)" } ?? "")"))
        }
        return lines
    }

    // MARK: CSV (one line per device, French headers)

    public func csv() -> String {
        let header = ["École", "UAI", "Salle", "Chariot", "Type", "Marque", "Modèle", "N° de série", "N° d'inventaire", "État",
                      "Commande", "Lot", "Prix TTC", "Fin de garantie"]
        // A UTF-8 byte-order mark: spreadsheet software then reads the accents right.
        var out = "\u{FEFF}" + header.map { CSVCell.escape($0, separator: ";") }.joined(separator: ";") + "\r\n"
        for d in allDevices {
            let cells = [d.school ?? "", d.uai ?? "", d.room ?? "", d.cart ?? "", d.kind.french, d.manufacturer ?? "", d.model ?? "",
                         d.serial, d.assetTag ?? "", d.status.french, d.order ?? "", d.lot ?? "",
                         d.purchasePrice.map { $0.frenchNumber } ?? "", d.warrantyEnd?.french ?? ""]
            out += cells.map { CSVCell.escape($0, separator: ";") }.joined(separator: ";") + "\r\n"
        }
        return out
    }

    // MARK: HTML (standalone, printable, French)

    /// The report as a page: standalone (its stylesheet inside: a file to email or render as a PDF),
    /// or, with `stylesheet`, linking it (the portal, whose policy allows no inline style); `links`
    /// (label, address) are shown above the title on screen, never printed.
    public func html(stylesheet: String? = nil, links: [(String, String)] = []) -> String {
        var b = HTML()
        b.head(title: title, linking: stylesheet, inline: Self.stylesheet)
        b.html("<main>\n")
        // The running header of printed pages (paged media reads it; the screen does not show it).
        b.html("<p class=\"entete\" aria-hidden=\"true\">"); b.text("\(member.name) — équipement numérique"); b.html("</p>\n")
        if !links.isEmpty {
            b.html("<p class=\"actions\">")
            b.html(links.map { "<a href=\"\($0.1)\">\($0.0)</a>" }.joined(separator: " · "))
            b.html("</p>\n")
        }
        b.element("h1", title)
        b.html("<table class=\"identite\">")
        for (k, v) in membershipLines() { b.html("<tr><th scope=\"row\">"); b.text(k); b.html("</th><td>"); b.text(v); b.html("</td></tr>") }
        b.html("</table>\n")
        b.html("<p class=\"edition\">"); b.text("Édité le \(generatedOn.french)"); b.html("</p>\n")

        b.element("h2", "Synthèse")
        b.html("<div class=\"chiffres\">")
        b.html("<p class=\"total\"><strong>\(FrenchText.number(allDevices.count))</strong>\(FrenchText.unitSpace)équipement\(allDevices.count > 1 ? "s" : "")</p>")
        b.table(["Type de matériel", "Nombre"], byKind.map { [$0.0.french, FrenchText.number($0.1)] }, numeric: [1])
        b.table(["État", "Nombre"], byStatus.map { [$0.0.french, FrenchText.number($0.1)] }, numeric: [1])
        b.html("</div>\n")

        b.element("h2", "Équipement par école et par salle")
        for school in schools {
            b.element("h3", "\(school.school.name) — UAI \(school.school.uai)")
            if school.rooms.isEmpty { b.element("p", "Aucun équipement enregistré.") }
            for room in school.rooms {
                b.element("h4", "\(room.name) (\(room.devices.count))")
                b.table(["Type", "Marque et modèle", "N° de série", "N° d'inventaire", "Chariot", "État", "Fin de garantie", "Prix TTC"],
                        room.devices.map { d in
                            [d.kind.french, [d.manufacturer, d.model].compactMap { $0 }.joined(separator: " "), d.serial, d.assetTag ?? "",
                             d.cart ?? "", d.status.french, d.warrantyEnd?.french ?? "", d.purchasePrice?.french ?? ""]
                        }, numeric: [7], codes: [2, 3, 4])
            }
        }
        if !unplaced.isEmpty {
            b.element("h3", "En stock (hors école)")
            b.table(["Type", "Marque et modèle", "N° de série", "N° d'inventaire", "État"],
                    unplaced.map { [$0.kind.french, [$0.manufacturer, $0.model].compactMap { $0 }.joined(separator: " "), $0.serial, $0.assetTag ?? "", $0.status.french] },
                    codes: [2, 3])
        }

        b.element("h2", "Achats")
        var purchaseRows: [[String]] = orders.map { (l: OrderLine) -> [String] in
            let o = l.order
            let lot: String = l.lot.map { "Lot \($0.number)" } ?? ""
            return [o.number, lot, o.supplier ?? "", o.orderedOn?.french ?? "", o.deliveredOn?.french ?? "", o.deliveryNote ?? "",
                    FrenchText.number(l.devices), o.amountExclTax?.french ?? "", o.amountInclTax?.french ?? ""]
        }
        let deviceTotal = orders.reduce(0) { $0 + $1.devices }
        purchaseRows.append(["Total", "", "", "", "", "", FrenchText.number(deviceTotal), knownTotal(\.amountExclTax), knownTotal(\.amountInclTax)])
        b.table(["Commande", "Lot", "Fournisseur", "Commandée le", "Livrée le", "Bon de livraison", "Équipements", "Montant HT", "Montant TTC"],
                purchaseRows, numeric: [6, 7, 8], lastIsTotal: true)
        b.element("h2", "Reste à charge de la commune")
        b.html("<p class=\"total\">"); b.text("Reste à charge (TTC − subventions accordées) : "); b.html("<strong>"); b.text(totalOwnShare.french); b.html("</strong></p>\n")
        b.element("p", "Les subventions sont celles du Département, de l'État et des autres financeurs ; la part de la commune est ce qui reste à sa charge.")
        b.table(["Commande", "Montant TTC", "Subventions demandées", "Subventions accordées", "Taux de subvention", "Reste à charge"],
                orders.map { l in [l.order.number, l.order.amountInclTax?.french ?? "non renseigné", l.requested.french, l.granted.french,
                                   Self.rate(l.granted, of: l.order.amountInclTax), l.ownShare?.french ?? "—"] }
                    + [["Total", knownTotal(\.amountInclTax), orders.reduce(Money.zero) { $0 + $1.requested }.french,
                        orders.reduce(Money.zero) { $0 + $1.granted }.french, Self.rate(orders.reduce(Money.zero) { $0 + $1.granted }, of: totalInclTax), totalOwnShare.french]],
                numeric: [1, 2, 3, 4, 5], lastIsTotal: true)
        if !byLot.isEmpty {
            b.table(["Lot", "Commandes", "Montant TTC"], byLot.map { [$0.lot, FrenchText.number($0.orders), $0.amount.french] }, numeric: [1, 2])
        }

        b.element("h2", "Financement")
        if funding.isEmpty { b.element("p", "Aucun financement enregistré pour ces commandes.") }
        b.table(["Financeur", "Demandé", "Accordé", "Accordé / demandé"],
                funding.isEmpty ? [] : funding.map { [$0.funder.french, $0.requested.french, $0.granted.french, Self.rate($0.granted, of: $0.requested)] }
                    + [["Total", funding.reduce(Money.zero) { $0 + $1.requested }.french, funding.reduce(Money.zero) { $0 + $1.granted }.french,
                        Self.rate(funding.reduce(Money.zero) { $0 + $1.granted }, of: funding.reduce(Money.zero) { $0 + $1.requested })]],
                numeric: [1, 2, 3], lastIsTotal: true)
        b.table(["Commande", "Financeur", "Dispositif", "Demandé", "Accordé"],
                orders.flatMap { l in l.funding.map { [l.order.number, $0.funder.french, $0.label ?? "", $0.requested.french, $0.granted?.french ?? "en attente"] } },
                numeric: [3, 4])

        b.element("h2", "Garanties se terminant d'ici \(warrantyMonths) mois")
        if warrantyEnding.isEmpty { b.element("p", "Aucune garantie ne se termine dans cette période.") } else {
            b.table(["Fin de garantie", "Type", "N° de série", "N° d'inventaire", "École", "Salle"],
                    warrantyEnding.map { [$0.warrantyEnd!.french, $0.kind.french, $0.serial, $0.assetTag ?? "", $0.school ?? "", $0.room ?? ""] }, codes: [2, 3])
        }
        if !overdueLoans.isEmpty {
            b.element("h2", "Classes mobiles prêtées, non rendues à la date prévue")
            b.table(["Chariot", "Prêté à", "Depuis le", "À rendre le", "Venu de"],
                    overdueLoans.map { [$0.cart, $0.to, $0.since.french, $0.until.french, $0.home ?? "stock"] })
        }
        b.element("h2", "Matériel en réparation ou perdu")
        if needsAttention.isEmpty { b.element("p", "Aucun matériel en réparation ou perdu.") } else {
            b.table(["État", "Type", "N° de série", "N° d'inventaire", "École", "Salle"],
                    needsAttention.map { [$0.status.french, $0.kind.french, $0.serial, $0.assetTag ?? "", $0.school ?? "", $0.room ?? ""] }, codes: [2, 3])
        }
        b.element("h2", "Écarts entre l'inventaire et les appareils")
        if findings.isEmpty { b.element("p", "Aucun écart constaté sur les appareils administrés.") } else {
            b.table(["Appareil", "N° de série", "Écart", "Inventaire", "Constaté"], findings.map { [$0.device, $0.serial, Self.french($0), $0.expected ?? "", $0.found ?? ""] })
        }
        // Signed by the member's representative, with the date and place.
        b.html("<div class=\"signature\"><p>")
        b.text("Fait à \(member.name), le \(generatedOn.french)")
        b.html("</p><p>")
        b.text(member.kind == .commune ? "Le maire," : "Le président,")
        b.html("</p><p class=\"visa\">")
        b.text("(signature et cachet)")
        b.html("</p></div>\n")
        b.html("<p class=\"pied\">Document établi à partir de l'inventaire parc du groupement Fus@é (Département de la Moselle).</p>\n")
        b.html("</main>\n</body>\n</html>\n")
        return b.out
    }

    /// The report's stylesheet: the same for the screen, the browser's print and the PDF
    /// (WeasyPrint reads its paged media: A4, the commune as running header, page numbers).
    public static let stylesheet = css + printCSS

    static let printCSS = """
        .entete{string-set:entete content();font-size:0;line-height:0;height:0;margin:0;overflow:hidden}
        @page{size:A4;margin:20mm 15mm 18mm 15mm;@top-center{content:string(entete);font-family:"DejaVu Sans",Arial,sans-serif;font-size:8.5pt;color:#555}\
        @bottom-right{content:"Page " counter(page) " / " counter(pages);font-family:"DejaVu Sans",Arial,sans-serif;font-size:8.5pt;color:#555}}
        @media print{body{font-size:9.5pt}th,td{padding:.2em .3em}.actions{display:none}.defile{overflow:visible}
        .appareils{font-size:8.5pt}}
        .signature{margin-top:2.5em;margin-left:55%;break-inside:avoid}.signature .visa{color:#595959;font-size:9pt;margin-top:3.5em}
        """

    static let css = """
        body{font-family:"DejaVu Sans",Arial,sans-serif;font-size:10.5pt;color:#1a1a1a;margin:2em auto;max-width:60em;padding:0 1em;overflow-wrap:break-word}
        h1{font-size:17pt;color:#00457c;border-bottom:2px solid #00457c;padding-bottom:.2em}
        h2{font-size:13pt;color:#00457c;margin-top:1.6em;break-after:avoid}h3{font-size:11.5pt;margin-bottom:.3em}h4{font-size:10.5pt;margin:.8em 0 .3em}
        table{border-collapse:collapse;margin:.4em 0 1em;width:100%}th,td{border:1px solid #b8c4ce;padding:.25em .45em;text-align:left;vertical-align:top}
        thead th{background:#e8eef3}td.n,th.n{text-align:right;white-space:nowrap}tr.total td{font-weight:bold;background:#f3f6f8}
        table.identite{width:auto}table.identite th{background:none;font-weight:normal;color:#555;border:none;padding-left:0}table.identite td{border:none}
        .chiffres .defile{display:inline-block;vertical-align:top;margin-right:1.5em}.chiffres table{width:auto}.total{font-size:13pt}
        .defile{overflow-x:auto;max-width:100%}td.code{white-space:nowrap}.actions{margin:0 0 1em}
        .edition,.pied{color:#555;font-size:9pt}.pied{margin-top:2em;border-top:1px solid #ccc;padding-top:.5em}
        @media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}
        """
}

/// Text made safe inside HTML elements and double- or single-quoted attributes.
public enum HTMLText {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

/// A tiny HTML writer: text is escaped, markup is ``SafeHTML`` (its values escaped as it was made).
public struct HTML: Sendable {
    public private(set) var out = ""

    public init() {}

    /// A French document's start, up to `<body>`: its stylesheet linked (`linking`, an address: the
    /// portal, whose policy allows no inline style) or held inside (`inline`: a file to mail or print).
    public mutating func head(title: String, linking stylesheet: String?, inline css: String) {
        html("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"fr\">\n<head>\n<meta charset=\"utf-8\"/>\n")
        html("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
        element("title", title)
        html(stylesheet.map { "<link rel=\"stylesheet\" href=\"\($0)\"/>\n" } ?? "<style>\(SafeHTML(written: css))</style>\n")
        html("</head>\n<body>\n")
    }

    public mutating func html(_ h: SafeHTML) { out += h.markup }

    public mutating func text(_ s: String) { out += Self.escape(s) }

    public static func escape(_ s: String) -> String { HTMLText.escape(s) }

    public mutating func element(_ name: String, _ content: String) {
        html("<\(SafeHTML(written: name))>")
        text(content)
        html("</\(SafeHTML(written: name))>\n")
    }

    /// A table in a box that scrolls sideways on a narrow screen; `codes` are columns of serials
    /// and tags, never broken inside.
    public mutating func table(_ header: [String], _ rows: [[String]], numeric: Set<Int> = [], codes: Set<Int> = [], lastIsTotal: Bool = false) {
        guard !rows.isEmpty else { return }
        // The box scrolls sideways on a narrow screen: it takes the focus, so that a keyboard scrolls it too.
        html("<div class=\"defile\" tabindex=\"0\" role=\"region\" aria-label=\"")
        text("Tableau : " + header.prefix(2).joined(separator: ", ") + (header.count > 2 ? "…" : ""))
        html(codes.isEmpty ? "\"><table><thead><tr>" : "\"><table class=\"appareils\"><thead><tr>")
        for (i, h) in header.enumerated() { html(numeric.contains(i) ? "<th scope=\"col\" class=\"n\">" : "<th scope=\"col\">"); text(h); html("</th>") }
        html("</tr></thead><tbody>")
        for (r, row) in rows.enumerated() {
            html(lastIsTotal && r == rows.count - 1 ? "<tr class=\"total\">" : "<tr>")
            for (i, cell) in row.enumerated() {
                html(numeric.contains(i) ? "<td class=\"n\">" : codes.contains(i) ? "<td class=\"code\">" : "<td>"); text(cell); html("</td>")
            }
            html("</tr>")
        }
        html("</tbody></table></div>\n")
    }
}
