import Foundation
import HTTPTypes
import ParcApp
import ParcCore

/// The OpenAPI 3.1 document of `/api/v1`, made from the API's route table (the tests compare it
/// with the router's routes and with real answers).
enum OpenAPI {
    static func nullable(_ type: String) -> JSONValue { .object([("type", .array([.string(type), .string("null")]))]) }
    static func plain(_ type: String) -> JSONValue { .object([("type", .string(type))]) }
    static func ref(_ name: String) -> JSONValue { .object([("$ref", .string("#/components/schemas/\(name)"))]) }
    static func arrayOf(_ item: JSONValue) -> JSONValue { .object([("type", .string("array")), ("items", item)]) }

    static func object(_ properties: [(String, JSONValue)], required: [String]? = nil) -> JSONValue {
        .object([("type", .string("object")), ("properties", .object(properties)),
                 ("required", .array((required ?? properties.map(\.0)).map(JSONValue.string)))])
    }

    /// Schemas of the answers; every key the API writes is listed and required (null when unknown).
    static var schemas: [(String, JSONValue)] {
        let deviceTypes: [String: JSONValue] = ["macs": arrayOf(plain("string")), "sshPort": nullable("integer"),
                                                "serial": plain("string"), "kind": plain("string"), "status": plain("string")]
        let device = object(DeviceListing.columns.map { ($0.key, deviceTypes[$0.key] ?? nullable("string")) })
        let funding = object([("order", plain("string")), ("orderId", plain("integer")), ("funder", plain("string")), ("label", nullable("string")),
                              ("requested", nullable("string")), ("granted", nullable("string"))])
        let problemKinds = JSONValue.object([("type", .string("string")), ("enum", .array(ProblemKind.allCases.map { .string($0.rawValue) }))])
        return [
            ("Error", object([("error", plain("string")), ("detail", plain("string"))])),
            ("Member", object([("slug", plain("string")), ("name", plain("string")), ("kind", plain("string")), ("siren", nullable("string")),
                               ("insee", nullable("string")), ("deliberationNumber", nullable("string")), ("deliberationDate", nullable("string")),
                               ("prefectureReceipt", nullable("string")), ("conventionDate", nullable("string")), ("conventionSignatory", nullable("string"))])),
            ("Device", device),
            ("School", object([("uai", plain("string")), ("name", plain("string")), ("city", nullable("string")), ("member", nullable("string")),
                               ("rooms", arrayOf(plain("string"))),
                               ("roomCount", .object([("type", .string("integer")), ("description", .string("in the list: how many rooms (the single school lists them)"))]))],
                              required: ["uai", "name", "city", "member"])),
            ("FundingLine", funding),
            ("Order", object([("id", plain("integer")), ("number", plain("string")), ("member", nullable("string")), ("lot", nullable("string")),
                              ("supplier", nullable("string")), ("orderedOn", nullable("string")), ("deliveredOn", nullable("string")),
                              ("deliveryNote", nullable("string")), ("amountExclTax", nullable("string")), ("amountInclTax", nullable("string")),
                              ("ownShare", nullable("string")), ("funding", arrayOf(ref("FundingLine")))])),
            ("Problem", object([("id", plain("integer")), ("serial", plain("string")), ("member", nullable("string")), ("device", plain("string")),
                                ("kind", problemKinds), ("description", plain("string")), ("since", nullable("string")), ("contactName", plain("string")),
                                ("contactPhone", plain("string")), ("reportedBy", plain("string")), ("reportedAt", plain("string")), ("state", plain("string")),
                                ("acceptedAt", nullable("string")), ("closedAt", nullable("string")), ("resolution", nullable("string")),
                                ("outcome", nullable("string")),
                                ("notes", arrayOf(object([("at", plain("string")), ("by", plain("string")), ("text", plain("string"))])))])),
            ("ProblemInput", object([("serial", plain("string")), ("kind", problemKinds), ("description", plain("string")),
                                     ("since", .object([("type", .string("string")), ("description", .string("YYYY-MM-DD or DD/MM/YYYY"))])),
                                     ("contactName", plain("string")), ("contactPhone", plain("string"))],
                                    required: ["serial", "kind", "description", "contactName", "contactPhone"])),
            // The run shapes are `RunJSON`'s (Codable, keys sorted, absent optional values left out).
            ("Run", object([("id", plain("integer")), ("playbook", plain("string")), ("playbookHash", plain("string")), ("selector", plain("string")),
                            ("checkMode", plain("boolean")), ("actor", plain("string")), ("startedAt", plain("string")), ("endedAt", plain("string")),
                            ("exitCode", plain("integer")), ("retryOf", plain("integer")), ("aborted", plain("string"))],
                           required: ["id", "playbook", "playbookHash", "selector", "checkMode", "actor", "startedAt"])),
            ("RunHost", object([("host", plain("string")), ("serial", plain("string")), ("ok", plain("integer")), ("changed", plain("integer")),
                                ("failed", plain("integer")), ("skipped", plain("integer")), ("unreachable", plain("integer")), ("outcome", plain("string")),
                                ("roundTrips", plain("integer")), ("relay", .object([("type", .string("string")), ("description", .string("the relay that ran it (absent: the server itself)"))]))],
                               required: ["host", "serial", "ok", "changed", "failed", "skipped", "unreachable", "outcome"])),
            ("RunTask", object([("serial", plain("string")), ("host", plain("string")), ("play", plain("string")), ("task", plain("string")),
                                ("item", plain("string")), ("outcome", plain("string")), ("changed", plain("boolean")), ("ignored", plain("boolean")),
                                ("message", plain("string")), ("output", plain("string")), ("diff", plain("string")), ("milliseconds", plain("integer"))],
                               required: ["serial", "host", "play", "task", "outcome", "changed", "ignored", "milliseconds"])),
            ("RunDetail", object([("run", ref("Run")), ("hosts", arrayOf(ref("RunHost"))), ("tasks", arrayOf(ref("RunTask")))])),
            ("RunInput", object([("playbook", .object([("type", .string("string")), ("description", .string("a file of playbooks/, e.g. baseline.yml"))])),
                                 ("limit", .object([("type", .string("string")), ("description", .string("a host pattern, as --limit"))])),
                                 ("devices", .object([("type", .string("array")), ("items", plain("string")), ("description", .string("serials, instead of or within limit"))])),
                                 ("check", .object([("type", .string("boolean")), ("description", .string("dry run; default true"))])),
                                 ("diff", plain("boolean")),
                                 ("extraVars", .object([("type", .string("object")), ("additionalProperties", .object([("type", .array([.string("string"), .string("number")]))])),
                                                        ("description", .string("variables as -e, but data: never rendered as templates ({{ … }} stays as given)"))])),
                                 ("tags", .object([("type", .array([.string("array"), .string("string")])), ("items", plain("string"))])),
                                 ("skipTags", .object([("type", .array([.string("array"), .string("string")])), ("items", plain("string"))]))],
                                required: ["playbook"])),
            ("RunAccepted", object([("id", plain("integer"))])),
            ("TokenInput", object([("login", plain("string")), ("password", plain("string")), ("name", .object([("type", .string("string")), ("description", .string("what the token is for (default: parc login)"))]))],
                                  required: ["login", "password"])),
            ("NewToken", object([("token", .object([("type", .string("string")), ("description", .string("the secret, shown only now"))])), ("login", plain("string")), ("prefix", plain("string"))])),
            ("Revoked", object([("revoked", plain("string"))])),
            ("Relay", object([("login", plain("string")), ("schools", arrayOf(plain("string"))), ("secondsSinceSeen", plain("integer")),
                              ("jobs", .object([("type", .string("integer")), ("description", .string("pieces of work it holds now"))]))])),
            ("RelayWork", object([("id", plain("string")), ("run", plain("integer")),
                                  ("playbook", .object([("type", .string("string")), ("description", .string("the playbook's path among files"))])),
                                  ("files", .object([("type", .string("object")), ("additionalProperties", plain("string")),
                                                     ("description", .string("the playbook's folder: relative path → content, base64"))])),
                                  ("hosts", arrayOf(.object([("type", .string("object")), ("description", .string(
                                      "name, serial, groups, vars (templates of the vars files), data (inventory fields and facts: never rendered)"))]))),
                                  ("ssh", .object([("type", .string("object")), ("description", .string(
                                      "serial → {name, address, port, user, hostKey (pinned, OpenSSH form, or absent), policy, timeout}; never a credential"))])),
                                  ("options", .object([("type", .string("object")), ("description", .string(
                                      "check, diff, forks, tags, skipTags, extraVars (typed by a person: templates), extraData (from the web: data), become (none, sudo, password: the relay's own PARC_BECOME_PASSWORD), becomeUser, startAtTask, knownNames"))]))])),
            ("RelayReport", object([("from", .object([("type", .string("integer")), ("description", .string("the index of the first event of this report; events already received are skipped"))])),
                                    ("events", .object([("type", .string("array")), ("description", .string("each one of {play: {name, hosts}}, {task: {…a task record}}, {unreachable: {host, message}}, {note: {_0}}"))])),
                                    ("outcome", .object([("type", .string("object")), ("description", .string("with the last report: {result: the engine's result, newKeys: serial → key met first}"))]))],
                                   required: ["from", "events"])),
            ("RelayReply", object([("next", plain("integer")), ("cancelledBy", .object([("type", .string("string")), ("description", .string("who cancelled the run: stop starting tasks"))]))],
                                  required: ["next"])),
            ("RunEvent", .object([("type", .string("string")), ("description", .string(
                "Server-sent events: `event: start` {id, playbook, check, hosts}, `play` {name, hosts}, `task` {host, serial, play, task, item, outcome, changed, ignored, message, diff, milliseconds}, `unreachable` {host, message}, `note` {text}, and last `recap` {id, exitCode, aborted, check, hosts: [{host, serial, ok, changed, failed, skipped, unreachable, outcome}]}; each data object also has `at` (milliseconds since 1970). Reconnect with Last-Event-ID to resume."))])),
            ("CSV", .object([("type", .string("string")), ("description", .string("a delivery note or device list, CSV (; or ,), UTF-8 or Windows-1252"))])),
            ("ImportDone", object([("file", plain("string")), ("created", plain("integer")), ("updated", plain("integer")), ("unchanged", plain("integer"))])),
            ("ImportProblem", object([("field", plain("string")), ("problem", plain("string"))])),
            ("ImportPlan", object([("file", plain("string")), ("clean", plain("boolean")), ("problemCount", plain("integer")),
                                   ("ignoredColumns", arrayOf(plain("string"))), ("problems", arrayOf(ref("ImportProblem"))),
                                   ("rows", arrayOf(object([("line", plain("integer")), ("serial", nullable("string")), ("action", nullable("string")),
                                                            ("kind", nullable("string")), ("place", nullable("string")), ("changes", arrayOf(plain("string"))),
                                                            ("problems", arrayOf(ref("ImportProblem")))])))])),
        ] + operationSchemas
    }

