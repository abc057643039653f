import Foundation
import ParcCore
@testable import Provisioning
@testable import Templating
import Testing

/// parc's Jinja engine against Ansible's own: every case of `Fixtures/TemplateOracle/corpus.json`
/// is rendered by parc's TemplateEngine as a run uses it (lookups, password hashing) and compared
/// with Ansible's answers — kept in `answers.json` (written by `make_answers.sh` from Ansible's
/// Templar), so the cases run offline too; where Ansible is installed (always in CI) its Templar
/// renders the corpus again and must still give those answers. Values, types and failures must
/// agree. `make_corpus.py` writes the corpus.
@Suite struct TemplateOracleTests {
    struct Case { let template: String; let vars: [String: Value]; let mode: String; let options: [String: Value] }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/TemplateOracle")

    static func python() -> String? {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<4 {
            dir.deleteLastPathComponent()
            let p = dir.appendingPathComponent(".venv-ansible/bin/python").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static func load() throws -> (String, [Case]) {
        let text = try String(contentsOf: folder.appendingPathComponent("corpus.json"), encoding: .utf8)
        guard case .list(let items)? = Template.parseLiteral(text) else { throw TemplateError("corpus.json is not a list") }
        return (text, items.map { item in
            let m = item.map ?? [:]
            return Case(template: m["template"]?.string ?? "", vars: m["vars"]?.map ?? [:], mode: m["mode"]?.string ?? "string", options: m["options"]?.map ?? [:])
        })
    }

    /// Runs the oracle on the corpus; its results in order.
    static func oracle(_ corpus: String) throws -> [Value] {
        guard let python = python() else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { throw TemplateError("no .venv-ansible: run scripts/setup-ansible") }
            return []
        }
        let data = try runOracle(python, script: folder.appendingPathComponent("oracle.py").path, input: corpus)
        guard case .list(let results)? = Template.parseLiteral(String(decoding: data, as: UTF8.self)) else { throw TemplateError("the oracle gave no results") }
        return results
    }

    /// Runs an oracle script of the fixtures with Ansible's Python: `input` on its stdin, its stdout.
    static func runOracle(_ python: String, script: String, input text: String) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [script]
        var env = ProcessInfo.processInfo.environment
        env["ANSIBLE_LOCAL_TEMP"] = NSTemporaryDirectory() + "parc-oracle-tmp"
        env["HOME"] = NSTemporaryDirectory()
        p.environment = env
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        try p.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return data
    }

    static let engine = TemplateEngine()

    static func parc(_ c: Case) -> Value {
        do {
            switch c.mode {
            case "condition":
                return .map(["value": .bool(try engine.condition(c.template, vars: c.vars))])
            case "file":
                var o = TemplateOptions.file
                o.trimBlocks = c.options["trim_blocks"]?.truthy ?? true
                o.lstripBlocks = c.options["lstrip_blocks"]?.truthy ?? false
                return .map(["value": .string(try engine.render(c.template, vars: c.vars, options: o))])
            default:
                return .map(["value": try engine.evaluate(.string(c.template), vars: c.vars)])
            }
        } catch {
            return .map(["error": .string("\(error)")])
        }
    }

    /// Ansible's answers as kept: the ansible-core version that gave them, and one result per case.
    static func answers() throws -> (version: String, results: [Value]) {
        let text = try String(contentsOf: folder.appendingPathComponent("answers.json"), encoding: .utf8)
        guard case .map(let m)? = Template.json(text), case .list(let results)? = m["results"] else { throw TemplateError("answers.json: no results") }
        return (m["ansible_core"]?.string ?? "?", results)
    }

