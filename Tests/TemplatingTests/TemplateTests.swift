import Foundation
import Testing
@testable import Templating

/// The engine's own rules: where errors point, what is read at parse time, what a run cannot do.
@Suite struct TemplateTests {
    @Test func syntaxErrorsPointAtTheirLineAndColumn() {
        #expect(throws: TemplateError.self) { try Template("line one\n{% if x %}\n{{ 1 + }}\n{% endif %}", options: .file) }
        do {
            _ = try Template("line one\n{% if x %}\n  {{ 1 + }}\n{% endif %}", options: .file)
        } catch {
            #expect(error.line == 3)
            #expect(error.column == 10)
            #expect(error.sourceLine == "  {{ 1 + }}")
        }
    }

    @Test func unknownFiltersAndTestsAreRefusedBeforeRendering() throws {
        do { _ = try Template("a\n{{ x | nosuch }}", options: .file); Issue.record("accepted") } catch {
            #expect(error.message.contains("no filter named 'nosuch'"))
            #expect(error.line == 2)
        }
        do { _ = try Template("{{ x is nosuch }}"); Issue.record("accepted") } catch { #expect(error.message.contains("no test named 'nosuch'")) }
        // Ansible's own collection prefix is accepted.
        #expect(try Template("{{ 'a' | ansible.builtin.upper }}").render([:]) == "A")
    }

    @Test func callsUnpackStarArgumentsAsPython() throws {
        // Jinja's (Python's) `*items` and `**mapping`, also after a keyword argument.
        let vars: [String: Value] = ["words": .list([.string("b"), .string("c")]), "opts": .map(["sep": .string("-")])]
        #expect(try Template("{% set d = dict(a=1, **{'b': 2}) %}{{ d.a }}{{ d.b }}").render(vars) == "12")
        #expect(try Template("{% macro m(x, y, z) %}{{ x }}{{ y }}{{ z }}{% endmacro %}{{ m('a', *words) }}").render(vars) == "abc")
        #expect(try Template("{{ '{}{}'.format(*words) }}|{{ '{sep}'.format(**opts) }}").render(vars) == "bc|-")
        #expect(throws: TemplateError.self) { try Template("{{ dict(*1) }}").render([:]) }
        #expect(throws: TemplateError.self) { try Template("{{ dict(a=1, 2) }}") }
    }

    @Test func blocksLeftOpenAreNamed() {
        do { _ = try Template("{% for x in y %}\n{% if x %}\n{% endfor %}"); Issue.record("accepted") } catch {
            #expect(error.message.contains("'if'"))
        }
    }

    @Test func runtimeErrorsPointAtTheExpression() {
        do { _ = try Template("ok\n  {{ missing | upper }}", options: .file).render([:]); Issue.record("rendered") } catch {
            #expect(error.message == "'missing' is undefined")
            #expect(error.line == 2)
            #expect(error.column == 16)  // the filter the undefined value reached
        }
    }

    /// The engine's defaults are Jinja's own; a host's rules come from the environment it gives
    /// (the Provisioning layer gives Ansible's): finalize of None, trailing newlines, native
    /// values, conditions that must be booleans.
    @Test func theHostsRulesComeFromTheEnvironment() throws {
        let jinja = TemplateEnvironment()
        let host = TemplateEnvironment(printsNoneAsNothing: true, keepsTrailingNewlines: true, nativeValues: true, booleanConditions: true)
        let none = try Template("[{{ x }}]\n\n", options: .file)
        #expect(try none.render(["x": .null], in: jinja) == "[None]\n")
        #expect(try none.render(["x": .null], in: host) == "[]\n\n")
        let sum = try Template("{{ n + 1 }}")
        #expect(try sum.evaluate(["n": .int(3)], in: jinja) == .string("4"))
        #expect(try sum.evaluate(["n": .int(3)], in: host) == .int(4))
        #expect(try Template.condition("name", vars: ["name": .string("salle")], in: jinja) == true)
        #expect(throws: TemplateError.self) { try Template.condition("name", vars: ["name": .string("salle")], in: host) }
        #expect(try Template.condition("n > 2", vars: ["n": .int(3)], in: host) == true)
        #expect(try Template.condition("{{ n > 5 }}", vars: ["n": .int(3)], in: jinja) == false, "the expression's value, not its text")
    }

    @Test func noBreakSpaceIsWhitespaceInsideExpressions() throws {
        #expect(try Template("{{\u{00A0}name\u{00A0}| upper }}").render(["name": .string("a")]) == "A")
    }

    @Test func deepNestingIsRefused() throws {
        let deep = String(repeating: "{% if true %}", count: 150) + "x" + String(repeating: "{% endif %}", count: 150)
        #expect(throws: TemplateError.self) { try Template(deep) }
        let fine = String(repeating: "{% if true %}", count: 20) + "x" + String(repeating: "{% endif %}", count: 20)
        #expect(try Template(fine).render([:]) == "x")
    }

    @Test func mappingsKeepTheirOrder() throws {
        let d = Value.map(OrderedMap(ordered: [("z", .int(1)), ("a", .int(2))]))
        #expect(try Template("{% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %}").render(["d": d]) == "z1a2")
        #expect(try Template("{{ d }}").render(["d": d]) == "{'z': 1, 'a': 2}")
    }

    @Test func expanduserIsTheControlNodesHome() throws {
        let home = String(cString: getenv("HOME"))
        #expect(try Template("{{ '~/files' | expanduser }}").render([:]) == home + "/files")
        #expect(try Template("{{ '~' | expanduser }}|{{ '/opt/~x' | expanduser }}|{{ '~other/x' | expanduser }}").render([:]) == home + "|/opt/~x|~other/x")
    }

    /// random and shuffle with a seed draw what CPython's random.Random(seed) draws (the oracle:
    /// python3 itself, as Ansible's filters call it); without one, a value in the range.
    @Test func seededRandomIsPythonsRandom() throws {
        let cases: [(template: String, python: String)] = [
            ("{{ 60 | random(seed='pc-salle-1') }}", "random.Random('pc-salle-1').randrange(0, 60, 1)"),
            ("{{ 60 | random(seed='école-02') }}", "random.Random('école-02').randrange(0, 60, 1)"),
            ("{{ 100 | random(start=10, step=5, seed=42) }}", "random.Random(42).randrange(10, 100, 5)"),
            ("{{ 5000000000 | random(seed=7) }}", "random.Random(7).randrange(0, 5000000000, 1)"),
            ("{{ 10 | random(seed=-3) }}", "random.Random(-3).randrange(0, 10, 1)"),
            ("{{ ['a', 'b', 'c', 'd', 'e'] | random(seed='x') }}", "random.Random('x').choice(['a', 'b', 'c', 'd', 'e'])"),
            ("{{ range(12) | list | shuffle(seed='lab') | join(',') }}", "(lambda l: (random.Random('lab').shuffle(l), ','.join(map(str, l)))[1])(list(range(12)))"),
        ]
        let script = "import random\n" + cases.map { "print(\($0.python))" }.joined(separator: "\n")
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", script]
        p.standardOutput = out
        try p.run()
        let answers = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").map(String.init)
        p.waitUntilExit()
        try #require(answers.count == cases.count, "python3's answers: \(answers)")
        for (c, answer) in zip(cases, answers) { #expect(try Template(c.template).render([:]) == answer, "\(c.template)") }
        for _ in 0..<20 { #expect((0..<6).contains(Int(try Template("{{ 6 | random }}").render([:])) ?? -1)) }
        #expect(throws: TemplateError.self) { try Template("{{ ['a'] | random(start=1) }}").render([:]) }
    }

    @Test func rangeIsBounded() {
        #expect(throws: TemplateError.self) { try Template("{{ range(10000000) | length }}").render([:]) }
    }

    @Test func lookupsNeedAHook() {
        #expect(throws: TemplateError.self) { try Template("{{ lookup('env', 'HOME') }}").render([:]) }
    }
}
