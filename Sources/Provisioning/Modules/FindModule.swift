import Foundation
import ParcCore
import Templating

/// `find` as Ansible's: files under `paths` chosen by name (shell patterns, or Python regexes
/// matched from the start with `use_regex`), `excludes`, `file_type`, `recurse` / `depth`,
/// `hidden`, `age` / `age_stamp`, `size`, `contains`; each found path with the stat fields
/// Ansible gives (mode, isdir, isreg, islnk, uid, gid, size, inode, dev, nlink, atime, mtime,
/// ctime, pw_name, gr_name, the permission flags), `matched`, `examined`, `skipped_paths`.
/// One `find` on the device per path lists every candidate; the choosing is done here.
enum FindModule {
    static let spec = ModuleSpec(name: "find", arguments: ["paths", "path", "name", "patterns", "pattern", "excludes", "exclude", "use_regex", "file_type",
                                                           "recurse", "depth", "hidden", "follow", "age", "age_stamp", "size", "contains",
                                                           "read_whole_file", "get_checksum", "checksum_algorithm", "limit", "encoding", "exact_mode", "mode"]) { c in
        let paths = list(c.args["paths"] ?? c.args["path"] ?? c.args["name"])
        guard !paths.isEmpty else { throw ModuleFailure("missing required arguments: paths") }
        let patterns = list(c.args["patterns"] ?? c.args["pattern"]), excludes = list(c.args["excludes"] ?? c.args["exclude"])
        let useRegex = c.bool("use_regex")
        let fileType = c.string("file_type") ?? "file"
        guard ["file", "directory", "link", "any"].contains(fileType) else {
            throw ModuleFailure("value of file_type must be one of: any, directory, file, link, got: \(fileType)")
        }
        for key in ["get_checksum", "mode", "exact_mode", "limit"] where c.args[key] != nil && c.args[key] != .null && c.args[key] != .bool(false) {
            if key == "exact_mode" && c.args[key] == .bool(true) && c.args["mode"] == nil { continue }
            throw ModuleFailure("find: '\(key)' is not supported by parc yet")
        }
        let age = try c.string("age").map { try seconds($0) }, size = try c.string("size").map { try bytes($0) }
        let stamp = c.string("age_stamp") ?? "mtime"
        guard ["atime", "mtime", "ctime"].contains(stamp) else { throw ModuleFailure("value of age_stamp must be one of: atime, ctime, mtime, got: \(stamp)") }
        let depth = c.bool("recurse") ? (Int(c.args["depth"]?.description ?? "") ?? 0) : 1
        let names: [NSRegularExpression] = try patterns.map { try matcher($0, regex: useRegex) }
        let excluded: [NSRegularExpression] = try excludes.map { try matcher($0, regex: useRegex) }
        let follow = c.bool("follow") ? "-L " : ""
        let contains = c.string("contains")
        var script = "date +%s.%N; "
        for path in paths {
            let p = shellQuote(path)
            // contains (regular files only, as Ansible's): a line starting with a match (re.match), or
            // with read_whole_file a match anywhere, by grep's Perl patterns on the device.
            let whole = c.bool("read_whole_file")
            let grep = contains.flatMap { pattern in
                fileType != "file" ? nil : " \\( ! -type f -o -exec grep -qs\(whole ? "z" : "")P -- \(shellQuote(whole ? pattern : "^(?:\(pattern))")) {} \\; \\) "
            } ?? " "
            script += "if [ -d \(p) ]; then echo '==path'; find \(follow)\(p) -mindepth 1\(depth > 0 ? " -maxdepth \(depth)" : "")\(grep)"
                + "-printf '%y|%m|%U|%G|%s|%i|%D|%n|%A@|%T@|%C@|%u|%g|%p\\n' 2>/dev/null; else echo '==skip'; fi; "
        }
        let out = try c.fact(Fact(script, paths: nil)).stdoutText
        var lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let now = Double(lines.isEmpty ? "" : lines.removeFirst()) ?? Date().timeIntervalSince1970
        var files: [Value] = [], skipped: [String: Value] = [:], examined = 0
        var pathIndex = -1
        for line in lines where !line.isEmpty {
            if line == "==path" { pathIndex += 1; continue }
            if line == "==skip" {
                pathIndex += 1
                skipped[paths[pathIndex]] = .string("'\(paths[pathIndex])' is not a directory")
                continue
            }
            let f = line.split(separator: "|", maxSplits: 13, omittingEmptySubsequences: false).map(String.init)
            guard f.count == 14 else { continue }
            examined += 1
            let path = f[13], base = (path as NSString).lastPathComponent
            if base.hasPrefix(".") && !c.bool("hidden") { continue }
            let kind = f[0]
            let typeOK = fileType == "any" || (fileType == "file" && kind == "f") || (fileType == "directory" && kind == "d") || (fileType == "link" && kind == "l")
            guard typeOK else { continue }
            if !names.isEmpty && !names.contains(where: { matches($0, base) }) { continue }
            if excluded.contains(where: { matches($0, base) }) { continue }
            let times: [String: Double] = ["atime": Double(f[8]) ?? 0, "mtime": Double(f[9]) ?? 0, "ctime": Double(f[10]) ?? 0]
            if let age {
                let elapsed = now - (times[stamp] ?? 0)
                if age >= 0 ? elapsed < Double(age) : elapsed > Double(-age) { continue }
            }
            if let size, kind == "f" {
                let s = Int(f[4]) ?? 0
                if size >= 0 ? s < size : s > -size { continue }
            }
            files.append(statInfo(f, times: times))
        }
        var p = Plan(changed: false)
        p.result.data["files"] = .list(files)
        p.result.data["matched"] = .int(files.count)
        p.result.data["examined"] = .int(examined)
        p.result.data["skipped_paths"] = .map(OrderedMap(skipped))
        p.result.msg = skipped.isEmpty ? "All paths examined" : "Not all paths examined, check warnings for details"
        return p
    }

