import Foundation
@testable import Provisioning
import Templating
import Testing

/// `key=value` text and command words read as Ansible reads them: the answers of Ansible's own
/// parse_kv (with check_raw for free-form modules) and of Python's shlex, run by
/// `Fixtures/SplitterOracle/oracle.py` with the Python of .venv-ansible (always in CI).
@Suite struct ArgumentSplittingTests {
    static let keyValues: [(text: String, freeForm: Bool)] = [
        ("src=a dest=b", false),
        ("dest=/etc/x content=\"a b  c\" mode=0644", false),
        ("name=x  state=present", false),
        ("line=\"a\\tb\\u00e9\" path=/x", false),
        ("msg={{ x | default('a b') }} other=1", false),
        ("a=b\\=c d=e", false),
        ("echo this is a \\\n\"multiline echo\" \\\n\"with a new line\nin quotes\" \\\n| python3 -c 'print(1)'\necho \"second line\"\n", true),
        ("executable=\"/bin/bash\"\ncreates=/tmp/afile.txt\necho \"test\"\n", true),
        ("echo argv=1 chdir=/tmp  removes=/x", true),
        ("cat <<EOF\nOne\n  Two\n    Three\nEOF\n", true),
        ("grep -q 'a=b' /etc/x || echo \"k = v\" >> /etc/x", true),
        ("/opt/run.sh --name='salle 2' creates=/opt/done", true),
    ]
    static let commandWords = ["ls -l \"a b\"", "--opt=\"a b\" c\\ d", "'it''s'", "a\"b c\"d", "echo \"x\\\"y\" \\$HOME 'q\\'", "  lead  trail  "]

    @Test func keyValueTextAndCommandWordsAreSplitAsAnsiblesAre() throws {
        guard let python = TemplateOracleTests.python() else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("no .venv-ansible: run scripts/setup-ansible") }
            return
        }
        let cases = Value.list(Self.keyValues.map { .list([.string("kv"), .string($0.text), .bool($0.freeForm)]) }
                               + Self.commandWords.map { .list([.string("shlex"), .string($0), .bool(false)]) })
        let data = try TemplateOracleTests.runOracle(python, script: TemplateOracleTests.folder.deletingLastPathComponent()
            .appendingPathComponent("SplitterOracle/oracle.py").path, input: cases.json)
        let answers = try #require(Template.json(String(decoding: data, as: UTF8.self))?.list, "the oracle's answer")
        try #require(answers.count == Self.keyValues.count + Self.commandWords.count)
        for (c, answer) in zip(Self.keyValues, answers) {
            let parsed = try AnsibleArgs.parse(c.text, freeForm: c.freeForm)
            var ours = parsed.args
            if !parsed.raw.isEmpty { ours["_raw_params"] = .string(AnsibleArgs.join(parsed.raw)) }
            #expect(ours == answer.map?["args"]?.map, "\(c.text.debugDescription): Ansible \(answer)")
        }
        for (text, answer) in zip(Self.commandWords, answers.dropFirst(Self.keyValues.count)) {
            let ours = try? AnsibleArgs.shlex(text)
            #expect(ours.map { .list($0.map { .string($0) }) } == answer.map?["words"], "\(text.debugDescription): Python \(answer)")
        }
        // Unbalanced quotes: an error, as Ansible's and shlex's.
        #expect(throws: AnsibleArgs.Unbalanced.self) { try AnsibleArgs.split("a=\"b c") }
        #expect(throws: AnsibleArgs.ShlexError.self) { try AnsibleArgs.shlex("echo 'open") }
    }

    /// What a task's free-form text becomes: the module's arguments, the rest its command.
    @Test func aFreeFormShellKeepsItsLinesAndTakesOnlyItsKeys() throws {
        let args = try PlaybookLoader.keyValues("executable=/bin/bash\ncreates=/tmp/a\necho argv=1 \\\n  done\n", module: Modules.registry["shell"]!)
        #expect(args == ["executable": .string("/bin/bash"), "creates": .string("/tmp/a"), "_raw_params": .string("echo argv=1  done\n")])
        #expect(throws: PlaybookError.self) { try PlaybookLoader.keyValues("path=/x free words", module: Modules.registry["file"]!) }
        // command's words reach the program as shlex gives them: one word with its quotes removed.
        #expect(try CommandModule.line(args: ["_raw_params": .string("printf '%s|' --opt=\"a b\" c\\ d")], shell: false)
                == CommandModule.executableCheck("printf") + "printf '%s|' '--opt=a b' 'c d'")
    }
}
