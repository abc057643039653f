import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ParcApp
import ParcCore

/// Signing in and out, and one's own password.
enum AccountPages {
    static let routes: [Route] = [
        Route(method: .get, path: "/connexion", access: .anyone, summary: "The sign-in form") { p, r, _, v in
            try await p.signInForm(r, viewer: v)
        },
        Route(method: .post, path: "/connexion", access: .anyone, summary: "Sign in") { p, r, c, _ in
            try await p.signIn(r, context: c)
        },
        Route(method: .post, path: "/deconnexion", access: .signedIn, summary: "Sign out") { p, r, c, v in
            try await p.signOut(r, context: c, viewer: v!)
        },
        Route(method: .get, path: "/compte", access: .signedIn, summary: "One's account and the form to change one's password") { p, r, _, v in
            p.accountPage(v!, errors: [:], notice: r.uri.queryParameters.get("change") != nil ? "Votre mot de passe est changé ; vos autres sessions sont fermées." : nil)
        }.kept,
        Route(method: .post, path: "/compte", access: .signedIn, summary: "Change one's password") { p, r, c, v in
            try await p.changePassword(r, context: c, viewer: v!)
        },
    ]
}

extension Portal {
    static let sessionCookie = "parc_session"
    static let loginCookie = "parc_login"