    /// Arguments given as a list, or as text split on commas (Ansible's list type).
    static func list(_ v: Value?) -> [String] {
        switch v {
        case nil, .null?: return []
        case .list(let l)?: return l.map(\.description)
        case .some(let s): return s.description.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty }
        }
    }

    /// A shell pattern as Python's fnmatch reads it (whole name, case-sensitive), or a Python
    /// regex matched from the start of the name (re.match).
    static func matcher(_ pattern: String, regex: Bool) throws -> NSRegularExpression {
        if regex {
            do { return try NSRegularExpression(pattern: "^(?:\(pattern))") } catch { throw ModuleFailure("find: '\(pattern)' is not a valid regular expression") }
        }
        var out = "^"
        var chars = Array(pattern)[...]
        while let ch = chars.first {
            chars = chars.dropFirst()
            switch ch {
            case "*": out += ".*"
            case "?": out += "."
            case "[":
                if let close = chars.dropFirst(chars.first == "!" ? 1 : 0).dropFirst().firstIndex(of: "]") {
                    var body = String(chars[chars.startIndex..<close])
                    if body.hasPrefix("!") { body = "^" + body.dropFirst() }
                    out += "[" + body.replacingOccurrences(of: "\\", with: "\\\\") + "]"
                    chars = chars[chars.index(after: close)...]
                } else {
                    out += "\\["
                }
            default: out += NSRegularExpression.escapedPattern(for: String(ch))
            }
        }
        return try NSRegularExpression(pattern: out + "$", options: [.dotMatchesLineSeparators])
    }

    static func matches(_ re: NSRegularExpression, _ name: String) -> Bool {
        re.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
    }

    /// `4d`, `-2w`, `30` (seconds): Ansible's age.
    static func seconds(_ text: String) throws -> Int {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800]
        var t = text.lowercased()
        var unit = 1
        if let last = t.last, let u = units[last] { unit = u; t.removeLast() }
        guard let n = Int(t) else { throw ModuleFailure("failed to process age") }
        return n * unit
    }

    /// `10k`, `-1m`, `512` (bytes): Ansible's size.
    static func bytes(_ text: String) throws -> Int {
        let units: [Character: Int] = ["b": 1, "k": 1024, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40]
        var t = text.lowercased()
        var unit = 1
        if let last = t.last, let u = units[last] { unit = u; t.removeLast() }
        guard let n = Int(t) else { throw ModuleFailure("failed to process size") }
        return n * unit
    }

    /// The stat fields of Ansible's find for one line of the listing.
    static func statInfo(_ f: [String], times: [String: Double]) -> Value {
        let mode = Int(f[1], radix: 8) ?? 0
        var m = OrderedMap()
        m["path"] = .string(f[13])
        m["mode"] = .string(String(repeating: "0", count: max(0, 4 - String(mode, radix: 8).count)) + String(mode, radix: 8))
        for (key, kind) in [("isdir", "d"), ("ischr", "c"), ("isblk", "b"), ("isreg", "f"), ("isfifo", "p"), ("islnk", "l"), ("issock", "s")] {
            m[key] = .bool(f[0] == kind)
        }
        m["uid"] = .int(Int(f[2]) ?? 0)
        m["gid"] = .int(Int(f[3]) ?? 0)
        m["size"] = .int(Int(f[4]) ?? 0)
        m["inode"] = .int(Int(f[5]) ?? 0)
        m["dev"] = .int(Int(f[6]) ?? 0)
        m["nlink"] = .int(Int(f[7]) ?? 0)
        for key in ["atime", "mtime", "ctime"] { m[key] = .double(times[key] ?? 0) }
        m["gr_name"] = .string(f[12])
        m["pw_name"] = .string(f[11])
        for (key, bit) in Modules.permissionBits { m[key] = .bool(mode & bit != 0) }
        return .map(m)
    }
}
