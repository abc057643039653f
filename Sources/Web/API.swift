import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import ParcApp
import ParcCore

/// The JSON API under `/api/v1`: bearer tokens (`parc token add`), the portal's access rules,
/// errors as `{"error", "detail"}`, and an OpenAPI 3.1 document made from the same route table.
enum API {
    static let deviceFilters = ["member", "school", "room", "cart", "kind", "status", "order", "lot"]

    static let routes: [Route] = [
        Route(method: .get, path: "/api/v1/openapi.json", access: .anyone, summary: "This API's OpenAPI 3.1 document", response: "OpenAPI") { _, _, _, _ in
            json(bytes: OpenAPI.documentBytes)
        },
        Route(method: .get, path: "/api/v1/members", access: .signedIn, summary: "Members the account sees", response: "Member[]") { p, _, _, v in
            try await p.apiMembers(v!)
        }.kept,
        Route(method: .get, path: "/api/v1/devices", access: .signedIn, summary: "Devices, keyed as `parc device list --json`",
              query: deviceFilters.map { ($0, "only devices whose \($0) is this (as `parc device list --\($0)`)") }, response: "Device[]") { p, r, _, v in
            try await p.apiDevices(v!, query: r.uri.queryParameters)
        }.kept,
        Route(method: .get, path: "/api/v1/devices/{serial}", access: .signedIn, summary: "One device",
              parameters: [("serial", .device)], response: "Device") { p, _, c, v in
            let row = try await p.workspace.view(as: v!.audience) { r in try r.device(c.parameter("serial")) }
            return json(DeviceListing.json(row))
        }.kept,
        Route(method: .get, path: "/api/v1/schools", access: .signedIn, summary: "Schools", response: "School[]") { p, _, _, v in
            try await p.apiSchools(v!)
        }.kept,
        Route(method: .get, path: "/api/v1/schools/{uai}", access: .signedIn, summary: "One school with its rooms",
              parameters: [("uai", .school)], response: "School") { p, _, c, v in
            let school = try await p.workspace.view(as: v!.audience) { r in try schoolJSON(r, try r.school(c.parameter("uai")), rooms: true) }
            return json(school)
        }.kept,
        Route(method: .get, path: "/api/v1/orders", access: .signedIn, summary: "Orders with their funding lines", response: "Order[]") { p, _, _, v in
            try await p.apiOrders(v!)
        }.kept,
        Route(method: .get, path: "/api/v1/orders/{id}", access: .signedIn, summary: "One order with its funding lines",
              parameters: [("id", .order)], response: "Order") { p, _, c, v in
            let order = try await p.workspace.view(as: v!.audience) { r in try orderJSON(r, try r.order(c.parameter("id"))) }
            return json(order)
        }.kept,
        Route(method: .get, path: "/api/v1/funding", access: .signedIn, summary: "Funding lines of every visible order", response: "FundingLine[]") { p, _, _, v in
            try await p.apiFunding(v!)
        }.kept,
        Route(method: .get, path: "/api/v1/problems", access: .signedIn, summary: "Problem reports", response: "Problem[]") { p, _, _, v in
            let problems = try await p.workspace.view(as: v!.audience) { r in try r.problems() }
            return json(.array(problems.map(problemJSON)))
        }.kept,
        Route(method: .post, path: "/api/v1/problems", access: .signedIn, summary: "Report a problem on a device",
              response: "Problem", successStatus: 201, requestBody: "ProblemInput") { p, r, c, v in
            try await p.apiReportProblem(v!, request: r, context: c)
        },
        Route(method: .get, path: "/api/v1/problems/{id}", access: .signedIn, summary: "One problem report",
              parameters: [("id", .problem)], response: "Problem") { p, _, c, v in
            let problem = try await p.workspace.view(as: v!.audience) { r in try r.problem(c.parameter("id")) }
            return json(problemJSON(problem))
        }.kept,
        Route(method: .get, path: "/api/v1/runs", access: .staff, summary: "The latest configuration runs (technicians)", response: "Run[]") { p, _, _, v in
            let runs = try await p.workspace.view(as: v!.audience) { r in try r.runs(limit: 100) }
            return json(data: try RunJSON.encode(runs, pretty: false))
        },
        Route(method: .get, path: "/api/v1/runs/{id}", access: .staff, summary: "One run with its hosts and tasks (technicians)",
              parameters: [("id", .run)], response: "RunDetail") { p, _, c, v in
            guard let id = Int64(c.parameter("id")) else { throw WebError.notFound }
            let detail = try await p.workspace.view(as: v!.audience) { r in try r.run(id) }
            return json(data: try RunJSON.encode(detail.run, hosts: detail.hosts, tasks: detail.tasks, pretty: false))
        },
        Route(method: .post, path: "/api/v1/runs", access: .staff,
              summary: "Start a run of a playbook of playbooks/ (technicians): 202 with its id; 409 when a device is in another run",
              response: "RunAccepted", successStatus: 202, requestBody: "RunInput") { p, r, _, v in
            try await p.apiStartRun(v!, request: r)
        },
        Route(method: .get, path: "/api/v1/runs/{id}/events", access: .staff,
              summary: "A run's progress as server-sent events (start, play, task, unreachable, note), the last one named recap",
              parameters: [("id", .run)], response: "RunEvent", responseType: "text/event-stream") { p, r, c, v in
            try await p.runEvents(v!, id: c.parameter("id"), request: r)
        },
        Route(method: .post, path: "/api/v1/imports", access: .staff,
              summary: "A delivery note (CSV as the body): with dryRun=true each row's plan; else imported, all rows or none (technicians)",
              query: [("dryRun", "true: only say what each row would do"), ("order", "attach every row to this order"),
                      ("cart", "put every row in this mobile class"), ("kind", "the kind of rows that do not say"),
                      ("update", "true: update devices already known"), ("file", "the file's name, for messages")],
              response: "ImportPlan", requestBody: "CSV", requestType: "text/csv") { p, r, _, v in
            try await p.apiImport(v!, request: r)
        },
        Route(method: .post, path: "/api/v1/tokens", access: .anyone,
              summary: "A token for the command line (parc login): the account's login and password; as throttled as the sign-in form",
              response: "NewToken", successStatus: 201, requestBody: "TokenInput") { p, r, c, _ in
            try await p.apiNewToken(request: r, context: c)
        },
        Route(method: .delete, path: "/api/v1/tokens/current", access: .signedIn,
              summary: "Revoke the token this request carries (parc logout)", response: "Revoked") { p, r, _, v in
            try await p.apiRevokeCurrentToken(v!, request: r)
        },
        Route(method: .get, path: "/api/v1/relays", access: .staff, summary: "The relays connected now, with their schools (technicians)",
              response: "Relay[]") { p, _, _, _ in
            let relays = p.console.workspace.relays?.status ?? []
            return json(.array(relays.map { r in
                .object([("login", .string(r.login)), ("schools", .array(r.schools.map(JSONValue.string))),
                         ("secondsSinceSeen", .int(Int(r.secondsSinceSeen))), ("jobs", .int(r.jobs))])
            }))
        },
        Route(method: .get, path: "/api/v1/relay/work", access: .relay,
              summary: "A relay asks for work for its schools (relays): a piece of work at once, else 204 after a wait",
              query: [("schools", "comma-separated UAI of the schools this relay serves now (default: all of its account's)")],
              response: "RelayWork") { p, r, _, v in
            try await p.relayPoll(v!, query: r.uri.queryParameters)
        },
        Route(method: .post, path: "/api/v1/relay/jobs/{job}/events", access: .relay,
              summary: "A relay reports its work's events from an index, the outcome with the last (relays)",
              parameters: [("job", .relayJob)], response: "RelayReply", requestBody: "RelayReport") { p, r, c, v in
            try await p.relayReport(v!, job: c.parameter("job"), request: r)
        },
    ] + operationRoutes

