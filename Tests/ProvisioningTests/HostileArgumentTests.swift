import Foundation
import ParcCore
@testable import Provisioning
import Templating
import Testing

/// Arguments that would turn into commands or extra lines on a device, tried as an attacker would.
@Suite struct HostileArgumentTests {
    /// reboot's message is text to `shutdown`, never shell code; when `shutdown` fails the
    /// fallback `reboot` runs. Checked with a real shell and stand-ins for both programs.
    @Test func rebootQuotesItsMessageOnceAndFallsBackToReboot() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-reboot-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shutdown = dir + "/shutdown", reboot = dir + "/reboot"
        // Written under other names, then put in place by cp: a file this process wrote could still be
        // open in a child another test forks meanwhile, and executing it would fail (ETXTBSY).
        try "#!/bin/sh\nprintf '%s\\n' \"$@\" > \(dir)/shutdown-args\nexit 1\n".write(toFile: shutdown + ".src", atomically: true, encoding: .utf8)
        try "#!/bin/sh\necho rebooted > \(dir)/reboot-ran\n".write(toFile: reboot + ".src", atomically: true, encoding: .utf8)
        for tool in [shutdown, reboot] {
            let copied = try LocalProcess.run(["/bin/cp", tool + ".src", tool], stdin: nil)
            #expect(copied.exitStatus == 0)
            chmod(tool, 0o755)
        }
        let message = "Mise à jour' $(touch \(dir)/pwned) `touch \(dir)/pwned2` \"; touch \(dir)/pwned3"
        // The line the device runs, without its detaching (nohup … &), so the test can wait for it.
        let line = RebootModule.command(message: message, delay: 0, shutdown: shutdown, reboot: reboot)
        #expect(line.hasPrefix("nohup /bin/sh -c ") && line.hasSuffix(" >/dev/null 2>&1 &"))
        let inner = String(line.dropFirst("nohup ".count).dropLast(" >/dev/null 2>&1 &".count))
        let r = try LocalProcess.run(["/bin/sh", "-c", inner], stdin: nil)
        #expect(r.exitStatus == 0)
        let args = try String(contentsOfFile: dir + "/shutdown-args", encoding: .utf8)
        #expect(args == "-r\nnow\n\(message)\n", "the message reaches shutdown as one argument, as written")
        #expect(try String(contentsOfFile: dir + "/reboot-ran", encoding: .utf8) == "rebooted\n", "the fallback ran")
        for p in ["pwned", "pwned2", "pwned3"] { #expect(!FileManager.default.fileExists(atPath: "\(dir)/\(p)")) }
    }
}

