import FormData
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ParcApp
import ParcCore

// MARK: Device edits (stale edits refused)

/// The fields the console edits, as text: what the form shows, what it sends back as "before".
struct DeviceSnapshot: Equatable {
    static let fields: [(key: String, label: String)] = [
        ("assetTag", "N° d'inventaire"), ("hostname", "Nom réseau"), ("address", "Adresse IP"), ("sshPort", "Port SSH"), ("sshUser", "Utilisateur SSH"),
        ("manufacturer", "Fabricant"), ("model", "Modèle"), ("warrantyEnd", "Fin de garantie (JJ/MM/AAAA)"), ("notes", "Notes"),
        ("status", "État"), ("place", "Emplacement"),
    ]
    var values: [String: String]

    init(_ d: Device) {
        values = ["assetTag": d.assetTag ?? "", "hostname": d.hostname ?? "", "address": d.address ?? "", "sshPort": d.sshPort.map(String.init) ?? "",
                  "sshUser": d.sshUser ?? "", "manufacturer": d.manufacturer ?? "", "model": d.model ?? "", "warrantyEnd": d.warrantyEnd?.french ?? "",
                  "notes": d.notes ?? "", "status": d.status.rawValue,
                  "place": d.cartId.map { "chariot:\($0)" } ?? d.roomId.map { "salle:\($0)" } ?? "aucun"]
    }
}

extension Portal {
    /// Where a device may go: the rooms of its member's schools, its member's carts, nowhere.
    func places(for row: DeviceRow, _ r: InventoryView) throws -> [(String, String)] {
        var out: [(String, String)] = [("aucun", "Nulle part (en stock)")]
        let member = try row.member.map { try r.member($0) }
        for school in try r.schools(memberId: member?.id) where member != nil {
            for room in try r.rooms(schoolId: school.id!) { out.append(("salle:\(room.id!)", "\(school.name) — \(room.name)")) }
        }
        if row.kind.fitsInCart {
            for cart in try r.devices(DeviceFilter(member: row.member, kind: .cart)) where row.member != nil {
                out.append(("chariot:\(try r.record(cart.serial).id!)", "Classe mobile \(cart.assetTag ?? cart.serial)"))
            }
        }
        return out
    }

    func editDeviceForm(_ v: Viewer, serial: String, entered: [String: String]? = nil, alert: String? = nil, stale: [(String, String, String, String)] = [],
                        status: HTTPResponse.Status = .ok) async throws -> Response {
        let (row, device, places) = try await workspace.view(as: v.audience) { r in
            let row = try r.device(serial)
            return (row, try r.record(row.serial), try self.places(for: row, r))
        }
        let now = DeviceSnapshot(device)
        var page = Page("Modifier \(row.assetTag ?? row.serial)", viewer: v, path: "/materiels/\(row.serial)")
        page.alert = alert
        if !stale.isEmpty {
            page.body.table(caption: "Ce qui a changé depuis que vous avez ouvert la page", ["Champ", "À l'ouverture", "Maintenant", "Votre saisie"],
                            stale.map { [.text($0.0), .optional($0.1), .optional($0.2), .optional($0.3)] }, rowHeader: true)
            page.body.element("p", "Le formulaire ci-dessous montre les valeurs actuelles ; refaites vos changements si besoin.")
        }
        page.body.html("<form class=\"formulaire\" method=\"post\" action=\"/materiels/\(row.serial)/modifier\">")
        page.body.html("<input type=\"hidden\" name=\"csrf\" value=\"\(v.csrf ?? "")\">")
        page.body.html("<input type=\"hidden\" name=\"version\" value=\"\(row.version)\">")
        for f in DeviceSnapshot.fields {
            page.body.html("<input type=\"hidden\" name=\"avant_\(f.key)\" value=\"\(now.values[f.key] ?? "")\">")
        }
        for f in DeviceSnapshot.fields {
            let value = entered?[f.key] ?? now.values[f.key] ?? ""
            switch f.key {
            case "status":
                FormField(name: f.key, label: f.label, value: value, options: DeviceStatus.allCases.map { ($0.rawValue, $0.french) }).write(into: &page.body)
            case "place":
                FormField(name: f.key, label: f.label, value: value, options: places).write(into: &page.body)
            case "notes":
                FormField(name: f.key, label: f.label, value: value, maxLength: 2000, multiline: true).write(into: &page.body)
            default:
                FormField(name: f.key, label: f.label, value: value, maxLength: 200).write(into: &page.body)
            }
        }
        page.body.html("<button type=\"submit\">Enregistrer</button> <a href=\"/materiels/\(row.serial)\">Annuler</a></form>\n")
        return html(page, status: status)
    }

