import Foundation
import GRDB
import ParcCore

extension InventoryReader {
    // The effective room of a device is its own, else its cart's; its member is that room's
    // school's, else its order's, else its cart's order's.
    static let deviceRowSelect = """
        SELECT d.serial, d.assetTag, d.kind, d.manufacturer, d.model, d.status,
               CASE WHEN d.simulated THEN NULL ELSE COALESCE(m.slug, om.slug, com.slug) END AS memberSlug,
               s.uai, s.name AS schoolName, r.name AS roomName,
               COALESCE(c.assetTag, c.serial) AS cartRef,
               o.number AS orderNumber, l.number AS lotNumber,
               (SELECT group_concat(mac, ' ') FROM (SELECT mac FROM deviceMac WHERE deviceId = d.id ORDER BY mac)) AS macs,
               d.hostname, d.address, d.sshPort, d.sshUser, d.warrantyEnd, d.purchasePrice, d.notes, d.hostKey,
               d.priceExclTax, d.designation, d.version, d.simulated
        FROM device d
        LEFT JOIN device c ON c.id = d.cartId
        LEFT JOIN room r ON r.id = COALESCE(d.roomId, c.roomId)
        LEFT JOIN school s ON s.id = r.schoolId
        LEFT JOIN member m ON m.id = s.memberId
        LEFT JOIN purchaseOrder o ON o.id = d.orderId
        LEFT JOIN lot l ON l.id = o.lotId
        LEFT JOIN member om ON om.id = o.memberId
        LEFT JOIN purchaseOrder co ON co.id = c.orderId
        LEFT JOIN member com ON com.id = co.memberId
        """

    /// A row of ``deviceRowSelect``, read by column position (its order above): a listing reads
    /// thousands of cells, and a position costs less than a name.
    static func deviceRow(_ row: Row) -> DeviceRow {
        DeviceRow(
            serial: row[0], assetTag: row[1], kind: row[2], manufacturer: row[3],
            model: row[4], status: row[5], member: row[6], uai: row[7], school: row[8],
            room: row[9], cart: row[10], order: row[11], lot: row[12],
            macs: (row[13] as String?)?.split(separator: " ").map(String.init) ?? [],
            hostname: row[14], address: row[15], sshPort: row[16], sshUser: row[17],
            warrantyEnd: row[18], purchasePrice: row[19], priceExclTax: row[22], designation: row[23],
            notes: row[20], hostKey: row[21], version: row[24], simulated: (row[25] as Bool?) == true ? true : nil)
    }

    /// Ids of the devices whose effective room is one of `roomsSQL` (a SELECT of room ids).
    private static func devicesInRooms(_ roomsSQL: String) -> String {
        """
        SELECT id FROM device WHERE roomId IN (\(roomsSQL))
        UNION ALL SELECT d.id FROM device d JOIN device c ON c.id = d.cartId WHERE c.roomId IN (\(roomsSQL))
        """
    }

    /// The devices matching `filter`, by school, room and serial.
    public func devices(_ filter: DeviceFilter = DeviceFilter()) throws -> [DeviceRow] {
        var clauses: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let ref = filter.member {
            // Each branch starts from an index (school → rooms → devices, orders → devices); the unary
            // `+` keeps SQLite from scanning the large "roomId IS NULL" part of an index instead.
            let id = try member(ref).id!
            let memberRooms = "SELECT r.id FROM room r JOIN school s ON s.id = r.schoolId WHERE s.memberId = \(id)"
            let memberOrders = "SELECT id FROM purchaseOrder WHERE memberId = \(id)"
            // A simulated (lab) device belongs to no member.
            clauses.append("d.simulated IS NOT 1")
            clauses.append("""
                d.id IN (\(Self.devicesInRooms(memberRooms))
                  UNION ALL SELECT d2.id FROM device d2 LEFT JOIN device c2 ON c2.id = d2.cartId
                    WHERE d2.orderId IN (\(memberOrders)) AND +d2.roomId IS NULL AND +c2.roomId IS NULL
                  UNION ALL SELECT d3.id FROM device c3 CROSS JOIN device d3 ON d3.cartId = c3.id
                    WHERE c3.orderId IN (\(memberOrders)) AND +c3.roomId IS NULL AND +d3.orderId IS NULL AND +d3.roomId IS NULL)
                """)
        }
        if let uai = filter.school {
            let s = try school(uai)
            if let roomName = filter.room {
                let r = try room(school: s.uai, name: roomName)
                clauses.append("d.id IN (\(Self.devicesInRooms(String(r.id!))))")
            } else {
                clauses.append("d.id IN (\(Self.devicesInRooms("SELECT id FROM room WHERE schoolId = \(s.id!)")))")
            }
        } else if let roomName = filter.room {
            throw InventoryError.invalid(InvalidValue(field: "room", value: roomName, problem: "a room is named within its school: add --school UAI"))
        }
        if let ref = filter.cart {
            clauses.append("d.cartId = ?")
            arguments.append(try cart(ref).id!)
        }
        if let kind = filter.kind {
            clauses.append("d.kind = ?")
            arguments.append(kind.rawValue)
        }
        if let status = filter.status {
            clauses.append("d.status = ?")
            arguments.append(status.rawValue)
        }
        if let number = filter.order {
            clauses.append("d.orderId = ?")
            arguments.append(try order(number, member: filter.member).id!)
        }
        if let number = filter.lot {
            clauses.append("d.orderId IN (SELECT id FROM purchaseOrder WHERE lotId = ?)")
            arguments.append(try lot(number).id!)
        }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let sql = "\(Self.deviceRowSelect) \(whereSQL) ORDER BY s.uai, r.name, cartRef, d.serial"
        // A cached statement (parsed once per shape of filter) read through a cursor (no row copied).
        return try Array(Row.fetchCursor(db.cachedStatement(sql: sql), arguments: StatementArguments(arguments)).map(Self.deviceRow))
    }