    /// The command line's operations on the inventory (`parc --server URL member add …`): each
    /// takes its inputs as a JSON object and answers its output, performed under the account's name.
    static let operationRoutes: [Route] = Operations.all.map { type in
        Route(method: .post, path: "/api/v1/operations/\(type.name)", access: type.adminOnly ? .admin : .staff,
              summary: type.summary + (type.adminOnly ? " (administrators)" : " (technicians)") + "; a refusal is 422 with its reason",
              response: OperationSchema.component(type.name) + "Output", requestBody: OperationSchema.component(type.name) + "Input") { p, r, _, v in
            try await p.apiOperation(type, v!, request: r)
        }
    }

    /// The largest operation a server takes (an import carries its file).
    static let operationLimit = 32 << 20

    // MARK: Answers

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        json(bytes: value.compact(), status: status)
    }

    /// JSON already encoded (runs: the command line's own encoder and shape).
    static func json(data: Data, status: HTTPResponse.Status = .ok) -> Response {
        json(bytes: Array(data), status: status)
    }

    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func error(_ code: String, _ detail: String, status: HTTPResponse.Status) -> Response {
        json(.object([("error", .string(code)), ("detail", .string(detail))]), status: status)
    }

    static func errorResponse(_ error: WebError) -> Response {
        switch error {
        case .notFound: return Self.error("not_found", "no such object", status: .notFound)
        case .signInRequired:
            var r = Self.error("unauthorized", "send an API token: Authorization: Bearer parc_… (made with `parc token add LOGIN`)", status: .unauthorized)
            r.headers[.wwwAuthenticate] = "Bearer"
            return r
        case .badRequest(let detail): return Self.error("bad_request", detail, status: .badRequest)
        case .staleForm: return Self.error("forbidden", "this request needs a valid CSRF token", status: .forbidden)
        case .tooManyRequests(let retry):
            var r = Self.error("too_many_requests", "retry in \(retry) s", status: .tooManyRequests)
            r.headers[.retryAfter] = String(retry)
            return r
        }
    }

    // MARK: Shapes

    static func day(_ d: Day?) -> JSONValue { .text(d?.description) }
    static func money(_ m: Money?) -> JSONValue { .text(m?.description) }

    static func memberJSON(_ m: Member) -> JSONValue {
        .object([("slug", .string(m.slug)), ("name", .string(m.name)), ("kind", .string(m.kind.rawValue)), ("siren", .text(m.siren)),
                 ("insee", .text(m.insee)), ("deliberationNumber", .text(m.deliberationNumber)), ("deliberationDate", day(m.deliberationDate)),
                 ("prefectureReceipt", .text(m.prefectureReceipt)), ("conventionDate", day(m.conventionDate)),
                 ("conventionSignatory", .text(m.conventionSignatory))])
    }

    static func schoolJSON(_ r: InventoryView, _ s: School, rooms: Bool) throws -> JSONValue {
        var pairs: [(String, JSONValue)] = [("uai", .string(s.uai)), ("name", .string(s.name)), ("city", .text(s.city)),
                                            ("member", .text(try r.member(id: s.memberId)?.slug))]
        if rooms { pairs.append(("rooms", .array(try r.rooms(schoolId: s.id!).map { .string($0.name) }))) }
        return .object(pairs)
    }

    static func fundingJSON(_ f: FundingLine, order: Order) -> JSONValue {
        .object([("order", .string(order.number)), ("orderId", .int(Int(order.id!))), ("funder", .string(f.funder.rawValue)), ("label", .text(f.label)),
                 ("requested", money(f.requested)), ("granted", money(f.granted))])
    }

    static func orderJSON(_ r: InventoryView, _ o: Order) throws -> JSONValue {
        let funding = try r.fundingLines(of: o)
        let granted = funding.filter { $0.funder != .commune }.reduce(Money.zero) { $0 + ($1.granted ?? .zero) }
        let lot = try o.lotId.flatMap { id in try r.lots().first { $0.id == id } }
        return .object([("id", .int(Int(o.id!))), ("number", .string(o.number)), ("member", .text(try r.member(id: o.memberId)?.slug)),
                        ("lot", .text(lot?.number)), ("supplier", .text(o.supplier)), ("orderedOn", day(o.orderedOn)), ("deliveredOn", day(o.deliveredOn)),
                        ("deliveryNote", .text(o.deliveryNote)), ("amountExclTax", money(o.amountExclTax)), ("amountInclTax", money(o.amountInclTax)),
                        ("ownShare", money(o.amountInclTax.map { $0 - granted })), ("funding", .array(funding.map { fundingJSON($0, order: o) }))])
    }

    static func problemJSON(_ p: Problem) -> JSONValue {
        .object([("id", .int(Int(p.id))), ("serial", .string(p.serial)), ("member", .text(p.member)), ("device", .string(p.device)),
                 ("kind", .string(p.kind.rawValue)), ("description", .string(p.description)), ("since", day(p.since)),
                 ("contactName", .string(p.contactName)), ("contactPhone", .string(p.contactPhone)), ("reportedBy", .string(p.reportedBy)),
                 ("reportedAt", .string(p.reportedAt)), ("state", .string(p.state.rawValue)), ("acceptedAt", .text(p.acceptedAt)),
                 ("closedAt", .text(p.closedAt)), ("resolution", .text(p.resolution)), ("outcome", .text(p.outcome?.rawValue)),
                 ("notes", .array(p.notes.map { .object([("at", .string($0.at)), ("by", .string($0.by)), ("text", .string($0.text))]) }))])
    }
}