/// Files that would take the control node down: cycles, alias bombs, deep nesting.
@Suite struct HostileFileTests {
    func folder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-hostile-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir + "/roles/r/tasks", withIntermediateDirectories: true)
        return dir
    }

    func loadError(_ path: String) -> String? {
        do { _ = try PlaybookLoader.load(path); return nil } catch { return "\(error)" }
    }

    @Test func aFileThatBringsInItselfIsACycleNamingTheChain() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "- import_playbook: self.yml\n".write(toFile: dir + "/self.yml", atomically: true, encoding: .utf8)
        let own = try #require(loadError(dir + "/self.yml"))
        #expect(own.contains("inclusion cycle: \(dir)/self.yml:1 brings in self.yml"), "\(own)")

        try "- hosts: all\n  tasks:\n    - import_tasks: a.yml\n".write(toFile: dir + "/play.yml", atomically: true, encoding: .utf8)
        try "- debug: msg=a\n- include_tasks: b.yml\n".write(toFile: dir + "/a.yml", atomically: true, encoding: .utf8)
        try "- import_tasks: a.yml\n".write(toFile: dir + "/b.yml", atomically: true, encoding: .utf8)
        let tasks = try #require(loadError(dir + "/play.yml"))
        #expect(tasks.contains("\(dir)/a.yml:2 brings in b.yml → \(dir)/b.yml:1 brings in a.yml"), "\(tasks)")

        try "- hosts: all\n  roles: [r]\n".write(toFile: dir + "/role.yml", atomically: true, encoding: .utf8)
        try "- include_role: { name: r }\n".write(toFile: dir + "/roles/r/tasks/main.yml", atomically: true, encoding: .utf8)
        let role = try #require(loadError(dir + "/role.yml"))
        #expect(role.contains("inclusion cycle") && role.contains("roles/r/tasks/main.yml:1 brings in main.yml"), "\(role)")
    }

    @Test func importTasksNamesItsFileWithWhatIsKnownWhenThePlaybookIsRead() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/roles/r/tests", withIntermediateDirectories: true)
        try "- hosts: all\n  roles: [r]\n".write(toFile: dir + "/play.yml", atomically: true, encoding: .utf8)
        try "- import_tasks: \"{{ role_path }}/tests/main.yml\"\n  become_user: \"{{ later }}\"\n".write(toFile: dir + "/roles/r/tasks/main.yml", atomically: true, encoding: .utf8)
        try "- import_tasks: relative.yml\n".write(toFile: dir + "/roles/r/tests/main.yml", atomically: true, encoding: .utf8)
        try "- debug: msg=imported\n".write(toFile: dir + "/roles/r/tests/relative.yml", atomically: true, encoding: .utf8)
        let book = try PlaybookLoader.load(dir + "/play.yml")
        let tasks = book.plays[0].tasks
        #expect(tasks.first?.module == "debug" && tasks.first?.args["msg"] == .string("imported") && tasks.first?.becomeUser == "{{ later }}", "\(tasks.map { ($0.module, $0.becomeUser ?? "-") }) the role's path is known when the playbook is read; the import's keywords reach its tasks")
        // A host's variable is not known then: said, with the way out.
        try "- import_tasks: \"{{ ansible_distribution }}.yml\"\n".write(toFile: dir + "/roles/r/tasks/main.yml", atomically: true, encoding: .utf8)
        let message = try #require(loadError(dir + "/play.yml"))
        #expect(message.contains("not known when the playbook is read") && message.contains("include_tasks"), "\(message)")
    }

    @Test func aliasBombsAreRefusedQuickly() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var yaml = "- hosts: all\n  vars:\n    a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        var previous = "a"
        for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            yaml += "    \(name): &\(name) [\(Array(repeating: "*\(previous)", count: 9).joined(separator: ","))]\n"
            previous = name
        }
        yaml += "  tasks: []\n"
        try yaml.write(toFile: dir + "/bomb.yml", atomically: true, encoding: .utf8)
        let start = ContinuousClock.now
        let e = try #require(loadError(dir + "/bomb.yml"))
        #expect(e.contains("expand to more than 250000 values"), "\(e)")
        #expect(ContinuousClock.now - start < .seconds(10))
        // The same file as a vars file (group_vars, vars_files, -e @file).
        #expect(throws: PlaybookError.self) { try PlaybookLoader.loadVars(dir + "/bomb.yml") }
        // Ordinary anchors still work.
        try "- hosts: all\n  vars:\n    base: &base { a: 1 }\n    copy: *base\n  tasks: []\n".write(toFile: dir + "/ok.yml", atomically: true, encoding: .utf8)
        #expect(try PlaybookLoader.load(dir + "/ok.yml").plays.first?.vars["copy"] == .map(["a": .int(1)]))
    }

    @Test func deepNestingInYAMLAndTemplatesIsALocatedError() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ("- hosts: all\n  vars:\n    x: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n  tasks: []\n")
            .write(toFile: dir + "/deep.yml", atomically: true, encoding: .utf8)
        let e = try #require(loadError(dir + "/deep.yml"))
        #expect(e.contains("\(dir)/deep.yml:3:") && e.contains("nesting"), "\(e.prefix(200))")

        let template = String(repeating: "{% if true %}", count: 10_000) + "x" + String(repeating: "{% endif %}", count: 10_000)
        let start = ContinuousClock.now
        #expect {
            _ = try TemplateEngine().render(template, vars: [:], at: SourceLocation(file: "deep.j2", line: 1, column: 1))
        } throws: { "\($0)".contains("deeper than 100 levels") }
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(try TemplateEngine().render(String(repeating: "{% if true %}", count: 20) + "x" + String(repeating: "{% endif %}", count: 20), vars: [:]) == "x")
    }
}
