import Foundation
import ParcCore
import Testing
import Templating
@testable import ParcApp

/// Values given through the web or the API stay data in every replay; `-e` typed in a terminal
/// stays a template.
@Suite struct ExtraVarsTests {
    @Test func aRecordedRunsValuesKeepTheirNatureWhenReplayed() throws {
        let recorded = RunParameters(extraVars: ["site=ecole-{{parc_school}}"], askVars: ["psk"], tags: "wifi",
                                     dataVars: ["ent_url": "{{ lookup('file','/etc/shadow') }}"])
        // Stored and read back (the database keeps parameters as JSON); older records have no dataVars.
        let decoded = try JSONDecoder().decode(RunParameters.self, from: JSONEncoder().encode(recorded))
        #expect(decoded == recorded)
        #expect(try JSONDecoder().decode(RunParameters.self, from: Data(#"{"extraVars":[],"askVars":[]}"#.utf8)).dataVars == [:])

        let replay = try ExtraVars.replay(decoded) { names in Dictionary(uniqueKeysWithValues: names.map { ($0, Value.string("asked")) }) }
        #expect(replay.authored == ["site": .string("ecole-{{parc_school}}"), "psk": .string("asked")])
        #expect(replay.data == ["ent_url": .string("{{ lookup('file','/etc/shadow') }}")])

        // Pending work served later: the values given through the web are still data; what is typed now wins.
        let batch = PendingWork.Batch(playbook: "wifi.yml", items: [], parameters: decoded)
        let served = try PendingWork.request(for: batch, base: RunRequest(playbook: ""), typed: RunParameters(), extra: [:]) { _ in ["psk": .string("x")] }
        #expect(served.extraData == ["ent_url": .string("{{ lookup('file','/etc/shadow') }}")])
        #expect(served.extraVars["ent_url"] == nil && served.extraVars["site"] == .string("ecole-{{parc_school}}"))
        #expect(served.parameters.dataVars == recorded.dataVars, "kept for the next replay")
        let typedNow = try PendingWork.request(for: batch, base: RunRequest(playbook: ""), typed: RunParameters(extraVars: ["ent_url=https://ent"]),
                                               extra: ["ent_url": .string("https://ent")]) { _ in [:] }
        #expect(typedNow.extraVars["ent_url"] == .string("https://ent") && typedNow.extraData["ent_url"] == nil)
    }

    /// `-e` as ansible-playbook reads it: key=value words (quotes keep a value's spaces), a YAML
    /// or JSON mapping with its types (the way to give a boolean), and a clear error otherwise.
    @Test func extraVarsAreReadAsAnsibleReadsThem() throws {
        #expect(try ExtraVars.parse(["a=1 b='deux mots'", "c=\"x=y\""]) == ["a": .string("1"), "b": .string("deux mots"), "c": .string("x=y")])
        #expect(try ExtraVars.parse([#"{"attributes_supported": false, "n": 3, "l": [1, "a"]}"#])
                == ["attributes_supported": .bool(false), "n": .int(3), "l": .list([.int(1), .string("a")])])
        #expect(try ExtraVars.parse(["{flag: yes, name: salle}"]) == ["flag": .bool(true), "name": .string("salle")])
        #expect(throws: AppError.self) { try ExtraVars.parse(["lonely"]) }
        #expect(throws: (any Error).self) { try ExtraVars.parse(["{unclosed: [1"]) }
    }
}