extension Portal {
    func apiMembers(_ v: Viewer) async throws -> Response {
        let members = try await workspace.view(as: v.audience) { r in try r.members() }
        return API.json(.array(members.map(API.memberJSON)))
    }

    func apiDevices(_ v: Viewer, query: Parameters) async throws -> Response {
        var given: [String: String] = [:]
        for (key, value) in query {
            let k = String(key)
            guard API.deviceFilters.contains(k) else {
                throw WebError.badRequest("unknown filter '\(k)'; the filters are \(API.deviceFilters.joined(separator: ", "))")
            }
            given[k] = String(value)
        }
        var base = DeviceFilter()
        do {
            base.kind = try given["kind"].map { try DeviceKind(parsing: $0) }
            base.status = try given["status"].map { try DeviceStatus(parsing: $0) }
        } catch let error as InvalidValue {
            throw WebError.badRequest(error.description)
        }
        if given["room"] != nil && given["school"] == nil { throw WebError.badRequest("a room is named within its school: add school=UAI") }
        let asked = given, first = base
        let rows = try await workspace.view(as: v.audience) { r -> [DeviceRow] in
            var filter = first
            let given = asked
            // Every object a filter names must be one this account sees, else "not found".
            if let slug = given["member"] { filter.member = try r.member(slug).slug }
            if !v.isStaff { filter.member = v.memberSlug }
            if let uai = given["school"] {
                let s = try r.school(uai)
                filter.school = s.uai
                if let room = given["room"] {
                    guard let found = try r.rooms(schoolId: s.id!).first(where: { $0.name == room }) else { throw WebError.notFound }
                    filter.room = found.name
                }
            }
            if let cart = given["cart"] { filter.cart = try r.cart((try? r.device(ref: cart))?.serial ?? cart).serial }
            if let number = given["order"] {
                let orders = try r.orders().filter { $0.number == number }
                guard !orders.isEmpty else { throw WebError.notFound }
                if orders.count > 1 && filter.member == nil { throw WebError.badRequest("several members have an order '\(number)': add member=SLUG") }
                filter.order = number
                if filter.member == nil, let o = orders.first { filter.member = try r.member(id: o.memberId)?.slug }
            }
            if let lot = given["lot"] {
                guard (try? r.lot(lot)) != nil else { throw WebError.notFound }
                filter.lot = lot
            }
            return try r.devices(filter)
        }
        return API.json(.array(rows.map(DeviceListing.json)))
    }

