import Foundation
import ParcCore
@testable import Provisioning
import Templating
import Testing

/// ansible.cfg found and read as ansible-playbook finds and reads it.
@Suite struct AnsibleConfigTests {
    /// A project folder, a home, and the system's place left alone (only the first found counts).
    struct Place {
        let root: String
        var project: String { root + "/project" }
        var home: String { root + "/home" }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("parc-cfg-\(UUID().uuidString)").path
            for d in [root + "/project", root + "/home", root + "/elsewhere"] {
                try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            }
        }

        func write(_ text: String, to path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }
        func discover(_ env: [String: String] = [:], in directory: String? = nil) throws -> AnsibleConfig {
            try AnsibleConfig.discover(environment: env, directory: directory ?? project, home: home)
        }
    }

    @Test func theFirstFileFoundIsTheOnlyOneRead() throws {
        let p = try Place()
        defer { try? FileManager.default.removeItem(atPath: p.root) }
        try p.write("[defaults]\nforks = 7\n", to: p.home + "/.ansible.cfg")
        try p.write("[defaults]\nroles_path = roles-a:~/roles-b:/abs\n", to: p.project + "/ansible.cfg")
        try p.write("[defaults]\ntimeout = 3\n", to: p.root + "/elsewhere/ansible.cfg")

        // ./ansible.cfg wins over ~/.ansible.cfg, and alone: forks is not read from the home's file.
        let here = try p.discover()
        #expect(here.file == p.project + "/ansible.cfg")
        #expect(here.rolesPath.value == [p.project + "/roles-a", p.home + "/roles-b", "/abs"], "paths relative to the file's folder, ~ expanded")
        #expect(here.rolesPath.origin == p.project + "/ansible.cfg:2")
        #expect(here.forks == nil)

        // ANSIBLE_CONFIG (a folder: its ansible.cfg) wins over the current folder.
        let named = try p.discover(["ANSIBLE_CONFIG": p.root + "/elsewhere"])
        #expect(named.file == p.root + "/elsewhere/ansible.cfg" && named.timeout?.value == 3)

        // Elsewhere without a file: the home's; without any: Ansible's default roles path.
        #expect(try p.discover(in: p.root).forks?.value == 7)
        try FileManager.default.removeItem(atPath: p.home + "/.ansible.cfg")
        let none = try p.discover(in: p.root)
        if !FileManager.default.fileExists(atPath: "/etc/ansible/ansible.cfg") {
            #expect(none.file == nil)
            #expect(none.rolesPath.value == [p.home + "/.ansible/roles", "/usr/share/ansible/roles", "/etc/ansible/roles"])
        }
    }

    @Test func aWorldWritableFoldersFileIsNotRead() throws {
        let p = try Place()
        defer { try? FileManager.default.removeItem(atPath: p.root) }
        try p.write("[defaults]\nforks = 9\n", to: p.project + "/ansible.cfg")
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: p.project)
        #expect(try p.discover().forks == nil, "anyone could have put it there (Ansible skips it too)")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: p.project)
        #expect(try p.discover().forks?.value == 9)
    }

    @Test func variablesOverTheFileAndEverySettingPeopleUse() throws {
        let p = try Place()
        defer { try? FileManager.default.removeItem(atPath: p.root) }
        try p.write("""
            # comment
            [defaults]
            inventory = hosts.ini
            remote_user: eleve
            forks = 5 ; inline comment
            timeout = 30
            gathering = explicit
            private_key_file = keys/id_ed25519
            host_key_checking = False
            stdout_callback = yaml
            [privilege_escalation]
            become = yes
            become_user = admin
            become_method = sudo
            become_ask_pass = no
            """, to: p.project + "/ansible.cfg")
        let c = try p.discover()
        #expect(c.inventory?.value == [p.project + "/hosts.ini"] && c.inventory?.origin == p.project + "/ansible.cfg:3")
        #expect(c.remoteUser?.value == "eleve" && c.forks?.value == 5 && c.timeout?.value == 30 && c.gathering?.value == .explicit)
        #expect(c.privateKeyFile?.value == p.project + "/keys/id_ed25519" && c.hostKeyChecking?.value == false)
        #expect(c.become?.value == true && c.becomeUser?.value == "admin" && c.becomeMethod?.value == "sudo" && c.becomeAskPass?.value == false)

        let env = try p.discover(["ANSIBLE_FORKS": "50", "ANSIBLE_ROLES_PATH": "r1:/r2", "ANSIBLE_GATHERING": "smart", "ANSIBLE_BECOME": "false"],
                                 in: p.project)
        #expect(env.forks?.value == 50 && env.forks?.origin == "ANSIBLE_FORKS")
        #expect(env.rolesPath.value == [p.project + "/r1", "/r2"], "a variable's relative path is from the current folder")
        #expect(env.gathering?.value == .smart && env.become?.value == false && env.timeout?.value == 30)
    }

    @Test func aMistakeNamesTheFileAndLine() throws {
        let p = try Place()
        defer { try? FileManager.default.removeItem(atPath: p.root) }
        let file = p.project + "/ansible.cfg"
        for (text, expected) in [
            ("[defaults]\nforks = many\n", "\(file):2: forks is a whole number above 0, not 'many'"),
            ("[defaults]\n\ngathering = sometimes\n", "\(file):3: gathering is implicit, explicit or smart, not 'sometimes'"),
            ("[privilege_escalation]\nbecome = peut-être\n", "\(file):2: become is true or false, not 'peut-être'"),
            ("[defaults\n", "\(file):1: a section header is `[name]`"),
            ("[defaults]\njust words\n", "\(file):2: expected `key = value`, found 'just words'"),
        ] {
            try p.write(text, to: file)
            #expect(throws: PlaybookError.self) { try p.discover() }
            do { _ = try p.discover() } catch { #expect("\(error)" == expected) }
        }
        #expect(throws: PlaybookError.self) { try p.discover(["ANSIBLE_TIMEOUT": "0"], in: p.root) }
    }
}

