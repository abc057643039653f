import Foundation
import ParcCore
import Provisioning
import Templating

/// `parc-bench template --template FILE --vars FILE.json [--seconds N] [--out FILE]`: how many times
/// a second parc renders a template file as the template module does (read once, cached), and
/// the same counting the reading (a template seen for the first time). Writes one rendering to
/// --out so that the script can compare it with Ansible's, byte for byte.
func runTemplateBench(_ args: [String]) throws {
    let templatePath = benchOption(args, "--template", "scripts/bench-data/school-lab.conf.j2")
    let varsPath = benchOption(args, "--vars", "scripts/bench-data/school-lab.json")
    let seconds = Double(benchOption(args, "--seconds", "3")) ?? 3
    let out = benchOption(args, "--out", "")
    let text = try String(contentsOfFile: templatePath, encoding: .utf8)
    guard case .map(let m)? = Template.json(try String(contentsOfFile: varsPath, encoding: .utf8)) else {
        throw TemplateError("\(varsPath): the variables are a JSON object")
    }
    let vars = m.dictionary
    let engine = TemplateEngine()
    let location = SourceLocation(file: templatePath, line: 1, column: 1)
    let first = try engine.render(text, vars: vars, at: location, options: .file)
    if !out.isEmpty { try first.write(toFile: out, atomically: true, encoding: .utf8) }

    func measure(_ body: () throws -> Void) rethrows -> Double {
        var count = 0
        let start = ContinuousClock.now
        let limit = Duration.milliseconds(Int(seconds * 1000))
        while ContinuousClock.now - start < limit { try body(); count += 1 }
        let elapsed = ContinuousClock.now - start
        return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
    let cached = try measure { _ = try engine.render(text, vars: vars, at: location, options: .file) }
    let cold = try measure { _ = try Template(text, options: .file).render(vars, in: .ansible()) }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
    print(String(format: "parc     template of %d lines (%d bytes out): %.0f renders/s (read once), %.0f renders/s (read each time)",
                 lines, first.utf8.count, cached, cold))
}
