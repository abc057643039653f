import Foundation
import InventoryStore
import ParcCore

/// Reads device lists and suppliers' delivery notes (CSV) into the inventory, all rows or none.
public enum DeviceImport {
    /// The fields a column can fill, with the headers (French and English) that name them.
    public static let columns: [String: [String]] = [
        "serial": ["N° de série", "Numéro de série", "No de série", "Num série", "Série", "Serial", "Serial number", "SN", "S/N", "Numéro de serie"],
        "assetTag": ["N° d'inventaire", "Numéro d'inventaire", "Inventaire", "Asset tag", "Tag", "Étiquette", "Asset"],
        "macs": ["Adresse MAC", "Adresses MAC", "MAC", "MAC address", "MACs", "Adresse physique"],
        "model": ["Modèle", "Model", "Référence"],
        "designation": ["Désignation", "Désignation article", "Libellé", "Libellé article", "Description"],
        "manufacturer": ["Marque", "Fabricant", "Constructeur", "Manufacturer", "Brand", "Make"],
        "kind": ["Type", "Kind", "Catégorie", "Nature", "Type de matériel"],
        "school": ["École", "Ecole", "UAI", "RNE", "Établissement", "School"],
        "room": ["Salle", "Room", "Classe", "Local"],
        "cart": ["Chariot", "Classe mobile", "Cart"],
        "status": ["Statut", "État", "Status"],
        "warrantyEnd": ["Fin de garantie", "Garantie jusqu'au", "Date de fin de garantie", "Warranty end", "Garantie"],
        "warrantyMonths": ["Garantie (mois)", "Durée de garantie", "Durée de garantie (mois)", "Garantie en mois", "Warranty months"],
        "purchasePrice": ["Prix", "Prix TTC", "Montant TTC", "Prix unitaire TTC", "PU TTC", "Price", "Purchase price"],
        "priceExclTax": ["Prix HT", "Prix unitaire HT", "Montant HT", "PU HT", "Price excl. tax"],
        "order": ["Commande", "N° de commande", "Bon de commande", "Order"],
        "member": ["Commune", "Membre", "Member"],
        "hostname": ["Nom d'hôte", "Hostname", "Nom du poste"],
        "address": ["Adresse IP", "IP", "Address"],
        "sshPort": ["Port SSH", "SSH port"],
        "sshUser": ["Utilisateur SSH", "SSH user"],
        "notes": ["Remarques", "Commentaire", "Commentaires", "Notes", "Observations"],
    ]

    /// Imports `path`. Throws ``ImportFailure`` listing every bad row when one is wrong (nothing is written).
    public static func run(_ path: String, options: DeviceImportOptions, into inventory: Inventory) throws -> ImportReport {
        let table = try CSVTable(path: path)
        return try run(table, options: options, into: inventory)
    }

    public static func run(_ table: CSVTable, options: DeviceImportOptions, into inventory: Inventory) throws -> ImportReport {
        let headers = try HeaderMap(header: table.header, known: HeaderMap.table(columns), extra: options.mappings, file: table.file)
        guard headers.fieldsByColumn.values.contains("serial") else {
            throw ImportFailure(file: table.file, problems: [ImportProblem(file: table.file, line: 1, field: "serial",
                problem: "no column gives the serial number (columns: \(table.header.joined(separator: ", "))); name it \"N° de série\" or use --map COLUMN=serial")])
        }
        var report = ImportReport(file: table.file, rows: table.rows.count, counts: ImportCounts(), ignoredColumns: headers.ignored,
                                  encoding: table.encoding, delimiter: table.delimiter, dryRun: options.dryRun)
        do {
            try inventory.write { tx in
                let items = try plan(table, headers: headers, options: options, tx)
                report.counts = try tx.importDevices(items, source: table.file, update: options.update)
                if options.dryRun { throw DryRun() }
            }
        } catch is DryRun {
            return report
        } catch let error as InventoryError {
            // A check the planner missed: still name the file.
            throw ImportFailure(file: table.file, problems: [ImportProblem(file: table.file, line: 0, field: error.field ?? "row", problem: error.message)])
        }
        return report
    }

