import Foundation
import ParcCore
import Templating

/// `user`: a local account as Ansible's user module manages it on Linux — shadow's useradd,
/// usermod, userdel and chage, or libuser's luseradd, lusermod, luserdel, lchage and lgroupmod
/// with `local` —, step by step as its `main()` and `User` class decide (ansible-core 2.19):
/// create or modify, then a missing home made from the skeleton, then an SSH key, then the
/// password's ageing. Two questions to the device: the account (passwd, shadow, groups), then
/// the paths that depend on it (home, key files). The plan is pure: `decide` is tested as data.
///
/// Where parc differs, on purpose: a password hash never goes on a command line (Ansible's
/// `useradd -p HASH` shows it in the device's process list) — it goes to `chpasswd -e` on a
/// descriptor; a key's passphrase reaches ssh-keygen through an askpass helper reading the
/// environment, not a pseudo-terminal; a public key is never removed in check mode.
enum UserModule {
    static let spec = ModuleSpec(name: "user", arguments: [
        "name", "user", "state", "uid", "non_unique", "group", "groups", "comment", "home", "shell", "password", "login_class",
        "password_expire_max", "password_expire_min", "password_expire_warn", "hidden", "seuser", "force", "remove", "create_home",
        "createhome", "skeleton", "system", "move_home", "append", "generate_ssh_key", "ssh_key_bits", "ssh_key_type", "ssh_key_file",
        "ssh_key_comment", "ssh_key_passphrase", "update_password", "expires", "password_lock", "local", "profile", "authorization",
        "role", "umask", "password_expire_account_disable", "uid_min", "uid_max",
    ], pathArguments: ["home", "shell", "ssh_key_file"]) { c in
        let o = try Options(c.args)
        let account = Account.parse(try c.fact(accountFact(o)).stdoutText, o)
        let paths = try pathsQuery(o, account).map { Paths.parse(try c.fact($0).stdoutText) }
        let d = try decide(o, account, paths, check: c.check)
        var plan = Plan(steps: d.commands.map { cmd in
            // A password hash or a passphrase goes on file descriptor 3, never on a command line or in a log.
            guard let secret = cmd.secret else { return c.run(cmd.script, what: cmd.what) }
            return c.run(cmd.script, input: Array(secret.utf8), what: cmd.what)
        }, changed: d.changed)
        plan.result.data = d.data
        plan.result.warnings = d.warnings
        if !d.commands.isEmpty { plan.result.msg = d.commands.map(\.summary).joined(separator: "; ") }
        guard d.readsBack, !c.check, !d.commands.isEmpty else { return plan }
        // As Ansible's result: the account (and its key) as the device has them after the change.
        var read = c.run(resultScript(o, keyPath: d.keyPath), what: "reading the account \(o.name)", touches: [])
        read.isResult = true
        plan.steps.append(read)
        plan.finish = { r, out in
            let lines = out.stdoutText.components(separatedBy: "\n")
            fill(&r.data, passwd: lines.first ?? "")
            if d.keyPath != nil {
                r.data["ssh_fingerprint"] = .string(lines.count > 1 ? lines[1].trimmed : "")
                r.data["ssh_public_key"] = lines.count > 2 && lines[2] != "parc-none" ? .string(lines[2].trimmed) : .null
            }
        }
        return plan
    }

    /// The arguments with Ansible's types and defaults (main()'s argument_spec).
    struct Options {
        var name: String
        var state = "present"
        var uid: Int?
        var nonUnique = false
        var group: String?
        /// nil: not given; empty: no supplementary group at all.
        var groups: [String]?
        var comment: String?
        var home: String?
        var shell: String?
        var password: String?
        var passwordExpireMax: Int?
        var passwordExpireMin: Int?
        var passwordExpireWarn: Int?
        var seuser: String?
        var force = false
        var remove = false
        var createHome = true
        var skeleton: String?
        var system = false
        var moveHome = false
        var append = false
        var generateSSHKey = false
        var sshKeyBits = 0
        var sshKeyType = "rsa"
        var sshKeyFile: String?
        var sshKeyComment: String?
        var sshKeyPassphrase: String?
        var updatePassword = "always"
        var expires: Double?
        var passwordLock: Bool?
        var local = false
        var umask: String?
        var inactive: Int?
        var uidMin: Int?
        var uidMax: Int?

