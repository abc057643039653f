import Foundation
import ParcCore
@testable import Provisioning
import Templating
import Testing

/// `ansible-playbook --syntax-check` and parc's loader agree on which playbooks are valid: the same
/// playbooks pass both, the same fail both. A third set is valid Ansible that parc does not run
/// yet: parc must refuse it before anything runs, naming the feature, file and line.
@Suite struct SyntaxAgreementTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    enum Expected: String, Sendable { case valid, invalid, unsupported }

    struct Case: Sendable, CustomTestStringConvertible {
        let path: String
        let expected: Expected
        var testDescription: String {
            let parts = path.split(separator: "/")
            return "\(expected.rawValue): \(parts.suffix(path.hasSuffix("play.yml") ? 2 : 1).joined(separator: "/"))"
        }
    }

    static let cases: [Case] = {
        var all = [Case(path: fixtures.appendingPathComponent("kiosk/site.yml").path, expected: .valid)]
        // The playbooks parc ships are valid Ansible too.
        let shipped = repo.appendingPathComponent("playbooks")
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: shipped.path)) ?? []).sorted() where name.hasSuffix(".yml") {
            all.append(Case(path: shipped.appendingPathComponent(name).path, expected: .valid))
        }
        // The differential fixtures: real-world styles, valid for both.
        let differential = fixtures.appendingPathComponent("differential")
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: differential.path)) ?? []).sorted() {
            all.append(Case(path: differential.appendingPathComponent("\(name)/play.yml").path, expected: .valid))
        }
        for kind in [Expected.valid, .invalid, .unsupported] {
            let dir = fixtures.appendingPathComponent("syntax/\(kind.rawValue)")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for name in names.sorted() where name.hasSuffix(".yml") {
                all.append(Case(path: dir.appendingPathComponent(name).path, expected: kind))
            }
        }
        return all
    }()

    static var ansiblePlaybook: String? {
        [ProcessInfo.processInfo.environment["PARC_ANSIBLE_PLAYBOOK"], repo.appendingPathComponent(".venv-ansible/bin/ansible-playbook").path]
            .compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `ansible-playbook --syntax-check` in the playbook's folder; its status and output.
    static func ansibleSyntaxCheck(_ tool: String, _ path: String) throws -> (ok: Bool, output: String) {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("parc-ansible-home-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let out = home.appendingPathComponent("out.txt")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "cd \"$(dirname \"$1\")\" && \"$0\" --syntax-check -i localhost, \"$1\" > \"$2\" 2>&1", tool, path, out.path]
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = home.path
        env["ANSIBLE_NOCOLOR"] = "1"
        env["ANSIBLE_LOCAL_TEMP"] = home.appendingPathComponent("tmp").path
        p.environment = env
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus == 0, (try? String(contentsOf: out, encoding: .utf8)) ?? "")
    }

    @Test func theFixtureSetCoversEachKind() {
        #expect(Self.cases.filter { $0.expected == .valid }.count >= 7)
        #expect(Self.cases.filter { $0.expected == .invalid }.count >= 10)
        #expect(Self.cases.filter { $0.expected == .unsupported }.count >= 6)
    }

    @Test(arguments: cases) func ansibleAndParcAgree(_ c: Case) throws {
        guard let tool = Self.ansiblePlaybook else {
            Issue.record("ansible-playbook is needed: run scripts/setup-ansible (scripts/test does)")
            return
        }
        let ansible = try Self.ansibleSyntaxCheck(tool, c.path)
        var parcError: PlaybookError? = nil
        // From the playbook's folder, as ansible-playbook is run: its ansible.cfg counts for both.
        let config = try AnsibleConfig.discover(environment: [:], directory: (c.path as NSString).deletingLastPathComponent,
                                                home: FileManager.default.temporaryDirectory.path + "/parc-no-home")
        do { _ = try PlaybookLoader.load(c.path, rolesPath: config.rolesPath.value) } catch let e as PlaybookError { parcError = e }
        switch c.expected {
        case .valid:
            #expect(ansible.ok, "ansible-playbook rejects \(c.path):\n\(ansible.output)")
            #expect(parcError == nil, "parc rejects \(c.path): \(parcError.map { "\($0)" } ?? "")")
        case .invalid:
            #expect(!ansible.ok, "ansible-playbook accepts \(c.path):\n\(ansible.output)")
            let e = try #require(parcError, "parc accepts \(c.path)")
            #expect(e.location?.file.hasSuffix(".yml") == true, "the error names the file: \(e)")
        case .unsupported:
            #expect(ansible.ok, "ansible-playbook rejects \(c.path):\n\(ansible.output)")
            let e = try #require(parcError, "parc accepts \(c.path), which it cannot run")
            #expect("\(e)".contains("not supported"), "the error says it is not supported: \(e)")
            let folder = (c.path as NSString).deletingLastPathComponent
            #expect((e.location?.file ?? "").hasPrefix(folder) && (e.location?.line ?? 0) > 1, "the error names file (the playbook or its template) and line: \(e)")
        }
    }
}
