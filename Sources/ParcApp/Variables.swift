import Foundation
import InventoryStore
import ParcCore
import Provisioning
import Templating

/// `-e key=value`, `-e @file.yml` (and the API's `extraVars`).
public enum ExtraVars {
    /// Values asked at the terminal (`--ask-vars`): strings, as typed.
    public static func asked(_ values: [String: String]) -> [String: Value] { values.mapValues(Value.string) }

    /// A file given with `-e @FILE` holds what should not be on a command line (passwords, Wi-Fi
    /// keys): it must be the user's own (or root's) and closed to other users, as ssh wants of a key.
    public static func checkPrivate(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { throw AppError("-e @\(path): cannot read it (\(String(cString: strerror(errno))))") }
        let mode = st.st_mode & 0o777
        if mode & 0o007 != 0 || mode & 0o020 != 0 {
            throw AppError("-e @\(path): other users may read or change it (mode \(String(mode, radix: 8))); it may hold secrets: chmod 600 \(path)")
        }
        if st.st_uid != geteuid() && st.st_uid != 0 {
            throw AppError("-e @\(path): it belongs to another user (uid \(st.st_uid)); use a file of your own")
        }
    }

    /// As ansible-playbook reads `-e`: `@FILE`, a YAML or JSON mapping (`{"debug": true}`: typed
    /// values), or `key=value` words (strings; quotes keep spaces in a value).
    public static func parse(_ items: [String]) throws -> [String: Value] {
        var out: [String: Value] = [:]
        for item in items {
            if item.hasPrefix("@") {
                let path = String(item.dropFirst())
                try checkPrivate(path)
                for (k, v) in try PlaybookLoader.loadVars(path) { out[k] = v }
                continue
            }
            if item.trimmingCharacters(in: .whitespaces).hasPrefix("{") {
                for (k, v) in try PlaybookLoader.loadVars(text: item, named: "-e") { out[k] = v }
                continue
            }
            let (vars, stray) = try AnsibleArgs.keyValues(item)
            if let stray { throw AppError("-e takes key=value or @file.yml, not '\(stray)'") }
            for (k, v) in vars { out[k] = v }
        }
        return out
    }

    /// The values a recorded run was asked with, to replay it: its `-e` (typed in a terminal:
    /// templates, files read again), its `--ask-vars` (asked again through `ask`), and the values
    /// given through the web or the API (data, whoever replays them).
    public static func replay(_ p: RunParameters, ask: ([String]) throws -> [String: Value]) throws -> (authored: [String: Value], data: [String: Value]) {
        let authored = try parse(p.extraVars).merging(try ask(p.askVars)) { _, asked in asked }
        return (authored, p.dataVars.mapValues(Value.string))
    }

    /// A variable name `--ask-vars` and the API accept.
    public static func isName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } && !(name.first!.isNumber)
    }
}

/// The secrets parc takes from its environment, read here and nowhere else: sudo's password
/// (`PARC_BECOME_PASSWORD`) and the answers of replayed `--ask-vars` (`PARC_ASK_<NAME>`).
public enum EnvironmentCredentials {
    /// sudo's password when `PARC_BECOME_PASSWORD` is set.
    public static var becomePassword: Secret? {
        guard let env = ProcessInfo.processInfo.environment["PARC_BECOME_PASSWORD"], !env.isEmpty else { return nil }
        return Secret(env)
    }

    /// sudo with `PARC_BECOME_PASSWORD` when set, else sudo without password.
    public static var become: Become { becomePassword.map { .sudoPassword($0) } ?? .sudo }

    /// The value of one `--ask-vars` name from `PARC_ASK_<NAME>`; nil when the environment does not give it.
    public static func askVar(_ name: String) -> String? {
        let env = ProcessInfo.processInfo.environment
        return env["PARC_ASK_" + name] ?? env["PARC_ASK_" + name.uppercased()]
    }

    /// Unattended replays (a server, `parc pending watch`, a relay): every `--ask-vars` name from
    /// `PARC_ASK_<NAME>`, never from a prompt; `who` says where to set it.
    public static func askVars(for who: String) -> @Sendable ([String]) throws -> [String: Value] {
        { names in
            var out: [String: Value] = [:]
            for name in names {
                guard let value = askVar(name) else { throw AppError("--ask-vars \(name): set PARC_ASK_\(name.uppercased()) \(who)") }
                out[name] = .string(value)
            }
            return out
        }
    }
}

/// The variables a device brings to plays: its inventory fields (parc_*), then the YAML of
/// inventory/group_vars/all.yml, group_vars/<group>.yml (groups in name order) and host_vars/<name>.yml.
public enum InventoryVars {
    /// The device's inventory fields (parc_*, ansible_host, ansible_user): data.
    public static func fields(of row: DeviceRow, groups: Set<String>, communeName: String?) -> [String: Value] {
        var v: [String: Value] = [
            "inventory_hostname": .string(row.inventoryName), "parc_serial": .string(row.serial), "parc_kind": .string(row.kind.rawValue),
            "group_names": .list(groups.sorted().map(Value.string)),
        ]
        let optional: [(String, String?)] = [
            ("ansible_host", row.address), ("ansible_user", row.sshUser), ("parc_hostname", row.hostname), ("parc_asset_tag", row.assetTag),
            ("parc_school", row.uai), ("parc_school_name", row.school), ("parc_room", row.room), ("parc_cart", row.cart),
            ("parc_commune", row.member), ("parc_commune_name", communeName), ("parc_model", row.model),
        ]
        for (k, value) in optional { if let value { v[k] = .string(value) } }
        return v
    }

    /// What the vars files say for the device: templates, rendered on use. `group_vars/` and
    /// `host_vars/` of parc's inventory folder, and those beside the playbook above them, in
    /// Ansible's order (all, then each group by name, then the host).
    public static func files(for row: DeviceRow, groups: Set<String>, directory: String, playbookDirectory: String? = nil) throws -> [String: Value] {
        var v: [String: Value] = [:]
        let folders = [directory] + (playbookDirectory.map { [$0] } ?? [])
        for f in folders { v.merge(try AnsibleInventory.varsFiles("group_vars", "all", in: f)) { _, new in new } }
        for g in groups.sorted() where g != "all" {
            for f in folders { v.merge(try AnsibleInventory.varsFiles("group_vars", g, in: f)) { _, new in new } }
        }
        for f in folders { v.merge(try AnsibleInventory.varsFiles("host_vars", row.inventoryName, in: f)) { _, new in new } }
        return v
    }
}