    func editDevice(_ v: Viewer, serial: String, request: Request, context: WebContext) async throws -> Response {
        let fields = try await form(request, context: context)
        try checkCSRF(fields, v)
        guard let version = fields["version"].flatMap({ Int64($0) }) else { throw WebError.badRequest("le formulaire n'a pas de version : rechargez la page") }
        let (row, rooms, schools) = try await workspace.view(as: v.audience) { r in (try r.device(serial), try r.rooms(), try r.schools()) }
        let labels = Dictionary(uniqueKeysWithValues: DeviceSnapshot.fields.map { ($0.key, $0.label) })
        // What the person changed on the page; the operation refuses it if the device changed since the page was made.
        let wanted = Set(DeviceSnapshot.fields.map(\.key).filter { key in fields[key].map { $0 != (fields["avant_\(key)"] ?? "") } ?? false })
        func given(_ key: String) -> String? { wanted.contains(key) ? fields[key] ?? "" : nil }
        do {
            var values = DeviceOps.Fields(assetTag: given("assetTag"), manufacturer: given("manufacturer"), model: given("model"),
                                          warrantyEnd: given("warrantyEnd"), hostname: given("hostname"), address: given("address"),
                                          sshPort: given("sshPort"), sshUser: given("sshUser"), notes: given("notes"))
            values.status = try given("status").map { try DeviceStatus(parsing: $0) }
            var place: DeviceOps.Place? = nil
            if let chosen = given("place") {
                if chosen == "aucun" { place = DeviceOps.Place(school: nil, room: nil, cart: nil) }
                else if chosen.hasPrefix("salle:"), let id = Int64(chosen.dropFirst(6)), let room = rooms.first(where: { $0.id == id }),
                        let school = schools.first(where: { $0.id == room.schoolId }) {
                    place = DeviceOps.Place(school: school.uai, room: room.name, cart: nil)
                } else if chosen.hasPrefix("chariot:"), let id = Int64(chosen.dropFirst(8)),
                          let cart = try await workspace.view(as: v.audience, { r in try r.record(id: id) }), cart.kind == .cart {
                    place = DeviceOps.Place(school: nil, room: nil, cart: cart.serial)
                } else {
                    throw InvalidValue(field: "place", value: chosen, problem: "unknown place")
                }
            }
            _ = try await LocalParc(console.workspace(for: v)).perform(DeviceOps.Edit(row.serial, fields: values, place: place, ifVersion: version))
            return redirect("/materiels/\(row.serial)?avis=" + Self.query("Modifications enregistrées."))
        } catch InventoryError.stale {
            let current = try await workspace.view(as: v.audience) { r in DeviceSnapshot(try r.record(row.serial)) }
            let changed = DeviceSnapshot.fields.filter { (fields["avant_\($0.key)"] ?? "") != (current.values[$0.key] ?? "") }
            return try await editDeviceForm(v, serial: row.serial, alert: "Refusé : ce matériel a été modifié par quelqu'un d'autre depuis que vous avez ouvert la page. Rien n'a été enregistré.",
                                            stale: changed.map { (labels[$0.key]!, fields["avant_\($0.key)"] ?? "", current.values[$0.key] ?? "", fields[$0.key] ?? "") },
                                            status: .conflict)
        } catch let e as InvalidValue {
            return try await editDeviceForm(v, serial: row.serial, entered: fields, alert: "\(labels[e.field] ?? FieldName(e.field).french) : \(e.explained(.french)). Rien n'a été enregistré.",
                                            status: .unprocessableContent)
        } catch let e as InventoryError {
            if case .notFound = e { throw e }
            if case .invalid(let value) = e {
                return try await editDeviceForm(v, serial: row.serial, entered: fields, alert: "\(labels[value.field] ?? FieldName(value.field).french) : \(value.explained(.french)). Rien n'a été enregistré.",
                                                status: .unprocessableContent)
            }
            return try await editDeviceForm(v, serial: row.serial, entered: fields, alert: "\(French.explain(e)). Rien n'a été enregistré.", status: .unprocessableContent)
        }
    }

