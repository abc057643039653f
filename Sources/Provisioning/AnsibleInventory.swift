import Foundation
import ParcCore
import Templating
import Yams

/// An existing Ansible inventory (`-i hosts.ini` or `hosts.yml`): its hosts, groups (with
/// `children`), host and group variables, and the `group_vars/` and `host_vars/` folders beside
/// it. Variables written there are authored text (templates), as in Ansible.
public struct AnsibleInventory: Sendable {
    public struct Group: Sendable {
        public var name: String
        public var hosts: [String] = []
        public var children: [String] = []
        public var vars: [String: Value] = [:]
    }

    public var path: String
    public private(set) var groups: [String: Group] = ["all": Group(name: "all"), "ungrouped": Group(name: "ungrouped")]
    /// Hosts in the order the inventory names them.
    public private(set) var hostOrder: [String] = []
    public private(set) var hostVars: [String: [String: Value]] = [:]

    /// Reads an INI or YAML inventory; errors name the file and line.
    public static func load(_ path: String) throws -> AnsibleInventory {
        guard let data = FileManager.default.contents(atPath: path) else { throw PlaybookError("cannot read the inventory \(path)") }
        let text = String(decoding: data, as: UTF8.self)
        var inventory = AnsibleInventory(path: path)
        let isYAML = path.hasSuffix(".yml") || path.hasSuffix(".yaml") || text.split(separator: "\n").first { !$0.trimmed.isEmpty && !$0.hasPrefix("#") }.map {
            $0.trimmed == "---" || ($0.hasSuffix(":") && !$0.hasPrefix("["))
        } == true
        if isYAML { try inventory.readYAML(text) } else { try inventory.readINI(text) }
        for h in inventory.hostOrder where !inventory.groups.values.contains(where: { $0.name != "all" && $0.name != "ungrouped" && $0.hosts.contains(h) }) {
            if !inventory.groups["ungrouped"]!.hosts.contains(h) { inventory.groups["ungrouped"]!.hosts.append(h) }
        }
        return inventory
    }

    mutating func addHost(_ name: String, group: String, vars: [String: Value]) {
        if !hostOrder.contains(name) { hostOrder.append(name) }
        hostVars[name, default: [:]].merge(vars) { _, new in new }
        if group != "all", group != "ungrouped" {
            groups[group, default: Group(name: group)].hosts.append(name)
        }
    }

    /// Every group and host name (lower-case), for the pattern rule (`RunOptions.knownNames`).
    public var names: Set<String> { Set(groups.keys.map { $0.lowercased() } + hostOrder.map { $0.lowercased() }) }

    /// Host patterns like `pc[01:16]` or `pc[a:c]` expanded.
    static func expand(_ name: String) -> [String] {
        guard let open = name.firstIndex(of: "["), let close = name[open...].firstIndex(of: "]") else { return [name] }
        let inner = name[name.index(after: open)..<close].split(separator: ":").map(String.init)
        guard inner.count == 2 || inner.count == 3 else { return [name] }
        let head = String(name[..<open]), tail = String(name[name.index(after: close)...])
        var out: [String] = []
        let step = inner.count == 3 ? max(1, Int(inner[2]) ?? 1) : 1
        if let a = Int(inner[0]), let b = Int(inner[1]), a <= b {
            let width = inner[0].count
            for i in stride(from: a, through: b, by: step) {
                let n = String(i)
                out += expand(head + String(repeating: "0", count: max(0, width - n.count)) + n + tail)
            }
        } else if let a = inner[0].unicodeScalars.first, let b = inner[1].unicodeScalars.first, a.value <= b.value, inner[0].count == 1, inner[1].count == 1 {
            for v in stride(from: a.value, through: b.value, by: step) { out += expand(head + String(Character(Unicode.Scalar(v)!)) + tail) }
        } else {
            return [name]
        }
        return out
    }

    // MARK: INI

