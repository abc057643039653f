import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ParcApp
import ParcCore

/// Technicians' pages (read-only): search across members, the problem queue, runs, pending work;
/// and the admin's list of accounts. A commune account gets "not found" on all of them.
enum StaffPages {
    static let routes: [Route] = [
        Route(method: .get, path: "/recherche", access: .staff, summary: "Search devices across every member") { p, r, _, v in
            try await p.search(v!, text: r.uri.queryParameters.get("q") ?? "")
        }.kept,
        Route(method: .get, path: "/signalements", access: .staff, summary: "The problem queue") { p, r, _, v in
            try await p.problemQueue(v!, all: r.uri.queryParameters.get("tous") != nil)
        }.kept,
        Route(method: .get, path: "/executions", access: .staff, summary: "Configuration runs") { p, r, _, v in
            try await p.runs(v!, notice: r.uri.queryParameters.get("avis"))
        },
        Route(method: .get, path: "/en-attente", access: .staff, summary: "Pending work") { p, _, _, v in
            try await p.pending(v!)
        },
        Route(method: .get, path: "/admin/comptes", access: .admin, summary: "Accounts (made with `parc user add`)") { p, r, _, v in
            try await p.accounts(v!, notice: r.uri.queryParameters.get("fait").map { "Le compte \($0) est modifié ; ses sessions sont fermées s'il est désactivé." })
        },
        Route(method: .post, path: "/admin/comptes/{account}/etat", access: .admin, summary: "Disable or enable an account",
              parameters: [("account", .account)]) { p, r, c, v in
            try await p.setAccountState(v!, login: c.parameter("account"), request: r, context: c)
        },
    ]
}

extension Portal {
    func search(_ v: Viewer, text: String) async throws -> Response {
        let needle = text.trimmingCharacters(in: .whitespaces)
        var page = Page("Recherche", viewer: v, path: "/recherche")
        page.body.html("<form class=\"formulaire\" method=\"get\" action=\"/recherche\" role=\"search\">")
        FormField(name: "q", label: "Rechercher un matériel", value: needle,
                  help: "N° de série, n° d'inventaire, adresse MAC, nom réseau, modèle, école ou commune", type: "search", maxLength: 200).write(into: &page.body)
        page.body.html("<button type=\"submit\">Rechercher</button></form>\n")
        guard !needle.isEmpty else { return html(page) }
        guard needle.count <= 200 else { throw WebError.badRequest("La recherche est trop longue (200 caractères au plus).") }
        let (found, names) = try await workspace.view(as: v.audience) { r in (try r.find(needle, limit: 200), try r.memberNames()) }
        let caption = found.total > found.rows.count ? "\(found.total) résultats (les \(found.rows.count) premiers)" : "\(found.total) résultat\(found.total > 1 ? "s" : "")"
        page.body.table(caption: caption, ["Matériel", "Type", "Modèle", "N° de série", "État", "Commune", "École", "Salle"],
                        found.rows.map { d in
                            [.link(d.assetTag ?? d.serial, href: "/materiels/\(d.serial)"), .text(d.kind.french),
                             .text([d.manufacturer, d.model].compactMap { $0 }.joined(separator: " ")), .text(d.serial), French.status(d.status),
                             d.member.map { .link(names[$0] ?? $0, href: "/communes/\($0)") } ?? "—", .optional(d.school), .optional(d.room)]
                        }, rowHeader: true, empty: "Aucun matériel ne correspond à « \(needle) ».")
        return html(page)
    }

    func problemQueue(_ v: Viewer, all: Bool) async throws -> Response {
        let (everyProblem, names) = try await workspace.view(as: v.audience) { r in (try r.problems(), try r.memberNames()) }
        let problems = everyProblem.filter { all || $0.state != .closed }
        var page = Page("Signalements à traiter", viewer: v, path: "/signalements")
        page.body.element("p", "Ouvrez un signalement pour le prendre en charge (le matériel passe en réparation), écrire à la commune où en est la réparation, puis le clore en disant ce qui a été fait : le matériel est remis en service, retiré s'il est remplacé, ou laissé tel quel.")
        page.body.html(all ? "<p><a href=\"/signalements\">Masquer les signalements clos</a></p>\n" : "<p><a href=\"/signalements?tous=1\">Voir aussi les signalements clos</a></p>\n")
        page.body.table(caption: all ? "Tous les signalements" : "Signalements ouverts ou pris en charge",
                        ["Signalement", "Matériel", "Problème", "Signalé le", "État", "Commune"],
                        PortalPages.problemRowsWithMember(problems, names: names), rowHeader: true, empty: "Aucun signalement en attente.")
        return html(page)
    }

    func runs(_ v: Viewer, notice: String? = nil) async throws -> Response {
        let (runs, names) = try await workspace.view(as: v.audience) { r in (try r.runs(limit: 100), try r.peopleNames()) }
        var page = Page("Exécutions de configuration", viewer: v, path: "/executions")
        page.notice = notice
        page.body.html("<p><a href=\"/executions/nouvelle\">Lancer une exécution</a></p>\n")
        page.body.table(caption: "Les 100 dernières exécutions", ["Exécution", "Playbook", "Sélection", "Mode", "Par", "Début", "Résultat"],
                        runs.map { run in
                            [.link("n° \(run.id!)", href: "/executions/\(run.id!)"), .text(console.shownPlaybook(run.playbook)), .text(run.selector),
                             .text(run.checkMode ? "essai (check)" : "réel"), .text(names[run.actor] ?? run.actor), .text(French.when(run.startedAt)), Self.outcome(run)]
                        }, rowHeader: true, empty: "Aucune exécution enregistrée.")
        // The schools' relays (parc relay): their schools' devices are run through them.
        let relays = console.workspace.relays?.status ?? []
        page.body.element("h2", "Relais des écoles")
        page.body.table(caption: "Relais connectés maintenant", ["Relais", "Écoles servies", "Dernier contact", "Travaux en cours"],
                        relays.map { r in
                            [.text(r.login), .text(r.schools.joined(separator: ", ")), .text("il y a \(Int(r.secondsSinceSeen)) s"), .text(String(r.jobs))]
                        }, rowHeader: true,
                        empty: "Aucun relais connecté : ce serveur joint lui-même les appareils.")
        return html(page)
    }

