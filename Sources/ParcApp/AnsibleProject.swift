import Foundation
import ParcCore
import Provisioning
import SSHTransport

/// The ansible.cfg (and `ANSIBLE_*` variables) of the folder a command runs in, applied as
/// ansible-playbook applies it: options typed on the command line over the file, the file over
/// parc's defaults. Where parc does less than the file asks, it says so (`notes`) or refuses.
public struct AnsibleProject: Sendable {
    public let config: AnsibleConfig

    public init(_ config: AnsibleConfig) { self.config = config }

    /// The configuration ansible-playbook would read in the current folder.
    public static func here() throws -> AnsibleProject {
        AnsibleProject(try AnsibleConfig.discover(environment: ProcessInfo.processInfo.environment,
                                                  directory: FileManager.default.currentDirectoryPath, home: Home.path))
    }

    /// The file read, if any.
    public var file: String? { config.file }
    /// Where roles are looked for after `roles/` beside the playbook.
    public var rolesPath: [String] { config.rolesPath.value }
    /// `become_ask_pass = True`: ask sudo's password, as `-K`.
    public var asksBecomePassword: Bool { config.becomeAskPass?.value == true }

    /// What the command line gave itself (the file fills the rest).
    public struct Typed: Sendable {
        public var timeout: Bool, forks: Bool, hostKeyPolicy: Bool, identities: Bool
        public init(timeout: Bool, forks: Bool, hostKeyPolicy: Bool, identities: Bool) {
            (self.timeout, self.forks, self.hostKeyPolicy, self.identities) = (timeout, forks, hostKeyPolicy, identities)
        }
    }

    /// `access` with the file's `timeout`, `forks`, `remote_user`, `private_key_file` and
    /// `host_key_checking` where the command line did not say; a note for what parc does differently.
    public func access(_ access: AccessSettings, typed: Typed) throws -> (AccessSettings, notes: [String]) {
        if let method = config.becomeMethod, method.value != "sudo" {
            throw AppError("\(method.origin): become_method = \(method.value): parc becomes root with sudo only; remove the setting or set it to sudo")
        }
        var s = access
        var notes: [String] = []
        if !typed.timeout, let t = config.timeout { s.timeout = Double(t.value) }
        if !typed.forks, let f = config.forks { s.forks = f.value }
        s.defaultUser = config.remoteUser?.value
        if !typed.identities, let key = config.privateKeyFile {
            guard FileManager.default.isReadableFile(atPath: key.value) else {
                throw AppError("\(key.origin): private_key_file = \(key.value): no such file parc can read")
            }
            s.credentials = AccessSettings.standardCredentials(identities: [key.value])
        }
        if !typed.hostKeyPolicy, let check = config.hostKeyChecking, !check.value {
            s.hostKeyPolicy = .acceptNew
            notes.append("\(check.origin): host_key_checking = False: parc still checks host keys; it pins a device's first key "
                         + "(--host-key-policy accept-new) and refuses a changed one")
        }
        return (s, notes)
    }

    /// The inventory to run on: `-i`, else the file's `inventory` (with a note: not parc's devices).
    public func inventory(given: String?) throws -> (file: String?, note: String?) {
        if let given { return (given, nil) }
        guard let set = config.inventory else { return (nil, nil) }
        guard set.value.count == 1, let file = set.value.first else {
            throw AppError("\(set.origin): inventory names \(set.value.count) sources; parc reads one inventory file: give it with -i")
        }
        return (file, "\(set.origin): inventory = \(file): running on that Ansible inventory, not on parc's devices (give -i, or run from another folder)")
    }
}

extension Workspace {
    /// Runs from now on follow `project` (roles path, play defaults).
    public mutating func follow(_ project: AnsibleProject) { ansible = project.config }
}
