// Benchmarks (not tests): `parc-bench inventory …` (scripts/bench-inventory), `parc-bench import …`
// (scripts/bench-import) and `parc-bench ssh …` (scripts/bench-ssh); each prints its figures.
import Foundation

/// The value after `name` in `args`, else `fallback`.
func benchOption(_ args: [String], _ name: String, _ fallback: String) -> String {
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return fallback
}

let arguments = CommandLine.arguments
switch arguments.dropFirst().first {
case "ssh":
    try await runSSHBench(Array(arguments.dropFirst(2)))
case "inventory":
    try runInventoryBench(Array(arguments.dropFirst(2)))
case "import":
    try runImportBench(Array(arguments.dropFirst(2)))
case "run":
    try runPlaybookBench(Array(arguments.dropFirst(2)))
case "template":
    try runTemplateBench(Array(arguments.dropFirst(2)))
default:
    FileHandle.standardError.write(Data("usage: parc-bench inventory|import|ssh|run|template [options]\n".utf8))
    exit(64)
}