    func apiSchools(_ v: Viewer) async throws -> Response {
        let schools = try await workspace.view(as: v.audience) { r in
            // With each school's number of rooms (as `parc school list`).
            let counts = Dictionary(grouping: try r.rooms(), by: \.schoolId).mapValues(\.count)
            return try r.schools(memberId: v.isStaff ? nil : v.account.memberId).map { s in
                guard case .object(let pairs) = try API.schoolJSON(r, s, rooms: false) else { return JSONValue.null }
                return JSONValue.object(pairs + [("roomCount", .int(counts[s.id!] ?? 0))])
            }
        }
        return API.json(.array(schools))
    }

    func apiOrders(_ v: Viewer) async throws -> Response {
        let orders = try await workspace.view(as: v.audience) { r in
            try r.orders(memberId: v.isStaff ? nil : v.account.memberId).map { try API.orderJSON(r, $0) }
        }
        return API.json(.array(orders))
    }

    func apiFunding(_ v: Viewer) async throws -> Response {
        let lines = try await workspace.view(as: v.audience) { r in
            try r.orders(memberId: v.isStaff ? nil : v.account.memberId).flatMap { o in try r.fundingLines(of: o).map { API.fundingJSON($0, order: o) } }
        }
        return API.json(.array(lines))
    }

