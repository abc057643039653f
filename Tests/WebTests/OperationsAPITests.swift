import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InventoryStore
import ParcApp
import ParcCore
import Testing
@testable import Web

/// `POST /api/v1/operations/NAME`: what `parc --server URL …` sends (issue 24, part 2).
@Suite struct OperationsAPITests {
    static func body<O: InventoryOperation>(_ operation: O) throws -> ByteBuffer { ByteBuffer(bytes: Array(try JSONEncoder().encode(operation))) }

    @Test("every operation: 401 without a token, 404 to a commune's and to a relay's token, 404 to a technician for the administrators' ones; nothing written")
    func onlyStaffReachTheOperations() async throws {
        let f = try PortalFixture()
        let commune = try f.token("mairie-a"), relay = try f.token("relais-a"), tech = try f.token("tech")
        let events = try f.count("SELECT COUNT(*) FROM event"), members = try f.count("SELECT COUNT(*) FROM member")
        #expect(Operations.all.count >= 60 && Set(Operations.all.map { $0.name }).count == Operations.all.count, "names are unique")
        try await withRouter(f.portal()) { client in
            // A body that is each operation's inputs, so that a refusal cannot come from the body.
            let valid = try Self.body(MemberOps.Add(MemberOps.Fields(name: "Intrus", kind: .commune)))
            for type in Operations.all {
                let uri = "/api/v1/operations/\(type.name)"
                let anonymous = try await client.execute(uri: uri, method: .post, body: valid)
                #expect(anonymous.status == .unauthorized, "\(uri) without a token")
                for (who, token) in [("a commune", commune), ("a relay", relay)] {
                    let r = try await client.execute(uri: uri, method: .post, headers: headers([("Authorization", "Bearer \(token)")]), body: valid)
                    #expect(r.status == .notFound, "\(uri) for \(who): \(r.status)")
                }
                if type.adminOnly {
                    let r = try await client.execute(uri: uri, method: .post, headers: headers([("Authorization", "Bearer \(tech)")]), body: valid)
                    #expect(r.status == .notFound, "\(uri) is the administrators'")
                }
            }
        }
        #expect(try f.count("SELECT COUNT(*) FROM member") == members)
        #expect(try f.count("SELECT COUNT(*) FROM event") == events, "nothing written")
    }

