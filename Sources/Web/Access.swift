import Foundation
import Hummingbird
import Logging
import ParcApp
import ParcCore

extension WebContext {
    /// A path parameter (always present: the router matched it).
    func parameter(_ name: String) -> String {
        parameters.get(name) ?? ""
    }
}

/// French wording for the portal: ``FrenchText``'s formats, and the badges of states.
enum French {
    static let timeZone = FrenchText.timeZone
    static func when(_ date: Date) -> String { FrenchText.when(date) }
    static func when(_ stamp: String?) -> String { FrenchText.when(stamp) }
    static func money(_ m: Money?) -> String { FrenchText.money(m) }
    static func count(_ n: Int, _ singular: String, _ plural: String? = nil) -> String { FrenchText.count(n, singular, plural) }
    static func number(_ n: Int) -> String { FrenchText.number(n) }

    /// An error as the portal says it: the catalogue's French sentence for parc's own errors, the
    /// field by its label; anything else as it is.
    static func explain(_ error: any Error) -> String {
        switch error {
        case let e as InventoryError: e.message.french.firstUppercased
        case let e as InvalidValue: "\(FieldName(e.field).french.firstUppercased) : \(e.explained(.french))"
        case let e as TransportError: e.message.french
        case let e as AppError: e.message.french.firstUppercased
        case let e as ImportFailure: e.problems.map(problem).joined(separator: " ; ")
        default: "\(error)"
        }
    }

    /// One problem of an imported file: its line, its field's label and what is wrong.
    static func problem(_ p: ImportProblem) -> String {
        (p.line > 0 ? "ligne \(p.line), " : "") + "\(FieldName(p.field).french) : \(p.problem.french)"
    }

    /// Where an imported row goes, in words: its cart, its school and room, or nowhere.
    static func place(_ o: ImportRowOutcome) -> String {
        if let cart = o.cart { return "dans la classe mobile \(cart)" }
        return o.place.map { "dans \($0)" } ?? "nulle part (en stock)"
    }

    static func status(_ s: DeviceStatus) -> Cell {
        switch s {
        case .deployed: .badge(s.french, tone: "ok")
        case .inStock: .badge(s.french, tone: "neutre")
        case .inRepair, .lost: .badge(s.french, tone: "alerte")
        case .retired: .badge(s.french, tone: "neutre")
        }
    }

    static func problemState(_ s: ProblemState) -> Cell {
        switch s {
        case .open: .badge(s.french, tone: "alerte")
        case .accepted: .badge(s.french, tone: "info")
        case .closed: .badge(s.french, tone: "ok")
        }
    }

    /// Field names of the audit log, as a commune reads them.
    static let fieldNames: [String: String] = [
        "kind": "type", "manufacturer": "marque", "model": "modèle", "serial": "n° de série", "assetTag": "n° d'inventaire",
        "status": "état", "room": "salle", "cart": "classe mobile", "order": "commande", "warrantyEnd": "fin de garantie",
        "purchasePrice": "prix TTC", "priceExclTax": "prix HT", "designation": "désignation", "hostname": "nom réseau",
        "address": "adresse réseau", "sshPort": "port SSH", "sshUser": "compte SSH", "notes": "notes", "macs": "adresses MAC",
        "hostKey": "empreinte SSH", "state": "état du signalement", "description": "description", "resolution": "intervention",
    ]

    static func value(_ field: String, _ v: String?) -> String {
        guard let v, !v.isEmpty else { return "(vide)" }
        switch field {
        case "status": return DeviceStatus(rawValue: v)?.french ?? v
        case "kind": return DeviceKind(rawValue: v)?.french ?? v
        case "state": return ProblemState(rawValue: v)?.french ?? v
        case "warrantyEnd": return (try? Day(parsing: v))?.french ?? v
        default: return v
        }
    }

    /// One audit event as a sentence.
    static func sentence(_ e: AuditEvent) -> String {
        switch e.action {
        case .create where e.entity == "problem": return "Problème signalé"
        case .create: return "Enregistré dans l'inventaire"
        case .delete: return "Retiré de l'inventaire"
        case .importFile: return "Importé"
        case .restore: return "Inventaire restauré depuis une sauvegarde"
        case .signIn, .signInFailed, .signOut: return e.action.rawValue
        case .moveWithCart, .update:
            let parts = e.changes.map { c in
                "\(fieldNames[c.field] ?? c.field) : \(value(c.field, c.old)) → \(value(c.field, c.new))"
            }
            return (e.action == .moveWithCart ? "Déplacé avec sa classe mobile — " : "") + parts.joined(separator: " ; ")
        }
    }
}

extension String {
    /// The text with its first letter in upper case ("En panne", not "En Panne").
    var firstUppercased: String { prefix(1).uppercased() + dropFirst() }
}
