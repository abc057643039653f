import Foundation
import ParcCore
import Templating

/// `lineinfile`: one line present (replacing the last line a regexp matches) or absent.
enum LineInFileModule {
    static let spec = ModuleSpec(name: "lineinfile", arguments: ["path", "dest", "line", "regexp", "state", "insertafter", "insertbefore",
                                                                 "create", "mode", "owner", "group", "backup", "backrefs", "firstmatch", "validate", "search_string"],
                                 required: []) { call in
        guard let path = call.string("path") ?? call.string("dest") else { throw ModuleFailure("lineinfile needs path") }
        var message = ""
        var r = try FileEdit.plan(call, path: path, mode: try Modules.mode(call.args["mode"]).flatMap { UInt32($0, radix: 8) },
                                         owner: call.string("owner"), group: call.string("group"), backup: call.bool("backup"),
                                         validate: call.string("validate")) { before in
            let outcome = try apply(before, args: call.args)
            message = outcome.message
            return outcome.changed ? outcome.content ?? before : before
        }
        r.result.msg = message
        if call.args["regexp"]?.string == "" {
            // Ansible's warning, in its result's `warnings`.
            r.result.data["warnings"] = .list([.string("The regular expression is an empty string, which will match every line in the file. "
                + "This may have unintended consequences, such as replacing the last line in the file rather than appending. "
                + "If this is desired, use '^' to match every line in the file and avoid this warning.")])
        }
        // As Ansible's result: `backup` is the backup's path, or empty.
        r.result.data["backup"] = r.result.data["backup_file"] ?? .string("")
        return r
    }

    /// The file's new content (pure, tested as data): `changed` false when nothing moves.
    static func apply(_ content: String?, args: [String: Value]) throws -> (content: String?, changed: Bool, message: String) {
        let state = args["state"]?.string ?? "present"
        let line = args["line"]?.description
        // search_string: a literal text found anywhere in a line, as a regexp matching only itself.
        if args["search_string"] != nil && (args["regexp"] != nil || args["backrefs"]?.truthy == true) {
            throw ModuleFailure("parameters are mutually exclusive: backrefs|search_string, regexp|search_string")
        }
        let pattern = args["regexp"]?.string ?? args["search_string"]?.string.map(NSRegularExpression.escapedPattern(for:))
        let regexp = try pattern.map { try compiled($0, "regexp") }
        guard let content else {
            if state == "absent" { return (nil, false, "file not present") }
            guard args["create"]?.truthy ?? false else {
                // Ansible's words first (rescue blocks look for them), then what to do.
                throw ModuleFailure("Destination \((args["path"] ?? args["dest"])?.description ?? "") does not exist ! (set create: yes to create it)")
            }
            guard let line else { throw ModuleFailure("line is required with state=present") }
            return (line + "\n", true, "line added")
        }
        // An empty file has no line (not one empty line).
        var lines = content.isEmpty ? [] : content.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let hadFinalNewline = content.hasSuffix("\n")
        if hadFinalNewline { lines.removeLast() }
        func matches(_ re: NSRegularExpression, _ s: String) -> Bool {
            re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
        }
        func result(_ message: String) -> (String?, Bool, String) {
            let text = lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
            return (text, text != content, message)
        }
        if state == "absent" {
            guard regexp != nil || line != nil else { throw ModuleFailure("state=absent needs regexp or line") }
            let before = lines.count
            lines.removeAll { l in regexp.map { matches($0, l) } ?? (l == line) }
            return lines.count == before ? (content, false, "") : result("\(before - lines.count) line(s) removed")
        }
        guard let line else { throw ModuleFailure("line is required with state=present") }
        let firstMatch = args["firstmatch"]?.truthy ?? false
        if args["backrefs"]?.truthy ?? false {
            // As Ansible: the matched line becomes `line` with \1… filled from the match; no
            // match leaves the file as it is.
            guard let regexp else { throw ModuleFailure("regexp is required with backrefs=true") }
            guard let index = firstMatch ? lines.firstIndex(where: { matches(regexp, $0) }) : lines.lastIndex(where: { matches(regexp, $0) }) else {
                return (content, false, "")
            }
            let old = lines[index]
            let match = regexp.firstMatch(in: old, range: NSRange(old.startIndex..., in: old))!
            let expanded = regexp.replacementString(for: match, in: old, offset: 0, template: nsTemplate(line))
            if expanded == old { return (content, false, "") }
            lines[index] = expanded
            return result("line replaced")
        }
        if let regexp, let index = firstMatch ? lines.firstIndex(where: { matches(regexp, $0) }) : lines.lastIndex(where: { matches(regexp, $0) }) {
            if lines[index] == line { return (content, false, "") }
            lines[index] = line
            return result("line replaced")
        }
        if lines.contains(line) { return (content, false, "") }
        if let after = args["insertafter"]?.string, after != "EOF" {
            let re = try compiled(after, "insertafter")
            if let index = lines.lastIndex(where: { matches(re, $0) }) { lines.insert(line, at: index + 1); return result("line added") }
        } else if let before = args["insertbefore"]?.string {
            if before == "BOF" { lines.insert(line, at: 0); return result("line added") }
            let re = try compiled(before, "insertbefore")
            if let index = lines.lastIndex(where: { matches(re, $0) }) { lines.insert(line, at: index); return result("line added") }
        }
        lines.append(line)
        return result("line added")
    }

    /// A pattern of the task, compiled; an empty one matches every line (as Python's `re`); a bad
    /// one is named with its argument.
    static func compiled(_ pattern: String, _ argument: String) throws -> NSRegularExpression {
        do { return try NSRegularExpression(pattern: pattern.isEmpty ? "(?:)" : pattern) } catch {
            throw ModuleFailure("\(argument): '\(pattern)' is not a valid regular expression")
        }
    }

    /// Python's `\1` / `\g<1>` replacement syntax as NSRegularExpression's `$1`.
    static func nsTemplate(_ python: String) -> String {
        var out = ""
        var chars = Array(python)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "$" { out += "\\$"; continue }
            guard c == "\\", let next = chars.first else { out.append(c); continue }
            if next.isNumber { out += "$" + String(next); chars = chars.dropFirst(); continue }
            if next == "g", chars.dropFirst().first == "<", let close = chars.firstIndex(of: ">") {
                out += "${" + String(chars[chars.index(chars.startIndex, offsetBy: 2)..<close]) + "}"
                chars = chars[chars.index(after: close)...]
                continue
            }
            if next == "\\" { out += "\\\\"; chars = chars.dropFirst(); continue }
            out.append(c)
        }
        return out
    }
}
