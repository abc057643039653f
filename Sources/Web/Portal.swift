import FormData
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ParcApp
import ParcCore

/// The request context: Hummingbird's own storage and the address the request came from.
public struct WebContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address (or the one a trusted proxy forwarded), for sign-in throttling.
    public var peer: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Forms and JSON bodies are small; documents are added from the command line.
    public var maxUploadSize: Int { 256 * 1024 }
}

/// How the portal runs.
public struct PortalOptions: Sendable {
    /// The address people use (`https://parc.example.fr`): links in labels, `Secure` cookies when https.
    public var baseURL: String?
    /// How long a sign-in lasts.
    public var sessionLifetime: TimeInterval = 12 * 3600
    /// bcrypt's cost for passwords changed in the portal.
    public var bcryptCost: UInt8 = 12
    /// Whether `X-Forwarded-For` is believed (only behind a reverse proxy on this machine).
    public var trustForwardedFor = false
    /// Sign-in failures allowed per login and per address within ``throttleWindow``.
    public var throttleLimit = 5
    public var throttleWindow: TimeInterval = 15 * 60
    public var clock: @Sendable () -> Date = { Date() }
    /// The parc folder the console works in (playbooks/, inventory/ vars files, keys); nil: located as the CLI does.
    public var home: URL?
    /// How the console reaches devices; nil: parc's usual keys and host-key checks.
    public var access: AccessSettings?
    /// A relay silent this long is gone: its unfinished work ends with its devices unreachable.
    public var relayTimeout: Duration = .seconds(60)
    /// How long a relay's request for work is held when there is none.
    public var relayPollWait: Duration = .seconds(25)
    /// How often each relay looks for its schools' devices owed pending work (those on are served).
    public var relaySweep: Duration = .seconds(300)
    /// Where the notices of problems are sent (`parc serve --smtp`); nil: they wait in the outbox.
    public var mail: MailSettings?
    /// Whether answers are kept in memory while the inventory does not change (see `AnswerCache`).
    public var keepAnswers = true

    public init(baseURL: String? = nil) { self.baseURL = baseURL }

    var secureCookies: Bool { baseURL?.lowercased().hasPrefix("https://") ?? false }
}

/// Who is asking: a signed-in account (session or API token), with what it may see.
struct Viewer: Sendable {
    var account: Account
    /// The slug of a commune account's member.
    var memberSlug: String?
    /// Its name, for people to read.
    var memberName: String? = nil
    /// The CSRF token of a browser session (nil for API tokens).
    var csrf: String?
    var sessionDigest: String?
    /// The schools a relay account serves (UAI); empty for people.
    var relaySchools: [String] = []
    /// Who asked, for the answers kept per viewer: "s:" and the session's digest, "t:" and the token's.
    var identity: String = ""

    var isStaff: Bool { account.role == .technician || account.role == .admin }

    /// Who is signed in, as people call them: "Mme Lambert", else the login.
    var shownName: String { account.displayName?.nonEmpty ?? account.login }
    var isRelay: Bool { account.role == .relay }
    var isAdmin: Bool { account.role == .admin }

    /// What this viewer may read (the rules are ParcApp's, in one place).
    var audience: Audience { Audience(account: account, memberSlug: memberSlug) }

    var navigation: [(String, String)] {
        if let slug = memberSlug, !isStaff {
            let base = "/communes/\(slug)"
            return [("Vue d'ensemble", "/"), ("Écoles", "\(base)/ecoles"), ("Classes mobiles", "\(base)/chariots"),
                    ("Commandes", "\(base)/commandes"), ("Documents", "\(base)/documents"), ("Signalements", "\(base)/signalements"),
                    ("Rapport", "\(base)/rapport"), ("Mon compte", "/compte")]
        }
        var items = [("Communes", "/"), ("Recherche", "/recherche"), ("Signalements", "/signalements"), ("Exécutions", "/executions"),
                     ("Travail en attente", "/en-attente"), ("Importer", "/import"), ("Mise en service", "/mise-en-service"),
                     ("Étiquettes", "/etiquettes"), ("Mon compte", "/compte")]
        if isAdmin { items.append(("Comptes", "/admin/comptes")) }
        return items
    }
}

