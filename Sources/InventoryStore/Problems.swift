import Foundation
import GRDB
import ParcCore

// Problems that communes report on their devices, and the documents attached to a member or an order.

extension InventoryReader {
    static let problemSelect = """
        SELECT p.*, d.serial, COALESCE(d.assetTag, d.serial) AS deviceLabel, d.model FROM problem p JOIN device d ON d.id = p.deviceId
        """

    func problem(_ row: Row, member: String?) -> Problem {
        let label = [row["deviceLabel"] as String, (row["model"] as String?) ?? ""].filter { !$0.isEmpty }.joined(separator: " — ")
        return Problem(id: row["id"], serial: row["serial"], member: member, device: label, kind: row["kind"],
                       description: row["description"], since: row["since"], contactName: row["contactName"], contactPhone: row["contactPhone"],
                       reportedBy: row["reportedBy"], reportedAt: row["reportedAt"], state: row["state"], acceptedBy: row["acceptedBy"],
                       acceptedAt: row["acceptedAt"], closedBy: row["closedBy"], closedAt: row["closedAt"], resolution: row["resolution"],
                       outcome: (row["outcome"] as String?).flatMap(ProblemOutcome.init(rawValue:)))
    }

    /// Problem reports, newest first: of one member's devices, or all; optionally in one state.
    public func problems(member memberRef: String? = nil, state: ProblemState? = nil) throws -> [Problem] {
        var rows = try Row.fetchAll(db, sql: "\(Self.problemSelect) ORDER BY p.id DESC")
        if let state { rows = rows.filter { ($0["state"] as ProblemState) == state } }
        if let memberRef {
            // A member's devices, once: the place of each device decides its member.
            let slug = try member(memberRef).slug
            let serials = Set(try devices(DeviceFilter(member: slug)).map(\.serial))
            return rows.filter { serials.contains($0["serial"]) }.map { problem($0, member: slug) }
        }
        var memberOf: [String: String?] = [:]
        return try rows.map { row in
            let serial: String = row["serial"]
            if memberOf[serial] == nil { memberOf[serial] = .some(try deviceRow(serial).member) }
            return problem(row, member: memberOf[serial] ?? nil)
        }
    }

    /// The problem reports of one device (as a listing shows it), newest first.
    public func problems(of device: DeviceRow) throws -> [Problem] {
        try Row.fetchAll(db, sql: "\(Self.problemSelect) WHERE p.deviceId = (SELECT id FROM device WHERE serial = ?) ORDER BY p.id DESC",
                         arguments: [device.serial]).map { problem($0, member: device.member) }
    }

    /// One problem report.
    public func problem(id: Int64) throws -> Problem {
        guard let row = try Row.fetchOne(db, sql: "\(Self.problemSelect) WHERE p.id = ?", arguments: [id]) else {
            throw InventoryError.notFound(entity: "problem", key: "#\(id)", hint: "list them with `parc problem list`")
        }
        var p = problem(row, member: try deviceRow(row["serial"]).member)
        p.notes = try Row.fetchAll(db, sql: "SELECT at, actor, text FROM problemNote WHERE problemId = ? ORDER BY id", arguments: [id]).map {
            ProblemNote(at: $0["at"], by: $0["actor"], text: $0["text"])
        }
        return p
    }

    static let documentColumns = "d.id, m.slug, o.number, d.orderId, d.kind, d.title, d.fileName, d.size, d.sha256, d.addedBy, d.addedAt"

    func document(_ row: Row) -> DocumentInfo {
        DocumentInfo(id: row["id"], member: row["slug"], order: row["number"], orderId: row["orderId"], kind: row["kind"], title: row["title"],
                     fileName: row["fileName"], size: row["size"], sha256: row["sha256"], addedBy: row["addedBy"], addedAt: row["addedAt"])
    }

