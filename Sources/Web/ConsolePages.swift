import FormData
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ParcApp
import ParcCore

/// The technicians' console: start runs and follow them live, cancel, rerun the failed devices,
/// serve pending work; import delivery notes with a preview; edit, move and set the status of
/// devices, fill carts (audited, stale edits refused); onboard devices; print labels.
enum ConsolePages {
    static let routes: [Route] = [
        Route(method: .get, path: "/executions/nouvelle", access: .staff, summary: "The form to start a run") { p, r, _, v in
            try await p.newRunForm(v!, filter: r.uri.queryParameters.get("filtre") ?? "")
        },
        Route(method: .post, path: "/executions", access: .staff, summary: "Start a run") { p, r, c, v in
            try await p.startRun(v!, request: r, context: c)
        },
        Route(method: .get, path: "/executions/{run}", access: .staff, summary: "One run: live while it goes, then per device and task, with diffs",
              parameters: [("run", .run)]) { p, r, c, v in
            try await p.runPage(v!, id: c.parameter("run"), notice: r.uri.queryParameters.get("avis"))
        },
        Route(method: .get, path: "/executions/{run}/evenements", access: .staff, summary: "A run's progress as server-sent events",
              parameters: [("run", .run)]) { p, r, c, v in
            try await p.runEvents(v!, id: c.parameter("run"), request: r)
        },
        Route(method: .post, path: "/executions/{run}/annuler", access: .staff, summary: "Cancel a run", parameters: [("run", .run)]) { p, r, c, v in
            try await p.cancelRun(v!, id: c.parameter("run"), request: r, context: c)
        },
        Route(method: .post, path: "/executions/{run}/relancer", access: .staff, summary: "Rerun a run's failed and unreachable devices",
              parameters: [("run", .run)]) { p, r, c, v in
            try await p.rerunFailed(v!, id: c.parameter("run"), request: r, context: c)
        },
        Route(method: .post, path: "/en-attente/servir", access: .staff, summary: "Serve pending work now") { p, r, c, v in
            try await p.servePending(v!, request: r, context: c)
        },
        Route(method: .get, path: "/import", access: .staff, summary: "The form to import a delivery note") { p, _, _, v in
            p.html(p.importForm(v!))
        },
        Route(method: .post, path: "/import", access: .staff, summary: "Preview a delivery note: each row, what it would do or what is wrong") { p, r, c, v in
            try await p.previewImport(v!, request: r, context: c)
        },
        Route(method: .post, path: "/import/confirmer", access: .staff, summary: "Import a previewed delivery note, all rows or none") { p, r, c, v in
            try await p.confirmImport(v!, request: r, context: c)
        },
        Route(method: .get, path: "/materiels/{device}/modifier", access: .staff, summary: "The form to edit, move or set the status of a device",
              parameters: [("device", .device)]) { p, _, c, v in
            try await p.editDeviceForm(v!, serial: c.parameter("device"))
        },
        Route(method: .post, path: "/materiels/{device}/modifier", access: .staff, summary: "Edit, move or set the status of a device",
              parameters: [("device", .device)]) { p, r, c, v in
            try await p.editDevice(v!, serial: c.parameter("device"), request: r, context: c)
        },
        Route(method: .get, path: "/chariots/{cart}/remplir", access: .staff, summary: "The form to put laptops in a mobile class",
              parameters: [("cart", .cart)]) { p, _, c, v in
            try await p.fillCartForm(v!, serial: c.parameter("cart"))
        },
        Route(method: .post, path: "/chariots/{cart}/remplir", access: .staff, summary: "Put laptops in a mobile class",
              parameters: [("cart", .cart)]) { p, r, c, v in
            try await p.fillCart(v!, serial: c.parameter("cart"), request: r, context: c)
        },
        Route(method: .get, path: "/mise-en-service", access: .staff, summary: "Onboarding: the form, or an onboarding's progress") { p, r, _, v in
            try await p.onboardingPage(v!, follow: r.uri.queryParameters.get("suivi"))
        },
        Route(method: .post, path: "/mise-en-service", access: .staff, summary: "Onboard devices") { p, r, c, v in
            try await p.startOnboarding(v!, request: r, context: c)
        },
        Route(method: .get, path: "/etiquettes", access: .staff, summary: "Labels: pick devices or a mobile class") { p, r, _, v in
            try await p.labelsPage(v!, query: r.uri.queryParameters)
        },
    ]
}

