import Foundation
import ParcCore
import Templating

/// A path's state on a host, from one `stat`.
public struct PathState: Equatable, Sendable {
    public enum Kind: String, Sendable { case absent, file, directory, link, other }
    public var kind: Kind
    public var mode: String = ""
    public var owner: String = ""
    public var group: String = ""
    public var size: Int = 0
    public var linkTarget: String?
    /// Numeric owner and group, and the hard link count (for Ansible's add_path_info).
    public var uid: Int?, gid: Int?, links = 1

    public init(kind: Kind, mode: String = "", owner: String = "", group: String = "", size: Int = 0, linkTarget: String? = nil) {
        self.kind = kind
        self.mode = mode
        self.owner = owner
        self.group = group
        self.size = size
        self.linkTarget = linkTarget
    }

    /// One command that prints what `parse` reads.
    public static func command(_ path: String) -> String {
        let p = shellQuote(path)
        return "if [ -e \(p) ] || [ -L \(p) ]; then stat -c '%F|%a|%U|%G|%s|%u|%g|%h' -- \(p); if [ -L \(p) ]; then readlink -- \(p); fi; else echo absent; fi"
    }

    public static func parse(_ output: String) -> PathState {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.first, first != "absent" else { return PathState(kind: .absent) }
        let f = first.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard f.count >= 5 else { return PathState(kind: .other) }
        let kind: Kind = switch f[0] {
        case "regular file", "regular empty file": .file
        case "directory": .directory
        case "symbolic link": .link
        default: .other
        }
        let target = lines.count > 1 && !lines[1].isEmpty ? lines[1] : nil
        var state = PathState(kind: kind, mode: f[1], owner: f[2], group: f[3], size: Int(f[4]) ?? 0, linkTarget: kind == .link ? target : nil)
        if f.count >= 8 {
            state.uid = Int(f[5])
            state.gid = Int(f[6])
            state.links = Int(f[7]) ?? 1
        }
        return state
    }

    /// Ansible's add_path_info for this state (nothing for a path that is not there, or without
    /// its numeric owner).
    var pathInfo: [String: Value] {
        guard kind != .absent, let uid, let gid else { return [:] }
        let type = kind == .link ? "symbolic link" : kind == .directory ? "directory" : "regular file"
        return Modules.pathInfo("\(uid)|\(gid)|\(owner)|\(group)|\(mode)|\(size)|\(links)|\(type)")
    }
}

/// `file`: directory / file / absent / link / touch, with mode, owner and group.
enum FileModule {
    static let spec = ModuleSpec(name: "file", arguments: ["path", "dest", "name", "state", "mode", "owner", "group", "src", "recurse", "force",
                                                           "attributes", "attr", "access_time", "access_time_format", "modification_time",
                                                           "modification_time_format", "follow", "_diff_peek"]) { c in
        // As Ansible's: in check mode an owner or group the device does not know is a warning
        // (the play may create it before the real run), kept in the result even when it fails.
        let warnings = try lookupWarnings(c)
        do {
            var p = try body(c)
            p.result.warnings += warnings
            return p
        } catch var failure as ModuleFailure {
            if !warnings.isEmpty { failure.data["warnings"] = .list(warnings.map(Value.string)) }
            throw failure
        }
    }

    /// check_owner_exists / check_group_exists of Ansible's file module, by name or number.
    static func lookupWarnings(_ c: ModuleContext) throws -> [String] {
        guard c.check, c.string("state") != "absent" else { return [] }
        let asked = [("passwd", "user", c.string("owner")), ("group", "group", c.string("group"))].compactMap { db, word, name in name.map { (db, word, $0) } }
        guard !asked.isEmpty else { return [] }
        let answers = try c.facts(asked.map { db, _, name in Fact.command("getent \(db) -- \(shellQuote(name)) >/dev/null && echo yes || echo no") })
        return zip(asked, answers).compactMap { entry, answer in
            let (_, word, name) = entry
            guard answer.stdoutText.trimmed == "no" else { return nil }
            let byNumber = !name.isEmpty && name.allSatisfy(\.isNumber)
            return "failed to look up \(word)\(byNumber ? " with \(word == "user" ? "uid" : "gid")" : "") \(name). Create \(word) up to this point in real play"
        }
    }