        init(_ args: [String: Value]) throws {
            func given(_ key: String) -> Value? { args[key].flatMap { $0 == .null ? nil : $0 } }
            func text(_ key: String) -> String? { given(key).map { $0.string ?? $0.description } }
            func typeName(_ v: Value) -> String {
                switch v {
                case .bool: "bool"
                case .int: "int"
                case .double: "float"
                case .list: "list"
                case .map: "dict"
                default: "str"
                }
            }
            func int(_ key: String) throws -> Int? {
                guard let v = given(key) else { return nil }
                if case .int(let n) = v { return n }
                if case .double(let d) = v, d == d.rounded(), abs(d) < 1e18 { return Int(d) }
                guard let s = v.string, let n = Int(s.trimmed) else {
                    throw ModuleFailure("argument '\(key)' is of type \(typeName(v)) and we were unable to convert to int: '\(v.description)'")
                }
                return n
            }
            func bool(_ key: String) throws -> Bool? {
                guard let v = given(key) else { return nil }
                if case .bool(let b) = v { return b }
                switch (v.string ?? v.description).lowercased() {
                case "yes", "on", "1", "true", "y", "t", "1.0": return true
                case "no", "off", "0", "false", "n", "f", "0.0": return false
                default: throw ModuleFailure("argument '\(key)' is of type \(typeName(v)) and we were unable to convert to bool: The value '\(v.description)' is not a valid boolean.")
                }
            }
            guard let name = text("name") ?? text("user") else { throw ModuleFailure("missing required arguments: name") }
            self.name = name
            state = text("state") ?? "present"
            guard ["present", "absent"].contains(state) else { throw ModuleFailure("value of state must be one of: absent, present, got: \(state)") }
            uid = try int("uid")
            nonUnique = try bool("non_unique") ?? false
            group = text("group")
            if let g = given("groups") {
                // Ansible's list type: a list, or a text split at commas; blanks dropped.
                let items = g.list?.map { $0.string ?? $0.description } ?? (g.string ?? g.description).components(separatedBy: ",")
                groups = items.map(\.trimmed).filter { !$0.isEmpty }
            }
            comment = text("comment")
            home = text("home")
            shell = text("shell")
            password = text("password")
            passwordExpireMax = try int("password_expire_max")
            passwordExpireMin = try int("password_expire_min")
            passwordExpireWarn = try int("password_expire_warn")
            seuser = text("seuser")
            force = try bool("force") ?? false
            remove = try bool("remove") ?? false
            createHome = try bool("create_home") ?? bool("createhome") ?? true
            skeleton = text("skeleton")
            system = try bool("system") ?? false
            moveHome = try bool("move_home") ?? false
            append = try bool("append") ?? false
            generateSSHKey = try bool("generate_ssh_key") ?? false
            sshKeyBits = try int("ssh_key_bits") ?? 0
            sshKeyType = text("ssh_key_type") ?? "rsa"
            sshKeyFile = text("ssh_key_file")
            sshKeyComment = text("ssh_key_comment")
            sshKeyPassphrase = text("ssh_key_passphrase")
            updatePassword = text("update_password") ?? "always"
            guard ["always", "on_create"].contains(updatePassword) else {
                throw ModuleFailure("value of update_password must be one of: always, on_create, got: \(updatePassword)")
            }
            if let v = given("expires") {
                switch v {
                case .int(let n): expires = Double(n)
                case .double(let d): expires = d
                default:
                    guard let d = Double((v.string ?? v.description).trimmed) else {
                        throw ModuleFailure("argument 'expires' is of type \(typeName(v)) and we were unable to convert to float: '\(v.description)'")
                    }
                    expires = d
                }
            }
            passwordLock = try bool("password_lock")
            local = try bool("local") ?? false
            umask = text("umask")
            inactive = try int("password_expire_account_disable")
            uidMin = try int("uid_min")
            uidMax = try int("uid_max")
            if local {
                for (key, value) in [("umask", umask != nil), ("uid_min", uidMin != nil), ("uid_max", uidMax != nil)] where value {
                    throw ModuleFailure("'\(key)' can not be used with 'local'")
                }
            }
        }

        /// The key file as given, or `.ssh/id_TYPE` (relative: under the home).
        var sshFile: String { sshKeyFile ?? ".ssh/id_\(sshKeyType)" }

