import Foundation
import Lab
import ParcCore
@testable import Provisioning
import Templating
import Testing

/// Playbooks in the style of public classroom and kiosk playbooks: roles, includes, blocks, facts.
@Suite(.serialized) struct CompatibilityLabTests {
    static let kiosk = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/kiosk")

    func run(_ lab: LabRun, options: RunOptions = RunOptions()) async throws -> RunResult {
        let book = try PlaybookLoader.load(Self.kiosk.appendingPathComponent("site.yml").path)
        let hosts = lab.hosts.map { h in var x = h; x.groups.insert("kiosks"); return x }
        return await Runner(playbook: book, hosts: hosts, connector: LabRun.LabConnector(lab: lab.lab), options: options).run()
    }

    @Test func aKioskPlaybookWithRolesRunsAndASecondRunChangesNothing() async throws {
        let lab = try LabRun(devices: 2)
        // lookup('env') reads HOME, which every test process has: setting a variable here raced
        // with other tests starting processes (Foundation's Process copies the environment).
        let home = try #require(ProcessInfo.processInfo.environment["HOME"])
        let first = try await run(lab)
        let failures = first.records.filter { $0.outcome == .failed && !$0.ignored }.map { "\($0.host) \($0.task): \($0.message ?? "")" }
        #expect(first.exitCode == 0, "\(failures)")
        #expect(first.recap["lab-01"]?.rescued == 1, "the block's failure was rescued")
        let files = try await lab.sh("""
            cat /etc/motd /etc/kiosk/banner /etc/lightdm/lightdm.conf.d/50-kiosk.conf /etc/kiosk/start.html /etc/kiosk/rescued /etc/kiosk/marks /etc/sysctl.d/90-kiosk.conf /etc/kiosk/report.txt /etc/kiosk/order
            stat -c %a /etc/kiosk/rescued; test -e /etc/kiosk/never && echo NEVER; getent passwd bcd lecteur1 lecteur2 | cut -d: -f1,7
            cat /var/lib/parc-lab/units/lightdm.starts | wc -l
            """)
        #expect(files.contains("Poste de la bibliothèque\n"), "the meta dependency's task, with its default")
        #expect(files.contains("BIBLIOTHÈQUE\n"), "import_tasks with a role default and a filter")
        #expect(files.contains("# Ansible managed\n"), "ansible_managed, with Ansible's default text")
        #expect(files.contains("autologin-user=bcd\n"), "a role parameter beats the role default")
        #expect(files.contains("user-session=openbox\n"), "role vars")
        #expect(files.contains("url=https://ariane57.example/bcd\"") && files.contains("{{ not a template here }} BCD"), "#jinja2 header delimiters")
        #expect(files.contains("yes\nalways\n"), "rescue and always ran")
        #expect(files.contains("kernel.sysrq=0\n"))
        #expect(files.contains("0=browser\n1=keyboard\n"), "loop_control loop_var and index_var")
        #expect(files.contains("os=Debian family=debian"), "facts as ansible_facts and ansible_*")
        #expect(files.contains("summary=lab-N local=lab-0"), "run_once shared its result; delegate_to: localhost ran on the control node")
        #expect(files.contains("mode=strict"), "environment reached the command")
        #expect(files.contains("started_by=\(home)"), "lookup('env') and set_fact")
        #expect(files.contains("644\n"), "symbolic mode u=rw,go=r")
        #expect(!files.contains("NEVER"))
        #expect(files.contains("bcd:/bin/bash\nlecteur1:/bin/bash\nlecteur2:/bin/sh\n"), "with_dict")
        #expect(files.hasSuffix("1\n"), "the handler ran once although notified twice")
        let summaries = first.records.filter { $0.task == "One summary for all kiosks" }
        #expect(summaries.count == 2 && summaries.filter { $0.message?.contains("run once, on another host") == true }.count == 1, "run_once")

        let second = try await run(lab)
        #expect(second.exitCode == 0)
        #expect(second.recap.values.allSatisfy { $0.changed == 0 && $0.rescued == 1 }, "\(second.recap) \(second.records.filter { $0.outcome == .changed }.map(\.task))")
    }

    @Test func moreModulesOnADevice() async throws {
        let lab = try LabRun()
        let archiveDir = lab.dir + "/archive-src"
        try FileManager.default.createDirectory(atPath: archiveDir + "/docs", withIntermediateDirectories: true)
        try "règlement\n".write(toFile: archiveDir + "/docs/reglement.txt", atomically: true, encoding: .utf8)
        #expect(try Spawn.run(["/bin/tar", "-C", archiveDir, "-czf", lab.dir + "/docs.tar.gz", "docs"]).status == 0)
        let pub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE0jh3U2EB2cKDpvz0I+dVDu9thBj2EqcqJbPkyUDlTs technicien"
        let yaml = """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - group: { name: eleves, gid: 4300 }
                - user: { name: prof, groups: [eleves] }
                - authorized_key: { user: prof, key: "\(pub)" }
                - timezone: { name: Europe/Paris }
                - sysctl: { name: vm.swappiness, value: "10", sysctl_file: /etc/sysctl.d/60-parc.conf, reload: no }
                - mount: { path: /mnt/partage, src: "//nas.ecole/partage", fstype: cifs, opts: "guest,ro", state: present }
                - apt_repository: { repo: "deb http://deb.debian.org/debian bookworm-backports main", filename: backports, update_cache: no }
                - deb822_repository: { name: ecole, uris: "https://paquets.ecole.example/debian", suites: bookworm, components: main }
                - get_url: { url: "file:///etc/hostname", dest: /etc/hostname.copy, mode: "0640" }
                - unarchive: { src: "\(lab.dir)/docs.tar.gz", dest: /opt }
                - stat: { path: /opt/docs/reglement.txt }
                  register: st
                - assert:
                    that:
                      - st.stat.exists
                      - st.stat.size > 0
                - slurp: { src: /opt/docs/reglement.txt }
                  register: sl
                - assert: { that: "sl.content | b64decode == 'règlement\\\\n'" }
                - wait_for: { path: /opt/docs/reglement.txt, timeout: 5 }
            """
        let first = try await lab.run(yaml)
        #expect(first.exitCode == 0, "\(first.records.filter { $0.outcome == .failed }.map { "\($0.task): \($0.message ?? "")" })")
        let out = try await lab.sh("""
            getent group eleves | cut -d: -f1,3; id -nG prof; cat /home/prof/.ssh/authorized_keys; stat -c %a /home/prof/.ssh/authorized_keys
            readlink /etc/localtime; cat /etc/sysctl.d/60-parc.conf; grep partage /etc/fstab; cat /etc/apt/sources.list.d/backports.list
            cat /etc/apt/sources.list.d/ecole.sources; stat -c %a /etc/hostname.copy; cat /opt/docs/reglement.txt
            """)
        #expect(out.contains("eleves:4300\nprof eleves\n\(pub)\n600\n/usr/share/zoneinfo/Europe/Paris\nvm.swappiness=10\n//nas.ecole/partage\t/mnt/partage\tcifs\tguest,ro\t0\t0\n"))
        #expect(out.contains("deb http://deb.debian.org/debian bookworm-backports main\n"))
        #expect(out.contains("Components: main\nX-Repolib-Name: ecole\nSuites: bookworm\nTypes: deb\nURIs: https://paquets.ecole.example/debian\n"))
        #expect(out.hasSuffix("640\nrèglement\n"))
        let second = try await lab.run(yaml)
        #expect(second.exitCode == 0)
        #expect(counts(second).changed == 0, "\(second.records.filter { $0.outcome == .changed }.map(\.task))")
        let dry = try await lab.run(yaml.replacingOccurrences(of: "Europe/Paris", with: "America/Cayenne"), options: RunOptions(check: true))
        #expect(counts(dry).changed == 1)
        #expect(try await lab.sh("readlink /etc/localtime") == "/usr/share/zoneinfo/Europe/Paris\n")
    }