    static func body(_ c: ModuleContext) throws -> Plan {
        guard let path = c.string("path") ?? c.string("dest") ?? c.string("name") else { throw ModuleFailure("missing required arguments: path") }
        if c.args["_diff_peek"].map({ $0 != .null }) == true {
            // Ansible's internal question before a diff: whether the file's first 8 KiB hold a NUL byte.
            let nuls = try c.fact(Fact("head -c 8192 -- \(shellQuote(path)) 2>/dev/null | tr -dc '\\000' | wc -c", paths: [path])).stdoutText.trimmed
            var p = Plan(changed: false)
            p.result.data["path"] = .string(path)
            p.result.data["appears_binary"] = .bool((Int(nuls) ?? 0) > 0)
            return p
        }
        let current = PathState.parse(try c.fact(.path(path)).stdoutText)
        if c.string("state") == "link", let src = c.string("src"), !src.isEmpty, !(c.args["force"]?.truthy ?? false) {
            // As Ansible's: a link to what is not there only with force (the target as seen from the link's folder).
            let target = src.hasPrefix("/") ? src : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(src)
            if try c.fact(Fact("[ -e \(shellQuote(target)) ] && echo yes || echo no", paths: [target])).stdoutText.trimmed == "no" {
                throw ModuleFailure("src file does not exist, use \"force=yes\" if you really want to create the link: \(target)",
                                    data: ["path": .string(path), "src": .string(src)])
            }
        }
        // Ansible's argument checks, after its state defaults to the path's own.
        let kindName = current.kind == .absent ? (c.bool("recurse") ? "directory" : "file")
            : current.kind == .directory ? "directory" : current.kind == .link ? "link" : current.links > 1 ? "hard" : "file"
        let state = c.string("state") ?? kindName
        if c.bool("recurse") && state != "directory" {
            throw ModuleFailure("recurse option requires state to be 'directory'", data: ["path": .string(path)])
        }
        if !(c.string("src") ?? "").isEmpty && !["link", "hard"].contains(state) {
            throw ModuleFailure("src option requires state to be 'link' or 'hard'", data: ["path": .string(path)])
        }
        // follow (Ansible's default): a link's mode and owner are its target's (load_file_common_arguments
        // resolves the path), read through the link; a dangling link's target has none.
        var followed: PathState?
        if current.kind == .link, c.args["follow"]?.truthy ?? true, c.args["mode"] != nil || c.string("owner") != nil || c.string("group") != nil {
            let q = shellQuote(path)
            followed = PathState.parse(try c.fact(Fact("if [ -e \(q) ]; then stat -L -c '%F|%a|%U|%G|%s|%u|%g|%h' -- \(q); else echo absent; fi",
                                                       paths: [path], staleAfterAnyChange: true)).stdoutText)
        }
        var commands = c.string("state") == "hard" ? try hardLink(c, path: path, current: current)
            : try plan(path: path, args: c.args, current: current, followed: followed)
        let stamps = try times(c, path: path, current: current, planned: commands)
        commands += stamps.commands
        if c.bool("recurse"), state == "directory", current.kind == .directory {
            commands += try recursive(c, path: path)
        }
        if let attributes = c.string("attributes") ?? c.string("attr"), c.string("state") != "absent" {
            // lsattr's flags as they are (absent file: after it is made), then Ansible's rule.
            let flags = current.kind == .absent ? "" : try c.fact(Fact("lsattr -d -- \(shellQuote(path)) 2>/dev/null | cut -d' ' -f1", paths: [path])).stdoutText.trimmed
            if let change = attributeChange(attributes, current: flags) {
                commands.append("chattr \(shellQuote(change)) -- \(shellQuote(path)) || { echo 'chattr failed' >&2; exit 1; }")
            }
        }
        var p = Plan(steps: commands.map { c.run($0, what: "file \(path)", touches: [path]) })
        if let i = p.steps.indices.first(where: { commands[$0].hasPrefix("rm -rf") }) { p.steps[i].removesTree = true }
        if c.diff && !commands.isEmpty { p.result.msg = commands.joined(separator: "; ") }
        // As Ansible's: touch, link and hard name the path `dest` (link and hard with their `src`),
        // the other states `path`.
        if ["touch", "link", "hard"].contains(state) {
            p.result.data["dest"] = .string(path)
            if state != "touch", let src = c.string("src") ?? current.linkTarget { p.result.data["src"] = .string(src) }
        } else {
            p.result.data["path"] = .string(path)
        }
        // Ansible's result names the path's owner, group, mode, kind and size as they are after
        // the task: as the device gave them, or read after a change (in the same round trip).
        for (k, v) in current.pathInfo { p.result.data[k] = v }
        if c.string("state") == "absent" { p.result.data["state"] = .string("absent") }
        if c.diff {
            var d = try diff(path: path, args: c.args, current: current, times: stamps)
            if c.string("state") == "absent", current.kind == .directory, case .map(var m) = d, case .map(var before)? = m["before"] {
                // As Ansible's initial_diff: what a removed folder holds, as os.walk names it (a link
                // to a folder among the folders, not walked).
                let q = shellQuote(path)
                let listed = try c.fact(Fact("find \(q) -mindepth 1 \\( -type d -o \\( -type l -xtype d \\) \\) -printf 'd%p\\n' -o -printf 'f%p\\n'", paths: [path + "/"]))
                var directories: [Value] = [], files: [Value] = []
                for line in listed.stdoutText.split(separator: "\n") {
                    if line.hasPrefix("d") { directories.append(.string(String(line.dropFirst()))) } else { files.append(.string(String(line.dropFirst()))) }
                }
                before["path_content"] = .map(["directories": .list(directories), "files": .list(files)])
                m["before"] = .map(before)
                d = .map(m)
            }
            p.result.data["diff"] = d
        }
        if !commands.isEmpty && !c.check && c.string("state") != "absent" {
            var read = Step.run("stat -c '\(Modules.pathInfoFormat)' -- \(shellQuote(path)) 2>/dev/null || :", what: "reading the attributes of \(path)", touches: [])
            read.isResult = true
            p.steps.append(read)
            p.finish = { r, out in for (k, v) in Modules.pathInfo(out.stdoutText.trimmed) { r.data[k] = v } }
        }
        return p
    }