    /// The kept answers are Ansible's: its Templar, run again on the corpus, gives each of them.
    @Test func theKeptAnswersAreAnsiblesOwn() throws {
        let (text, cases) = try Self.load()
        let current = try Self.oracle(text)
        guard !current.isEmpty else { return }
        let kept = try Self.answers()
        #expect(kept.results.count == cases.count && current.count == cases.count, "regenerate answers.json with make_answers.sh")
        for (i, (k, c)) in zip(kept.results, current).enumerated() {
            let (km, cm) = (k.map ?? [:], c.map ?? [:])
            let same = (km["error"] != nil && cm["error"] != nil)
                || (km["value"].flatMap { kv in cm["value"].map { Operators.equal(kv, $0) && sameKind(kv, $0) } } ?? false)
            #expect(same, "case \(i) \(cases[i].template.debugDescription): kept \(k.json), Ansible now \(c.json): run make_answers.sh (kept from ansible-core \(kept.version))")
        }
    }

    /// Where the oracle itself is wrong, parc gives Python's answer and the case says why.
    static let ansibleDefects: [String: (answer: Value, why: String)] = [
        "{{ pkgs.count('vim') }}": (.int(1), "2.19's lazy list counts a variable's items as 0 (a literal list counts right)"),
    ]

    @Test func sameResultsAsAnsible() throws {
        let (_, cases) = try Self.load()
        let expected = try Self.answers().results
        #expect(expected.count == cases.count)
        var agreed = 0
        for (c, e) in zip(cases, expected) {
            let got = Self.parc(c)
            var want = e.map ?? [:]
            if let defect = Self.ansibleDefects[c.template] {
                #expect(want["value"] != defect.answer, "Ansible now answers \(c.template) right: drop it from ansibleDefects")
                want = ["value": defect.answer]
            }
            if want["error"] != nil {
                #expect(got.map?["error"] != nil, "\(c.mode) \(c.template.debugDescription): Ansible fails (\(want["error"]!.pythonText)), parc gives \(got.map?["value"]?.pythonRepr ?? "")")
                if got.map?["error"] != nil { agreed += 1 }
                continue
            }
            let wantValue = want["value"] ?? .null
            let gotValue = got.map?["value"]
            // Ansible's str subclasses (NativeJinjaText, unsafe text) are strings.
            let same = gotValue.map { Operators.equal($0, wantValue) && sameKind($0, wantValue) } ?? false
            #expect(same, "\(c.mode) \(c.template.debugDescription): Ansible gives \(wantValue.pythonRepr), parc \(gotValue?.pythonRepr ?? "error: " + (got.map?["error"]?.pythonText ?? ""))")
            if same { agreed += 1 }
        }
        #expect(agreed == cases.count)
    }

    func sameKind(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.string, .string), (.bool, .bool), (.null, .null): return true
        case (.int, .int), (.double, .double), (.int, .double), (.double, .int): return true
        case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy(sameKind)
        case (.map(let x), .map(let y)): return x.keys == y.keys && x.keys.allSatisfy { sameKind(x[$0]!, y[$0]!) }
        default: return false
        }
    }

    /// The 200-line template of scripts/bench-template (loops, filters, macros, methods): the same
    /// bytes from parc as from Ansible's template rendering.
    @Test func theBenchmarkTemplateRendersTheSameBytes() throws {
        guard let python = Self.python() else { return }
        let bench = Self.folder.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/bench-data")
        let template = bench.appendingPathComponent("school-lab.conf.j2").path, vars = bench.appendingPathComponent("school-lab.json").path
        let out = NSTemporaryDirectory() + "parc-oracle-\(UUID().uuidString.prefix(8)).out"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [bench.appendingPathComponent("ansible-template-bench.py").path, template, vars, "0", out]
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = NSTemporaryDirectory()
        env["ANSIBLE_LOCAL_TEMP"] = NSTemporaryDirectory() + "parc-oracle-tmp"
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let ansible = try String(contentsOfFile: out, encoding: .utf8)
        guard case .map(let m)? = Template.json(try String(contentsOfFile: vars, encoding: .utf8)) else { Issue.record("vars"); return }
        let ours = try Self.engine.render(try String(contentsOfFile: template, encoding: .utf8), vars: m.dictionary,
                                          at: SourceLocation(file: template, line: 1, column: 1), options: .file)
        #expect(ours == ansible)
        #expect(ansible.utf8.count > 20_000)
    }
}