/// Why a request is not answered with its page.
enum WebError: Error {
    /// Unknown, or not this viewer's: the same answer for both, so that existence does not leak.
    case notFound
    /// A page that needs a signed-in account; the API answers 401.
    case signInRequired
    /// A form or query the portal cannot take (JSON: 400 with this detail).
    case badRequest(String)
    /// A form without the session's CSRF token.
    case staleForm
    /// Too many sign-in failures: retry after this many seconds.
    case tooManyRequests(retryAfter: Int)
}

/// What a route needs from the viewer.
enum Access: Sendable {
    case anyone, signedIn, staff, admin
    /// Relays only (`parc relay`), each for its own schools; no other route answers a relay.
    case relay
}

/// The objects a route's path names; the isolation tests fill them with another member's objects.
enum ParameterKind: String, Sendable, CaseIterable {
    case member, school, room, cart, device, order, document, problem, run, account, relayJob
}

/// One route of the portal or the API: registered on the router, listed in the OpenAPI document
/// (API routes), and walked by the access tests.
struct Route: Sendable {
    var method: HTTPRequest.Method
    var path: String
    var access: Access
    var summary: String
    /// Path parameters, in order, and what they name.
    var parameters: [(name: String, kind: ParameterKind)] = []
    /// Query parameters the API takes (name, description).
    var query: [(String, String)] = []
    /// For the OpenAPI document: the schema of a success, and its status.
    var response: String = "object"
    var successStatus = 200
    var requestBody: String?
    /// Media types of the success answer and of the body, when not JSON.
    var responseType = "application/json"
    var requestType = "application/json"
    /// Whether the answer (a GET) depends only on the inventory, the viewer and the day, and may be
    /// kept until the inventory changes (see `AnswerCache`).
    var cached = false
    var handler: @Sendable (Portal, Request, WebContext, Viewer?) async throws -> Response

    var isAPI: Bool { path.hasPrefix("/api/") }

    /// This GET route, its answers kept while the inventory does not change.
    var kept: Route {
        var copy = self
        copy.cached = method == .get
        return copy
    }
}

/// The web application over one inventory.
public struct Portal: Sendable {
    let options: PortalOptions
    let logger: Logger
    let console: Console
    /// Password guesses in progress and failures, per account and per address.
    let attempts: AttemptLimiter
    /// Answers kept while the inventory does not change; nil when its file cannot be watched or
    /// `keepAnswers` is off.
    let cache: AnswerCache?

    /// The inventory and the parc folder this server works on, with the relays that connect to it.
    var workspace: Workspace { console.workspace }

    public init(workspace: Workspace, options: PortalOptions = PortalOptions(), logger: Logger = Logger(label: "parc.web")) {
        self.options = options
        attempts = AttemptLimiter(limit: options.throttleLimit, window: options.throttleWindow)
        self.logger = logger
        let home = options.home ?? ParcHome.locate()
        var served = workspace
        served.home = home
        served.access = options.access ?? AccessSettings(credentials: AccessSettings.standardCredentials(home: home),
                                                         knownHostsFiles: AccessSettings.standardKnownHosts())
        served.logger = logger
        served.relays = RelayHub(timeout: options.relayTimeout, pollWait: options.relayPollWait, logger: logger)
        console = Console(workspace: served, sweep: options.relaySweep, mail: options.mail, baseURL: options.baseURL)
        cache = options.keepAnswers ? InventoryChanges(served).map { AnswerCache(changes: $0) } : nil
    }

    /// Every route: pages, then the API.
    static let routes: [Route] = PortalPages.routes.map(\.kept) + StaffPages.routes + ConsolePages.routes + AccountPages.routes + API.routes