    struct DryRun: Error {}

    /// Checks every row and resolves its references; throws every problem at once.
    static func plan(_ table: CSVTable, headers: HeaderMap, options: DeviceImportOptions, _ r: InventoryReader) throws -> [ImportedDevice] {
        let (items, problems) = try check(table, headers: headers, options: options, r)
        if !problems.isEmpty { throw ImportFailure(file: table.file, problems: problems) }
        return items
    }

    /// What each row of a file would do, and each row's problems beside it; writes nothing. The
    /// good rows of a file with bad ones are shown as they would go once the others are fixed.
    public static func preview(_ table: CSVTable, options: DeviceImportOptions, into inventory: Inventory) throws -> ImportPreview {
        let headers = try HeaderMap(header: table.header, known: HeaderMap.table(columns), extra: options.mappings, file: table.file)
        guard headers.fieldsByColumn.values.contains("serial") else {
            throw ImportFailure(file: table.file, problems: [ImportProblem(file: table.file, line: 1, field: "serial",
                problem: "no column gives the serial number (columns: \(table.header.joined(separator: ", "))); name it \"N° de série\" or use --map COLUMN=serial")])
        }
        var preview = ImportPreview(file: table.file, rows: [], ignoredColumns: headers.ignored, encoding: table.encoding, delimiter: table.delimiter)
        var problems: [ImportProblem] = []
        var outcomes: [String: ImportRowOutcome] = [:]
        var owners: [String: String] = [:]
        do {
            try inventory.write { tx in
                let (items, found) = try check(table, headers: headers, options: options, tx)
                problems = found
                do {
                    for o in try tx.importDevices(items, source: table.file, update: options.update).rows {
                        outcomes[o.origin] = o
                        // Whose a created device would be (the preview warns when it is no one's).
                        if o.action == .create { owners[o.origin] = try tx.deviceRow(o.serial).member }
                    }
                } catch let error as InventoryError {
                    problems.append(ImportProblem(file: table.file, line: 0, field: error.field ?? "row", problem: error.message))
                }
                throw DryRun()
            }
        } catch is DryRun {}
        for (line, fields) in table.rows {
            let v = headers.values(fields)
            var row = ImportPreview.Row(line: line, serial: v["serial"], outcome: outcomes["\(table.file):\(line)"],
                                        problems: problems.filter { $0.line == line })
            row.owner = owners["\(table.file):\(line)"]
            preview.rows.append(row)
        }
        preview.fileProblems = problems.filter { $0.line == 0 }
        return preview
    }

