import Foundation
import ParcCore
import Templating

/// `copy` (from `files/` or `content`) and `template` (from `templates/`, rendered): the file is
/// pushed only when its content differs, atomically, with its mode and owner.
enum CopyModule {
    static let copy = ModuleSpec(name: "copy", arguments: ["src", "content", "dest", "mode", "owner", "group", "backup", "force", "validate", "follow"],
                                 required: ["dest"], takesFreeForm: false) { call in
        let bytes: [UInt8]
        var dest = call.string("dest")!
        if let content = call.args["content"] {
            bytes = Array(content.description.utf8)
        } else if let src = call.string("src") {
            let path = try localFile(src, in: call.playbookDirectory, folder: "files")
            bytes = Array(FileManager.default.contents(atPath: path) ?? Data())
            if dest.hasSuffix("/") { dest += (src as NSString).lastPathComponent }
        } else {
            throw ModuleFailure("copy needs src (a file in files/) or content")
        }
        return try await push(bytes, to: dest, call)
    }

    static let template = ModuleSpec(name: "template", arguments: ["src", "dest", "mode", "owner", "group", "backup", "force", "validate", "follow",
                                                                   "trim_blocks", "lstrip_blocks", "newline_sequence", "variable_start_string",
                                                                   "variable_end_string", "block_start_string", "block_end_string",
                                                                   "comment_start_string", "comment_end_string", "output_encoding"],
                                     required: ["src", "dest"], takesFreeForm: false) { call in
        let src = call.string("src")!
        let path = try localFile(src, in: call.playbookDirectory, folder: "templates")
        let text = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        var vars = call.vars
        // Ansible's default ansible_managed text, unless the inventory or the play set one.
        if vars["ansible_managed"] == nil { vars["ansible_managed"] = .string("Ansible managed") }
        vars["template_path"] = .string(path)
        vars["template_fullpath"] = .string(path)
        vars["template_destpath"] = .string(call.string("dest")!)
        vars["template_host"] = .string(ProcessInfo.processInfo.hostName)
        vars["template_run_date"] = .string(ISO8601DateFormatter().string(from: Date()))
        var rendered = try call.templates.render(text, vars: vars, at: SourceLocation(file: path, line: 1, column: 1), options: try templateOptions(call.args))
        if let newline = call.string("newline_sequence"), newline != "\n" {
            let sequence = ["\\r\\n": "\r\n", "\\r": "\r", "\\n": "\n"][newline] ?? newline
            rendered = rendered.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: sequence)
        }
        if let encoding = call.string("output_encoding"), !["utf-8", "utf8"].contains(encoding.lowercased()) {
            throw ModuleFailure("output_encoding: parc writes utf-8 only, not \(encoding)")
        }
        return try await push(Array(rendered.utf8), to: call.string("dest")!, call)
    }

    /// The template module's Jinja options (Ansible's defaults: trim_blocks on, lstrip_blocks off).
    static func templateOptions(_ args: [String: Value]) throws -> TemplateOptions {
        var o = TemplateOptions.file
        o.trimBlocks = args["trim_blocks"]?.truthy ?? true
        o.lstripBlocks = args["lstrip_blocks"]?.truthy ?? false
        if let v = args["variable_start_string"]?.string { o.variableStart = v }
        if let v = args["variable_end_string"]?.string { o.variableEnd = v }
        if let v = args["block_start_string"]?.string { o.blockStart = v }
        if let v = args["block_end_string"]?.string { o.blockEnd = v }
        if let v = args["comment_start_string"]?.string { o.commentStart = v }
        if let v = args["comment_end_string"]?.string { o.commentEnd = v }
        return o
    }

    /// `src` as Ansible finds it: under the playbook's `files/` (or `templates/`), else next to it.
    static func localFile(_ src: String, in directory: String, folder: String) throws -> String {
        let candidates = src.hasPrefix("/") ? [src] : ["\(directory)/\(folder)/\(src)", "\(directory)/\(src)"]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw ModuleFailure("cannot find \(src) (looked in \(candidates.joined(separator: ", ")))")
        }
        return found
    }

    /// `validate: visudo -cf %s`: the new content goes to a temporary file next to `dest` and the
    /// command checks it there; on failure `dest` is left as it was.
    static func check(_ bytes: [UInt8], for dest: String, with validate: String, _ call: ModuleCall) async throws {
        guard validate.contains("%s") else { throw ModuleFailure("validate must contain %s (the file to check), as in 'visudo -cf %s'") }
        let directory = (dest as NSString).deletingLastPathComponent
        let temp = "\(directory.isEmpty ? "." : directory)/.parc-validate-\(UUID().uuidString.prefix(8))"
        try await call.transport.upload(bytes, to: temp, mode: 0o600, owner: nil, group: nil, become: call.become)
        let command = validate.replacingOccurrences(of: "%s", with: shellQuote(temp))
        let result = try await call.run("\(command); status=$?; rm -f -- \(shellQuote(temp)); exit $status")
        guard result.succeeded else {
            let why = (result.stderrText + result.stdoutText).trimmed
            throw ModuleFailure("validation of \(dest) failed (\(validate)): \(why.isEmpty ? "status \(result.exitStatus)" : why); the file was not changed")
        }
    }

    static func push(_ bytes: [UInt8], to path: String, _ call: ModuleCall) async throws -> ModuleResult {
        var dest = path
        // follow: a link's target is written, not the link replaced by a file.
        if call.bool("follow") {
            let target = try await call.must("if [ -L \(shellQuote(path)) ]; then readlink -f -- \(shellQuote(path)); fi", what: "following \(path)").stdoutText.trimmed
            if !target.isEmpty { dest = target }
        }
        let d = shellQuote(dest)
        let probe = try await call.must("if [ -d \(d) ]; then echo directory; elif [ -e \(d) ]; then sha256sum -- \(d) | cut -d' ' -f1; stat -c '%a|%U|%G' -- \(d); else echo absent; fi",
                                        what: "checking \(dest)").stdoutText.split(separator: "\n").map(String.init)
        if probe.first == "directory" { throw ModuleFailure("\(dest) is a directory; give the file's full path") }
        let exists = probe.first != "absent"
        let sameContent = exists && probe.first == SHA256.hex(bytes)
        let f = exists && probe.count > 1 ? probe[1].split(separator: "|").map(String.init) : []
        let mode = try Modules.mode(call.args["mode"], current: f.first)
        let owner = call.string("owner"), group = call.string("group")
        var r = ModuleResult()
        r.data["dest"] = .string(dest)
        r.data["checksum"] = .string(SHA256.hex(bytes))
        if sameContent {
            var fixes: [String] = []
            if let mode, f.first != mode { fixes.append("chmod \(mode) -- \(d)") }
            let current = PathState(kind: .file, mode: f.first ?? "", owner: f.count > 1 ? f[1] : "", group: f.count > 2 ? f[2] : "")
            fixes += FileModule.ownership(d, owner: owner, group: group, current: current, link: false)
            if !fixes.isEmpty {
                r.changed = true
                if !call.check { for c in fixes { try await call.must(c, what: "setting the mode or owner of \(dest)") } }
            }
            return r
        }
        r.changed = true
        if exists && !(call.args["force"]?.truthy ?? true) { r.changed = false; return r }
        if call.diff {
            var before: String? = nil
            if exists, let text = try? await call.transport.download(dest, become: call.become), text.count < 256 * 1024 {
                before = String(validating: text, as: UTF8.self)
            }
            r.diff = [FileDiff(path: dest, before: before, after: bytes.count < 256 * 1024 ? String(validating: bytes, as: UTF8.self) : nil)]
        }
        if call.check { return r }
        if let validate = call.string("validate") { try await check(bytes, for: dest, with: validate, call) }
        if exists && call.bool("backup") { r.data["backup_file"] = .string(try await FileEdit.backup(dest, call)) }
        let finalMode = mode.flatMap { UInt32($0, radix: 8) } ?? (f.first.flatMap { UInt32($0, radix: 8) } ?? 0o644)
        try await call.transport.upload(bytes, to: dest, mode: finalMode, owner: owner ?? (exists && f.count > 1 ? f[1] : nil),
                                        group: group ?? (exists && f.count > 2 ? f[2] : nil), become: call.become)
        return r
    }
}