    /// A JSON object body (64 KiB at most) decoded as `T`, with only `T`'s fields: 400 saying what
    /// is wrong otherwise (not JSON, not an object, an unknown field, a value of the wrong type, a
    /// required field missing).
    static func body<T: APIBody>(_ request: Request, as type: T.Type) async throws -> T {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: 64 * 1024) } catch { throw WebError.badRequest("the body is larger than 64 KiB") }
        let data = Data(buffer: buffer)
        let keys: [String]
        do {
            keys = try JSONDecoder().decode(ObjectKeys.self, from: data).keys
        } catch DecodingError.typeMismatch {
            throw WebError.badRequest("the body must be a JSON object such as \(T.example)")
        } catch {
            throw WebError.badRequest("the body is not valid JSON (\(Self.why(error)))")
        }
        if let unknown = keys.sorted().first(where: { !T.fields.contains($0) }) {
            throw WebError.badRequest("unknown field '\(unknown)'; the fields are \(T.fields.joined(separator: ", "))")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            let field = path.first ?? "?"
            if field == "extraVars", path.count > 1 { throw WebError.badRequest("extraVars.\(path[1]) must be a string or a number") }
            throw WebError.badRequest("field '\(field)' must be \(T.expected[field] ?? "of another type")")
        } catch DecodingError.keyNotFound(let key, _) {
            throw WebError.badRequest("field '\(key.stringValue)' is required\(T.required[key.stringValue].map { ": \($0)" } ?? "")")
        } catch let error as WebError {
            throw error
        } catch {
            throw WebError.badRequest("the body does not fit: \(Self.why(error))")
        }
    }

    private static func why(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            return ((context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String) ?? context.debugDescription
        }
        return "\(error)"
    }

    func apiReportProblem(_ v: Viewer, request: Request, context: WebContext) async throws -> Response {
        let body = try await Self.body(request, as: ProblemBody.self)
        let serial = body.serial
        guard !serial.isEmpty else { throw WebError.badRequest("field 'serial' is required: the device's serial number") }
        let fields = ["serial": serial, "kind": body.kind, "description": body.description, "since": body.since,
                      "contactName": body.contactName, "contactPhone": body.contactPhone].compactMapValues { $0 }
        _ = try await workspace.view(as: v.audience) { r in try r.device(serial) }
        let (report, errors) = Portal.validateProblem(fields, serial: serial)
        guard let report else {
            let detail = errors.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            return API.json(.object([("error", .string("invalid")), ("detail", .string(detail)),
                                     ("fields", .object(errors.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))]), status: .unprocessableContent)
        }
        let problem = try await workspace.report(report, by: v.audience)
        var response = API.json(API.problemJSON(problem), status: .created)
        response.headers[.location] = "/api/v1/problems/\(problem.id)"
        return response
    }
}

