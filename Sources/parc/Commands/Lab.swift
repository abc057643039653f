import ArgumentParser
import ParcApp
import Foundation
import ParcCore

struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Simulated classroom devices on this machine, to try parc without hardware.",
        discussion: """
            Each device is an sshd with its own host key and loopback address and, as root, its own \
            /etc, /home, /var and /usr/local (overlays in a mount namespace), so playbooks that write \
            /etc change the device, never this machine. The management user is `parclab` (sudo \
            without password), logging in with the lab's own ed25519 key.
            """,
        subcommands: [Up.self, Status.self, RelayUp.self, Down.self])

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "up", abstract: "Start N devices and register them as laptops in a school.",
                                                        discussion: "Example: parc lab up 4 --school 0572113M")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "How many devices.") var count: Int
        @Option(help: "The school (UAI) whose room receives them.") var school: String
        @Option(help: "The room (created when missing).") var room = "Lab parc"
        @Option(name: .customLong("lab-dir"), help: "Where the lab lives (default: $PARC_LAB_DIR, else inventory/lab).") var labDir: String?
        @Option(help: "Also let the user log in (and sudo) with this password, as a fresh device would.") var password: String?
        @Flag(help: "Put the devices on a school network of their own (a network namespace), unreachable from this machine: a relay inside serves them (parc lab relay). Needs root.")
        var isolated = false

        func validate() throws {
            if !(1...200).contains(count) { throw ValidationError("give between 1 and 200 devices") }
        }

        func run() async throws {
            // The devices run here; their records go to the local file or the server (--server).
            let parc = try global.parc()
            // Check the school before starting anything.
            let uai = try await parc.perform(SchoolOps.Show(school)).row.school.uai
            let dir = ParcHome.labDirectory(labDir)
            let lab = try LabMachine.up(count: count, in: dir, password: password, isolatedSchool: isolated ? uai : nil)
            do {
                _ = try await parc.perform(LabOps.Register(school: uai, room: room, folder: dir, devices: try lab.registration()))
            } catch {
                lab.down()
                throw error
            }
            emit(Render.table(header: ["DEVICE", "ADDRESS", "PORT", "USER", "SERIAL"],
                              rows: lab.devices.map { [$0.name, $0.address, String($0.port), $0.user, $0.serial] }))
            emit("\(count) device(s) up in \(dir) (\(LabMachine.canIsolate ? "each with its own files" : "sharing this machine's files: run as root to isolate them")), registered in \(uai) / \(room).\n")
            if let network = lab.network {
                emit("School network \(network.namespace): unreachable from here; this machine is \(network.hostAddress) from inside.\n")
                emit("Key: \(lab.clientKey). Serve them with a relay: parc lab relay \(uai) --server http://\(network.hostAddress):PORT --token-file FILE\n")
            } else {
                emit("Key: \(lab.clientKey). Try: parc ping school_\(uai.lowercased())\n")
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "List the lab's devices and whether they run.")
        @Option(name: .customLong("lab-dir"), help: "Where the lab lives.") var labDir: String?
        @Flag(help: "Print JSON: the devices, and the school network with its namespace and hostAddress.") var json = false

        func run() throws {
            let lab = try LabMachine.load(ParcHome.labDirectory(labDir))
            if json {
                let devices = JSONValue.array(lab.devices.map { d in
                    .object([("name", .string(d.name)), ("address", .string(d.address)), ("port", .number(d.port)), ("serial", .string(d.serial)),
                             ("running", .bool(d.running))])
                })
                let network: JSONValue = lab.network.map { n in
                    .object([("school", .string(n.school)), ("namespace", .string(n.namespace)), ("hostAddress", .string(n.hostAddress)),
                             ("innerAddress", .string(n.innerAddress)), ("relayRunning", .bool(n.relayRunning)),
                             ("relayPid", n.relayRunning ? .number(n.relayPid.map(Int.init)) : .null)])
                } ?? .null
                emit(JSONValue.object([("devices", devices), ("isolatedSchools", lab.network == nil ? .array([]) : .array([network]))]).serialized() + "\n")
                return
            }
            emit(Render.table(header: ["DEVICE", "ADDRESS", "PORT", "PID", "STATE"], rows: lab.devices.map { d in
                [d.name, d.address, String(d.port), d.pid.map(String.init) ?? "", d.running ? "running" : "stopped"]
            }))
            if let n = lab.network {
                emit("School \(n.school) on its own network \(n.namespace) (this machine is \(n.hostAddress) from inside); relay \(n.relayRunning ? "running" : "not running").\n")
            }
        }
    }

    struct RelayUp: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "relay",
            abstract: "Start a relay (parc relay) inside an isolated school's network, with the lab's key; parc lab down stops it.",
            discussion: "Example: parc lab relay 0571234G --server http://10.200.3.1:8080 --token-file relay.token")
        @Argument(help: "The isolated school (UAI).") var school: String
        @Option(help: ArgumentHelp("The central server, as seen from inside (its hostAddress in parc lab status --json).", valueName: "URL")) var server: String
        @Option(help: ArgumentHelp("The relay account's token file.", valueName: "file")) var tokenFile: String
        @Option(help: ArgumentHelp("PEM certificates to trust for an https server.", valueName: "file")) var caFile: String?
        @Option(name: .customLong("lab-dir"), help: "Where the lab lives.") var labDir: String?

        func run() throws {
            let dir = ParcHome.labDirectory(labDir)
            let lab = try LabMachine.load(dir)
            guard let network = lab.network, network.school == school.uppercased() else {
                throw ValidationError("the lab in \(dir) has no isolated network for \(school) (parc lab up N --school \(school) --isolated)")
            }
            _ = try TokenFile.read(tokenFile)
            let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            let token = URL(fileURLWithPath: tokenFile).standardizedFileURL.path
            let log = dir + "/relay.log"
            let ca = caFile.map { ["--ca-file", URL(fileURLWithPath: $0).standardizedFileURL.path] } ?? []
            let pid = try lab.startRelay([exe, "relay", "--server", server, "--token-file", token, "--school", network.school,
                                          "--identity", lab.clientKey, "--verbose"] + ca, log: log)
            emit("Relay for \(network.school) started in \(network.namespace) (pid \(pid), log \(log)).\n")
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "down", abstract: "Stop every lab device by its PID, remove the lab's files and its devices from the inventory.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("lab-dir"), help: "Where the lab lives.") var labDir: String?
        @Flag(help: "Keep the lab's devices in the inventory.") var keepInventory = false

        func run() async throws {
            let dir = ParcHome.labDirectory(labDir)
            let lab = try LabMachine.load(dir)
            var removed = 0
            if !keepInventory {
                removed = try await global.parc().perform(LabOps.Unregister(serials: lab.devices.map(\.serial)))
            }
            lab.down()
            emit("Stopped \(lab.devices.count) lab device(s), removed \(dir)\(keepInventory ? "" : " and \(removed) device(s) from the inventory").\n")
        }
    }
}