    /// get_url's `headers` reach the server (a mapping, or the older `Name:value,…` text), and its
    /// credentials (after a challenge, or at once with force_basic_auth), through curl's
    /// configuration on a descriptor rather than its command line.
    /// A Python HTTP server on loopback that prints its port first; killed with SIGKILL by the
    /// caller (the test process runs its children with SIGTERM blocked).
    static func httpServer(_ script: String) throws -> (Process, port: String) {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-c", script]
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        let port = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard Int(port) != nil else {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
            throw LabError.command("python3 http server", "no port printed: \(port)")
        }
        return (server, port)
    }

    /// A server of a folder's files on loopback; with `log`, each request's path appended to that file.
    static func fileServer(_ directory: String, log: String? = nil) throws -> (Process, port: String) {
        try httpServer("""
            import functools, http.server
            class Served(http.server.SimpleHTTPRequestHandler):
                def log_message(self, *a): pass
                def log_request(self, *a):
                    if \(log.map { "'\($0)'" } ?? "None"):
                        with open(\(log.map { "'\($0)'" } ?? "None"), 'a') as f: f.write(self.path + '\\n')
            s = http.server.HTTPServer(('127.0.0.1', 0), functools.partial(Served, directory='\(directory)'))
            print(s.server_address[1], flush=True)
            s.serve_forever()
            """)
    }