    static func check(_ table: CSVTable, headers: HeaderMap, options: DeviceImportOptions, _ r: InventoryReader) throws -> ([ImportedDevice], [ImportProblem]) {
        var problems: [ImportProblem] = []
        var items: [ImportedDevice] = []
        var seenSerials: [String: Int] = [:]
        var seenTags: [String: Int] = [:]
        var seenMacs: [String: Int] = [:]
        // Look-ups by key, remembered for the next rows (nil: known to be missing).
        var schools: [String: School?] = [:]
        var rooms: [String: Room?] = [:]
        var carts: [String: Int64?] = [:]
        var orders: [String: Int64?] = [:]
        var orderRows: [String: Order?] = [:]
        // A delivery note names the same few designations on every row.
        var designations: [String: DeviceKind?] = [:]
        let columns = Set(headers.fieldsByColumn.values)
        // The serials, asset tags and MACs already in the inventory: read in one scan when the file
        // is large against the inventory, else looked up row by row.
        let known = try r.deviceCount() < table.rows.count * 8 ? try r.deviceKeys() : nil
        func existingID(_ serial: String) throws -> Int64? {
            if let known { return known.serials[InventoryReader.DeviceKeys.fold(serial)] }
            return try r.deviceID(serial: serial)
        }
        func holder(ofTag tag: String) throws -> String? {
            if let known { return known.tags[InventoryReader.DeviceKeys.fold(tag)] }
            return try r.serial(ofAssetTag: tag)
        }
        func holder(ofMAC mac: String) throws -> String? {
            if let known { return known.macs[mac] }
            return try r.serial(ofMAC: mac)
        }
        func remembered<T>(_ cache: inout [String: T?], _ key: String, _ make: () -> T?) -> T? {
            if let known = cache[key] { return known }
            let value = make()
            cache[key] = .some(value)
            return value
        }
        // Carts the file itself creates (others' laptops may name them); only a Type column or --kind makes one.
        let kindColumn = headers.fieldsByColumn.first { $0.value == "kind" }?.key
        let fileCarts = kindColumn == nil && options.kind != .cart ? [] : Set(table.rows.compactMap { row -> [String]? in
            // The kind's cell alone first: most rows are not carts.
            if let k = kindColumn, k < row.fields.count, let kind = try? DeviceKind(parsing: row.fields[k]), kind != .cart { return nil }
            let v = headers.values(row.fields)
            guard let kind = v["kind"].flatMap({ try? DeviceKind(parsing: $0) }) ?? options.kind, kind == .cart else { return nil }
            return [v["serial"], v["assetTag"]].compactMap { $0?.lowercased() }
        }.flatMap { $0 })

        for (line, fields) in table.rows {
            let v = headers.values(fields)
            var rowProblems: [ImportProblem] = []
            func problem(_ field: String, _ text: Message) { rowProblems.append(ImportProblem(file: table.file, line: line, field: field, problem: text)) }
            func parse<T>(_ field: String, _ body: (String) throws -> T) -> T? {
                guard let raw = v[field] else { return nil }
                do { return try body(raw) } catch let e as InvalidValue { problem(field, "'\(raw)': \(e.problem)") } catch { problem(field, "\(error)") }
                return nil
            }

            guard let serial = v["serial"] else {
                problem("serial", "missing; every device needs its serial number")
                problems += rowProblems
                continue
            }
            // An update starts from the device as it is, so that the rules apply to the result.
            let existing = try options.update && existingID(serial) != nil ? r.device(serial) : nil
            // The kind: a Type column, else --kind, else what the designation names (in French).
            let inferred = (v["designation"] ?? v["model"]).flatMap { text in remembered(&designations, text) { DeviceKind.infer(fromDesignation: text) } }
            let kind = parse("kind") { try DeviceKind(parsing: $0) } ?? options.kind ?? existing?.kind ?? inferred
            if kind == nil && v["kind"] == nil {
                problem("kind", "missing; add a Type column, give --kind (e.g. --kind laptop), or a designation naming it (ordinateur portable, chariot, ENI…)")
            }
            var device = existing ?? Device(kind: kind ?? .other, serial: serial)
            device.kind = kind ?? device.kind
            var given: Set<String> = []
            if v["kind"] != nil || options.kind != nil || inferred != nil { given.insert("kind") }
            if let designation = v["designation"] {
                device.designation = designation
                given.insert("designation")
                // Without a model column, the designation says what the device is.
                if !columns.contains("model") && existing?.model == nil { device.model = designation; given.insert("model") }
            }
            for (field, keyPath) in [("manufacturer", \Device.manufacturer), ("model", \Device.model), ("assetTag", \Device.assetTag),
                                     ("hostname", \Device.hostname), ("address", \Device.address), ("sshUser", \Device.sshUser), ("notes", \Device.notes)] {
                if let value = v[field] { device[keyPath: keyPath] = value; given.insert(field) }
            }
            if let status = parse("status", { try DeviceStatus(parsing: $0) }) { device.status = status; given.insert("status") }
            if let day = parse("warrantyEnd", { try Day(parsing: $0, field: "warrantyEnd") }) { device.warrantyEnd = day; given.insert("warrantyEnd") }
            if let money = parse("purchasePrice", { try Money(parsing: $0, field: "purchasePrice") }) { device.purchasePrice = money; given.insert("purchasePrice") }
            if let money = parse("priceExclTax", { try Money(parsing: $0, field: "priceExclTax") }) { device.priceExclTax = money; given.insert("priceExclTax") }
            let months = parse("warrantyMonths") { raw -> Int in
                guard let n = Int(raw.trimmed), (1...240).contains(n) else {
                    throw InvalidValue(field: "warrantyMonths", value: raw, problem: "a warranty in months is a whole number from 1 to 240, e.g. 36")
                }
                return n
            }
            if let port = parse("sshPort", { raw -> Int in
                guard let p = Int(raw) else { throw InvalidValue(field: "sshPort", value: raw, problem: "a port is a number, e.g. 22") }
                return p
            }) { device.sshPort = port; given.insert("sshPort") }

            var macs: [String] = []
            if let raw = v["macs"] {
                given.insert("macs")
                for part in raw.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" || $0 == "|" || $0 == "/" }) {
                    do {
                        let mac = try MACAddress.normalize(String(part))
                        if !macs.contains(mac) { macs.append(mac) }
                    } catch { problem("mac", "'\(part)': \(error.problem)") }
                }
            }

            // Place: the cart (option or column), or the school's room.
            var cartInFile: String? = nil
            let cartRef = options.cart ?? v["cart"]
            if let cartRef {
                given.insert("place")
                if let id = remembered(&carts, cartRef.lowercased(), { (try? r.cart(cartRef))?.id }) { device.cartId = id; device.roomId = nil }
                else if fileCarts.contains(cartRef.lowercased()) { cartInFile = cartRef; device.roomId = nil }
                else { problem("cart", "no cart '\(cartRef)' in the inventory or in this file; add it first (parc cart add) or check the tag") }
            } else if let schoolRef = v["school"] {
                given.insert("place")
                if let school = remembered(&schools, schoolRef.lowercased(), { Self.school(schoolRef, r) }) {
                    if let roomName = v["room"] {
                        if let room = remembered(&rooms, "\(school.uai)/\(roomName.lowercased())", { try? r.room(school: school.uai, name: roomName) }) {
                            device.roomId = room.id
                            device.cartId = nil
                        } else {
                            let names = (try? r.rooms(schoolId: school.id!).map(\.name)) ?? []
                            problem("room", "no room '\(roomName)' in \(school.uai) (its rooms: \(names.isEmpty ? Message("none yet") : Message(verbatim: names.joined(separator: ", ")))); add it with parc room add \(school.uai) NAME")
                        }
                    } else {
                        problem("room", "missing; a device is put in a room of \(school.uai)")
                    }
                } else {
                    problem("school", "no school '\(schoolRef)' (by UAI or name); add it with parc school add, or check the UAI")
                }
            } else if v["room"] != nil {
                problem("school", "missing; room '\(v["room"]!)' needs its school's UAI")
            }

            if let number = options.order ?? v["order"] {
                given.insert("order")
                let member = options.member ?? v["member"]
                var lookupError: Message? = nil
                let id = remembered(&orders, "\(number.lowercased())|\(member?.lowercased() ?? "")") {
                    do { return try r.order(number, member: member).id } catch {
                        lookupError = (error as? InventoryError)?.message ?? Message(verbatim: "\(error)")
                        return nil
                    }
                }
                if let id { device.orderId = id } else { problem("order", lookupError ?? "no order '\(number)'; list orders with parc order list") }
            }
            let order = device.orderId.flatMap { id in remembered(&orderRows, String(id)) { try? r.order(id: id) } }
            // A warranty in months runs from the delivery (the order's, else --delivered).
            if let months, v["warrantyEnd"] == nil {
                if let start = order?.deliveredOn ?? options.delivered {
                    device.warrantyEnd = start.adding(months: months)
                    given.insert("warrantyEnd")
                } else {
                    problem("warrantyMonths", "\(months) months from when? The order has no delivery date: give one (parc order edit NUMBER --delivered DATE) or --delivered DATE")
                }
            }
            // Both prices are kept; the one the file lacks comes from the other and the order's VAT rate
            // (its amounts with and without tax, else 20 %).
            let rate = Self.vatRate(order)
            if given.contains("priceExclTax"), !columns.contains("purchasePrice"), let ht = device.priceExclTax {
                device.purchasePrice = Money(cents: Int((Double(ht.cents) * (1 + rate)).rounded()))
                given.insert("purchasePrice")
            } else if given.contains("purchasePrice"), !columns.contains("priceExclTax"), let ttc = device.purchasePrice {
                device.priceExclTax = Money(cents: Int((Double(ttc.cents) / (1 + rate)).rounded()))
                given.insert("priceExclTax")
            }
            if !given.contains("status") && existing == nil {
                device.status = device.roomId != nil || device.cartId != nil || cartInFile != nil ? .deployed : .inStock
            }

            // A cart resolved later still counts as a cart place for the rules; every rule the row breaks is said.
            var check = device
            if cartInFile != nil { check.cartId = -1 }
            let broken = check.check()
            for error in broken { problem(error.field, error.withValue) }
            if broken.isEmpty {
                device.serial = check.serial
                device.assetTag = check.assetTag
                device.hostname = check.hostname
                device.manufacturer = check.manufacturer
                device.model = check.model
                device.designation = check.designation
                device.notes = check.notes
                device.address = check.address
            }

            // Duplicates within the file, then against the inventory.
            let key = device.serial.lowercased()
            if let first = seenSerials[key] {
                problem("serial", "\(device.serial) is already on line \(first) of this file")
            } else {
                seenSerials[key] = line
                if !options.update, try existingID(device.serial) != nil {
                    problem("serial", "\(device.serial) is already in the inventory; use --update to update it")
                }
            }
            if let tag = device.assetTag {
                if let first = seenTags[tag.lowercased()] {
                    problem("assetTag", "\(tag) is already on line \(first) of this file")
                } else {
                    seenTags[tag.lowercased()] = line
                    if let holder = try holder(ofTag: tag), holder.lowercased() != key {
                        problem("assetTag", "\(tag) already belongs to device \(holder)")
                    }
                }
            }
            for mac in macs {
                if let first = seenMacs[mac] {
                    problem("mac", "\(mac) is already on line \(first) of this file")
                } else {
                    seenMacs[mac] = line
                    if let holder = try holder(ofMAC: mac), holder.lowercased() != key {
                        problem("mac", "\(mac) already belongs to device \(holder)")
                    }
                }
            }
            if rowProblems.isEmpty {
                items.append(ImportedDevice(device: device, macs: macs, fields: given, origin: "\(table.file):\(line)", cartInFile: cartInFile))
            }
            problems += rowProblems
        }
        return (items, problems)
    }

    /// The VAT rate of an order from its amounts with and without tax, else the standard 20 %.
    static func vatRate(_ order: Order?) -> Double {
        if let o = order, let ht = o.amountExclTax, let ttc = o.amountInclTax, ht.cents > 0, ttc.cents >= ht.cents {
            return (Double(ttc.cents) / Double(ht.cents) - 1)
        }
        return 0.20
    }

    /// A school by UAI, else by its exact name.
    static func school(_ ref: String, _ r: InventoryReader) -> School? {
        if let s = try? r.school(ref) { return s }
        let matches = ((try? r.schools()) ?? []).filter { $0.name.compare(ref, options: [.caseInsensitive, .diacriticInsensitive]) == .orderedSame }
        return matches.count == 1 ? matches[0] : nil
    }
}
