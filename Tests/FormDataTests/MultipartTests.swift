import Foundation
import Testing
@testable import FormData

@Suite struct MultipartTests {
    static func body(_ boundary: String, _ parts: [(String, String?, String)]) -> [UInt8] {
        var s = "preamble to ignore\r\n"
        for (name, filename, content) in parts {
            s += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"" + (filename.map { "; filename=\"\($0)\"" } ?? "") + "\r\n"
            s += "Content-Type: text/plain\r\n\r\n\(content)\r\n"
        }
        return Array((s + "--\(boundary)--\r\n").utf8)
    }

    @Test func partsAreReadWithTheirNamesFilesAndBytes() throws {
        let b = "----parcBoundary7MA4YWxk"
        let csv = "serial;kind\r\nNLV-1;laptop\r\n--not-a-boundary\r\n"
        let parts = try #require(Multipart.parse(Self.body(b, [("csrf", nil, "abc"), ("fichier", "bl.csv", csv)]), contentType: "multipart/form-data; boundary=\(b)"))
        #expect(parts.map(\.name) == ["csrf", "fichier"])
        #expect(parts[1].filename == "bl.csv" && String(decoding: parts[1].body, as: UTF8.self) == csv)
        // Quoted boundary, upper-case parameter name.
        #expect(Multipart.parse(Self.body(b, [("a", nil, "1")]), contentType: "multipart/form-data; BOUNDARY=\"\(b)\"")?.first?.body == Array("1".utf8))
    }

    @Test func malformedBodiesGiveNothingRatherThanAPartialRead() {
        let b = "xyz"
        let good = Self.body(b, [("a", nil, "1")])
        #expect(Multipart.parse(Array(good.dropLast(10)), contentType: "multipart/form-data; boundary=xyz") == nil, "no close delimiter")
        #expect(Multipart.parse(good, contentType: "multipart/form-data") == nil, "no boundary")
        #expect(Multipart.parse(good, contentType: "text/plain; boundary=xyz") == nil)
        #expect(Multipart.parse(Array("--xyz\r\nContent-Disposition: form-data\r\n\r\nx\r\n--xyz--".utf8), contentType: "multipart/form-data; boundary=xyz") == nil,
                "a part without a name")
    }

    @Test func boundariesLongerThanRFC2046AllowsAreRefused() {
        #expect(Multipart.boundary(of: "multipart/form-data; boundary=" + String(repeating: "a", count: 70)) != nil)
        #expect(Multipart.boundary(of: "multipart/form-data; boundary=" + String(repeating: "a", count: 71)) == nil)
        #expect(Multipart.boundary(of: "multipart/form-data; boundary=a\u{7}b") == nil)
        #expect(Multipart.boundary(of: "multipart/form-data; boundary=") == nil)
    }

    /// The attack that took 95 s of CPU: a body of dashes against a boundary of dashes. Linear
    /// search keeps it far under a second; the bounds are generous for a machine busy with the
    /// whole suite (a debug build on 2 cores), and still far under the quadratic search's time.
    @Test func aBodyOfDashesCostsLinearTime() {
        let dashes = [UInt8](repeating: 45, count: 500_000)
        let clock = ContinuousClock()
        let long = clock.measure { _ = Multipart.parse(dashes, contentType: "multipart/form-data; boundary=" + String(repeating: "-", count: 1000)) }
        let longest = clock.measure {
            for _ in 0..<3 { _ = Multipart.parse(dashes, contentType: "multipart/form-data; boundary=" + String(repeating: "-", count: 70)) }
            _ = Multipart.parse(dashes + Array("\r\n".utf8) + dashes, contentType: "multipart/form-data; boundary=" + String(repeating: "-", count: 69) + "x")
        }
        #expect(long < .seconds(5) && longest < .seconds(15), "\(long) \(longest)")
        // The same, counted in comparisons: the search never goes back over the text.
        let found = Multipart.occurrences(of: Array(String(repeating: "-", count: 70).utf8) + [120], in: dashes, limit: 10)
        #expect(found.isEmpty)
    }
}