    /// The documents of a member (all, or only those of one order).
    public func documents(member memberRef: String? = nil, orderId: Int64? = nil) throws -> [DocumentInfo] {
        var clauses: [String] = []
        var args: [any DatabaseValueConvertible] = []
        if let memberRef { clauses.append("d.memberId = ?"); args.append(try member(memberRef).id!) }
        if let orderId { clauses.append("d.orderId = ?"); args.append(orderId) }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        return try Row.fetchAll(db, sql: """
            SELECT \(Self.documentColumns) FROM document d JOIN member m ON m.id = d.memberId LEFT JOIN purchaseOrder o ON o.id = d.orderId
            \(whereSQL) ORDER BY d.addedAt, d.id
            """, arguments: StatementArguments(args)).map(document)
    }

    /// One document's description and its bytes.
    public func document(id: Int64) throws -> (info: DocumentInfo, content: Data) {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT \(Self.documentColumns), d.content FROM document d JOIN member m ON m.id = d.memberId LEFT JOIN purchaseOrder o ON o.id = d.orderId
            WHERE d.id = ?
            """, arguments: [id]) else {
            throw InventoryError.notFound(entity: "document", key: "#\(id)", hint: "list them with `parc document list`")
        }
        return (document(row), row["content"])
    }
}

extension InventoryTransaction {
    /// Records a problem on a device; the actor is who reported it.
    @discardableResult
    public func reportProblem(_ report: ProblemReport) throws -> Problem {
        let d = try device(report.serial)
        let description = try TextRules.text(report.description, field: "description", max: ProblemReport.descriptionLength)
        guard !description.isEmpty else {
            throw InventoryError.invalid(InvalidValue(field: "description", value: "", problem: "say what is wrong"))
        }
        let name = try TextRules.line(report.contactName, field: "contactName", max: ProblemReport.contactNameLength)
        guard !name.isEmpty else {
            throw InventoryError.invalid(InvalidValue(field: "contactName", value: "", problem: "say who to call back"))
        }
        let phone = try TextRules.line(report.contactPhone, field: "contactPhone", max: ProblemReport.contactPhoneLength)
        guard ProblemReport.isPhoneNumber(phone) else {
            throw InventoryError.invalid(InvalidValue(field: "contactPhone", value: phone,
                                                      problem: "a phone number has 10 digits at least (spaces, dots, dashes allowed), e.g. 03 87 00 00 00"))
        }
        try db.execute(sql: """
            INSERT INTO problem (deviceId, kind, description, since, contactName, contactPhone, reportedBy, reportedAt)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [d.id!, report.kind, description, report.since, name, phone, actor, timestampText])
        let id = db.lastInsertedRowID
        try log(entity: "problem", id: id, key: "#\(id) \(d.serial)", action: .create, changes: [
            FieldChange(field: "device", old: nil, new: d.serial), FieldChange(field: "kind", old: nil, new: report.kind.rawValue),
            FieldChange(field: "description", old: nil, new: description),
        ])
        let reported = try problem(id: id)
        try noticeProblem(reported, step: .reported)
        return reported
    }

    /// A technician takes a reported problem: the device goes in repair (both audited).
    @discardableResult
    public func acceptProblem(_ id: Int64) throws -> Problem {
        let p = try problem(id: id)
        guard p.state == .open else {
            throw InventoryError.invalid(InvalidValue(field: "problem", value: "#\(id)", problem: "it is already \(p.state.rawValue); only an open problem can be accepted"))
        }
        try db.execute(sql: "UPDATE problem SET state = 'accepted', acceptedBy = ?, acceptedAt = ? WHERE id = ?", arguments: [actor, timestampText, id])
        try log(entity: "problem", id: id, key: "#\(id) \(p.serial)", action: .update, changes: [FieldChange(field: "state", old: "open", new: "accepted")])
        try setStatus(p.serial, .inRepair)
        let accepted = try problem(id: id)
        try noticeProblem(accepted, step: .accepted)
        return accepted
    }

    /// A technician writes a follow-up on a problem not yet closed; the commune reads it.
    @discardableResult
    public func addProblemNote(_ id: Int64, _ raw: String) throws -> Problem {
        let p = try problem(id: id)
        guard p.state != .closed else {
            throw InventoryError.invalid(InvalidValue(field: "problem", value: "#\(id)", problem: "it is closed; a follow-up goes on a problem still open"))
        }
        let text = try TextRules.text(raw, field: "note", max: 2_000)
        guard !text.isEmpty else {
            throw InventoryError.invalid(InvalidValue(field: "note", value: "", problem: "write the follow-up (e.g. \"part ordered, back next week\")"))
        }
        try db.execute(sql: "INSERT INTO problemNote (problemId, at, actor, text) VALUES (?, ?, ?, ?)", arguments: [id, timestampText, actor, text])
        try log(entity: "problem", id: id, key: "#\(id) \(p.serial)", action: .update, changes: [FieldChange(field: "note", old: nil, new: text)])
        return try problem(id: id)
    }

    /// A technician closes a problem, saying what was done; the device's state follows `outcome`
    /// (repaired: back in service where it is placed; replaced: retired), in its history too.
    @discardableResult
    public func closeProblem(_ id: Int64, resolution raw: String, outcome: ProblemOutcome = .unchanged) throws -> Problem {
        let p = try problem(id: id)
        guard p.state != .closed else {
            throw InventoryError.invalid(InvalidValue(field: "problem", value: "#\(id)", problem: "it is already closed"))
        }
        let resolution = try TextRules.text(raw, field: "resolution", max: 2_000)
        guard !resolution.isEmpty else {
            throw InventoryError.invalid(InvalidValue(field: "resolution", value: "", problem: "say what was done (e.g. --done \"screen replaced under warranty\")"))
        }
        try db.execute(sql: "UPDATE problem SET state = 'closed', closedBy = ?, closedAt = ?, resolution = ?, outcome = ? WHERE id = ?",
                       arguments: [actor, timestampText, resolution, outcome.rawValue, id])
        try log(entity: "problem", id: id, key: "#\(id) \(p.serial)", action: .update, changes: [
            FieldChange(field: "state", old: p.state.rawValue, new: "closed"), FieldChange(field: "resolution", old: nil, new: resolution),
            FieldChange(field: "outcome", old: nil, new: outcome.rawValue),
        ])
        switch outcome {
        case .repaired:
            // Back in service as its place says (the rule a move follows): deployed in a room or a placed cart, else in stock.
            var d = try device(p.serial)
            let current = d.status
            d.status = .inStock
            let back = try statusByPlace(d)
            if current != back { try setStatus(p.serial, back) }
        case .replaced:
            if try device(p.serial).status != .retired { try setStatus(p.serial, .retired) }
        case .unchanged:
            break
        }
        let closed = try problem(id: id)
        try noticeProblem(closed, step: .closed)
        return closed
    }

    /// Attaches a PDF to a member, or to one of its orders.
    @discardableResult
    public func addDocument(member memberRef: String, order orderNumber: String?, kind: DocumentKind, title rawTitle: String,
                            fileName rawName: String, content: Data) throws -> DocumentInfo {
        let m = try member(memberRef)
        let orderId = try orderNumber.map { try order($0, member: m.slug).id! }
        let title = try TextRules.line(rawTitle, field: "title")
        guard !title.isEmpty else { throw InventoryError.invalid(InvalidValue(field: "title", value: "", problem: "give the document a title")) }
        let name = try TextRules.line(rawName, field: "file", max: 200)
        guard content.count <= DocumentInfo.maxSize else {
            throw InventoryError.invalid(InvalidValue(field: "file", value: name, problem: "it is \(content.count / 1_048_576) MB; a document takes at most 20 MB"))
        }
        guard content.starts(with: Array("%PDF-".utf8)) else {
            throw InventoryError.invalid(InvalidValue(field: "file", value: name, problem: "it is not a PDF; only PDF documents are kept (export it as PDF first)"))
        }
        let sha256 = SHA256.hex(Array(content))
        try db.execute(sql: """
            INSERT INTO document (memberId, orderId, kind, title, fileName, size, sha256, content, addedBy, addedAt)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [m.id!, orderId, kind, title, name, content.count, sha256, content, actor, timestampText])
        let id = db.lastInsertedRowID
        try log(entity: "document", id: id, key: name, action: .create, changes: [
            FieldChange(field: "member", old: nil, new: m.slug), FieldChange(field: "order", old: nil, new: orderNumber),
            FieldChange(field: "title", old: nil, new: title), FieldChange(field: "sha256", old: nil, new: sha256),
        ])
        return try document(id: id).info
    }
}
