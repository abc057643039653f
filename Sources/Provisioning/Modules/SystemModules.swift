import Foundation
import ParcCore
import Templating

/// `apt`: packages present, absent or latest; cache update; whole-system upgrade.
enum AptModule {
    static let spec = ModuleSpec(name: "apt", arguments: ["name", "pkg", "state", "update_cache", "upgrade", "autoremove", "cache_valid_time",
                                                          "install_recommends", "allow_downgrade", "purge", "force_apt_get", "deb", "force", "dpkg_options", "autoclean",
                                                          "policy_rc_d", "package", "allow_unauthenticated", "allow_change_held_packages", "clean", "default_release",
                                                          "fail_on_autoremove", "lock_timeout", "only_upgrade", "update_cache_retries", "update_cache_retry_max_delay"]) { c in
        _ = try policyRcD(c)
        if let deb = c.string("deb") { return try debPlan(c, deb) }
        let names = packages(c.args["name"] ?? c.args["pkg"] ?? c.args["package"])
        let validFor = Int(c.args["cache_valid_time"]?.description ?? "") ?? 0
        let updates = c.bool("update_cache") || validFor > 0
        let onlyUpdate = names.isEmpty && upgradeVerb(c) == nil
        // `clean`: apt-get clean first (never in check mode); with nothing else asked, that is the task.
        if c.bool("clean") && c.phase == 0 {
            if onlyUpdate && !updates { return Plan(steps: c.check ? [] : [c.run("apt-get clean", what: "apt-get clean")], changed: true) }
            if !c.check {
                var p = Plan(steps: [c.run("apt-get clean", what: "apt-get clean")], changed: false)
                p.again = true
                return p
            }
        }
        let state = c.string("state") ?? "present"
        // Ansible's choices (2.17 and 2.19 alike: `installed` and `removed` are refused).
        guard ["present", "absent", "latest"].contains(state) else {
            throw ModuleFailure("value of state must be one of: absent, build-dep, fixed, latest, present, got: \(state)"
                                + (["build-dep", "fixed"].contains(state) ? " (parc does present, absent and latest)" : ""))
        }
        let env = "DEBIAN_FRONTEND=noninteractive"
        // Phase 0: the cache update, before anything reads candidates (not in check mode), unless
        // `cache_valid_time` says the cache is fresh enough (its time as Ansible reads it: apt's
        // update-success stamp, else the lists folder). Setting cache_valid_time implies update_cache.
        let updatePhase = c.bool("clean") && !c.check ? 1 : 0
        if updates && c.phase == updatePhase {
            if validFor > 0 {
                let age = try c.fact(.command("stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null || stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0; date +%s"))
                let times = age.stdoutText.split(separator: "\n").compactMap { Int($0.trimmed) }
                if times.count == 2, times[0] + validFor >= times[1] {
                    if onlyUpdate { var p = Plan(changed: false); p.result.data["cache_updated"] = .bool(false); return p }
                    return try aptPlan(c, names: names, state: state, env: env)
                }
            }
            // As Ansible's: in check mode the cache counts as updated (nothing is fetched).
            if c.check {
                if onlyUpdate { var p = Plan(changed: true); p.result.data["cache_updated"] = .bool(true); return p }
                return try aptPlan(c, names: names, state: state, env: env)
            }
            var p = Plan(steps: [c.run("\(env) apt-get update -q", what: "apt-get update")], changed: false)
            p.again = true
            return p
        }
        if onlyUpdate && updates && !c.bool("autoremove") && !c.bool("autoclean") {
            // The update ran in the phase before: that is the task's change.
            var p = Plan(changed: true)
            p.result.data["cache_updated"] = .bool(true)
            return p
        }
        return try aptPlan(c, names: names, state: state, env: env)
    }

