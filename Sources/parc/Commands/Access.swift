import ArgumentParser
import ParcApp
import Foundation
import ParcCore

/// How parc reaches devices over SSH: which keys, which host-key policy, how long to wait.
struct AccessOptions: ParsableArguments {
    @Option(name: .customLong("identity"), help: ArgumentHelp("A private key (ed25519 or ecdsa) to log in with (repeatable; default: $PARC_IDENTITY, the lab's key, ~/.ssh/id_ed25519, ~/.ssh/id_ecdsa, and ssh-agent).", valueName: "file"))
    var identities: [String] = []

    @Option(name: .customLong("host-key-policy"), help: "strict (the key must match the pinned one or known_hosts; the default) or accept-new (pin a first key, refuse a changed one).")
    var hostKeyPolicyGiven: HostKeyTrust?

    @Option(name: .customLong("known-hosts"), help: ArgumentHelp("A known_hosts file to trust (repeatable; default: ~/.ssh/known_hosts).", valueName: "file"))
    var knownHosts: [String] = []

    @Option(name: .customLong("timeout"), help: ArgumentHelp("Seconds to wait for a device to connect and authenticate (default 10).", valueName: "seconds"))
    var timeoutGiven: Double?

    @Option(name: [.customShort("f"), .customLong("forks")], help: "How many devices to work on at once (default 20).")
    var forksGiven: Int?

    var hostKeyPolicy: HostKeyTrust { hostKeyPolicyGiven ?? .strict }
    var timeout: Double { timeoutGiven ?? 10 }
    var forks: Int { forksGiven ?? 20 }

    @Option(name: [.customShort("u"), .long], help: "Log in as this user instead of each device's SSH user.")
    var user: String?

    func validate() throws {
        if forks < 1 { throw ValidationError("--forks must be at least 1") }
        if timeout <= 0 { throw ValidationError("--timeout must be positive") }
    }

    var tuning: ReachTuning { ReachTuning(hostKeyPolicy: hostKeyPolicy, timeout: timeout, forks: forks, user: user) }

    /// Keys and known_hosts files are this machine's: a server connects with its own.
    func checkRemote(_ global: GlobalOptions) throws {
        if global.server != nil && !(identities.isEmpty && knownHosts.isEmpty) {
            throw ValidationError("--identity and --known-hosts name files of this machine; a server reaches devices with its own keys and the host keys pinned in its inventory")
        }
    }

    /// How this command line reaches devices.
    var settings: AccessSettings {
        AccessSettings(credentials: AccessSettings.standardCredentials(identities: identities),
                       knownHostsFiles: knownHosts.isEmpty ? AccessSettings.standardKnownHosts() : knownHosts,
                       hostKeyPolicy: hostKeyPolicy, timeout: timeout, forks: forks, user: user)
    }

    /// What this command line typed itself (ansible.cfg fills the rest).
    var typed: AnsibleProject.Typed {
        AnsibleProject.Typed(timeout: timeoutGiven != nil, forks: forksGiven != nil, hostKeyPolicy: hostKeyPolicyGiven != nil, identities: !identities.isEmpty)
    }
}

extension HostKeyTrust: ExpressibleByArgument {}

/// Selects devices by pattern and the device-list filters.
struct SelectionOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("Groups or devices, Ansible-style: school_0572113m:&kind_laptop:!lab-03 (default: all). See `parc groups`.", valueName: "pattern"))
    var pattern: String?

    @Option(help: ArgumentHelp("Narrow further with another pattern.", valueName: "pattern"))
    var limit: String?

    @Option(help: "Only this member's devices.") var member: String?
    @Option(help: "Only this school's devices (UAI).") var school: String?
    @Option(help: "Only devices of this kind.") var kind: DeviceKind?

    var value: Selection { Selection(pattern: pattern, limit: limit, member: member, school: school, kind: kind) }

}