    mutating func readINI(_ text: String) throws {
        var section = "ungrouped", kind = "hosts"
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmed
            let at = SourceLocation(file: path, line: n + 1, column: 1)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else { throw PlaybookError("a section header ends with ']'", at: at, sourceLine: String(raw)) }
                let header = line.dropFirst().dropLast()
                let parts = header.split(separator: ":", maxSplits: 1).map(String.init)
                section = parts[0]
                kind = parts.count > 1 ? parts[1] : "hosts"
                guard ["hosts", "vars", "children"].contains(kind) else {
                    throw PlaybookError("unknown section kind ':\(kind)' (hosts, vars or children)", at: at, sourceLine: String(raw))
                }
                guard !section.isEmpty, section.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                    throw PlaybookError("'\(section)' is not a group name", at: at, sourceLine: String(raw))
                }
                if groups[section] == nil { groups[section] = Group(name: section) }
                continue
            }
            switch kind {
            case "vars":
                guard let eq = line.firstIndex(of: "=") else {
                    throw PlaybookError("a [\(section):vars] line is 'name=value'", at: at, sourceLine: String(raw))
                }
                let key = line[..<eq].trimmed
                groups[section]!.vars[key] = Self.iniValue(String(line[line.index(after: eq)...].trimmed))
            case "children":
                let child = line.split(whereSeparator: \.isWhitespace).first.map(String.init) ?? line
                if groups[child] == nil { groups[child] = Group(name: child) }
                if !groups[section]!.children.contains(child) { groups[section]!.children.append(child) }
            default:
                let words = try Self.words(line, at: at, raw: String(raw))
                guard let name = words.first else { continue }
                var vars: [String: Value] = [:]
                for w in words.dropFirst() {
                    guard let eq = w.firstIndex(of: "=") else {
                        throw PlaybookError("'\(w)' is not a variable (name=value) for host \(name)", at: at, sourceLine: String(raw))
                    }
                    vars[String(w[..<eq])] = Self.iniValue(String(w[w.index(after: eq)...]))
                }
                // host:port
                var hostName = name
                if let colon = name.lastIndex(of: ":"), let port = Int(name[name.index(after: colon)...]), !name.contains("]") || name.hasSuffix("]:\(port)") {
                    hostName = String(name[..<colon]); vars["ansible_port"] = .int(port)
                }
                for h in Self.expand(hostName) { addHost(h, group: section, vars: vars) }
            }
        }
    }

    /// Words of a host line: spaces separate them, except inside quotes.
    static func words(_ line: String, at: SourceLocation, raw: String) throws -> [String] {
        var out: [String] = [], current = "", quote: Character? = nil
        for c in line {
            if let q = quote { if c == q { quote = nil } else { current.append(c) }; continue }
            if c == "\"" || c == "'" { quote = c; continue }
            if c == "#" && current.isEmpty { break }
            if c.isWhitespace { if !current.isEmpty { out.append(current); current = "" }; continue }
            current.append(c)
        }
        if quote != nil { throw PlaybookError("a quote is never closed", at: at, sourceLine: raw) }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// INI values as Ansible reads them: Python literals (numbers, True, lists), else text.
    static func iniValue(_ s: String) -> Value {
        switch Template.literalValue(s) {
        case .int?, .double?, .bool?, .list?, .map?, .null?: return Template.literalValue(s)!
        default: return .string(s)
        }
    }

    // MARK: YAML

    mutating func readYAML(_ text: String) throws {
        let tmp = try PlaybookLoader.loadYAMLText(text, file: path)
        guard case .map(let top) = tmp else {
            if tmp == .null { return }
            throw PlaybookError("a YAML inventory is a mapping of groups (all: {hosts: …, children: …})", at: SourceLocation(file: path, line: 1, column: 1))
        }
        for (name, body) in top { try readGroup(name, body) }
    }

    mutating func readGroup(_ name: String, _ body: Value) throws {
        if groups[name] == nil { groups[name] = Group(name: name) }
        guard case .map(let m) = body else {
            if body == .null { return }
            throw PlaybookError("group '\(name)' holds hosts:, vars: and children:", at: SourceLocation(file: path, line: 1, column: 1))
        }
        for key in m.keys where !["hosts", "vars", "children"].contains(key) {
            throw PlaybookError("group '\(name)': unknown key '\(key)' (hosts, vars or children)", at: SourceLocation(file: path, line: 1, column: 1))
        }
        if case .map(let hosts)? = m["hosts"] {
            for (h, v) in hosts { for e in Self.expand(h) { addHost(e, group: name, vars: v.map ?? [:]) } }
        }
        if case .map(let vars)? = m["vars"] { for (k, v) in vars { groups[name]!.vars[k] = v } }
        if case .map(let children)? = m["children"] {
            for (child, body) in children {
                try readGroup(child, body)
                if !groups[name]!.children.contains(child) { groups[name]!.children.append(child) }
            }
        }
    }

    // MARK: Hosts

    /// The groups a host is in, parents included, ordered as Ansible merges their variables:
    /// `all` first, then by depth (parents before children), then by name.
    public func groups(of host: String) -> [String] {
        var direct = Set(groups.values.filter { $0.hosts.contains(host) }.map(\.name))
        if direct.isEmpty { direct.insert("ungrouped") }
        var all = Set<String>()
        var depth: [String: Int] = [:]
        func parents(of g: String) -> [String] { groups.values.filter { $0.children.contains(g) }.map(\.name) }
        func d(_ g: String, _ seen: Set<String>) -> Int {
            if let known = depth[g] { return known }
            let ps = parents(of: g).filter { !seen.contains($0) }
            let v = ps.isEmpty ? 1 : (ps.map { d($0, seen.union([g])) }.max() ?? 0) + 1
            depth[g] = v
            return v
        }
        var queue = Array(direct)
        while let g = queue.popLast() {
            guard all.insert(g).inserted else { continue }
            queue += parents(of: g)
        }
        all.remove("all")
        return ["all"] + all.sorted { (d($0, []), $0) < (d($1, []), $1) }
    }

    /// The variables files of `group_vars/NAME` and `host_vars/NAME` in `directory` (a file with
    /// or without .yml/.yaml/.json, or a folder of them).
    public static func varsFiles(_ folder: String, _ name: String, in directory: String) throws -> [String: Value] {
        let base = directory + "/\(folder)/\(name)"
        var out: [String: Value] = [:]
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: base, isDirectory: &isDir), isDir.boolValue {
            for f in (try? FileManager.default.contentsOfDirectory(atPath: base))?.sorted() ?? [] where [".yml", ".yaml", ".json"].contains(where: f.hasSuffix) {
                out.merge(try PlaybookLoader.loadVars(base + "/" + f)) { _, new in new }
            }
            return out
        }
        for candidate in [base, base + ".yml", base + ".yaml", base + ".json"] where FileManager.default.fileExists(atPath: candidate) {
            out.merge(try PlaybookLoader.loadVars(candidate)) { _, new in new }
        }
        return out
    }

    /// Every host as a run target: its groups and its variables, merged in Ansible's order
    /// (`VARIABLE_PRECEDENCE`): the inventory file's `all` vars, its other groups' vars (least to most
    /// specific), `group_vars/all` beside the inventory then beside the playbook, the other groups'
    /// `group_vars/` beside the inventory then beside the playbook, the host's own vars, its
    /// `host_vars/` beside the inventory then beside the playbook. All of it is authored text.
    public func targets(playbookDirectory: String? = nil) throws -> [HostTarget] {
        let here = (path as NSString).deletingLastPathComponent
        let folders = [here.isEmpty ? "." : here] + (playbookDirectory.map { [$0] } ?? [])
        var groupFiles: [String: [[String: Value]]] = [:]
        for g in groups.keys { groupFiles[g] = try folders.map { try Self.varsFiles("group_vars", g, in: $0) } }
        return try hostOrder.map { h in
            let mine = groups(of: h)
            var vars: [String: Value] = [:]
            func add(_ more: [String: Value]?) { vars.merge(more ?? [:]) { _, new in new } }
            add(groups["all"]?.vars)
            for g in mine where g != "all" { add(groups[g]?.vars) }
            for files in groupFiles["all"] ?? [] { add(files) }
            for g in mine where g != "all" { for files in groupFiles[g] ?? [] { add(files) } }
            add(hostVars[h])
            for folder in folders { add(try Self.varsFiles("host_vars", h, in: folder)) }
            var data: [String: Value] = ["inventory_hostname": .string(h), "inventory_hostname_short": .string(String(h.split(separator: ".").first ?? Substring(h))),
                                         "group_names": .list(mine.filter { $0 != "all" && $0 != "ungrouped" }.map(Value.string))]
            data["inventory_file"] = .string(path)
            data["inventory_dir"] = .string((path as NSString).deletingLastPathComponent)
            return HostTarget(name: h, serial: h, groups: Set(mine), vars: vars, data: data)
        }
    }
}
