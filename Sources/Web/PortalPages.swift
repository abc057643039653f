import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ParcApp
import ParcCore

/// The commune's pages (technicians see them for every member): overview, schools, rooms, carts,
/// devices, orders, documents, the report, and problem reports.
enum PortalPages {
    static let routes: [Route] = [
        Route(method: .get, path: "/", access: .signedIn, summary: "Home: the commune's overview, or the members' list") { p, _, _, v in
            try await p.home(v!)
        },
        Route(method: .get, path: "/communes/{member}", access: .signedIn, summary: "A member's overview",
              parameters: [("member", .member)]) { p, _, c, v in
            try await p.overview(v!, slug: c.parameter("member"))
        },
        Route(method: .get, path: "/communes/{member}/ecoles", access: .signedIn, summary: "A member's schools",
              parameters: [("member", .member)]) { p, _, c, v in
            try await p.schools(v!, slug: c.parameter("member"))
        },
        Route(method: .get, path: "/ecoles/{school}", access: .signedIn, summary: "A school and its rooms",
              parameters: [("school", .school)]) { p, _, c, v in
            try await p.school(v!, uai: c.parameter("school"))
        },
        Route(method: .get, path: "/ecoles/{school}/salles/{room}", access: .signedIn, summary: "A room and its devices",
              parameters: [("school", .school), ("room", .room)]) { p, _, c, v in
            try await p.room(v!, uai: c.parameter("school"), room: c.parameter("room"))
        },
        Route(method: .get, path: "/communes/{member}/chariots", access: .signedIn, summary: "A member's mobile classes",
              parameters: [("member", .member)]) { p, _, c, v in
            try await p.carts(v!, slug: c.parameter("member"))
        },
        Route(method: .get, path: "/chariots/{cart}", access: .signedIn, summary: "A mobile class and its laptops",
              parameters: [("cart", .cart)]) { p, r, c, v in
            try await p.cart(v!, serial: c.parameter("cart"), notice: v!.isStaff ? r.uri.queryParameters.get("avis") : nil)
        },
        Route(method: .get, path: "/materiels/{device}", access: .signedIn, summary: "A device",
              parameters: [("device", .device)]) { p, r, c, v in
            try await p.device(v!, serial: c.parameter("device"), notice: v!.isStaff ? r.uri.queryParameters.get("avis") : nil)
        },
        Route(method: .get, path: "/communes/{member}/commandes", access: .signedIn, summary: "A member's orders",
              parameters: [("member", .member)]) { p, _, c, v in
            try await p.orders(v!, slug: c.parameter("member"))
        },
        Route(method: .get, path: "/commandes/{order}", access: .signedIn, summary: "An order, its funding and documents",
              parameters: [("order", .order)]) { p, _, c, v in
            try await p.order(v!, id: c.parameter("order"))
        },
        Route(method: .get, path: "/communes/{member}/documents", access: .signedIn, summary: "A member's documents",
              parameters: [("member", .member)]) { p, _, c, v in
            try await p.documents(v!, slug: c.parameter("member"))
        },
        Route(method: .get, path: "/documents/{document}", access: .signedIn, summary: "Download a document (PDF)",
              parameters: [("document", .document)]) { p, _, c, v in
            try await p.download(v!, id: c.parameter("document"))
        },
        Route(method: .get, path: "/communes/{member}/rapport", access: .signedIn, summary: "The member's report (HTML to print)",
              parameters: [("member", .member)]) { p, _, c, v in
            try await p.report(v!, slug: c.parameter("member"), as: .page)
        },
        Route(method: .get, path: "/communes/{member}/rapport.pdf", access: .signedIn, summary: "The member's report (PDF, A4)",
              parameters: [("member", .member)]) { p, _, c, v in
            try await p.report(v!, slug: c.parameter("member"), as: .pdf)
        },
        Route(method: .get, path: "/communes/{member}/rapport.csv", access: .signedIn, summary: "The member's report (CSV for spreadsheets)",
              parameters: [("member", .member)]) { p, _, c, v in
            try await p.report(v!, slug: c.parameter("member"), as: .csv)
        },
        Route(method: .get, path: "/communes/{member}/signalements", access: .signedIn, summary: "The member's problem reports",
              parameters: [("member", .member)]) { p, _, c, v in
            try await p.memberProblems(v!, slug: c.parameter("member"))
        },
        Route(method: .get, path: "/materiels/{device}/signaler", access: .signedIn, summary: "The form to report a problem",
              parameters: [("device", .device)]) { p, _, c, v in
            try await p.reportForm(v!, serial: c.parameter("device"), values: [:], errors: [:])
        },
        Route(method: .post, path: "/materiels/{device}/signaler", access: .signedIn, summary: "Report a problem",
              parameters: [("device", .device)]) { p, r, c, v in
            try await p.reportProblem(v!, serial: c.parameter("device"), request: r, context: c)
        },
        Route(method: .post, path: "/signalements/{problem}/prendre", access: .staff, summary: "Take a problem in charge: its device goes in repair",
              parameters: [("problem", .problem)]) { p, r, c, v in
            try await p.handleProblem(v!, id: c.parameter("problem"), step: .accept, request: r, context: c)
        },
        Route(method: .post, path: "/signalements/{problem}/suivi", access: .staff, summary: "Write a follow-up the commune reads",
              parameters: [("problem", .problem)]) { p, r, c, v in
            try await p.handleProblem(v!, id: c.parameter("problem"), step: .note, request: r, context: c)
        },
        Route(method: .post, path: "/signalements/{problem}/clore", access: .staff, summary: "Close a problem with what was done; the device's state follows",
              parameters: [("problem", .problem)]) { p, r, c, v in
            try await p.handleProblem(v!, id: c.parameter("problem"), step: .close, request: r, context: c)
        },
        Route(method: .get, path: "/signalements/{problem}", access: .signedIn, summary: "A problem report",
              parameters: [("problem", .problem)]) { p, r, c, v in
            try await p.problemPage(v!, id: c.parameter("problem"),
                                    notice: r.uri.queryParameters.get("nouveau") != nil ? "Votre signalement est enregistré ; un technicien va le prendre en charge."
                                        : v!.isStaff ? r.uri.queryParameters.get("avis") : nil)
        },
    ]
}