    /// Ansible's file diff: the path, its state when it changes kind, a link's target, the mode
    /// when it changes (before / after).
    static func diff(path: String, args: [String: Value], current: PathState, times: Times = Times()) throws -> Value {
        let previous: String = switch current.kind {
        case .absent: "absent"
        case .directory: "directory"
        case .link: "link"
        case .file, .other: current.links > 1 ? "hard" : "file"
        }
        let wanted = args["state"]?.string ?? (current.kind == .absent ? "file" : previous)
        var before: OrderedMap = ["path": .string(path)], after: OrderedMap = ["path": .string(path)]
        if previous != wanted {
            before["state"] = .string(previous)
            after["state"] = .string(wanted)
        }
        if wanted == "link", let src = args["src"]?.string {
            if current.kind == .link, let old = current.linkTarget, old != src {
                before["src"] = .string(old)
                after["src"] = .string(src)
            } else if current.kind == .absent {
                after["src"] = .string(src)
            }
        }
        if current.kind != .absent, current.kind != .link, wanted != "absent",
           let mode = try Modules.mode(args["mode"], current: current.mode, isDirectory: current.kind == .directory), mode != current.mode {
            let octal = { (m: String) in "0" + String(repeating: "0", count: max(0, 3 - m.count)) + m }
            before["mode"] = .string(octal(current.mode))
            after["mode"] = .string(octal(mode))
        }
        for (k, v) in times.before { before[k] = v }
        for (k, v) in times.after { after[k] = v }
        return .map(["before": .map(before), "after": .map(after)])
    }

