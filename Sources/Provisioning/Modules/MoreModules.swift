import Foundation
import ParcCore
import Templating

/// set_fact, include_vars, assert, stat, slurp, package, wait_for: modules that mostly read.
enum FactModules {
    static let setFact = ModuleSpec(name: "set_fact", arguments: ["cacheable"], anyArguments: true) { (c: ModuleContext) -> ModuleResult in
        var r = ModuleResult()
        r.data["ansible_facts"] = .map(c.args.filter { $0.key != "cacheable" })
        return r
    }

    static let includeVars = ModuleSpec(name: "include_vars", arguments: ["file", "name", "_raw_params"], takesFreeForm: true) { (c: ModuleContext) -> ModuleResult in
        guard let file = c.string("file") ?? c.string("_raw_params") else { throw ModuleFailure("include_vars needs a file") }
        let base = c.playbookDirectory
        let candidates = file.hasPrefix("/") ? [file] : ["\(base)/vars/\(file)", "\(base)/\(file)"]
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw ModuleFailure("include_vars: no file \(file) (looked in \(candidates.joined(separator: ", ")))")
        }
        let vars = try PlaybookLoader.loadVars(path)
        var r = ModuleResult()
        r.data["ansible_facts"] = .map(c.string("name").map { [$0: .map(vars)] } ?? vars)
        // A file a person wrote holds templates; one this run wrote (fetched from a device,
        // say) holds data, never rendered.
        let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantFuture
        r.authoredFacts = modified < c.runStarted
        r.msg = "\(vars.count) variable(s) from \((path as NSString).lastPathComponent)"
        return r
    }

    static let assert = ModuleSpec(name: "assert", arguments: ["that", "fail_msg", "msg", "success_msg", "quiet"], required: ["that"]) { (c: ModuleContext) -> ModuleResult in
        let conditions = try c.args["that"]?.list?.map(\.description) ?? [c.required("that")]
        for condition in conditions where try !c.templates.condition(condition, vars: c.vars, at: c.location) {
            throw ModuleFailure(c.string("fail_msg") ?? c.string("msg") ?? "Assertion failed: \(condition)")
        }
        return ModuleResult(msg: c.string("success_msg") ?? "All assertions passed")
    }

    static let stat = ModuleSpec(name: "stat", arguments: ["path", "get_checksum", "checksum_algorithm", "follow", "get_mime", "get_attributes"],
                                 required: ["path"]) { c in
        let path = try c.required("path")
        let p = shellQuote(path)
        let follow = c.bool("follow")
        let algorithm = c.string("checksum_algorithm") ?? "sha1"
        guard ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"].contains(algorithm) else {
            throw ModuleFailure("value of checksum_algorithm must be one of: md5, sha1, sha224, sha256, sha384, sha512, got: \(algorithm)")
        }
        let checksum = c.args["get_checksum"].map(\.truthy) ?? true
        let mime = c.args["get_mime"].map(\.truthy) ?? true
        let attributes = c.args["get_attributes"].map(\.truthy) ?? true
        // One line of stat's fields, then: access for the user, link target and source, checksum,
        // MIME type and encoding, ext2 attributes and version (each line empty when not asked).
        let script = "if [ -e \(p) ] || [ -L \(p) ]; then stat \(follow ? "-L " : "")-c '%f|%a|%u|%g|%U|%G|%s|%i|%d|%h|%.9X|%.9Y|%.9Z|%b|%o|%t|%T|%F' -- \(p); "
            + "{ [ -r \(p) ] && printf r || printf -; [ -w \(p) ] && printf w || printf -; [ -x \(p) ] && echo x || echo -; }; "
            + "if [ -L \(p) ]; then readlink -- \(p); readlink -f -- \(p); else echo; echo; fi; "
            + (checksum ? "if [ -f \(p) ] && [ -r \(p) ]; then \(algorithm)sum < \(p) | cut -d' ' -f1; else echo; fi; " : "echo; ")
            + (mime ? "if command -v file >/dev/null 2>&1; then file -b\(follow ? "L" : "") --mime-type -- \(p); file -b\(follow ? "L" : "") --mime-encoding -- \(p); else echo unknown; echo unknown; fi; " : "echo; echo; ")
            + (attributes ? "lsattr -d -v -- \(p) 2>/dev/null || echo; " : "echo; ")
            + "else echo absent; fi"
        let out = try c.fact(Fact(script, paths: [path], staleAfterAnyChange: true))
        var plan = Plan(changed: false)
        plan.result.data["stat"] = .map(OrderedMap(parseStat(out.stdoutText, path: path, checksum: checksum, mime: mime, attributes: attributes)))
        return plan
    }

    static let fileAttributes: [Character: String] = [
        "A": "noatime", "a": "append", "c": "compressed", "C": "nocow", "d": "nodump", "D": "dirsync", "e": "extents", "E": "encrypted",
        "h": "blocksize", "i": "immutable", "I": "indexed", "j": "journalled", "N": "inline", "s": "zero", "S": "synchronous", "t": "notail",
        "T": "blockroot", "u": "undelete", "X": "compressedraw", "Z": "compresseddirty",
    ]

    /// The `stat` result as Ansible's stat module shapes it.
    static func parseStat(_ text: String, path: String, checksum: Bool = true, mime: Bool = true, attributes: Bool = true) -> [String: Value] {
        let l = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard l.first != "absent", let f = l.first?.split(separator: "|").map(String.init), f.count >= 18 else { return ["exists": .bool(false)] }
        func line(_ i: Int) -> String { i < l.count ? l[i] : "" }
        let raw = Int(f[0], radix: 16) ?? 0
        let kind = f[17]
        var st: [String: Value] = ["exists": .bool(true), "path": .string(path)]
        st["mode"] = .string(String(repeating: "0", count: max(0, 4 - f[1].count)) + f[1])
        st["isdir"] = .bool(kind == "directory")
        st["isreg"] = .bool(kind.hasPrefix("regular"))
        st["islnk"] = .bool(kind == "symbolic link")
        st["ischr"] = .bool(kind == "character special file")
        st["isblk"] = .bool(kind == "block special file")
        st["isfifo"] = .bool(kind == "fifo")
        st["issock"] = .bool(kind == "socket")
        st["uid"] = .int(Int(f[2]) ?? -1)
        st["gid"] = .int(Int(f[3]) ?? -1)
        st["pw_name"] = .string(f[4])
        st["gr_name"] = .string(f[5])
        st["size"] = .int(Int(f[6]) ?? 0)
        st["inode"] = .int(Int(f[7]) ?? 0)
        st["dev"] = .int(Int(f[8]) ?? 0)
        st["nlink"] = .int(Int(f[9]) ?? 0)
        st["atime"] = .double(Double(f[10]) ?? 0)
        st["mtime"] = .double(Double(f[11]) ?? 0)
        st["ctime"] = .double(Double(f[12]) ?? 0)
        st["blocks"] = .int(Int(f[13]) ?? 0)
        st["block_size"] = .int(Int(f[14]) ?? 0)
        // st_rdev as glibc's makedev encodes it.
        let major = Int(f[15], radix: 16) ?? 0, minor = Int(f[16], radix: 16) ?? 0
        st["device_type"] = .int(((major & 0xfffff000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffffff00) << 12) | (minor & 0xff))
        for (name, bit) in Modules.permissionBits { st[name] = .bool(raw & bit != 0) }
        let access = Array(line(1))
        st["readable"] = .bool(access.count > 0 && access[0] == "r")
        st["writeable"] = .bool(access.count > 1 && access[1] == "w")
        st["executable"] = .bool(access.count > 2 && access[2] == "x")
        if kind == "symbolic link" {
            st["lnk_target"] = .string(line(2))
            st["lnk_source"] = .string(line(3))
        }
        if checksum, !line(4).isEmpty { st["checksum"] = .string(line(4)) }
        if mime {
            st["mimetype"] = .string(line(5).isEmpty ? "unknown" : line(5))
            st["charset"] = .string(line(6).isEmpty ? "unknown" : line(6))
        }
        // As Ansible: the keys are there when asked, lsattr or not (it fails on overlayfs, say).
        if attributes {
            st["version"] = .null
            st["attributes"] = .list([])
            st["attr_flags"] = .string("")
        }
        if attributes, !line(7).isEmpty {
            // lsattr -d -v: `VERSION FLAGS PATH`.
            let words = line(7).split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if words.count >= 2 {
                st["version"] = .string(words[0])
                let flags = words[1].filter { $0 != "-" }
                st["attr_flags"] = .string(flags)
                st["attributes"] = .list(flags.compactMap { fileAttributes[$0].map(Value.string) })
            }
        }
        return st
    }

    /// setup: Ansible's facts, gathered again (with `gather_subset` and `filter`); they stay with
    /// the host for the rest of the run, as data.
    static let setup: ModuleSpec = {
        var spec = ModuleSpec(name: "setup", arguments: ["filter", "gather_subset", "gather_timeout", "fact_path"], plan: setupPlan)
        spec.setsFacts = true
        return spec
    }()

    static func setupPlan(_ c: ModuleContext) throws -> Plan {
        let out = try c.fact(Fact.command(FactGathering.fullScript))
        guard out.stdoutText.contains("==end==") else { throw ModuleFailure("gathering facts failed: \(out.stderrText.trimmed)") }
        let sections = FactGathering.sections(out.stdoutText)
        var facts = FactGathering.variables(FactGathering.parse(sections), ansible: AnsibleFacts.collect(sections))["ansible_facts"]?.map ?? [:]
        facts = try AnsibleFacts.subset(facts, names(c.args["gather_subset"]) ?? ["all"])
        facts = AnsibleFacts.filter(facts, names(c.args["filter"]) ?? [])
        var merged = c.vars["ansible_facts"]?.map ?? [:]
        for (k, v) in facts { merged[k] = v }
        var vars = FactGathering.namespaced(facts)
        vars["ansible_facts"] = .map(OrderedMap(merged))
        var p = Plan(changed: false)
        p.result.data["ansible_facts"] = .map(OrderedMap(vars))
        return p
    }

    /// async_status: a background job's state (`poll: 0`), as Ansible's: finished 0 while it runs,
    /// then its rc, stdout and stderr; `mode: cleanup` removes what it left.
    static let asyncStatus = ModuleSpec(name: "async_status", arguments: ["jid", "mode"], required: ["jid"]) { c in
        let jid = c.string("jid") ?? ""
        guard !jid.isEmpty, jid.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" }) else {
            throw ModuleFailure("async_status: '\(jid)' is not a job id")
        }
        let file = "\(AsyncJobs.directory)/\(jid)"
        if c.string("mode") == "cleanup" {
            var p = Plan(steps: [c.run("rm -f \"\(file)\" \"\(file).rc\" \"\(file).out\" \"\(file).err\"", what: "removing the job's files")], changed: false)
            p.result.data["ansible_job_id"] = .string(jid)
            p.result.data["erased"] = .string(file)
            return p
        }
        let state = try c.fact(.command("j=\"\(file)\"; if [ -e \"$j.rc\" ]; then echo finished; cat \"$j.rc\"; echo '==out=='; cat \"$j.out\"; echo '==err=='; cat \"$j.err\"; "
                                        + "elif [ -e \"$j.out\" ]; then echo running; else echo unknown; fi"))
        let text = state.stdoutText
        var p = Plan(changed: false)
        p.result.data["ansible_job_id"] = .string(jid)
        p.result.data["results_file"] = .string(file)
        p.result.data["started"] = .bool(true)
        if text.hasPrefix("unknown") { throw ModuleFailure("could not find job \(jid)") }
        guard text.hasPrefix("finished") else {
            p.result.data["finished"] = .bool(false)
            return p
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let rc = Int32(lines.count > 1 ? lines[1].trimmed : "") ?? -1
        let out = text.components(separatedBy: "==out==\n").last?.components(separatedBy: "==err==\n") ?? []
        func trimmed(_ s: String) -> String { s.hasSuffix("\n") ? String(s.dropLast()) : s }
        p.result.data["finished"] = .bool(true)
        p.result.rc = rc
        p.result.stdout = trimmed(out.first ?? "")
        p.result.stderr = trimmed(out.count > 1 ? out[1] : "")
        p.result.changed = true
        if rc == 137 {
            p.result.failed = true
            p.result.msg = "async task did not complete within the requested time"
        } else if rc != 0 {
            p.result.failed = true
            p.result.msg = "non-zero return code \(rc)"
        }
        return p
    }

    /// tempfile: a new temporary file or folder (mktemp), its path in the result; never idempotent,
    /// as Ansible's.
    /// ping as Ansible's: a round trip to the device (its shell answers), `ping` the `data` given
    /// (`pong`); `data: crash` fails, as Ansible's test of a module failure.
    static let ping = ModuleSpec(name: "ping", arguments: ["data"]) { c in
        let data = c.args["data"].flatMap { $0 == .null ? nil : $0 } ?? .string("pong")
        if data.string == "crash" { throw ModuleFailure("boom") }
        var step = c.run("true", what: "ping", touches: [])
        step.isResult = true
        var p = Plan(steps: [step], changed: false)
        p.result.data["ping"] = data
        p.finish = { r, out in if !out.succeeded { r.failed = true; r.msg = "the device's shell did not answer (exit \(out.exitStatus))" } }
        return p
    }

    static let tempfile = ModuleSpec(name: "tempfile", arguments: ["state", "path", "prefix", "suffix"]) { c in
        let state = c.string("state") ?? "file"
        guard ["file", "directory"].contains(state) else { throw ModuleFailure("value of state must be one of: directory, file, got: \(state)") }
        let folder = c.string("path").map(shellQuote) ?? "\"${TMPDIR:-/tmp}\""
        let prefix = c.string("prefix") ?? "ansible."
        let suffix = c.string("suffix") ?? ""
        var p = Plan(changed: true)
        p.result.data["state"] = .string(state)
        if c.check { return p }
        var step = c.run("mktemp \(state == "directory" ? "-d " : "")-p \(folder) --suffix=\(shellQuote(suffix)) -- \(shellQuote(prefix + "XXXXXXXX"))",
                         what: "creating a temporary \(state)")
        step.isResult = true
        p.steps = [step]
        p.finish = { r, out in
            guard out.succeeded else { r.failed = true; r.msg = "could not create the temporary \(state): \(out.stderrText.trimmed)"; return }
            r.changed = true
            r.data["path"] = .string(out.stdoutText.trimmed)
        }
        return p
    }

    /// A list of names as Ansible takes them: a list, or text separated by commas.
    static func names(_ v: Value?) -> [String]? {
        switch v {
        case .list(let l)?: return l.map(\.description)
        case .string(let s)?: return s.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty }
        default: return nil
        }
    }

    /// getent as Ansible's: a database of the device (passwd, group, hosts…) read into the fact
    /// `getent_<database>`, each entry's fields by its first (`:` for passwd, shadow, group,
    /// gshadow; else whitespace), an entry seen twice as a list of its lines.
    static let getent: ModuleSpec = {
        var spec = ModuleSpec(name: "getent", arguments: ["database", "key", "service", "split", "fail_key"], required: ["database"]) { c in
            let database = try c.required("database"), key = c.string("key")
            var command = "getent"
            if let service = c.string("service") { command += " -s \(shellQuote(service))" }
            command += " -- \(shellQuote(database))" + (key.map { " " + shellQuote($0) } ?? "")
            let out = try c.fact(.command(command))
            let tree = "getent_\(database)"
            var p = Plan(changed: false)
            switch out.exitStatus {
            case 0:
                let split = c.string("split") ?? (["passwd", "shadow", "group", "gshadow"].contains(database) ? ":" : nil)
                var entries = OrderedMap()
                var seen: [String: Int] = [:]
                for line in out.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).dropLast(out.stdoutText.hasSuffix("\n") ? 1 : 0) {
                    let record = split.map { line.components(separatedBy: $0) } ?? line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                    guard let first = record.first else { continue }
                    let fields = Value.list(record.dropFirst().map { .string($0) })
                    switch seen[first] {
                    case nil: entries[first] = fields; seen[first] = 1
                    case 1?: entries[first] = .list([entries[first]!, fields]); seen[first] = 2
                    default: if case .list(var l)? = entries[first] { l.append(fields); entries[first] = .list(l) }; seen[first]! += 1
                    }
                }
                p.result.data["ansible_facts"] = .map([tree: .map(entries)])
            case 2:
                let msg = "One or more supplied key could not be found in the database."
                guard !(c.args["fail_key"]?.truthy ?? true), let key else { throw ModuleFailure(msg) }
                p.result.data["ansible_facts"] = .map([tree: .map([key: .null])])
                p.result.msg = msg
            case 1: throw ModuleFailure("Missing arguments, or database unknown.")
            case 3: throw ModuleFailure("Enumeration not supported on this database.")
            default: throw ModuleFailure("Unexpected failure!")
            }
            return p
        }
        spec.setsFacts = true
        return spec
    }()

    static let slurp = ModuleSpec(name: "slurp", arguments: ["src", "path"]) { c in
        guard let src = c.string("src") ?? c.string("path") else { throw ModuleFailure("slurp needs src") }
        // Read as Ansible's open() reads it, by the user the task becomes: the reason an open fails
        // (a folder on the way that user cannot cross is "not readable" too) is the errno's, as
        // cat reports it in the C locale.
        let file = try c.fact(Fact("LC_ALL=C cat -- \(shellQuote(src))", paths: [src]))
        if !file.succeeded {
            // Ansible's messages, by errno.
            let reason = file.stderrText.trimmed
            if reason.hasSuffix("No such file or directory") { throw ModuleFailure("File not found: \(src)") }
            if reason.hasSuffix("Permission denied") { throw ModuleFailure("File is not readable: \(src)") }
            if reason.hasSuffix("Is a directory") { throw ModuleFailure("Source is a directory and must be a file: \(src)") }
            let errno = reason.hasSuffix("Not a directory") ? "[Errno 20] Not a directory: '\(src)'" : (reason.split(separator: ":").last.map { $0.trimmed } ?? reason)
            throw ModuleFailure("Unable to slurp file: \(errno)")
        }
        var p = Plan(changed: false)
        p.result.data["content"] = .string(Data(file.stdout).base64EncodedString())
        p.result.data["encoding"] = .string("base64")
        p.result.data["source"] = .string(src)
        return p
    }

    /// package as Ansible's action: the package manager `use` (or `ansible_package_use`) names,
    /// else the device's; on the devices parc runs that is apt (given the defaults of `apt` too).
    static let package = ModuleSpec(name: "package", arguments: AptModule.spec.arguments.union(["use"]), required: ["name"]) { c in
        let use = (c.string("use") ?? c.vars["ansible_package_use"]?.string ?? "auto").lowercased()
        if use != "auto" && use != "apt" {
            if PlaybookLoader.ansibleModules.contains(use) {
                throw ModuleFailure("package: the \"\(use)\" package manager is not supported by parc yet (parc's package runs apt)")
            }
            throw ModuleFailure("Could not find a matching action for the \"\(use)\" package manager.")
        }
        var own = c
        own.args = c.args.filter { $0.key != "use" }
        guard case .device(let apt) = AptModule.spec.behaviour else { throw ModuleFailure("apt is missing") }
        return try apt(own)
    }

    /// wait_for as Ansible's: a port open (started), closed (stopped) or without active
    /// connections (drained), a path present (with
    /// `search_regex` in its content) or absent, or just `timeout` seconds; the loop runs on the
    /// device, its result says how long it took (`elapsed`) and what the regex's groups caught.
    static let waitFor = ModuleSpec(name: "wait_for", arguments: ["host", "port", "path", "state", "timeout", "delay", "sleep", "msg",
                                                                  "search_regex", "connect_timeout", "active_connection_states", "exclude_hosts"]) { c in
        func seconds(_ key: String, _ fallback: Int) throws -> Int {
            guard let v = c.args[key] else { return fallback }
            guard let n = Int(v.description), n >= 0 else { throw ModuleFailure("wait_for: \(key) must be a number of seconds, not '\(v.description)'") }
            return n
        }
        let timeout = try seconds("timeout", 300), delay = try seconds("delay", 0), pause = max(1, try seconds("sleep", 1))
        let state = c.string("state") ?? "started"
        guard ["started", "present", "stopped", "absent", "drained"].contains(state) else {
            throw ModuleFailure("value of state must be one of: absent, drained, present, started, stopped, got: \(state)")
        }
        let path = c.string("path"), regex = c.string("search_regex")
        let portText = c.args["port"]?.description
        if path != nil && state == "drained" { throw ModuleFailure("state=drained should only be used for checking a port in the wait_for module") }
        if c.args["exclude_hosts"] != nil && state != "drained" { throw ModuleFailure("exclude_hosts should only be with state=drained") }
        if state == "drained" { return try drained(c, timeout: timeout, delay: delay, pause: pause) }
        if portText != nil && path != nil { throw ModuleFailure("port and path parameter can not both be passed to wait_for") }
        if path != nil && state == "stopped" { throw ModuleFailure("state=stopped should only be used for checking a port in the wait_for module") }
        if let regex {
            do { _ = try PythonRegex.search(regex, in: "", multiline: true) } catch { throw ModuleFailure("Invalid regular expression: \(regex)") }
        }
        let host = c.string("host") ?? "127.0.0.1"
        let wantUp = state == "started" || state == "present"
        let probe: String
        var target = ""
        if let portText {
            // Both end up in a path bash reads (/dev/tcp/HOST/PORT): a number and a host name or address only.
            guard let port = Int(portText), (1...65535).contains(port) else { throw ModuleFailure("wait_for: port must be a number from 1 to 65535, not '\(portText)'") }
            guard !host.isEmpty, host.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".:-_".unicodeScalars.contains($0)) }) else {
                throw ModuleFailure("wait_for: host must be a host name or an address, not '\(host)'")
            }
            if regex != nil { throw ModuleFailure("wait_for: search_regex on a port is not supported by parc yet (on a path it is)") }
            let connect = try seconds("connect_timeout", 5)
            probe = "timeout \(max(1, connect)) bash -c \(shellQuote("exec 3<>/dev/tcp/\(host)/\(port)")) 2>/dev/null"
            target = "\(host):\(port)"
        } else if let path {
            let p = shellQuote(path)
            // The regex as grep -P reads it, over the whole file (Python's re.search with MULTILINE);
            // its groups are read again with Python's rules once it matched.
            probe = regex.map { "[ -e \(p) ] && grep -Pzq -- \(shellQuote("(?m)" + $0)) \(p) 2>/dev/null" } ?? "[ -e \(p) ]"
        } else {
            probe = "false"
        }
        // On success: the path's facts (Ansible adds them to any result naming a path), then what the regex is read in.
        let showContent = path.map { p in
            "stat -c '\(Modules.pathInfoFormat)' -- \(shellQuote(p)) 2>/dev/null || echo; "
                + (regex != nil ? "head -c 1048576 -- \(shellQuote(p))" : "true")
        } ?? "true"
        // started/present: success when the probe holds; stopped/absent: when it stops holding.
        let done = wantUp ? probe : "! { \(probe); }"
        let script = portText == nil && path == nil
            ? "s=$(date +%s); sleep \(delay + timeout); echo $(( $(date +%s) - s ))"
            : "s=$(date +%s); sleep \(delay); e=$(( s + \(delay) + \(timeout) )); while [ \"$(date +%s)\" -lt \"$e\" ]; do "
                + "if \(done); then echo $(( $(date +%s) - s )); \(showContent); exit 0; fi; sleep \(pause); done; echo $(( $(date +%s) - s )); exit 1"
        // Waiting changes nothing: a result step, so that it runs in its place among the steps.
        var step = Step.run(script, what: "waiting", touches: [])
        step.isResult = true
        step.timeout = .seconds(timeout + delay + 30)
        var p = Plan(steps: [step], changed: false)
        let message = c.string("msg") ?? {
            switch (wantUp, portText, path, regex) {
            case (true, _?, _, _): "Timeout when waiting for \(target)"
            case (false, _?, _, _): "Timeout when waiting for \(target) to stop."
            case (true, nil, let path?, let regex?): "Timeout when waiting for search string \(regex) in \(path)"
            case (true, nil, let path?, nil): "Timeout when waiting for file \(path)"
            case (false, nil, let path?, _): "Timeout when waiting for \(path) to be absent."
            default: "Timeout"
            }
        }()
        p.finish = { r, out in
            let text = out.stdoutText
            let firstLine = text.prefix { $0 != "\n" }
            let elapsed = Value.int(Int(firstLine) ?? 0)
            r.data["elapsed"] = elapsed
            guard out.succeeded else { r.failed = true; r.msg = message; return }
            r.data["state"] = .string(state)
            r.data["port"] = portText.flatMap { Int($0) }.map { .int($0) } ?? .null
            r.data["path"] = path.map { .string($0) } ?? .null
            r.data["search_regex"] = regex.map { .string($0) } ?? .null
            var rest = text.dropFirst(firstLine.count + 1)
            if path != nil {
                let statLine = rest.prefix { $0 != "\n" }
                rest = rest.dropFirst(statLine.count + 1)
                for (k, v) in Modules.pathInfo(String(statLine)) { r.data[k] = v }
            }
            var groups: [Value] = [], named = OrderedMap()
            if let regex, let match = try? PythonRegex.search(regex, in: String(rest), multiline: true) {
                groups = match.groups.map { $0.map { .string($0) } ?? .null }
                for (name, value) in match.named { named[name] = value.map { .string($0) } ?? .null }
            }
            r.data["match_groups"] = .list(groups)
            r.data["match_groupdict"] = .map(named)
        }
        return p
    }

    /// The states of /proc/net/tcp Ansible's `active_connection_states` names.
    static let connectionStates = ["ESTABLISHED": "01", "SYN_SENT": "02", "SYN_RECV": "03", "FIN_WAIT1": "04", "FIN_WAIT2": "05", "TIME_WAIT": "06"]

    /// wait_for `state: drained`: until no connection to the port (on `host`'s addresses) is in
    /// one of the active states, read from /proc/net/tcp and tcp6 as Ansible's TCPConnectionInfo
    /// reads them; `exclude_hosts` are remote ends not counted.
    static func drained(_ c: ModuleContext, timeout: Int, delay: Int, pause: Int) throws -> Plan {
        guard let portText = c.args["port"]?.description, let port = Int(portText), (1...65535).contains(port) else {
            throw ModuleFailure("wait_for: state=drained needs a port from 1 to 65535")
        }
        func list(_ key: String) -> [String]? {
            c.args[key].flatMap { $0 == .null ? nil : ($0.list?.map(\.description) ?? $0.description.components(separatedBy: ",").map(\.trimmed)) }
        }
        let states = try (list("active_connection_states") ?? ["ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "SYN_RECV", "SYN_SENT", "TIME_WAIT"]).map { name in
            guard let id = connectionStates[name] else { throw ModuleFailure("unknown active_connection_state (\(name)) defined") }
            return id
        }
        let host = c.string("host") ?? "127.0.0.1"
        let ips = try procAddresses([host], c), excluded = try procAddresses(list("exclude_hosts") ?? [], c)
        let awk = "$2 == \"local_address\" { next } { split($2, l, \":\"); split($3, r, \":\"); "
            + "if (l[2] != port || index(states, \" \" $4 \" \") == 0 || index(excluded, \" \" r[1] \" \")) next; "
            + "if (index(ips, \" \" l[1] \" \") || (index(ips, \" 00000000 \") && length(l[1]) == 8) || (index(ips, \" \" zero6 \" \") && length(l[1]) == 32) "
            + "|| (index(ips, \" 0000000000000000FFFF000000000000 \") && substr(l[1], 1, 24) == \"0000000000000000FFFF0000\")) n++ } END { print n + 0 }"
        let vars = "-v port=\(String(format: "%04X", port)) -v states=\(shellQuote(" " + states.joined(separator: " ") + " ")) "
            + "-v ips=\(shellQuote(" " + ips.joined(separator: " ") + " ")) -v excluded=\(shellQuote(" " + excluded.joined(separator: " ") + " ")) -v zero6=\(String(repeating: "0", count: 32))"
        let count = "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk \(vars) \(shellQuote(awk))"
        let script = "s=$(date +%s); sleep \(delay); e=$(( s + \(delay) + \(timeout) )); while [ \"$(date +%s)\" -lt \"$e\" ]; do "
            + "if [ \"$(\(count))\" = 0 ]; then echo $(( $(date +%s) - s )); exit 0; fi; sleep \(pause); done; echo $(( $(date +%s) - s )); exit 1"
        var step = Step.run(script, what: "waiting", touches: [])
        step.isResult = true
        step.timeout = .seconds(timeout + delay + 30)
        var p = Plan(steps: [step], changed: false)
        let message = c.string("msg") ?? "Timeout when waiting for \(host):\(port) to drain"
        p.finish = { r, out in
            r.data["elapsed"] = .int(Int(out.stdoutText.prefix { $0 != "\n" }) ?? 0)
            guard out.succeeded else { r.failed = true; r.msg = message; return }
            r.data["state"] = .string("drained")
            r.data["port"] = .int(port)
            for key in ["path", "search_regex"] { r.data[key] = .null }
            r.data["match_groups"] = .list([])
            r.data["match_groupdict"] = .map([:])
        }
        return p
    }

    /// Addresses as /proc/net/tcp writes them (each 32-bit word's bytes reversed, in hex); a
    /// name is resolved on the device (getent ahosts), as Ansible resolves it where it runs.
    static func procAddresses(_ hosts: [String], _ c: ModuleContext) throws -> [String] {
        var out: [String] = []
        for host in hosts where !host.isEmpty {
            var addresses = [host]
            if procAddress(host) == nil {
                let resolved = try c.fact(.command("getent ahosts -- \(shellQuote(host)) | awk '{ print $1 }' | sort -u"))
                addresses = resolved.stdoutText.split(separator: "\n").map(String.init)
                if addresses.isEmpty { throw ModuleFailure("wait_for: cannot resolve \(host) on the device") }
            }
            out += addresses.compactMap(procAddress)
        }
        return out
    }

    static func procAddress(_ address: String) -> String? {
        var v4 = in_addr(), v6 = in6_addr()
        var bytes: [UInt8]
        if inet_pton(AF_INET, address, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, address, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
        return stride(from: 0, to: bytes.count, by: 4).map { i in bytes[i..<i + 4].reversed().map { String(format: "%02X", $0) }.joined() }.joined()
    }
}

/// group, authorized_key, timezone, locale_gen: accounts and system settings.
enum SettingModules {
    /// group as Ansible's: made (groupadd, or lgroupadd with `local`), its gid changed
    /// (groupmod), removed (groupdel, `force` even when it is a user's primary group); the result
    /// names its gid as the device has it afterwards.
    static let group = ModuleSpec(name: "group", arguments: ["name", "state", "gid", "system", "local", "non_unique", "force", "gid_min", "gid_max"],
                                  required: ["name"]) { c in
        let name = try c.required("name")
        let state = c.string("state") ?? "present"
        guard ["present", "absent"].contains(state) else { throw ModuleFailure("value of state must be one of: absent, present, got: \(state)") }
        let gid = c.args["gid"].flatMap { $0 == .null ? nil : $0.description }
        if let gid, Int(gid) == nil { throw ModuleFailure("argument 'gid' is of type str and we were unable to convert to int: '\(gid)'") }
        if c.bool("non_unique") && gid == nil { throw ModuleFailure("parameters are required together: gid, non_unique") }
        let entry = try c.fact(.command("getent group -- \(shellQuote(name))")).stdoutText.trimmed
        let fields = entry.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let current = fields.count > 2 ? fields[2] : nil
        let local = c.bool("local")
        if local {
            for key in ["gid_min", "gid_max"] where c.args[key] != nil { throw ModuleFailure("'\(key)' can not be used with 'local'") }
        }
        var command: String?
        switch state {
        case "absent":
            if current != nil { command = (local ? "lgroupdel" : "groupdel") + (c.bool("force") && !local ? " -f" : "") + " -- \(shellQuote(name))" }
        default:
            var options = ""
            if let gid { options += " -g \(shellQuote(gid))" + (c.bool("non_unique") && !local ? " -o" : "") }
            if current == nil {
                if c.bool("system") { options += " -r" }
                for (key, limit) in [("gid_min", "GID_MIN"), ("gid_max", "GID_MAX")] where !local {
                    if let v = c.args[key]?.description { options += " -K \(limit)=\(shellQuote(v))" }
                }
                command = (local ? "lgroupadd" : "groupadd") + options + " -- \(shellQuote(name))"
            } else if let gid, gid != current {
                command = (local ? "lgroupmod" : "groupmod") + options + " -- \(shellQuote(name))"
            }
        }
        var p = Plan(changed: command != nil)
        p.result.data["name"] = .string(name)
        p.result.data["state"] = .string(state)
        if state == "present" {
            p.result.data["system"] = .bool(c.bool("system"))
            if let known = gid ?? current, let n = Int(known) { p.result.data["gid"] = .int(n) }
        }
        guard let command, !c.check else { return p }
        if local {
            let tool = String(command.prefix { $0 != " " })
            // Ansible's message when libuser's tools are missing.
            let check = "command -v \(tool) >/dev/null || { echo \"Failed to find required executable \\\"\(tool)\\\" in paths: $PATH\" >&2; exit 127; }; "
            p.steps = [c.run(check + command, what: "group \(name)")]
        } else {
            p.steps = [c.run(command, what: "group \(name)")]
        }
        if state == "present" {
            // The gid the device gave, read right after.
            var read = c.run("getent group -- \(shellQuote(name)) | cut -d: -f3", what: "reading the gid of \(name)", touches: [])
            read.isResult = true
            p.steps.append(read)
            p.finish = { r, out in if let n = Int(out.stdoutText.trimmed) { r.data["gid"] = .int(n) } }
        }
        return p
    }

    static let authorizedKey = ModuleSpec(name: "authorized_key", arguments: ["user", "key", "state", "exclusive", "path", "manage_dir", "comment"],
                                          required: ["user", "key"]) { c in
        let user = try c.required("user")
        let lookup = try c.fact(.command("getent passwd -- \(shellQuote(user))"))
        let entry = lookup.stdoutText.trimmed.split(separator: ":", omittingEmptySubsequences: false).map(String.init)  // the comment field is often empty
        guard lookup.succeeded, entry.count > 6, entry[5].hasPrefix("/") else { throw ModuleFailure("no user \(user) (or no home folder in its passwd entry)") }
        let path = c.string("path") ?? "\(entry[5])/.ssh/authorized_keys"
        let keys = try c.required("key").split(separator: "\n").map { String($0).trimmed }.filter { !$0.isEmpty }
        let present = (c.string("state") ?? "present") == "present"
        let folder = (path as NSString).deletingLastPathComponent
        let folderState = PathState.parse(try c.fact(.path(folder)).stdoutText)
        var p = try FileEdit.plan(c, path: path, mode: 0o600, owner: user, group: entry[3], attributesIfSame: false) { old in
            editKeys(old, keys: keys, present: present, exclusive: c.bool("exclusive"))
        }
        if folderState.kind == .absent && !p.steps.isEmpty {
            // The .ssh folder, the user's own, before the file (FileEdit's mkdir then finds it there).
            p.steps.removeAll { $0.what == "making the folder of \(path)" }
            p.steps.insert(c.run("mkdir -p -- \(shellQuote(folder)) && chown \(shellQuote(user)): \(shellQuote(folder)) && chmod 700 \(shellQuote(folder))",
                                 what: "the .ssh folder of \(user)", touches: [folder]), at: 0)
        }
        return p
    }

    /// authorized_keys with `keys` present or absent (compared by type and key, not comment).
    static func editKeys(_ old: String?, keys: [String], present: Bool, exclusive: Bool) -> String? {
        func id(_ line: String) -> String { line.split(separator: " ").prefix(2).joined(separator: " ") }
        var lines = FileEdit.lines(old)
        let wanted = Set(keys.map(id))
        if present {
            if exclusive { lines.removeAll { !$0.hasPrefix("#") && !$0.trimmed.isEmpty && !wanted.contains(id($0)) } }
            for k in keys where !lines.contains(where: { id($0) == id(k) }) { lines.append(k) }
        } else {
            lines.removeAll { wanted.contains(id($0)) }
        }
        if old == nil && lines.isEmpty { return nil }
        return FileEdit.text(lines)
    }

    static let timezone = ModuleSpec(name: "timezone", arguments: ["name", "hwclock"], required: ["name"]) { c in
        let name = try c.required("name")
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || "/_+-".contains($0) }) else { throw ModuleFailure("'\(name)' is not a time zone name") }
        let zone = "/usr/share/zoneinfo/\(name)"
        let probe = try c.fact(Fact("test -e \(shellQuote(zone)) || echo missing; readlink /etc/localtime; cat /etc/timezone 2>/dev/null",
                                    paths: ["/etc/localtime", "/etc/timezone"])).stdoutText
        if probe.hasPrefix("missing") { throw ModuleFailure("unknown time zone \(name) (no \(zone))") }
        let l = probe.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var p = Plan(changed: !(l.first?.hasSuffix("zoneinfo/\(name)") ?? false) || (l.count > 1 ? l[1] : "") != name)
        if p.result.changed && c.diff { p.result.diff = [FileDiff(path: "/etc/timezone", before: l.count > 1 ? l[1] + "\n" : nil, after: name + "\n")] }
        if p.result.changed {
            p.steps = [c.run("ln -sfn \(shellQuote(zone)) /etc/localtime && printf '%s\\n' \(shellQuote(name)) > /etc/timezone && { [ -d /run/systemd/system ] && command -v timedatectl >/dev/null && timedatectl set-timezone \(shellQuote(name)) || true; }",
                             what: "setting the time zone", touches: ["/etc/localtime", "/etc/timezone"])]
        }
        p.result.data["name"] = .string(name)
        return p
    }

    static let localeGen = ModuleSpec(name: "locale_gen", arguments: ["name", "state"], required: ["name"]) { c in
        let name = try c.required("name")
        // A locale name is one word of /etc/locale.gen: letters, digits, _ . - @ (fr_FR.UTF-8, ca_ES@valencia).
        guard !name.isEmpty, name.count <= 64, name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-@".unicodeScalars.contains($0)) }) else {
            throw ModuleFailure("locale_gen: '\(name.debugDescription.dropFirst().dropLast())' is not a locale name (such as fr_FR.UTF-8)")
        }
        let present = (c.string("state") ?? "present") == "present"
        let available = try c.fact(.command("locale -a 2>/dev/null")).stdoutText.split(separator: "\n").map { normalize(String($0)) }
        let have = available.contains(normalize(name))
        guard have != present else { return .none }
        var p = try FileEdit.plan(c, path: "/etc/locale.gen") { old in editLocaleGen(old, name: name, present: present) }
        p.result.changed = true
        p.steps.append(c.run("locale-gen", what: "locale-gen"))
        return p
    }

    static func normalize(_ locale: String) -> String { locale.lowercased().replacingOccurrences(of: "utf-8", with: "utf8") }

    /// /etc/locale.gen with `name` enabled (uncommented or added) or disabled (commented).
    static func editLocaleGen(_ old: String?, name: String, present: Bool) -> String {
        var lines = FileEdit.lines(old)
        let charset = name.split(separator: ".").last.map { String($0).uppercased() == "UTF-8" || String($0).lowercased() == "utf8" ? "UTF-8" : String($0) } ?? "UTF-8"
        let entry = "\(name) \(name.contains(".") ? charset : "ISO-8859-1")"
        let matches: (String) -> Bool = { l in
            let body = l.hasPrefix("#") ? String(l.dropFirst()).trimmed : l.trimmed
            return body.split(separator: " ").first.map { String($0) == name } ?? false
        }
        if let i = lines.firstIndex(where: matches) {
            let body = lines[i].hasPrefix("#") ? String(lines[i].dropFirst()).trimmed : lines[i].trimmed
            lines[i] = present ? body : "# " + body
        } else if present {
            lines.append(entry)
        }
        return FileEdit.text(lines)
    }
}