// MARK: Runs

extension Portal {
    /// The playbooks a run may name: the YAML files of `playbooks/` (never a path elsewhere).
    func playbooks() -> [String] {
        let dir = console.workspace.playbooksDirectory.path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { ($0.hasSuffix(".yml") || $0.hasSuffix(".yaml")) && !$0.hasPrefix(".") }.sorted()
    }

    func playbookPath(_ name: String) throws -> String {
        guard playbooks().contains(name) else {
            throw AppError("'\(name)' is not a playbook of \(console.workspace.playbooksDirectory.path) (give its file name, e.g. baseline.yml)")
        }
        return console.workspace.playbooksDirectory.appendingPathComponent(name).path
    }

    func newRunForm(_ v: Viewer, filter: String, fields: [String: [String]] = [:], error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let (devices, names) = try await workspace.view(as: v.audience) { r in (try r.devices().filter { $0.address != nil }, try r.memberNames()) }
        let needle = filter.trimmingCharacters(in: .whitespaces).lowercased()
        let shown = devices.filter { d in
            needle.isEmpty || [d.serial, d.inventoryName, d.assetTag, d.hostname, d.address, d.member, d.member.flatMap { names[$0] }, d.school, d.room, d.cart]
                .contains { $0?.lowercased().contains(needle) == true }
        }.prefix(500)
        var page = Page("Lancer une exécution", viewer: v, path: "/executions")
        page.alert = error
        page.body.element("p", "Un playbook du dossier « playbooks » sur des appareils choisis par un motif (comme « --limit ») ou cochés dans la liste. L'essai (check) ne change rien et montre ce qui changerait.")
        page.body.html("<form class=\"formulaire\" method=\"get\" action=\"/executions/nouvelle\" role=\"search\">")
        FormField(name: "filtre", label: "Filtrer la liste des appareils", value: filter, help: "série, nom, adresse, commune, école, salle, chariot", type: "search", maxLength: 200).write(into: &page.body)
        page.body.html("<button type=\"submit\">Filtrer</button></form>\n")
        page.body.html("<form method=\"post\" action=\"/executions\">")
        page.body.html("<input type=\"hidden\" name=\"csrf\" value=\"\(v.csrf ?? "")\">")
        page.body.html("<div class=\"formulaire\">")
        let books = playbooks()
        FormField(name: "playbook", label: "Playbook", value: fields["playbook"]?.first ?? "", required: true,
                  options: books.map { ($0, $0) }).write(into: &page.body)
        FormField(name: "motif", label: "Appareils (motif)", value: fields["motif"]?.first ?? "",
                  help: "groupes ou appareils à la manière d'Ansible, par ex. school_0572113m:&kind_laptop:!lab-03 ; vide : seulement les appareils cochés",
                  maxLength: 500).write(into: &page.body)
        page.body.html("<div class=\"case\"><input type=\"checkbox\" id=\"champ-essai\" name=\"essai\" value=\"1\"\(fields.isEmpty || fields["essai"] != nil ? " checked" : "")><label for=\"champ-essai\">Essai (check) : ne rien changer, montrer ce qui changerait</label></div>\n")
        page.body.html("<div class=\"case\"><input type=\"checkbox\" id=\"champ-diff\" name=\"diff\" value=\"1\"\(fields.isEmpty || fields["diff"] != nil ? " checked" : "")><label for=\"champ-diff\">Montrer les différences des fichiers (diff)</label></div>\n")
        FormField(name: "tags", label: "Étiquettes de tâches (tags)", value: fields["tags"]?.first ?? "", help: "séparées par des virgules ; vide : toutes les tâches",
                  maxLength: 200).write(into: &page.body)
        FormField(name: "sauf", label: "Étiquettes à sauter (skip-tags)", value: fields["sauf"]?.first ?? "", help: "séparées par des virgules, par ex. packages ; vide : n'en sauter aucune",
                  maxLength: 200).write(into: &page.body)
        FormField(name: "variables", label: "Variables (-e)", value: fields["variables"]?.first ?? "", help: "une par ligne : nom=valeur ; la valeur est prise telle quelle, jamais interprétée comme un modèle",
                  maxLength: 4000, multiline: true).write(into: &page.body)
        page.body.html("</div>")
        let picked = Set(fields["appareil"] ?? [])
        page.body.html("<fieldset><legend>")
        page.body.text("Appareils cochés (\(shown.count) affiché\(shown.count > 1 ? "s" : "") sur \(devices.count) ayant une adresse)")
        page.body.html("</legend><div class=\"liste-choix\">")
        for d in shown {
            let id = "appareil-\(d.serial)"
            page.body.html("<div class=\"case\"><input type=\"checkbox\" id=\"\(id)\" name=\"appareil[]\" value=\"\(d.serial)\"\(picked.contains(d.serial) ? " checked" : "")><label for=\"\(id)\">")
            page.body.text("\(d.inventoryName) — \(d.serial) — \([d.member.map { names[$0] ?? $0 }, d.school, d.room ?? d.cart].compactMap { $0 }.joined(separator: " / "))")
            page.body.html("</label></div>")
        }
        if shown.isEmpty { page.body.empty("Aucun appareil avec une adresse ne correspond au filtre.") }
        page.body.html("</div></fieldset>\n<button type=\"submit\">Lancer</button></form>\n")
        return html(page, status: status)
    }