    /// The commands that bring `path` to the wanted state; none when it is already there.
    static func plan(path: String, args: [String: Value], current: PathState, followed: PathState? = nil) throws -> [String] {
        let p = shellQuote(path)
        let state = args["state"]?.string ?? (current.kind == .absent ? "file" : current.kind == .directory ? "directory" : current.kind == .link ? "link" : "file")
        let wantsDirectory = (args["state"]?.string ?? "") == "directory" || current.kind == .directory
        let mode = try Modules.mode(args["mode"], current: current.kind == .absent ? nil : current.mode, isDirectory: wantsDirectory)
        let owner = args["owner"]?.string
        let group = args["group"]?.string
        var commands: [String] = []
        var kindAfter = current.kind
        switch state {
        case "absent":
            return current.kind == .absent ? [] : ["rm -rf -- \(p)"]
        case "directory":
            switch current.kind {
            case .absent:
                kindAfter = .directory
                guard mode != nil || owner != nil || group != nil else { commands.append("mkdir -p -- \(p)"); break }
                // As Ansible: every folder made on the way gets the mode and owner, not only the last.
                let each = (mode.map { ["chmod \($0) -- \"$x\""] } ?? []) + ownership("\"$x\"", owner: owner, group: group, current: nil, link: false)
                return ["d=\(p); set --; while [ ! -e \"$d\" ] && [ ! -L \"$d\" ]; do set -- \"$d\" \"$@\"; d=$(dirname -- \"$d\"); done; "
                        + "for x in \"$@\"; do mkdir -- \"$x\" && \(each.joined(separator: " && ")) || exit 1; done"]
            case .directory: break
            default: throw ModuleFailure("\(path) exists and is not a directory")
            }
        case "file":
            // Ansible's words (state=file makes nothing: touch or copy do).
            if current.kind == .absent || current.kind == .directory {
                let kind = current.kind == .absent ? "absent" : "directory"
                throw ModuleFailure("file (\(path)) is \(kind), cannot continue", data: ["path": .string(path), "state": .string(kind)])
            }
        case "touch":
            if current.kind == .absent {
                // A file made here is removed again when its mode or owner cannot be set (as Ansible's).
                var made = ["touch -- \(p)"]
                if let mode { made.append("chmod \(mode) -- \(p)") }
                made += ownership(p, owner: owner, group: group, current: nil, link: false)
                return [made.joined(separator: " && ") + " || { rm -f -- \(p); exit 1; }"]
            }
        case "link":
            // Without src, an existing link keeps its target (its attributes only are updated, as Ansible's).
            guard let src = args["src"]?.string ?? (current.kind == .link ? current.linkTarget : nil) else {
                throw ModuleFailure("src is required for creating new symlinks")
            }
            if current.kind == .link && current.linkTarget == src { break }
            // As Ansible's: another kind of path only with force, and a folder only when empty.
            let force = args["force"]?.truthy ?? false
            if (current.kind == .directory || current.kind == .file) && !force {
                throw ModuleFailure("refusing to convert from \(current.kind == .directory ? "directory" : current.links > 1 ? "hard" : "file") to symlink for \(path)",
                                    data: ["path": .string(path)])
            }
            if current.kind == .directory {
                commands.append("rmdir -- \(p) 2>/dev/null || { echo \(shellQuote("the directory \(path) is not empty, refusing to convert it")) >&2; exit 1; }")
            }
            // follow (the default): the new link's mode and owner are its target's, when it is there.
            let follow = args["follow"]?.truthy ?? true
            let attributes = (follow ? (mode.map { ["chmod \($0) -- \(p)"] } ?? []) : []) + ownership(p, owner: owner, group: group, current: nil, link: !follow)
            return commands + ["ln -sfn -- \(shellQuote(src)) \(p)"] + attributes.map { follow ? "[ ! -e \(p) ] || \($0)" : $0 }
        default:
            throw ModuleFailure("value of state must be one of: absent, directory, file, hard, link, touch, got: \(state)")
        }
        let fresh = kindAfter != current.kind
        if kindAfter == .link && !fresh, let followed {
            // Followed: the target's mode and owner, through the link (chmod and chown follow it).
            guard followed.kind != .absent else { return commands }
            let targetMode = try Modules.mode(args["mode"], current: followed.mode, isDirectory: followed.kind == .directory)
            if let targetMode, followed.mode != targetMode { commands.append("chmod \(targetMode) -- \(p)") }
            return commands + ownership(p, owner: owner, group: group, current: followed, link: false)
        }
        // A link has no mode of its own on Linux: Ansible's file sets none (and leaves its target's alone).
        if let mode, kindAfter != .link, fresh || current.mode != mode { commands.append("chmod \(mode) -- \(p)") }
        commands += ownership(p, owner: owner, group: group, current: fresh ? nil : current, link: kindAfter == .link)
        return commands
    }