    /// `deb=`: a package file on the device (or a URL, fetched there first) installed with dpkg
    /// as Ansible's apt does it (dpkg_options, `force` adding --force-all), unless that very
    /// version is installed already.
    static func debPlan(_ c: ModuleContext, _ deb: String) throws -> Plan {
        let remote = deb.hasPrefix("http://") || deb.hasPrefix("https://") || deb.hasPrefix("ftp://")
        let fetch = remote ? "f=$(mktemp --suffix=.deb) || exit 1; trap 'rm -f -- \"$f\"' EXIT; curl -fsSL -o \"$f\" \(shellQuote(deb)) || exit 2; " : "f=\(shellQuote(deb)); "
        let probe = try c.fact(Fact(fetch + "[ -f \"$f\" ] || { echo parc-no-deb; exit 0; }; p=$(dpkg-deb -f \"$f\" Package) && v=$(dpkg-deb -f \"$f\" Version) || exit 3; "
                                    + "echo \"$p\"; echo \"$v\"; dpkg-query -W -f='${db:Status-Abbrev}|${Version}\\n' -- \"$p\" 2>/dev/null || true",
                                    paths: remote ? nil : [deb]))
        let lines = probe.stdoutText.split(separator: "\n").map(String.init)
        if lines.first == "parc-no-deb" { throw ModuleFailure("Unable to install package: \(deb) does not exist") }
        guard probe.succeeded, lines.count >= 2 else { throw ModuleFailure("Unable to install package: \(deb) is not a package file (\(probe.stderrText.trimmed))") }
        let installed = lines.count > 2 ? lines[2].split(separator: "|").map(String.init) : []
        var p = Plan(changed: false)
        if installed.count == 2, isInstalled(installed[0]), installed[1] == lines[1], !c.bool("force") { return p }
        let options = (c.string("dpkg_options") ?? "force-confdef,force-confold").split(separator: ",").map { "--" + $0.trimmed }.joined(separator: " ")
        let install = fetch + withPolicyRcD("DEBIAN_FRONTEND=noninteractive dpkg \(options)\(c.bool("force") ? " --force-all" : "") -i \"$f\"", try policyRcD(c))
        p.steps = [c.run(install, what: "dpkg -i \(deb)")]
        p.result.changed = true
        p.result.msg = "\(lines[0]) \(lines[1]) installed from \(deb)"
        return p
    }

    static func aptPlan(_ c: ModuleContext, names: [String], state: String, env: String) throws -> Plan {
        var p = Plan(changed: false)
        if let verb = upgradeVerb(c) {
            let simulated = try c.fact(.command("\(env) apt-get -s -q \(verb)"))
            guard simulated.succeeded else { throw ModuleFailure("apt-get -s \(verb) failed (exit \(simulated.exitStatus)): \(simulated.stderrText.trimmed)") }
            let count = simulated.stdoutText.split(separator: "\n").filter { $0.hasPrefix("Inst ") }.count
            p.result.changed = count > 0
            p.result.msg = "\(count) package(s) to upgrade"
            if count > 0 { p.steps.append(c.run("\(env) apt-get -y -q -o Dpkg::Options::=--force-confold \(verb)", what: "apt-get \(verb)")) }
            if names.isEmpty { try cleanups(c, env: env, into: &p); return p }
        }
        guard !names.isEmpty else { try cleanups(c, env: env, into: &p); return p }
        let specs = try expand(names.map(PackageSpec.init), c)
        var names = Modules.unique(specs.map(\.name))
        let query = "dpkg-query -W -f='${Package}\\t${db:Status-Abbrev}\\t${Version}\\n' -- \(names.map(shellQuote).joined(separator: " ")) 2>/dev/null; true"
        var installed = parseInstalled(try c.fact(.command(query)).stdoutText)
        var candidates: [String: String] = [:]
        let missing = names.filter { installed[$0] == nil }
        if state == "latest" || (!["absent", "removed"].contains(state) && !missing.isEmpty) {
            candidates = parseCandidates(try c.fact(.command("apt-cache policy -- \((state == "latest" ? names : missing).map(shellQuote).joined(separator: " ")) 2>/dev/null")).stdoutText)
            if !["absent", "removed"].contains(state) {
                // A name no package has may be a virtual one: satisfied when its only provider is
                // installed, else left to apt-get to choose; with no provider either, Ansible's
                // failure (in check mode too).
                let unknown = missing.filter { (candidates[$0] ?? "(none)") == "(none)" }
                let providers = unknown.isEmpty ? [:] : parseProviders(try c.fact(.command(providersQuery(unknown))).stdoutText)
                for name in unknown {
                    let offered = providers[name] ?? []
                    if offered.isEmpty { throw ModuleFailure("No package matching '\(name)' is available") }
                    if offered.count == 1, offered[0].installed { installed[name] = "virtual"; candidates[name] = nil }
                }
            }
        }
        // A version asked for (`name=2.*` as a pattern of versions, `name>=2.10`): an installed one
        // that fits is enough; else the newest available that fits is installed as `name=version`.
        let versioned = specs.filter { $0.comparison != nil }
        if !versioned.isEmpty {
            let absent = ["absent", "removed"].contains(state)
            let toFind = versioned.filter { !$0.fits(installed[$0.name]) }
            let available = absent || toFind.isEmpty ? [:] : parseMadison(try c.fact(.command("apt-cache madison -- \(Modules.unique(toFind.map(\.name)).map(shellQuote).joined(separator: " ")) 2>/dev/null")).stdoutText)
            for spec in versioned {
                names.removeAll { $0 == spec.name }
                if absent { if spec.fits(installed[spec.name]) { names.append(spec.name) }; continue }
                if spec.fits(installed[spec.name]) { continue }
                guard let version = (available[spec.name] ?? []).first(where: { spec.fits($0) }) else {
                    throw ModuleFailure("No package matching '\(spec.text)' is available")
                }
                names.append("\(spec.name)=\(version)")
            }
        }
        // only_upgrade: what is not installed is left alone.
        let wanted = c.bool("only_upgrade") && !["absent", "removed"].contains(state) ? names.filter { installed[$0] != nil } : names
        var commands = plan(names: wanted, state: state, installed: installed, candidates: candidates,
                            recommends: c.args["install_recommends"]?.truthy, purge: c.bool("purge"))
        commands = commands.map { withFlags($0, c) }
        p.result.changed = p.result.changed || !commands.isEmpty
        if !commands.isEmpty { p.result.msg = commands.joined(separator: "; ") }
        let policy = try policyRcD(c)
        p.steps += commands.map { command in
            // As Ansible's apt, apt-get's output is the result's (its errors: held packages…).
            var step = c.run(withPolicyRcD("\(env) \(command)", policy), what: command)
            step.reportsOutput = true
            return step
        }
        try cleanups(c, env: env, into: &p)
        return p
    }

