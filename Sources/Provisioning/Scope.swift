import Foundation
import ParcCore
import Templating

/// The variables a task sees, kept apart by where they came from.
///
/// Only text a person wrote (playbook and role vars, vars files, inventory `group_vars` /
/// `host_vars` files, task vars, include parameters, `-e`) is a template: it is kept as written
/// and rendered on use, once, against the other variables. Everything else (inventory fields
/// from the database, facts, registered results, `set_fact` values, variables read from a file a
/// run wrote) is data: its text is never rendered, whatever it holds, so a device or an inventory
/// field can never make the control node evaluate `{{ lookup('file', …) }}` (Ansible's "unsafe"
/// values).
///
/// Layers are applied from the lowest precedence up; a key takes the value (and the nature) of the
/// last layer that set it, except extra vars, which always win.
public struct Scope: Sendable {
    /// Every variable: data values, and authored values as written (unrendered).
    public private(set) var values: [String: Value] = [:]
    /// Keys whose value is authored text, rendered on use.
    public private(set) var authored: Set<String> = []
    /// Keys set by `-e`: nothing set later replaces them.
    private var pinned: Set<String> = []

    public init() {}

    /// Adds variables a person wrote (rendered on use).
    public mutating func add(authored layer: [String: Value]) {
        for (k, v) in layer where !pinned.contains(k) {
            values[k] = v
            authored.insert(k)
        }
    }

    /// Adds values that are data (never rendered).
    public mutating func add(data layer: [String: Value]) {
        for (k, v) in layer where !pinned.contains(k) {
            values[k] = v
            authored.remove(k)
        }
    }

    /// Adds another scope's variables above these, each keeping its nature.
    public mutating func merge(_ other: Scope) {
        for (k, v) in other.values where !pinned.contains(k) {
            values[k] = v
            if other.authored.contains(k) { authored.insert(k) } else { authored.remove(k) }
        }
        pinned.formUnion(other.pinned)
    }

    /// Adds `-e` variables: authored, and above everything else for the rest of the run.
    public mutating func add(extra layer: [String: Value]) {
        add(authored: layer)
        pinned.formUnion(layer.keys)
    }

    /// Adds launch-time variables that came through the web, the API or a relay: above everything
    /// else like `-e`, but data (AWX's `!unsafe` extra vars): never rendered, whatever they hold.
    public mutating func add(extraData layer: [String: Value]) {
        add(data: layer)
        pinned.formUnion(layer.keys)
    }

    /// The variables with every authored one rendered, each from its own text, in the order
    /// their references need; a rendered value is data from then on (never rendered twice).
    /// An authored variable that cannot be rendered is left out, and the error saying why is
    /// given when a template uses it (as Ansible, which renders variables lazily).
    public func resolved(_ engine: TemplateEngine, at location: SourceLocation?) -> Resolved {
        var out = values
        var pending: [String: Value] = [:]
        for k in authored where Self.hasMarkup(values[k]!) { pending[k] = values[k]! }
        for k in pending.keys { out.removeValue(forKey: k) }
        var failures: [String: String] = [:]
        let references = pending.mapValues { Self.identifiers(in: $0) }
        while !pending.isEmpty {
            // Those whose references to other pending variables are all settled go first.
            var ready = pending.keys.filter { k in references[k]!.subtracting([k]).isDisjoint(with: pending.keys) }
            if ready.isEmpty {
                // A cycle: each of them names another still pending.
                for k in pending.keys {
                    failures[k] = "variable '\(k)' refers to itself through \(references[k]!.intersection(pending.keys).sorted().joined(separator: ", ")); Ansible calls this a recursive loop"
                }
                break
            }
            ready.sort()
            for k in ready {
                let blocked = references[k]!.intersection(failures.keys)
                if let first = blocked.sorted().first {
                    failures[k] = failures[first]
                } else {
                    do { out[k] = try engine.evaluate(pending[k]!, vars: out, at: location) }
                    catch { failures[k] = "variable '\(k)': \(error)" }
                }
                pending.removeValue(forKey: k)
            }
        }
        return Resolved(vars: out, failures: failures)
    }

    /// The rendered variables, and why the ones left out could not be rendered.
    public struct Resolved: Sendable {
        public var vars: [String: Value]
        public var failures: [String: String]

        /// An error a template gave, told better when it comes from a variable left out.
        public func explain(_ error: any Error) -> any Error {
            let text = "\(error)"
            for (k, why) in failures.sorted(by: { $0.key < $1.key }) where text.contains("'\(k)' is undefined") {
                return PlaybookError(why)
            }
            return error
        }
    }

    static func hasMarkup(_ v: Value) -> Bool {
        switch v {
        case .string(let s): return s.contains("{{") || s.contains("{%")
        case .list(let l): return l.contains(where: hasMarkup)
        case .map(let m): return m.values.contains(where: hasMarkup)
        default: return false
        }
    }

    /// Names a template may refer to (over-approximated: every identifier inside its markup).
    static func identifiers(in v: Value) -> Set<String> {
        switch v {
        case .string(let s):
            var names = Set<String>()
            var rest = Substring(s)
            while let open = [rest.range(of: "{{"), rest.range(of: "{%")].compactMap({ $0 }).min(by: { $0.lowerBound < $1.lowerBound }) {
                let closing = rest[open] == "{{" ? "}}" : "%}"
                let end = rest[open.upperBound...].range(of: closing)
                let inner = rest[open.upperBound..<(end?.lowerBound ?? rest.endIndex)]
                for m in inner.matches(of: /[A-Za-z_][A-Za-z0-9_]*/) { names.insert(String(m.0)) }
                rest = rest[(end?.upperBound ?? rest.endIndex)...]
            }
            return names
        case .list(let l): return l.reduce(into: Set<String>()) { $0.formUnion(identifiers(in: $1)) }
        case .map(let m): return m.values.reduce(into: Set<String>()) { $0.formUnion(identifiers(in: $1)) }
        default: return []
        }
    }
}