    @Test("an operation through the API answers what it answers on the file, under the account's name; a refusal is 422 with the same words; a bad body 400")
    func operationsAnswerAsLocally() async throws {
        let f = try PortalFixture()
        let tech = try f.token("tech"), admin = try f.token("admin")
        let portal = f.portal()
        let local = LocalParc(Workspace(inventory: f.inventory, home: FileManager.default.temporaryDirectory, access: AccessSettings(credentials: [])))
        try await withRouter(portal) { client in
            nonisolated(unsafe) let doc = try OpenAPITests.document()
            func call<O: InventoryOperation>(_ operation: O, token: String) async throws -> TestResponse {
                let r = try await client.execute(uri: "/api/v1/operations/\(O.name)", method: .post, headers: headers([("Authorization", "Bearer \(token)")]),
                                                 body: try Self.body(operation))
                // A success matches the output schema the document gives for this operation.
                if r.status == .ok, let value = r.json {
                    OpenAPITests.check(value, ["$ref": "#/components/schemas/\(OperationSchema.component(O.name))Output"], doc, at: O.name)
                }
                return r
            }
            // Reads: the same values.
            let listed = try await call(DeviceOps.List(DeviceFilter(member: f.a.slug)), token: tech)
            #expect(listed.status == .ok)
            #expect(try JSONDecoder().decode([DeviceRow].self, from: Data(listed.text.utf8)) == (try await local.perform(DeviceOps.List(DeviceFilter(member: f.a.slug)))))
            // A stale edit: refused with the words the command line prints, nothing written.
            let version = try f.inventory.read { try $0.deviceRow(f.a.device).version }
            try f.inventory.acting(as: "autre").write { tx in _ = try tx.updateDevice(f.a.device) { $0.notes = "changé ailleurs" } }
            let stale = DeviceOps.Edit(f.a.device, fields: DeviceOps.Fields(model: "Autre modèle"), ifVersion: version)
            let refused = try await call(stale, token: tech)
            #expect(refused.status == .unprocessableContent)
            var localWords = ""
            do { _ = try await local.perform(stale) } catch { localWords = "\(error)" }
            #expect(!localWords.isEmpty && (refused.json as? [String: Any])?["detail"] as? String == localWords, "\(refused.text)")
            #expect(try f.inventory.read { try $0.device(f.a.device).model } != "Autre modèle")
            // From the current version: done, and the audit log names the account.
            let now = try f.inventory.read { try $0.deviceRow(f.a.device).version }
            let done = try await call(DeviceOps.Edit(f.a.device, fields: DeviceOps.Fields(model: "Autre modèle"), ifVersion: now), token: tech)
            #expect(done.status == .ok, "\(done.text)")
            #expect(try f.inventory.read { try $0.history(f.a.device) }.last?.actor == "tech")
            // Not the inputs of the operation: 400, saying so.
            let bad = try await client.execute(uri: "/api/v1/operations/device.edit", method: .post, headers: headers([("Authorization", "Bearer \(tech)")]),
                                               body: ByteBuffer(string: #"{"device": 42}"#))
            #expect(bad.status == .badRequest && bad.text.contains("not the inputs of device.edit"))
            // The administrators' operations answer an administrator.
            let accounts = try await call(AccountOps.List(), token: admin)
            #expect(accounts.status == .ok && accounts.text.contains("\"login\":\"mairie-a\""))
            // A token made by the command line: only its digest travelled.
            let secret = Secrets.newToken()
            let made = try await call(TokenOps.Add(login: "tech", name: "portable", digest: secret.digest, prefix: secret.prefix), token: admin)
            #expect(made.status == .ok && !made.text.contains(secret.secret))
            let works = try await client.execute(uri: "/api/v1/operations/member.list", method: .post, headers: headers([("Authorization", "Bearer \(secret.secret)")]),
                                                 body: try Self.body(MemberOps.List()))
            #expect(works.status == .ok)
        }
    }

    @Test("the document gives each operation its inputs and its output, from the types that travel: keys, types, enums, what may be left out")
    func everyOperationIsDocumentedWithItsSchemas() throws {
        let doc = try OpenAPITests.document()
        let schemas = (doc["components"] as! [String: Any])["schemas"] as! [String: [String: Any]]
        for type in Operations.all {
            let name = OperationSchema.component(type.name)
            let path = ((doc["paths"] as! [String: [String: Any]])["/api/v1/operations/\(type.name)"]?["post"]) as? [String: Any]
            #expect(path != nil, "\(type.name) is documented")
            #expect(schemas[name + "Input"] != nil && schemas[name + "Output"] != nil, "\(type.name) has its schemas")
        }
        // What a person reads there: device.edit's keys, which may be left out, an enum's values.
        let edit = try #require(schemas["DeviceEditInput"])
        let properties = try #require(edit["properties"] as? [String: [String: Any]])
        #expect(Set(properties.keys) == ["device", "newSerial", "kind", "fields", "addMacs", "removeMacs", "place", "ifVersion"])
        #expect(Set(edit["required"] as? [String] ?? []) == ["device", "fields", "addMacs", "removeMacs"])
        #expect((properties["kind"]?["enum"] as? [String])?.contains("laptop") == true)
        #expect(properties["ifVersion"]?["type"] as? String == "integer")
        let fields = try #require(properties["fields"]?["properties"] as? [String: [String: Any]])
        #expect(fields["warrantyEnd"]?["type"] as? String == "string" && fields["status"]?["enum"] != nil)
        let list = try #require(schemas["DeviceListOutput"])
        #expect(list["type"] as? String == "array" && ((list["items"] as? [String: Any])?["required"] as? [String])?.contains("serial") == true)
        let imported = try #require(schemas["ImportDevicesInput"]?["properties"] as? [String: [String: Any]])
        #expect(imported["source"]?["properties"] != nil && (imported["mappings"]?["additionalProperties"] as? Bool) == true)
    }
}