    /// What a form or the API asks for, as a run request.
    func runRequest(playbook: String, limit: String?, devices: [String], check: Bool, diff: Bool, tags: String?, skipTags: String? = nil,
                    variables: [(String, String)]) throws -> RunRequest {
        var request = RunRequest(playbook: try playbookPath(playbook))
        request.limit = limit?.trimmingCharacters(in: .whitespaces).nonEmpty
        if request.limit == nil && devices.isEmpty { throw AppError("choose devices: a pattern, or devices picked in the list") }
        if !devices.isEmpty { request.only = Set(devices.map { $0.lowercased() }) }
        request.check = check
        request.diff = diff
        request.tags = RunRequest.tagSet(tags)
        request.skipTags = RunRequest.tagSet(skipTags)
        var given: [String: String] = [:]
        for (k, value) in variables {
            guard ExtraVars.isName(k) else { throw AppError("'\(k)' is not a variable name (letters, digits, _)") }
            given[k] = value
        }
        // Data, never templates: a request must not make the server read its files or environment.
        request.giveData(given)
        request.parameters = RunParameters(tags: tags?.nonEmpty, skipTags: skipTags?.nonEmpty, limit: request.limit, dataVars: given)
        request.become = Console.become
        return request
    }

    func startRun(_ v: Viewer, request: Request, context: WebContext) async throws -> Response {
        let posted = try await formFields(request, context: context)
        let fields = posted.values
        // The form as it came, to show it again: each field's value, the devices picked.
        let all = fields.mapValues { [$0] }.merging(posted.lists) { _, list in list }
        try checkCSRF(fields, v)
        var variables: [(String, String)] = []
        for line in (fields["variables"] ?? "").split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let eq = line.firstIndex(of: "=") else {
                return try await newRunForm(v, filter: "", fields: all, error: "Variables : « \(line) » n'est pas de la forme nom=valeur.", status: .unprocessableContent)
            }
            variables.append((String(line[..<eq]).trimmingCharacters(in: .whitespaces), String(line[line.index(after: eq)...])))
        }
        do {
            let runRequest = try runRequest(playbook: fields["playbook"] ?? "", limit: fields["motif"], devices: all["appareil"] ?? [],
                                            check: fields["essai"] != nil, diff: fields["diff"] != nil, tags: fields["tags"], skipTags: fields["sauf"], variables: variables)
            let console = self.console
            guard let id = try await offload({ try console.start(runRequest, as: v) }) else {
                return try await newRunForm(v, filter: "", fields: all, error: "Aucun appareil ayant une adresse ne correspond à cette sélection : rien à faire.",
                                            status: .unprocessableContent)
            }
            return redirect("/executions/\(id)")
        } catch let busy as DeviceBusy {
            return try await newRunForm(v, filter: "", fields: all,
                                        error: "Refusé : \(busy.device) est déjà pris par l'exécution n° \(busy.runID) (lancée par \(busy.actor)). Attendez qu'elle se termine ou retirez cet appareil.",
                                        status: .conflict)
        } catch let error as WebError {
            throw error
        } catch {
            return try await newRunForm(v, filter: "", fields: all, error: "Impossible de lancer : \(French.explain(error))", status: .unprocessableContent)
        }
    }

    func runEvents(_ v: Viewer, id: String, request: Request) async throws -> Response {
        guard let runId = Int64(id) else { throw WebError.notFound }
        _ = try await workspace.view(as: v.audience) { r in try r.run(runId) }
        let last = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int($0) }
        return RunEvents.response(run: runId, console: console, audience: v.audience, after: last)
    }

    func runPage(_ v: Viewer, id: String, notice: String?) async throws -> Response {
        guard let runId = Int64(id) else { throw WebError.notFound }
        let (detail, names) = try await workspace.view(as: v.audience) { r in (try r.run(runId), try r.peopleNames()) }
        let run = detail.run
        var page = Page("Exécution n° \(runId)", viewer: v, path: "/executions/\(id)")
        page.notice = notice
        page.body.facts([("Playbook", .text(console.shownPlaybook(run.playbook))), ("Empreinte", .text(String(run.playbookHash.prefix(16)))), ("Sélection", .text(run.selector)),
                         ("Mode", .text(run.checkMode ? "essai (check)" : "réel")), ("Par", .text(names[run.actor] ?? run.actor)), ("Début", .text(French.when(run.startedAt))),
                         ("Fin", .text(run.endedAt.map(French.when) ?? "—")), ("Résultat", Self.outcome(run))],
                        ids: ["Fin": "fin-execution", "Résultat": "resultat-execution"])
        if let aborted = run.aborted { page.body.element("p", "Arrêtée avant la fin : \(aborted)", class: "erreurs") }
        let csrf = v.csrf ?? ""
        if run.endedAt == nil {
            // Live: the events so far, then the script follows the rest (without it, the page reloads).
            let job = console.run(runId)
            page.script = true
            page.refresh = 3
            page.body.html("<form method=\"post\" action=\"/executions/\(runId)/annuler\"><input type=\"hidden\" name=\"csrf\" value=\"\(csrf)\"><button type=\"submit\">Annuler l'exécution</button></form>\n")
            page.body.html("<section id=\"direct\" data-evenements=\"/executions/\(runId)/evenements\" aria-labelledby=\"titre-direct\"><h2 id=\"titre-direct\">Déroulement</h2>")
            page.body.html("<p id=\"etat-direct\" role=\"status\">")
            page.body.text(job == nil ? "En cours dans un autre processus : les tâches s'afficheront à la fin." : "En cours…")
            page.body.html("</p><div class=\"tableau\"><table><caption>Tâches au fil de l'exécution</caption><thead><tr><th scope=\"col\">Appareil</th><th scope=\"col\">Tâche</th><th scope=\"col\">Résultat</th><th scope=\"col\">Message</th></tr></thead><tbody id=\"deroulement\">")
            for e in job?.history ?? [] {
                switch e.event {
                case .task(let record):
                    let t = RunEventJSON.entry(record)
                    page.body.html("<tr><th scope=\"row\">"); page.body.text(t.host); page.body.html("</th><td>")
                    page.body.text(t.task + (t.item.map { " (\($0))" } ?? "")); page.body.html("</td><td>")
                    Self.badge(t.outcome, changed: t.changed, ignored: t.ignored).write(into: &page.body)
                    page.body.html("</td><td>"); page.body.text(t.message.map { TextRules.visible(Message.stored($0, in: .french), max: 500) } ?? ""); page.body.html("</td></tr>")
                case .unreachable(let host, let message):
                    page.body.html("<tr><th scope=\"row\">"); page.body.text(host); page.body.html("</th><td>connexion</td><td>")
                    Self.badge(.unreachable, changed: false).write(into: &page.body)
                    page.body.html("</td><td>"); page.body.text(TextRules.visible(Message.stored(message, in: .french), max: 500)); page.body.html("</td></tr>")
                default: break
                }
            }
            page.body.html("</tbody></table></div><div id=\"bilan\"></div></section>\n")
            return html(page)
        }
        if detail.hosts.contains(where: { $0.outcome.needsRetry }) {
            page.body.html("<form method=\"post\" action=\"/executions/\(runId)/relancer\"><input type=\"hidden\" name=\"csrf\" value=\"\(csrf)\"><button type=\"submit\">Relancer les appareils en échec ou injoignables</button></form>\n")
        }
        page.body.html("<section id=\"bilan-final\">")
        page.body.element("h2", "Bilan par appareil")
        // Which relay ran each device, when relays did ("ce serveur" for the others).
        let relayed = detail.hosts.contains { $0.relay != nil }
        page.body.table(caption: Self.recapCaption, ["Appareil"] + Self.recapColumns + (relayed ? ["Passé par"] : []),
                        detail.hosts.map { h in
                            [.link(h.host, href: "/materiels/\(h.serial)"), .text(French.number(h.ok)), .text(French.number(h.changed)), .text(French.number(h.failed)),
                             .text(French.number(h.skipped)), .text(h.unreachable > 0 ? "oui" : "non")]
                                + (relayed ? [.text(h.relay.map { "relais \($0)" } ?? "ce serveur")] : [])
                        }, numeric: [1, 2, 3, 4], rowHeader: true, empty: "Aucun appareil.")
        page.body.html("</section>\n")
        for host in detail.hosts {
            let tasks = detail.tasks.filter { $0.serial == host.serial }
            guard !tasks.isEmpty else { continue }
            page.body.element("h2", "Tâches sur \(host.host)")
            page.body.table(caption: "Chaque tâche dans l'ordre, avec son résultat et sa durée", ["Tâche", "Élément", "Résultat", "Message", "Durée"],
                            tasks.map { t in
                                [.text(t.task), .optional(t.item), Self.badge(t.outcome, changed: t.changed, ignored: t.ignored),
                                 .optional(t.message.map { TextRules.visible(Message.stored($0, in: .french), max: 500) }), .text("\(French.number(t.milliseconds))\u{00A0}ms")]
                            }, numeric: [4], rowHeader: true)
            for t in tasks where t.diff != nil {
                page.body.html("<details><summary>")
                page.body.text("Différences — \(t.task)\(t.item.map { " (\($0))" } ?? "")")
                page.body.html("</summary><pre>")
                page.body.text(TextRules.visible(t.diff ?? "", max: 20_000, keepLineBreaks: true))
                page.body.html("</pre></details>\n")
            }
        }
        return html(page)
    }

    static func badge(_ outcome: TaskOutcome, changed: Bool, ignored: Bool = false) -> Cell {
        if outcome == .failed && ignored { return .badge(Self.toleratedFailure, tone: "info") }
        return outcome.needsRetry ? .badge(outcome.french, tone: "alerte") : changed ? .badge(TaskOutcome.changed.french, tone: "info") : .badge(outcome.french, tone: "ok")
    }

    /// A failure the playbook said to ignore (`ignore_errors`): Ansible's "ignored", not "ignoré".
    static let toleratedFailure = "échec toléré"

    /// The recap table: its caption (not the heading above it again) and its count columns, the
    /// same in the recorded page and in the one the script writes live.
    static let recapCaption = "Nombre de tâches de chaque résultat, pour chaque appareil"
    static let recapColumns = ["Inchangées", "Modifiées", "En échec", "Ignorées", "Injoignable"]

    func cancelRun(_ v: Viewer, id: String, request: Request, context: WebContext) async throws -> Response {
        guard let runId = Int64(id) else { throw WebError.notFound }
        try checkCSRF(try await form(request, context: context), v)
        let run = try await workspace.view(as: v.audience) { r in try r.run(runId).run }
        guard run.endedAt == nil else { return redirect("/executions/\(runId)?avis=" + Self.query("Cette exécution était déjà terminée.")) }
        guard let job = console.run(runId) else {
            return redirect("/executions/\(runId)?avis=" + Self.query("Cette exécution tourne dans un autre processus (parc run) : arrêtez-la là où elle a été lancée."))
        }
        job.cancel(by: v.account.login)
        return redirect("/executions/\(runId)?avis=" + Self.query("Annulation demandée : les tâches en cours se terminent, aucune autre ne commence."))
    }

    func rerunFailed(_ v: Viewer, id: String, request: Request, context: WebContext) async throws -> Response {
        guard let runId = Int64(id) else { throw WebError.notFound }
        try checkCSRF(try await form(request, context: context), v)
        var base = RunRequest(playbook: "")
        base.become = Console.become
        let rerun: RunRequest
        do {
            // The one "rerun the failed" (`parc run --retry` too); an --ask-vars value from the server's environment.
            guard let found = try PlaybookRuns.rerunFailed(runId, in: console.workspace, base: base, ask: { names in
                try EnvironmentCredentials.askVars(for: "for the server (or rerun it from the command line)")(names)
            }) else {
                return redirect("/executions/\(runId)?avis=" + Self.query("Aucun appareil en échec ou injoignable : rien à relancer."))
            }
            rerun = found
        } catch let error as InventoryError {
            throw error
        } catch {
            return redirect("/executions/\(runId)?avis=" + Self.query("Relance impossible : \(French.explain(error))"))
        }
        do {
            let console = self.console
            let request = rerun
            guard let newID = try await offload({ try console.start(request, as: v) }) else {
                return redirect("/executions/\(runId)?avis=" + Self.query("Ces appareils n'ont plus d'adresse : rien à relancer."))
            }
            return redirect("/executions/\(newID)")
        } catch let busy as DeviceBusy {
            return redirect("/executions/\(runId)?avis=" + Self.query("Refusé : \(busy.device) est déjà pris par l'exécution n° \(busy.runID) (lancée par \(busy.actor))."))
        }
    }

    func servePending(_ v: Viewer, request: Request, context: WebContext) async throws -> Response {
        try checkCSRF(try await form(request, context: context), v)
        let console = self.console
        let started = try await offload { try console.servePending(as: v) }
        let text = switch started {
        case nil: "Rien n'est en attente."
        case false?: "Le travail en attente est déjà en train d'être servi."
        case true?: "Le travail en attente est servi : chaque playbook est une exécution de la liste ci-dessous."
        }
        return redirect("/executions?avis=" + Self.query(text))
    }

    static func query(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "" }
}

