import Foundation
import ParcCore
@testable import Provisioning
import Templating
import Testing

/// Operations as data, in the spirit of pyinfra's tests: arguments and facts in, commands out.
@Suite struct FileOperationTests {
    struct Case: Sendable {
        var args: [String: Value]
        var current: PathState
        var commands: [String]
    }

    static let cases: [Case] = [
        Case(args: ["state": .string("directory"), "mode": .int(0o755)], current: PathState(kind: .absent),
             commands: ["d=/srv/ecole; set --; while [ ! -e \"$d\" ] && [ ! -L \"$d\" ]; do set -- \"$d\" \"$@\"; d=$(dirname -- \"$d\"); done; for x in \"$@\"; do mkdir -- \"$x\" && chmod 755 -- \"$x\" || exit 1; done"]),
        Case(args: ["state": .string("directory"), "mode": .string("0755")], current: PathState(kind: .directory, mode: "755", owner: "root", group: "root"),
             commands: []),
        Case(args: ["state": .string("directory"), "mode": .string("0750"), "owner": .string("eleve")],
             current: PathState(kind: .directory, mode: "755", owner: "root", group: "root"),
             commands: ["chmod 750 -- /srv/ecole", "chown eleve -- /srv/ecole"]),
        Case(args: ["state": .string("absent")], current: PathState(kind: .file), commands: ["rm -rf -- /srv/ecole"]),
        Case(args: ["state": .string("absent")], current: PathState(kind: .absent), commands: []),
        // A file touch makes is removed again when its mode or owner cannot be set (Ansible's cleanup).
        Case(args: ["state": .string("touch")], current: PathState(kind: .absent), commands: ["touch -- /srv/ecole || { rm -f -- /srv/ecole; exit 1; }"]),
        Case(args: ["state": .string("touch"), "owner": .string("root")], current: PathState(kind: .absent),
             commands: ["touch -- /srv/ecole && chown root -- /srv/ecole || { rm -f -- /srv/ecole; exit 1; }"]),
        Case(args: ["state": .string("touch")], current: PathState(kind: .file, mode: "644"), commands: []),
        Case(args: ["state": .string("link"), "src": .string("/usr/share/zoneinfo/Europe/Paris")],
             current: PathState(kind: .link, linkTarget: "/usr/share/zoneinfo/UTC"), commands: ["ln -sfn -- /usr/share/zoneinfo/Europe/Paris /srv/ecole"]),
        Case(args: ["state": .string("link"), "src": .string("/x")], current: PathState(kind: .link, linkTarget: "/x"), commands: []),
        Case(args: ["state": .string("file"), "group": .string("eleves")], current: PathState(kind: .file, mode: "644", owner: "root", group: "root"),
             commands: ["chown :eleves -- /srv/ecole"]),
    ]

    @Test(arguments: cases)
    func fileCommandsFollowFromArgumentsAndState(_ c: Case) throws {
        #expect(try FileModule.plan(path: "/srv/ecole", args: c.args, current: c.current) == c.commands)
    }

    @Test func impossibleFileStatesAreRefused() {
        #expect(throws: ModuleFailure.self) { try FileModule.plan(path: "/x", args: ["state": .string("file")], current: PathState(kind: .absent)) }
        #expect(throws: ModuleFailure.self) { try FileModule.plan(path: "/x", args: ["state": .string("directory")], current: PathState(kind: .file)) }
        #expect(throws: ModuleFailure.self) { try FileModule.plan(path: "/x", args: ["state": .string("link"), "src": .string("/y")], current: PathState(kind: .file)) }
    }

    @Test func statOutputIsParsed() {
        #expect(PathState.parse("absent\n") == PathState(kind: .absent))
        #expect(PathState.parse("directory|755|root|root|4096\n\n") == PathState(kind: .directory, mode: "755", owner: "root", group: "root", size: 4096))
        #expect(PathState.parse("symbolic link|777|root|root|33\n/usr/share/zoneinfo/Europe/Paris\n").linkTarget == "/usr/share/zoneinfo/Europe/Paris")
        #expect(PathState.parse("regular empty file|600|eleve|eleve|0\n").kind == .file)
    }
}

@Suite struct LineInFileTests {
    struct Case: Sendable {
        var before: String?
        var args: [String: Value]
        var after: String?
        var changed: Bool
    }