    /// Each operation's inputs and output, from the types that travel (see ``OperationSchema``).
    static let operationSchemas: [(String, JSONValue)] = Operations.all.flatMap { type -> [(String, JSONValue)] in
        let (input, output) = OperationSchema.schemas(type)
        let name = OperationSchema.component(type.name)
        return [(name + "Input", input), (name + "Output", output)]
    }

    static func schema(for response: String) -> JSONValue {
        if response == "OpenAPI" { return .object([("type", .string("object"))]) }
        if response.hasSuffix("[]") { return arrayOf(ref(String(response.dropLast(2)))) }
        return ref(response)
    }

    /// The document as served (it depends on the route table only: made once).
    static let documentBytes = document().compact()

    static func document() -> JSONValue {
        var paths: [(String, [(String, JSONValue)])] = []
        for route in API.routes {
            var operation: [(String, JSONValue)] = [
                ("operationId", .string(route.method.rawValue.lowercased() + route.path.split(separator: "/").dropFirst(2)
                    .map { $0.replacingOccurrences(of: "{", with: "By").replacingOccurrences(of: "}", with: "").replacingOccurrences(of: ".json", with: "") }
                    .flatMap { $0.split(whereSeparator: { $0 == "." || $0 == "-" }) }
                    .map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined())),
                ("summary", .string(route.summary)),
            ]
            var parameters: [JSONValue] = route.parameters.map { p in
                .object([("name", .string(p.name)), ("in", .string("path")), ("required", .bool(true)), ("schema", plain("string"))])
            }
            parameters += route.query.map { q in
                .object([("name", .string(q.0)), ("in", .string("query")), ("required", .bool(false)), ("description", .string(q.1)), ("schema", plain("string"))])
            }
            if !parameters.isEmpty { operation.append(("parameters", .array(parameters))) }
            if let body = route.requestBody {
                operation.append(("requestBody", .object([("required", .bool(true)),
                                                          ("content", .object([(route.requestType, .object([("schema", ref(body))]))]))])))
            }
            let error = JSONValue.object([("content", .object([("application/json", .object([("schema", ref("Error"))]))]))])
            func described(_ text: String) -> JSONValue {
                guard case .object(let pairs) = error else { return error }
                return .object([("description", .string(text))] + pairs)
            }
            var responses: [(String, JSONValue)] = [
                (String(route.successStatus), .object([("description", .string("success")),
                                                       ("content", .object([(route.responseType, .object([("schema", schema(for: route.response))]))]))])),
            ]
            if route.access != .anyone {
                responses.append(("401", described("no valid API token")))
                responses.append(("404", described("no such object, or not one this account may see")))
            }
            if !route.query.isEmpty || route.requestBody != nil { responses.append(("400", described("malformed query or body"))) }
            if route.path.hasPrefix("/api/v1/operations/") { responses.append(("422", described("refused: `detail` says why and what to do, as the command line says it"))) }
            else if route.requestBody != nil { responses.append(("422", described("invalid fields (with `fields`: field → message)"))) }
            if route.path == "/api/v1/runs" && route.method == .post { responses.append(("409", described("a device is in another run (with `run`: its id)"))) }
            if route.path == "/api/v1/relay/work" { responses.append(("204", .object([("description", .string("no work within the wait: ask again"))]))) }
            if route.path == "/api/v1/imports" {
                responses.append(("201", .object([("description", .string("imported (without dryRun=true)")),
                                                  ("content", .object([("application/json", .object([("schema", ref("ImportDone"))]))]))])))
            }
            operation.append(("responses", .object(responses)))
            if route.access == .anyone { operation.append(("security", .array([]))) }
            let method = route.method.rawValue.lowercased()
            if let i = paths.firstIndex(where: { $0.0 == route.path }) { paths[i].1.append((method, .object(operation))) }
            else { paths.append((route.path, [(method, .object(operation))])) }
        }
        return .object([
            ("openapi", .string("3.1.0")),
            ("info", .object([("title", .string("parc API")), ("version", .string("1")),
                              ("description", .string("The inventory of school equipment bought through Fus@é, under the same access rules as the portal: a commune's token sees its own member only."))])),
            ("servers", .array([.object([("url", .string("/"))])])),
            ("security", .array([.object([("bearer", .array([]))])])),
            ("paths", .object(paths.map { ($0.0, .object($0.1)) })),
            ("components", .object([
                ("securitySchemes", .object([("bearer", .object([("type", .string("http")), ("scheme", .string("bearer")),
                                                                  ("description", .string("a token made with `parc token add LOGIN`"))]))])),
                ("schemas", .object(schemas)),
            ])),
        ])
    }
}
