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
        // Ansible's warning for a pattern that matches every line.
        if let empty = call.args["regexp"]?.string == "" ? "regular expression" : call.args["search_string"]?.string == "" ? "search string" : nil {
            r.result.warnings.append("The \(empty) is an empty string, which will match every line in the file. "
                + "This may have unintended consequences, such as replacing the last line in the file rather than appending."
                + (empty == "regular expression" ? " If this is desired, use '^' to match every line in the file and avoid this warning." : ""))
        }
        // As Ansible's result: `backup` is the backup's path, or empty.
        r.result.data["backup"] = r.result.data["backup_file"] ?? .string("")
        return r
    }

    /// The file's new content (pure, tested as data): `changed` false when nothing moves.
    static func apply(_ content: String?, args: [String: Value]) throws -> (content: String?, changed: Bool, message: String) {
        let state = args["state"]?.string ?? "present"
        let line = args["line"]?.description
        // search_string: a literal text found anywhere in a line.
        if args["search_string"] != nil && (args["regexp"] != nil || args["backrefs"]?.truthy == true) {
            throw ModuleFailure("parameters are mutually exclusive: backrefs|search_string, regexp|search_string")
        }
        let regexp = try args["regexp"]?.string.map { try compiled($0, "regexp") }
        guard let content else {
            if state == "absent" { return (nil, false, "file not present") }
            guard args["create"]?.truthy ?? false else {
                // Ansible's words first (rescue blocks look for them), then what to do.
                throw ModuleFailure("Destination \((args["path"] ?? args["dest"])?.description ?? "") does not exist ! (set create: yes to create it)")
            }
            guard let line else { throw ModuleFailure("line is required with state=present") }
            return (line + "\n", true, "line added")
        }
        // The lines as Python's readlines gives them, each with its ending (the last may have none).
        var lines: [String] = []
        var current = ""
        for ch in content.unicodeScalars {
            current.unicodeScalars.append(ch)
            if ch == "\n" { lines.append(current); current = "" }
        }
        if !current.isEmpty { lines.append(current) }
        func bare(_ l: String) -> String {
            var t = Substring(l)
            while let last = t.unicodeScalars.last, last == "\n" || last == "\r" { t = Substring(t.unicodeScalars.dropLast()) }
            return String(t)
        }
        func matches(_ re: NSRegularExpression, _ s: String) -> Bool {
            re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
        }
        func result(_ changed: Bool, _ message: String) -> (String?, Bool, String) {
            changed ? (lines.joined(), true, message) : (content, false, message)
        }
        let search = args["search_string"]?.string
        if state == "absent" {
            guard regexp != nil || search != nil || line != nil else { throw ModuleFailure("one of the following is required: line, regexp, search_string") }
            let before = lines.count
            lines.removeAll { l in regexp.map { matches($0, l) } ?? search.map { $0.isEmpty || l.contains($0) } ?? (bare(l) == line) }
            let removed = before - lines.count
            return result(removed > 0, "\(removed) line(s) removed")
        }
        guard let line else { throw ModuleFailure("line is required with state=present") }
        // Ansible's present(), step by step: the pattern's match (the last, or the first with
        // firstmatch); else the line itself and where insertafter / insertbefore point.
        let firstMatch = args["firstmatch"]?.truthy ?? false
        let backrefs = args["backrefs"]?.truthy ?? false
        let after = args["insertafter"]?.string, beforeArg = args["insertbefore"]?.string
        let insertPattern: NSRegularExpression?
        if let after, after != "BOF", after != "EOF" { insertPattern = try compiled(after, "insertafter") }
        else if let beforeArg, beforeArg != "BOF" { insertPattern = try compiled(beforeArg, "insertbefore") }
        else { insertPattern = nil }
        var found = -1, insertAt = -1
        var match: NSTextCheckingResult?
        var matchedLine = ""
        var searched = false
        if regexp != nil || search != nil {
            for (n, l) in lines.enumerated() {
                if let regexp, let m = regexp.firstMatch(in: l, range: NSRange(l.startIndex..., in: l)) {
                    found = n; match = m; matchedLine = l; searched = true
                    if firstMatch { break }
                } else if regexp == nil, let search, search.isEmpty || l.contains(search) {
                    found = n; matchedLine = l; searched = true
                    if firstMatch { break }
                }
            }
        }
        if !searched {
            for (n, l) in lines.enumerated() {
                if bare(l) == line {
                    found = n
                } else if let insertPattern, matches(insertPattern, l) {
                    if after != nil { insertAt = n + 1; if firstMatch { break } }
                    if beforeArg != nil { insertAt = n; if firstMatch { break } }
                }
            }
        }
        if found != -1 {
            var newLine = line
            if backrefs, let match {
                newLine = regexp!.replacementString(for: match, in: matchedLine, offset: 0, template: nsTemplate(line))
            }
            if !newLine.hasSuffix("\n") { newLine += "\n" }
            guard lines[found] != newLine else { return result(false, "") }
            lines[found] = newLine
            return result(true, "line replaced")
        }
        if backrefs { return result(false, "") }
        if beforeArg == "BOF" || after == "BOF" {
            lines.insert(line + "\n", at: 0)
            return result(true, "line added")
        }
        if after == "EOF" || insertAt == -1 {
            if let last = lines.last, !last.hasSuffix("\n"), !last.hasSuffix("\r") { lines.append("\n") }
            lines.append(line + "\n")
            return result(true, "line added")
        }
        if after != nil {
            if lines.count == insertAt {
                guard bare(lines[insertAt - 1]) != line else { return result(false, "") }
                lines.append(line + "\n")
            } else {
                guard line != bare(lines[insertAt]) else { return result(false, "") }
                lines.insert(line + "\n", at: insertAt)
            }
            return result(true, "line added")
        }
        lines.insert(line + "\n", at: insertAt)
        return result(true, "line added")
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