    // MARK: Cart fill

    func fillCartForm(_ v: Viewer, serial: String, entered: String = "", alert: String? = nil, stale: (added: [String], removed: [String])? = nil,
                      status: HTTPResponse.Status = .ok) async throws -> Response {
        let (cart, content, version) = try await workspace.view(as: v.audience) { r in
            let cart = try r.cart(serial)
            return (cart, try r.devices(DeviceFilter(cart: cart.serial)).map(\.serial).sorted(), try r.device(cart.serial).version)
        }
        var page = Page("Remplir la classe mobile \(cart.assetTag ?? cart.serial)", viewer: v, path: "/chariots/\(cart.serial)")
        page.alert = alert
        if let stale {
            page.body.table(caption: "Ce qui a changé dans le chariot depuis que vous avez ouvert la page", ["Changement", "Appareils"],
                            [[.text("arrivés"), .text(stale.added.joined(separator: ", ").nonEmpty ?? "—")],
                             [.text("partis"), .text(stale.removed.joined(separator: ", ").nonEmpty ?? "—")]], rowHeader: true)
        }
        page.body.element("p", "Dans le chariot aujourd'hui : \(content.isEmpty ? "aucun appareil" : content.joined(separator: ", ")).")
        page.body.html("<form class=\"formulaire\" method=\"post\" action=\"/chariots/\(cart.serial)/remplir\">")
        page.body.html("<input type=\"hidden\" name=\"csrf\" value=\"\(v.csrf ?? "")\">")
        page.body.html("<input type=\"hidden\" name=\"avant\" value=\"\(content.joined(separator: ","))\">")
        page.body.html("<input type=\"hidden\" name=\"version\" value=\"\(version)\">")
        FormField(name: "appareils", label: "Appareils à mettre dans le chariot", value: entered,
                  help: "un n° de série ou d'inventaire par ligne ; tous entrent, ou aucun", required: true, maxLength: 20_000, multiline: true).write(into: &page.body)
        page.body.html("<button type=\"submit\">Mettre dans le chariot</button></form>\n")
        return html(page, status: status)
    }

    func fillCart(_ v: Viewer, serial: String, request: Request, context: WebContext) async throws -> Response {
        let fields = try await form(request, context: context)
        try checkCSRF(fields, v)
        guard let version = fields["version"].flatMap({ Int64($0) }) else { throw WebError.badRequest("le formulaire n'a pas de version : rechargez la page") }
        let cart = try await workspace.view(as: v.audience) { r in try r.cart(serial) }
        let refs = (fields["appareils"] ?? "").split(whereSeparator: { $0.isNewline || $0 == "," || $0 == " " }).map(String.init)
        guard !refs.isEmpty else { return try await fillCartForm(v, serial: cart.serial, alert: "Donnez au moins un appareil.", status: .unprocessableContent) }
        do {
            // Only devices the viewer may see (a technician sees all; the rule stays in one place).
            try await workspace.view(as: v.audience) { r in for ref in refs { _ = try r.device(ref) } }
            let moved = try await LocalParc(console.workspace(for: v)).perform(CartOps.Fill(cart.serial, with: refs, ifVersion: version))
            return redirect("/chariots/\(cart.serial)?avis=" + Self.query(moved.count == 1 ? "1 appareil mis dans le chariot." : "\(French.count(moved.count, "appareil")) mis dans le chariot."))
        } catch InventoryError.stale {
            let before = Set((fields["avant"] ?? "").split(separator: ",").map(String.init))
            let now = Set(try await workspace.view(as: v.audience) { r in try r.devices(DeviceFilter(cart: cart.serial)).map(\.serial) })
            return try await fillCartForm(v, serial: cart.serial, entered: fields["appareils"] ?? "",
                                          alert: "Refusé : le chariot a changé depuis que vous avez ouvert la page. Rien n'a été enregistré.",
                                          stale: (now.subtracting(before).sorted(), before.subtracting(now).sorted()), status: .conflict)
        } catch let e as InventoryError {
            return try await fillCartForm(v, serial: cart.serial, entered: fields["appareils"] ?? "", alert: "\(French.explain(e)). Rien n'a été enregistré.", status: .unprocessableContent)
        } catch let e as WebError {
            if case .notFound = e {
                return try await fillCartForm(v, serial: cart.serial, entered: fields["appareils"] ?? "", alert: "Un des appareils donnés n'existe pas. Rien n'a été enregistré.",
                                              status: .unprocessableContent)
            }
            throw e
        }
    }
}

