import Foundation
import Provisioning
import Templating

/// The template engine on arbitrary text, with variables of every kind, rendered as a file and
/// evaluated as a value and as a condition. Errors are fine; crashes and hangs are findings.
let engine = TemplateEngine()
let vars: [String: Value] = [
    "name": .string("École Jean Moulin"), "count": .int(16), "ratio": .double(0.5), "on": .bool(true), "none": .null,
    "items": .list([.string("a"), .int(2), .map(["k": .string("v")])]),
    "host": .map(["name": .string("lab-01"), "groups": .list([.string("kind_laptop")])]),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    // lookup() reads files and the environment on the control node: not what this explores.
    if text.contains("lookup") { return 0 }
    _ = try? engine.render(text, vars: vars)
    _ = try? engine.evaluate(.string(text), vars: vars)
    _ = try? engine.condition(text, vars: vars)
    return 0
}
