import Foundation
import HTTPTypes
import Hummingbird
import InventoryStore
import Logging
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
        },
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

    /// Where to go after signing in: a path of this site only.
    static func safeNext(_ raw: String?) -> String {
        guard let raw, raw.hasPrefix("/"), !raw.hasPrefix("//"), !raw.contains("\\"), !raw.contains("\r"), !raw.contains("\n") else { return "/" }
        return raw
    }

    func signInPage(next: String, login: String, error: String?, notice: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let token = Secrets.random()
        var page = Page("Connexion", viewer: nil, path: "/connexion")
        page.notice = notice
        page.body.element("p", "Connectez-vous avec l'identifiant et le mot de passe que votre technicien vous a donnés.")
        if let error { page.body.raw("<div class=\"erreurs\" role=\"alert\"><p>"); page.body.text(error); page.body.raw("</p></div>\n") }
        page.body.raw("<form class=\"formulaire\" method=\"post\" action=\"/connexion\" novalidate>")
        page.body.raw("<input type=\"hidden\" name=\"csrf\" value=\"\(token)\"><input type=\"hidden\" name=\"suite\" value=\"\(HTMLWriter.escape(next))\">")
        FormField(name: "login", label: "Identifiant", value: login, error: error == nil ? nil : "Vérifiez l'identifiant et le mot de passe.",
                  required: true, maxLength: 64, autocomplete: "username").write(into: &page.body)
        FormField(name: "password", label: "Mot de passe", type: "password", required: true, maxLength: 128, autocomplete: "current-password").write(into: &page.body)
        page.body.raw("<p class=\"actions\"><button type=\"submit\">Se connecter</button></p></form>\n")
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

    /// Seconds until a sign-in may be tried again, or nil when it may be tried now.
    func throttled(login: String, address: String) async throws -> Int? {
        let now = options.clock()
        let window = options.throttleWindow, limit = options.throttleLimit
        let failures = try await inventory.reading { r in try r.loginFailures(login: login, address: address, since: now.addingTimeInterval(-window)) }
        var retry: Double? = nil
        for times in [failures.login, failures.address] where times.count >= limit {
            let wait = times[times.count - limit] + window - now.timeIntervalSince1970
            retry = max(retry ?? 0, wait)
        }
        return retry.map { max(1, Int($0.rounded(.up))) }
    }

    func signIn(_ request: Request, context: WebContext) async throws -> Response {
        let fields = try await form(request, context: context)
        let next = Self.safeNext(fields["suite"])
        guard let given = fields["csrf"], let expected = request.cookies[Self.loginCookie]?.value, Secrets.same(given, expected) else {
            throw WebError.staleForm
        }
        let login = String((fields["login"] ?? "").trimmingCharacters(in: .whitespaces).prefix(64))
        let password = fields["password"] ?? ""
        let address = context.peer
        if let retry = try await throttled(login: login, address: address) {
            logger.warning("sign-in throttled", metadata: ["login": "\(TextRules.visible(login))", "address": "\(address)"])
            throw WebError.tooManyRequests(retryAfter: retry)
        }
        let now = options.clock()
        let account = try await inventory.reading { r in try? r.account(login) }
        let hash = account?.passwordHash ?? Secrets.decoyHash
        let matches = try await offload { Secrets.verify(password, hash: hash) }
        guard let account, matches, !account.disabled, !login.isEmpty else {
            let reason = account == nil ? "unknown login" : account!.disabled ? "account disabled" : "wrong password"
            try await inventory.writing(as: login.isEmpty ? "(empty)" : login) { tx in try tx.recordLoginFailure(login: login, address: address, reason: reason, at: now) }
            logger.notice("sign-in refused", metadata: ["login": "\(TextRules.visible(login))", "address": "\(address)", "reason": "\(reason)"])
            return signInPage(next: next, login: login, error: "Identifiant ou mot de passe incorrect.", status: .unauthorized)
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
        try await inventory.writing(as: account.login) { tx in
            try tx.openSession(account: account, digest: Secrets.digest(secret), csrf: csrf, expiresAt: expires, address: address, at: now)
        }
        return cookie(Self.sessionCookie, secret, maxAge: Int(options.sessionLifetime))
    }

    func signOut(_ request: Request, context: WebContext, viewer: Viewer) async throws -> Response {
        let fields = try await form(request, context: context)
        try checkCSRF(fields, viewer)
        if let digest = viewer.sessionDigest {
            try await inventory.writing(as: viewer.account.login) { tx in try tx.closeSession(digest: digest, account: viewer.account) }
        }
        var response = redirect("/connexion?sortie=1")
        response.setCookie(cookie(Self.sessionCookie, "", maxAge: 0))
        return response
    }

    func accountPage(_ v: Viewer, errors: [String: String], notice: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        var page = Page("Mon compte", viewer: v, path: "/compte")
        page.notice = notice
        page.body.facts([("Identifiant", .text(v.account.login)), ("Rôle", .text(v.account.role.french)),
                         ("Commune", .optional(v.memberSlug))])
        page.body.element("h2", "Changer de mot de passe")
        if !errors.isEmpty {
            page.body.raw("<div class=\"erreurs\" role=\"alert\"><p>Le mot de passe n'a pas été changé : corrigez les champs indiqués.</p></div>\n")
        }
        page.body.raw("<form class=\"formulaire\" method=\"post\" action=\"/compte\" novalidate>")
        page.body.raw("<input type=\"hidden\" name=\"csrf\" value=\"\(HTMLWriter.escape(v.csrf ?? ""))\">")
        FormField(name: "current", label: "Mot de passe actuel", error: errors["current"], type: "password", required: true, maxLength: 128,
                  autocomplete: "current-password").write(into: &page.body)
        FormField(name: "new", label: "Nouveau mot de passe", error: errors["new"], help: "10 caractères au moins", type: "password", required: true,
                  maxLength: 72, autocomplete: "new-password").write(into: &page.body)
        FormField(name: "confirm", label: "Nouveau mot de passe, une seconde fois", error: errors["confirm"], type: "password", required: true,
                  maxLength: 72, autocomplete: "new-password").write(into: &page.body)
        page.body.raw("<p class=\"actions\"><button type=\"submit\">Changer le mot de passe</button></p></form>\n")
        return html(page, status: status)
    }

    func changePassword(_ request: Request, context: WebContext, viewer v: Viewer) async throws -> Response {
        let fields = try await form(request, context: context)
        try checkCSRF(fields, v)
        let current = fields["current"] ?? "", new = fields["new"] ?? "", confirm = fields["confirm"] ?? ""
        var errors: [String: String] = [:]
        let hash = v.account.passwordHash
        if !(try await offload { Secrets.verify(current, hash: hash) }) { errors["current"] = "Ce n'est pas votre mot de passe actuel." }
        if new.count < 10 { errors["new"] = "Le nouveau mot de passe doit faire 10 caractères au moins." }
        else if new.utf8.count > 72 { errors["new"] = "Le nouveau mot de passe est trop long (72 octets au plus)." }
        else if new.lowercased() == v.account.login.lowercased() { errors["new"] = "Le mot de passe ne peut pas être votre identifiant." }
        if errors["new"] == nil && confirm != new { errors["confirm"] = "Les deux saisies du nouveau mot de passe diffèrent." }
        guard errors.isEmpty else { return accountPage(v, errors: errors, status: .unprocessableContent) }
        let cost = options.bcryptCost
        let newHash = try await offload { try Secrets.hashPassword(new, cost: cost) }
        let login = v.account.login
        try await inventory.writing(as: login) { tx in try tx.setPassword(login, hash: newHash) }
        // Every session of the account ended with the change; this browser gets a new one.
        var account = v.account
        account.passwordHash = newHash
        var response = redirect("/compte?change=1")
        response.setCookie(try await openSession(for: account, address: context.peer))
        logger.info("password changed", metadata: ["login": "\(login)"])
        return response
    }
}
