import Foundation
import ParcCore
import Testing

/// The catalogue of messages: every message of the domain has its French sentence, and a message
/// places its values in each language's sentence.
@Suite struct FrenchCatalogueTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The string literal starting at `i` (a `"`) with its interpolations as `\u{0}`; nil for a
    /// multi-line literal.
    static func literal(_ s: [Character], at start: Int) -> (text: String, end: Int)? {
        if start + 2 < s.count && s[start + 1] == "\"" && s[start + 2] == "\"" { return nil }
        var out = "", j = start + 1
        while j < s.count {
            let c = s[j]
            if c == "\\" && j + 1 < s.count {
                if s[j + 1] == "(" {
                    var depth = 1, k = j + 2
                    while depth > 0 && k < s.count {
                        if s[k] == "(" { depth += 1 } else if s[k] == ")" { depth -= 1 } else if s[k] == "\"" {
                            guard let inner = literal(s, at: k) else { return nil }
                            k = inner.end
                            continue
                        }
                        k += 1
                    }
                    out.append("\u{0}")
                    j = k
                    continue
                }
                out.append(c); out.append(s[j + 1]); j += 2
                continue
            }
            if c == "\"" { return (out, j + 1) }
            out.append(c)
            j += 1
        }
        return nil
    }

    /// A literal as the catalogue keys it (`%1`… for its values, `%%` for a percent sign).
    static func key(_ raw: String) -> String {
        var n = 0, out = ""
        for c in raw.replacingOccurrences(of: "%", with: "%%") {
            if c == "\u{0}" { n += 1; out += "%\(n)" } else { out.append(c) }
        }
        return out.replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\'", with: "'")
            .replacingOccurrences(of: "\\\\", with: "\\").replacingOccurrences(of: "\\n", with: "\n")
    }

    /// The messages of the domain's sources: what follows `problem:`, `hint:`, `reason:`,
    /// `AppError(`, an import row's `problem(FIELD, `, and the sentences of the errors' `message`.
    static func sourceMessages() throws -> [String: String] {
        let pattern = try NSRegularExpression(pattern: #"(?:\bAppError\(\s*|\bmessage = |: Message = (?:[a-zA-Z.]+ \? )?|\b(?:problem|hint|reason):\s*|\bproblem\(\s*"[A-Za-z]+",\s*|\bproblem\(\s*[a-z.]+,\s*|\blookupError \?\? )(?=")"#)
        var found: [String: String] = [:]
        for folder in ["ParcCore", "InventoryStore", "Exchange", "ParcApp", "parc", "Web"] {
            let dir = repo.appendingPathComponent("Sources/\(folder)")
            for case let file as URL in FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)! where file.pathExtension == "swift" {
                let text = try String(contentsOf: file, encoding: .utf8)
                let chars = Array(text)
                // Character offsets: the regex works on UTF-16, the scanner on characters.
                var starts: [Int] = []
                for m in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    starts.append(text.distance(from: text.startIndex, to: Range(m.range, in: text)!.upperBound))
                }
                if file.lastPathComponent == "InventoryError.swift" || (folder == "ParcCore" && file.lastPathComponent == "Transport.swift") {
                    for r in text.ranges(of: "return \"") { starts.append(text.distance(from: text.startIndex, to: r.upperBound) - 1) }
                }
                for start in starts {
                    guard let (raw, _) = literal(chars, at: start) else { continue }
                    let k = key(raw)
                    if k != "%1" && k.count >= 4 { found[k] = "\(folder)/\(file.lastPathComponent)" }
                }
            }
        }
        return found
    }

    @Test("every message of the domain's sources has its French sentence, with the same values")
    func everyMessageHasItsFrenchSentence() throws {
        let messages = try Self.sourceMessages()
        #expect(messages.count > 200, "the scan finds the sources' messages (\(messages.count))")
        let missing = messages.filter { FrenchCatalogue.entries[$0.key] == nil }.map { "\($0.value): \($0.key)" }.sorted()
        #expect(missing.isEmpty, "\(missing.count) without French:\n\(missing.joined(separator: "\n"))")
        // A French sentence uses the values its English one has, each at least once, and no other.
        for (english, french) in FrenchCatalogue.entries {
            let placeholders = { (s: String) in Set(s.matches(of: /%(\d+)/).map { Int($0.1)! }) }
            #expect(placeholders(french).isSubset(of: placeholders(english)), "\(french)")
        }
    }

    @Test("a message places its values in each language's sentence, and writes them as that language does")
    func valuesTakeTheirPlace() throws {
        let uai: InvalidValue
        do { _ = try UAI.normalize("0572113A"); Issue.record("a wrong check letter is refused"); return } catch { uai = error }
        #expect(uai.problem.english == "the check letter of 0572113 is M, not A; check the UAI for a typing mistake")
        #expect(uai.problem.french == "la lettre de contrôle de 0572113 est M, pas A ; vérifiez l'UAI (faute de frappe ?)")
        let kind: Message = "only laptops and tablets go in a cart; put a \(DeviceKind.interactiveScreen) in a room"
        #expect(kind.english.contains("put a interactiveScreen in a room"))
        #expect(kind.french.contains("rangez ce matériel (\(DeviceKind.interactiveScreen.french)) dans une salle"))
        let long: Message = "it is \(12_345) characters long; this field takes at most \(500)"
        #expect(long.english == "it is 12345 characters long; this field takes at most 500")
        #expect(long.french == "il fait 12\u{202F}345 caractères ; ce champ en prend 500 au plus")
        let missing = InventoryError.notFound(entity: "school", key: "0579999Z", hint: "check the UAI, or list schools with `parc school list`")
        #expect(missing.message.french == "école « 0579999Z » introuvable ; vérifiez l'UAI dans la liste des écoles")
        #expect(missing.description.hasPrefix("no school '0579999Z'"), "English unless a front end chose French")
        let unknown = Message(verbatim: "an answer of a device, 100 % data")
        #expect(unknown.french == "an answer of a device, 100 % data", "data is never translated, nor read as a template")
        let refused = TransportError.unreachable(host: "lab-01", reason: "connection refused at 127.0.0.1:2201")
        #expect(refused.message.french == "lab-01 : injoignable (connexion refusée par 127.0.0.1:2201) ; vérifiez que l'appareil est allumé et sur le réseau, et son adresse et son port dans l'inventaire")
    }

    @Test("a message stored in English by an earlier run is shown in French when it is one of parc's sentences, as it is otherwise")
    func storedMessages() {
        let unreachable = TransportError.unreachable(host: "lab-02", reason: "connection refused at 127.0.0.1:2202").description
        #expect(Message.stored(unreachable, in: .french) == TransportError.unreachable(host: "lab-02", reason: "connection refused at 127.0.0.1:2202").message.french)
        #expect(Message.stored("condition false", in: .french) == "condition fausse")
        #expect(Message.stored("E: Unable to locate package gimp-fr", in: .french) == "E: Unable to locate package gimp-fr", "a device's answer stays as it is")
        #expect(Message.stored(unreachable, in: .english) == unreachable)
    }

    @Test("the command line's language follows LC_ALL, then LC_MESSAGES, then LANG")
    func languageFromTheEnvironment() {
        #expect(Language.fromEnvironment(["LANG": "fr_FR.UTF-8"]) == .french)
        #expect(Language.fromEnvironment(["LANG": "fr_FR.UTF-8", "LC_MESSAGES": "C"]) == .english)
        #expect(Language.fromEnvironment(["LANG": "en_GB.UTF-8", "LC_ALL": "fr_BE.UTF-8"]) == .french)
        #expect(Language.fromEnvironment(["LANG": ""]) == .english)
        #expect(Language.fromEnvironment([:]) == .english)
    }
}
