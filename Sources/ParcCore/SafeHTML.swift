import Foundation

/// Markup that is safe to write. Its literal parts are the page's own tags; every value put in
/// it — `"<a href=\"/materiels/\(serial)\">"` — is escaped, unless it is itself `SafeHTML`.
/// Escaping is the default, not each caller's duty: a value cannot be written unescaped by
/// forgetting something.
public struct SafeHTML: ExpressibleByStringInterpolation, Sendable, Equatable {
    public private(set) var markup: String

    public init(stringLiteral value: String) { markup = value }
    public init(stringInterpolation: Interpolation) { markup = stringInterpolation.markup }

    /// Markup made by a writer (a page's body, a rendered report), whole.
    public init(written markup: String) { self.markup = markup }

    public struct Interpolation: StringInterpolationProtocol {
        var markup = ""
        public init(literalCapacity: Int, interpolationCount: Int) { markup.reserveCapacity(literalCapacity + interpolationCount * 8) }
        public mutating func appendLiteral(_ literal: String) { markup += literal }
        public mutating func appendInterpolation(_ html: SafeHTML) { markup += html.markup }
        public mutating func appendInterpolation(_ n: Int) { markup += String(n) }
        public mutating func appendInterpolation<T>(_ value: T) { markup += HTMLText.escape(String(describing: value)) }
    }

    public static func + (a: SafeHTML, b: SafeHTML) -> SafeHTML { SafeHTML(written: a.markup + b.markup) }
    public static func += (a: inout SafeHTML, b: SafeHTML) { a.markup += b.markup }
}

extension Sequence where Element == SafeHTML {
    public func joined(separator: SafeHTML = "") -> SafeHTML { SafeHTML(written: map(\.markup).joined(separator: separator.markup)) }
}

