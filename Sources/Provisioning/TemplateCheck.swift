import Foundation
import ParcCore
import Templating

/// Before anything runs: every template a playbook holds — task arguments, names, vars,
/// conditions, loops, and the template files it names plainly — is read by the engine, so a
/// syntax error or an unknown filter is reported with its place before the first host is touched.
enum TemplateCheck {
    static func check(_ plays: [Play], directory: String, engine: TemplateEngine = TemplateEngine()) throws {
        for play in plays {
            for (_, v) in play.vars { try walk(v, engine, at: play.location) }
            for t in play.tasks + play.handlers { try check(t, directory: directory, engine: engine) }
        }
    }

    static func walk(_ v: Value, _ engine: TemplateEngine, at location: SourceLocation) throws {
        switch v {
        case .string(let s): try engine.check(s, at: location)
        case .list(let l): for x in l { try walk(x, engine, at: location) }
        case .map(let m): for x in m.values { try walk(x, engine, at: location) }
        default: break
        }
    }

    static func check(_ t: TaskSpec, directory: String, engine: TemplateEngine) throws {
        for c in t.when + t.changedWhen + t.failedWhen { try engine.checkCondition(c, at: t.location) }
        if t.module == "assert" || t.module == "wait_until" {
            for c in (t.args["that"].map { $0.list ?? [$0] } ?? []) { if let s = c.string { try engine.checkCondition(s, at: t.location) } }
        }
        try engine.check(t.name, at: t.location)
        for late in [t.moduleTemplate, t.lateArgs].compactMap({ $0 }) { try engine.check(late, at: t.location) }
        for (k, v) in t.args where !(t.module == "assert" && k == "that") { try walk(v, engine, at: t.location) }
        for v in t.vars.values { try walk(v, engine, at: t.location) }
        for v in t.environment.values { try walk(v, engine, at: t.location) }
        if let loop = t.loop { try walk(loop, engine, at: t.location) }
        if let label = t.loopLabel { try engine.check(label, at: t.location) }
        // A template file named plainly is read too (one named by a variable is read when rendered).
        if t.module == "template", let src = t.args["src"]?.string, !src.contains("{{"),
           let path = try? CopyModule.localFile(src, in: t.directory.map { [$0, directory] } ?? [directory], folder: "templates"),
           let data = FileManager.default.contents(atPath: path) {
            let options = try CopyModule.templateOptions(t.args)
            try engine.check(String(decoding: data, as: UTF8.self), options: options, at: SourceLocation(file: path, line: 1, column: 1))
        }
        for child in t.block + t.rescue + t.always { try check(child, directory: directory, engine: engine) }
    }
}