    @Test func getURLSendsItsHeaders() async throws {
        let lab = try LabRun()
        let (server, port) = try Self.httpServer("""
            import http.server
            class H(http.server.BaseHTTPRequestHandler):
                asked = []
                def do_GET(self):
                    if self.path.startswith('/auth'):
                        # A Basic challenge first, as a real server: remembered per path.
                        got = self.headers.get('Authorization')
                        if got is None:
                            H.asked.append(self.path)
                            self.send_response(401); self.send_header('WWW-Authenticate', 'Basic realm="ent"')
                            self.send_header('Content-Length', '0'); self.end_headers(); return
                        body = f'{got} challenged={H.asked.count(self.path)}\\n'.encode()
                    else:
                        body = ''.join(f'{k}: {v}\\n' for k, v in self.headers.items() if k.startswith('X-')).encode()
                    self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
                def log_message(self, *a): pass
            s = http.server.HTTPServer(('127.0.0.1', 0), H)
            print(s.server_address[1], flush=True)
            s.serve_forever()
            """)
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        let run = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - get_url:
                    url: http://127.0.0.1:\(port)/a
                    dest: /opt/headers-a
                    headers: { X-Token: 'to"ken\\x', X-Room: CM1 }
                - get_url: { url: "http://127.0.0.1:\(port)/b", dest: /opt/headers-b, headers: "X-One:1,X-Two: deux" }
                - get_url: { url: "http://127.0.0.1:\(port)/auth-asked", dest: /opt/auth-asked, url_username: prof, url_password: 'mot "de" passe' }
                - get_url: { url: "http://127.0.0.1:\(port)/auth-forced", dest: /opt/auth-forced, username: prof, password: secret, force_basic_auth: yes }
            """)
        #expect(run.exitCode == 0, "\(run.records.map { "\($0.task): \($0.message ?? "")" })")
        #expect(try await lab.sh("cat /opt/headers-a; cat /opt/headers-b") == "X-Token: to\"ken\\x\nX-Room: CM1\nX-One: 1\nX-Two: deux\n")
        // Credentials: sent after the server's challenge, or with the first request when forced.
        let basic = { (s: String) in "Basic " + Data(s.utf8).base64EncodedString() }
        #expect(try await lab.sh("cat /opt/auth-asked /opt/auth-forced") == "\(basic("prof:mot \"de\" passe")) challenged=1\n\(basic("prof:secret")) challenged=0\n")
    }

    /// unarchive from an address (remote_src): the device downloads it, extracts it and sets the
    /// members' mode; a missing archive fails saying so; the archive is fetched once per run, as
    /// Ansible's (the probe keeps its download for the extraction). A local HTTP server on loopback.
    @Test func unarchiveFetchesAnArchiveByItsAddress() async throws {
        let lab = try LabRun()
        let served = lab.dir + "/served"
        try FileManager.default.createDirectory(atPath: served + "/src", withIntermediateDirectories: true)
        try "bonjour\n".write(toFile: served + "/src/hello.txt", atomically: true, encoding: .utf8)
        #expect(try Spawn.run(["/bin/tar", "-C", served + "/src", "-czf", served + "/hello.tar.gz", "hello.txt"]).status == 0)
        try? FileManager.default.removeItem(atPath: lab.dir + "/requests")
        let (server, port) = try Self.fileServer(served, log: lab.dir + "/requests")
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        let play = """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - file: { path: /opt/fetched, state: directory }
                - unarchive: { src: "http://127.0.0.1:\(port)/hello.tar.gz", dest: /opt/fetched, remote_src: yes, mode: "0700" }
                - unarchive: { src: "http://127.0.0.1:\(port)/none.tar.gz", dest: /opt/fetched, remote_src: yes }
                  register: missing
                  ignore_errors: yes
                - copy: { content: "{{ missing.msg }}", dest: /opt/missing-msg }
            """
        let first = try await lab.run(play)
        #expect(first.exitCode == 0, "\(first.records.map { "\($0.task): \($0.message ?? "")" })")
        #expect(try await lab.sh("cat /opt/fetched/hello.txt; stat -c %a /opt/fetched/hello.txt") == "bonjour\n700\n")
        #expect(try await lab.sh("cat /opt/missing-msg").hasPrefix("Failure downloading http://127.0.0.1:\(port)/none.tar.gz, "))
        let requests = { (try? String(contentsOfFile: lab.dir + "/requests", encoding: .utf8)) ?? "" }
        #expect(requests() == "/hello.tar.gz\n/none.tar.gz\n", "one download of each archive, extracted or not")
        let second = try await lab.run(play)
        #expect(second.records.filter { $0.task.hasPrefix("unarchive") && $0.outcome == .changed }.isEmpty, "the same files, the same mode: no change")
        #expect(requests() == "/hello.tar.gz\n/none.tar.gz\n/hello.tar.gz\n/none.tar.gz\n")
    }

    /// deb822_repository with signed_by an address: the device fetches the key (Ansible's user
    /// agent), keeps it in /etc/apt/keyrings as SLUG.asc (armored) or .gpg (binary), names it in
    /// Signed-By; a second run changes nothing; a key that cannot be fetched fails in Ansible's words.
    @Test func deb822FetchesItsSigningKeyByAddress() async throws {
        let lab = try LabRun()
        let served = lab.dir + "/keys"
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        let armored = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEYCQjIxYJKwYBBAHaRw8BAQdAD\n-----END PGP PUBLIC KEY BLOCK-----\n"
        try armored.write(toFile: served + "/key.asc", atomically: true, encoding: .utf8)
        try Data([0x99, 0x01, 0x0d, 0x04, 0x00, 0xff]).write(to: URL(fileURLWithPath: served + "/key.gpg"))
        let (server, port) = try Self.fileServer(served)
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        let play = """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - deb822_repository: { name: École Repo, types: deb, uris: "http://deb.example", suites: stable, components: main, signed_by: "http://127.0.0.1:\(port)/key.asc" }
                  register: armored
                - deb822_repository: { name: binary, uris: "http://deb.example", suites: stable, signed_by: "http://127.0.0.1:\(port)/key.gpg" }
                - deb822_repository: { name: missing, uris: "http://deb.example", suites: stable, signed_by: "http://127.0.0.1:\(port)/none.gpg" }
                  register: missing
                  ignore_errors: yes
                - copy: { content: "{{ armored.key_filename }}|{{ missing.msg }}", dest: /opt/deb822-results }
            """
        let first = try await lab.run(play)
        #expect(first.exitCode == 0, described(first))
        #expect(try await lab.sh("cat /etc/apt/keyrings/cole-repo.asc; stat -c %a /etc/apt/keyrings /etc/apt/keyrings/cole-repo.asc /etc/apt/keyrings/binary.gpg; od -An -tx1 /etc/apt/keyrings/binary.gpg")
                == armored + "755\n644\n644\n 99 01 0d 04 00 ff\n")
        #expect(try await lab.sh("grep Signed-By /etc/apt/sources.list.d/cole-repo.sources /etc/apt/sources.list.d/binary.sources")
                == "/etc/apt/sources.list.d/cole-repo.sources:Signed-By: /etc/apt/keyrings/cole-repo.asc\n/etc/apt/sources.list.d/binary.sources:Signed-By: /etc/apt/keyrings/binary.gpg\n")
        #expect(try await lab.sh("cat /opt/deb822-results").hasPrefix("/etc/apt/keyrings/cole-repo.asc|Could not fetch signed_by key: http://127.0.0.1:\(port)/none.gpg"))
        let second = try await lab.run(play)
        #expect(second.records.filter { $0.task.hasPrefix("deb822") && $0.outcome == .changed }.isEmpty, described(second))
    }

    /// A file written on the control node (delegate_to: localhost) is there for the next task,
    /// which reads it while planning: the control node's steps are not held back to travel later.
    @Test func aFileWrittenOnTheControlNodeIsThereForTheNextTask() async throws {
        let lab = try LabRun()
        let local = lab.dir + "/made-here"
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        let run = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - copy: { content: "written here\\n", dest: "\(local)/foo.txt", mode: "0547" }
                  delegate_to: localhost
                - copy: { src: "\(local)/foo.txt", dest: /opt/from-control-node, mode: preserve }
                - copy: { src: /opt/from-control-node, dest: /opt/from-device, mode: preserve, remote_src: yes }
            """)
        #expect(run.exitCode == 0, "\(run.records.map { "\($0.task): \($0.message ?? "")" })")
        let copied = try await lab.sh("cat /opt/from-control-node; stat -c %a /opt/from-control-node /opt/from-device")
        #expect(copied == "written here\n547\n547\n", "\(copied)")
    }

    /// stat reads what is there now: a mode changed through one name of a file shows through its
    /// hard link, whose stat parc had read before (ansible-core's copy target found it stale).
    @Test func statAfterAChangeThroughAnotherNameIsFresh() async throws {
        let lab = try LabRun()
        let run = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - copy: { content: "x", dest: /opt/linked, mode: "0644" }
                - file: { src: /opt/linked, dest: /opt/linked.hard, state: hard }
                - stat: { path: /opt/linked.hard }
                  register: before
                - file: { path: /opt/linked, mode: "0600" }
                - stat: { path: /opt/linked.hard }
                  register: after
                - copy: { content: "{{ before.stat.mode }} {{ after.stat.mode }}", dest: /opt/linked-modes }
            """)
        #expect(run.exitCode == 0, "\(run.records.map { "\($0.task): \($0.message ?? "")" })")
        #expect(try await lab.sh("cat /opt/linked-modes") == "0644 0600")
    }

    /// A file replaced by lineinfile keeps its ACL entries (as Ansible's atomic_move copies them);
    /// a folder copied with local_follow: no keeps its links as links.
    @Test func replacedFilesKeepTheirACLsAndLinksStayLinks() async throws {
        let lab = try LabRun()
        let run = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - copy: { content: "TEST\\n", dest: /opt/acl.txt, mode: "0644" }
                - command: setfacl -m u:nobody:rwx /opt/acl.txt
                - lineinfile: { path: /opt/acl.txt, regexp: TEST, line: UPDATE }
                - copy: { src: tree, dest: /opt/, local_follow: no }
            """, files: ["tree/real.txt": "réel\n"], links: ["tree/alias": "real.txt"])
        #expect(run.exitCode == 0, "\(run.records.map { "\($0.task): \($0.message ?? "")" })")
        let out = try await lab.sh("cat /opt/acl.txt; getfacl -cp /opt/acl.txt | grep '^user:nobody'; readlink /opt/tree/alias; cat /opt/tree/alias")
        #expect(out.hasPrefix("UPDATE\nuser:nobody:rwx") && out.hasSuffix("real.txt\nréel\n"), "\(out)")
    }

    /// Connection variables set for a task (`vars: {ansible_become_user: …}`) become that user, as
    /// Ansible's precedence has it; a task parc refuses at run time is a failure like another
    /// (ignore_errors, register); failed_when's verdict is registered as `failed_when_result`.
    @Test func taskVariablesBecomeAndRefusalsAreOrdinaryFailures() async throws {
        let lab = try LabRun()
        let run = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - user: { name: parcbecome }
                - command: whoami
                  vars: { ansible_become_user: "{{ 'parc' ~ 'become' }}" }
                  register: who
                - shell: echo hi
                  args: { expand_argument_vars: false }
                  register: refused
                  ignore_errors: true
                - command: "false"
                  register: judged
                  failed_when: false
                - copy: { dest: /opt/judged, content: "{{ who.stdout }}|{{ refused.failed }}|{{ 'expand_argument_vars' in refused.msg }}|{{ judged.failed_when_result }}\\n" }
            """)
        #expect(run.exitCode == 0, described(run))
        #expect(run.records.first { $0.task.hasPrefix("shell") }?.ignored == true)
        #expect(try await lab.sh("cat /opt/judged") == "parcbecome|True|True|False\n")
    }

    /// A folder of the control node copied without its trailing slash: the folder itself gets
    /// directory_mode as every folder under it (Ansible's copy target checks all of them); with
    /// the slash, dest keeps its own; a second run changes nothing.
    @Test func directoryModeReachesTheCopiedFolderItself() async throws {
        let lab = try LabRun()
        let play = """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - file: { path: /opt/dm-into, state: directory, mode: "0755" }
                - copy: { src: dmtree, dest: /opt/dm-into, directory_mode: "0700" }
                - copy: { src: dmtree/, dest: /opt/dm-into, directory_mode: "0700" }
            """
        let first = try await lab.run(play, files: ["dmtree/sub/x.txt": "x\n"])
        #expect(first.exitCode == 0, described(first))
        #expect(try await lab.sh("stat -c '%n %a' /opt/dm-into /opt/dm-into/dmtree /opt/dm-into/dmtree/sub /opt/dm-into/sub") == """
            /opt/dm-into 755
            /opt/dm-into/dmtree 700
            /opt/dm-into/dmtree/sub 700
            /opt/dm-into/sub 700

            """)
        let second = try await lab.run(play, files: ["dmtree/sub/x.txt": "x\n"])
        #expect(second.records.map(\.outcome) == [.ok, .ok, .ok], "\(second.records.map { "\($0.task): \($0.outcome)" })")
    }

    /// A folder of the control node copied with its links followed (local_follow's default): a
    /// link to a folder is copied as that folder with its content, a link to nothing stays a link,
    /// a link back to a folder it is in stays a link (no endless walk).
    @Test func followedLinksToFoldersAreCopiedAsFolders() async throws {
        let lab = try LabRun()
        let run = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - copy: { src: ftree, dest: /opt/ }
            """, files: ["ftree/real/deep/x.txt": "x\n"], links: ["ftree/one/alias": "../real", "ftree/one/gone": "../nowhere", "ftree/one/up": ".."])
        #expect(run.exitCode == 0, described(run))
        #expect(try await lab.sh("""
            [ -L /opt/ftree/one/alias ] || cat /opt/ftree/one/alias/deep/x.txt; readlink /opt/ftree/one/gone /opt/ftree/one/up
            """) == "x\n../nowhere\n..\n")
    }

    /// file with recurse: the owner and a symbolic mode reach everything under the folder (X
    /// keeps folders searchable); a second run changes nothing.
    @Test func recurseReachesEverythingUnderTheFolder() async throws {
        let lab = try LabRun()
        _ = try await lab.sh("rm -rf /opt/rec; mkdir -p /opt/rec/a/b; echo x > /opt/rec/a/b/f; chmod 0600 /opt/rec/a/b/f; chmod 0700 /opt/rec/a")
        let play = """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - file: { path: /opt/rec, owner: nobody, mode: "u=rwX,go=rX", recurse: yes }
            """
        let first = try await lab.run(play)
        #expect(first.exitCode == 0 && first.records.first?.outcome == .changed, described(first))
        #expect(try await lab.sh("stat -c '%n %U %a' /opt/rec /opt/rec/a /opt/rec/a/b /opt/rec/a/b/f") == """
            /opt/rec nobody 755
            /opt/rec/a nobody 755
            /opt/rec/a/b nobody 755
            /opt/rec/a/b/f nobody 644

            """)
        let second = try await lab.run(play)
        #expect(second.records.first?.outcome == .ok, described(second))
    }

    /// An unprivileged user may replace a file it can write but does not own (a world-writable
    /// folder): as Ansible's atomic_move, the kept owner it may not give is left, the file is its
    /// own; an owner the task asks for still fails when it cannot be given.
    @Test func anUnprivilegedUserReplacesAFileItMayWrite() async throws {
        let lab = try LabRun()
        let run = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - file: { dest: /opt/worldwritable, state: directory, mode: "0777" }
                - copy: { dest: /opt/worldwritable/file.txt, content: bar, mode: "0666" }
                - copy: { dest: /opt/worldwritable/file.txt, content: baz }
                  become_user: nobody
                - copy: { dest: /opt/worldwritable/file.txt, content: qux, owner: root }
                  become_user: nobody
                  register: refused
                  ignore_errors: yes
            """)
        #expect(run.records.map(\.outcome) == [.changed, .changed, .changed, .failed], described(run))
        #expect(try await lab.sh("cat /opt/worldwritable/file.txt; echo; stat -c '%U %a' /opt/worldwritable/file.txt") == "baz\nnobody 666\n")
    }

    /// A file copied to `dest/` lands in that folder, made when it is not there with directory_mode
    /// on each folder made (as Ansible's);
    /// without the slash a missing folder is an error, not a guess.
    @Test func aFileCopiedIntoAFolderThatIsNotThereMakesIt() async throws {
        let lab = try LabRun()
        _ = try await lab.sh("rm -rf /opt/newdir1 /opt/newdir2")
        let play = """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - copy: { src: foo.txt, dest: /opt/newdir1/sub/, directory_mode: "0750" }
                - copy: { src: foo.txt, dest: /opt/newdir2/sub/foo.txt }
                  ignore_errors: yes
            """
        let first = try await lab.run(play, files: ["foo.txt": "foo\n"])
        #expect(first.records.map(\.outcome) == [.changed, .failed], described(first))
        #expect(try await lab.sh("cat /opt/newdir1/sub/foo.txt; [ -e /opt/newdir2 ] || echo none") == "foo\nnone\n")
        // directory_mode on every folder made on the way, as Ansible's; /opt, already there, keeps its own.
        #expect(try await lab.sh("stat -c %a /opt/newdir1 /opt/newdir1/sub /opt") == "750\n750\n755\n")
        let second = try await lab.run(play, files: ["foo.txt": "foo\n"])
        #expect(second.records.first?.outcome == .ok)
        // The folder the copy made is known to be there afterwards: what the run knew of it before
        // (absent) is stale once something was written under it, so removing it removes it.
        let again = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - file: { path: /opt/newdir3, state: absent }
                - copy: { src: foo.txt, dest: /opt/newdir3/sub/ }
                - file: { path: /opt/newdir3, state: absent }
            """, files: ["foo.txt": "foo\n"])
        #expect(again.records.map(\.outcome) == [.ok, .changed, .changed], described(again))
        #expect(try await lab.sh("[ -e /opt/newdir3 ] && echo there || echo gone") == "gone\n")
    }

    /// become_user and remote_user written as templates are rendered with the task's variables
    /// (a block's `become_user: "{{ unprivileged }}"`, as Ansible's copy target writes it).
    @Test func becomeUserAndRemoteUserMayBeTemplates() async throws {
        let lab = try LabRun()
        let run = try await lab.run("""
            - hosts: all
              gather_facts: no
              vars: { unprivileged: nobody, admin: "\(lab.lab.devices[0].user)" }
              tasks:
                - block:
                    - command: whoami
                      register: became
                  become: yes
                  become_user: "{{ unprivileged }}"
                - command: whoami
                  remote_user: "{{ admin }}"
                  register: logged
                - copy: { dest: "/tmp/parc-who-{{ inventory_hostname }}", content: "{{ became.stdout }} {{ logged.stdout }}" }
                  delegate_to: localhost
            """)
        #expect(run.exitCode == 0, described(run))
        let who = try String(contentsOfFile: "/tmp/parc-who-lab-01", encoding: .utf8)
        try? FileManager.default.removeItem(atPath: "/tmp/parc-who-lab-01")
        #expect(who == "nobody \(lab.lab.devices[0].user)", "the rendered login user (written as it is, it names no account)")
    }

    /// `!unsafe` text is never rendered, whatever it holds (a playbook that writes a playbook).
    @Test func unsafeTextIsWrittenAsItIs() async throws {
        let lab = try LabRun()
        let run = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - copy:
                    dest: /opt/unsafe.yml
                    content: !unsafe |

                      - copy: { dest: "{{ dest }}", content: "{% raw %}{{ secret }}{% endraw %}" }
                - copy: { dest: /opt/unsafe-short, content: !unsafe "{{ nowhere }}" }
            """)
        #expect(run.exitCode == 0, described(run))
        #expect(try await lab.sh("cat /opt/unsafe.yml /opt/unsafe-short") == "\n- copy: { dest: \"{{ dest }}\", content: \"{% raw %}{{ secret }}{% endraw %}\" }\n{{ nowhere }}")
    }

    /// copy with remote_src of a folder, as Ansible's copy_directory: `src/` merges the content
    /// into dest, `src` the folder itself; what dest has and src lacks stays; a file whose bytes
    /// differ is replaced; links stay links unless local_follow; owner on everything; check mode
    /// says it would change and changes nothing; the second run changes nothing.
    @Test func aFolderOnTheDeviceIsCopiedAsAnsibleCopiesIt() async throws {
        let lab = try LabRun()
        _ = try await lab.sh("""
            rm -rf /opt/rsrc /opt/rdest /opt/rnew /opt/rfollow /opt/rchk; mkdir -p /opt/rsrc/sub /opt/rdest/sub
            printf one > /opt/rsrc/a.txt; printf new > /opt/rsrc/sub/b.txt; chmod 0640 /opt/rsrc/a.txt; ln -s a.txt /opt/rsrc/link
            printf old > /opt/rdest/sub/b.txt; printf mine > /opt/rdest/keep.txt
            """)
        let play = """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - copy: { src: /opt/rsrc/, dest: /opt/rdest, remote_src: yes, local_follow: no, owner: nobody }
                  register: merged
                - copy: { src: /opt/rsrc, dest: /opt/rnew, remote_src: yes }
                  register: made
                - copy: { src: /opt/rsrc/, dest: /opt/rfollow/, remote_src: yes, local_follow: yes, directory_mode: "0750" }
                - copy: { src: /opt/rsrc/, dest: /opt/rchk/, remote_src: yes }
                  check_mode: yes
                  register: checked
                - copy: { src: /opt/nowhere/, dest: /opt/rdest, remote_src: yes }
                  register: missing
                  ignore_errors: yes
                - copy: { dest: /opt/rresults, content: "{{ merged.changed }} {{ made.changed }} {{ checked.changed }} {{ checked.msg }} | {{ missing.msg }}" }
            """
        let first = try await lab.run(play)
        #expect(first.exitCode == 0, described(first))
        let out = try await lab.sh("""
            cat /opt/rresults; echo
            cat /opt/rdest/a.txt /opt/rdest/sub/b.txt /opt/rdest/keep.txt; echo
            readlink /opt/rdest/link; stat -c '%a %U' /opt/rdest/a.txt /opt/rdest/sub/b.txt
            cat /opt/rnew/rsrc/a.txt; readlink /opt/rnew/rsrc/link; echo
            [ -L /opt/rfollow/link ] || cat /opt/rfollow/link; echo; stat -c %a /opt/rfollow
            [ -e /opt/rchk ] || echo no-rchk
            """)
        #expect(out == """
            True True True dest directory /opt/rchk would be created | Source /opt/nowhere/ not found
            onenewmine
            a.txt
            640 nobody
            644 nobody
            onea.txt

            one
            750
            no-rchk

            """)
        let second = try await lab.run(play)
        // Nothing to copy again: only the check-mode task (its dest is still not there) and the
        // summary (whose text changed) report a change.
        #expect(second.records.map(\.outcome) == [.ok, .ok, .ok, .changed, .failed, .changed], "\(second.records.map { "\($0.task): \($0.outcome)" })")
        // mode: preserve gives dest the source folder's own mode; the files keep theirs.
        _ = try await lab.sh("chmod 0750 /opt/rsrc")
        let preserved = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - copy: { src: /opt/rsrc/, dest: /opt/rpres/, remote_src: yes, mode: preserve }
            """)
        #expect(preserved.exitCode == 0, described(preserved))
        #expect(try await lab.sh("stat -c %a /opt/rpres /opt/rpres/a.txt") == "750\n640\n")
        // force: no leaves a dest that is there as it is, even where the source changed.
        _ = try await lab.sh("printf changed > /opt/rsrc/a.txt")
        let kept = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - copy: { src: /opt/rsrc/, dest: /opt/rdest, remote_src: yes, force: no }
            """)
        #expect(kept.records.map(\.outcome) == [.ok], described(kept))
        #expect(try await lab.sh("cat /opt/rdest/a.txt") == "one")
    }

    /// What `register` keeps, as Ansible: a task whose arguments cannot be rendered is registered
    /// failed with the message; a skipped item of a loop is in `results` with its false condition;
    /// file's touch names its path `dest`, its other states `path`.
    @Test func failedAndSkippedTasksAreRegisteredAsAnsibleRegistersThem() async throws {
        let lab = try LabRun()
        let run = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - debug: { msg: "{{ 'x' in nowhere_defined }}" }
                  register: broken
                  ignore_errors: yes
                - command: "echo {{ item }}"
                  loop: [1, 2, 3]
                  when: item != 2
                  register: looped
                - file: { path: /opt/registered-touch, state: touch }
                  register: touched
                - file: { path: /opt/registered-touch, mode: "0600" }
                  register: moded
                - copy:
                    dest: /opt/registered
                    content: |
                      {{ broken.failed }} {{ 'nowhere_defined' in broken.msg }} {{ broken.skipped is defined }}
                      {{ looped.results | map(attribute='skipped', default=false) | list }} {{ looped.results[1].false_condition }} {{ looped.results[1].item }}
                      {{ touched.dest }} {{ touched.path is defined }} {{ moded.path }} {{ moded.dest is defined }}
            """)
        #expect(run.exitCode == 0, described(run))
        let registered = try await lab.sh("cat /opt/registered")
        #expect(registered == """
            True True False
            [False, True, False] item != 2 2
            /opt/registered-touch False /opt/registered-touch False
            """, "the play ends without a newline: so does the content")
    }

    /// cron with cron_file writes /etc/cron.d on the device (no crontab needed), and removes the
    /// file with its last entry.
    @Test func cronFilesLandInCronD() async throws {
        let lab = try LabRun()
        let play = """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - cron: { name: MAILTO, env: yes, job: "", cron_file: parc-maj, user: root }
                - cron: { name: maj, minute: "0", hour: "3", job: "apt-get -q update", cron_file: parc-maj, user: root }
                  register: job
                - debug: { msg: "{{ job.jobs }} {{ job.envs }}" }
            """
        let first = try await lab.run(play)
        #expect(first.exitCode == 0, "\(first.records.map { "\($0.task): \($0.message ?? "")" })")
        #expect(first.records.last?.message == "['maj'] ['MAILTO']")
        #expect(try await lab.sh("cat /etc/cron.d/parc-maj; stat -c %a /etc/cron.d/parc-maj") == "MAILTO=\"\"\n#Ansible: maj\n0 3 * * * root apt-get -q update\n644\n")
        #expect(counts(try await lab.run(play)).changed == 0)
        let gone = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - cron: { name: MAILTO, env: yes, state: absent, cron_file: parc-maj }
                - cron: { name: maj, state: absent, cron_file: parc-maj }
            """)
        #expect(gone.exitCode == 0)
        #expect(try await lab.sh("test -e /etc/cron.d/parc-maj && echo there || echo gone") == "gone\n")
    }

    @Test func backupKeepsThePreviousContentNextToTheFile() async throws {
        let lab = try LabRun()
        func play(_ value: String) -> String {
            """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - copy: { dest: /etc/ecole.conf, content: "salle=\(value)\\n", backup: yes }
                  register: c
                - lineinfile: { path: /etc/ecole.conf, line: "niveau=\(value)", create: yes, backup: yes }
                  register: l
                - debug: { msg: "{{ c.backup_file | default('none') }} {{ l.backup_file | default('none') }}" }
            """
        }
        let first = try await lab.run(play("CM1"))
        #expect(first.exitCode == 0)
        let firstNames = (first.records.last?.message ?? "").split(separator: " ").map(String.init)
        #expect(firstNames.first == "none", "copy made the file: nothing to back up")
        #expect(try await lab.sh("cat \(firstNames.last ?? "none")") == "salle=CM1\n", "lineinfile backed up what copy had written")
        let second = try await lab.run(play("CM2"))
        let names = (second.records.last?.message ?? "").split(separator: " ").map(String.init)
        try #require(names.count == 2 && names.allSatisfy { $0.hasPrefix("/etc/ecole.conf.") && $0.hasSuffix("~") }, "\(names)")
        #expect(try await lab.sh("cat \(names[0])") == "salle=CM1\nniveau=CM1\n", "copy's backup is the file before the copy")
        #expect(try await lab.sh("cat \(names[1])") == "salle=CM2\n", "lineinfile's backup is the file before the line")
        #expect(try await lab.sh("cat /etc/ecole.conf") == "salle=CM2\nniveau=CM2\n")
    }

    @Test func validateKeepsABrokenFileOffTheDevice() async throws {
        let lab = try LabRun()
        func play(_ content: String) -> String {
            """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - copy:
                    dest: /etc/sudoers.d/prof
                    content: "\(content)"
                    mode: "0440"
                    validate: /usr/sbin/visudo -cf %s
            """
        }
        let good = try await lab.run(play("prof ALL=(ALL) NOPASSWD: /usr/bin/apt-get\\n"))
        #expect(good.exitCode == 0, "\(good.records.compactMap(\.message))")
        let bad = try await lab.run(play("prof ALL=(ALL NOPASSWD /usr/bin/apt-get\\n"))
        #expect(bad.exitCode != 0)
        let failure = bad.records.first { $0.outcome == .failed }?.message ?? ""
        #expect(failure.contains("validation of /etc/sudoers.d/prof failed") && failure.contains("not changed"), "\(failure)")
        let after = try await lab.sh("cat /etc/sudoers.d/prof; stat -c %a /etc/sudoers.d/prof; ls -a /etc/sudoers.d | grep -c parc-validate || true")
        #expect(after == "prof ALL=(ALL) NOPASSWD: /usr/bin/apt-get\n440\n0\n", "the good file stays, no temporary file is left")
    }

    /// cron and ufw drive the device's own tools: with them, the entry lands; without them, a clear
    /// failure that names the package, even in check mode, and nothing changes.
    @Test func cronAndUfwNeedTheirToolsOnTheDevice() async throws {
        let lab = try LabRun()
        let hasCrontab = try await lab.sh("command -v crontab >/dev/null && echo yes || echo no") == "yes\n"
        // Lab devices share the machine's network stack: ufw is only run where it is absent.
        let hasUfw = try await lab.sh("command -v ufw >/dev/null && echo yes || echo no") == "yes\n"
        let yaml = """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - cron: { name: maj, minute: "0", hour: "3", job: "apt-get -q update" }
                  ignore_errors: yes
            \(hasUfw ? "" : "    - ufw: { rule: allow, port: \"22\", proto: tcp }\n      ignore_errors: yes")
            """
        for check in [true, false] {
            let r = try await lab.run(yaml, options: RunOptions(check: check))
            let cron = try #require(r.records.first { $0.task.contains("cron") })
            if hasCrontab {
                #expect(cron.outcome == .changed)
                if !check { #expect(try await lab.sh("crontab -l").contains("#Ansible: maj\n0 3 * * * apt-get -q update\n")) }
            } else {
                #expect(cron.outcome == .failed && cron.message == "crontab is not installed on the device (apt: name=cron)", "\(cron)")
            }
            if !hasUfw {
                let ufw = try #require(r.records.first { $0.task.contains("ufw") })
                #expect(ufw.outcome == .failed && ufw.message == "ufw is not installed on the device (apt: name=ufw)", "\(ufw)")
            }
        }
    }
}