    /// apt-get's verb for Ansible's `upgrade` (`dist` / `full`, `safe` / `yes`), nil for none.
    static func upgradeVerb(_ c: ModuleContext) -> String? {
        guard let upgrade = c.string("upgrade"), upgrade != "no", Value.string(upgrade).truthy || ["dist", "full", "safe"].contains(upgrade) else { return nil }
        return upgrade == "dist" || upgrade == "full" ? "dist-upgrade" : "upgrade"
    }

    /// The flags Ansible's apt adds to apt-get's install and remove: `allow_downgrade`,
    /// `allow_unauthenticated`, `allow_change_held_packages`, `fail_on_autoremove`, `only_upgrade`,
    /// `default_release`, `lock_timeout`.
    static func withFlags(_ command: String, _ c: ModuleContext) -> String {
        let install = command.hasPrefix("apt-get install ")
        var flags = ""
        if let timeout = c.args["lock_timeout"].flatMap({ $0 == .null ? nil : $0.description }) { flags += " -o DPkg::Lock::Timeout=\(shellQuote(timeout))" }
        if install, let release = c.string("default_release") { flags += " -t \(shellQuote(release))" }
        if install && c.bool("only_upgrade") { flags += " --only-upgrade" }
        if install && c.bool("fail_on_autoremove") { flags += " --no-remove" }
        if install && c.bool("allow_unauthenticated") { flags += " --allow-unauthenticated" }
        if install && c.bool("allow_downgrade") { flags += " --allow-downgrades" }
        if c.bool("allow_change_held_packages") { flags += " --allow-change-held-packages" }
        guard !flags.isEmpty, let range = command.range(of: " -y -q") else { return command }
        return command.replacingCharacters(in: range, with: " -y -q" + flags)
    }

    /// A package as a task names it: `name`, `name=version` (a pattern of versions) or `name>=version`.
    struct PackageSpec: Equatable {
        var name: String
        var comparison: String?
        var version: String?

        /// As Ansible's package_split.
        init(_ text: String) {
            if let r = text.range(of: ">=") ?? text.range(of: "=") {
                name = String(text[..<r.lowerBound])
                comparison = String(text[r])
                version = String(text[r.upperBound...])
            } else {
                name = text
            }
        }

        var text: String { name + (comparison ?? "") + (version ?? "") }