extension Portal {
    var today: Day { Day.today(options.clock()) }

    func home(_ v: Viewer) async throws -> Response {
        if let slug = v.memberSlug, !v.isStaff { return try await overview(v, slug: slug, path: "/") }
        let rows = try await workspace.view(as: v.audience) { r in
            try r.members().map { m -> [Cell] in
                let schools = try r.schools(memberId: m.id!).count
                return [.link(m.name, href: "/communes/\(m.slug)"), .text(m.kind == .commune ? "commune" : m.kind.rawValue.uppercased()),
                        .text(French.number(schools))]
            }
        }
        var page = Page("Communes et groupements", viewer: v, path: "/")
        page.body.html("<form class=\"formulaire\" method=\"get\" action=\"/recherche\" role=\"search\">")
        FormField(name: "q", label: "Rechercher un matériel", help: "N° de série, n° d'inventaire, adresse MAC, nom, école ou commune", type: "search").write(into: &page.body)
        page.body.html("<button type=\"submit\">Rechercher</button></form>\n")
        page.body.table(caption: "Membres du groupement (\(rows.count))", ["Membre", "Type", "Écoles"], rows, numeric: [2], rowHeader: true,
                        empty: "Aucun membre enregistré.")
        return html(page)
    }

    func overview(_ v: Viewer, slug: String, path: String? = nil) async throws -> Response {
        let today = self.today
        let (report, documents, problems) = try await workspace.view(as: v.audience) { r in
            let m = try r.member(slug)
            return (try r.report(member: m, warrantyMonths: 6, today: today, findings: false),
                    try r.documents(member: m).count, try r.problems(member: m).filter { $0.state != .closed }.count)
        }
        let m = report.member
        let base = "/communes/\(m.slug)"
        var page = Page(m.name, viewer: v, path: path ?? base)
        page.body.html("<div class=\"chiffres\">")
        // "1 école", "2 écoles": the figure in bold, its noun agreeing with it, never alone on a line.
        func figure(_ n: Int, _ singular: String, _ plural: String, _ rest: String = "") {
            page.body.html("<p><strong>\(French.number(n))</strong>\(FrenchText.unitSpace)\((n <= 1 ? singular : plural) + rest)</p>")
        }
        figure(report.allDevices.count, "équipement", "équipements")
        figure(report.schools.count, "école", "écoles")
        figure(report.warrantyEnding.count, "garantie finissant", "garanties finissant", " d'ici 6 mois")
        figure(problems, "signalement en cours", "signalements en cours")
        page.body.html("<p><strong>\(French.money(report.totalOwnShare))</strong> reste à charge</p>")
        page.body.html("</div>\n")
        page.body.html("<p class=\"actions\"><a href=\"\(base)/rapport\">Rapport à imprimer</a> <a href=\"\(base)/rapport.pdf\">Rapport en PDF</a> <a href=\"\(base)/rapport.csv\">Rapport pour tableur (CSV)</a> <a href=\"\(base)/documents\">Documents (\(documents))</a></p>\n")

        page.body.element("h2", "Équipement par école")
        let kinds = report.byKind.map(\.0)
        let schoolRows = report.schools.map { s -> [Cell] in
            let devices = s.rooms.flatMap(\.devices)
            return [.link("\(s.school.name) (\(s.school.uai))", href: "/ecoles/\(s.school.uai)")]
                + kinds.map { k in .text(French.number(devices.filter { $0.kind == k }.count)) } + [.text(French.number(devices.count))]
        }
        page.body.table(caption: "Nombre d'équipements par école et par type", ["École"] + kinds.map(\.french) + ["Total"], schoolRows,
                        numeric: Set(1...(kinds.count + 1)), rowHeader: true, empty: "Aucune école enregistrée.")
        if !report.unplaced.isEmpty {
            page.body.element("p", report.unplaced.count == 1 ? "1 équipement n'est encore rangé dans aucune salle (en stock ou à livrer)." : "\(French.count(report.unplaced.count, "équipement")) ne sont encore rangés dans aucune salle (en stock ou à livrer).")
        }
        page.body.element("h2", "États")
        page.body.table(caption: "Équipements par état", ["État", "Nombre"], report.byStatus.map { [French.status($0.0), .text(French.number($0.1))] },
                        numeric: [1], rowHeader: true, empty: "Aucun équipement.")
        page.body.element("h2", "Garanties finissant d'ici 6 mois")
        page.body.table(caption: "Garanties qui finissent avant le \(today.adding(months: 6).french)", ["Matériel", "Type", "École", "Fin de garantie"],
                        report.warrantyEnding.map { d in
                            [.link(d.assetTag ?? d.serial, href: "/materiels/\(d.serial)"), .text(d.kind.french), .optional(d.school), .text(d.warrantyEnd?.french ?? "—")]
                        }, rowHeader: true, empty: "Aucune garantie ne finit dans les 6 prochains mois.")
        page.body.element("h2", "Achats et financements")
        page.body.table(caption: "Commandes par lot, financements accordés et reste à charge",
                        ["Commande", "Lot", "Matériels", "Montant TTC", "Subventions accordées", "Reste à charge"],
                        report.orders.map { line in
                            [.link(line.order.number, href: "/commandes/\(line.order.id!)"), .text(line.lot.map { "\($0.number) — \($0.title)" } ?? "—"),
                             .text(French.number(line.devices)), .text(French.money(line.order.amountInclTax)), .text(French.money(line.granted)),
                             .text(French.money(line.ownShare))]
                        } + (report.orders.isEmpty ? [] : [["Total", "", .text(French.number(report.orders.reduce(0) { $0 + $1.devices })),
                                                             .text(French.money(report.totalInclTax)), .text(French.money(report.orders.reduce(.zero) { $0 + $1.granted })),
                                                             .text(French.money(report.totalOwnShare))]]),
                        numeric: [2, 3, 4, 5], rowHeader: true, empty: "Aucune commande enregistrée.")
        page.body.table(caption: "Achats par lot du groupement", ["Lot", "Commandes", "Montant TTC"],
                        report.byLot.map { [.text($0.lot), .text(French.number($0.orders)), .text(French.money($0.amount))] },
                        numeric: [1, 2], rowHeader: true)
        page.body.table(caption: "Ce que chaque financeur a accordé", ["Financeur", "Demandé", "Accordé"],
                        report.funding.map { [.text($0.funder.french), .text(French.money($0.requested)), .text(French.money($0.granted))] },
                        numeric: [1, 2], rowHeader: true)
        return html(page)
    }

