import Foundation
import ParcCore
import Templating

/// Edits a file on the host by a pure function of its content: read, transform, push atomically
/// when it changed (with its mode and owner), with a diff and check mode — the common part of
/// lineinfile-like modules (cron, fstab, sysctl, locale.gen, sources.list.d, authorized_keys…).
enum FileEdit {
    /// `transform` gets the current content (nil: no file) and returns the new one (nil: remove the file).
    static func apply(_ call: ModuleCall, path: String, mode: UInt32? = nil, owner: String? = nil, group: String? = nil, backup: Bool = false,
                      transform: (String?) throws -> String?) async throws -> ModuleResult {
        let state = PathState.parse(try await call.must(PathState.command(path), what: "stat \(path)").stdoutText)
        var before: String? = nil
        if state.kind == .file {
            before = String(decoding: try await call.transport.download(path, become: call.become), as: UTF8.self)
        } else if state.kind != .absent {
            throw ModuleFailure("\(path) is not a regular file")
        }
        let after = try transform(before)
        var r = ModuleResult(changed: after != before)
        r.data["path"] = .string(path)
        guard r.changed else { return r }
        if call.diff { r.diff = [FileDiff(path: path, before: before, after: after)] }
        if call.check { return r }
        if backup && before != nil { r.data["backup_file"] = .string(try await Self.backup(path, call)) }
        guard let after else {
            try await call.must("rm -f -- \(shellQuote(path))", what: "removing \(path)")
            return r
        }
        try await call.must("mkdir -p -- \(shellQuote((path as NSString).deletingLastPathComponent))", what: "making the folder of \(path)")
        let finalMode = mode ?? (state.kind == .file ? UInt32(state.mode, radix: 8) ?? 0o644 : 0o644)
        try await call.transport.upload(Array(after.utf8), to: path, mode: finalMode,
                                        owner: owner ?? (state.kind == .file ? state.owner : nil),
                                        group: group ?? (state.kind == .file ? state.group : nil), become: call.become)
        return r
    }

    /// `backup: yes`: a copy of the file as it was, next to it, named `FILE.STAMP~`; its path.
    /// (`cp -n`: an existing backup is never overwritten.)
    static func backup(_ path: String, _ call: ModuleCall) async throws -> String {
        // Milliseconds: two backups of one file in one run (copy, then lineinfile) keep both.
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let copy = "\(path).\(f.string(from: Date()).replacingOccurrences(of: ":", with: ""))~"
        try await call.must("cp -p -n -- \(shellQuote(path)) \(shellQuote(copy))", what: "backing up \(path)")
        return copy
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
