import Foundation
import ParcCore
import Testing

@Suite struct JSONValueTests {
    @Test("one-line JSON escapes quotes, backslashes and control characters, keeps other text (accents, emoji) as UTF-8, and reads back the same")
    func compactRoundTrips() throws {
        let tricky = "Salle \"CM1\" \\ école 🎒\n\t\u{1}\u{1F}\u{7F}\u{2028}"
        let value = JSONValue.object([("a", .string(tricky)), ("n", .int(-42)), ("b", .bool(true)), ("z", .null),
                                      ("list", .array([.string("x"), .array([]), .object([])]))])
        let text = value.serialized(indent: nil)
        #expect(text == #"{"a":"Salle \"CM1\" \\ école 🎒\n\t\u0001\u001f"# + "\u{7F}\u{2028}" + #"","n":-42,"b":true,"z":null,"list":["x",[],{}]}"#)
        #expect(Array(text.utf8) == value.compact())
        let back = try JSONSerialization.jsonObject(with: Data(value.compact())) as! [String: Any]
        #expect(back["a"] as? String == tricky && back["n"] as? Int == -42)
        // The indented form (the CLI's) reads back the same too.
        let indented = try JSONSerialization.jsonObject(with: Data(value.serialized().utf8)) as! [String: Any]
        #expect(indented["a"] as? String == tricky)
    }
}
