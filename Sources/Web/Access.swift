import Foundation
import Hummingbird
import InventoryStore
import Logging
import ParcCore

// The access rules, in one place: every object a route names is loaded through these, which answer
// "not found" both for what does not exist and for what belongs to another member.

extension Viewer {
    func maySee(memberId: Int64) -> Bool { isStaff || account.memberId == memberId }

    func member(_ r: InventoryReader, _ slug: String) throws -> Member {
        guard let m = try? r.member(slug), m.slug == slug, maySee(memberId: m.id!) else { throw WebError.notFound }
        return m
    }

    func school(_ r: InventoryReader, _ uai: String) throws -> School {
        guard let s = try? r.school(uai), s.uai == uai, maySee(memberId: s.memberId) else { throw WebError.notFound }
        return s
    }

    func room(_ r: InventoryReader, _ school: School, _ id: String) throws -> Room {
        guard let id = Int64(id), let room = try r.rooms(schoolId: school.id!).first(where: { $0.id == id }) else { throw WebError.notFound }
        return room
    }

    func device(_ r: InventoryReader, _ serial: String) throws -> DeviceRow {
        guard let d = try? r.deviceRow(serial), d.serial == serial, maySee(member: d.member) else { throw WebError.notFound }
        return d
    }

    func cart(_ r: InventoryReader, _ serial: String) throws -> DeviceRow {
        let d = try device(r, serial)
        guard d.kind == .cart else { throw WebError.notFound }
        return d
    }

    func order(_ r: InventoryReader, _ id: String) throws -> Order {
        guard let id = Int64(id), let o = try r.order(id: id), maySee(memberId: o.memberId) else { throw WebError.notFound }
        return o
    }

    func document(_ r: InventoryReader, _ id: String) throws -> (info: DocumentInfo, content: Data) {
        guard let id = Int64(id), let d = try? r.document(id: id), maySee(member: d.info.member) else { throw WebError.notFound }
        return d
    }

    func problem(_ r: InventoryReader, _ id: String) throws -> Problem {
        guard let id = Int64(id), let p = try? r.problem(id: id), maySee(member: p.member) else { throw WebError.notFound }
        return p
    }
}

extension WebContext {
    /// A path parameter (always present: the router matched it).
    func parameter(_ name: String) -> String {
        parameters.get(name) ?? ""
    }
}

/// French wording of dates and times, as communes read them (Paris time).
enum French {
    static let timeZone = TimeZone(identifier: "Europe/Paris") ?? .current

    static func when(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%02d/%02d/%04d à %02dh%02d", c.day!, c.month!, c.year!, c.hour!, c.minute!)
    }

    /// A stored timestamp (ISO 8601) in French.
    static func when(_ stamp: String?) -> String {
        guard let stamp else { return "—" }
        let formats = [Date.ISO8601FormatStyle(includingFractionalSeconds: true), Date.ISO8601FormatStyle()]
        for f in formats { if let d = try? Date(stamp, strategy: f) { return when(d) } }
        return stamp
    }

    static func money(_ m: Money?) -> String { m.map { "\($0.frenchNumber) €" } ?? "—" }

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