        /// Whether `installed` (a version, nil: none) is what it asks for.
        func fits(_ installed: String?) -> Bool {
            guard let installed else { return false }
            guard let comparison, let version else { return true }
            return comparison == "=" ? AptModule.fnmatch(version, installed) : AptModule.compareVersions(installed, version) >= 0
        }
    }

    /// Names written as fnmatch patterns (`hel?o`, `python3-*`) become the packages apt knows
    /// that match them (native ones only, unless the pattern names an architecture), as Ansible's
    /// expand_pkgspec_from_fnmatches; a pattern that matches nothing fails in its words.
    static func expand(_ specs: [PackageSpec], _ c: ModuleContext) throws -> [PackageSpec] {
        let patterns = specs.filter { $0.name.contains(where: { "*?[]!".contains($0) }) }
        guard !patterns.isEmpty else { return specs }
        let known = try c.fact(.command("apt-cache pkgnames 2>/dev/null")).stdoutText.split(separator: "\n").map(String.init)
        return try specs.flatMap { spec -> [PackageSpec] in
            guard spec.name.contains(where: { "*?[]!".contains($0) }) else { return [spec] }
            let matches = known.filter { ($0.contains(":") == false || spec.name.contains(":")) && fnmatch(spec.name, $0) }.sorted()
            if matches.isEmpty { throw ModuleFailure("No package(s) matching '\(spec.name)' available") }
            return matches.map(PackageSpec.init)
        }
    }

    /// Python's fnmatch.fnmatch on Linux (case kept): glibc's fnmatch without flags.
    static func fnmatch(_ pattern: String, _ text: String) -> Bool { Glibc.fnmatch(pattern, text, 0) == 0 }