    static let cases: [Case] = [
        Case(before: "a=1\nb=2\n", args: ["line": .string("c=3")], after: "a=1\nb=2\nc=3\n", changed: true),
        Case(before: "a=1\nb=2\n", args: ["line": .string("b=2")], after: "a=1\nb=2\n", changed: false),
        Case(before: "http_proxy=old\nx\n", args: ["regexp": .string("^http_proxy="), "line": .string("http_proxy=new")],
             after: "http_proxy=new\nx\n", changed: true),
        Case(before: "http_proxy=new\n", args: ["regexp": .string("^http_proxy="), "line": .string("http_proxy=new")], after: "http_proxy=new\n", changed: false),
        Case(before: "k=1\nk=2\n", args: ["regexp": .string("^k="), "line": .string("k=3")], after: "k=1\nk=3\n", changed: true),
        Case(before: "[main]\nx=1\n[other]\n", args: ["line": .string("y=2"), "insertafter": .string("^\\[main\\]")],
             after: "[main]\ny=2\nx=1\n[other]\n", changed: true),
        Case(before: "x\n", args: ["line": .string("# header"), "insertbefore": .string("BOF")], after: "# header\nx\n", changed: true),
        Case(before: "a\nsecret=1\nb\nsecret=2\n", args: ["regexp": .string("^secret="), "state": .string("absent")], after: "a\nb\n", changed: true),
        Case(before: "a\n", args: ["line": .string("zz"), "state": .string("absent")], after: "a\n", changed: false),
        Case(before: nil, args: ["line": .string("first"), "create": .bool(true)], after: "first\n", changed: true),
        Case(before: "no final newline", args: ["line": .string("next")], after: "no final newline\nnext\n", changed: true),
        // An empty file: the line and its newline, nothing before (ansible-core's lineinfile target, "testempty").
        Case(before: "", args: ["line": .string("New line at the end"), "insertafter": .string("EOF")], after: "New line at the end\n", changed: true),
        // An empty regexp matches every line: the last one is replaced (Python's re, as Ansible).
        Case(before: "a\nb\n", args: ["line": .string("c"), "regexp": .string("")], after: "a\nc\n", changed: true),
    ]

    @Test(arguments: cases)
    func lineInFileEditsAsAnsible(_ c: Case) throws {
        let out = try LineInFileModule.apply(c.before, args: c.args)
        #expect(out.changed == c.changed)
        #expect(out.content == c.after)
    }

    @Test func aBadPatternIsNamedWithItsArgument() {
        #expect(performing: { try LineInFileModule.apply("a\n", args: ["line": .string("x"), "regexp": .string("(")]) },
                throws: { ($0 as? ModuleFailure)?.message == "regexp: '(' is not a valid regular expression" })
    }

    @Test func aMissingFileWithoutCreateIsRefused() {
        #expect(throws: ModuleFailure.self) { try LineInFileModule.apply(nil, args: ["line": .string("x")]) }
    }

    /// search_string is literal text anywhere in a line (a `.` is a dot), and excludes regexp and backrefs.
    @Test func searchStringIsLiteral() throws {
        let out = try LineInFileModule.apply("a.b=1\naxb=2\n", args: ["search_string": .string("a.b"), "line": .string("a.b=3")])
        #expect(out.content == "a.b=3\naxb=2\n" && out.changed)
        #expect(throws: ModuleFailure.self) {
            try LineInFileModule.apply("x\n", args: ["search_string": .string("x"), "regexp": .string("x"), "line": .string("y")])
        }
    }
}