    /// recurse (Ansible's recursive_set_attributes): the owner, group and mode of everything under
    /// a folder that is there — links given their owner themselves (lchown), never a mode; with
    /// `follow` (the default) a link's target too, a linked folder walked — read as the distinct
    /// attributes the tree holds (one question), changed only where one differs.
    static func recursive(_ c: ModuleContext, path: String) throws -> [String] {
        let owner = c.string("owner"), group = c.string("group")
        guard owner != nil || group != nil || c.args["mode"].map({ $0 != .null }) == true else { return [] }
        let q = shellQuote(path)
        let follow = c.args["follow"]?.truthy ?? true
        // Followed (find -L): a link stands for its target (a dangling one stays `l`); the links'
        // own owners are listed apart.
        let listing = follow
            ? "{ find -L \(q) -mindepth 1 -printf '%y|%m|%u|%g|%U|%G\\n' 2>/dev/null; find \(q) -mindepth 1 -type l -printf 'l|777|%u|%g|%U|%G\\n'; } | sort -u"
            : "find \(q) -mindepth 1 -printf '%y|%m|%u|%g|%U|%G\\n' | sort -u"
        let listed = try c.fact(Fact(listing, paths: [path + "/"], staleAfterAnyChange: follow))
        var ownerDiffers = false, groupDiffers = false, modeDiffers = false
        for line in listed.stdoutText.split(separator: "\n") {
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 6 else { continue }
            if let owner, owner != f[2], owner != f[4] { ownerDiffers = true }
            if let group, group != f[3], group != f[5] { groupDiffers = true }
            if f[0] != "l", let wanted = try Modules.mode(c.args["mode"], current: f[1], isDirectory: f[0] == "d"), wanted != f[1] { modeDiffers = true }
        }
        var out: [String] = []
        if ownerDiffers || groupDiffers {
            let who = shellQuote((ownerDiffers ? owner ?? "" : "") + (groupDiffers ? ":" + (group ?? "") : ""))
            out.append(follow ? "find -L \(q) -mindepth 1 ! -type l -exec chown \(who) -- {} +; find \(q) -mindepth 1 -type l -exec chown -h \(who) -- {} +"
                              : "find \(q) -mindepth 1 -exec chown -h \(who) -- {} +")
        }
        if modeDiffers, let text = try c.args["mode"]?.string ?? Modules.mode(c.args["mode"]) {
            // chmod reads a symbolic mode per file as Ansible's does (X for folders and executables).
            out.append("find\(follow ? " -L" : "") \(q) -mindepth 1 ! -type l -exec chmod \(shellQuote(text)) -- {} +")
        }
        return out
    }

    /// What access_time / modification_time do: the commands, and Ansible's diff entries
    /// (`mtime` / `atime` before and after, in seconds since the epoch, where they change).
    struct Times {
        var commands: [String] = []
        var before: OrderedMap = [:]
        var after: OrderedMap = [:]
    }

    /// access_time / modification_time as Ansible's: `now` (the default of state=touch, always a
    /// change), `preserve` (everyone else's default), or a time in `%Y%m%d%H%M.%S` — touch's own
    /// `-t` format — compared with the path's (read as the device's local time, as touch reads it).
    static func times(_ c: ModuleContext, path: String, current: PathState, planned: [String]) throws -> Times {
        let state = c.string("state") ?? ""
        guard state != "absent", state != "link" else { return Times() }
        let fallback = state == "touch" ? "now" : "preserve"
        let access = c.string("access_time") ?? fallback, modification = c.string("modification_time") ?? fallback
        for (key, value) in [("access_time_format", c.string("access_time_format")), ("modification_time_format", c.string("modification_time_format"))] {
            if let value, value != "%Y%m%d%H%M.%S" { throw ModuleFailure("\(key) '\(value)' is not supported by parc yet (%Y%m%d%H%M.%S is)") }
        }
        guard access != "preserve" || modification != "preserve" else { return Times() }
        let p = shellQuote(path)
        func stamp(_ text: String) throws -> String {
            let digits = text.replacingOccurrences(of: ".", with: "")
            guard digits.count == 14, digits.allSatisfy(\.isNumber), text.count == 15, text.dropFirst(12).first == "." else {
                throw ModuleFailure("Error while obtaining timestamp for time \(text) using format %Y%m%d%H%M.%S")
            }
            return text
        }
        func readable(_ t: String) -> String {
            let d = Array(t)
            return "\(String(d[0..<4]))-\(String(d[4..<6]))-\(String(d[6..<8])) \(String(d[8..<10])):\(String(d[10..<12])):\(String(d[13..<15]))"
        }
        // The path's times (with their fractions, as Python's st_mtime) and each wanted time as the
        // device reads it, in one question (asked for a diff or a time to compare only); a path
        // made by this task has none yet.
        let wanted = [access, modification].filter { $0 != "now" && $0 != "preserve" }
        var previous: (atime: Double, mtime: Double)?
        var asked: [String: Double] = [:]
        if current.kind != .absent, !wanted.isEmpty || c.diff {
            let checked = try wanted.map(stamp)
            let question = "stat -c '%.9X %.9Y' -- \(p)" + checked.map { "; date -d \(shellQuote(readable($0))) +%s" }.joined()
            let answer = try c.fact(Fact(question, paths: [path])).stdoutText.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
            if answer.count == 2 + checked.count {
                previous = (answer[0], answer[1])
                for (t, seconds) in zip(checked, answer.dropFirst(2)) { asked[t] = seconds }
            }
        }
        var out = Times()
        let now = Date().timeIntervalSince1970
        func note(_ key: String, _ before: Double?, _ after: Double) {
            guard let before, before != after else { return }
            out.before[key] = .double(before)
            out.after[key] = .double(after)
        }
        if state == "touch", access == "now", modification == "now" {
            // touch made the file (plan) or updates it: its times, now.
            if !planned.contains(where: { $0.hasPrefix("touch ") }) { out.commands.append("touch -- \(p)") }
            note("mtime", previous?.mtime, now)
            note("atime", previous?.atime, now)
            return out
        }
        for (flag, key, value) in [("-a", "atime", access), ("-m", "mtime", modification)] where value != "preserve" {
            let before = flag == "-a" ? previous?.atime : previous?.mtime
            if value == "now" {
                out.commands.append("touch \(flag) -- \(p)")
                note(key, before, now)
                continue
            }
            let t = try stamp(value)
            if let before, let target = asked[t] {
                if before == target { continue }
                note(key, before, target)
            }
            out.commands.append("touch \(flag) -t \(t) -- \(p)")
        }
        return out
    }

