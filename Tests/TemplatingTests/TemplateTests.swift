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

    @Test func rangeIsBounded() {
        #expect(throws: TemplateError.self) { try Template("{{ range(10000000) | length }}").render([:]) }
    }

    @Test func lookupsNeedAHook() {
        #expect(throws: TemplateError.self) { try Template("{{ lookup('env', 'HOME') }}").render([:]) }
    }
}