@Suite struct CompatibilityDataTests {
    /// Crontab and cron.d edits against Ansible's own cron module: each case's answer is kept
    /// here (from `Fixtures/CronOracle/oracle.py`, which runs the module's CronTab class), and where
    /// Ansible is installed (always in CI) the oracle gives them again.
    static let cronCases: [(existing: String, args: [String: Value], answer: String?)] = [
        ("", ["name": "nightly", "user": "root", "hour": "3", "minute": "0", "job": "apt-get -q update"],
         "#Ansible: nightly\n0 3 * * * root apt-get -q update\n"),
        ("#Ansible: nightly\n0 3 * * * root apt-get -q update\n", ["name": "nightly", "user": "root", "hour": "3", "minute": "0", "job": "apt-get -q update"],
         "#Ansible: nightly\n0 3 * * * root apt-get -q update\n"),
        ("#Ansible: nightly\n0 3 * * * root apt-get -q update\n", ["name": "nightly", "state": "absent"], nil),
        ("MAILTO=\"\"\n#Ansible: a\n@reboot root x\n", ["name": "PATH", "env": true, "job": "/bin", "user": "root"],
         "PATH=\"/bin\"\nMAILTO=\"\"\n#Ansible: a\n@reboot root x\n"),
        ("MAILTO=\"\"\nPATH=\"/bin\"\n", ["name": "FOO", "env": true, "job": "bar", "insertafter": "MAILTO", "user": "root"],
         "MAILTO=\"\"\nFOO=\"bar\"\nPATH=\"/bin\"\n"),
        ("15 * * * * root /usr/bin/backup\n", ["name": "backup", "user": "root", "minute": "15", "job": "/usr/bin/backup"],
         "#Ansible: backup\n15 * * * * root /usr/bin/backup\n"),
        ("#Ansible: k\n* * * * * eleve /bin/true", ["name": "k", "user": "eleve", "job": "/bin/true", "disabled": true],
         "#Ansible: k\n#* * * * * eleve /bin/true\n"),
    ]