/// cron, sysctl, mount, apt_repository, deb822_repository: system files edited line by line.
enum SystemFileModules {
    static let cron = ModuleSpec(name: "cron", arguments: ["name", "minute", "hour", "day", "month", "weekday", "job", "value", "user", "state",
                                                          "special_time", "disabled", "cron_file", "env", "insertafter", "insertbefore", "backup"],
                                 required: ["name"]) { c in
        let user = c.string("user")
        if let file = c.string("cron_file") {
            // A file of /etc/cron.d (or an absolute path): each line names its user.
            guard file != "/etc/crontab" else { throw ModuleFailure("Will not manage /etc/crontab via cron_file, see documentation.") }
            let path = file.hasPrefix("/") ? file : "/etc/cron.d/\(file)"
            var edit: CronEdit? = nil
            var p = try FileEdit.plan(c, path: path, mode: 0o644, backup: c.bool("backup")) { before in
                edit = try CronEdit(before, args: c.args, inFile: true)
                return edit!.removesFile ? nil : edit!.changed ? edit!.rendered : before
            }
            p.result.data["jobs"] = .list((edit?.jobNames ?? []).map { .string($0) })
            p.result.data["envs"] = .list((edit?.envNames ?? []).map { .string($0) })
            p.result.data["cron_file"] = .string(file)
            return p
        }
        let owner = user.map { " -u \(shellQuote($0))" } ?? ""
        let current = try c.fact(.command("command -v crontab >/dev/null || { echo parc-no-crontab; exit 0; }; crontab -l\(owner) 2>/dev/null || true"))
        if current.stdoutText == "parc-no-crontab\n" { throw ModuleFailure("crontab is not installed on the device (apt: name=cron)") }
        let edit = try CronEdit(CronEdit.withoutHeader(current.stdoutText), args: c.args, inFile: false)
        var p = Plan(changed: edit.changed)
        p.result.data["jobs"] = .list(edit.jobNames.map { .string($0) })
        p.result.data["envs"] = .list(edit.envNames.map { .string($0) })
        if edit.changed && c.diff { p.result.diff = [FileDiff(path: "crontab for user \"\(user ?? "root")\"", before: edit.existing, after: edit.rendered)] }
        if edit.changed && !c.check {
            let bytes = Array(edit.rendered.utf8)
            p.steps = [c.run("head -c \(bytes.count) <&3 | crontab\(owner) -", input: bytes, what: "installing the crontab of \(user ?? "root")")]
        }
        return p
    }