    /// Ansible's set_attributes_if_different: `+A` / `-A` / `A` (`=A`) against lsattr's flags;
    /// a `-` is always applied, as Ansible's; an empty value changes nothing.
    static func attributeChange(_ attributes: String, current lsattr: String) -> String? {
        var mode = "=", wanted = attributes
        if let first = wanted.first, first == "+" || first == "-" { mode = String(first); wanted.removeFirst() }
        guard !wanted.isEmpty else { return nil }
        let existing = lsattr.replacingOccurrences(of: "-", with: "")
        guard existing != wanted || mode == "-" else { return nil }
        return mode + wanted
    }

    /// state=hard as Ansible's ensure_hardlink: a new name for src's inode, made beside the path
    /// and renamed over it; a file or another link there only with `force`.
    static func hardLink(_ c: ModuleContext, path: String, current: PathState) throws -> [String] {
        guard let src = c.string("src") else { throw ModuleFailure("src is required for creating new hardlinks") }
        let p = shellQuote(path), s = shellQuote(src)
        let inodes = try c.fact(Fact("stat -L -c %i -- \(s) 2>/dev/null || echo missing; stat -c '%h|%i' -- \(p) 2>/dev/null || echo absent", paths: [src, path]))
            .stdoutText.split(separator: "\n").map(String.init)
        guard let source = inodes.first, source != "missing" else { throw ModuleFailure("src does not exist", data: ["dest": .string(path), "src": .string(src)]) }
        let here = inodes.count > 1 ? inodes[1].split(separator: "|").map(String.init) : ["absent"]
        let force = c.bool("force")
        switch current.kind {
        case .absent: break
        case .link: if !force && current.linkTarget == src { return [] }
        case .directory:
            if here.count > 1 && here[1] == source { return [] }
            throw ModuleFailure("Cannot link: different hard link exists at destination")
        default:
            if here.count > 1 && here[1] == source { return ownership(p, owner: c.string("owner"), group: c.string("group"), current: current, link: false) }
            let nlink = Int(here.first ?? "1") ?? 1
            if !force { throw ModuleFailure(nlink > 1 ? "Cannot link, different hard link exists at destination" : "Cannot link, file exists at destination") }
        }
        let folder = shellQuote((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent)
        var commands = ["t=\(folder)/.parc-hard-$$; ln -- \(s) \"$t\" && mv -f -- \"$t\" \(p) || { rm -f -- \"$t\"; exit 1; }"]
        if let mode = try Modules.mode(c.args["mode"], current: nil) { commands.append("chmod \(mode) -- \(p)") }
        commands += ownership(p, owner: c.string("owner"), group: c.string("group"), current: nil, link: false)
        return commands
    }

    static func ownership(_ p: String, owner: String?, group: String?, current: PathState?, link: Bool) -> [String] {
        let ownerChange = owner.flatMap { o in current?.owner == o ? nil : o }
        let groupChange = group.flatMap { g in current?.group == g ? nil : g }
        guard ownerChange != nil || groupChange != nil else { return [] }
        let spec = "\(owner ?? ""):\(group ?? "")".replacingOccurrences(of: ":$", with: "", options: .regularExpression)
        return ["chown \(link ? "-h " : "")\(shellQuote(spec)) -- \(p)"]
    }
}