// MARK: Tokens for the command line

extension Portal {
    func apiNewToken(request: Request, context: WebContext) async throws -> Response {
        let body = try await Self.body(request, as: TokenBody.self)
        let (login, password) = (body.login, body.password)
        let name = body.name.flatMap { $0.trimmed.isEmpty ? nil : $0 } ?? "parc login"
        let (right, account) = try await checkPassword(login: Account.lookupKey(login), password: password, address: context.peer)
        guard right, let account else {
            return API.error("unauthorized", "wrong login or password", status: .unauthorized)
        }
        let t = Secrets.newToken()
        _ = try await Sessions.addToken(account, name: name, digest: t.digest, prefix: t.prefix, in: workspace)
        logger.info("token made by password", metadata: ["login": "\(account.login)", "address": "\(context.peer)"])
        return API.json(.object([("token", .string(t.secret)), ("login", .string(account.login)), ("prefix", .string(t.prefix))]), status: .created)
    }

    func apiRevokeCurrentToken(_ v: Viewer, request: Request) async throws -> Response {
        guard let header = request.headers[.authorization], let secret = header.split(separator: " ", maxSplits: 1).last else { throw WebError.signInRequired }
        let digest = Secrets.digest(String(secret).trimmingCharacters(in: .whitespaces))
        let info = try await Sessions.revokeToken(digest: digest, by: v.account, in: workspace)
        return API.json(.object([("revoked", .string(info.prefix))]))
    }
}

// MARK: Relays

extension Portal {
    func relayPoll(_ v: Viewer, query: Parameters) async throws -> Response {
        guard let hub = console.workspace.relays else { throw WebError.notFound }
        let asked = (query.get("schools") ?? "").split(separator: ",").map { String($0).trimmed.uppercased() }.filter { !$0.isEmpty }
        let mine = Set(v.relaySchools.map { $0.uppercased() })
        // A school that is not the relay's is not found (as every other member's object).
        if let other = asked.first(where: { !mine.contains($0) }) {
            return API.error("not_found", "school \(other) is not served by this relay's account (its schools: \(mine.sorted().joined(separator: ", ")))",
                             status: .notFound)
        }
        guard let work = await hub.poll(relay: v.account.login, schools: asked.isEmpty ? mine.sorted() : asked) else {
            return Response(status: .noContent)
        }
        return API.json(data: try JSONEncoder().encode(work))
    }

    func relayReport(_ v: Viewer, job: String, request: Request) async throws -> Response {
        guard let hub = console.workspace.relays else { throw WebError.notFound }
        let body = try await request.body.collect(upTo: 64 << 20)
        let report: RelayReport
        do { report = try JSONDecoder().decode(RelayReport.self, from: Data(buffer: body)) } catch {
            throw WebError.badRequest("the body is not a relay's report: \(error)")
        }
        do {
            return API.json(data: try JSONEncoder().encode(try hub.report(relay: v.account.login, job: job, report)))
        } catch {
            throw WebError.notFound
        }
    }
}

// MARK: The console's API