    /// One device as listings show it.
    public func deviceRow(_ ref: String) throws -> DeviceRow {
        let d = try device(ref)
        let row = try Row.fetchOne(db.cachedStatement(sql: "\(Self.deviceRowSelect) WHERE d.id = ?"), arguments: [d.id!])!
        return Self.deviceRow(row)
    }

    /// A phrase of an FTS5 query: the text as it is, quoted.
    static func ftsPhrase(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// Devices whose serial, asset tag, MAC, host name, address, model or manufacturer contains
    /// `text`, or that stand in a school or a member whose name, UAI or slug contains it.
    /// Case-insensitive; at most `limit` rows.
    public func find(_ text: String, limit: Int = 500) throws -> (rows: [DeviceRow], total: Int) {
        let needle = text.trimmed
        guard !needle.isEmpty else {
            throw InventoryError.invalid(InvalidValue(field: "text", value: "", problem: "give something to look for: a serial, a tag, a MAC, a name"))
        }
        let like = "%" + needle.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
        // A MAC may be typed with any separator or none: its bare hex is looked for too.
        let hex = needle.lowercased().filter { $0 != ":" && $0 != "-" && $0 != "." }
        let mayBeMAC = hex.count >= 4 && hex.allSatisfy(\.isHexDigit)
        let schools = "SELECT id FROM school WHERE name LIKE ?1 ESCAPE '\\' OR uai LIKE ?1 ESCAPE '\\' OR city LIKE ?1 ESCAPE '\\'"
            + " OR memberId IN (SELECT id FROM member WHERE name LIKE ?1 ESCAPE '\\' OR slug LIKE ?1 ESCAPE '\\')"
        let rooms = "SELECT id FROM room WHERE schoolId IN (\(schools))"
        let ids: String
        var args: StatementArguments = [like]
        if needle.count >= 3 {
            // Three characters or more: the trigram index answers the device fields (a substring, any case).
            var match = "{serial assetTag hostname address model manufacturer macs} : \(Self.ftsPhrase(needle))"
            if mayBeMAC { match = "(\(match)) OR (macs : \(Self.ftsPhrase(hex)))" }
            args += [match]
            ids = """
                SELECT rowid FROM deviceText WHERE deviceText MATCH ?2
                UNION \(Self.devicesInRooms(rooms))
                """
        } else {
            // Shorter than a trigram: the fields are scanned.
            ids = """
                SELECT id FROM device WHERE serial LIKE ?1 ESCAPE '\\' OR assetTag LIKE ?1 ESCAPE '\\' OR hostname LIKE ?1 ESCAPE '\\'
                    OR address LIKE ?1 ESCAPE '\\' OR model LIKE ?1 ESCAPE '\\' OR manufacturer LIKE ?1 ESCAPE '\\'
                UNION SELECT deviceId FROM deviceMac WHERE mac LIKE ?1 ESCAPE '\\'
                UNION \(Self.devicesInRooms(rooms))
                """
        }
        // Match once; count and order the matches without searching again.
        let matches = try Int64.fetchAll(db, sql: "SELECT DISTINCT * FROM (\(ids))", arguments: args)
        let sql = """
            \(Self.deviceRowSelect) WHERE d.id IN (SELECT value FROM json_each(?))
            ORDER BY s.uai, r.name, cartRef, d.serial LIMIT \(max(0, limit))
            """
        let list = "[" + matches.map(String.init).joined(separator: ",") + "]"
        let rows = try Row.fetchAll(db, sql: sql, arguments: [list]).map(Self.deviceRow)
        return (rows, matches.count)
    }
}