    /// Available versions per package, newest first, from apt-cache madison.
    static func parseMadison(_ output: String) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for line in output.split(separator: "\n") {
            let f = line.split(separator: "|").map { $0.trimmed }
            guard f.count >= 2 else { continue }
            if !(out[f[0]] ?? []).contains(f[1]) { out[f[0], default: []].append(f[1]) }
        }
        return out
    }

    /// Debian's version order (dpkg --compare-versions): epoch, then upstream and revision, each
    /// compared as runs of non-digits (`~` before everything, letters before other signs) and numbers.
    static func compareVersions(_ a: String, _ b: String) -> Int {
        func parts(_ v: String) -> (Int, String, String) {
            var rest = Substring(v), epoch = 0
            if let colon = rest.firstIndex(of: ":"), let e = Int(rest[..<colon]) { epoch = e; rest = rest[rest.index(after: colon)...] }
            if let dash = rest.lastIndex(of: "-") { return (epoch, String(rest[..<dash]), String(rest[rest.index(after: dash)...])) }
            return (epoch, String(rest), "")
        }
        func order(_ c: Character?) -> Int {
            guard let c else { return 0 }
            if c == "~" { return -1 }
            if c.isLetter { return Int(c.asciiValue ?? 0) }
            return Int(c.asciiValue ?? 0) + 256
        }
        func compare(_ x: String, _ y: String) -> Int {
            let a = Array(x), b = Array(y)
            var i = 0, j = 0
            while i < a.count || j < b.count {
                while (i < a.count && !a[i].isNumber) || (j < b.count && !b[j].isNumber) {
                    let ca: Character? = i < a.count && !a[i].isNumber ? a[i] : nil
                    let cb: Character? = j < b.count && !b[j].isNumber ? b[j] : nil
                    let d = order(ca) - order(cb)
                    if d != 0 { return d < 0 ? -1 : 1 }
                    if ca != nil { i += 1 }
                    if cb != nil { j += 1 }
                }
                var na = 0, nb = 0
                while i < a.count, let d = a[i].wholeNumberValue { na = na * 10 + d; i += 1 }
                while j < b.count, let d = b[j].wholeNumberValue { nb = nb * 10 + d; j += 1 }
                if na != nb { return na < nb ? -1 : 1 }
            }
            return 0
        }
        let (ea, ua, ra) = parts(a), (eb, ub, rb) = parts(b)
        if ea != eb { return ea < eb ? -1 : 1 }
        let u = compare(ua, ub)
        return u != 0 ? u : compare(ra, rb)
    }

    /// For each name, the packages that provide it and whether each is installed.
    static func providersQuery(_ names: [String]) -> String {
        "for n in \(names.map(shellQuote).joined(separator: " ")); do echo \"== $n\"; apt-cache showpkg -- \"$n\" 2>/dev/null | sed -n '/^Reverse Provides:/,$p' | tail -n +2 | awk 'NF { print $1 }' | sort -u | "
            + "while read -r p; do echo \"$p $(dpkg-query -W -f='${db:Status-Abbrev}' -- \"$p\" 2>/dev/null)\"; done; done"
    }

    static func parseProviders(_ output: String) -> [String: [(name: String, installed: Bool)]] {
        var out: [String: [(name: String, installed: Bool)]] = [:]
        var current: String?
        for line in output.split(separator: "\n").map(String.init) {
            if line.hasPrefix("== ") { current = String(line.dropFirst(3)); out[current!] = []; continue }
            guard let current else { continue }
            let f = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard let name = f.first, !out[current]!.contains(where: { $0.name == name }) else { continue }
            out[current]!.append((name, f.count > 1 && isInstalled(f[1])))
        }
        return out
    }

    /// `policy_rc_d`: the exit code /usr/sbin/policy-rc.d gives while apt works (101: services
    /// the packages bring are not started), the previous file put back after, as Ansible's apt.
    static func policyRcD(_ c: ModuleContext) throws -> Int? {
        guard let v = c.args["policy_rc_d"], v != .null else { return nil }
        guard let code = Int(v.description), (0...255).contains(code) else { throw ModuleFailure("policy_rc_d is an exit code (0 to 255), not '\(v.description)'") }
        return code
    }

    static func withPolicyRcD(_ command: String, _ code: Int?) -> String {
        guard let code else { return command }
        let f = "/usr/sbin/policy-rc.d"
        return "b=; if [ -e \(f) ]; then b=$(mktemp \(f)-backup-XXXXXX) && mv -f \(f) \"$b\" || exit 1; fi; "
            + "trap 'rm -f \(f); [ -z \"$b\" ] || mv -f \"$b\" \(f)' EXIT; "
            + "printf '#!/bin/sh\\nexit \(code)\\n' > \(f) && chmod 0755 \(f) && \(command)"
    }

    /// `autoremove` and `autoclean` as Ansible's apt runs them, after the packages: changed when
    /// apt-get says it removed or deleted something (its simulation in check mode).
    static func cleanups(_ c: ModuleContext, env: String, into p: inout Plan) throws {
        let ops = [("autoremove", "The following packages will be REMOVED"), ("autoclean", "Del ")].filter { c.bool($0.0) }
        guard !ops.isEmpty else { return }
        if c.check {
            for (op, marker) in ops where try c.fact(.command("\(env) apt-get -s -q \(op)")).stdoutText.contains(marker) { p.result.changed = true }
            return
        }
        let purge = c.bool("purge") ? " --purge" : ""
        var step = c.run(ops.map { "\(env) apt-get -y -q \($0.0)\($0.0 == "autoremove" ? purge : "")" }.joined(separator: " && "),
                         what: ops.map { "apt-get \($0.0)" }.joined(separator: ", "))
        step.isResult = true
        p.steps.append(step)
        let markers = ops.map(\.1), names = ops.map(\.0).joined(separator: ", ")
        p.finish = { r, out in
            guard out.succeeded else {
                r.failed = true
                r.msg = "apt-get \(names) failed: \(out.stderrText.trimmed)"
                return
            }
            if markers.contains(where: { out.stdoutText.contains($0) }) { r.changed = true }
        }
    }

    /// `dpkg_selections`: a package's selection (install, hold, deinstall, purge).
    static let dpkgSelections = ModuleSpec(name: "dpkg_selections", arguments: ["name", "selection"], required: ["name", "selection"]) { c in
        let name = try c.required("name"), selection = try c.required("selection")
        guard ["install", "hold", "deinstall", "purge"].contains(selection) else {
            throw ModuleFailure("selection '\(selection)' is not one of install, hold, deinstall, purge")
        }
        let answer = try c.fact(.command("dpkg --get-selections -- \(shellQuote(name))"))
        guard answer.succeeded else { throw ModuleFailure("dpkg --get-selections failed: \(answer.stderrText.trimmed)") }
        let current = answer.stdoutText.split(whereSeparator: \.isWhitespace).dropFirst().first.map(String.init) ?? "not present"
        var p = Plan(changed: current != selection)
        p.result.data["before"] = .string(current)
        p.result.data["after"] = .string(selection)
        if p.result.changed {
            let line = Array("\(name) \(selection)\n".utf8)
            p.steps = [c.run("head -c \(line.count) <&3 | dpkg --set-selections", input: line, what: "dpkg --set-selections")]
        }
        return p
    }

    static func packages(_ value: Value?) -> [String] {
        switch value {
        case .list(let l)?: return l.map(\.description).filter { !$0.isEmpty }
        case .some(let v): return v.description.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty }
        case nil: return []
        }
    }

    /// Whether dpkg's status abbreviation (`ii`, `hi` held, `rc`…) says installed: its second
    /// letter, the current state — a held package (`hi`) is installed.
    static func isInstalled(_ status: String) -> Bool { status.count >= 2 && status[status.index(after: status.startIndex)] == "i" }

    /// Installed packages and their versions, from dpkg-query.
    static func parseInstalled(_ output: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if f.count >= 3, isInstalled(f[1]) { out[f[0].split(separator: ":").first.map(String.init) ?? f[0]] = f[2] }
        }
        return out
    }

    /// Candidate versions, from apt-cache policy.
    static func parseCandidates(_ output: String) -> [String: String] {
        var out: [String: String] = [:]
        var current: String? = nil
        for line in output.split(separator: "\n") {
            if !line.hasPrefix(" ") && line.hasSuffix(":") { current = String(line.dropLast()) }
            else if let c = current, line.trimmed.hasPrefix("Candidate:") { out[c] = line.trimmed.dropFirst("Candidate:".count).trimmed }
        }
        return out
    }

    /// The apt-get commands for the wanted state (pure, tested as data).
    static func plan(names: [String], state: String, installed: [String: String], candidates: [String: String], recommends: Bool? = nil,
                     purge: Bool = false) -> [String] {
        let opts = recommends.map { $0 ? " --install-recommends" : " --no-install-recommends" } ?? ""
        switch state {
        case "absent", "removed":
            let present = names.filter { installed[$0] != nil }
            return present.isEmpty ? [] : ["apt-get \(purge ? "purge" : "remove") -y -q -- \(present.map(shellQuote).joined(separator: " "))"]
        case "latest":
            let wanted = names.filter { name in
                guard let have = installed[name] else { return true }
                guard let candidate = candidates[name], candidate != "(none)" else { return false }
                return candidate != have
            }
            return wanted.isEmpty ? [] : ["apt-get install -y -q\(opts) -- \(wanted.map(shellQuote).joined(separator: " "))"]
        default:
            let missing = names.filter { installed[$0] == nil }
            return missing.isEmpty ? [] : ["apt-get install -y -q\(opts) -- \(missing.map(shellQuote).joined(separator: " "))"]
        }
    }
}