    func schools(_ v: Viewer, slug: String) async throws -> Response {
        let (member, rows) = try await workspace.view(as: v.audience) { r in
            let m = try r.member(slug)
            let devices = try r.devices(DeviceFilter(member: m.slug))
            return (m, try r.schools(memberId: m.id!).map { s -> [Cell] in
                [.link(s.name, href: "/ecoles/\(s.uai)"), .text(s.uai), .optional(s.city), .text(French.number(devices.filter { $0.uai == s.uai }.count))]
            })
        }
        var page = Page("Écoles — \(member.name)", viewer: v, path: "/communes/\(slug)/ecoles")
        page.body.table(caption: "Écoles de \(member.name)", ["École", "UAI", "Ville", "Équipements"], rows, numeric: [3], rowHeader: true,
                        empty: "Aucune école enregistrée.")
        return html(page)
    }

    func school(_ v: Viewer, uai: String) async throws -> Response {
        let (school, member, rooms, carts) = try await workspace.view(as: v.audience) { r in
            let s = try r.school(uai)
            let devices = try r.devices(DeviceFilter(school: s.uai))
            let rooms = try r.rooms(schoolId: s.id!).map { room -> [Cell] in
                [.link(room.name, href: "/ecoles/\(s.uai)/salles/\(room.id!)"), .text(French.number(devices.filter { $0.room == room.name }.count))]
            }
            let carts = devices.filter { $0.kind == .cart }.map { c -> [Cell] in
                [.link(c.assetTag ?? c.serial, href: "/chariots/\(c.serial)"), .optional(c.room), .text(French.number(devices.filter { $0.cart == (c.assetTag ?? c.serial) }.count))]
            }
            return (s, try r.member(id: s.memberId), rooms, carts)
        }
        var page = Page("\(school.name) (\(school.uai))", viewer: v, path: "/ecoles/\(uai)")
        if let member { page.body.html("<p>"); page.body.link("/communes/\(member.slug)", member.name); page.body.html("</p>\n") }
        page.body.table(caption: "Salles", ["Salle", "Équipements"], rooms, numeric: [1], rowHeader: true, empty: "Aucune salle enregistrée.")
        page.body.table(caption: "Classes mobiles", ["Classe mobile", "Salle", "Ordinateurs"], carts, numeric: [2], rowHeader: true)
        return html(page)
    }

    /// The usual device table of a listing.
    static func deviceRows(_ devices: [DeviceRow]) -> [[Cell]] {
        devices.map { d in
            [.link(d.assetTag ?? d.serial, href: "/materiels/\(d.serial)"), .text(d.kind.french),
             .text([d.manufacturer, d.model].compactMap { $0 }.joined(separator: " ")), .text(d.serial), French.status(d.status),
             .text(d.warrantyEnd?.french ?? "—")]
        }
    }

    static let deviceHeader = ["Matériel", "Type", "Modèle", "N° de série", "État", "Fin de garantie"]

    func room(_ v: Viewer, uai: String, room id: String) async throws -> Response {
        let (school, room, devices) = try await workspace.view(as: v.audience) { r in
            let s = try r.school(uai)
            let room = try r.room(s, id)
            return (s, room, try r.devices(DeviceFilter(school: s.uai, room: room.name)))
        }
        var page = Page("Salle \(room.name) — \(school.name)", viewer: v, path: "/ecoles/\(uai)/salles/\(id)")
        page.body.html("<p>"); page.body.link("/ecoles/\(school.uai)", "Retour à l'école"); page.body.html("</p>\n")
        page.body.table(caption: "Équipements de la salle (\(devices.count))", Self.deviceHeader, Self.deviceRows(devices), rowHeader: true,
                        empty: "Aucun équipement dans cette salle.")
        return html(page)
    }

