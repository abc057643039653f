import Foundation
import ParcCore
import Templating

/// Edits a file on the host by a pure function of its content: read, transform, push atomically
/// when it changed (with its mode and owner), with a diff and check mode — the common part of
/// lineinfile-like modules (cron, fstab, sysctl, locale.gen, sources.list.d, authorized_keys…).
enum FileEdit {
    /// A `validate` command names the new file as `%s`; without it, Ansible's own words (a rescue may test them).
    static func checkValidate(_ validate: String?) throws {
        if let validate, !validate.contains("%s") { throw ModuleFailure("validate must contain %s: \(validate)") }
    }

    /// `transform` gets the current content (nil: no file) and returns the new one (nil: remove the file).
    /// `attributesIfSame`: with the content unchanged, a mode or owner that differs is still set (and
    /// reported); off for a module whose Ansible counterpart leaves them to its own silent fix.
    static func plan(_ c: ModuleContext, path: String, mode: UInt32? = nil, owner: String? = nil, group: String? = nil, backup: Bool = false,
                     validate: String? = nil, attributesIfSame: Bool = true, transform: (String?) throws -> String?) throws -> Plan {
        try checkValidate(validate)
        var file = FileFact.parse(try c.fact(.file(path)))
        // A link: the file it points to is edited (Ansible writes to the real path), the link stays.
        var target = path
        if file.state.kind == .link {
            target = try c.fact(Fact("readlink -f -- \(shellQuote(path))", paths: [path])).stdoutText.trimmed
            guard !target.isEmpty else { throw ModuleFailure("\(path) is a link that leads nowhere (its folder is missing)") }
            file = FileFact.parse(try c.fact(.file(target)))
        }
        var before: String? = nil
        if file.state.kind == .file {
            before = file.text
        } else if file.state.kind != .absent {
            throw ModuleFailure("\(path) is not a regular file")
        }
        let after = try transform(before)
        var p = Plan(changed: after != before)
        p.result.data["path"] = .string(path)
        guard p.result.changed else {
            // The same content: the mode and owner asked for are still set (Ansible's
            // set_fs_attributes_if_different), and that is a change.
            guard attributesIfSame, after != nil, file.state.kind == .file else { return p }
            let q = shellQuote(target)
            var fixes: [String] = []
            if let mode, UInt32(file.state.mode, radix: 8) != mode { fixes.append("chmod \(String(mode, radix: 8)) -- \(q)") }
            fixes += FileModule.ownership(q, owner: owner, group: group, current: file.state, link: false)
            p.steps = fixes.map { .run($0, what: "setting the mode or owner of \(path)", touches: [target]) }
            p.result.changed = !fixes.isEmpty
            return p
        }
        if c.diff { p.result.diff = [FileDiff(path: path, before: before, after: after)] }
        if backup && before != nil {
            let (step, copy) = Self.backup(path)
            p.steps.append(step)
            p.result.data["backup_file"] = .string(copy)
        }
        guard let after else {
            p.steps.append(.run("rm -f -- \(shellQuote(target))", what: "removing \(path)", touches: [target]))
            return p
        }
        let directory = (target as NSString).deletingLastPathComponent
        if file.state.kind == .absent && !directory.isEmpty {
            p.steps.append(.run("mkdir -p -- \(shellQuote(directory))", what: "making the folder of \(path)", touches: [directory]))
        }
        let finalMode = mode ?? (file.state.kind == .file ? UInt32(file.state.mode, radix: 8) ?? 0o644 : 0o644)
        p.steps.append(.write(target, Array(after.utf8), mode: finalMode,
                              owner: owner ?? (file.state.kind == .file ? file.state.owner : nil),
                              group: group ?? (file.state.kind == .file ? file.state.group : nil), validate: validate,
                              ownerIsKept: owner == nil && group == nil))
        return p
    }

    /// `backup: yes`: a copy of the file as it was, next to it, named `FILE.STAMP~`; the step
    /// and the copy's path. (`cp -n`: an existing backup is never overwritten.)
    static func backup(_ path: String) -> (Step, String) {
        // Milliseconds: two backups of one file in one run (copy, then lineinfile) keep both.
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let copy = "\(path).\(f.string(from: Date()).replacingOccurrences(of: ":", with: ""))~"
        return (.run("cp -p -n -- \(shellQuote(path)) \(shellQuote(copy))", what: "backing up \(path)", touches: [copy]), copy)
    }

    /// Lines of a text, without the final newline's empty line.
    static func lines(_ text: String?) -> [String] {
        guard let text, !text.isEmpty else { return [] }
        var l = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if text.hasSuffix("\n") { l.removeLast() }
        return l
    }

    static func text(_ lines: [String]) -> String { lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n" }
}