    func cookie(_ name: String, _ value: String, maxAge: Int) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: options.secureCookies, httpOnly: true, sameSite: .lax)
    }

    /// Where to go after signing in: one of the portal's own pages (a GET route's path, each
    /// parameter one plain segment), with a plain query; anything else goes to `/`. Browsers read
    /// `/\t/host`, `/\\host` or `/%2F/host` as another site: such a value never matches a route.
    static func safeNext(_ raw: String?) -> String {
        guard let raw, raw.utf8.count <= 2000 else { return "/" }
        let pathPart: Substring, query: Substring?
        if let q = raw.firstIndex(of: "?") { pathPart = raw[..<q]; query = raw[raw.index(after: q)...] } else { pathPart = raw[...]; query = nil }
        // Letters, digits and - . _ ~ only: no percent-escapes, spaces, controls or backslashes anywhere in the path.
        let segment = { (s: Substring) in !s.isEmpty && s.utf8.allSatisfy { $0 < 0x80 && (isalnum(Int32($0)) != 0 || "-._~".utf8.contains($0)) } }
        guard pathPart.hasPrefix("/") else { return "/" }
        let segments = pathPart.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard pathPart == "/" || segments.allSatisfy(segment) else { return "/" }
        if let query {
            // name=value pairs of the same plain characters (and %XX escapes of them, + for spaces).
            let allowed = query.utf8.allSatisfy { $0 < 0x80 && (isalnum(Int32($0)) != 0 || "-._~=&%+".utf8.contains($0)) }
            guard allowed, (query.removingPercentEncoding ?? "\u{0}").unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else { return "/" }
        }
        let wanted = pathPart == "/" ? [] : segments
        let known = routes.contains { route in
            guard route.method == .get, !route.isAPI else { return false }
            let parts = route.path == "/" ? [] : route.path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == wanted.count && zip(parts, wanted).allSatisfy { p, w in p.hasPrefix("{") || p == w }
        }
        return known ? raw : "/"
    }

    func signInPage(next: String, login: String, error: String?, notice: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let token = Secrets.random()
        var page = Page("Connexion", viewer: nil, path: "/connexion")
        page.notice = notice
        page.body.element("p", "Connectez-vous avec l'identifiant et le mot de passe que votre technicien vous a donnés.")
        if let error { page.body.html("<div class=\"erreurs\" role=\"alert\"><p>"); page.body.text(error); page.body.html("</p></div>\n") }
        page.body.html("<form class=\"formulaire\" method=\"post\" action=\"/connexion\" novalidate>")
        page.body.html("<input type=\"hidden\" name=\"csrf\" value=\"\(token)\"><input type=\"hidden\" name=\"suite\" value=\"\(next)\">")
        FormField(name: "login", label: "Identifiant", value: login, error: error == nil ? nil : "Vérifiez l'identifiant et le mot de passe.",
                  required: true, maxLength: 64, autocomplete: "username").write(into: &page.body)
        FormField(name: "password", label: "Mot de passe", type: "password", required: true, maxLength: 128, autocomplete: "current-password").write(into: &page.body)
        page.body.html("<p class=\"actions\"><button type=\"submit\">Se connecter</button></p></form>\n")
        page.body.element("p", "Mot de passe oublié ? Demandez à votre technicien de vous en donner un nouveau.")
        var response = html(page, status: status)
        response.setCookie(cookie(Self.loginCookie, token, maxAge: 3600))
        return response
    }

    func signInForm(_ request: Request, viewer: Viewer?) async throws -> Response {
        let next = Self.safeNext(request.uri.queryParameters.get("suite").map { String($0) })
        if viewer != nil { return redirect(next) }
        return signInPage(next: next, login: "", error: nil,
                          notice: request.uri.queryParameters.get("sortie") != nil ? "Vous êtes déconnecté." : nil)
    }

    /// Checks one password guess for this login (normalised as accounts are looked up) from this
    /// address within the limits: the attempt is reserved before `check` runs (bcrypt), so parallel
    /// guesses count each other; `check` answers nil when right, or why it is wrong, which is
    /// recorded (the limit's record across restarts, and the audit log's line). Throws
    /// ``WebError/tooManyRequests`` when the account or the address has had its share.
    func guess(login: String, address: String, _ check: () async throws -> String?) async throws -> Bool {
        let key = Account.lookupKey(login)
        let now = options.clock()
        let since = now.addingTimeInterval(-options.throttleWindow)
        let recorded = try await Sessions.failures(login: key, address: address, since: since, in: workspace)
        let keys = ["login:" + key, "address:" + address]
        if let retry = attempts.reserve(keys, recorded: [recorded.login, recorded.address], now: now.timeIntervalSince1970) {
            logger.warning("password guess throttled", metadata: ["login": "\(TextRules.visible(key))", "address": "\(address)"])
            throw WebError.tooManyRequests(retryAfter: retry)
        }
        var failure: String? = nil
        defer { attempts.finish(keys, failed: failure != nil, now: options.clock().timeIntervalSince1970) }
        failure = try await check()
        guard let reason = failure else { return true }
        try await Sessions.recordFailure(login: key, address: address, reason: reason, at: now, in: workspace)
        logger.notice("password refused", metadata: ["login": "\(TextRules.visible(key))", "address": "\(address)", "reason": "\(reason)"])
        return false
    }

    /// One password guess, by the sign-in form or `parc login` (the API), within the limits of
    /// ``guess(login:address:_:)``: whether it is right, and the account.
    func checkPassword(login: String, password: String, address: String) async throws -> (Bool, Account?) {
        var account: Account? = nil
        let right = try await guess(login: login, address: address) {
            account = try await Sessions.account(login, in: workspace)
            // A relay has no password (it signs in with a token) and never reads the portal.
            let hash = account.flatMap { $0.role == .relay ? nil : $0.passwordHash } ?? Secrets.decoyHash
            // bcrypt runs for an unknown login too (the decoy): a refusal takes as long either way.
            let matches = try await offload { Secrets.verify(password, hash: hash) }
            guard let found = account, !login.isEmpty else { return "unknown login" }
            if found.role == .relay { return "relay account (relays use a token and cannot sign in)" }
            return found.disabled ? "account disabled" : matches ? nil : "wrong password"
        }
        return (right, account)
    }

    func signIn(_ request: Request, context: WebContext) async throws -> Response {
        let fields = try await form(request, context: context)
        let next = Self.safeNext(fields["suite"])
        guard let given = fields["csrf"], let expected = request.cookies[Self.loginCookie]?.value, Secrets.same(given, expected) else {
            throw WebError.staleForm
        }
        let typed = String((fields["login"] ?? "").prefix(200))
        let login = Account.lookupKey(typed)
        let password = fields["password"] ?? ""
        let address = context.peer
        let (right, account) = try await checkPassword(login: login, password: password, address: address)
        guard right, let account else {
            return signInPage(next: next, login: typed.trimmed, error: "Identifiant ou mot de passe incorrect.", status: .unauthorized)
        }
        var response = redirect(next)
        response.setCookie(try await openSession(for: account, address: address))
        response.setCookie(cookie(Self.loginCookie, "", maxAge: 0))
        logger.info("signed in", metadata: ["login": "\(account.login)", "address": "\(address)"])
        return response
    }

    /// Opens a session for `account` and returns its cookie.
    func openSession(for account: Account, address: String) async throws -> Cookie {
        let secret = Secrets.random()
        let csrf = Secrets.random()
        let now = options.clock()
        let expires = now.addingTimeInterval(options.sessionLifetime)
        try await Sessions.open(account: account, digest: Secrets.digest(secret), csrf: csrf, expiresAt: expires, address: address, at: now, in: workspace)
        return cookie(Self.sessionCookie, secret, maxAge: Int(options.sessionLifetime))
    }

    func signOut(_ request: Request, context: WebContext, viewer: Viewer) async throws -> Response {
        let fields = try await form(request, context: context)
        try checkCSRF(fields, viewer)
        if let digest = viewer.sessionDigest {
            try await Sessions.close(digest: digest, account: viewer.account, in: workspace)
        }
        var response = redirect("/connexion?sortie=1")
        response.setCookie(cookie(Self.sessionCookie, "", maxAge: 0))
        return response
    }

    func accountPage(_ v: Viewer, errors: [String: String], notice: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        var page = Page("Mon compte", viewer: v, path: "/compte")
        page.notice = notice
        page.body.facts([("Nom", .optional(v.account.displayName)), ("Identifiant", .text(v.account.login)), ("Rôle", .text(v.account.role.frenchDescription)),
                         ("Commune", .optional(v.memberName ?? v.memberSlug)), ("Adresse électronique", .optional(v.account.email))])
        page.body.element("h2", "Changer de mot de passe")
        if !errors.isEmpty {
            page.body.html("<div class=\"erreurs\" role=\"alert\"><p>Le mot de passe n'a pas été changé : corrigez les champs indiqués.</p></div>\n")
        }
        page.body.html("<form class=\"formulaire\" method=\"post\" action=\"/compte\" novalidate>")
        page.body.html("<input type=\"hidden\" name=\"csrf\" value=\"\(v.csrf ?? "")\">")
        FormField(name: "current", label: "Mot de passe actuel", error: errors["current"], type: "password", required: true, maxLength: 128,
                  autocomplete: "current-password").write(into: &page.body)
        FormField(name: "new", label: "Nouveau mot de passe", error: errors["new"], help: "10 caractères au moins", type: "password", required: true,
                  maxLength: 72, autocomplete: "new-password").write(into: &page.body)
        FormField(name: "confirm", label: "Nouveau mot de passe, une seconde fois", error: errors["confirm"], type: "password", required: true,
                  maxLength: 72, autocomplete: "new-password").write(into: &page.body)
        page.body.html("<p class=\"actions\"><button type=\"submit\">Changer le mot de passe</button></p></form>\n")
        return html(page, status: status)
    }

    func changePassword(_ request: Request, context: WebContext, viewer v: Viewer) async throws -> Response {
        let fields = try await form(request, context: context)
        try checkCSRF(fields, v)
        let current = fields["current"] ?? "", new = fields["new"] ?? "", confirm = fields["confirm"] ?? ""
        var errors: [String: String] = [:]
        let hash = v.account.passwordHash
        // The current password is a guess like a sign-in's: the same limits, the same audit line.
        let right = try await guess(login: v.account.login, address: context.peer) {
            try await offload { Secrets.verify(current, hash: hash) } ? nil : "wrong current password (password change)"
        }
        if !right { errors["current"] = "Ce n'est pas votre mot de passe actuel." }
        if new.count < 10 { errors["new"] = "Le nouveau mot de passe doit faire 10 caractères au moins." }
        else if new.utf8.count > 72 { errors["new"] = "Le nouveau mot de passe est trop long (72 octets au plus)." }
        else if new.lowercased() == v.account.login.lowercased() { errors["new"] = "Le mot de passe ne peut pas être votre identifiant." }
        if errors["new"] == nil && confirm != new { errors["confirm"] = "Les deux saisies du nouveau mot de passe diffèrent." }
        guard errors.isEmpty else { return accountPage(v, errors: errors, status: .unprocessableContent) }
        let cost = options.bcryptCost
        let newHash = try await offload { try Secrets.hashPassword(new, cost: cost) }
        let login = v.account.login
        try await Sessions.setPassword(login, hash: newHash, in: workspace)
        // Every session of the account ended with the change; this browser gets a new one.
        var account = v.account
        account.passwordHash = newHash
        var response = redirect("/compte?change=1")
        response.setCookie(try await openSession(for: account, address: context.peer))
        logger.info("password changed", metadata: ["login": "\(login)"])
        return response
    }
}
