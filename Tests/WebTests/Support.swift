import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InventoryStore
import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import ParcApp
import ParcCore
import Testing
@testable import Web

/// A UAI with its check letter.
func uai(_ n: Int) -> String {
    let digits = String(format: "057%04d", n)
    return digits + String(Array("ABCDEFGHJKLMNPRSTUVWXYZ")[Int(digits)! % 23])
}

/// Everything one member owns in the test inventory: one object of each kind a route can name.
struct MemberObjects {
    var slug: String
    var memberId: Int64
    var uai: String
    var roomId: Int64
    var cart: String
    var device: String
    var orderId: Int64
    var documentId: Int64
    var problemId: Int64
    var runId: Int64
    /// Every device of the member (the cart, its laptop, the screen).
    var devices: [String] = []

    /// Every value of this kind the member has (the isolation test walks them all).
    func values(_ kind: ParameterKind) -> [String] {
        kind == .device ? devices : [value(kind)]
    }

    /// The value of a path parameter of this kind.
    func value(_ kind: ParameterKind) -> String {
        switch kind {
        case .member: slug
        case .school: uai
        case .room: String(roomId)
        case .cart: cart
        case .device: device
        case .order: String(orderId)
        case .document: String(documentId)
        case .problem: String(problemId)
        case .run: String(runId)
        case .account: "mairie-\(slug.hasPrefix("montigny") ? "a" : "b")"
        // Work in flight exists only while a relay holds it (RelayAccessTests).
        case .relayJob: "no-work-\(slug)"
        }
    }
}

/// A minimal PDF.
let pdfBytes = Data("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".utf8)

/// A temporary inventory with two communes (A and B), each with a school, a room, a cart of
/// laptops, an order with funding, a document, a problem and a run; and four accounts.
final class PortalFixture: @unchecked Sendable {
    let dir: URL
    let path: String
    let inventory: Inventory
    var a: MemberObjects!
    var b: MemberObjects!
    static let password = "correct-horse-battery"
    /// bcrypt cost 4 keeps the tests fast; the server's default is 12.
    static let hash = try! Secrets.hashPassword(password, cost: 4)
    var clock = FixedClock()

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-web-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        path = dir.appendingPathComponent("parc.sqlite").path
        inventory = try Inventory(path: path, actor: "fixture")
        // The console's playbooks.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("playbooks"), withIntermediateDirectories: true)
        // In /etc, which each lab device has of its own (/tmp is the machine's, shared by parallel tests).
        try "- hosts: all\n  become: yes\n  gather_facts: no\n  tasks:\n    - name: a file\n      copy: { dest: /etc/parc-web-check, content: \"x\\n\" }\n"
            .write(to: dir.appendingPathComponent("playbooks/check.yml"), atomically: true, encoding: .utf8)
        try inventory.write { tx in _ = try tx.addLot(Lot(number: "2", title: "Classes mobiles")) }
        a = try member(1, "Montigny-lès-Metz")
        b = try member(2, "Norroy-le-Veneur")
        try inventory.write { tx in
            try tx.addAccount(login: "mairie-a", role: .commune, member: a.slug, passwordHash: Self.hash)
            try tx.addAccount(login: "mairie-b", role: .commune, member: b.slug, passwordHash: Self.hash)
            try tx.addAccount(login: "tech", role: .technician, member: nil, passwordHash: Self.hash)
            try tx.addAccount(login: "admin", role: .admin, member: nil, passwordHash: Self.hash)
            try tx.addAccount(login: "relais-a", role: .relay, member: nil, passwordHash: "!", schools: [a.uai])
            try tx.addAccount(login: "relais-b", role: .relay, member: nil, passwordHash: "!", schools: [b.uai])
        }
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    private func member(_ n: Int, _ name: String) throws -> MemberObjects {
        try inventory.write { tx in
            let m = try tx.addMember(Member(kind: .commune, name: name, insee: String(format: "57%03d", n)))
            let school = try tx.addSchool(uai: uai(n), name: "École \(name)", member: m.slug)
            let room = try tx.addRoom(school: school.uai, name: "CM\(n)")
            let order = try tx.addOrder(Order(memberId: m.id!, lotId: try tx.lot("2").id, number: "BC-\(n)", amountInclTax: Money(cents: 1_000_000)))
            _ = try tx.addFunding(FundingLine(orderId: order.id!, funder: .departement, requested: Money(cents: 400_000), granted: Money(cents: 400_000)))
            let cart = try tx.addDevice(Device(kind: .cart, model: "Chariot 16", serial: "CART-\(n)", assetTag: "C-\(n)", status: .deployed,
                                               roomId: room.id, orderId: order.id))
            let laptop = try tx.addDevice(Device(kind: .laptop, manufacturer: "Lenovo", model: "ThinkPad 11e", serial: "SN-\(n)-1", assetTag: "T-\(n)-1",
                                                 status: .deployed, cartId: cart.id, orderId: order.id, warrantyEnd: try Day(parsing: "2027-01-15")),
                                          macs: [String(format: "02:00:00:00:00:%02x", n)])
            _ = try tx.addDevice(Device(kind: .interactiveScreen, model: "Écran 75", serial: "SCR-\(n)", status: .deployed, roomId: room.id, orderId: order.id))
            let doc = try tx.addDocument(member: m.slug, order: order.number, kind: .deliberation, title: "Délibération \(n)", fileName: "deliberation-\(n).pdf",
                                         content: pdfBytes)
            let problem = try tx.reportProblem(ProblemReport(serial: laptop.serial, kind: .broken, description: "L'écran reste noir", since: nil,
                                                             contactName: "Mme Martin", contactPhone: "03 87 00 00 0\(n)"))
            let run = try tx.startRun(playbook: "baseline.yml", hash: "abc", selector: "commune_\(m.slug)", checkMode: true)
            try tx.finishRun(run, exitCode: 0, endedAt: Date(), hosts: [RunHostSummary(host: laptop.serial, serial: laptop.serial, ok: 2, changed: 1, failed: 0, skipped: 0, unreachable: 0)],
                             tasks: [RunTaskEntry(serial: laptop.serial, host: laptop.serial, play: "p", task: "proxy", item: nil, outcome: .changed, changed: true,
                                                  ignored: false, message: nil, output: nil, diff: "--- a\n+++ b\n", milliseconds: 12)])
            return MemberObjects(slug: m.slug, memberId: m.id!, uai: school.uai, roomId: room.id!, cart: cart.serial, device: laptop.serial,
                                 orderId: order.id!, documentId: doc.id, problemId: problem.id, runId: run,
                                 devices: [cart.serial, laptop.serial, "SCR-\(n)"])
        }
    }