extension Portal {
    func apiStartRun(_ v: Viewer, request: Request) async throws -> Response {
        let body = try await Self.body(request, as: RunBody.self)
        guard let playbook = body.playbook, !playbook.isEmpty else {
            throw WebError.badRequest("field 'playbook' is required: the file name of a playbook in playbooks/")
        }
        let (limit, devices) = (body.limit, body.devices ?? [])
        let (tags, skipTags) = (body.tags?.text, body.skipTags?.text)
        let variables = (body.extraVars ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value.text) }
        // Only the devices this viewer may see (technicians see all; one rule for pages and API).
        if !devices.isEmpty { _ = try await workspace.view(as: v.audience) { r in try devices.map { try r.device($0) } } }
        do {
            let runRequest = try runRequest(playbook: playbook, limit: limit, devices: devices, check: body.check ?? true, diff: body.diff ?? false,
                                            tags: tags, skipTags: skipTags, variables: variables)
            let console = self.console
            guard let id = try await offload({ try console.start(runRequest, as: v) }) else {
                return API.json(.object([("error", .string("nothing_to_run")), ("detail", .string("no device with an address matches this selection"))]),
                                status: .unprocessableContent)
            }
            var response = API.json(.object([("id", .number(Int(id)))]), status: .accepted)
            response.headers[.location] = "/api/v1/runs/\(id)"
            return response
        } catch let busy as DeviceBusy {
            return API.json(.object([("error", .string("busy")), ("detail", .string(busy.description)), ("run", .number(Int(busy.runID))),
                                     ("device", .string(busy.device))]), status: .conflict)
        } catch let error as WebError {
            throw error
        } catch {
            return API.json(.object([("error", .string("invalid")), ("detail", .string("\(error)"))]), status: .unprocessableContent)
        }
    }

    func apiImport(_ v: Viewer, request: Request) async throws -> Response {
        let q = request.uri.queryParameters
        let allowed = ["dryRun", "order", "cart", "kind", "update", "file"]
        if let unknown = q.map({ String($0.key) }).first(where: { !allowed.contains($0) }) {
            throw WebError.badRequest("unknown query parameter '\(unknown)'; the parameters are \(allowed.joined(separator: ", "))")
        }
        func flag(_ key: String) throws -> Bool {
            guard let raw = q.get(key) else { return false }
            guard raw == "true" || raw == "false" else { throw WebError.badRequest("\(key) must be true or false") }
            return raw == "true"
        }
        let dryRun = try flag("dryRun")
        var options = DeviceImportOptions(order: q.get("order"), cart: q.get("cart"), update: try flag("update"))
        if let kind = q.get("kind") {
            do { options.kind = try DeviceKind(parsing: kind) } catch { throw WebError.badRequest("kind: \(error)") }
        }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: Self.importLimit) } catch { throw WebError.badRequest("the body is larger than 4 MiB") }
        guard buffer.readableBytes > 0 else { throw WebError.badRequest("send the CSV file as the body") }
        let file = q.get("file") ?? "import.csv"
        let bytes = Array(buffer: buffer)
        let settings = options
        do {
            if dryRun {
                let preview = try await Imports.preview(bytes, file: file, options: settings, in: workspace)
                return API.json(Self.planJSON(preview))
            }
            let report = try await Imports.apply(bytes, file: file, options: settings, in: workspace.acting(as: v.account.login))
            return API.json(.object([("file", .string(file)), ("created", .number(report.counts.created)), ("updated", .number(report.counts.updated)),
                                     ("unchanged", .number(report.counts.unchanged))]), status: .created)
        } catch let failure as ImportFailure {
            return API.json(.object([("error", .string("invalid")), ("detail", .string("\(failure.problems.count) problem(s); nothing was imported")),
                                     ("problems", .array(failure.problems.map { .object([("line", .number($0.line)), ("field", .string($0.field)), ("problem", .string($0.problem.english))]) }))]),
                            status: .unprocessableContent)
        }
    }

    func apiOperation(_ type: any InventoryOperation.Type, _ v: Viewer, request: Request) async throws -> Response {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: API.operationLimit) } catch { throw WebError.badRequest("the body is larger than 32 MiB") }
        let body = Data(buffer: buffer)
        do {
            return API.json(data: try await Operations.perform(type, body: body, in: console.workspace(for: v)))
        } catch let bad as Operations.BadOperation {
            throw WebError.badRequest(bad.detail)
        } catch where Operations.isRefusal(error) {
            // The same words as on a local inventory: the command line prints them as they are.
            return API.error("refused", (error as? any LocalizedError)?.errorDescription ?? String(describing: error), status: .unprocessableContent)
        }
    }

    static func planJSON(_ p: ImportPreview) -> JSONValue {
        .object([("file", .string(p.file)), ("clean", .bool(p.isClean)), ("problemCount", .number(p.problemCount)),
                 ("ignoredColumns", .array(p.ignoredColumns.map(JSONValue.string))),
                 ("problems", .array(p.fileProblems.map { .object([("field", .string($0.field)), ("problem", .string($0.problem.english))]) })),
                 ("rows", .array(p.rows.map { row in
                     .object([("line", .number(row.line)), ("serial", .text(row.serial)), ("action", .text(row.outcome?.action.rawValue)),
                              ("kind", .text(row.outcome?.kind.rawValue)), ("place", .text(row.outcome?.place)),
                              ("changes", .array((row.outcome?.changes ?? []).map(JSONValue.string))),
                              ("problems", .array(row.problems.map { .object([("field", .string($0.field)), ("problem", .string($0.problem.english))]) }))])
                 }))])
    }
}