// MARK: Imports

extension Portal {
    static let importLimit = 4 * 1024 * 1024

    func importForm(_ v: Viewer, alert: String? = nil, order: String = "", cart: String = "", kind: String = "", update: Bool = false) -> Page {
        var page = Page("Importer un bon de livraison", viewer: v, path: "/import")
        page.alert = alert
        page.body.element("p", "Le fichier CSV du fournisseur (ou une liste d'appareils). Chaque ligne est d'abord montrée avec ce qu'elle créerait ou modifierait, et chaque erreur à côté de sa ligne ; rien n'est écrit avant la confirmation, et alors toutes les lignes entrent ou aucune.")
        writeImportForm(into: &page.body, v, order: order, cart: cart, kind: kind, update: update)
        return page
    }

    func writeImportForm(into w: inout HTMLWriter, _ v: Viewer, order: String, cart: String, kind: String, update: Bool) {
        w.html("<form class=\"formulaire\" method=\"post\" action=\"/import\" enctype=\"multipart/form-data\">")
        w.html("<input type=\"hidden\" name=\"csrf\" value=\"\(v.csrf ?? "")\">")
        FormField(name: "fichier", label: "Fichier CSV", help: "séparateur ; ou , — encodage UTF-8 ou Windows-1252", type: "file", required: true).write(into: &w)
        FormField(name: "commande", label: "Commande (numéro)", value: order, help: "rattacher chaque ligne à cette commande", maxLength: 100).write(into: &w)
        FormField(name: "chariot", label: "Classe mobile", value: cart, help: "mettre chaque ligne dans ce chariot (n° de série ou d'inventaire)", maxLength: 100).write(into: &w)
        FormField(name: "type", label: "Type des lignes qui ne le disent pas", value: kind,
                  options: [("", "— selon le fichier —")] + DeviceKind.allCases.map { ($0.rawValue, $0.french) }).write(into: &w)
        w.html("<div class=\"case\"><input type=\"checkbox\" id=\"champ-maj\" name=\"maj\" value=\"1\"\(update ? " checked" : "")><label for=\"champ-maj\">Mettre à jour les appareils déjà connus (seulement les champs du fichier)</label></div>\n")
        w.html("<button type=\"submit\">Voir ce que ferait l'import</button></form>\n")
    }