    func options(baseURL: String? = nil) -> PortalOptions {
        var o = PortalOptions(baseURL: baseURL)
        o.bcryptCost = 4
        o.trustForwardedFor = true
        let clock = self.clock
        o.clock = { clock.now }
        // The console's parc folder: playbooks/ of the tests' own.
        o.home = dir
        // A relay's held request for work ends quickly when there is none.
        o.relayPollWait = .milliseconds(300)
        return o
    }

    func portal(baseURL: String? = nil) -> Portal {
        Portal(inventory: inventory, options: options(baseURL: baseURL), logger: quietLogger)
    }

    /// A session made directly in the store: the cookie header to send.
    func session(_ login: String) throws -> (cookie: String, csrf: String) {
        let secret = Secrets.random(), csrf = Secrets.random()
        try inventory.write { tx in
            try tx.openSession(account: try tx.account(login), digest: Secrets.digest(secret), csrf: csrf,
                               expiresAt: clock.now.addingTimeInterval(3600), address: "127.0.0.1", at: clock.now)
        }
        return ("parc_session=\(secret)", csrf)
    }

    /// An API token of the account.
    func token(_ login: String) throws -> String {
        let t = Secrets.newToken()
        try inventory.write { tx in _ = try tx.addToken(login: login, name: "test", digest: t.digest, prefix: t.prefix) }
        return t.secret
    }

    func count(_ sql: String) throws -> Int { try inventory.read { try $0.countForTests(sql) } }
}

/// A clock the tests move.
final class FixedClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value = Date()
    var now: Date { lock.withLock { value } }
    func advance(_ seconds: TimeInterval) { lock.withLock { value = value.addingTimeInterval(seconds) } }
}

/// Warnings and errors only: the tests' output stays readable.
let quietLogger: Logger = {
    var l = Logger(label: "parc.web.test")
    l.logLevel = .warning
    return l
}()

/// Runs `body` with a client of the portal's router (in process, no network).
func withRouter(_ portal: Portal, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
    let app = Application(router: portal.router(), logger: quietLogger)
    try await app.test(.router) { client in try await body(client) }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(buffer: body)) }
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
    var setCookies: [String] { headers[values: .setCookie] }
}

func headers(_ pairs: [(String, String)]) -> HTTPFields {
    var h = HTTPFields()
    for (k, v) in pairs { h.append(HTTPField(name: HTTPField.Name(k)!, value: v)) }
    return h
}

func formBody(_ fields: [(String, String)]) -> ByteBuffer {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return ByteBuffer(string: fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&"))
}

extension Portal {
    /// The portal over an inventory file (its parc folder and SSH access come from `options`).
    init(inventory: Inventory, options: PortalOptions, logger: Logger) {
        self.init(workspace: Workspace(inventory: inventory, home: options.home ?? ParcHome.locate(), access: AccessSettings(credentials: [])),
                  options: options, logger: logger)
    }
}