// MARK: Bodies of the API's requests

/// The JSON body of a request: its fields (any other is refused), an example, what each field
/// must be and what a required one is for (said in the 400 answers).
protocol APIBody: Decodable {
    static var fields: [String] { get }
    static var example: String { get }
    static var expected: [String: String] { get }
    static var required: [String: String] { get }
}

extension APIBody {
    static var required: [String: String] { [:] }
}

/// The keys of a JSON object (a body that is not an object fails with a type mismatch).
struct ObjectKeys: Decodable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    let keys: [String]
    init(from decoder: any Decoder) throws {
        keys = try decoder.container(keyedBy: Key.self).allKeys.map(\.stringValue)
    }
}

/// `POST /api/v1/problems`.
struct ProblemBody: APIBody {
    var serial: String
    var kind, description, since, contactName, contactPhone: String?
    static let fields = ["serial", "kind", "description", "since", "contactName", "contactPhone"]
    static let example = #"{"serial": "…", "kind": "broken", …}"#
    static let expected = Dictionary(uniqueKeysWithValues: fields.map { ($0, "a string") })
    static let required = ["serial": "the device's serial number"]
}

/// `POST /api/v1/tokens`.
struct TokenBody: APIBody {
    var login: String
    var password: String
    var name: String?
    static let fields = ["login", "password", "name"]
    static let example = #"{"login": "tech.dupont", "password": "…", "name": "portable de M. Dupont"}"#
    static let expected = Dictionary(uniqueKeysWithValues: fields.map { ($0, "a string") })
    static let required = ["login": "the account's login", "password": "its password"]
}

/// `POST /api/v1/runs`.
struct RunBody: APIBody {
    var playbook: String?
    var limit: String?
    var devices: [String]?
    var check: Bool?
    var diff: Bool?
    var extraVars: [String: Scalar]?
    var tags: TagList?
    var skipTags: TagList?
    static let fields = ["playbook", "limit", "devices", "check", "diff", "extraVars", "tags", "skipTags"]
    static let example = #"{"playbook": "baseline.yml", "limit": "school_0572113m", "check": true}"#
    static let expected = ["playbook": "the file name of a playbook in playbooks/ (a string)", "limit": "a host pattern (a string)",
                           "devices": "a list of serials", "check": "true or false", "diff": "true or false",
                           "extraVars": "an object of name → value", "tags": "a list of tags or a comma-separated string",
                           "skipTags": "a list of tags or a comma-separated string"]

    /// Tags as a list or as one comma-separated string.
    struct TagList: Decodable {
        let text: String
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { text = s } else { text = try c.decode([String].self).joined(separator: ",") }
        }
    }

    /// An extra variable's value: a string, or a number written as the request wrote it.
    struct Scalar: Decodable {
        let text: String
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { text = s; return }
            if let i = try? c.decode(Int.self) { text = String(i); return }
            text = String(try c.decode(Double.self))
        }
    }
}
