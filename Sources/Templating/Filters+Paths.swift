import Foundation

extension Filters {
    /// Paths on the control node: `basename`, `dirname`, `splitext`, `path_join`, `expanduser`,
    /// `realpath`, `relpath`.
    static func paths(into t: inout [String: Filter]) {
        // expanduser: `~` and `~/…` as the control node's home (Python's os.path.expanduser, run there by Ansible).
        t["expanduser"] = text { s, _ in
            guard s == "~" || s.hasPrefix("~/"), let home = getenv("HOME").map({ String(cString: $0) }), !home.isEmpty else { return .string(s) }
            return .string(home + s.dropFirst())
        }
        t["basename"] = text { s, _ in .string(s.hasSuffix("/") ? "" : String(s.split(separator: "/", omittingEmptySubsequences: false).last ?? "")) }
        t["dirname"] = text { s, _ in
            guard let slash = s.lastIndex(of: "/") else { return .string("") }
            var head = String(s[...slash])
            if head.count > 1, head.contains(where: { $0 != "/" }) { while head.hasSuffix("/") { head.removeLast() } }
            return .string(head)
        }
        t["splitext"] = text { s, _ in
            let base = s.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? s
            guard let dot = base.lastIndex(of: "."), dot != base.startIndex, base[..<dot].contains(where: { $0 != "." }) else { return .list([.string(s), .string("")]) }
            let ext = String(base[dot...])
            return .list([.string(String(s.dropLast(ext.count))), .string(ext)])
        }
        // realpath: links resolved on the control node (Python's os.path.realpath, run there by Ansible).
        t["realpath"] = text { s, _ in
            guard let resolved = realpath(s, nil) else { return .string((s as NSString).standardizingPath) }
            defer { free(resolved) }
            return .string(String(cString: resolved))
        }
        t["relpath"] = text { s, a in
            let start = (a.string(0, "start") ?? FileManager.default.currentDirectoryPath).split(separator: "/").map(String.init)
            let path = (s.hasPrefix("/") ? s : FileManager.default.currentDirectoryPath + "/" + s).split(separator: "/").map(String.init)
            var common = 0
            while common < min(start.count, path.count) && start[common] == path[common] { common += 1 }
            let parts = Array(repeating: "..", count: start.count - common) + path[common...]
            return .string(parts.isEmpty ? "." : parts.joined(separator: "/"))
        }
        t["path_join"] = value { v, _ in
            var out = ""
            for part in try items(v, "path_join").map(\.pythonText) {
                if part.hasPrefix("/") { out = part } else if out.isEmpty || out.hasSuffix("/") { out += part } else { out += "/" + part }
            }
            return .string(out)
        }
    }
}
