import Foundation

/// The language a person reads parc's messages in.
public enum Language: String, Sendable, CaseIterable {
    case english, french

    /// What the command line writes in: French when `LC_ALL`, `LC_MESSAGES` or `LANG` (the first
    /// one set, as the C library reads them) names a French locale (`fr_FR.UTF-8`, `fr`), else English.
    public static func fromEnvironment(_ environment: [String: String]? = nil) -> Language {
        for name in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            guard let value = environment.map({ $0[name] }) ?? Environment.value(name), !value.isEmpty else { continue }
            return value.lowercased().hasPrefix("fr") ? .french : .english
        }
        return .english
    }

    /// The language `Message.description` uses: English unless a front end says otherwise (the
    /// command line sets it from the environment once, at start; the web writes French
    /// explicitly and keeps the API in English).
    nonisolated(unsafe) public static var current: Language = .english
}

/// A value said in words, with a French form (a device kind, a status, an entity's name).
public protocol FrenchWord: Sendable {
    var english: String { get }
    var french: String { get }
}

/// A message for a person: its English text is the key of the catalogue, its French rendering
/// is the catalogue's (`FrenchCatalogue`). Written as a string literal at the place it is
/// thrown — `InvalidValue(field:value:problem: "a port is between 1 and 65535 (SSH listens on 22)")` — with its
/// interpolated values kept apart, so that each language places them in its own sentence and
/// writes them its own way (a kind as "PC portable", a count as "1 234").
public struct Message: Sendable, Equatable, Hashable, CustomStringConvertible, ExpressibleByStringInterpolation {
    /// The English text with `%1`, `%2`… where the values go (a literal `%` is `%%`).
    public let key: String
    public let arguments: [Argument]

    public indirect enum Argument: Sendable, Equatable, Hashable {
        case text(String)
        case number(Int)
        case word(english: String, french: String)
        case message(Message)
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var key = ""
        var arguments: [Argument] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            key.reserveCapacity(literalCapacity + interpolationCount * 2)
        }

        public mutating func appendLiteral(_ literal: String) {
            key += literal.replacingOccurrences(of: "%", with: "%%")
        }

        mutating func add(_ argument: Argument) {
            arguments.append(argument)
            key += "%\(arguments.count)"
        }

        public mutating func appendInterpolation(_ message: Message) { add(.message(message)) }
        public mutating func appendInterpolation<W: FrenchWord>(_ word: W) { add(.word(english: word.english, french: word.french)) }
        public mutating func appendInterpolation(_ n: Int) { add(.number(n)) }
        public mutating func appendInterpolation<T>(_ value: T) { add(.text(String(describing: value))) }
    }

    public init(stringInterpolation: StringInterpolation) {
        key = stringInterpolation.key
        arguments = stringInterpolation.arguments
    }

    public init(stringLiteral value: String) {
        key = value.replacingOccurrences(of: "%", with: "%%")
        arguments = []
    }

    /// A text that is not parc's own (a library's error, a device's answer): said as it is, in
    /// every language.
    public init(verbatim text: String) {
        key = "%1"
        arguments = [.text(text)]
    }

    public var english: String { text(.english) }
    public var french: String { text(.french) }
    public var description: String { text(Language.current) }

    /// The message in `language`: the catalogue's French sentence when it has this key (else the
    /// English one), its values placed in it.
    public func text(_ language: Language) -> String {
        let template = language == .french ? FrenchCatalogue.entries[key] ?? key : key
        var out = ""
        var i = template.startIndex
        while i < template.endIndex {
            let c = template[i]
            let next = template.index(after: i)
            guard c == "%", next < template.endIndex else { out.append(c); i = next; continue }
            if template[next] == "%" { out.append("%"); i = template.index(after: next); continue }
            var end = next
            while end < template.endIndex, template[end].isASCII, template[end].isNumber { end = template.index(after: end) }
            if let n = Int(template[next..<end]), n >= 1, n <= arguments.count {
                out += Self.render(arguments[n - 1], language)
                i = end
            } else {
                out.append(c)
                i = next
            }
        }
        return out
    }

    static func render(_ argument: Argument, _ language: Language) -> String {
        switch argument {
        case .text(let s): s
        case .number(let n): language == .french ? FrenchText.number(n) : String(n)
        case .word(let english, let french): language == .french ? french : english
        case .message(let m): m.text(language)
        }
    }

    /// A text stored in English by an earlier run (a task's message, say), in `language`: the
    /// catalogue's sentence for it when it is one of parc's own, else as it is.
    public static func stored(_ english: String, in language: Language) -> String {
        guard language == .french else { return english }
        let exact = Message(stringLiteral: english)
        if FrenchCatalogue.entries[exact.key] != nil { return exact.french }
        // One of the catalogue's sentences with its values in place: found by its fixed words,
        // its values (a host, an address, the system's words) carried over as they are.
        let range = NSRange(english.startIndex..., in: english)
        for (pattern, key, words) in FrenchCatalogue.storedPatterns where english.contains(words) {
            guard let m = pattern.firstMatch(in: english, range: range) else { continue }
            let values = (1..<m.numberOfRanges).map { i in Range(m.range(at: i), in: english).map { String(english[$0]) } ?? "" }
            return Message(key: key, arguments: values.map { .word(english: $0, french: SystemReason($0).french) }).french
        }
        return english
    }

    init(key: String, arguments: [Argument]) {
        self.key = key
        self.arguments = arguments
    }
}

extension DeviceKind: FrenchWord {
    public var english: String { rawValue }
}

extension DeviceStatus: FrenchWord {
    public var english: String { rawValue }
}

/// The name of a kind of record (`device`, `school`…) in a sentence.
public struct EntityName: FrenchWord, Equatable {
    public let english: String
    public init(_ english: String) { self.english = english }
    public var french: String { FrenchCatalogue.entities[english] ?? english }
}

/// A field's name in a sentence (`serial`, `warrantyEnd`…): the command line's word in English,
/// the form's label in French.
public struct FieldName: FrenchWord, Equatable {
    public let english: String
    public init(_ english: String) { self.english = english }
    public var french: String { FrenchCatalogue.fields[english] ?? english }
}

/// One environment variable, read with `getenv`: `ProcessInfo.processInfo.environment` copies the
/// whole environment into a dictionary on every call, which a command's start paid several times.
public enum Environment {
    /// The variable's value; nil when unset or empty.
    public static func value(_ name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        let value = String(cString: raw)
        return value.isEmpty ? nil : value
    }
}