@Suite struct PackageServiceUserTests {
    @Test func aptInstallsOnlyWhatIsMissingAndRemovesOnlyWhatIsThere() {
        let installed = AptModule.parseInstalled("vim\tii \t2:9.0\nhtop\trc \t3.2\nlibc6:amd64\tii \t2.36\nwrk\thi \t4.1\n")
        #expect(installed == ["vim": "2:9.0", "libc6": "2.36", "wrk": "4.1"], "a held package (hi) is installed")
        #expect(AptModule.plan(names: ["vim", "htop"], state: "present", installed: installed, candidates: [:]) == ["apt-get install -y -q -- htop"])
        #expect(AptModule.plan(names: ["vim"], state: "present", installed: installed, candidates: [:]).isEmpty)
        #expect(AptModule.plan(names: ["vim", "htop", "wrk"], state: "absent", installed: installed, candidates: [:]) == ["apt-get remove -y -q -- vim wrk"])
        let candidates = AptModule.parseCandidates("vim:\n  Installed: 2:9.0\n  Candidate: 2:9.1\nlibc6:\n  Installed: 2.36\n  Candidate: 2.36\n")
        #expect(candidates == ["vim": "2:9.1", "libc6": "2.36"])
        #expect(AptModule.plan(names: ["vim", "libc6"], state: "latest", installed: installed, candidates: candidates) == ["apt-get install -y -q -- vim"])
        #expect(AptModule.packages(.string("vim, htop")) == ["vim", "htop"])
    }