    func carts(_ v: Viewer, slug: String) async throws -> Response {
        let (member, rows) = try await workspace.view(as: v.audience) { r in
            let m = try r.member(slug)
            let devices = try r.devices(DeviceFilter(member: m.slug))
            return (m, devices.filter { $0.kind == .cart }.map { c -> [Cell] in
                [.link(c.assetTag ?? c.serial, href: "/chariots/\(c.serial)"), .optional(c.school), .optional(c.room),
                 .text(French.number(devices.filter { $0.cart == (c.assetTag ?? c.serial) }.count)), French.status(c.status)]
            })
        }
        var page = Page("Classes mobiles — \(member.name)", viewer: v, path: "/communes/\(slug)/chariots")
        page.body.table(caption: "Classes mobiles", ["Classe mobile", "École", "Salle", "Ordinateurs", "État"], rows, numeric: [3],
                        rowHeader: true, empty: "Aucune classe mobile.")
        return html(page)
    }

    func cart(_ v: Viewer, serial: String, notice: String? = nil) async throws -> Response {
        let (cart, laptops) = try await workspace.view(as: v.audience) { r in
            let c = try r.cart(serial)
            return (c, try r.devices(DeviceFilter(cart: c.serial)))
        }
        var page = Page("Classe mobile \(cart.assetTag ?? cart.serial)", viewer: v, path: "/chariots/\(serial)")
        page.notice = notice
        if v.isStaff {
            let s = cart.serial
            page.body.html("<p class=\"actions\"><a href=\"/chariots/\(s)/remplir\">Mettre des ordinateurs dans ce chariot</a> <a href=\"/etiquettes?chariot=\(s)\">Étiquettes du chariot</a></p>\n")
        }
        page.body.facts([("École", .optional(cart.school)), ("Salle", .optional(cart.room)), ("État", French.status(cart.status)),
                         ("Fiche du chariot", .link(cart.serial, href: "/materiels/\(cart.serial)"))])
        page.body.table(caption: "Ordinateurs de la classe mobile (\(laptops.count))", Self.deviceHeader, Self.deviceRows(laptops),
                        rowHeader: true, empty: "La classe mobile est vide.")
        return html(page)
    }

    func device(_ v: Viewer, serial: String, notice: String? = nil) async throws -> Response {
        let staff = v.isStaff
        let (d, history, runs, facts, problems, names) = try await workspace.view(as: v.audience) { r in
            let d = try r.device(serial)
            return (d, try r.history(d), try r.runs(of: d, limit: staff ? 20 : 1), try r.facts(of: d),
                    try r.problems(of: d), try r.peopleNames())
        }
        let lastRun = runs.first
        var page = Page("\(d.kind.french.firstUppercased) \(d.assetTag ?? d.serial)", viewer: v, path: "/materiels/\(serial)")
        page.notice = notice
        if staff {
            let s = d.serial
            page.body.html("<p class=\"actions\"><a href=\"/materiels/\(s)/modifier\">Modifier, déplacer ou changer l'état</a> <a href=\"/etiquettes?appareils=\(s)\">Étiquette</a></p>\n")
        }
        var identity: [(String, Cell)] = [
            ("Type", .text(d.kind.french)), ("Marque et modèle", .text([d.manufacturer, d.model].compactMap { $0 }.joined(separator: " ").isEmpty ? "—" : [d.manufacturer, d.model].compactMap { $0 }.joined(separator: " "))),
            ("N° de série", .text(d.serial)), ("N° d'inventaire", .optional(d.assetTag)), ("État", French.status(d.status)),
            ("École", d.uai.map { .link(d.school ?? $0, href: "/ecoles/\($0)") } ?? "—"), ("Salle", .optional(d.room)),
            ("Classe mobile", d.cart.map { c in .text(c) } ?? "—"),
            ("Commande", .optional(d.order)), ("Prix TTC", .text(French.money(d.purchasePrice))),
        ]
        let warranty: Cell
        if let end = d.warrantyEnd {
            warranty = end < today ? .badge("terminée le \(end.french)", tone: "alerte")
                : end <= today.adding(months: 6) ? .badge("jusqu'au \(end.french) (bientôt finie)", tone: "info") : .badge("jusqu'au \(end.french)", tone: "ok")
        } else { warranty = "non renseignée" }
        identity.append(("Garantie", warranty))
        if d.simulated == true {
            identity.append(("Appareil simulé", .badge("oui : un appareil du labo de parc (parc lab), compté par aucune commune", tone: "info")))
        }
        identity.append(("Dernier contact", .text(facts.map { French.when($0.seenAt) } ?? "jamais")))
        if let (run, host) = lastRun {
            let outcome: Cell = host.failed > 0 || host.unreachable > 0 ? .badge("en échec", tone: "alerte") : .badge("réussie", tone: "ok")
            var badge = HTMLWriter()
            outcome.write(into: &badge)
            let detail: SafeHTML = staff ? " <a href=\"/executions/\(run.id!)\">détail</a>" : ""
            identity.append(("Dernière configuration", .html("\(French.when(run.startedAt)) — \(SafeHTML(written: badge.out))\(detail)")))
        } else {
            identity.append(("Dernière configuration", "aucune"))
        }
        page.body.facts(identity)
        page.body.html("<p class=\"actions\"><a href=\"/materiels/\(d.serial)/signaler\">Signaler un problème</a></p>\n")
        if !problems.isEmpty {
            page.body.element("h2", "Signalements")
            page.body.table(caption: "Problèmes signalés sur ce matériel", ["Signalement", "Problème", "Signalé le", "État"],
                            problems.map { [.link("n° \($0.id)", href: "/signalements/\($0.id)"), .text($0.kind.french), .text(French.when($0.reportedAt)),
                                            French.problemState($0.state)] }, rowHeader: true)
        }
        if staff, let facts {
            page.body.element("h2", "Faits relevés sur l'appareil")
            let f = facts.facts
            page.body.facts([("Nom", .optional(f.hostname)), ("Système", .optional("\(f.osName) \(f.osVersion)".trimmingCharacters(in: .whitespaces))),
                             ("N° de série lu", .optional(f.serial)), ("Fabricant et produit", .optional([f.vendor, f.product].compactMap { $0 }.joined(separator: " "))),
                             ("Noyau", .optional(f.kernel)), ("Processeur", .optional(f.cpuModel)), ("Mémoire", .text(FrenchText.megabytes(f.memoryMB))),
                             ("Disque libre", .text("\(FrenchText.megabytes(f.diskFreeMB)) sur \(FrenchText.megabytes(f.diskSizeMB))")),
                             ("Adresses MAC", .text(f.macs.isEmpty ? "—" : f.macs.joined(separator: ", "))), ("Relevé le", .text(French.when(facts.seenAt)))])
        }
        if staff {
            page.body.element("h2", "Exécutions")
            page.body.table(caption: "Les dernières exécutions sur ce matériel", ["Exécution", "Playbook", "Mode", "Début", "ok", "modifiés", "échecs", "injoignable"],
                            runs.map { run, host in
                                [.link("n° \(run.id!)", href: "/executions/\(run.id!)"), .text(console.shownPlaybook(run.playbook)), .text(run.checkMode ? "essai (check)" : "réel"),
                                 .text(French.when(run.startedAt)), .text(French.number(host.ok)), .text(French.number(host.changed)), .text(French.number(host.failed)),
                                 .text(host.unreachable > 0 ? "oui" : "non")]
                            }, numeric: [4, 5, 6], rowHeader: true, empty: "Aucune exécution sur ce matériel.")
        }
        page.body.element("h2", "Historique")
        page.body.table(caption: "Ce qui a changé sur ce matériel, du plus récent au plus ancien", ["Date", "Changement", "Par"],
                        history.reversed().map { e in [.text(French.when(e.at)), .text(French.sentence(e)), .text(names[e.actor] ?? e.actor)] },
                        rowHeader: true, empty: "Aucun changement enregistré.")
        return html(page)
    }

