import Foundation
import ParcCore
@testable import Provisioning
import Templating
import Testing

/// One folder per test process for the playbooks tests write, removed when the process exits.
let playbookScratch: URL = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-pb-\(getpid())")
    atexit { try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory.appendingPathComponent("parc-pb-\(getpid())")) }
    return dir
}()

func writePlaybook(_ text: String, name: String = "play.yml") throws -> String {
    let dir = playbookScratch.appendingPathComponent(UUID().uuidString)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite struct LoaderTests {
    @Test func aPlaybookInTheCommonAnsibleSubsetLoads() throws {
        let path = try writePlaybook("""
            - name: Salle informatique
              hosts: school_0572113m:&kind_laptop:!lab-03
              become: yes
              serial: "25%"
              max_fail_percentage: 10
              vars:
                pkgs: [vim, htop]
              tasks:
                - name: Paquets
                  ansible.builtin.apt:
                    name: "{{ pkgs }}"
                  tags: packages
                - command: echo hello world chdir=/tmp
                  register: out
                  when:
                    - out is not defined
                    - pkgs | length > 1
                - copy: dest=/etc/motd content="Bienvenue à l'école" mode=0644
                  notify: [done]
              handlers:
                - name: done
                  debug: msg=ok
            """)
        let book = try PlaybookLoader.load(path)
        let play = try #require(book.plays.first)
        #expect(play.hosts == "school_0572113m:&kind_laptop:!lab-03")
        #expect(play.become)
        #expect(play.serial == .percent(25))
        #expect(play.serial.batches(of: 10) == [2, 2, 2, 2, 2])
        #expect(play.maxFailPercentage == 10)
        #expect(play.tasks.map(\.module).prefix(3) == ["apt", "command", "copy"])
        #expect(play.tasks.map(\.kind).last == .flushHandlers, "handlers flush at the end of the tasks")
        #expect(play.tasks[0].tags == ["packages"])
        #expect(play.tasks[1].args["_raw_params"] == .string("echo hello world"))
        #expect(play.tasks[1].args["chdir"] == .string("/tmp"))
        #expect(play.tasks[1].when.count == 2)
        #expect(play.tasks[2].args["content"] == .string("Bienvenue à l'école"))
        #expect(play.tasks[2].args["mode"] == .string("0644"))
        #expect(play.tasks[2].notify == ["done"])
        #expect(play.handlers.first?.name == "done")
        #expect(book.contentHash.count == 64)
    }

    @Test func aYAMLMistakeNamesFileLineColumnAndShowsTheLine() throws {
        let path = try writePlaybook("- hosts: all\n  tasks:\n    - name: a\n      copy: {dest: /x\n    - name: b\n")
        #expect {
            try PlaybookLoader.load(path)
        } throws: { error in
            guard let e = error as? PlaybookError, let loc = e.location else { return false }
            return loc.file == path && loc.line >= 4 && "\(e)".contains("^ here") && "\(e)".contains("YAML")
        }
    }

    @Test func anUnknownModuleIsAnErrorAtItsLine() throws {
        let path = try writePlaybook("- hosts: all\n  tasks:\n    - name: a\n      debug: msg=x\n    - name: b\n      grille_pain: yes\n")
        #expect {
            try PlaybookLoader.load(path)
        } throws: { error in
            let e = error as! PlaybookError
            return e.location?.line == 6 && e.location?.column == 7 && e.message.contains("unknown module or task keyword 'grille_pain'")
                && e.sourceLine == "      grille_pain: yes"
        }
    }

    @Test func anUnknownArgumentIsAnErrorBeforeAnythingRuns() throws {
        let path = try writePlaybook("- hosts: all\n  tasks:\n    - copy:\n        dest: /x\n        colour: blue\n")
        #expect {
            try PlaybookLoader.load(path)
        } throws: { "\($0)".contains("Unsupported parameters for (ansible.legacy.copy) module: colour") && "\($0)".contains(":5:") }  // on the argument's own line
    }

    /// Ansible's words, checked against ansible-core 2.19: every unknown argument, sorted; shell's one
    /// argument of command it lacks; `async` on an action that runs no module in the background.
    @Test func unsupportedArgumentsAndAsyncAreRefusedInAnsiblesWords() throws {
        let path = try writePlaybook("""
            - hosts: all
              tasks:
                - copy: {dest: /x, content: y, size: 2, colour: blue}
                  ignore_errors: true
                - shell: echo $HOME
                  args: {expand_argument_vars: false}
                  ignore_errors: true
                - script: /some/script.sh
                  async: 2
                  ignore_errors: true
                - ansible.builtin.copy: {dest: /x, content: y}
                  async: 2
                  ignore_errors: true
                - command: sleep 1
                  async: 2
                - ansible.builtin.user: {name: x, foo: 1}
                  ignore_errors: true
                - command: {cmd: "true", foo: 1}
                  ignore_errors: true
            """)
        let tasks = try PlaybookLoader.load(path).plays[0].tasks
        #expect(tasks[0].refusal?.message.hasPrefix("Unsupported parameters for (ansible.legacy.copy) module: colour, size. Supported parameters include: ") == true,
                "\(String(describing: tasks[0].refusal))")
        #expect(tasks[1].refusal?.message == "Unsupported parameters for (shell) module: expand_argument_vars")
        #expect(tasks[2].refusal?.message == "This action (script) does not support async.")
        #expect(tasks[3].refusal?.message == "This action (ansible.builtin.copy) does not support async.")
        #expect(tasks[4].refusal == nil)
        #expect(tasks[5].refusal?.message.hasPrefix("Unsupported parameters for (ansible.builtin.user) module: foo.") == true)
        #expect(tasks[6].refusal?.message.hasPrefix("Unsupported parameters for (ansible.legacy.command) module: foo.") == true)
    }

    @Test func otherMistakesAreNamed() throws {
        for (text, expected) in [
            ("- tasks: []\n", "a play needs `hosts:`"),
            ("- hosts: all\n  tasks:\n    - copy: {dest: /x, content: y}\n      file: {path: /y}\n", "a task runs one module"),
            ("- hosts: all\n  tasks:\n    - name: nothing\n", "names no module"),
            ("- hosts: all\n  serial: lots\n", "serial is a number"),
            ("- hosts: all\n  colour: blue\n", "unknown play keyword 'colour'"),
            ("- hosts: all\n  tasks:\n    - template: {src: y}\n", "template needs the argument 'dest'"),
            ("hosts: all\n", "a playbook is a list of plays"),
        ] {
            let path = try writePlaybook(text)
            #expect(throws: PlaybookError.self, "\(text)") { try PlaybookLoader.load(path) }
            #expect((try? PlaybookLoader.load(path)) == nil)
            do { _ = try PlaybookLoader.load(path) } catch { #expect("\(error)".contains(expected), "\(error)") }
        }
    }

    /// module_defaults as Ansible applies them (ansible-playbook checked by hand, and fixture 40):
    /// for a module, the nearest defaults naming it (task, block, include, then play) replace the
    /// farther ones whole — `ansible.builtin.copy` and `copy` are one module —, the task's own
    /// arguments win; `package` also takes apt's under its own; a default that gives a required
    /// argument is no refusal.
    @Test func moduleDefaultsMergeFromTheNearest() throws {
        let path = try writePlaybook("""
            - hosts: all
              module_defaults:
                copy: { mode: "0600", owner: root, content: "play" }
                apt: { update_cache: yes, cache_valid_time: 3600 }
                group/ansible.builtin.gcp: { project: x }
              tasks:
                - copy: { dest: /a }
                - block:
                    - ansible.builtin.copy: { dest: /b, owner: prof }
                      module_defaults:
                        ansible.legacy.copy: { mode: "0644", group: adm }
                    - copy: { dest: /c }
                  module_defaults:
                    copy: { mode: "0400", group: eleves }
                - package: { name: vim }
                  module_defaults:
                    package: { update_cache: no }
                - service: { name: cups, state: started }
                  module_defaults: [ { systemd: { enabled: yes } }, { systemd: { enabled: no } } ]
            """)
        let tasks = try PlaybookLoader.load(path).plays[0].tasks
        func args(_ i: Int, inBlock: Int? = nil) -> [String: Value] { inBlock.map { tasks[i].block[$0].args } ?? tasks[i].args }
        #expect(args(0) == ["dest": .string("/a"), "mode": .string("0600"), "owner": .string("root"), "content": .string("play")])
        #expect(tasks[0].refusal == nil, "the required content came from the defaults")
        #expect(args(1, inBlock: 0) == ["dest": .string("/b"), "owner": .string("prof"), "mode": .string("0644"), "group": .string("adm")])
        #expect(args(1, inBlock: 1) == ["dest": .string("/c"), "mode": .string("0400"), "group": .string("eleves")], "the block's copy defaults replace the play's")
        #expect(args(2) == ["name": .string("vim"), "update_cache": .bool(false), "cache_valid_time": .int(3600)])
        #expect(args(3)["enabled"] == .bool(false), "a later mapping of the list wins")
        // A default argument the module does not take fails the task that uses it, in parc's words.
        let wrong = try writePlaybook("- hosts: all\n  module_defaults: { copy: { colour: blue } }\n  tasks:\n    - copy: { dest: /x, content: y }\n")
        #expect { try PlaybookLoader.load(wrong) } throws: { "\($0)".contains("Unsupported parameters for (ansible.legacy.copy) module: colour") }
        let template = try writePlaybook("- hosts: all\n  module_defaults: \"{{ d }}\"\n  tasks: []\n")
        #expect { try PlaybookLoader.load(template) } throws: { "\($0)".contains("module_defaults is a mapping") }
    }

    @Test func yamlBooleansAndOctalModesReadAsAnsibleReadsThem() throws {
        let path = try writePlaybook("- hosts: all\n  become: yes\n  gather_facts: no\n  tasks:\n    - file: {path: /x, state: directory, mode: 0755}\n")
        let play = try PlaybookLoader.load(path).plays[0]
        #expect(play.become && !play.gatherFacts)
        #expect(try Modules.mode(play.tasks[0].args["mode"]) == "755")
        #expect(try Modules.mode(.string("0640")) == "640")
        #expect(try Modules.mode(.string("u=rw,go=r")) == "644")
        #expect(try Modules.mode(.string("u+x,g-w"), current: "664") == "744")
        #expect(try Modules.mode(.string("a=rX"), current: "700", isDirectory: true) == "555")
        #expect(try Modules.mode(.string("u=rwx,g=rx,o="), current: "777") == "750")
        #expect(throws: ModuleFailure.self) { try Modules.mode(.string("u*rw")) }
    }
}