/// `service` / `systemd`: started, stopped, restarted, reloaded; enabled or not (systemctl).
enum ServiceModule {
    /// `daemon-reload` is Ansible's alias of daemon_reload.
    static let arguments: Set<String> = ["name", "state", "enabled", "daemon_reload", "daemon-reload"]
    /// What Ansible's systemd module takes besides.
    static let systemdArguments: Set<String> = arguments.union(["unit", "service", "masked", "daemon_reexec", "daemon-reexec", "scope", "no_block", "force"])
    /// service as Ansible's action on a systemd device: its systemd module, the arguments only
    /// other service managers read ignored with Ansible's warning; `use` names systemd or nothing.
    static let service = ModuleSpec(name: "service", arguments: arguments.union(["pattern", "runlevel", "sleep", "arguments", "args", "use"]),
                                    required: ["name"]) { c in
        let use = (c.string("use") ?? "auto").lowercased()
        guard ["auto", "systemd"].contains(use) else {
            throw ModuleFailure("service: use '\(use)' is not supported by parc (its service module drives systemd)")
        }
        var own = c
        own.args["use"] = nil
        var ignored: [String] = []
        for key in ["pattern", "runlevel", "sleep", "arguments", "args"] where own.args[key] != nil {
            own.args[key] = nil
            ignored.append("Ignoring \"\(key)\" as it is not used in \"systemd\"")
        }
        var p = try plan(own)
        p.result.notices = ignored
        return p
    }
    static let systemd = ModuleSpec(name: "systemd", arguments: systemdArguments) { try plan($0) }

