import Foundation
import Provisioning
import Templating

/// The playbook loader on arbitrary text: YAML (anchors and aliases included), plays, tasks,
/// modules and their arguments, templates checked at load. Errors are fine; crashes, hangs and
/// runaway memory are findings.
let path = FileManager.default.temporaryDirectory.appendingPathComponent("parc-fuzz-playbook-\(getpid()).yml").path

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    guard FileManager.default.createFile(atPath: path, contents: bytes) else { return 0 }
    _ = try? PlaybookLoader.load(path)
    return 0
}