    /// The router holding every route, the stylesheet, and the answers for unknown paths.
    public func router() -> Router<WebContext> {
        // HEAD is GET without the body (RFC 9110), on every route: link checkers and probes get the truth.
        let router = Router(context: WebContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: LogRequestsMiddleware(.info))
        router.add(middleware: SecurityHeaders())
        for route in Self.routes {
            let portal = self
            router.on(RouterPath(route.path), method: route.method) { request, context in
                try await portal.answer(route, request, context)
            }
        }
        router.get("/static/parc.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: Page.css)))
        }
        router.get("/static/rapport.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: EquipmentReport.stylesheet)))
        }
        router.get("/static/etiquettes.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: LabelSheets.stylesheet)))
        }
        router.get("/favicon.ico") { _, _ in
            Response(status: .ok, headers: [.contentType: "image/x-icon", .cacheControl: "public, max-age=86400"],
                     body: .init(byteBuffer: ByteBuffer(bytes: Favicon.bytes)))
        }
        router.get("/static/console.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: ConsolePages.script)))
        }
        return router
    }

    /// Runs one route: who is asking, whether they may, then the handler; errors become pages or JSON.
    func answer(_ route: Route, _ request: Request, _ context: WebContext) async throws -> Response {
        var context = context
        if options.trustForwardedFor, let forwarded = Self.forwardedPeer(request.headers[values: .xForwardedFor]) {
            context.peer = forwarded
        }
        do {
            // The API's open document needs nobody; pages open to anyone still look (the sign-in page redirects the signed-in).
            let generation = cache?.generation(day: Day.today(options.clock()))
            let viewer = route.isAPI ? (route.access == .anyone ? nil : try await tokenViewer(request, generation))
                : try await sessionViewer(request, generation)
            // A relay takes work and reads nothing else: every other route is "not found" to it.
            if let viewer, viewer.isRelay != (route.access == .relay) {
                if route.access == .relay || viewer.isRelay { throw WebError.notFound }
            }
            switch route.access {
            case .anyone: break
            case .relay:
                guard let viewer else { throw WebError.signInRequired }
                guard viewer.isRelay else { throw WebError.notFound }
            case .signedIn: guard viewer != nil else { throw WebError.signInRequired }
            case .staff:
                guard let viewer else { throw WebError.signInRequired }
                guard viewer.isStaff else { throw WebError.notFound }
            case .admin:
                guard let viewer else { throw WebError.signInRequired }
                guard viewer.isAdmin else { throw WebError.notFound }
            }
            if route.cached, let cache, let generation, let viewer, !viewer.identity.isEmpty {
                let key = AnswerCache.Key(viewer: viewer.identity, uri: request.uri.description)
                let portal = self, asked = context
                return try await cache.answer(key, in: generation) { try await route.handler(portal, request, asked, viewer) }
                    .response(to: request)
            }
            return try await route.handler(self, request, context, viewer)
        } catch let error as WebError {
            return route.isAPI ? API.errorResponse(error) : errorPage(error, request: request)
        } catch is NotVisible {
            return route.isAPI ? API.errorResponse(.notFound) : errorPage(.notFound, request: request)
        } catch let error as InventoryError {
            if case .notFound = error { return route.isAPI ? API.errorResponse(.notFound) : errorPage(.notFound, request: request) }
            return serverError(error, request: request, api: route.isAPI)
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            return serverError(error, request: request, api: route.isAPI)
        }
    }