/// Roles looked up as Ansible's RoleDefinition does: `roles/` beside the playbook, the roles path,
/// the depending role's folder (dependencies only), the playbook's folder.
@Suite struct RoleSearchTests {
    @Test func rolesAreFoundInAnsiblesOrder() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("parc-roles-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        func role(_ dir: String, _ tasks: String, meta: String? = nil) throws {
            try FileManager.default.createDirectory(atPath: dir + "/tasks", withIntermediateDirectories: true)
            try tasks.write(toFile: dir + "/tasks/main.yml", atomically: true, encoding: .utf8)
            if let meta {
                try FileManager.default.createDirectory(atPath: dir + "/meta", withIntermediateDirectories: true)
                try meta.write(toFile: dir + "/meta/main.yml", atomically: true, encoding: .utf8)
            }
        }
        // `common` in three places: roles/ beside the playbook wins, then the roles path.
        try role(root + "/site/roles/common", "- debug: msg=beside\n")
        try role(root + "/path/common", "- debug: msg=path\n")
        try role(root + "/site/common", "- debug: msg=playbook-folder\n")
        // `app` only in the roles path, depending on `lib` that only its own folder holds.
        try role(root + "/path/app", "- debug: msg=app\n", meta: "dependencies: [lib]\n")
        try role(root + "/path/lib", "- debug: msg=lib\n")
        try "- hosts: all\n  roles: [common, app]\n".write(toFile: root + "/site/play.yml", atomically: true, encoding: .utf8)

        let book = try PlaybookLoader.load(root + "/site/play.yml", rolesPath: [root + "/path"])
        let tasks = book.plays[0].tasks.filter { $0.module == "debug" }
        #expect(tasks.map { $0.args["msg"]?.string ?? "" } == ["beside", "lib", "app"])
        #expect(tasks.map { $0.vars["role_name"]?.string ?? "" } == ["common", "lib", "app"])
        #expect(tasks.map { $0.vars["ansible_role_name"]?.string ?? "" } == ["common", "lib", "app"])
        #expect(tasks[0].vars["role_path"]?.string == root + "/site/roles/common")

        // Without the roles path, `app` is not found, and the message names every place looked in.
        do {
            _ = try PlaybookLoader.load(root + "/site/play.yml", rolesPath: [])
            Issue.record("app should not be found")
        } catch let e as PlaybookError {
            #expect(e.message == "the role 'app' was not found in \(root)/site/roles:\(root)/site")
            #expect(e.location?.line == 2)
        }
        // A dependency is not looked for beside a role that is not its dependant: `lib` from the play is not found.
        try "- hosts: all\n  roles: [lib]\n".write(toFile: root + "/site/lib.yml", atomically: true, encoding: .utf8)
        #expect(throws: PlaybookError.self) { try PlaybookLoader.load(root + "/site/lib.yml", rolesPath: []) }
    }
}