@Suite struct TemplateTests {
    let engine = TemplateEngine()
    let vars: [String: Value] = ["name": .string("Norroy"), "pkgs": .list([.string("vim"), .string("htop")]), "flag": .string("yes"),
                                 "n": .int(3), "school": .map(["uai": .string("0572113M")]), "empty": .string("")]

    func r(_ s: String) throws -> String { try engine.render(s, vars: vars) }

    @Test func nowIsAnsiblesGlobalNotJinjas() throws {
        let date = Date(timeIntervalSince1970: 1_765_158_000.25)  // 2025-12-08 01:40:00.25 UTC
        #expect(try TemplateEnvironment.ansibleNow([], ["utc": .bool(true), "fmt": .string("%Y-%m-%d %H:%M:%S.%f")], at: date) == .string("2025-12-08 01:40:00.250000"))
        #expect(try TemplateEnvironment.ansibleNow([.bool(true)], [:], at: date) == .string("2025-12-08 01:40:00.250000"), "str() of a datetime without fmt")
        #expect(try r("{{ now(fmt='%s.%f') | float > 1700000000 }}") == "True", "the run's environment has it")
        #expect(throws: TemplateError.self) { try Template("{{ now() }}").render([:]) }  // Jinja's own does not
    }

    @Test func theFileLookupStripsAsAnsiblesOptionsSay() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-lookup-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir + "/files", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "  Hello World \n\n".write(toFile: dir + "/files/data.txt", atomically: true, encoding: .utf8)
        let v: [String: Value] = ["parc_playbook_dir": .string(dir)]
        #expect(try engine.render("[{{ lookup('file', 'data.txt') }}]", vars: v) == "[  Hello World]", "rstrip is on by default: every trailing space")
        #expect(try engine.render("[{{ lookup('file', 'data.txt', lstrip=True, rstrip=False) }}]", vars: v) == "[Hello World \n\n]")
    }

    @Test func ansibleFiltersWorkWithJinjaCallSyntax() throws {
        #expect(try r("{{ name | lower }}-{{ name|upper }}") == "norroy-NORROY")
        #expect(try r("{{ pkgs | join(', ') }}") == "vim, htop")
        #expect(try r("{{ name | replace('o', '0') }}") == "N0rr0y")
        #expect(try r("{{ missing | default('défaut') }}") == "défaut")
        #expect(try r("{{ empty | default('vide', true) }}") == "vide")
        #expect(try r("{{ pkgs | length }}") == "2")
        #expect(try r("{% if flag | bool %}oui{% else %}non{% endif %}") == "oui")
        #expect(try r("{{ school.uai | lower }}") == "0572113m")
        #expect(try r("{{ '42' | int + 0 }}".replacingOccurrences(of: " + 0", with: "")) == "42")
        #expect(try r("{% for p in pkgs %}{{ loop.index }}:{{ p }} {% endfor %}") == "1:vim 2:htop ")
        #expect(try r("{{ pkgs | first }}/{{ pkgs | last }}") == "vim/htop")
        #expect(try r("{{ 'a b' | quote }}") == "'a b'")
    }

    @Test func anUndefinedVariableIsAnErrorNamingIt() {
        #expect {
            try engine.render("proxy={{ proxy_url }}", vars: vars, at: SourceLocation(file: "p.yml", line: 7, column: 5))
        } throws: { error in
            let text = "\(error)"
            return text.contains("p.yml:7:5") && text.contains("'proxy_url' is undefined")
        }
    }

    @Test func aWholeExpressionKeepsItsType() throws {
        #expect(try engine.evaluate(.string("{{ pkgs }}"), vars: vars) == .list([.string("vim"), .string("htop")]))
        #expect(try engine.evaluate(.string("{{ n }}"), vars: vars) == .int(3))
        #expect(try engine.evaluate(.string("n={{ n }}"), vars: vars) == .string("n=3"))
        #expect(try engine.evaluate(.string("{{ missing | default([]) }}"), vars: vars) == .list([]))
    }

    @Test func conditionsFollowAnsible() throws {
        #expect(try engine.condition("flag | bool", vars: vars))
        #expect(try engine.condition("{{ n > 2 }}", vars: vars))
        // Ansible 2.19: a condition's value must be a boolean; a string, a number or None is refused.
        for notBoolean in ["flag", "n", "pkgs", "{{ name }}", "missing | default(none)"] {
            #expect(throws: PlaybookError.self, "\(notBoolean)") { try engine.condition(notBoolean, vars: vars) }
        }
        #expect { try engine.condition("flag", vars: vars, at: SourceLocation(file: "p.yml", line: 3, column: 7)) } throws: { error in
            let text = "\(error)"
            return text.contains("p.yml:3:7") && text.contains("the condition 'flag'") && text.contains("'yes', of type 'str'")
                && text.contains("must have a boolean result")
        }
        #expect(try engine.condition("pkgs | length > 1", vars: vars))
        #expect(try engine.condition("missing is not defined", vars: vars))
        #expect(try !engine.condition("missing is defined", vars: vars))
        #expect(try engine.condition("name == 'Norroy' and n > 2", vars: vars))
        #expect(try !engine.condition("'emacs' in pkgs", vars: vars))
        #expect(try engine.condition("school.uai == \"0572113M\"", vars: vars))
    }
}