    /// A failure of the server itself: the details (file paths, SQL) go to the log under a
    /// reference, the answer says only that reference.
    func serverError(_ error: any Error, request: Request, api: Bool) -> Response {
        let reference = String(Secrets.random(bytes: 6).prefix(8))
        logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)", "reference": "\(reference)"])
        return api ? API.json(.object([("error", .string("server_error")), ("detail", .string("the server failed; its log says why under reference \(reference)"))]),
                              status: .internalServerError)
            : html(Self.message("Erreur", "Une erreur est survenue ; réessayez ou prévenez votre technicien (référence \(reference))."), status: .internalServerError)
    }

    /// The client's address as the reverse proxy saw it: the last entry of the last
    /// `X-Forwarded-For` (the one the proxy appended; those before it are the client's own words).
    static func forwardedPeer(_ values: [String]) -> String? {
        guard let last = values.last?.split(separator: ",").last.map({ $0.trimmingCharacters(in: .whitespaces) }), !last.isEmpty else { return nil }
        return last
    }

    // MARK: Who is asking

    /// The viewer of the request's session cookie; resolved once per generation of the inventory
    /// (a session's end of life is checked every time).
    func sessionViewer(_ request: Request, _ generation: AnswerCache.Generation? = nil) async throws -> Viewer? {
        guard let secret = request.cookies["parc_session"]?.value, !secret.isEmpty else { return nil }
        let digest = Secrets.digest(secret)
        let now = options.clock()
        let identity = "s:" + digest
        if let generation, let known = cache?.viewer(identity, in: generation, now: now) { return known }
        guard let session = try await Sessions.session(digest: digest, now: now, in: workspace), session.account.role != .relay else { return nil }
        let viewer = Viewer(account: session.account, memberSlug: session.memberSlug, memberName: session.memberName, csrf: session.csrf,
                            sessionDigest: digest, identity: identity)
        if let generation { cache?.keep(viewer, as: identity, expires: session.expiresAt, in: generation) }
        return viewer
    }

    /// The viewer of the request's API token (`Authorization: Bearer`), resolved once per generation.
    func tokenViewer(_ request: Request, _ generation: AnswerCache.Generation? = nil) async throws -> Viewer? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw WebError.signInRequired }
        let digest = Secrets.digest(String(parts[1]).trimmingCharacters(in: .whitespaces))
        let identity = "t:" + digest
        if let generation, let known = cache?.viewer(identity, in: generation, now: options.clock()) { return known }
        guard let token = try await Sessions.token(digest: digest, in: workspace) else { return nil }
        let viewer = Viewer(account: token.account, memberSlug: token.memberSlug, csrf: nil, sessionDigest: nil, relaySchools: token.relaySchools,
                            identity: identity)
        if let generation { cache?.keep(viewer, as: identity, expires: nil, in: generation) }
        return viewer
    }

    // MARK: Answers

    func html(_ page: Page, status: HTTPResponse.Status = .ok) -> Response {
        html(page.render(), status: status)
    }

    func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    static func message(_ title: String, _ text: String, viewer: Viewer? = nil) -> Page {
        var page = Page(title, viewer: viewer)
        page.body.element("p", text)
        page.body.html("<p><a href=\"/\">Retour à l'accueil</a></p>\n")
        return page
    }

    /// The answer for what does not exist (or is not this viewer's): the same words either way.
    static func notFoundPage() -> Response {
        Response(status: .notFound, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: message("Page introuvable", "Cette page n'existe pas, ou elle ne concerne pas votre commune.").render())))
    }

    func errorPage(_ error: WebError, request: Request) -> Response {
        switch error {
        case .notFound:
            return Self.notFoundPage()
        case .signInRequired:
            let next = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            return redirect("/connexion?suite=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"))
        case .badRequest(let detail):
            return html(Self.message("Demande incorrecte", detail), status: .badRequest)
        case .staleForm:
            return html(Self.message("Formulaire expiré", "Ce formulaire a expiré ou ne vient pas de parc. Rechargez la page et envoyez-le de nouveau."), status: .forbidden)
        case .tooManyRequests(let retry):
            var r = html(Self.message("Trop de tentatives", "Trop d'essais de connexion ont échoué. Réessayez dans \(Self.minutes(retry))."), status: .tooManyRequests)
            r.headers[.retryAfter] = String(retry)
            return r
        }
    }

    static func minutes(_ seconds: Int) -> String {
        let m = max(1, (seconds + 59) / 60)
        return m == 1 ? "1 minute" : "\(m) minutes"
    }

    // MARK: Forms

    /// The fields of a posted form (`application/x-www-form-urlencoded`), one value each.
    func form(_ request: Request, context: WebContext) async throws -> [String: String] {
        try await formFields(request, context: context).values
    }

    /// A posted form as Hummingbird's `URLEncodedFormDecoder` reads it: each field's value, and the
    /// lists (`name[]`: checkboxes picked).
    func formFields(_ request: Request, context: WebContext, limit: Int? = nil) async throws -> FormFields {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit ?? context.maxUploadSize)
        } catch {
            throw WebError.badRequest("Le formulaire envoyé est trop long.")
        }
        return try FormFields.decode(String(buffer: buffer))
    }

    /// Checks the CSRF token of a posted form against the viewer's session.
    func checkCSRF(_ fields: [String: String], _ viewer: Viewer) throws {
        guard let expected = viewer.csrf, let given = fields["csrf"], Secrets.same(expected, given) else { throw WebError.staleForm }
    }
}

