import Foundation

/// An Ansible-style host pattern: terms separated by `:` or `,`; a plain term adds hosts (union),
/// `&term` keeps only hosts also in it (intersection), `!term` removes its hosts (exclusion).
/// A term is a group name, a host name, or either with `*` / `?` wildcards.
public struct HostPattern: Sendable, Equatable, CustomStringConvertible {
    public enum Operation: Sendable, Equatable { case union, intersection, exclusion }

    public struct Term: Sendable, Equatable {
        public var operation: Operation
        public var name: String
    }

    public var terms: [Term]

    /// Parses `commune_norroy_le_veneur:&kind_laptop:!lab-03`.
    public init(_ text: String) throws(InvalidValue) {
        var terms: [Term] = []
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ":" || $0 == "," }) {
            var word = String(raw).trimmed
            var operation = Operation.union
            if word.hasPrefix("&") { operation = .intersection; word.removeFirst() }
            else if word.hasPrefix("!") { operation = .exclusion; word.removeFirst() }
            word = word.trimmed
            guard !word.isEmpty else {
                throw InvalidValue(field: "pattern", value: text, problem: "a pattern term is empty; write e.g. school_0572113m:&kind_laptop:!lab-03")
            }
            terms.append(Term(operation: operation, name: word))
        }
        guard !terms.isEmpty else {
            throw InvalidValue(field: "pattern", value: text, problem: "give a group or host name, or `all`")
        }
        if !terms.contains(where: { $0.operation == .union }) {
            // "!lab-03" alone means "all but lab-03", as in Ansible.
            terms.insert(Term(operation: .union, name: "all"), at: 0)
        }
        self.terms = terms
    }

    public var description: String {
        terms.map { ($0.operation == .intersection ? "&" : $0.operation == .exclusion ? "!" : "") + $0.name }.joined(separator: ":")
    }

    /// The hosts the pattern selects, given what each term names (`resolve` throws for a term that
    /// names nothing). Unions first, then intersections, then exclusions, as Ansible does.
    public func evaluate<ID: Hashable>(_ resolve: (String) throws -> Set<ID>) rethrows -> Set<ID> {
        var selected = Set<ID>()
        for t in terms where t.operation == .union { selected.formUnion(try resolve(t.name)) }
        for t in terms where t.operation == .intersection { selected.formIntersection(try resolve(t.name)) }
        for t in terms where t.operation == .exclusion { selected.subtract(try resolve(t.name)) }
        return selected
    }
}

/// Group names as playbooks see them: lower-case letters, digits and underscores.
public enum GroupName {
    /// `Norroy-le-Veneur` → `norroy_le_veneur`.
    public static func part(_ text: String) -> String {
        slugify(text).replacingOccurrences(of: "-", with: "_")
    }

    /// Whether a wildcard pattern (`*`, `?`) matches a name, case-insensitively.
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern.lowercased()), n = Array(name.lowercased())
        var memo: [Int: Bool] = [:]
        func match(_ i: Int, _ j: Int) -> Bool {
            if let v = memo[i * (n.count + 1) + j] { return v }
            let result: Bool
            if i == p.count { result = j == n.count }
            else if p[i] == "*" { result = match(i + 1, j) || (j < n.count && match(i, j + 1)) }
            else { result = j < n.count && (p[i] == "?" || p[i] == n[j]) && match(i + 1, j + 1) }
            memo[i * (n.count + 1) + j] = result
            return result
        }
        return match(0, 0)
    }
}