    func importOptions(_ fields: [String: String]) throws -> DeviceImportOptions {
        var options = DeviceImportOptions(order: fields["commande"]?.nonEmpty, cart: fields["chariot"]?.nonEmpty, update: fields["maj"] != nil)
        if let kind = fields["type"]?.nonEmpty { options.kind = try DeviceKind(parsing: kind) }
        return options
    }

    func previewImport(_ v: Viewer, request: Request, context: WebContext) async throws -> Response {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: Self.importLimit) } catch {
            return html(importForm(v, alert: "Le fichier est trop gros (4 Mo au plus)."), status: .contentTooLarge)
        }
        guard let parts = Multipart.parse(Array(buffer: buffer), contentType: request.headers[.contentType] ?? "") else {
            throw WebError.badRequest("Le formulaire envoyé n'est pas un envoi de fichier (multipart/form-data).")
        }
        var fields: [String: String] = [:]
        for p in parts where p.filename == nil { fields[p.name] = String(decoding: p.body, as: UTF8.self) }
        try checkCSRF(fields, v)
        let redo = { (alert: String, status: HTTPResponse.Status) in
            self.html(self.importForm(v, alert: alert, order: fields["commande"] ?? "", cart: fields["chariot"] ?? "", kind: fields["type"] ?? "",
                                      update: fields["maj"] != nil), status: status)
        }
        guard let file = parts.first(where: { $0.name == "fichier" }), let name = file.filename, !file.body.isEmpty else {
            return redo("Choisissez le fichier CSV à importer.", .unprocessableContent)
        }
        let fileName = (name as NSString).lastPathComponent
        do {
            let options = try importOptions(fields)
            let preview = try await Imports.preview(file.body, file: fileName, options: options, in: workspace)
            var page = Page("Aperçu de l'import", viewer: v, path: "/import")
            let counts = preview.rows.reduce(into: [String: Int]()) { $0[$1.outcome?.action.rawValue ?? "erreur", default: 0] += 1 }
            page.body.element("p", "\(fileName) : \(preview.rows.count) ligne\(preview.rows.count > 1 ? "s" : "") (\(preview.encoding), séparateur « \(preview.delimiter) »). "
                              + "À créer : \(counts["create"] ?? 0), à mettre à jour : \(counts["update"] ?? 0), inchangées : \(counts["unchanged"] ?? 0), en erreur : \(preview.rows.filter { !$0.problems.isEmpty }.count).")
            if !preview.ignoredColumns.isEmpty { page.body.element("p", "Colonnes ignorées : \(preview.ignoredColumns.joined(separator: ", ")).") }
            if !preview.isClean {
                page.alert = "\(preview.problemCount) problème\(preview.problemCount > 1 ? "s" : "") : rien ne sera importé. Corrigez le fichier et envoyez-le de nouveau."
            }
            for p in preview.fileProblems { page.body.element("p", French.problem(p), class: "erreurs") }
            let ownerless = preview.ownerless
            if !ownerless.isEmpty {
                // Not an error (a stock bought by the grouping), but no commune would see these devices.
                page.body.element("p", "Attention : \(ownerless.count == preview.rows.count ? "aucun des appareils créés" : "\(ownerless.count) des appareils créés (lignes \(ownerless.map { String($0.line) }.joined(separator: ", ")))") "
                                  + "n'appartiendra à aucune commune : ni commande, ni école. Aucune mairie ne les verra dans sa liste. "
                                  + "Indiquez la commande du bon de livraison ci-dessous, ou une école et une salle dans le fichier.", class: "avertissement")
            }
            page.body.table(caption: "Chaque ligne du fichier", ["Ligne", "N° de série", "Ce que ferait l'import", "Problèmes"], preview.rows.map { row in
                let action: Cell
                if let o = row.outcome {
                    let verb = switch o.action { case .create: "créer"; case .update: "mettre à jour"; case .unchanged: "rien (déjà à jour)" }
                    action = .text("\(verb) : \(o.kind.french), \(French.place(o))" + (o.changes.isEmpty ? "" : " (\(o.changes.map { FieldName($0).french }.joined(separator: ", ")))"))
                } else { action = .text("—") }
                let problems: Cell = row.problems.isEmpty ? .badge("correcte", tone: "ok")
                    : .html(row.problems.map { p -> SafeHTML in "<span class=\"etat etat-alerte\">\(FieldName(p.field).french) : \(p.problem.french)</span>" }.joined(separator: "<br>"))
                return [.text(French.number(row.line)), .optional(row.serial), action, problems]
            }, numeric: [0], rowHeader: true, empty: "Le fichier n'a aucune ligne.")
            if preview.isClean && !preview.rows.isEmpty {
                page.body.html("<form method=\"post\" action=\"/import/confirmer\"><input type=\"hidden\" name=\"csrf\" value=\"\(v.csrf ?? "")\">")
                for (k, value) in [("nom", fileName), ("contenu", Data(file.body).base64EncodedString()), ("commande", fields["commande"] ?? ""),
                                   ("chariot", fields["chariot"] ?? ""), ("type", fields["type"] ?? "")] {
                    page.body.html("<input type=\"hidden\" name=\"\(k)\" value=\"\(value)\">")
                }
                if fields["maj"] != nil { page.body.html("<input type=\"hidden\" name=\"maj\" value=\"1\">") }
                page.body.html("<button type=\"submit\">Importer les \(preview.rows.count) lignes</button></form>\n")
            }
            page.body.element("h2", preview.isClean ? "Ou envoyer un autre fichier" : "Envoyer le fichier corrigé")
            writeImportForm(into: &page.body, v, order: fields["commande"] ?? "", cart: fields["chariot"] ?? "", kind: fields["type"] ?? "", update: fields["maj"] != nil)
            return html(page, status: preview.isClean ? .ok : .unprocessableContent)
        } catch let failure as ImportFailure {
            return redo(failure.problems.map(French.problem).joined(separator: " ; "), .unprocessableContent)
        } catch let error as WebError {
            throw error
        } catch {
            return redo(French.explain(error), .unprocessableContent)
        }
    }

    func confirmImport(_ v: Viewer, request: Request, context: WebContext) async throws -> Response {
        let fields = try await formFields(request, context: context, limit: Self.importLimit * 2).values
        try checkCSRF(fields, v)
        guard let content = fields["contenu"].flatMap({ Data(base64Encoded: $0) }), let name = fields["nom"] else {
            throw WebError.badRequest("Le fichier à importer manque : repartez de l'aperçu.")
        }
        do {
            let options = try importOptions(fields)
            let report = try await Imports.apply([UInt8](content), file: name, options: options, in: workspace.acting(as: v.account.login))
            var page = Page("Import terminé", viewer: v, path: "/import")
            page.notice = "\(name) : \(French.count(report.counts.created, "appareil créé", "appareils créés")), \(French.number(report.counts.updated)) mis à jour, \(French.count(report.counts.unchanged, "inchangé"))."
            page.body.table(caption: "Lignes importées", ["Ligne", "N° de série", "Fait"], report.counts.rows.map { r in
                [.text(r.origin.split(separator: ":").last.map(String.init) ?? r.origin), .link(r.serial, href: "/materiels/\(r.serial)"),
                 .text(r.action.done)]
            }, numeric: [0], rowHeader: true)
            page.body.html("<p><a href=\"/import\">Importer un autre fichier</a></p>\n")
            return html(page)
        } catch let failure as ImportFailure {
            // The inventory changed since the preview (a serial added meanwhile): nothing was written.
            return html(importForm(v, alert: "Rien n'a été importé : " + failure.problems.map(French.problem).joined(separator: " ; ")),
                        status: .unprocessableContent)
        }
    }
}

extension ImportRowOutcome.Action {
    /// What an import did to a row, in words.
    var done: String {
        switch self { case .create: "créé"; case .update: "mis à jour"; case .unchanged: "inchangé" }
    }
}