// MARK: Onboarding

extension Portal {
    func onboardingForm(_ v: Viewer, fields: [String: String] = [:], alert: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        var page = Page("Mettre en service", viewer: v, path: "/mise-en-service")
        page.alert = alert
        page.body.element("p", "Pour chaque adresse : connexion avec l'utilisateur et le mot de passe initiaux (utilisés pour cette mise en service seulement, jamais enregistrés), empreinte de la clé d'hôte à confirmer, installation de la clé de gestion de parc, nom d'hôte selon la règle, lecture des caractéristiques et rapprochement par n° de série.")
        page.body.html("<form class=\"formulaire\" method=\"post\" action=\"/mise-en-service\">")
        page.body.html("<input type=\"hidden\" name=\"csrf\" value=\"\(v.csrf ?? "")\">")
        FormField(name: "adresses", label: "Adresses", value: fields["adresses"] ?? "", help: "une par ligne : adresse ou adresse:port", required: true,
                  maxLength: 20_000, multiline: true).write(into: &page.body)
        FormField(name: "utilisateur", label: "Utilisateur initial", value: fields["utilisateur"] ?? "", required: true, maxLength: 100, autocomplete: "off").write(into: &page.body)
        FormField(name: "motdepasse", label: "Mot de passe initial", help: "jamais enregistré", type: "password", maxLength: 200, autocomplete: "off").write(into: &page.body)
        FormField(name: "regle", label: "Règle des noms d'hôte", value: fields["regle"] ?? "{commune}-{salle}-{nn}",
                  help: "{commune} la commune, {uai} l'UAI, {ecole} l'école, {salle} la salle, {chariot} la classe mobile, {nn} le rang (01, 02…), {serie} le n° de série, {inventaire} le n° d'inventaire",
                  maxLength: 200).write(into: &page.body)
        page.body.html("<div class=\"case\"><input type=\"checkbox\" id=\"champ-creer\" name=\"creer\" value=\"1\"\(fields["creer"] != nil ? " checked" : "")><label for=\"champ-creer\">Créer les appareils dont le n° de série n'est pas dans l'inventaire</label></div>\n")
        FormField(name: "type", label: "Type des appareils créés", value: fields["type"] ?? "laptop", options: DeviceKind.allCases.map { ($0.rawValue, $0.french) }).write(into: &page.body)
        FormField(name: "commande", label: "Commande des appareils créés", value: fields["commande"] ?? "", maxLength: 100).write(into: &page.body)
        FormField(name: "chariot", label: "Classe mobile des appareils créés", value: fields["chariot"] ?? "", maxLength: 100).write(into: &page.body)
        page.body.html("<div class=\"case\"><input type=\"checkbox\" id=\"champ-sansmdp\" name=\"sansmdp\" value=\"1\"\(fields["sansmdp"] != nil ? " checked" : "")><label for=\"champ-sansmdp\">Interdire ensuite la connexion SSH par mot de passe</label></div>\n")
        page.body.html("<button type=\"submit\">Mettre en service</button></form>\n")
        return html(page, status: status)
    }