struct Groups: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "List the groups that patterns (parc ping, playbooks' hosts) can name, with their device counts.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let groups = try await global.parc().perform(GroupOps.Computed())
        let rows = groups.keys.sorted().map { ($0, groups[$0]!) }
        switch output.format {
        case .table:
            emit(Render.table(header: ["GROUP", "DEVICES"], rows: rows.map { [$0.0, String($0.1.count)] }))
        default:
            // As every listing: one object per group; in CSV the serials separated by spaces.
            emit(Render.list(rows, fields: [Field("group", "GROUP") { .string($0.0) }, Field("count", "COUNT") { .int($0.1.count) },
                                            Field("serials", "SERIALS") { .array($0.1.map(JSONValue.string)) }], format: output.format))
        }
    }
}

/// `parc group`: groups of one's own, beside the computed ones, for patterns and group variables.
struct GroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "Groups of your own (salle_info_2, ecrans_neufs…): devices you put in them, variables for their plays.",
        discussion: """
            They stand beside parc's computed groups (see `parc groups`) in every pattern: \
            `parc run site.yml --limit salle_info_2`, `hosts: salle_info_2`. Variables set here are \
            values, never templates; a template goes in inventory/group_vars/NAME.yml.
            """,
        subcommands: [Add.self, Remove.self, AddDevice.self, RemoveDevice.self, Var.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Create a group.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Its name: lower-case letters, digits and _.") var name: String
        func run() async throws {
            _ = try await global.parc().perform(GroupOps.Add(name))
            emit("Group \(name) created.\n")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a group (its devices stay in the inventory).")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        func run() async throws {
            _ = try await global.parc().perform(GroupOps.Remove(name))
            emit("Group \(name) removed.\n")
        }
    }

    struct AddDevice: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-device", abstract: "Put devices (serials or asset tags) in a group.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Argument(help: "Serials or asset tags.") var devices: [String]
        func validate() throws {
            guard !devices.isEmpty else { throw ValidationError("name at least one device (serial or asset tag)") }
        }

        func run() async throws {
            _ = try await global.parc().perform(GroupOps.SetMembers(name, devices: devices, member: true))
            emit("\(devices.count) device(s) in \(name).\n")
        }
    }

    struct RemoveDevice: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove-device", abstract: "Take devices out of a group.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Argument(help: "Serials or asset tags.") var devices: [String]
        func run() async throws {
            _ = try await global.parc().perform(GroupOps.SetMembers(name, devices: devices, member: false))
            emit("\(devices.count) device(s) out of \(name).\n")
        }
    }

    struct Var: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "var", abstract: "Set a group's variables: key=value (key= removes it).")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Argument(help: "key=value, or key= to remove it.") var assignments: [String]
        func run() async throws {
            var changes: [GroupOps.Assignment] = []
            for a in assignments {
                guard let eq = a.firstIndex(of: "="), eq != a.startIndex else { throw ValidationError("'\(a)' is not key=value") }
                let value = String(a[a.index(after: eq)...])
                changes.append(GroupOps.Assignment(key: String(a[..<eq]), value: value.isEmpty ? nil : value))
            }
            _ = try await global.parc().perform(GroupOps.SetVars(name, changes))
            emit("Variables of \(name) updated.\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Your groups, their devices and variables.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            let groups = try await global.parc().perform(GroupOps.List())
            if json {
                emit(JSONValue.array(groups.map { g in
                    .object([("name", .string(g.name)), ("devices", .array(g.serials.map(JSONValue.string))),
                             ("vars", .object(g.vars.keys.sorted().map { ($0, .string(g.vars[$0]!)) }))])
                }).serialized() + "\n")
            } else {
                emit(Render.table(header: ["GROUP", "DEVICES", "VARIABLES"], rows: groups.map { g in
                    [g.name, g.serials.joined(separator: " "), g.vars.keys.sorted().map { "\($0)=\(g.vars[$0]!)" }.joined(separator: " ")]
                }))
            }
        }
    }
}