    func orders(_ v: Viewer, slug: String) async throws -> Response {
        let today = self.today
        let (member, lines) = try await workspace.view(as: v.audience) { r in
            let m = try r.member(slug)
            return (m, try r.report(member: m, today: today, findings: false).orders)
        }
        var page = Page("Commandes — \(member.name)", viewer: v, path: "/communes/\(slug)/commandes")
        page.body.table(caption: "Commandes passées au titre du groupement", ["Commande", "Lot", "Fournisseur", "Commandée le", "Livrée le", "Montant TTC", "Reste à charge"],
                        lines.map { l in
                            [.link(l.order.number, href: "/commandes/\(l.order.id!)"), .text(l.lot.map { "\($0.number) — \($0.title)" } ?? "—"), .optional(l.order.supplier),
                             .text(l.order.orderedOn?.french ?? "—"), .text(l.order.deliveredOn?.french ?? "—"), .text(French.money(l.order.amountInclTax)),
                             .text(French.money(l.ownShare))]
                        }, numeric: [5, 6], rowHeader: true, empty: "Aucune commande enregistrée.")
        return html(page)
    }

    func order(_ v: Viewer, id: String) async throws -> Response {
        let (order, lot, member, funding, documents, devices) = try await workspace.view(as: v.audience) { r in
            let o = try r.order(id)
            let m = try r.member(id: o.memberId)!
            return (o, try o.lotId.flatMap { lid in try r.lots().first { $0.id == lid } }, m, try r.fundingLines(of: o),
                    try r.documents(member: m, order: o), try r.devices(DeviceFilter(member: m.slug, order: o.number)))
        }
        var page = Page("Commande \(order.number)", viewer: v, path: "/commandes/\(id)")
        let lotText: String = lot.map { "\($0.number) — \($0.title)" } ?? "—"
        var identity: [(String, Cell)] = [("Membre", .link(member.name, href: "/communes/\(member.slug)")), ("Lot", .text(lotText))]
        identity.append(("Fournisseur", .optional(order.supplier)))
        identity.append(("Commandée le", .text(order.orderedOn?.french ?? "—")))
        identity.append(("Livrée le", .text(order.deliveredOn?.french ?? "—")))
        identity.append(("Bon de livraison", .optional(order.deliveryNote)))
        identity.append(("Montant HT", .text(French.money(order.amountExclTax))))
        identity.append(("Montant TTC", .text(French.money(order.amountInclTax))))
        page.body.facts(identity)
        var granted = Money.zero
        for line in funding where line.funder != .commune { granted = granted + (line.granted ?? .zero) }
        page.body.element("h2", "Financement")
        let fundingRows: [[Cell]] = funding.map { f -> [Cell] in
            [.text(f.funder.french), .optional(f.label), .text(French.money(f.requested)), .text(French.money(f.granted))]
        }
        page.body.table(caption: "Lignes de financement de la commande", ["Financeur", "Libellé", "Demandé", "Accordé"],
                        fundingRows,
                        numeric: [2, 3], rowHeader: true, empty: "Aucune ligne de financement.")
        page.body.element("p", "Reste à charge de la commune : \(French.money(order.amountInclTax.map { $0 - granted }))", class: "total")
        page.body.element("h2", "Documents")
        page.body.table(caption: "Documents de la commande", ["Document", "Nature", "Taille"], documents.map(Self.documentRow), numeric: [2], rowHeader: true,
                        empty: "Aucun document joint à cette commande.")
        page.body.element("h2", "Matériels livrés")
        page.body.table(caption: "Matériels de la commande (\(devices.count))", Self.deviceHeader, Self.deviceRows(devices), rowHeader: true,
                        empty: "Aucun matériel enregistré pour cette commande.")
        return html(page)
    }

