import Foundation
import Lab
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InventoryStore
import ParcCore
import Testing
@testable import Web

/// The OpenAPI document against the router, both ways, and against real answers.
@Suite struct OpenAPITests {
    static func document() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(OpenAPI.document().serialized(indent: nil).utf8)) as! [String: Any]
    }

    @Test("every API route of the router is in the document, and every documented operation is a route of the router")
    func documentMatchesRouter() throws {
        let f = try PortalFixture()
        let router = f.portal().router()
        let routed = Set(router.routes.filter { $0.path.description.hasPrefix("/api/") }.map { "\($0.method.rawValue) \($0.path.description)" })
        let doc = try Self.document()
        let paths = doc["paths"] as! [String: [String: Any]]
        let documented = Set(paths.flatMap { path, ops in ops.keys.map { "\($0.uppercased()) \(path)" } })
        #expect(routed == documented, "routed but undocumented: \(routed.subtracting(documented)); documented but not routed: \(documented.subtracting(routed))")
        #expect(routed.count >= 14)
        #expect(doc["openapi"] as? String == "3.1.0")
        // Every path parameter of a documented path is declared.
        for (path, ops) in paths {
            let names = path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
            for (_, op) in ops {
                let declared = ((op as! [String: Any])["parameters"] as? [[String: Any]] ?? []).filter { $0["in"] as? String == "path" }.map { $0["name"] as! String }
                #expect(declared == names, "\(path)")
            }
        }
    }

    /// Resolves a schema (following `$ref`).
    static func resolve(_ schema: [String: Any], _ doc: [String: Any]) -> [String: Any] {
        guard let ref = schema["$ref"] as? String else { return schema }
        let name = String(ref.split(separator: "/").last!)
        return ((doc["components"] as! [String: Any])["schemas"] as! [String: Any])[name] as! [String: Any]
    }

    /// Checks `value` against a schema of the document: types, required keys, no undocumented key.
    static func check(_ value: Any, _ schema: [String: Any], _ doc: [String: Any], at path: String) {
        let s = resolve(schema, doc)
        let types: [String] = (s["type"] as? [String]) ?? [(s["type"] as? String) ?? "any"]
        switch value {
        case is NSNull: #expect(types.contains("null"), "\(path): null where \(types)")
        case let array as [Any]:
            #expect(types.contains("array"), "\(path): array where \(types)")
            if let items = s["items"] as? [String: Any] { for (i, item) in array.enumerated() { check(item, items, doc, at: "\(path)[\(i)]") } }
        case let object as [String: Any]:
            #expect(types.contains("object"), "\(path): object where \(types)")
            let properties = s["properties"] as? [String: [String: Any]] ?? [:]
            for key in s["required"] as? [String] ?? [] { #expect(object[key] != nil, "\(path): missing required \(key)") }
            if !properties.isEmpty {
                for (key, v) in object {
                    guard let p = properties[key] else { Issue.record("\(path).\(key) is not in the document"); continue }
                    check(v, p, doc, at: "\(path).\(key)")
                }
            }
        case let n as NSNumber where String(cString: n.objCType) == "c":
            #expect(types.contains("boolean"), "\(path): boolean where \(types)")
        case is NSNumber: #expect(types.contains("integer") || types.contains("number"), "\(path): number where \(types)")
        case is String: #expect(types.contains("string"), "\(path): string where \(types)")
        default: Issue.record("\(path): unexpected \(type(of: value))")
        }
    }

    @Test("each documented operation answers as documented, with a body that matches its schema")
    func answersMatchTheDocument() async throws {
        let f = try PortalFixture()
        let token = try f.token("tech")
        // A run needs a device with an address: one where nothing answers (the run ends unreachable at once).
        let closed = try Lab.freePort()
        try f.inventory.write { tx in _ = try tx.updateDevice(f.a.device) { $0.address = "127.0.0.1"; $0.sshPort = closed } }
        nonisolated(unsafe) let doc = try Self.document()
        nonisolated(unsafe) let paths = doc["paths"] as! [String: [String: Any]]
        nonisolated(unsafe) var called = 0
        try await withRouter(f.portal()) { client in
            // Revoking the token it uses comes last.
            for (template, ops) in paths.sorted(by: { ($0.key == "/api/v1/tokens/current" ? 1 : 0, $0.key) < ($1.key == "/api/v1/tokens/current" ? 1 : 0, $1.key) }) {
                for (method, raw) in ops {
                    // Relays' operations need a relay's token and work in flight: RelayAccessTests checks their answers.
                    if template.hasPrefix("/api/v1/relay/") { called += 1; continue }
                    // The command line's operations take each its own inputs: OperationsAPITests performs every one.
                    if template.hasPrefix("/api/v1/operations/") { called += 1; continue }
                    let op = raw as! [String: Any]
                    var uri = template
                    for p in (op["parameters"] as? [[String: Any]] ?? []) where p["in"] as? String == "path" {
                        let name = p["name"] as! String
                        let kind = Portal.routes.first { $0.path == template }!.parameters.first { $0.name == name }!.kind
                        uri = uri.replacingOccurrences(of: "{\(name)}", with: f.a.value(kind))
                    }
                    let body: ByteBuffer? = switch (method, template) {
                    case ("post", "/api/v1/runs"): ByteBuffer(string: #"{"playbook":"check.yml","devices":["\#(f.a.device)"],"check":true,"extraVars":{"x":"1"}}"#)
                    case ("post", "/api/v1/imports"): ByteBuffer(string: "N° de série;Type\nNEW-1;laptop\n")
                    case ("post", "/api/v1/tokens"): ByteBuffer(string: #"{"login":"tech","password":"\#(PortalFixture.password)","name":"test"}"#)
                    case ("post", _): ByteBuffer(string: #"{"serial":"\#(f.a.device)","kind":"damaged","description":"Coque fendue","since":"2026-11-02","contactName":"M. Test","contactPhone":"03 87 11 22 33"}"#)
                    default: nil
                    }
                    if template == "/api/v1/imports" { uri += "?dryRun=true" }
                    let r = try await client.execute(uri: uri, method: HTTPRequest.Method(method.uppercased())!, headers: headers([("Authorization", "Bearer \(token)")]), body: body)
                    let responses = op["responses"] as! [String: [String: Any]]
                    let success = responses.keys.filter { $0.hasPrefix("2") }
                    #expect(success.contains(String(r.status.code)), "\(method) \(uri): \(r.status) \(r.text.prefix(200))")
                    let content = responses[String(r.status.code)]?["content"] as? [String: Any] ?? [:]
                    if content["text/event-stream"] != nil {
                        // Server-sent events: the run's whole story, ending with its recap.
                        #expect(r.header("Content-Type")?.hasPrefix("text/event-stream") == true)
                        #expect(r.text.hasPrefix("id: 1\nevent: start\n") && r.text.contains("\nevent: recap\ndata: {"), "\(r.text.prefix(300))")
                    } else {
                        let schema = ((content["application/json"] as? [String: Any])?["schema"] as? [String: Any]) ?? [:]
                        #expect(r.header("Content-Type")?.hasPrefix("application/json") == true)
                        if let value = r.json { Self.check(value, schema, doc, at: "\(method) \(uri)") } else { Issue.record("\(uri): not JSON") }
                    }
                    called += 1
                }
            }
        }
        #expect(called == paths.values.reduce(0) { $0 + $1.count })
    }

    @Test("a malformed body gets 400 saying what is wrong; invalid fields 422 with each field's message; nothing is written")
    func badBodies() async throws {
        let f = try PortalFixture()
        let token = try f.token("mairie-a")
        let before = try f.count("SELECT COUNT(*) FROM problem"), runsBefore = try f.count("SELECT COUNT(*) FROM run")
        try await withRouter(f.portal()) { client in
            let cases: [(String, HTTPResponse.Status, String)] = [
                ("{\"serial\": ", .badRequest, "not valid JSON"),
                ("[1, 2]", .badRequest, "must be a JSON object"),
                (#"{"serial":"\#(f.a.device)","colour":"red"}"#, .badRequest, "unknown field 'colour'"),
                (#"{"serial":42}"#, .badRequest, "field 'serial' must be a string"),
                (#"{"kind":"broken"}"#, .badRequest, "field 'serial' is required"),
                (#"{"serial":"\#(f.a.device)","kind":"exploded","description":"","contactName":"","contactPhone":"12"}"#, .unprocessableContent, "description"),
            ]
            for (body, status, detail) in cases {
                let r = try await client.execute(uri: "/api/v1/problems", method: .post, headers: headers([("Authorization", "Bearer \(token)")]), body: ByteBuffer(string: body))
                #expect(r.status == status, "\(body): \(r.status)")
                let json = r.json as? [String: Any]
                #expect(json?["error"] != nil)
                #expect((json?["detail"] as? String)?.contains(detail) == true, "\(body): \(json?["detail"] ?? "none")")
                if status == .unprocessableContent {
                    let fields = json?["fields"] as? [String: String]
                    #expect(Set(fields?.keys.map { $0 } ?? []) == ["kind", "description", "contactName", "contactPhone"])
                }
            }
            // A run's and a token's bodies: each field's type said, nothing started.
            let tech = try f.token("tech")
            let runs: [(String, String)] = [
                (#"{"check":true}"#, "field 'playbook' is required"),
                (#"{"playbook":"check.yml","check":"yes"}"#, "field 'check' must be true or false"),
                (#"{"playbook":"check.yml","devices":["\#(f.a.device)",1]}"#, "field 'devices' must be a list of serials"),
                (#"{"playbook":"check.yml","extraVars":{"motd":true}}"#, "extraVars.motd must be a string or a number"),
                (#"{"playbook":"check.yml","tags":3}"#, "field 'tags' must be a list of tags or a comma-separated string"),
                (#"{"playbook":"check.yml","skipTags":{"a":1}}"#, "field 'skipTags' must be a list of tags or a comma-separated string"),
            ]
            for (body, detail) in runs {
                let r = try await client.execute(uri: "/api/v1/runs", method: .post, headers: headers([("Authorization", "Bearer \(tech)")]), body: ByteBuffer(string: body))
                #expect(r.status == .badRequest && ((r.json as? [String: Any])?["detail"] as? String)?.contains(detail) == true, "\(body): \(r.text)")
            }
            let token = try await client.execute(uri: "/api/v1/tokens", method: .post, body: ByteBuffer(string: #"{"login":"tech"}"#))
            #expect(token.status == .badRequest && token.text.contains("field 'password' is required"), "\(token.text)")
        }
        #expect(try f.count("SELECT COUNT(*) FROM problem") == before)
        #expect(try f.count("SELECT COUNT(*) FROM run") == runsBefore, "no run was started")
    }
}