    func startOnboarding(_ v: Viewer, request: Request, context: WebContext) async throws -> Response {
        let all = try await formFields(request, context: context)
        var fields = all.values
        try checkCSRF(fields, v)
        let password = fields.removeValue(forKey: "motdepasse")
        var targets: [(address: String, port: Int)] = []
        for line in (fields["adresses"] ?? "").split(whereSeparator: \.isNewline) {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard !t.isEmpty else { continue }
            let parts = t.split(separator: ":")
            guard parts.count <= 2, let port = parts.count == 2 ? Int(parts[1]) : 22, (1...65535).contains(port) else {
                return onboardingForm(v, fields: fields, alert: "« \(t) » n'est pas une adresse ou adresse:port.", status: .unprocessableContent)
            }
            targets.append((String(parts[0]), port))
        }
        var r = Onboarding.Request(targets: targets, user: fields["utilisateur"]?.trimmingCharacters(in: .whitespaces) ?? "",
                                   keyPath: ManagementKey.path(nil, home: console.workspace.home))
        r.password = password?.nonEmpty.map(Secret.init)
        r.nameRule = fields["regle"]?.nonEmpty ?? r.nameRule
        r.create = fields["creer"] != nil
        r.kind = (try? DeviceKind(parsing: fields["type"] ?? "laptop")) ?? .laptop
        r.order = fields["commande"]?.nonEmpty
        r.cart = fields["chariot"]?.nonEmpty
        r.disablePasswordLogin = fields["sansmdp"] != nil
        r.timeout = console.workspace.access.timeout
        // The fingerprints the technician confirmed, checked on the device: "address=SHA256:…".
        let confirmed = Set(all.list("empreinte"))
        r.confirm = { address, key in confirmed.contains("\(address)=\(key.fingerprint)") }
        do {
            let request = r, console = self.console
            let kept = fields.filter { $0.key != "csrf" }
            let id = try await offload { try console.startOnboarding(request, fields: kept, as: v) }
            return redirect("/mise-en-service?suivi=\(id)")
        } catch {
            return onboardingForm(v, fields: fields, alert: French.explain(error), status: .unprocessableContent)
        }
    }

    func onboardingPage(_ v: Viewer, follow: String?) async throws -> Response {
        guard let follow else { return onboardingForm(v) }
        guard let (job, fields) = console.onboarding(follow) else { throw WebError.notFound }
        var page = Page("Mise en service", viewer: v, path: "/mise-en-service")
        var seen: [String: (fingerprint: String?, result: Onboarding.Result?)] = [:]
        var order: [String] = []
        for e in job.history {
            switch e.event {
            case .connected(let address, let port, let fingerprint, _):
                let k = "\(address):\(port)"
                if seen[k] == nil { order.append(k) }
                seen[k, default: (nil, nil)].fingerprint = fingerprint
            case .finished(let r):
                let k = "\(r.address):\(r.port)"
                if seen[k] == nil { order.append(k) }
                seen[k, default: (nil, nil)].result = r
            }
        }
        if !job.isFinished {
            page.refresh = 2
            page.body.element("p", "En cours… (appareils terminés : \(French.number(seen.values.filter { $0.result != nil }.count)) sur \(French.number(seen.count))) ; la page se met à jour toute seule.", class: "avis")
        }
        page.body.table(caption: "Appareils", ["Adresse", "Empreinte de la clé d'hôte", "Résultat", "Détail"], order.map { k in
            let s = seen[k]!
            let state: Cell = switch s.result?.outcome {
            case nil: .badge("en cours", tone: "info")
            case .changed?: .badge("mis en service", tone: "ok")
            case .ok?: .badge("déjà en service", tone: "ok")
            case .unreachable?: .badge("injoignable", tone: "alerte")
            default: .badge(s.result!.keyNotConfirmed ? "empreinte à confirmer" : "échec", tone: "alerte")
            }
            return [.text(k), .optional(s.fingerprint ?? s.result?.fingerprint), state, .optional(s.result?.message.french)]
        }, rowHeader: true, empty: "Connexion aux appareils…")
        let toConfirm = seen.values.compactMap(\.result).filter(\.keyNotConfirmed)
        if job.isFinished && !toConfirm.isEmpty {
            page.body.element("h2", "Confirmer les empreintes")
            page.body.element("p", "Comparez chaque empreinte avec celle affichée sur l'appareil (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), cochez celles qui correspondent, puis redonnez le mot de passe initial.")
            page.body.html("<form class=\"formulaire\" method=\"post\" action=\"/mise-en-service\"><input type=\"hidden\" name=\"csrf\" value=\"\(v.csrf ?? "")\">")
            var kept = fields
            kept["adresses"] = toConfirm.map { "\($0.address):\($0.port)" }.joined(separator: "\n")
            for (k, value) in kept.sorted(by: { $0.key < $1.key }) { page.body.html("<input type=\"hidden\" name=\"\(k)\" value=\"\(value)\">") }
            page.body.html("<fieldset><legend>Empreintes vérifiées</legend>")
            for (i, r) in toConfirm.enumerated() {
                guard let fp = r.fingerprint else { continue }
                page.body.html("<div class=\"case\"><input type=\"checkbox\" id=\"empreinte-\(i)\" name=\"empreinte[]\" value=\"\("\(r.address)=\(fp)")\"><label for=\"empreinte-\(i)\">")
                page.body.text("\(r.address):\(r.port) — \(fp)")
                page.body.html("</label></div>")
            }
            page.body.html("</fieldset>")
            FormField(name: "motdepasse", label: "Mot de passe initial", help: "jamais enregistré", type: "password", maxLength: 200, autocomplete: "off").write(into: &page.body)
            page.body.html("<button type=\"submit\">Mettre en service les appareils confirmés</button></form>\n")
        }
        page.body.html("<p><a href=\"/mise-en-service\">Mettre en service d'autres appareils</a></p>\n")
        return html(page)
    }