    @Test func cronFilesAreEditedAsAnsiblesCronModule() throws {
        for c in Self.cronCases {
            let edit = try SystemFileModules.CronEdit(c.existing, args: c.args, inFile: true)
            #expect((edit.removesFile ? nil : edit.rendered) == c.answer, "\(c.args)")
        }
        // A user's crontab has no user field; the same file twice changes nothing.
        let crontab = try SystemFileModules.CronEdit("MAILTO=\"\"\n", args: ["name": "maj", "minute": "0", "hour": "3", "job": "apt-get -q update"], inFile: false)
        #expect(crontab.rendered == "MAILTO=\"\"\n#Ansible: maj\n0 3 * * * apt-get -q update\n" && crontab.changed)
        #expect(try !SystemFileModules.CronEdit(crontab.rendered, args: ["name": "maj", "minute": "0", "hour": "3", "job": "apt-get -q update"], inFile: false).changed)
        #expect(try SystemFileModules.CronEdit("", args: ["name": "r", "special_time": "reboot", "job": "/usr/local/bin/kiosk"], inFile: false).rendered
                == "#Ansible: r\n@reboot /usr/local/bin/kiosk\n")
        // Ansible's refusals, in its words.
        #expect(throws: ModuleFailure.self) { try SystemFileModules.CronEdit("", args: ["name": "x", "job": "y"], inFile: true) }
        #expect(throws: ModuleFailure.self) { try SystemFileModules.CronEdit("", args: ["name": "x", "job": "y", "hour": "3", "special_time": "daily"], inFile: false) }
        #expect(throws: ModuleFailure.self) { try SystemFileModules.CronEdit("", args: ["name": "X", "env": true, "job": "1", "insertafter": "NOPE"], inFile: false) }
    }

    @Test func theKeptCronAnswersAreAnsiblesOwn() throws {
        guard let python = TemplateOracleTests.python() else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("no .venv-ansible: run scripts/setup-ansible") }
            return
        }
        let cases = Value.list(Self.cronCases.map { .list([.string($0.existing), .map(OrderedMap($0.args))]) })
        let data = try TemplateOracleTests.runOracle(python, script: TemplateOracleTests.folder.deletingLastPathComponent().appendingPathComponent("CronOracle/oracle.py").path,
                                                     input: cases.json)
        let results = try #require(Template.json(String(decoding: data, as: UTF8.self))?.list, "the oracle's answer")
        #expect(results.count == Self.cronCases.count)
        for (c, r) in zip(Self.cronCases, results) {
            let ansible: String? = r.map?["removed"] != nil ? nil : r.map?["text"]?.string
            #expect(ansible == c.answer, "\(c.args): Ansible gives \(ansible ?? "the file removed")")
        }
    }

    @Test func fstabSysctlLocaleAndKeysAreEditedInPlace() {
        #expect(SystemFileModules.editFstab("UUID=1 / ext4 defaults 0 1\n", path: "/mnt/x", entry: ["//nas/x", "/mnt/x", "cifs", "ro", "0", "0"])
                == "UUID=1 / ext4 defaults 0 1\n//nas/x\t/mnt/x\tcifs\tro\t0\t0\n")
        #expect(SystemFileModules.editFstab("//nas/x\t/mnt/x\tcifs\tro\t0\t0\n", path: "/mnt/x", entry: nil) == "")
        #expect(SystemFileModules.editSysctl("# c\nvm.swappiness = 60\n", name: "vm.swappiness", value: "10", present: true) == "# c\nvm.swappiness=10\n")
        #expect(SystemFileModules.editSysctl("vm.swappiness=10\n", name: "vm.swappiness", value: "10", present: true) == "vm.swappiness=10\n")
        #expect(SettingModules.editLocaleGen("# en_US.UTF-8 UTF-8\n# fr_FR.UTF-8 UTF-8\n", name: "fr_FR.UTF-8", present: true) == "# en_US.UTF-8 UTF-8\nfr_FR.UTF-8 UTF-8\n")
        #expect(SettingModules.editKeys("ssh-ed25519 AAA old\n", keys: ["ssh-ed25519 AAA new comment"], present: true, exclusive: false) == "ssh-ed25519 AAA old\n")
        #expect(SettingModules.editKeys("ssh-ed25519 AAA a\nssh-ed25519 BBB b\n", keys: ["ssh-ed25519 BBB"], present: false, exclusive: false) == "ssh-ed25519 AAA a\n")
        #expect(SettingModules.editKeys("ssh-ed25519 AAA a\n", keys: ["ssh-ed25519 BBB b"], present: true, exclusive: true) == "ssh-ed25519 BBB b\n")
        #expect(SystemFileModules.repoFileName("deb http://deb.debian.org/debian bookworm-backports main") == "deb_debian_org_debian")
    }

    @Test func ufwRulesAreAddedOnce() throws {
        let inactive = "Status: inactive\n--\nAdded user rules (see 'ufw status' for running firewall):\n(None)\n"
        #expect(try TransferModules.plan(args: ["rule": .string("allow"), "port": .string("22"), "proto": .string("tcp"), "state": .string("enabled")], status: inactive)
                == ["ufw allow 22/tcp", "ufw --force enable"])
        let active = "Status: active\nDefault: deny (incoming)\n--\nufw allow 22/tcp\n"
        #expect(try TransferModules.plan(args: ["rule": .string("allow"), "port": .string("22"), "proto": .string("tcp"), "state": .string("enabled")], status: active).isEmpty)
        #expect(try TransferModules.plan(args: ["rule": .string("allow"), "from_ip": .string("10.0.0.0/8"), "port": .string("3128")], status: active)
                == ["ufw allow from 10.0.0.0/8 port 3128"])
    }

    @Test func unsupportedFeaturesAreNamedWithFileAndLine() throws {
        for (text, expected) in [
            ("- hosts: all\n  tasks:\n    - debug: msg=x\n      with_fileglob: ['*.png']\n", "'with_fileglob': with_fileglob loops"),
            ("- hosts: all\n  tasks:\n    - debug: msg=\"{{ x | ipaddr }}\"\n", "no filter named 'ipaddr'"),
            ("- hosts: all\n  tasks:\n    - debug: msg=\"{{ lookup('pipe', 'date') }}\"\n", "lookup('pipe') is not supported"),
            ("- hosts: all\n  tasks:\n    - include_role: { name: kiosk, apply: { become: yes } }\n", "include_role: 'apply' is not supported"),
            ("- hosts: all\n  tasks:\n    - debug: msg=x\n      loop: [1]\n      loop_control: { break_when: [item == 1] }\n", "loop_control: 'break_when' is not supported"),
            ("- hosts: all\n  tasks:\n    - ansible.builtin.git: { repo: x, dest: /opt/x }\n", "module 'ansible.builtin.git' is not supported"),
            ("- hosts: all\n  strategy: free\n  tasks: []\n", "'strategy'"),
            ("- hosts: all\n  tasks:\n    - command: ls\n      delegate_to: other-host\n", "only localhost"),
            ("- hosts: all\n  tasks:\n    - meta: end_batch\n", "meta: end_batch is not supported by parc"),
            ("- hosts: all\n  tasks:\n    - include_role: { name: kiosk }\n      loop: [1, 2]\n", "with a loop is not supported"),
        ] where !expected.isEmpty {
            let path = try writePlaybook(text)
            #expect {
                try PlaybookLoader.load(path)
            } throws: { error in
                let e = error as! PlaybookError
                return "\(e)".contains(expected) && e.location?.file == path && (e.location?.line ?? 0) >= 1
            }
        }
    }

    @Test func filtersPeopleUse() throws {
        let t = TemplateEngine()
        let v: [String: Value] = ["name": .string("Salle CM2"), "list": .list([.string("b"), .string("a"), .string("b")]), "ok": .bool(true),
                                  "res": .map(["failed": .bool(false), "changed": .bool(true)]), "path": .string("/etc/kiosk/start.html")]
        // As YAML gives it from "{{ name | regex_replace('\\s+', '-') }}": one backslash.
        #expect(try t.render("{{ name | regex_replace('\\s+', '-') | lower }}", vars: v) == "salle-cm2")
        #expect(try t.render("{{ ok | ternary('oui', 'non') }}", vars: v) == "oui")
        #expect(try t.render("{{ list | unique | sort | join(',') }}", vars: v) == "a,b")
        #expect(try t.render("{{ path | basename }} {{ path | dirname }}", vars: v) == "start.html /etc/kiosk")
        #expect(try t.render("{{ 'x' | comment }}", vars: v) == "#\n# x\n#", "Ansible's decoration")
        #expect(try t.render("{% if res is succeeded and res is changed %}ok{% endif %}", vars: v) == "ok")
        #expect(try t.render("{% if name is match('Salle') %}m{% endif %}{% if name is search('CM') %}s{% endif %}", vars: v) == "ms")
        #expect(try t.render("{{ list | to_json }}", vars: v) == "[\"b\", \"a\", \"b\"]")
        let hash = try t.render("{{ 'Eleve-2026' | password_hash('sha512') }}", vars: v)
        let again = try t.render("{{ 'Eleve-2026' | password_hash('sha512') }}", vars: v)
        #expect(hash.hasPrefix("$6$"))
        #expect(hash == again, "stable without a salt")
        #expect(try t.render("{{ 'secret' | password_hash('sha512', 'sel') }}", vars: v).hasPrefix("$6$rounds=656000$sel$"))
        #expect(try t.render("{{ 'secret' | password_hash('md5', 'sel') }}", vars: v).hasPrefix("$1$sel$"))
        // Ansible keeps backslashes in a playbook string's {{ }} literals as written; a template file reads the escapes.
        #expect(try t.render("{{ 'a\\tb' }}", vars: v) == "a\\tb")
        #expect(try t.render("{{ 'a\\tb' }}", vars: v, options: .file) == "a\tb")
        let accounts: [String: Value] = ["accounts": .map(["bcd": .map(["shell": .string("/bin/bash")]), "cdi": .map(["shell": .string("/bin/sh")])]),
                                         "extra": .map(["cdi": .map(["shell": .string("/bin/bash")])])]
        #expect(try t.render("{% for a in accounts | dict2items %}{{ a.key }}={{ a.value.shell }};{% endfor %}", vars: accounts) == "bcd=/bin/bash;cdi=/bin/sh;")
        #expect(try t.render("{{ accounts | combine(extra) | dict2items | map(attribute='value.shell') | join(',') }}", vars: accounts) == "/bin/bash,/bin/bash")
        #expect(try t.render("{{ accounts | dict2items | items2dict | dict2items | map(attribute='key') | map('upper') | join(' ') }}", vars: accounts) == "BCD CDI")
        #expect(try t.render("{{ 'oui' if ok else 'non' }}/{{ 'a' if not ok }}/{{ x if x is defined else 'rien' | upper }}", vars: v) == "oui//RIEN")
        #expect(try t.render("{{ name ~ '-' ~ list | length }}", vars: v) == "Salle CM2-3", "~ binds looser than filters")
        #expect(try t.evaluate(.string("{{ name ~ '!' }}"), vars: v) == .string("Salle CM2!"))
        #expect(try t.evaluate(.string("{{ list if ok else [] }}"), vars: v) == v["list"], "an inline if keeps the branch's type")
        #expect(try t.evaluate(.string("{{ list if not ok else [] }}"), vars: v) == .list([]))
        let home = try #require(ProcessInfo.processInfo.environment["HOME"])
        #expect(try t.render("{{ lookup('env', 'HOME') | default('parc', true) }}", vars: v) == home)
        #expect(try t.render("{{ lookup('env', 'PARC_TEST_UNSET_X') | default('parc', true) }}", vars: v) == "parc")
    }
}

// Module arguments written as in a playbook, in the cron cases above.
extension Value: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