    static func documentRow(_ d: DocumentInfo) -> [Cell] {
        [.link(d.title, href: "/documents/\(d.id)"), .text(d.kind.french), .text(FrenchText.size(Int64(d.size)))]
    }

    func documents(_ v: Viewer, slug: String) async throws -> Response {
        let (member, documents) = try await workspace.view(as: v.audience) { r in
            let m = try r.member(slug)
            return (m, try r.documents(member: m))
        }
        var page = Page("Documents — \(member.name)", viewer: v, path: "/communes/\(slug)/documents")
        page.body.table(caption: "Délibérations, accusés de réception, bons de livraison", ["Document", "Nature", "Taille", "Commande"],
                        documents.map { d in Self.documentRow(d) + [d.order.flatMap { n in d.orderId.map { Cell.link(n, href: "/commandes/\($0)") } } ?? "—"] },
                        numeric: [2], rowHeader: true, empty: "Aucun document enregistré. Votre technicien les ajoute avec parc.")
        return html(page)
    }

    func download(_ v: Viewer, id: String) async throws -> Response {
        let doc = try await workspace.view(as: v.audience) { r in try r.document(id) }
        let safe = doc.info.fileName.unicodeScalars.map { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-_".unicodeScalars.contains($0)) ? Character($0) : "_" }
        return Response(status: .ok, headers: [.contentType: "application/pdf", .contentDisposition: "attachment; filename=\"\(String(safe))\"",
                                               .cacheControl: "private, no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: doc.content)))
    }

    enum ReportForm { case page, pdf, csv }

    /// The commune's report: a page to read and print (its stylesheet a file, as the portal's
    /// policy wants), the same page as a PDF (A4, through WeasyPrint), or CSV for spreadsheets.
    func report(_ v: Viewer, slug: String, as form: ReportForm) async throws -> Response {
        let today = self.today
        let report = try await workspace.view(as: v.audience) { r in
            let m = try r.member(slug)
            return try r.report(member: m, today: today)
        }
        switch form {
        case .csv:
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8",
                                                   .contentDisposition: "attachment; filename=\"rapport-\(slug)-\(today).csv\"", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: report.csv())))
        case .pdf:
            let pdf = try await offload { try ReportPDF.render(report.html()) }
            return Response(status: .ok, headers: [.contentType: "application/pdf",
                                                   .contentDisposition: "inline; filename=\"rapport-\(slug)-\(today).pdf\"", .cacheControl: "private, no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: pdf)))
        case .page:
            return html(report.html(stylesheet: "/static/rapport.css", links: [("Télécharger en PDF", "rapport.pdf"), ("Pour tableur (CSV)", "rapport.csv"),
                                                                             ("Retour à la commune", v.isStaff ? "/communes/\(slug)" : "/")]))
        }
    }

    func memberProblems(_ v: Viewer, slug: String) async throws -> Response {
        let (member, problems) = try await workspace.view(as: v.audience) { r in
            let m = try r.member(slug)
            return (m, try r.problems(member: m))
        }
        var page = Page("Signalements — \(member.name)", viewer: v, path: "/communes/\(slug)/signalements")
        page.body.element("p", "Pour signaler un problème, ouvrez la fiche du matériel (depuis son école, sa salle ou en scannant son étiquette) et choisissez « Signaler un problème ».")
        page.body.table(caption: "Problèmes signalés", ["Signalement", "Matériel", "Problème", "Signalé le", "État"], Self.problemRows(problems),
                        rowHeader: true, empty: "Aucun problème signalé.")
        return html(page)
    }

    static func problemRows(_ problems: [Problem]) -> [[Cell]] {
        problems.map { p in
            [.link("n° \(p.id)", href: "/signalements/\(p.id)"), .link(p.device, href: "/materiels/\(p.serial)"), .text(p.kind.french),
             .text(French.when(p.reportedAt)), French.problemState(p.state)]
        }
    }

    func problemPage(_ v: Viewer, id: String, notice: String? = nil, alert: String? = nil, entered: [String: String] = [:],
                     status: HTTPResponse.Status = .ok) async throws -> Response {
        let (p, names) = try await workspace.view(as: v.audience) { r in (try r.problem(id), try r.peopleNames()) }
        func who(_ login: String?) -> String { login.map { names[$0] ?? $0 } ?? "?" }
        var page = Page("Signalement n° \(p.id)", viewer: v, path: "/signalements/\(id)")
        page.notice = notice
        page.alert = alert
        page.body.facts([("Matériel", .link(p.device, href: "/materiels/\(p.serial)")), ("Problème", .text(p.kind.french)), ("État", French.problemState(p.state)),
                         ("Depuis le", .text(p.since?.french ?? "—")), ("Signalé le", .text(French.when(p.reportedAt))), ("Par", .text(who(p.reportedBy))),
                         ("À rappeler", .text([p.contactName, p.contactPhone.replacingOccurrences(of: " ", with: "\u{00A0}")].filter { !$0.isEmpty }.joined(separator: " — "))),
                         ("Pris en charge", .text(p.acceptedAt.map { "le \(French.when($0)) par \(who(p.acceptedBy))" } ?? "pas encore")),
                         ("Clos", .text(p.closedAt.map { "le \(French.when($0)) par \(who(p.closedBy))" } ?? "non"))]
                        + (p.outcome.map { [("Issue", .text($0.french.firstUppercased))] } ?? []))
        page.body.element("h2", "Description")
        page.body.element("p", p.description, class: "description")
        page.body.element("h2", "Suivi")
        if p.notes.isEmpty {
            page.body.element("p", p.state == .closed ? "Aucun message de suivi." : "Pas encore de message du technicien.")
        } else {
            page.body.html("<ol class=\"suivi\">")
            for n in p.notes {
                page.body.html("<li><p class=\"quand\">"); page.body.text("Le \(French.when(n.at)), par \(who(n.by))"); page.body.html("</p><p>")
                page.body.text(n.text); page.body.html("</p></li>")
            }
            page.body.html("</ol>\n")
        }
        if let resolution = p.resolution {
            page.body.element("h2", "Ce qui a été fait")
            page.body.element("pre", resolution)
        }
        guard v.isStaff, p.state != .closed else { return html(page, status: status) }
        // The technician's part of the cycle: take it, write follow-ups, close it with what was done.
        let base = "/signalements/\(p.id)"
        let csrf: SafeHTML = "<input type=\"hidden\" name=\"csrf\" value=\"\(v.csrf ?? "")\">"
        page.body.element("h2", "Traiter le signalement")
        if p.state == .open {
            page.body.html("<form method=\"post\" action=\"\(base)/prendre\">\(csrf)<button type=\"submit\">Prendre en charge (le matériel passe en réparation)</button></form>\n")
        }
        page.body.html("<form class=\"formulaire\" method=\"post\" action=\"\(base)/suivi\">\(csrf)")
        FormField(name: "suivi", label: "Message de suivi pour la commune", value: entered["suivi"] ?? "", help: "Par exemple : pièce commandée, retour prévu lundi (2000 caractères au plus)",
                  required: true, maxLength: 2000, multiline: true).write(into: &page.body)
        page.body.html("<button type=\"submit\">Envoyer le message</button></form>\n")
        page.body.html("<form class=\"formulaire\" method=\"post\" action=\"\(base)/clore\">\(csrf)")
        FormField(name: "issue", label: "Ce que devient le matériel", value: entered["issue"] ?? ProblemOutcome.repaired.rawValue, required: true,
                  options: ProblemOutcome.allCases.map { ($0.rawValue, $0.french.firstUppercased) }).write(into: &page.body)
        FormField(name: "fait", label: "Ce qui a été fait", value: entered["fait"] ?? "", help: "La commune le lit (2000 caractères au plus)",
                  required: true, maxLength: 2000, multiline: true).write(into: &page.body)
        page.body.html("<button type=\"submit\">Clore le signalement</button></form>\n")
        return html(page, status: status)
    }

    enum ProblemStep { case accept, note, close }

    /// A technician's step on a problem, performed as the same operation as `parc problem accept|note|close`.
    func handleProblem(_ v: Viewer, id: String, step: ProblemStep, request: Request, context: WebContext) async throws -> Response {
        let fields = try await form(request, context: context)
        try checkCSRF(fields, v)
        let p = try await workspace.view(as: v.audience) { r in try r.problem(id) }
        let parc = LocalParc(console.workspace(for: v))
        let notice: String
        do {
            switch step {
            case .accept:
                _ = try await parc.perform(ProblemOps.Accept(p.id))
                notice = "Signalement pris en charge : le matériel est en réparation."
            case .note:
                _ = try await parc.perform(ProblemOps.Note(p.id, text: fields["suivi"] ?? ""))
                notice = "Message de suivi enregistré : la commune le lit sur ce signalement."
            case .close:
                guard let outcome = fields["issue"].flatMap(ProblemOutcome.init(rawValue:)) else {
                    return try await problemPage(v, id: id, alert: "Choisissez ce que devient le matériel.", entered: fields, status: .unprocessableContent)
                }
                _ = try await parc.perform(ProblemOps.Close(p.id, done: fields["fait"] ?? "", outcome: outcome))
                notice = "Signalement clos (\(outcome.french))."
            }
        } catch let error as InventoryError {
            let why: String = switch error {
            case .invalid(let bad) where bad.field == "note": "Écrivez le message de suivi (2000 caractères au plus)."
            case .invalid(let bad) where bad.field == "resolution": "Dites ce qui a été fait (2000 caractères au plus)."
            case .invalid(let bad) where bad.field == "problem": "Ce signalement a changé entre-temps : il est \(p.state.french). Rien n'a été enregistré."
            default: "Rien n'a été enregistré : \(French.explain(error))"
            }
            return try await problemPage(v, id: id, alert: why, entered: fields, status: .unprocessableContent)
        }
        logger.info("problem handled", metadata: ["problem": "\(p.id)", "step": "\(step)", "account": "\(v.account.login)"])
        return redirect("/signalements/\(p.id)?avis=" + Self.query(notice))
    }

    // MARK: Reporting a problem

    static let problemFields: [(String, String)] = [("kind", "Nature du problème"), ("description", "Description"), ("since", "Depuis le"),
                                                    ("contactName", "Personne à rappeler"), ("contactPhone", "Téléphone")]

    func reportForm(_ v: Viewer, serial: String, values: [String: String], errors: [String: String], status: HTTPResponse.Status = .ok) async throws -> Response {
        let d = try await workspace.view(as: v.audience) { r in try r.device(serial) }
        var page = Page("Signaler un problème", viewer: v, path: "/materiels/\(serial)/signaler")
        page.body.html("<p>Matériel : ")
        page.body.link("/materiels/\(d.serial)", "\(d.kind.french) \(d.assetTag ?? d.serial)\(d.school.map { " — \($0)" } ?? "")\(d.room.map { ", salle \($0)" } ?? "")")
        page.body.html("</p>\n")
        if !errors.isEmpty {
            page.body.html("<div class=\"erreurs\" role=\"alert\"><p>Le signalement n'a pas été enregistré : corrigez les champs indiqués.</p></div>\n")
        }
        page.body.html("<form class=\"formulaire\" method=\"post\" action=\"/materiels/\(d.serial)/signaler\" novalidate>")
        page.body.html("<input type=\"hidden\" name=\"csrf\" value=\"\(v.csrf ?? "")\">")
        FormField(name: "kind", label: "Nature du problème", value: values["kind"] ?? "broken", error: errors["kind"], required: true,
                  options: ProblemKind.allCases.map { ($0.rawValue, $0.french.firstUppercased) }).write(into: &page.body)
        FormField(name: "description", label: "Description", value: values["description"] ?? "", error: errors["description"],
                  help: "Ce que vous constatez (2000 caractères au plus)", required: true, maxLength: 2000, multiline: true).write(into: &page.body)
        FormField(name: "since", label: "Depuis le", value: values["since"] ?? "", error: errors["since"], help: "Date au format JJ/MM/AAAA, si vous la connaissez",
                  maxLength: 10).write(into: &page.body)
        FormField(name: "contactName", label: "Personne à rappeler", value: values["contactName"] ?? "", error: errors["contactName"],
                  required: true, maxLength: 100, autocomplete: "name").write(into: &page.body)
        FormField(name: "contactPhone", label: "Téléphone", value: values["contactPhone"] ?? "", error: errors["contactPhone"],
                  help: "Par exemple 03 87 00 00 00", required: true, maxLength: 40, autocomplete: "tel").write(into: &page.body)
        page.body.html("<p class=\"actions\"><button type=\"submit\">Envoyer le signalement</button> <a href=\"/materiels/\(d.serial)\">Annuler</a></p></form>\n")
        return html(page, status: status)
    }

    /// Checks a problem report as typed, with the store's own rules (`ProblemReport`); errors in French, by field.
    static func validateProblem(_ fields: [String: String], serial: String) -> (ProblemReport?, [String: String]) {
        var errors: [String: String] = [:]
        let kind = ProblemKind(rawValue: fields["kind"] ?? "")
        if kind == nil { errors["kind"] = "Choisissez la nature du problème dans la liste." }
        let description = (fields["description"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let maxDescription = ProblemReport.descriptionLength
        if description.isEmpty { errors["description"] = "Décrivez le problème." }
        else if description.count > maxDescription { errors["description"] = "La description fait \(description.count) caractères ; \(maxDescription) au plus." }
        else if (try? TextRules.text(description, field: "description", max: maxDescription)) == nil { errors["description"] = "La description contient des caractères invisibles ; retapez-la." }
        var since: Day? = nil
        let sinceText = (fields["since"] ?? "").trimmingCharacters(in: .whitespaces)
        if !sinceText.isEmpty {
            if let day = try? Day(parsing: sinceText) { since = day } else { errors["since"] = "Date incomprise : écrivez-la au format JJ/MM/AAAA, par exemple 03/11/2026." }
        }
        let name = (fields["contactName"] ?? "").trimmingCharacters(in: .whitespaces)
        if name.isEmpty { errors["contactName"] = "Indiquez qui rappeler." }
        else if (try? TextRules.line(name, field: "contactName", max: ProblemReport.contactNameLength)) == nil {
            errors["contactName"] = "Le nom doit tenir sur une ligne de \(ProblemReport.contactNameLength) caractères au plus."
        }
        let phone = (fields["contactPhone"] ?? "").trimmingCharacters(in: .whitespaces)
        if phone.isEmpty { errors["contactPhone"] = "Indiquez un numéro de téléphone." }
        else if !ProblemReport.isPhoneNumber(phone) { errors["contactPhone"] = "Numéro incompris : 10 chiffres au moins, par exemple 03 87 00 00 00." }
        guard errors.isEmpty, let kind else { return (nil, errors) }
        return (ProblemReport(serial: serial, kind: kind, description: description, since: since, contactName: name, contactPhone: phone), [:])
    }

    func reportProblem(_ v: Viewer, serial: String, request: Request, context: WebContext) async throws -> Response {
        _ = try await workspace.view(as: v.audience) { r in try r.device(serial) }
        let fields = try await form(request, context: context)
        try checkCSRF(fields, v)
        let (report, errors) = Self.validateProblem(fields, serial: serial)
        guard let report else {
            return try await reportForm(v, serial: serial, values: fields, errors: errors, status: .unprocessableContent)
        }
        let problem = try await workspace.report(report, by: v.audience)
        logger.info("problem reported", metadata: ["problem": "\(problem.id)", "device": "\(serial)", "account": "\(v.account.login)"])
        return redirect("/signalements/\(problem.id)?nouveau=1")
    }
}