    // MARK: Labels

    func labelsPage(_ v: Viewer, query: Parameters) async throws -> Response {
        let cartRef = query.get("chariot")?.nonEmpty
        let picked = (query.get("appareils") ?? "").split(whereSeparator: { $0.isNewline || $0 == "," || $0 == " " }).map(String.init)
        if cartRef != nil || !picked.isEmpty {
            let (rows, title) = try await workspace.view(as: v.audience) { r -> ([DeviceRow], String) in
                if let cartRef {
                    let cart = try r.cart(cartRef)
                    return ([cart] + (try r.devices(DeviceFilter(cart: cart.serial))), "Étiquettes — classe mobile \(cart.assetTag ?? cart.serial)")
                }
                return (try picked.map { try r.device($0) }, "Étiquettes — \(French.count(picked.count, "appareil"))")
            }
            // The sheet's print styles (A4, 3 × 8 labels) are a file of the portal; its QR codes are drawings in the page.
            let sheet = try LabelSheets.sheet(rows, title: title, baseURL: options.baseURL, stylesheet: "/static/etiquettes.css")
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: sheet)))
        }
        let (carts, names) = try await workspace.view(as: v.audience) { r in (try r.devices(DeviceFilter(kind: .cart)), try r.memberNames()) }
        var page = Page("Étiquettes", viewer: v, path: "/etiquettes")
        page.body.element("p", "Une planche A4 d'étiquettes à QR code (chacune renvoie à la fiche du matériel) : une classe mobile entière, ou des appareils choisis.")
        page.body.html("<form class=\"formulaire\" method=\"get\" action=\"/etiquettes\">")
        FormField(name: "chariot", label: "Classe mobile", options: [("", "— aucune —")] + carts.map { ($0.serial, "\($0.assetTag ?? $0.serial) (\($0.member.map { names[$0] ?? $0 } ?? "—"))") }).write(into: &page.body)
        FormField(name: "appareils", label: "Ou des appareils", help: "un n° de série ou d'inventaire par ligne", maxLength: 20_000, multiline: true).write(into: &page.body)
        page.body.html("<button type=\"submit\">Faire la planche</button></form>\n")
        return html(page)
    }
}