    static func outcome(_ run: RunSummary) -> Cell {
        if run.aborted != nil && run.exitCode != nil { return .badge("arrêtée avant la fin", tone: "alerte") }
        return switch run.exitCode {
        case nil: .badge("en cours ou interrompue", tone: "info")
        case 0?: .badge("réussie", tone: "ok")
        case 4?: .badge("appareils injoignables", tone: "alerte")
        default: .badge("en échec", tone: "alerte")
        }
    }

    func pending(_ v: Viewer) async throws -> Response {
        let items = try await workspace.view(as: v.audience) { r in try r.pending() }
        var page = Page("Travail en attente", viewer: v, path: "/en-attente")
        page.body.html("<p>Ce qui n'a pas pu être appliqué (appareil éteint, injoignable) ; « Servir maintenant » (ou <code>parc run --pending</code>) le rejoue sur les appareils qui répondent.</p>\n")
        page.body.table(caption: "Travail en attente par appareil", ["Appareil", "Playbook", "Raison", "Depuis", "Exécution"],
                        items.map { i in
                            [.link(i.device, href: "/materiels/\(i.serial)"), .text(console.shownPlaybook(i.playbook)), .text(i.reason), .text(French.when(i.since)),
                             i.runId.map { .link("n° \($0)", href: "/executions/\($0)") } ?? "—"]
                        }, rowHeader: true, empty: "Rien en attente.")
        if !items.isEmpty {
            page.body.html("<form method=\"post\" action=\"/en-attente/servir\"><input type=\"hidden\" name=\"csrf\" value=\"\(v.csrf ?? "")\"><button type=\"submit\">Servir maintenant</button></form>\n")
        }
        return html(page)
    }

    func accounts(_ v: Viewer, notice: String? = nil) async throws -> Response {
        let (accounts, members) = try await workspace.view(as: v.audience) { r in
            (try r.accounts(), Dictionary(uniqueKeysWithValues: try r.members().map { ($0.id!, $0.slug) }))
        }
        var page = Page("Comptes", viewer: v, path: "/admin/comptes")
        page.notice = notice
        page.body.html("<p>Les comptes se créent en ligne de commande (<code>parc user add</code>, <code>parc user passwd</code>, <code>parc token add</code>) ; ici, un administrateur les désactive ou les réactive.</p>\n")
        let csrf = v.csrf ?? ""
        page.body.table(caption: "Comptes du portail", ["Identifiant", "Rôle", "Membre", "État", "Créé le", "Action"],
                        accounts.map { a in
                            let action: Cell = a.id == v.account.id ? "(votre compte)" : .html(
                                "<form method=\"post\" action=\"/admin/comptes/\(a.login)/etat\"><input type=\"hidden\" name=\"csrf\" value=\"\(csrf)\">"
                                + "<input type=\"hidden\" name=\"etat\" value=\"\(a.disabled ? "actif" : "desactive")\">"
                                + "<button type=\"submit\">\(a.disabled ? "Réactiver" : "Désactiver") <span class=\"visuellement-cache\">\(a.login)</span></button></form>")
                            return [.text(a.login), .text(a.role.french), .optional(a.memberId.flatMap { members[$0] }),
                                    a.disabled ? .badge("désactivé", tone: "alerte") : .badge("actif", tone: "ok"), .text(French.when(a.createdAt)), action]
                        }, rowHeader: true, empty: "Aucun compte.")
        return html(page)
    }

    /// An admin disables or enables another account (audited, the admin as actor).
    func setAccountState(_ v: Viewer, login: String, request: Request, context: WebContext) async throws -> Response {
        let account = try await workspace.view(as: v.audience) { r in try? r.account(login) }
        guard let account, account.login == login else { throw WebError.notFound }
        let fields = try await form(request, context: context)
        try checkCSRF(fields, v)
        guard account.id != v.account.id else { throw WebError.badRequest("Vous ne pouvez pas désactiver votre propre compte.") }
        let disable: Bool
        switch fields["etat"] {
        case "desactive": disable = true
        case "actif": disable = false
        default: throw WebError.badRequest("Choisissez « Désactiver » ou « Réactiver ».")
        }
        try await Sessions.setDisabled(login, disable, by: v.account, in: workspace)
        logger.notice("account \(disable ? "disabled" : "enabled")", metadata: ["account": "\(login)", "by": "\(v.account.login)"])
        return redirect("/admin/comptes?fait=\(login.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
    }
}

extension PortalPages {
    static func problemRowsWithMember(_ problems: [Problem], names: [String: String]) -> [[Cell]] {
        zip(problems, Portal.problemRows(problems)).map { p, row in row + [p.member.map { .link(names[$0] ?? $0, href: "/communes/\($0)") } ?? "—"] }
    }
}