    static func plan(_ c: ModuleContext) throws -> Plan {
        var p = Plan(changed: false)
        let user = c.string("scope") == "user" ? " --user" : c.string("scope") == "global" ? " --global" : ""
        if let scope = c.string("scope"), !["system", "user", "global"].contains(scope) {
            throw ModuleFailure("value of scope must be one of: system, user, global, got: \(scope)")
        }
        if c.bool("daemon_reload") || c.bool("daemon-reload") { p.steps.append(c.run("systemctl\(user) daemon-reload", what: "systemctl daemon-reload")) }
        if c.bool("daemon_reexec") || c.bool("daemon-reexec") { p.steps.append(c.run("systemctl\(user) daemon-reexec", what: "systemctl daemon-reexec")) }
        p.result.changed = !p.steps.isEmpty
        guard let name = c.string("name") ?? c.string("unit") ?? c.string("service") else {
            if p.steps.isEmpty { throw ModuleFailure("one of the following is required: state, enabled, masked, daemon_reload, daemon_reexec") }
            return p
        }
        if c.args["state"] == nil && c.args["enabled"] == nil && c.args["masked"] == nil && p.steps.isEmpty {
            throw ModuleFailure("one of the following is required: state, enabled, masked, daemon_reload, daemon_reexec")
        }
        let n = shellQuote(name)
        let probe = try c.fact(.command("command -v systemctl >/dev/null || { echo no-systemctl; exit 0; }; systemctl\(user) is-active -- \(n); "
            + "echo \"$(systemctl\(user) is-enabled -- \(n) 2>/dev/null)\"; systemctl\(user) show -p LoadState --value -- \(n) 2>/dev/null"))
        let lines = probe.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.first == "no-systemctl" { throw ModuleFailure("systemctl is not on this device: parc's service module needs systemd") }
        let active = lines.first ?? "unknown", enabledState = lines.count > 1 ? lines[1] : "", load = lines.count > 2 ? lines[2] : ""
        // A unit systemd does not know (and no init script): Ansible's words.
        if load == "not-found" && (c.args["state"] != nil || c.args["enabled"] != nil) {
            throw ModuleFailure("Could not find the requested service \(name): host")
        }
        let commands = try plan(name: name, state: c.string("state"), enabled: c.args["enabled"].map(\.truthy), masked: c.args["masked"].map(\.truthy),
                                active: active, enabledState: enabledState)
        let noBlock = c.bool("no_block") ? " --no-block" : ""
        let systemctl = commands.map { $0.replacingOccurrences(of: "systemctl ", with: "systemctl\(user)\(noBlock) ") }
        if !commands.isEmpty { p.result.changed = true; p.result.msg = systemctl.joined(separator: "; ") }
        p.steps += systemctl.map { c.run($0, what: $0) }
        // As Ansible's result: the name, the state (restarted and reloaded are "started"), enabled.
        p.result.data["name"] = .string(name)
        if let state = c.string("state") { p.result.data["state"] = .string(["restarted", "reloaded"].contains(state) ? "started" : state) }
        if let enabled = c.args["enabled"] { p.result.data["enabled"] = .bool(enabled.truthy) }
        p.result.data["status"] = .map(["ActiveState": .string(active), "LoadState": .string(load), "UnitFileState": .string(enabledState)])
        return p
    }

    /// The systemctl commands for the wanted state, in Ansible's order (mask, enable, state),
    /// with Ansible's rules (pure, tested as data): a unit only `enabled-runtime`, `indirect` or
    /// `alias` is enabled again; restarted or reloaded starts a unit that is not running.
    static func plan(name: String, state: String?, enabled: Bool?, masked: Bool? = nil, active: String, enabledState: String) throws -> [String] {
        let n = shellQuote(name)
        var out: [String] = []
        if let masked, masked != (enabledState == "masked") { out.append("systemctl \(masked ? "mask" : "unmask") -- \(n)") }
        if let enabled {
            let isEnabled = ["enabled", "static", "generated", "transient"].contains(enabledState)
            if enabled != isEnabled { out.append("systemctl \(enabled ? "enable" : "disable") -- \(n)") }
        }
        let running = ["active", "activating", "reloading"].contains(active)
        switch state {
        case nil: break
        case "started": if !running { out.append("systemctl start -- \(n)") }
        case "stopped": if running || active == "deactivating" { out.append("systemctl stop -- \(n)") }
        case "restarted": out.append("systemctl \(running ? "restart" : "start") -- \(n)")
        case "reloaded": out.append("systemctl \(running ? "reload" : "start") -- \(n)")
        case let s?: throw ModuleFailure("value of state must be one of: reloaded, restarted, started, stopped, got: \(s)")
        }
        return out
    }
}