    /// A crontab (or a cron.d file) changed as Ansible's cron module changes it: entries behind
    /// `#Ansible: NAME`, an entry found by its line when it has no marker yet, variables
    /// (`env: yes`) at the top or after / before another, a cron.d file removed when its last
    /// entry goes.
    struct CronEdit {
        static let marker = "#Ansible: "
        let existing: String
        var lines: [String]
        var changed = false
        var removesFile = false

        var rendered: String {
            let text = lines.joined(separator: "\n")
            guard !text.isEmpty else { return "" }
            var trimmed = Substring(text)
            while let last = trimmed.last, last == "\n" || last == "\r" { trimmed = trimmed.dropLast() }
            return trimmed + "\n"
        }
        var jobNames: [String] { lines.filter { $0.hasPrefix(Self.marker) }.map { String($0.dropFirst(Self.marker.count)) } }
        var envNames: [String] { lines.filter { $0.range(of: #"^\S+="#, options: .regularExpression) != nil }.map { String($0.split(separator: "=", omittingEmptySubsequences: false)[0]) } }

        /// `crontab -l` without the three header lines some crontabs print.
        static func withoutHeader(_ text: String) -> String {
            var out = text
            for (count, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where count <= 2 {
                if line.hasPrefix("# DO NOT EDIT THIS FILE - edit the master and reinstall.")
                    || line.range(of: #"^# \(/tmp/.*installed on.*\)"#, options: .regularExpression) != nil
                    || line.range(of: #"^# \(.*version.*\)"#, options: .regularExpression) != nil,
                   let r = out.range(of: line + "\n") ?? out.range(of: String(line)) {
                    out.removeSubrange(r)
                }
            }
            return out
        }

        init(_ text: String?, args: [String: Value], inFile: Bool) throws {
            existing = text ?? ""
            lines = existing.isEmpty ? [] : existing.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
            if existing.hasSuffix("\n") { lines.removeLast() }
            let name = args["name"]?.description ?? ""
            let present = (args["state"]?.string ?? "present") == "present"
            let job = (args["job"] ?? args["value"]).map(\.description)
            let user = args["user"]?.description
            let times = ["minute", "hour", "day", "month", "weekday"].map { args[$0]?.description ?? "*" }
            let special = args["special_time"]?.string
            if special != nil && times.contains(where: { $0 != "*" }) {
                throw ModuleFailure("You cannot combine special_time with any of the time or day/date parameters.")
            }
            let env = args["env"]?.truthy ?? false
            let after = args["insertafter"]?.string, before = args["insertbefore"]?.string
            if present {
                if inFile && user == nil { throw ModuleFailure("To use cron_file=... parameter you must specify user=... as well") }
                guard job != nil else { throw ModuleFailure("You must specify 'job' to install a new cron job or variable") }
                if (after != nil || before != nil) && !env { throw ModuleFailure("Insertafter and insertbefore parameters are valid only with env=yes") }
            }
            if env {
                if name.contains(" ") { throw ModuleFailure("Invalid name for environment variable") }
                let declaration = "\(name)=\"\(job ?? "")\""
                let old = findEnv(name)
                if present {
                    if let old, lines[old] != declaration { replaceEnv(name, with: declaration); changed = true }
                    if old == nil { try addEnv(declaration, after: after, before: before); changed = true }
                } else if old != nil {
                    replaceEnv(name, with: nil)
                    changed = true
                }
            } else if present {
                var body = job!
                while let l = body.last, l == "\r" || l == "\n" { body.removeLast() }
                while let f = body.first, f == "\r" || f == "\n" { body.removeFirst() }
                let prefix = (args["disabled"]?.truthy ?? false) ? "#" : ""
                let owner = inFile ? " \(user!)" : ""
                let line = special.map { "\(prefix)@\($0)\(owner) \(body)" } ?? "\(prefix)\(times.joined(separator: " "))\(owner) \(body)"
                switch findJob(name, line: line) {
                case nil:
                    lines.append(Self.marker + name)
                    lines.append(line)
                    changed = true
                case let (found, inserted)?:
                    if found != line || inserted { replaceJob(name, with: line); changed = true }
                }
            } else if findJob(name, line: nil) != nil {
                replaceJob(name, with: nil)
                changed = true
                if inFile && lines.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { removesFile = true }
            }
            // Nothing else to do, but a crontab without its last newline gets one.
            if !changed && !existing.isEmpty && !(existing.hasSuffix("\n") || existing.hasSuffix("\r")) { changed = true }
        }

        /// The entry behind NAME's marker, or (with `line`) a line equal to it, which gets the marker.
        mutating func findJob(_ name: String, line: String?) -> (line: String, inserted: Bool)? {
            var comment: String? = nil
            for l in lines {
                if let c = comment {
                    if c == name { return (l, false) }
                    comment = nil
                } else if l.hasPrefix(Self.marker) {
                    comment = String(l.dropFirst(Self.marker.count))
                }
            }
            guard let line, let i = lines.firstIndex(of: line) else { return nil }
            let previous = lines[i == 0 ? lines.count - 1 : i - 1]
            if !previous.hasPrefix(Self.marker) {
                lines.insert(Self.marker + name, at: i)
                return (line, true)
            }
            if !name.isEmpty && previous == Self.marker + "None" {
                lines[i == 0 ? lines.count - 1 : i - 1] = Self.marker + name
                return (line, true)
            }
            return nil
        }

        /// NAME's marker and the line after it replaced by the marker and `line`, or removed.
        mutating func replaceJob(_ name: String, with line: String?) {
            var out: [String] = []
            var comment: String? = nil
            for l in lines {
                if let c = comment {
                    if let line { out.append(c); out.append(line) }
                    comment = nil
                } else if l == Self.marker + name {
                    comment = l
                } else {
                    out.append(l)
                }
            }
            lines = out
        }

        func findEnv(_ name: String) -> Int? { lines.firstIndex { $0.hasPrefix(name + "=") } }

        mutating func replaceEnv(_ name: String, with declaration: String?) {
            lines = lines.compactMap { $0.hasPrefix(name + "=") ? declaration : $0 }
        }

        mutating func addEnv(_ declaration: String, after: String?, before: String?) throws {
            guard let other = after ?? before else { lines.insert(declaration, at: 0); return }
            guard let i = findEnv(other) else { throw ModuleFailure("Variable named '\(other)' not found.") }
            lines.insert(declaration, at: after != nil ? i + 1 : i)
        }
    }

    static let sysctl = ModuleSpec(name: "sysctl", arguments: ["name", "value", "state", "sysctl_file", "reload", "sysctl_set", "ignoreerrors"],
                                   required: ["name"]) { c in
        let name = try c.required("name")
        let file = c.string("sysctl_file") ?? "/etc/sysctl.conf"
        let present = (c.string("state") ?? "present") == "present"
        guard !present || c.args["value"] != nil else { throw ModuleFailure("sysctl needs value with state=present") }
        var p = try FileEdit.plan(c, path: file) { old in editSysctl(old, name: name, value: c.args["value"]?.description, present: present) }
        if p.result.changed && present && (c.args["reload"]?.truthy ?? true) {
            p.steps.append(c.run("sysctl -p \(shellQuote(file)) >/dev/null", what: "sysctl -p"))
        }
        p.result.data["name"] = .string(name)
        return p
    }

    static func editSysctl(_ old: String?, name: String, value: String?, present: Bool) -> String? {
        var lines = FileEdit.lines(old)
        let isEntry: (String) -> Bool = { l in
            let k = l.split(separator: "=", maxSplits: 1).first.map { String($0).trimmed }
            return !l.trimmed.hasPrefix("#") && k == name
        }
        let entry = "\(name)=\(value ?? "")"
        if present {
            if let i = lines.lastIndex(where: isEntry) {
                let current = lines[i].split(separator: "=", maxSplits: 1).last.map { String($0).trimmed }
                if current != value { lines[i] = entry }
            } else {
                lines.append(entry)
            }
        } else {
            lines.removeAll(where: isEntry)
        }
        if old == nil && lines.isEmpty { return nil }
        return FileEdit.text(lines)
    }

    static let mount = ModuleSpec(name: "mount", arguments: ["path", "name", "src", "fstype", "opts", "dump", "passno", "state", "fstab", "boot"],
                                  required: ["state"]) { call in
        guard let path = call.string("path") ?? call.string("name") else { throw ModuleFailure("mount needs path") }
        let state = try call.required("state")
        guard ["present", "mounted", "absent", "unmounted", "remounted"].contains(state) else {
            throw ModuleFailure("state '\(state)' is not one of present, mounted, absent, unmounted, remounted")
        }
        let fstab = call.string("fstab") ?? "/etc/fstab"
        var r = Plan(changed: false)
        if state != "unmounted" && state != "remounted" {
            if state != "absent" && (call.string("src") == nil || call.string("fstype") == nil) { throw ModuleFailure("mount needs src and fstype") }
            let entry = state == "absent" ? nil : try fstabEntry(src: try call.required("src"), path: path, fstype: try call.required("fstype"),
                                                                 opts: call.string("opts") ?? "defaults", dump: call.args["dump"]?.description ?? "0",
                                                                 passno: call.args["passno"]?.description ?? "0")
            if entry == nil { _ = try fstabEntry(src: "none", path: path, fstype: "none", opts: "defaults", dump: "0", passno: "0") }
            r = try FileEdit.plan(call, path: fstab) { old in
                editFstab(old ?? "", path: escapeFstab(path), entry: entry)
            }
        }
        let mounted = try call.fact(.command("mountpoint -q \(shellQuote(path))")).succeeded
        let command: String? = switch state {
        case "mounted": mounted ? nil : "mkdir -p \(shellQuote(path)) && mount \(shellQuote(path))"
        case "unmounted", "absent": mounted ? "umount \(shellQuote(path))" : nil
        case "remounted": "mount -o remount \(shellQuote(path))"
        default: nil
        }
        if let command {
            r.result.changed = true
            r.steps.append(call.run(command, what: command))
        }
        return r
    }

    /// One fstab line's fields, checked as the format requires: no control character anywhere (a
    /// newline would add a line), spaces, tabs and backslashes in the device and the mount point
    /// written as fstab's octal escapes (as Ansible does), a type and options without blanks,
    /// dump and pass numbers.
    static func fstabEntry(src: String, path: String, fstype: String, opts: String, dump: String, passno: String) throws -> [String] {
        for (name, value) in [("src", src), ("path", path), ("fstype", fstype), ("opts", opts), ("dump", dump), ("passno", passno)] {
            if value.isEmpty { throw ModuleFailure("mount: \(name) is empty") }
            if let c = value.unicodeScalars.first(where: { $0.properties.generalCategory == .control && $0 != " " && $0 != "\t" }) {
                throw ModuleFailure("mount: \(name) holds a control character (U+\(String(format: "%04X", c.value))); /etc/fstab takes one entry per line")
            }
        }
        guard path.hasPrefix("/") || path == "none" || path == "swap" else { throw ModuleFailure("mount: path must be absolute, not '\(path)'") }
        for (name, value) in [("fstype", fstype), ("opts", opts)] where value.contains(where: { $0 == " " || $0 == "\t" }) {
            throw ModuleFailure("mount: \(name) '\(value)' cannot hold blanks in /etc/fstab")
        }
        for (name, value) in [("dump", dump), ("passno", passno)] where !value.allSatisfy(\.isASCII) || Int(value) == nil {
            throw ModuleFailure("mount: \(name) must be a number, not '\(value)'")
        }
        return [escapeFstab(src), escapeFstab(path), fstype, opts, dump, passno]
    }

    static func escapeFstab(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\134").replacingOccurrences(of: " ", with: "\\040").replacingOccurrences(of: "\t", with: "\\011")
    }

    /// /etc/fstab with the line for `path` set to `entry` (or removed when nil).
    static func editFstab(_ old: String, path: String, entry: [String]?) -> String {
        var lines = FileEdit.lines(old)
        let isEntry: (String) -> Bool = { l in
            let f = l.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return !l.trimmed.hasPrefix("#") && f.count >= 2 && f[1] == path
        }
        let line = entry?.joined(separator: "\t")
        if let i = lines.firstIndex(where: isEntry) {
            let current = lines[i].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if let entry, current == entry { return old }
            if let line { lines[i] = line } else { lines.remove(at: i) }
        } else if let line {
            lines.append(line)
        }
        return FileEdit.text(lines)
    }

    static let aptRepository = ModuleSpec(name: "apt_repository", arguments: ["repo", "state", "filename", "update_cache", "mode", "codename"],
                                          required: ["repo"]) { c in
        let repo = try c.required("repo")
        let file = "/etc/apt/sources.list.d/\(c.string("filename") ?? repoFileName(repo)).list"
        let present = (c.string("state") ?? "present") == "present"
        var p = try FileEdit.plan(c, path: file, mode: try Modules.mode(c.args["mode"]).flatMap { UInt32($0, radix: 8) }) { old in
            var lines = FileEdit.lines(old)
            if present { if !lines.contains(repo) { lines.append(repo) } } else { lines.removeAll { $0 == repo } }
            return old == nil && lines.isEmpty ? nil : (lines.isEmpty && !present ? nil : FileEdit.text(lines))
        }
        if p.result.changed && (c.args["update_cache"]?.truthy ?? true) {
            p.steps.append(c.run("DEBIAN_FRONTEND=noninteractive apt-get update -q", what: "apt-get update"))
        }
        return p
    }

    /// Ansible's file name for a repository line: its URL's host and path, with underscores.
    static func repoFileName(_ repo: String) -> String {
        let url = repo.split(separator: " ").first { $0.contains("://") }.map(String.init) ?? repo
        let stripped = url.replacingOccurrences(of: #"^[a-z+]+://"#, with: "", options: .regularExpression)
        return stripped.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "_"))
    }

    /// deb822_repository's fields, as Ansible's module takes them (besides name, mode, state).
    static let deb822Fields = ["allow_downgrade_to_insecure", "allow_insecure", "allow_weak", "architectures", "by_hash", "check_date",
                               "check_valid_until", "components", "date_max_future", "enabled", "inrelease_path", "languages", "pdiffs",
                               "signed_by", "suites", "targets", "trusted", "types", "uris"]

    /// A `.sources` file as Ansible's module writes it: named by the name's slug, every given
    /// field in alphabetical order of its argument (`date_max_future` → `Date-Max-Future`),
    /// booleans as yes/no, lists space-separated, an inline key as a multi-line field.
    static let deb822Repository = ModuleSpec(name: "deb822_repository", arguments: Set(deb822Fields + ["name", "mode", "state"]),
                                             required: ["name"]) { call in
        let slug = deb822Slug(try call.required("name"))
        let file = "/etc/apt/sources.list.d/\(slug).sources"
        let state = call.string("state") ?? "present"
        guard ["present", "absent"].contains(state) else { throw ModuleFailure("value of state must be one of: present, absent, got: \(state)") }
        if let types = call.args["types"], let bad = (types.list ?? [types]).map(\.description).first(where: { !["deb", "deb-src"].contains($0) }) {
            throw ModuleFailure("value of types must be one or more of: deb, deb-src. Got no match for: \(bad)")
        }
        // signed_by as an address: the key fetched by the device (in check mode too, as Ansible's)
        // into /etc/apt/keyrings/SLUG.asc (armored) or .gpg, and the file named in Signed-By.
        var args = call.args
        var keySteps: [Step] = [], keyChanged = false, keyFile: String?
        if state == "present", let url = call.string("signed_by"), url.contains("://") {
            let fetched = try call.fact(Fact("curl -fsSL --user-agent ansible-httpget -- \(shellQuote(url)) | base64 -w0", paths: nil, askedAhead: false))
            guard fetched.succeeded, let key = Data(base64Encoded: fetched.stdoutText.trimmed), !key.isEmpty else {
                throw ModuleFailure("Could not fetch signed_by key: \(url): \(fetched.stderrText.trimmed.isEmpty ? "nothing was received" : fetched.stderrText.trimmed)")
            }
            let armored = String(decoding: key, as: UTF8.self).contains("-----BEGIN PGP PUBLIC KEY BLOCK-----")
            let path = "/etc/apt/keyrings/\(slug).\(armored ? "asc" : "gpg")"
            keyFile = path
            args["signed_by"] = .string(path)
            let have = try call.facts([.checksum(path), .path("/etc/apt/keyrings")])
            let sameKey = have[0].stdoutText.hasPrefix(SHA256.hex(Array(key)) + " ")
            let info = have[0].stdoutText.split(separator: "\n").dropFirst().first.map { Modules.pathInfo(String($0)) } ?? [:]
            let folder = PathState.parse(have[1].stdoutText)
            if folder.kind != .directory {
                keyChanged = true
                keySteps.append(call.run("mkdir -p -m 755 /etc/apt/keyrings && chown root:root /etc/apt/keyrings", what: "making /etc/apt/keyrings", touches: ["/etc/apt/keyrings"]))
            }
            if !sameKey {
                keyChanged = true
                keySteps.append(.write(path, Array(key), mode: 0o644))
            } else if info["mode"] != .string("0644") {
                keyChanged = true
                keySteps.append(call.run("chmod 0644 -- \(shellQuote(path))", what: "the mode of \(path)", touches: [path]))
            }
        }
        let content = state == "present" ? try deb822(args) : nil
        var p = try FileEdit.plan(call, path: file, mode: try Modules.mode(call.args["mode"] ?? .string("0644")).flatMap { UInt32($0, radix: 8) }) { _ in content }
        if keyChanged {
            p.result.changed = true
            if !call.check { p.steps.insert(contentsOf: keySteps, at: 0) }
        }
        p.result.data["key_filename"] = keyFile.map { .string($0) } ?? .null
        if content == nil {
            // Its keys in /etc/apt/keyrings go with it.
            let keys = ["asc", "gpg"].map { "/etc/apt/keyrings/\(slug).\($0)" }
            let present = try call.fact(Fact("for f in \(keys.map(shellQuote).joined(separator: " ")); do [ -e \"$f\" ] && echo \"$f\"; done; true", paths: keys))
                .stdoutText.split(separator: "\n").map(String.init)
            if !present.isEmpty {
                p.result.changed = true
                if !call.check { p.steps.append(call.run("rm -f -- \(present.map(shellQuote).joined(separator: " "))", what: "removing the repository's keys", touches: present)) }
            }
        }
        p.result.data["dest"] = .string(file)
        p.result.data["repo"] = content.map { .string($0) } ?? .null
        return p
    }

    /// The file name Ansible derives from a repository's name: lower case, `_` and spaces as
    /// `-`, anything but letters, digits and `-` dropped.
    static func deb822Slug(_ name: String) -> String {
        let dashed = name.lowercased().replacing(/[_\s]+/, with: "-")
        return String(dashed.unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }.map(Character.init))
    }

    static func deb822(_ args: [String: Value]) throws -> String {
        var fields = args.filter { deb822Fields.contains($0.key) || $0.key == "name" }
        if fields["types"] == nil { fields["types"] = .list([.string("deb")]) }
        var out = ""
        for key in fields.keys.sorted() {
            var text: String
            switch fields[key]! {
            case .null: continue
            case .bool(let b): text = b ? "yes" : "no"
            case .list(let items): text = items.map(\.description).joined(separator: " ")
            case let other where ["allow_downgrade_to_insecure", "allow_insecure", "allow_weak", "by_hash", "check_date",
                                  "check_valid_until", "enabled", "pdiffs", "trusted"].contains(key):
                text = other.truthy ? "yes" : "no"
            case let other: text = other.description
            }
            if text.contains("\n") {
                // A multi-line value (an inline key): on the lines after the field, indented, `.` for an empty line.
                text = "\n" + text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n", omittingEmptySubsequences: false)
                    .map { line in "    " + (line.trimmingCharacters(in: .whitespaces).isEmpty ? "." : line.trimmingCharacters(in: .whitespaces)) }
                    .joined(separator: "\n")
            }
            let field = key == "name" ? "X-Repolib-Name" : key == "uris" ? "URIs"
                : key.replacingOccurrences(of: "_", with: "-").split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined(separator: "-")
            out += text.hasPrefix("\n") || text.isEmpty ? "\(field):\(text)\n" : "\(field): \(text)\n"
        }
        return out
    }
}

/// get_url, unarchive, ufw.
enum TransferModules {
    static let getURL = ModuleSpec(name: "get_url", arguments: ["url", "dest", "mode", "owner", "group", "checksum", "force", "timeout", "validate_certs",
                                                                "headers", "decompress", "url_username", "url_password", "username", "password", "force_basic_auth", "use_netrc"],
                                   required: ["url", "dest"]) { c in
        let url = try c.required("url"), dest = try c.required("dest")
        let d = shellQuote(dest)
        var want: String? = nil
        if let checksum = c.string("checksum") {
            let parts = checksum.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0] == "sha256" else { throw ModuleFailure("checksum: give sha256:HEX") }
            want = parts[1].lowercased()
        }
        let have = try c.fact(Fact("[ -f \(d) ] && sha256sum -- \(d) | cut -d' ' -f1", paths: [dest])).stdoutText.trimmed
        var p = Plan(changed: false)
        p.result.data["dest"] = .string(dest)
        if !have.isEmpty && (want.map { $0 == have } ?? !(c.args["force"]?.truthy ?? false)) { return p }
        p.result.changed = true
        let tmp = shellQuote("\((dest as NSString).deletingLastPathComponent)/.parc-get-\(UUID().uuidString.prefix(8))")
        let mode = try Modules.mode(c.args["mode"]) ?? "644"
        // headers and credentials reach curl (or wget) from private files read on descriptor 3,
        // never on a command line: a token or password does not show in the device's process
        // list. (Descriptor 3 carries the session's later input too: exactly their bytes are read.)
        let headers = try requestHeaders(c.args["headers"])
        let user = c.string("url_username") ?? c.string("username"), password = c.string("url_password") ?? c.string("password")
        if password != nil && user == nil { throw ModuleFailure("url_password needs url_username") }
        // force_basic_auth sends the credentials with the first request; without it, only when
        // the server asks for them (a 401), as Ansible's urllib.
        let preemptive = c.bool("force_basic_auth")
        var curlConfig = headers.map { "header = \(curlQuoted($0))\n" }.joined()
        var wgetConfig = headers.map { "header = \($0)\n" }.joined()
        if let user {
            curlConfig += "user = \(curlQuoted(user + ":" + (password ?? "")))\n" + (preemptive ? "basic\n" : "anyauth\n")
            wgetConfig += "user = \(user)\npassword = \(password ?? "")\n" + (preemptive ? "auth_no_challenge = on\n" : "")
        }
        if (user.map { $0.contains(where: \.isNewline) } ?? false) || (password.map { $0.contains(where: \.isNewline) } ?? false) {
            throw ModuleFailure("url_username / url_password span lines")
        }
        let private_ = !curlConfig.isEmpty
        // use_netrc (Ansible's default): the device's ~/.netrc gives credentials the task does not.
        let netrc = c.args["use_netrc"]?.truthy ?? true
        var script = "t=\(tmp); h=; trap 'rm -f \"$t\" ${h:+\"$h\" \"$h.rc\"}' EXIT; "
        if private_ {
            script += "h=$(mktemp) && head -c \(curlConfig.utf8.count) <&3 > \"$h\" && head -c \(wgetConfig.utf8.count) <&3 > \"$h.rc\" || exit 2; "
        }
        // validate_certs: no skips the server's certificate check (as Ansible's, for a school's self-signed server).
        let insecure = c.args["validate_certs"].map { !$0.truthy } ?? false
        script += "if command -v curl >/dev/null; then "
            + "curl -fsSL\(insecure ? " -k" : "")\((c.args["decompress"]?.truthy ?? true) ? " --compressed" : "") --max-time \(Int(c.args["timeout"]?.description ?? "") ?? 60)"
            + (private_ ? " -K \"$h\"" : "") + (netrc ? " --netrc-optional" : "") + " -o \"$t\" \(shellQuote(url)); else "
            + "wget -q\(insecure ? " --no-check-certificate" : "")" + (private_ ? " --config=\"$h.rc\"" : "") + (netrc ? "" : " -e netrc=off")
            + " -O \"$t\" \(shellQuote(url)); fi || exit 2; "
        if let want { script += "[ \"$(sha256sum -- \"$t\" | cut -d' ' -f1)\" = \(want) ] || { echo 'checksum mismatch' >&2; exit 3; }; " }
        script += "chmod \(mode) \"$t\" && "
        if let o = c.string("owner") { script += "chown \(shellQuote(o)) \"$t\" && " }
        if let g = c.string("group") { script += "chgrp \(shellQuote(g)) \"$t\" && " }
        script += "sync -- \"$t\" && mv -f -- \"$t\" \(d)"
        p.steps = [c.run(script, input: Array((curlConfig + wgetConfig).utf8), what: "downloading \(url)", touches: [dest])]
        return p
    }

    /// A value in curl's config syntax: double quotes, `\\` and `"` escaped.
    static func curlQuoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// get_url's `headers`: a mapping, or Ansible's older `Name:value,Name:value` text; each as `Name: value`.
    static func requestHeaders(_ value: Value?) throws -> [String] {
        let pairs: [(String, String)]
        switch value {
        case nil, .null?: return []
        case .map(let m)?: pairs = m.keys.map { ($0, m[$0]!.description) }
        case .string(let text)?:
            pairs = try text.split(separator: ",").map { part in
                guard let colon = part.firstIndex(of: ":") else { throw ModuleFailure("headers: '\(part)' is not Name:value (give headers as a mapping)") }
                return (String(part[..<colon]).trimmed, String(part[part.index(after: colon)...]).trimmed)
            }
        default: throw ModuleFailure("headers is a mapping of header names to values")
        }
        for (name, value) in pairs where name.isEmpty || name.contains(where: { $0 == ":" || $0.isNewline || $0 == " " }) || value.contains(where: \.isNewline) {
            throw ModuleFailure("headers: '\(name)' is not a header name, or its value spans lines")
        }
        return pairs.map { "\($0.0): \($0.1)" }
    }

    /// unarchive as Ansible's: an archive of the control node (sent on fd 3) or, with
    /// `remote_src`, one already on the device, extracted into an existing folder unless the same
    /// files are there; `list_files` gives its members.
    static let unarchive = ModuleSpec(name: "unarchive", arguments: ["src", "dest", "creates", "remote_src", "mode", "owner", "group", "list_files", "keep_newer",
                                                                      "include", "exclude", "validate_certs", "extra_opts"],
                                      required: ["src", "dest"]) { c in
        let src = try c.required("src"), dest = try c.required("dest")
        if let creates = c.string("creates"), try c.fact(.path(creates)).stdoutText != "absent\n" { return Plan(changed: false, msg: "skipped, since \(creates) exists") }
        // A zip by its name; anything else is given to GNU tar, which knows its compression
        // (gzip, bzip2, xz, zstd) from its content, as Ansible tries its tar handlers in turn.
        let zip = src.lowercased().hasSuffix(".zip")
        let d = shellQuote(dest)
        let bytes: [UInt8]
        let stage: String
        // An archive by its address: the device downloads it once, into a private temporary file
        // the probe keeps for the extraction (which removes it) when there is something to extract.
        let download = c.bool("remote_src") && src.contains("://")
        var fetch = ""
        if download {
            bytes = []
            let k = (c.args["validate_certs"].map { !$0.truthy } ?? false) ? (curl: " -k", wget: " --no-check-certificate") : (curl: "", wget: "")
            let url = shellQuote(src)
            fetch = "if command -v curl >/dev/null; then r=$(curl -fsSL\(k.curl) -o \"$a\" -- \(url) 2>&1); else r=$(wget -q\(k.wget) -O \"$a\" -- \(url) 2>&1); fi "
                + "|| { printf 'Failure downloading %s, %s\\n' \(url) \"$r\" >&2; exit 7; }; "
            stage = "a=$(mktemp) || exit 1; trap 'rm -f -- \"$a\"' EXIT; " + fetch
        } else if c.bool("remote_src") {
            bytes = []
            stage = "a=\(shellQuote(src)); [ -f \"$a\" ] || { echo \(shellQuote("Source '\(src)' does not exist")) >&2; exit 4; }; "
        } else {
            bytes = Array(FileManager.default.contents(atPath: try CopyModule.localFile(src, in: c.searchDirectories, folder: "files")) ?? Data())
            // The archive reaches the device on fd 3, into a private temporary file removed at the end.
            stage = "a=$(mktemp) || exit 1; trap 'rm -f -- \"$a\"' EXIT; head -c \(bytes.count) <&3 > \"$a\" || exit 1; "
        }
        // Its members, then whether the same files are already there: GNU tar compares
        // (`--diff`); for zip, every member must exist.
        // include / exclude: members (globs) kept or left out, in the listing, the comparison and
        // the extraction alike (as Ansible's handlers pass them to tar and unzip).
        func patterns(_ key: String) throws -> [String] {
            switch c.args[key] {
            case nil, .null?: return []
            case .list(let l)?: return l.map(\.description)
            case .string(let s)?: return s.split(separator: ",").map { String($0).trimmed }
            default: throw ModuleFailure("\(key) is a list of members")
            }
        }
        let include = try patterns("include"), exclude = try patterns("exclude")
        if !include.isEmpty && !exclude.isEmpty { throw ModuleFailure("parameters are mutually exclusive: include|exclude") }
        let zipMembers = include.map(shellQuote).map { " " + $0 }.joined() + (exclude.isEmpty ? "" : " -x" + exclude.map { " " + shellQuote($0) }.joined())
        let tarExclude = exclude.map { " --exclude=\(shellQuote($0))" }.joined()
        let tarInclude = include.isEmpty ? "" : " --wildcards --" + include.map { " " + shellQuote($0) }.joined()
        // extra_opts: given to tar when it lists, compares and extracts (names as transformed), to
        // unzip when it extracts, as Ansible's handlers give them. tar by its path, as Ansible runs it.
        let extra: String
        switch c.args["extra_opts"] {
        case nil, .null?: extra = ""
        case .list(let l)?: extra = l.map { " " + shellQuote($0.description) }.joined()
        default: throw ModuleFailure("extra_opts is a list of options")
        }
        let tarOpts = extra.isEmpty ? "" : " --show-transformed-names" + extra
        let list = zip ? "unzip -Z1 \"$a\"\(zipMembers)" : "\"$tar\" -tf \"$a\"\(tarOpts)\(tarExclude)\(tarInclude)"
        // mode / owner / group: Ansible sets them on each member after extracting (not on dest
        // itself), and compares them with what it wants, not the archive's: tar's differences in
        // what the task sets are not differences of content.
        let mode: String?
        switch c.args["mode"] {
        case nil, .null?: mode = nil
        case .string(let text)? where !text.trimmed.allSatisfy({ ("0"..."7").contains($0) }):
            _ = try Modules.symbolic(text.trimmed, current: 0, isDirectory: false)  // Ansible's refusal of a clause, before anything runs
            mode = text.trimmed
        case let value?: mode = try Modules.mode(value)
        }
        let owner = c.string("owner"), group = c.string("group")
        var ignored: [String] = []
        if mode != nil { ignored.append("Mode") }
        if owner != nil { ignored.append("Uid") }
        if group != nil { ignored.append("Gid") }
        let tarDiff = "\"$tar\" --diff -f \"$a\"\(extra)\(tarExclude) -C \(d)\(tarInclude)"
        let same = zip
            ? "(cd \(d) && unzip -Z1 \"$a\"\(zipMembers) | while read -r f; do [ -e \"$f\" ] || exit 1; done)"
            : ignored.isEmpty ? "\(tarDiff) >/dev/null 2>&1"
            : "[ -z \"$(LC_ALL=C \(tarDiff) 2>&1 | grep -v\(ignored.map { " -e ': \($0) differs$'" }.joined()))\" ]"
        // Ansible's zip handler needs both unzip and zipinfo (one Debian package); without them it
        // names what is missing.
        let tools = zip ? "m=; command -v unzip >/dev/null || m=unzip; command -v zipinfo >/dev/null || m=\"${m:+$m' or '}zipinfo\"; "
            + "[ -z \"$m\" ] || { echo \"Unable to find required '$m' binary in the path.\" >&2; exit 6; }; " : ""
        // A download to extract is kept (its path after the folder), not removed with the probe.
        let keep = download && !c.check ? "else trap - EXIT; echo \"$a\"; " : ""
        let probe = try c.fact(Fact(stage + tools + "tar=$(command -v tar || echo tar); [ -d \(d) ] || { echo parc-no-dest; exit 0; }; \(list) || exit 5; echo '==parc=='; if \(same); then echo same; \(keep)fi; echo '==parc=='; pwd",
                                    input: bytes, paths: [dest] + (c.bool("remote_src") && !src.contains("://") ? [src] : []), askedAhead: !download))
        guard probe.succeeded else {
            if probe.exitStatus == 7 { throw ModuleFailure(probe.stderrText.trimmed) }
            if probe.exitStatus == 6 {
                throw ModuleFailure("Failed to find handler for \"\(src)\". Make sure the required command to extract the file is installed.\n\(probe.stderrText.trimmed)")
            }
            throw ModuleFailure(probe.exitStatus == 4 ? "Source '\(src)' does not exist" : "Unable to list files in the archive: \(probe.stderrText.trimmed)")
        }
        if probe.stdoutText == "parc-no-dest\n" { throw ModuleFailure("Destination '\(dest)' is not a directory") }
        let parts = probe.stdoutText.components(separatedBy: "==parc==\n")
        let members = (parts.first ?? "").split(separator: "\n").map { Value.string(String($0)) }
        let kept = parts.count > 1 && parts[1] != "same\n" ? parts[1].trimmed : ""
        var p = Plan(changed: false)
        p.result.data["dest"] = .string(dest)
        if !dest.hasPrefix("/"), parts.count > 2 {
            // As Ansible's: relative to where the module runs (the login folder), and said.
            let absolute = ((parts[2].trimmed + "/" + dest) as NSString).standardizingPath
            p.result.warnings.append("Relative destination path '\(dest)' was resolved to absolute path '\(absolute)'.")
        }
        p.result.data["src"] = .string(src)
        if c.bool("list_files") { p.result.data["files"] = .list(members) }
        // The members' owner, group and mode, set one by one (links left alone); `-c` prints what changed.
        var attributes: Step?
        if mode != nil || owner != nil || group != nil {
            // The members, then the top folders of their paths (an archive that does not list
            // `top/` itself still makes it: Ansible sets its attributes too).
            var targets = members.map(\.description)
            var seen = Set(targets)
            for m in members.map(\.description) where m.contains("/") {
                let top = String(m.prefix { $0 != "/" })
                if !seen.contains(top) && !seen.contains(top + "/") { targets.append(top); seen.insert(top) }
            }
            var each = ""
            if owner != nil || group != nil { each += "chown -c \(shellQuote((owner ?? "") + (group.map { ":" + $0 } ?? ""))) -- \"$f\" || e=1; " }
            if let mode { each += "chmod -c \(shellQuote(mode)) -- \"$f\" || e=1; " }
            var step = c.run("cd \(d) || exit 1; e=0; while IFS= read -r f; do [ -L \"$f\" ] || { \(each)}; done <&3; exit $e",
                             input: Array(targets.map { "\($0)\n" }.joined().utf8), what: "setting the owner and mode of \(src)'s files",
                             touches: [dest])
            step.isResult = true
            step.removesTree = true
            attributes = step
            p.finish = { r, out in if !out.stdout.isEmpty { r.changed = true } }
        }
        if parts.count > 1 && parts[1] == "same\n" {
            if let attributes { p.steps = [attributes] }
            return p
        }
        // keep_newer: a file on the device newer than the archive's stays (GNU tar's own rule; unzip's -u).
        let keepNewer = c.bool("keep_newer")
        // The probe's download when it kept one (fetched again only if it is gone meanwhile).
        let fetched = download && kept.hasPrefix("/")
            ? "a=\(shellQuote(kept)); trap 'rm -f -- \"$a\"' EXIT; [ -s \"$a\" ] || " + fetch : stage
        let extract = fetched + (zip ? "unzip \(keepNewer ? "-u" : "-o") -q\(extra) \"$a\"\(zipMembers) -d \(d)"
                                   : "tar -xf \"$a\"\(keepNewer ? " --keep-newer-files" : "")\(extra)\(tarExclude) -C \(d)\(tarInclude)")
        p.steps = [c.run(extract, input: bytes, what: "extracting \(src)", touches: [dest])]
        p.steps[0].removesTree = true
        if let attributes { p.steps.append(attributes) }
        p.result.changed = true
        return p
    }

    static let ufw = ModuleSpec(name: "ufw", arguments: ["state", "rule", "port", "proto", "from_ip", "to_ip", "direction", "comment", "policy",
                                                        "logging", "delete"]) { c in
        let status = try c.fact(.command("command -v ufw >/dev/null || { echo parc-no-ufw; exit 0; }; ufw status verbose 2>&1; echo '--'; ufw show added 2>&1")).stdoutText
        if status == "parc-no-ufw\n" { throw ModuleFailure("ufw is not installed on the device (apt: name=ufw)") }
        let commands = try plan(args: c.args, status: status)
        var p = Plan(steps: commands.map { c.run($0, what: $0) })
        if !commands.isEmpty { p.result.msg = commands.joined(separator: "; ") }
        return p
    }

    /// ufw commands for the wanted rule and state (pure, tested as data).
    static func plan(args: [String: Value], status: String) throws -> [String] {
        var out: [String] = []
        let active = status.contains("Status: active")
        if let rule = args["rule"]?.string {
            guard ["allow", "deny", "reject", "limit"].contains(rule) else { throw ModuleFailure("rule '\(rule)' is not one of allow, deny, reject, limit") }
            var spec = rule
            if let d = args["direction"]?.string { spec += " \(d)" }
            if let from = args["from_ip"]?.string, from != "any" { spec += " from \(from)" }
            if let to = args["to_ip"]?.string, to != "any" { spec += " to \(to)" }
            if let port = args["port"]?.description {
                spec += (spec.contains(" from ") || spec.contains(" to ")) ? " port \(port)" + (args["proto"].map { " proto \($0.description)" } ?? "")
                    : " \(port)" + (args["proto"].map { "/\($0.description)" } ?? "")
            }
            let delete = args["delete"]?.truthy ?? false
            let added = status.split(separator: "\n").contains { $0.trimmed == "ufw \(spec)" }
            if delete { if added { out.append("ufw delete \(spec)") } } else if !added {
                out.append("ufw \(spec)" + (args["comment"].map { " comment \(shellQuote($0.description))" } ?? ""))
            }
        }
        if let policy = args["policy"]?.string, let direction = args["direction"]?.string ?? Optional("incoming") {
            if !status.contains("\(policy) (\(direction))") { out.append("ufw default \(policy) \(direction)") }
        }
        switch args["state"]?.string {
        case "enabled"?: if !active { out.append("ufw --force enable") }
        case "disabled"?: if active { out.append("ufw disable") }
        case "reset"?: out.append("ufw --force reset")
        case "reloaded"?: out.append("ufw reload")
        case nil: break
        case let s?: throw ModuleFailure("state '\(s)' is not one of enabled, disabled, reset, reloaded")
        }
        return out
    }
}