    @Test func aptGivesAptGetAnsiblesFlagsAndKnowsVirtualPackages() {
        let ctx = ModuleContext(args: ["allow_change_held_packages": .bool(true), "allow_downgrade": .bool(true), "default_release": .string("bookworm-backports"),
                                       "lock_timeout": .int(30), "fail_on_autoremove": .bool(true)])
        #expect(AptModule.withFlags("apt-get install -y -q -- hello", ctx)
                == "apt-get install -y -q -o DPkg::Lock::Timeout=30 -t bookworm-backports --no-remove --allow-downgrades --allow-change-held-packages -- hello")
        #expect(AptModule.withFlags("apt-get remove -y -q -- hello", ctx) == "apt-get remove -y -q -o DPkg::Lock::Timeout=30 --allow-change-held-packages -- hello",
                "a held package is removed only with allow_change_held_packages; install's own flags stay off remove")
        #expect(AptModule.withFlags("apt-get remove -y -q -- hello", ModuleContext(args: [:])) == "apt-get remove -y -q -- hello")
        // A virtual name: its providers and whether each is installed (the only one installed satisfies it).
        let providers = AptModule.parseProviders("== yaml-mode\nelpa-yaml-mode ii \n== mail-transport-agent\nexim4-daemon-light un \npostfix \n== nothing\n")
        #expect(providers["yaml-mode"]?.map(\.name) == ["elpa-yaml-mode"] && providers["yaml-mode"]?.first?.installed == true)
        #expect(providers["mail-transport-agent"]?.map(\.installed) == [false, false])
        #expect(providers["nothing"]?.isEmpty == true)
        // Versions as Ansible's package_split and dpkg order them; `=` takes a pattern of versions.
        let pinned = AptModule.PackageSpec("hello=2.*"), atLeast = AptModule.PackageSpec("hello>=2.10-3")
        #expect(pinned.name == "hello" && pinned.comparison == "=" && pinned.version == "2.*" && atLeast.comparison == ">=")
        #expect(pinned.fits("2.10-3") && !pinned.fits("1.0") && !pinned.fits(nil))
        #expect(atLeast.fits("2.10-3") && atLeast.fits("2.10-3+b1") && !atLeast.fits("2.9-1") && atLeast.fits("1:1.0"))
        #expect(AptModule.compareVersions("1.0~rc1", "1.0") < 0 && AptModule.compareVersions("2.10", "2.9") > 0 && AptModule.compareVersions("1.0a", "1.0+") < 0)
        #expect(AptModule.compareVersions("4.1.0-3+b2", "4.1.0-3+b2") == 0)
        #expect(AptModule.fnmatch("hel?o", "hello") && !AptModule.fnmatch("hel?o", "hello-traditional"))
        #expect(AptModule.parseMadison("     hello |     2.10-3 | http://deb.debian.org/debian bookworm/main amd64 Packages\n     hello |   2.10-2 | x\n")
                == ["hello": ["2.10-3", "2.10-2"]])
    }

    @Test func serviceCommandsFollowTheUnitsState() throws {
        // Ansible's order: mask, enable, then the state.
        #expect(try ServiceModule.plan(name: "cups", state: "started", enabled: true, active: "inactive", enabledState: "disabled")
                == ["systemctl enable -- cups", "systemctl start -- cups"])
        #expect(try ServiceModule.plan(name: "cups", state: "started", enabled: true, active: "active", enabledState: "enabled").isEmpty)
        #expect(try ServiceModule.plan(name: "cups", state: "stopped", enabled: false, active: "active", enabledState: "enabled")
                == ["systemctl disable -- cups", "systemctl stop -- cups"])
        #expect(try ServiceModule.plan(name: "cups", state: "restarted", enabled: nil, active: "active", enabledState: "enabled") == ["systemctl restart -- cups"])
        // Ansible's rules: restarted / reloaded start a stopped unit; a unit only enabled at
        // runtime (or indirect) is enabled for good; static counts as enabled.
        #expect(try ServiceModule.plan(name: "cups", state: "reloaded", enabled: nil, active: "inactive", enabledState: "enabled") == ["systemctl start -- cups"])
        #expect(try ServiceModule.plan(name: "cups", state: "reloaded", enabled: nil, active: "active", enabledState: "enabled") == ["systemctl reload -- cups"])
        #expect(try ServiceModule.plan(name: "cups", state: nil, enabled: true, active: "active", enabledState: "enabled-runtime") == ["systemctl enable -- cups"])
        #expect(try ServiceModule.plan(name: "cups", state: nil, enabled: true, active: "active", enabledState: "static").isEmpty)
        #expect(try ServiceModule.plan(name: "cups", state: nil, enabled: nil, masked: true, active: "inactive", enabledState: "disabled") == ["systemctl mask -- cups"])
        #expect(try ServiceModule.plan(name: "cups", state: nil, enabled: nil, masked: false, active: "inactive", enabledState: "masked") == ["systemctl unmask -- cups"])
        #expect(throws: ModuleFailure.self) { try ServiceModule.plan(name: "cups", state: "on", enabled: nil, active: "", enabledState: "") }
    }

    /// An account as the device's first answer gives it (passwd, local line, shadow, memberships,
    /// own-name group, `group`'s entry, useradd's home base, host name, each of `groups`).
    func account(_ o: UserModule.Options, passwd: String = "", shadow: String = "", memberOf: String = "", ownGroup: Bool = false,
                 group: String = "", groups: [String] = []) -> UserModule.Account {
        UserModule.Account.parse([passwd, "", shadow, memberOf, ownGroup ? "eleve:x:1001:" : "", group, "/home", "salle-01"].joined(separator: "\n")
                                 + "\n" + groups.joined(separator: "\n"), o)
    }

    @Test func userDecidesAsAnsiblesUserModule() throws {
        func decide(_ args: [String: Value], passwd: String = "", shadow: String = "", memberOf: String = "", ownGroup: Bool = false, group: String = "",
                    groups: [String] = [], paths: UserModule.Paths = UserModule.Paths(), check: Bool = false) throws -> UserModule.Decision {
            let o = try UserModule.Options(args.merging(["name": .string("eleve")]) { a, _ in a })
            return try UserModule.decide(o, account(o, passwd: passwd, shadow: shadow, memberOf: memberOf, ownGroup: ownGroup, group: group, groups: groups),
                                         paths, check: check)
        }
        let entry = "eleve:x:1001:1001::/home/eleve:/bin/bash", hash = "$6$salt$" + String(repeating: "a", count: 86)
        let shadow = "eleve:\(hash):20000:0:99999:7:::"
        // Made: useradd with Ansible's options in its order; the hash by chpasswd on fd 3, never on a command line.
        let create = try decide(["shell": .string("/bin/bash"), "groups": .list([.string("audio")]), "password": .string(hash)], groups: ["audio:x:29:"])
        #expect(create.commands.map(\.script) == ["useradd -G audio -s /bin/bash -m -- eleve", "head -c 101 <&3 | chpasswd -e"])
        #expect(create.commands[1].secret == "eleve:\(hash)\n" && !create.commands.map(\.script).joined().contains("$6$"))
        #expect(create.changed && create.data["password"] == .string("NOT_LOGGING_PASSWORD") && create.warnings.isEmpty)
        // A group with the user's name already: -N; a group that does not exist fails in Ansible's words.
        #expect(try decide([:], ownGroup: true).commands.map(\.script) == ["useradd -N -m -- eleve"])
        #expect((#expect(throws: ModuleFailure.self) { try decide(["groups": .string("audio,nope")], groups: ["audio:x:29:", ""]) })?.message == "Group nope does not exist")
        // Nothing differs: nothing to do.
        let same = try decide(["shell": .string("/bin/bash"), "groups": .list([.string("audio")]), "password": .string(hash)],
                              passwd: entry, shadow: shadow, memberOf: "audio:29", groups: ["audio:x:29:"])
        #expect(same.commands.isEmpty && !same.changed && same.data["uid"] == .int(1001) && same.data["home"] == .string("/home/eleve"))
        // append: -a with every group asked for; without groups, Ansible's warning.
        let append = try decide(["groups": .string("audio,video"), "append": .bool(true)], passwd: entry, shadow: shadow, memberOf: "audio:29",
                                groups: ["audio:x:29:", "video:x:44:"])
        #expect(append.commands.map(\.script) == ["usermod -a -G audio,video -- eleve"])
        #expect(try decide(["append": .bool(true)], passwd: entry, shadow: shadow).warnings.first?.hasPrefix("'append' is set, but no 'groups' are specified.") == true)
        // Expiry: a date, none (-1, or any negative), unchanged when the day is the same.
        #expect(try decide(["expires": .int(2529881062)]).commands.first?.script == "useradd -e 2050-03-03 -m -- eleve")
        #expect(try decide(["expires": .int(2529881062)], passwd: entry, shadow: "eleve:!:20000:0:99999:7::29281:").commands.isEmpty)
        #expect(try decide(["expires": .int(-1)], passwd: entry, shadow: "eleve:!:20000:0:99999:7::29281:").commands.map(\.script) == ["usermod -e '' -- eleve"])
        #expect(try decide(["expires": .int(-2529881062)], passwd: entry, shadow: "eleve:!:20000:0:99999:7:::").commands.isEmpty)
        #expect(try decide(["expires": .int(-1)], passwd: entry).commands.map(\.script) == ["usermod -e '' -- eleve"], "no shadow entry reads as 0, as Ansible's")
        // Locking: -L / -U by the hash's '!'; a new hash with the lock goes as '!hash' in one change.
        #expect(try decide(["password_lock": .bool(true)], passwd: entry, shadow: shadow).commands.map(\.script) == ["usermod -L -- eleve"])
        #expect(try decide(["password_lock": .bool(true)], passwd: entry, shadow: "eleve:!\(hash):20000:0:99999:7:::").commands.isEmpty)
        #expect(try decide(["password_lock": .bool(false)], passwd: entry, shadow: "eleve:!\(hash):20000:0:99999:7:::").commands.map(\.script) == ["usermod -U -- eleve"])
        let relock = try decide(["password_lock": .bool(true), "password": .string(hash.replacingOccurrences(of: "salt", with: "pepper"))], passwd: entry, shadow: shadow)
        #expect(relock.commands.map(\.summary) == ["chpasswd -e"] && relock.commands[0].secret?.hasPrefix("eleve:!$6$pepper$") == true)
        // update_password: on_create leaves an existing hash; a text that is no hash is warned about.
        #expect(try decide(["password": .string("*"), "update_password": .string("on_create")], passwd: entry, shadow: shadow).commands.isEmpty)
        #expect(try decide(["password": .string("plaintext")], passwd: entry, shadow: shadow).warnings.first?.hasPrefix("The input password appears not to have been hashed.") == true)
        #expect(try decide(["password": .string("*************")], passwd: entry, shadow: shadow).warnings.isEmpty)
        // Ageing: chage for what differs only.
        #expect(try decide(["password_expire_min": .int(5), "password_expire_max": .int(99999)], passwd: entry, shadow: shadow).commands.map(\.script) == ["chage -m 5 -- eleve"])
        // local: libuser's tools; groups by lgroupmod; umask / uid_min refused as Ansible refuses them.
        let local = try decide(["local": .bool(true), "groups": .list([.string("audio")])], ownGroup: true, groups: ["audio:x:29:"])
        #expect(local.commands.map(\.summary) == ["luseradd -n -- eleve", "lgroupmod -M eleve -- audio"])
        #expect((#expect(throws: ModuleFailure.self) { try decide(["local": .bool(true), "uid_min": .int(1000)]) })?.message == "'uid_min' can not be used with 'local'")
        // A missing home is made from the skeleton; check mode only says so.
        var noHome = UserModule.Paths()
        noHome.homeExists = false
        #expect(try decide([:], passwd: entry, shadow: shadow, paths: noHome).commands.map(\.what) == ["making the home /home/eleve of eleve"])
        let dryHome = try decide([:], passwd: entry, shadow: shadow, paths: noHome, check: true)
        #expect(dryHome.changed && dryHome.commands.isEmpty)
        // An SSH key: left when there is one (warned), replaced with force, made otherwise.
        var keyThere = UserModule.Paths()
        (keyThere.keyFolderExists, keyThere.keyExists, keyThere.publicKeyExists) = (true, true, true)
        let kept = try decide(["generate_ssh_key": .bool(true)], passwd: entry, shadow: shadow, paths: keyThere)
        #expect(kept.commands.isEmpty && !kept.changed && kept.warnings == ["Found existing ssh key private file \"/home/eleve/.ssh/id_rsa\", no force, so skipping ssh-keygen generation"])
        let forced = try decide(["generate_ssh_key": .bool(true), "force": .bool(true)], passwd: entry, shadow: shadow, paths: keyThere)
        #expect(forced.changed && forced.commands.count == 1 && forced.commands[0].script.contains("echo y | ssh-keygen -t rsa -C 'ansible-generated on salle-01'"))
        let phrase = try decide(["generate_ssh_key": .bool(true), "ssh_key_passphrase": .string("s3cret")], passwd: entry, shadow: shadow)
        #expect(phrase.commands[0].secret == "s3cret" && !phrase.commands[0].script.contains("s3cret"), "the passphrase goes on fd 3")
        // Removed; absent already: nothing. Check mode of a new account: only `changed`.
        #expect(try decide(["state": .string("absent"), "remove": .bool(true), "force": .bool(true)], passwd: entry).commands.map(\.script) == ["userdel -f -r -- eleve"])
        #expect(try decide(["state": .string("absent")]).commands.isEmpty)
        let dry = try decide(["shell": .string("/bin/sh")], check: true)
        #expect(dry.changed && dry.data.isEmpty && dry.commands.isEmpty)
        #expect(UserModule.date(days: 29281) == "2050-03-03" && UserModule.date(days: 0) == "1970-01-01" && UserModule.days(-2529881062) < 0)
    }

    @Test func commandQuotesEveryWordButShellDoesNot() throws {
        // command: no shell, but Ansible's expandvars on each word (quoted or not) — on the device, a
        // variable that is not set staying as written; expand_argument_vars: no keeps it.
        #expect(try CommandModule.line(args: ["_raw_params": .string("echo a|b '$HOME'")], shell: false) == CommandModule.executableCheck("echo") + "echo 'a|b' \"${HOME-\\$HOME}\"")
        #expect(try CommandModule.line(args: ["_raw_params": .string("echo a|b '$HOME'"), "expand_argument_vars": .bool(false)], shell: false) == CommandModule.executableCheck("echo") + "echo 'a|b' '$HOME'")
        #expect(try CommandModule.line(args: ["_raw_params": .string("echo $HOME | wc -c")], shell: true) == "/bin/sh -c 'echo $HOME | wc -c'")
        var hidden = ModuleContext(args: ["_raw_params": .string("echo $HOME | wc -c")])
        hidden.noLog = true
        let step = try CommandModule.plan(hidden, shell: true).steps[0]
        #expect(step.script == "/bin/sh /dev/fd/3" && step.input == Array("echo $HOME | wc -c".utf8),
                "a no_log shell text reaches sh on a descriptor, off the process list")
        #expect(try CommandModule.line(args: ["argv": .list([.string("ls"), .string("-l"), .string("a b")]), "chdir": .string("/srv")], shell: false)
                == CommandModule.changingDirectory("/srv") + CommandModule.executableCheck("ls") + "ls -l 'a b'")
    }

    @Test func diffsShowRemovedAndAddedLines() {
        let d = FileDiff(path: "/etc/environment", before: "a\nb\nc\n", after: "a\nB\nc\nd\n")
        #expect(d.unified.contains("-b\n+B\n c\n+d"))
        #expect(d.unified.hasPrefix("--- before: /etc/environment\n+++ after: /etc/environment\n"))
    }
}