/// Headers on every answer: no framing, no sniffing, no referrer to other sites, no script at all.
struct SecurityHeaders: RouterMiddleware {
    typealias Context = WebContext
    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            // A path no route answers: the portal's own page, or JSON under /api.
            response = request.uri.path.hasPrefix("/api/") ? API.errorResponse(.notFound) : Portal.notFoundPage()
        }
        if response.headers[.contentSecurityPolicy] == nil { response.headers[.contentSecurityPolicy] = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'" }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicyHeader] = "same-origin"
        return response
    }
}

/// The portal's icon: a 16×16 square of its blue with a white "p", drawn here (no file to ship).
enum Favicon {
    static let bytes: [UInt8] = {
        let size = 16
        // The letter "p": a bowl on rows 4–10, a stem on columns 4–5 down to row 13.
        func white(_ x: Int, _ y: Int) -> Bool {
            if (4...5).contains(x) && (4...13).contains(y) { return true }
            if (6...10).contains(x) && (y == 4 || y == 10) { return true }
            if (10...11).contains(x) && (5...9).contains(y) { return true }
            return false
        }
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8 & 0xff)] }
        func le32(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24 & 0xff)] }
        var pixels: [UInt8] = []
        for y in (0..<size).reversed() {  // bottom-up, BGRA
            for x in 0..<size { pixels += white(x, y) ? [0xff, 0xff, 0xff, 0xff] : [0x91, 0x00, 0x00, 0xff] }
        }
        let mask = [UInt8](repeating: 0, count: size * 4)  // 16 rows of 32 bits: all opaque
        let info = le32(40) + le32(size) + le32(size * 2) + le16(1) + le16(32) + le32(0) + le32(pixels.count + mask.count) + le32(0) + le32(0) + le32(0) + le32(0)
        let image = info + pixels + mask
        return le16(0) + le16(1) + le16(1) + [UInt8(size), UInt8(size), 0, 0] + le16(1) + le16(32) + le32(image.count) + le32(22) + image
    }()
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicyHeader = Self("Referrer-Policy")!
}

/// A posted form's fields, decoded by Hummingbird's `URLEncodedFormDecoder`: one value per field,
/// and the lists of fields named `name[]` (checkboxes).
struct FormFields: Decodable {
    var values: [String: String] = [:]
    var lists: [String: [String]] = [:]

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        for key in c.allKeys {
            if let value = try? c.decode(String.self, forKey: key) { values[key.stringValue] = value }
            else { lists[key.stringValue] = try c.decode([String].self, forKey: key) }
        }
    }

    /// A body that is not a form (a key twice, a broken escape) is a bad request.
    static func decode(_ body: String) throws -> FormFields {
        do { return try URLEncodedFormDecoder().decode(FormFields.self, from: body) } catch {
            throw WebError.badRequest("Le formulaire envoyé est mal formé : rechargez la page et recommencez.")
        }
    }

    subscript(_ key: String) -> String? { values[key] }
    func list(_ key: String) -> [String] { lists[key] ?? [] }
}