/// `hostname`: the running name and /etc/hostname.
enum HostnameModule {
    static let spec = ModuleSpec(name: "hostname", arguments: ["name", "use"], required: ["name"]) { c in
        let name = try Hostname.normalize(try c.required("name"), field: "name")
        let probe = try c.fact(.command("hostname; cat /etc/hostname 2>/dev/null || echo; grep -c \"^127.0.1.1[[:space:]]\\+\(name)\\b\" /etc/hosts || true"))
            .stdoutText.split(separator: "\n").map { String($0).trimmed }
        var p = Plan(changed: false)
        p.result.data["name"] = .string(name)
        // Ansible leaves /etc/hosts alone; parc names the host there (127.0.1.1) only when the
        // variable parc_hostname_in_etc_hosts is true (parc's onboarding and baseline set it).
        let editHosts = c.vars["parc_hostname_in_etc_hosts"]?.truthy ?? false
        let running = probe.first ?? "", file = probe.count > 1 ? probe[1] : "", inHosts = probe.count > 2 && probe[2] != "0"
        guard running != name || file != name || (editHosts && !inHosts) else { return p }
        p.result.changed = true
        if c.diff { p.result.diff = [FileDiff(path: "/etc/hostname", before: file + "\n", after: name + "\n")] }
        let n = shellQuote(name)
        if running != name || file != name {
            p.steps.append(c.run("if command -v hostnamectl >/dev/null && [ -d /run/systemd/system ]; then hostnamectl set-hostname \(n); else hostname \(n) && printf '%s\\n' \(n) > /etc/hostname; fi",
                                 what: "setting the host name", touches: ["/etc/hostname"]))
        }
        // Debian names the host in /etc/hosts (127.0.1.1): without it, sudo waits for DNS on each call.
        guard editHosts else { return p }
        p.steps.append(c.run("if grep -q '^127.0.1.1[[:space:]]' /etc/hosts; then sed -i \"s/^127.0.1.1[[:space:]].*/127.0.1.1\\t\(name)/\" /etc/hosts; else printf '127.0.1.1\\t%s\\n' \(n) >> /etc/hosts; fi",
                             what: "naming the host in /etc/hosts", touches: ["/etc/hosts"]))
        return p
    }
}

/// `reboot`: restarts the device and waits for it to come back (its boot id changes).
enum RebootModule {
    static let spec = ModuleSpec(name: "reboot", arguments: ["reboot_timeout", "msg", "pre_reboot_delay", "post_reboot_delay"]) { c in
        if c.check { return Plan(changed: true, msg: "the device would reboot") }
        let delay = max(1, Int(c.args["pre_reboot_delay"]?.description ?? "") ?? 1)
        let timeout = Int(c.args["reboot_timeout"]?.description ?? "") ?? 600
        let message = c.string("msg") ?? "parc reboot"
        var step = Step(kind: .reboot(message: message, delay: delay, timeout: timeout),
                        script: command(message: message, delay: delay), what: "rebooting", touches: nil)
        step.removesTree = true
        var p = Plan(steps: [step], changed: true, msg: "rebooted")
        p.result.data["rebooted"] = .bool(true)
        return p
    }

    /// The detached command that restarts the device: the script is quoted once as a whole (the
    /// message inside it quoted on its own), so a message is only ever text and the fallback runs.
    static func command(message: String, delay: Int, shutdown: String = "/sbin/shutdown", reboot: String = "/sbin/reboot") -> String {
        "nohup /bin/sh -c \(shellQuote(script(message: message, delay: delay, shutdown: shutdown, reboot: reboot))) >/dev/null 2>&1 &"
    }

    static func script(message: String, delay: Int, shutdown: String = "/sbin/shutdown", reboot: String = "/sbin/reboot") -> String {
        "sleep \(delay); \(shellQuote(shutdown)) -r now \(shellQuote(message)) || \(shellQuote(reboot))"
    }
}