        /// Ansible's check_password_encrypted: a password that does not look like a crypt hash.
        var passwordLooksUnhashed: Bool {
            guard let password, !password.isEmpty, !["*", "!", "*************"].contains(password) else { return false }
            if password.contains(where: { ":*!".contains($0) }) || !password.contains("$") { return true }
            let fields = password.components(separatedBy: "$")
            guard fields.count >= 3, let last = fields.last else { return true }
            if last.contains(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || "./=".contains($0))) }) { return true }
            let lengths = ["1": 22, "5": 43, "6": 86, "y": 43]
            if let wanted = lengths[fields[1]], last.count != wanted { return true }
            return false
        }
    }

    /// The account as the device knows it (the first question).
    struct Account {
        /// The passwd entry's fields (nil: no such user).
        var passwd: [String]?
        /// With `local`: whether /etc/passwd itself names the user (Ansible reads the file, not NSS).
        var inLocalFile = false
        var localFileMissing = false
        /// The shadow entry's fields (nil: none).
        var shadow: [String]?
        /// The groups that list the user as a member: name and gid.
        var memberOf: [(name: String, gid: String)]
        /// Whether a group has the user's name.
        var ownNameGroupExists = false
        /// The `group` argument's group entry (name, gid), when given and found.
        var group: (name: String, gid: String)?
        /// Each `groups` item's group (nil: no such group), in the order given.
        var groups: [(name: String, gid: String)?]
        /// useradd's default base of homes.
        var homeBase = "/home"
        var hostname = ""

        func exists(local: Bool) -> Bool { local ? inLocalFile : passwd != nil }

        /// info[1] of Ansible's user_info: the passwd field, or the shadow hash when it is `x`/empty.
        var hash: String {
            let field = passwd.map { $0.count > 1 ? $0[1] : "" } ?? ""
            return field.count <= 1 ? (shadow.map { $0.count > 1 ? $0[1] : "" } ?? "") : field
        }

        /// A shadow number field: nil without a shadow entry, -1 when empty (spwd's reading).
        func shadowNumber(_ index: Int) -> Int? {
            guard let shadow else { return nil }
            guard index < shadow.count, let n = Int(shadow[index]) else { return -1 }
            return n
        }

        static func parse(_ text: String, _ o: Options) -> Account {
            var lines = text.components(separatedBy: "\n")
            func next() -> String { lines.isEmpty ? "" : lines.removeFirst() }
            func fields(_ line: String) -> [String]? { line.isEmpty ? nil : line.components(separatedBy: ":") }
            func entry(_ line: String) -> (name: String, gid: String)? {
                guard let f = fields(line), f.count > 2 else { return nil }
                return (f[0], f[2])
            }
            let passwd = fields(next())
            let local = next()
            let shadow = fields(next())
            let members = next().split(separator: " ").compactMap { pair -> (name: String, gid: String)? in
                let parts = pair.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2 else { return nil }
                return (String(parts[0]), String(parts[1]))
            }
            var a = Account(passwd: passwd, shadow: shadow, memberOf: members, groups: [])
            a.inLocalFile = !local.isEmpty && local != "parc-no-passwd-file"
            a.localFileMissing = local == "parc-no-passwd-file"
            a.ownNameGroupExists = !next().isEmpty
            a.group = entry(next())
            let base = next()
            a.homeBase = base.isEmpty ? "/home" : base
            a.hostname = next()
            a.groups = (o.groups ?? []).map { _ in entry(next()) }
            return a
        }
    }

    /// The first question: passwd, the local file (with `local`), shadow, memberships, the
    /// groups named, useradd's home base and the host's name, one line each.
    static func accountFact(_ o: Options) -> Fact {
        let n = shellQuote(o.name)
        var s = "n=\(n); l() { printf '%s\\n' \"$(\"$@\" 2>/dev/null | head -n 1)\"; }\n"
        s += "l getent passwd -- \"$n\"\n"
        s += o.local
            ? "if [ -e /etc/passwd ]; then n=\"$n\" awk -F: '$1 == ENVIRON[\"n\"] { l = $0 } END { print l }' /etc/passwd 2>/dev/null || echo; else echo parc-no-passwd-file; fi\n"
            : "echo\n"
        s += "l getent shadow -- \"$n\"\n"
        s += "getent group | n=\"$n\" awk -F: '{ c = split($4, m, \",\"); for (i = 1; i <= c; i++) if (m[i] == ENVIRON[\"n\"]) { printf \"%s:%s \", $1, $3; break } }'; echo\n"
        s += "l getent group -- \"$n\"\n"
        s += o.group.map { "l getent group -- \(shellQuote($0))\n" } ?? "echo\n"
        s += "printf '%s\\n' \"$(useradd -D 2>/dev/null | sed -n 's/^HOME=//p' | head -n 1)\"\n"
        s += "l hostname\n"
        for g in o.groups ?? [] { s += "l getent group -- \(shellQuote(g))\n" }
        return .command(s)
    }

    /// What the second question asks: paths that depend on the account.
    struct PathsQuery: Equatable {
        /// The folder above `home` (whether useradd needs it made first).
        var homeParent: String?
        /// The home the account has once changed.
        var home: String?
        /// The key file (with generate_ssh_key).
        var key: String?
    }

    struct Paths: Equatable {
        var homeParentIsFolder = true
        var homeExists = true
        var keyFolderExists = false
        var keyExists = false
        var publicKeyExists = false
        var fingerprint = ""
        var publicKey: String?

        static func parse(_ text: String) -> Paths {
            let l = text.components(separatedBy: "\n")
            func at(_ i: Int) -> String { i < l.count ? l[i] : "" }
            return Paths(homeParentIsFolder: at(0) != "0", homeExists: at(1) != "0", keyFolderExists: at(2) == "1", keyExists: at(3) == "1",
                         publicKeyExists: at(4) == "1", fingerprint: at(5).trimmed, publicKey: at(6) == "parc-none" ? nil : at(6).trimmed)
        }
    }

    /// The home the account will have: the one asked for, else its own, else useradd's default.
    static func finalHome(_ o: Options, _ a: Account) -> String {
        if let home = o.home { return home }
        if let p = a.passwd, p.count > 5 { return p[5] }
        return (a.homeBase as NSString).appendingPathComponent(o.name)
    }

    static func keyPath(_ o: Options, home: String) -> String {
        o.sshFile.hasPrefix("/") ? o.sshFile : (home as NSString).appendingPathComponent(o.sshFile)
    }

    static func pathsQuery(_ o: Options, _ a: Account) -> Fact? {
        guard o.state == "present" else { return nil }
        let home = finalHome(o, a)
        let q = PathsQuery(homeParent: o.home.map { ($0 as NSString).deletingLastPathComponent }, home: home,
                           key: o.generateSSHKey ? keyPath(o, home: home) : nil)
        return .command(pathsScript(q))
    }

    static func pathsScript(_ q: PathsQuery) -> String {
        var s = "d() { if [ -d \"$1\" ]; then echo 1; else echo 0; fi; }; e() { if [ -e \"$1\" ]; then echo 1; else echo 0; fi; }\n"
        s += q.homeParent.map { "d \(shellQuote($0.isEmpty ? "." : $0))\n" } ?? "echo 1\n"
        s += q.home.map { "e \(shellQuote($0))\n" } ?? "echo 1\n"
        if let key = q.key {
            let k = shellQuote(key), pub = shellQuote(key + ".pub")
            s += "e \(shellQuote((key as NSString).deletingLastPathComponent))\ne \(k)\ne \(pub)\n"
            s += keyReadScript(key) + "\n"
        }
        return s
    }

    /// One command of the plan.
    struct Command: Equatable {
        var script: String
        /// What it reads on fd 3 (a hash for chpasswd, a passphrase).
        var secret: String?
        var what: String
        /// Shown in the task's message (never a secret).
        var summary: String
    }

    /// What the module decided.
    struct Decision {
        var commands: [Command] = []
        var changed = false
        var warnings: [String] = []
        var data: [String: Value] = [:]
        /// Whether the result is read from the device after the commands.
        var readsBack = false
        /// The key file whose fingerprint the result reads back.
        var keyPath: String?
    }

    /// Ansible's main() for Linux, as data: the commands, whether it changes, its warnings and result.
    static func decide(_ o: Options, _ a: Account, _ paths: Paths?, check: Bool) throws -> Decision {
        var d = Decision()
        if o.groups == nil && o.append {
            d.warnings.append("'append' is set, but no 'groups' are specified. Use 'groups' for appending new groups.This will change to an error in Ansible 2.14.")
        }
        if o.passwordLooksUnhashed {
            d.warnings.append("The input password appears not to have been hashed. The 'password' argument must be encrypted for this module to work properly.")
        }
        if o.local && a.localFileMissing {
            throw ModuleFailure("'local: true' specified but unable to find local account file /etc/passwd to parse.")
        }
        let n = shellQuote(o.name)
        let exists = a.exists(local: o.local)
        d.data["name"] = .string(o.name)
        d.data["state"] = .string(o.state)
        if o.state == "absent" {
            guard exists else { return d }
            d.changed = true
            if check { d.data = [:]; return d }
            let command = (o.local ? "luserdel" : "userdel") + (o.force && !o.local ? " -f" : "") + (o.remove ? " -r" : "") + " -- \(n)"
            d.commands.append(Command(script: tool(command, o), secret: nil, what: "removing the user \(o.name)", summary: command))
            d.data["force"] = .bool(o.force)
            d.data["remove"] = .bool(o.remove)
            return d
        }
        let paths = paths ?? Paths()
        if !exists {
            // Ansible's check mode stops here: only `changed`.
            if check { return Decision(changed: true, warnings: d.warnings) }
            try create(o, a, paths, &d)
            d.data["system"] = .bool(o.system)
            d.data["create_home"] = .bool(o.createHome)
        } else {
            try modify(o, a, &d)
            d.data["append"] = .bool(o.append)
            d.data["move_home"] = .bool(o.moveHome)
        }
        d.changed = !d.commands.isEmpty
        if o.password != nil { d.data["password"] = .string("NOT_LOGGING_PASSWORD") }
        // The account's fields: predicted (check mode, nothing to do), else read back.
        if let p = a.passwd { fill(&d.data, passwd: p.joined(separator: ":")) }
        d.readsBack = true
        if let groups = o.groups { d.data["groups"] = .string(groups.joined(separator: ",")) }
        let home = finalHome(o, a)
        // A missing home made from the skeleton (the account had none, or create_home was off before).
        // Once made, a new account has its home if useradd -m (or luseradd) made it.
        var homeExists = paths.homeExists || (!exists && o.createHome)
        if exists && !paths.homeExists && o.createHome {
            d.changed = true
            if !check { d.commands.append(Command(script: homeScript(o, home: home), secret: nil, what: "making the home \(home) of \(o.name)", summary: "home \(home) made")) }
            homeExists = true
        }
        if o.generateSSHKey { try sshKey(o, a, paths, home: home, homeExists: homeExists, check: check, &d) }
        passwordAgeing(o, a, exists: exists, check: check, &d)
        return d
    }

    /// create_user_useradd: useradd (or luseradd) with Ansible's options in its order; the hash
    /// by chpasswd; with `local`, the expiry by lchage and the groups by lgroupmod.
    static func create(_ o: Options, _ a: Account, _ paths: Paths, _ d: inout Decision) throws {
        var opts: [String] = []
        if let uid = o.uid { opts.append("-u \(uid)"); if o.nonUnique { opts.append("-o") } }
        if let seuser = o.seuser { opts.append("-Z \(shellQuote(seuser))") }
        if let group = o.group {
            guard a.group != nil else { throw ModuleFailure("Group \(group) does not exist") }
            opts.append("-g \(shellQuote(group))")
        } else if a.ownNameGroupExists {
            // A group with the user's name already: no user group (useradd would fail making it).
            opts.append(o.local ? "-n" : "-N")
        }
        let groups = try wantedGroups(o, a)
        if let groups, !groups.isEmpty, !o.local { opts.append("-G \(shellQuote(groups.map(\.given).joined(separator: ",")))") }
        if let comment = o.comment { opts.append("-c \(shellQuote(comment))") }
        if let home = o.home {
            if o.createHome && !paths.homeParentIsFolder {
                // useradd cannot make the folders above the home: made first, as Ansible's create_homedir.
                let parent = (home as NSString).deletingLastPathComponent
                d.commands.append(Command(script: "(umask 022 && mkdir -p -- \(shellQuote(parent)))", secret: nil, what: "making \(parent)", summary: "mkdir -p \(parent)"))
            }
            opts.append("-d \(shellQuote(home))")
        }
        if let shell = o.shell { opts.append("-s \(shellQuote(shell))") }
        if let expires = o.expires, !o.local { opts.append("-e \(shellQuote(expires < 0 ? "" : date(days: days(expires))))") }
        if let inactive = o.inactive { opts.append("-f \(inactive)") }
        if o.createHome {
            if !o.local { opts.append("-m") }
            if let skeleton = o.skeleton { opts.append("-k \(shellQuote(skeleton))") }
            if let umask = o.umask { opts.append("-K \(shellQuote("UMASK=" + umask))") }
        } else {
            opts.append("-M")
        }
        if o.system { opts.append("-r") }
        if let v = o.uidMin { opts.append("-K UID_MIN=\(v)") }
        if let v = o.uidMax { opts.append("-K UID_MAX=\(v)") }
        let command = (o.local ? "luseradd " : "useradd ") + opts.joined(separator: " ") + " -- \(shellQuote(o.name))"
        d.commands.append(Command(script: tool(command, o), secret: nil, what: "creating the user \(o.name)", summary: command))
        if let password = o.password { d.commands.append(setPassword(o.name, (o.passwordLock == true ? "!" : "") + password)) }
        guard o.local else { return }
        if let expires = o.expires {
            let command = "lchage -E \(expires < 0 ? -1 : days(expires)) -- \(shellQuote(o.name))"
            d.commands.append(Command(script: tool(command, o), secret: nil, what: "the expiry of \(o.name)", summary: command))
        }
        for g in groups ?? [] { d.commands.append(lgroupmod("-M", o, g.name)) }
    }

    /// modify_user_usermod: usermod (or lusermod) with what differs, in Ansible's order.
    static func modify(_ o: Options, _ a: Account, _ d: inout Decision) throws {
        let info = a.passwd ?? []
        func field(_ i: Int) -> String { i < info.count ? info[i] : "" }
        var opts: [String] = []
        if let uid = o.uid, field(2) != String(uid) { opts.append("-u \(uid)"); if o.nonUnique { opts.append("-o") } }
        if let group = o.group {
            guard let g = a.group else { throw ModuleFailure("Group \(group) does not exist") }
            if field(3) != g.gid { opts.append("-g \(g.gid)") }
        }
        var add: [String] = [], remove: [String] = []
        if let groups = try wantedGroups(o, a) {
            let current = a.memberOf.map(\.name)
            let wanted = Modules.unique(groups.map(\.name))
            var needed = false
            if groups.isEmpty {
                needed = !current.isEmpty && !o.append
            } else {
                let diff = Set(current).symmetricDifference(wanted)
                if o.append {
                    // usermod's -a (lusermod has none: Ansible reads its --help).
                    if wanted.contains(where: diff.contains) { needed = true; if !o.local { opts.append("-a") } }
                } else {
                    needed = !diff.isEmpty
                }
            }
            if needed {
                if o.local {
                    add = wanted.filter { !current.contains($0) }
                    remove = o.append ? [] : current.filter { !wanted.contains($0) }
                } else {
                    opts.append("-G \(shellQuote(wanted.joined(separator: ",")))")
                }
            }
        }
        if let comment = o.comment, field(4) != comment { opts.append("-c \(shellQuote(comment))") }
        if let home = o.home, field(5) != home { opts.append("-d \(shellQuote(home))"); if o.moveHome { opts.append("-m") } }
        if let shell = o.shell, field(6) != shell { opts.append("-s \(shellQuote(shell))") }
        var localExpiry: Int?
        if let expires = o.expires {
            // No shadow entry reads as 0 (Ansible's `'' or '0'`), an empty field as -1.
            let current = a.shadowNumber(7) ?? 0
            if expires < 0 {
                if current >= 0 { if o.local { localExpiry = -1 } else { opts.append("-e ''") } }
            } else if current < 0 || current != days(expires) {
                if o.local { localExpiry = days(expires) } else { opts.append("-e \(date(days: days(expires)))") }
            }
        }
        // As Ansible's: given, the inactivity period is always passed (and the task changes).
        if let inactive = o.inactive { opts.append("-f \(inactive)") }
        let hash = a.hash
        if o.passwordLock == true && !hash.hasPrefix("!") { opts.append("-L") }
        else if o.passwordLock == false && hash.hasPrefix("!") { opts.append("-U") }
        var newHash: String?
        if o.updatePassword == "always", let password = o.password, hash.drop(while: { $0 == "!" }) != password.drop(while: { $0 == "!" }) {
            opts.removeAll { $0 == "-L" || $0 == "-U" }
            newHash = (o.passwordLock == true ? "!" : "") + password
        }
        if !opts.isEmpty {
            let command = (o.local ? "lusermod " : "usermod ") + opts.joined(separator: " ") + " -- \(shellQuote(o.name))"
            d.commands.append(Command(script: tool(command, o), secret: nil, what: "changing the user \(o.name)", summary: command))
        }
        if let newHash { d.commands.append(setPassword(o.name, newHash)) }
        if let localExpiry {
            let command = "lchage -E \(localExpiry) -- \(shellQuote(o.name))"
            d.commands.append(Command(script: tool(command, o), secret: nil, what: "the expiry of \(o.name)", summary: command))
        }
        for g in add { d.commands.append(lgroupmod("-M", o, g)) }
        for g in remove { d.commands.append(lgroupmod("-m", o, g)) }
    }

    /// The `groups` asked for, each found (Ansible fails on the first that is not), with its
    /// name and the text given.
    static func wantedGroups(_ o: Options, _ a: Account) throws -> [(given: String, name: String)]? {
        guard let groups = o.groups else { return nil }
        return try zip(groups, a.groups).map { given, found in
            guard let found else { throw ModuleFailure("Group \(given) does not exist") }
            return (given, found.name)
        }
    }

    /// ssh_key_gen: the key made unless one is there (`force` replaces it), then its fingerprint.
    static func sshKey(_ o: Options, _ a: Account, _ paths: Paths, home: String, homeExists: Bool, check: Bool, _ d: inout Decision) throws {
        let key = keyPath(o, home: home), pub = key + ".pub"
        d.data["ssh_key_file"] = .string(key)
        d.data["ssh_fingerprint"] = .string(paths.keyExists ? paths.fingerprint : "")
        d.data["ssh_public_key"] = paths.publicKey.map(Value.string) ?? .null
        d.keyPath = key
        if !o.sshFile.hasPrefix("/") && !homeExists && !check {
            throw ModuleFailure("User \(o.name) home directory does not exist")
        }
        let folder = (key as NSString).deletingLastPathComponent
        if !paths.keyFolderExists && check { d.changed = true; return }
        // A key file there already: left (warned), or replaced with force.
        var replaced: [Bool] = []
        for (exists, kind, path) in [(paths.keyExists, "private", key), (paths.publicKeyExists, "public", pub)] {
            if exists && !o.force {
                d.warnings.append("Found existing ssh key \(kind) file \"\(path)\", no force, so skipping ssh-keygen generation")
                return
            }
            if exists { d.warnings.append("Overwriting existing ssh key \(kind) file \"\(path)\"") }
            replaced.append(exists)
        }
        let (overwrite, removePub) = (replaced[0], replaced[1])
        // With a passphrase, ssh-keygen asks before overwriting and Ansible answers nothing: the
        // private key stays (and, as Ansible's, its public key is gone).
        let regenerates = !(overwrite && o.sshKeyPassphrase != nil)
        if check { d.changed = d.changed || regenerates; return }
        let comment = o.sshKeyComment ?? "ansible-generated on \(a.hostname)"
        var keygen = "ssh-keygen -t \(shellQuote(o.sshKeyType))" + (o.sshKeyBits > 0 ? " -b \(o.sshKeyBits)" : "") + " -C \(shellQuote(comment)) -f \"$f\""
        var s = "f=\(shellQuote(key)); " + ownerScript(o.name)
        s += "if [ ! -e \(shellQuote(folder)) ]; then mkdir -m 700 -- \(shellQuote(folder)) && chown \"$u:$g\" -- \(shellQuote(folder)) || { echo \(shellQuote("Failed to create \(folder)")) >&2; exit 1; }; fi\n"
        if removePub { s += "rm -f -- \"$f.pub\"\n" }
        guard regenerates else {
            d.commands.append(Command(script: s, secret: nil, what: "the SSH key of \(o.name)", summary: "rm -f \(pub)"))
            return
        }
        var secret: String?
        if let passphrase = o.sshKeyPassphrase {
            // The passphrase from fd 3 into the environment of an askpass helper ssh-keygen runs
            // (never on a command line); the helper holds no secret and is removed after.
            let bytes = Array(passphrase.utf8).count
            s += "a=$(mktemp) || exit 1; trap 'rm -f -- \"$a\"' EXIT; printf '#!/bin/sh\\nprintf \"%%s\\\\n\" \"$PARC_SSH_PASSPHRASE\"\\n' > \"$a\" && chmod 700 \"$a\" || exit 1\n"
            s += "PARC_SSH_PASSPHRASE=$(head -c \(bytes) <&3) SSH_ASKPASS=\"$a\" SSH_ASKPASS_REQUIRE=force \(keygen) </dev/null >/dev/null || exit $?\n"
            secret = passphrase
        } else {
            keygen += " -N ''"
            s += (overwrite ? "echo y | " : "") + keygen + (overwrite ? "" : " </dev/null") + " >/dev/null || exit $?\n"
        }
        s += "chown \"$u:$g\" -- \"$f\" \"$f.pub\""
        d.changed = true
        d.commands.append(Command(script: s, secret: secret, what: "making the SSH key of \(o.name)", summary: "ssh-keygen -t \(o.sshKeyType) -f \(key)"))
    }

    /// set_password_expire: chage for the ageing fields that differ (all asked, for a new account).
    static func passwordAgeing(_ o: Options, _ a: Account, exists: Bool, check: Bool, _ d: inout Decision) {
        var opts: [String] = []
        for (flag, value, index) in [("-m", o.passwordExpireMin, 3), ("-M", o.passwordExpireMax, 4), ("-W", o.passwordExpireWarn, 5)] {
            guard let value else { continue }
            if exists {
                guard let current = a.shadowNumber(index) else { return }  // no shadow entry: nothing Ansible can compare
                if current == value { continue }
            }
            opts.append("\(flag) \(value)")
        }
        guard !opts.isEmpty else { return }
        d.changed = true
        if check { return }
        let command = "chage \(opts.joined(separator: " ")) -- \(shellQuote(o.name))"
        d.commands.append(Command(script: command, secret: nil, what: "the password ageing of \(o.name)", summary: command))
    }

    /// create_homedir and chown_homedir: the skeleton copied (links kept as links) or an empty
    /// folder, its mode from login.defs (HOME_MODE, else UMASK, else 0755), everything but links
    /// given to the user.
    static func homeScript(_ o: Options, home: String) -> String {
        let h = shellQuote(home), skel = shellQuote(o.skeleton ?? "/etc/skel")
        var s = "h=\(h); s=\(skel); " + ownerScript(o.name)
        s += "if [ ! -e \"$h\" ]; then\n"
        s += "  if [ -e \"$s\" ] && [ \"$s\" != /dev/null ]; then mkdir -p -- \"$(dirname -- \"$h\")\" && cp -RP --preserve=mode,timestamps -- \"$s\" \"$h\" || exit 1\n"
        s += "  else mkdir -p -- \"$h\" || exit 1; fi\n"
        s += "  if [ -e /etc/login.defs ]; then m=$(awk 'function oct(t,  i, v) { v = 0; for (i = 1; i <= length(t); i++) v = v * 8 + substr(t, i, 1); return v }"
        s += " BEGIN { m = 493 } /^HOME_MODE[ \\t]+[0-9]+$/ { m = oct($2); exit } /^UMASK[ \\t]+[0-9]+$/ { m = 511 - oct($2) % 512 } END { printf \"%o\", m }' /etc/login.defs) && chmod \"$m\" -- \"$h\" || exit 1; fi\n"
        s += "fi\n"
        s += "chown \"$u:$g\" -- \"$h\" && find \"$h\" -mindepth 1 ! -type l -exec chown \"$u:$g\" -- {} +"
        return s
    }

    /// The result step: the passwd entry, then (with a key) its fingerprint and public key.
    static func resultScript(_ o: Options, keyPath: String?) -> String {
        var s = "getent passwd -- \(shellQuote(o.name)) | head -n 1"
        if let keyPath { s += "; " + keyReadScript(keyPath) }
        return s
    }

    /// A key's fingerprint line (empty without the key), then its public key (`parc-none` when unreadable).
    static func keyReadScript(_ key: String) -> String {
        let k = shellQuote(key), pub = shellQuote(key + ".pub")
        return "if [ -e \(k) ]; then ssh-keygen -l -f \(k) 2>&1 | head -n 1; else echo; fi; if [ -r \(pub) ]; then head -n 1 \(pub); else echo parc-none; fi"
    }

    /// `u` and `g`: the account's uid and gid as the device has them when the script runs.
    static func ownerScript(_ name: String) -> String {
        "e=$(getent passwd -- \(shellQuote(name))) || exit 1; u=$(printf '%s' \"$e\" | cut -d: -f3); g=$(printf '%s' \"$e\" | cut -d: -f4)\n"
    }

    /// Ansible's result fields from a passwd entry: uid, group (its gid), comment, home, shell.
    static func fill(_ data: inout [String: Value], passwd: String) {
        let f = passwd.trimmed.components(separatedBy: ":")
        guard f.count >= 7 else { return }
        data["uid"] = Int(f[2]).map(Value.int) ?? .string(f[2])
        data["group"] = Int(f[3]).map(Value.int) ?? .string(f[3])
        data["comment"] = .string(f[4])
        data["home"] = .string(f[5])
        data["shell"] = .string(f[6])
    }

    /// The hash goes to `chpasswd -e` on standard input: never on a command line, where the
    /// device's process list would show it (`useradd -p HASH` would).
    static func setPassword(_ name: String, _ hash: String) -> Command {
        let line = "\(name):\(hash)\n"
        return Command(script: "head -c \(Array(line.utf8).count) <&3 | chpasswd -e", secret: line, what: "setting the password of \(name)", summary: "chpasswd -e")
    }

    static func lgroupmod(_ flag: String, _ o: Options, _ group: String) -> Command {
        let command = "lgroupmod \(flag) \(shellQuote(o.name)) -- \(shellQuote(group))"
        return Command(script: tool(command, o), secret: nil, what: "the groups of \(o.name)", summary: command)
    }

    /// libuser's tools fail in Ansible's words when they are missing.
    static func tool(_ command: String, _ o: Options) -> String {
        guard o.local else { return command }
        let name = String(command.prefix { $0 != " " })
        return "command -v \(name) >/dev/null || { echo \"Failed to find required executable \\\"\(name)\\\" in paths: $PATH\" >&2; exit 127; }; " + command
    }

    /// Days since the epoch of a time in seconds (floored, as Ansible's `// 86400`).
    static func days(_ seconds: Double) -> Int { Int((seconds / 86400).rounded(.down)) }

    /// `YYYY-MM-DD` of a day since the epoch (UTC), as time.strftime of time.gmtime.
    static func date(days: Int) -> String {
        // Howard Hinnant's days-to-civil.
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return String(format: "%04d-%02d-%02d", year, month, day)
    }
}
