import Foundation
import ParcCore
import Templating

/// `copy` (from `files/` or `content`) and `template` (from `templates/`, rendered): the file is
/// pushed only when its content differs, atomically, with its mode and owner.
enum CopyModule {
    /// `mode: preserve`: the source's own mode on the control node, as Ansible's copy and template.
    static func preservedMode(_ source: String) throws -> Value {
        guard let permissions = (try? FileManager.default.attributesOfItem(atPath: source))?[.posixPermissions] as? Int else {
            throw ModuleFailure("mode preserve: cannot read the mode of \(source)")
        }
        return .string("0" + String(permissions & 0o7777, radix: 8))
    }

    static let copy = ModuleSpec(name: "copy", arguments: ["src", "content", "dest", "mode", "owner", "group", "backup", "force", "validate", "follow",
                                                          "remote_src", "decrypt", "directory_mode", "local_follow"]) { given in
        var call = given
        // dest is checked with src and content below, as Ansible's action checks it (not as a
        // module's required argument: "dest is required").
        var dest = call.string("dest") ?? ""
        let src = call.string("src")
        // Ansible's action checks, in its order and words.
        let content = call.args["content"].flatMap { $0 == .null ? nil : $0 }
        if (src ?? "").isEmpty && content == nil { throw ModuleFailure("src (or content) is required") }
        if dest.isEmpty { throw ModuleFailure("dest is required") }
        if !(src ?? "").isEmpty && content != nil { throw ModuleFailure("src and content are mutually exclusive") }
        if content != nil && dest.hasSuffix("/") { throw ModuleFailure("can not use content with a dir as dest") }
        if call.args["content"] == nil, !call.bool("remote_src"), let src, let folder = try localFolder(src, in: call.searchDirectories) {
            return try copyTree(folder, src: src, to: dest, call)
        }
        if call.bool("remote_src"), let src, call.args["content"] == nil {
            // What src is on the device (asked with the destination's checksum, which a file needs next).
            let q = shellQuote(src)
            let kind = try call.facts([Fact("if [ -d \(q) ]; then echo directory; elif [ -f \(q) ]; then echo file; elif [ -e \(q) ]; then echo other; else echo absent; fi",
                                            paths: [src]), .checksum(dest.hasSuffix("/") ? dest + (src as NSString).lastPathComponent : dest)])[0].stdoutText.trimmed
            switch kind {
            case "directory": return try remoteTree(src: src, dest: dest, call)
            case "absent": throw ModuleFailure("Source \(src) not found")
            case "other": throw ModuleFailure("Cannot copy invalid source '\(src)': not a file")
            default: break
            }
        }
        // `dest/`: into that folder under the source's name, the folder made when it is not there
        // (as Ansible's module makes it, with directory_mode).
        let intoFolder = call.args["content"] == nil && src != nil && dest.hasSuffix("/")
        if intoFolder, let src { dest += (src as NSString).lastPathComponent }
        let target = try destination(dest, call)
        func makingTheFolder(_ plan: Plan) throws -> Plan {
            guard intoFolder, target.probe.first == "absent", !plan.steps.isEmpty else { return plan }
            var p = plan
            let folder = (target.path as NSString).deletingLastPathComponent
            // file's state=directory: every folder made on the way gets directory_mode (as Ansible's
            // adjust_recursive_directory_permissions), those already there are left alone.
            let made = try FileModule.plan(path: folder, args: ["state": .string("directory"), "mode": call.args["directory_mode"] ?? .null],
                                           current: PathState(kind: .absent))
            p.steps.insert(.run("[ -d \(shellQuote(folder)) ] || { \(made.joined(separator: " && ")); }", what: "making the folder \(folder)",
                                touches: [folder]), at: 0)
            return p
        }
        let bytes: [UInt8]
        if call.bool("remote_src"), let src {
            // remote_src: a file already on the device, read there and written as any other
            // (atomically, with its mode and owner); a folder is `remoteTree`'s.
            let limit = 64 << 20
            let q = shellQuote(src)
            let read = try call.fact(Fact("if [ -f \(q) ]; then head -c \(limit + 1) -- \(q); else echo 'not a regular file' >&2; exit 3; fi", paths: [src]))
            guard read.succeeded else { throw ModuleFailure("remote_src: \(src) is not a regular file on the device (parc copies single files this way)") }
            guard read.stdout.count <= limit else { throw ModuleFailure("remote_src: \(src) is larger than \(limit >> 20) MiB; copy it with a command") }
            bytes = read.stdout
            // Without a mode (or with `preserve`), the copy keeps the source's (as Ansible's remote_src does).
            if call.args["mode"] == nil || call.string("mode") == "preserve" {
                let mode = try call.fact(Fact("stat -c %a -- \(q)", paths: [src])).stdoutText.trimmed
                if !mode.isEmpty, mode.allSatisfy({ ("0"..."7").contains($0) }) {
                    var own = call
                    own.args["mode"] = .string("0" + mode)
                    return try makingTheFolder(try push(bytes, to: target, own))
                }
            }
        } else if let content = call.args["content"] {
            bytes = Array(content.description.utf8)
            // Ansible writes content to a private temporary file first: its mode, 0600, is the one preserved.
            if call.string("mode") == "preserve" { call.args["mode"] = .string("0600") }
        } else {
            let source = try localFile(src!, in: call.searchDirectories, folder: "files")
            bytes = Array(FileManager.default.contents(atPath: source) ?? Data())
            if call.string("mode") == "preserve" { call.args["mode"] = try preservedMode(source) }
            // decrypt (Ansible's default): a vault-encrypted file would be decrypted; parc has no vault.
            try refuseVault(bytes, source, call)
        }
        var p = try makingTheFolder(try push(bytes, to: target, call))
        if let src { p.result.data["src"] = .string(src) }
        return p
    }

    static let template = ModuleSpec(name: "template", arguments: ["src", "dest", "mode", "owner", "group", "backup", "force", "validate", "follow",
                                                                   "trim_blocks", "lstrip_blocks", "newline_sequence", "variable_start_string",
                                                                   "variable_end_string", "block_start_string", "block_end_string",
                                                                   "comment_start_string", "comment_end_string", "output_encoding"],
                                     required: ["src", "dest"]) { given in
        let src = try given.required("src")
        let path = try localFile(src, in: given.searchDirectories, folder: "templates")
        var call = given
        if call.string("mode") == "preserve" { call.args["mode"] = try preservedMode(path) }
        let target = try destination(try call.required("dest"), call)
        let text = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        var vars = call.vars
        // Ansible's default ansible_managed text, unless the inventory or the play set one.
        if vars["ansible_managed"] == nil { vars["ansible_managed"] = .string("Ansible managed") }
        vars["template_path"] = .string(path)
        vars["template_fullpath"] = .string(path)
        vars["template_destpath"] = .string(try call.required("dest"))
        vars["template_host"] = .string(ProcessInfo.processInfo.hostName)
        vars["template_run_date"] = .string(ISO8601DateFormatter().string(from: Date()))
        var rendered = try call.templates.render(text, vars: vars, at: SourceLocation(file: path, line: 1, column: 1), options: try templateOptions(call.args))
        if let newline = call.string("newline_sequence"), newline != "\n" {
            let sequence = ["\\r\\n": "\r\n", "\\r": "\r", "\\n": "\n"][newline] ?? newline
            rendered = rendered.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: sequence)
        }
        // As Ansible's action: an empty output_encoding is utf-8.
        var p = try push(try OutputEncoding.encode(rendered, as: call.string("output_encoding") ?? ""), to: target, call)
        // Ansible's result names the source it sent (a temporary copy on the device there; here the
        // template of the control node).
        p.result.data["src"] = .string(path)
        return p
    }

    /// A folder already on the device copied as Ansible's copy module copies one with remote_src
    /// (its copy_directory): `src/` puts the folder's content into `dest`, `src` the folder itself;
    /// a `dest` that is not there is made as a copy (modes and times kept, links as links unless
    /// `local_follow`); one that is there gets what is only in `src` and the files whose content
    /// differs (Python's filecmp: same size and mtime, or same bytes), never loses anything; owner
    /// and group on everything with owner/group, mode on `dest`. One script, asked first as a
    /// question (what it would do, nothing done) and then, when it has something to do, run.
    static func remoteTree(src: String, dest: String, _ c: ModuleContext) throws -> Plan {
        let force = c.args["force"]?.truthy ?? true
        let localFollow = c.args["local_follow"].map { $0 == .null ? "" : ($0.truthy ? "yes" : "no") } ?? ""
        // mode: preserve is the source folder's own mode, read on the device (as Ansible's module does).
        let preserve = c.string("mode") == "preserve"
        let mode = preserve ? nil : try Modules.mode(c.args["mode"])
        let directoryMode = try Modules.mode(c.args["directory_mode"])
        let owner = c.string("owner"), group = c.string("group")
        let ownership = (owner ?? "") + (group.map { ":" + $0 } ?? "")
        func script(dry: Bool) -> String {
            let own = ownership.isEmpty ? "" : shellQuote(ownership)
            let lines = [
                "S=\(shellQuote(src)); D=\(shellQuote(dest)); dry=\(dry ? 1 : 0); lf=\(localFollow); force=\(force ? "yes" : "no"); own=\(own); ou=\(owner.map(shellQuote) ?? ""); og=\(group.map(shellQuote) ?? "")",
                // Every change is a line: in the question only said, in the step done and said.
                "act() { printf '%s\\n' \"$1\"; shift; [ $dry = 1 ] || \"$@\" || exit 1; }",
                "owned() { [ -z \"$own\" ] || [ $dry = 1 ] || chown -h $2 \"$own\" -- \"$1\" || exit 1; }",
                // Whether anything at $1 (under it with -R) has another owner or group than asked: then chown.
                "reown() { [ -z \"$own\" ] && return 0; f=; [ -z \"$ou\" ] || f=\"! -user $ou\"; [ -z \"$og\" ] || f=\"${f:+$f -o }! -group $og\"; "
                    + "m=\"-maxdepth 0\"; [ \"$2\" = -R ] && m=; [ -z \"$(find \"$1\" $m \\( $f \\) -print -quit)\" ] || act \"$1\" chown -h $2 \"$own\" -- \"$1\"; }",
                "copyfile() { cat -- \"$1\" > \"$2\"; }",
                "copymode() { cat -- \"$1\" > \"$2\" && chmod --reference=\"$1\" -- \"$2\"; }",
                // copytree: symlinks kept unless local_follow is true; modes and times kept.
                "tree() { if [ \"$lf\" = yes ]; then cp -R -L --preserve=mode,timestamps -- \"$1\" \"$2\"; else cp -R -P --preserve=mode,timestamps -- \"$1\" \"$2\"; fi; }",
                // filecmp.cmp, shallow: the same kind, size and mtime are the same file, else the bytes decide.
                "same() { [ \"$(stat -L -c '%F %s %.9Y' -- \"$1\")\" = \"$(stat -L -c '%F %s %.9Y' -- \"$2\")\" ] || cmp -s -- \"$1\" \"$2\"; }",
                "merge() {",
                "  local s n d",
                "  for s in \"$1\"/* \"$1\"/.[!.]* \"$1\"/..?*; do",
                "    [ -e \"$s\" ] || [ -L \"$s\" ] || continue",
                "    n=${s##*/}",
                "    case $n in RCS|CVS|tags|.git|.hg|.bzr|_darcs|__pycache__) continue;; esac",
                "    d=$2/$n",
                "    if [ -e \"$d\" ] || [ -L \"$d\" ]; then",
                "      if [ -d \"$s\" ] && [ -d \"$d\" ]; then merge \"$s\" \"$d\"",
                "      elif [ -f \"$s\" ] && [ -f \"$d\" ] && ! same \"$s\" \"$d\"; then",
                "        if [ -L \"$s\" ] && [ \"$lf\" = no ]; then act \"$d\" ln -sfn -- \"$(readlink -- \"$s\")\" \"$d\"; else act \"$d\" copymode \"$s\" \"$d\"; fi; owned \"$d\"",
                "      fi",
                "    elif [ -L \"$s\" ]; then",
                // A link only in src: copied as Ansible's copy_left_only does (nothing unless local_follow is given).
                "      if [ \"$lf\" = yes ] && [ -d \"$s\" ]; then act \"$d\" tree \"$s\" \"$d\"; owned \"$d\" -R",
                "      elif [ \"$lf\" = yes ] && [ -f \"$s\" ]; then act \"$d\" copyfile \"$s\" \"$d\"; owned \"$d\"",
                "      elif [ \"$lf\" = no ] && [ -e \"$s\" ]; then act \"$d\" ln -s -- \"$(readlink -- \"$s\")\" \"$d\"",
                "      else printf '%s\\n' \"$d\"; fi",
                "    elif [ -f \"$s\" ]; then act \"$d\" copymode \"$s\" \"$d\"; owned \"$d\"",
                "    elif [ -d \"$s\" ]; then act \"$d\" tree \"$s\" \"$d\"; owned \"$d\" -R",
                "    fi",
                "  done",
                "}",
                // dest/ : its folder is made first (directory_mode and the owner on what is made).
                "case $D in */) t=${D%/}; if [ ! -e \"$t\" ]; then",
                "  if [ $dry = 1 ]; then echo \"$t\"; exit 0; fi",
                "  set --; x=$t; while [ ! -e \"$x\" ]; do set -- \"$x\" \"$@\"; x=$(dirname -- \"$x\"); done",
                "  for x in \"$@\"; do mkdir -- \"$x\" || exit 1;\(directoryMode.map { " chmod \($0) -- \"$x\" || exit 1;" } ?? "") owned \"$x\"; done; echo \"$t\"",
                "fi;; esac",
                // The path whose mode and owner are set at the end: dest, or dest/<src's name> when dest is a folder.
                "a=$D; [ -d \"$D\" ] && a=${D%/}/${S##*/}; [ \"$a\" = \"${D%/}/\" ] && a=$D",
                "if [ \"$force\" = no ] && { [ -e \"$a\" ] || [ -L \"$a\" ]; }; then exit 0; fi",
                "case $S in */) T=${D%/};; *) T=${D%/}/${S##*/};; esac",
                "if [ ! -e \"$T\" ]; then",
                "  act \"$T\" mkdir -p -- \"$(dirname -- \"$T\")\"; act \"$T\" tree \"${S%/}\" \"$T\"; owned \"$T\" -R",
                "else",
                "  merge \"${S%/}\" \"$T\"",
                "  reown \"$T\" -R",
                "fi",
                "[ -e \"$a\" ] || exit 0",
                preserve ? "w=$(stat -c %a -- \"${S%/}\"); [ \"$(stat -c %a -- \"$a\")\" = \"$w\" ] || act \"$a\" chmod \"$w\" -- \"$a\""
                    : mode.map { "[ \"$(stat -c %a -- \"$a\")\" = \(shellQuote(String(Int($0, radix: 8) ?? 0, radix: 8))) ] || act \"$a\" chmod \($0) -- \"$a\"" } ?? ":",
                "reown \"$a\"",
            ]
            return lines.joined(separator: "\n")
        }
        return try treePlan(src: src, dest: dest, question: script(dry: true), step: script(dry: false), c)
    }

    /// The plan of `remoteTree`: its question (what would change, one path a line), then the step
    /// that changes it, when there is something to change.
    static func treePlan(src: String, dest: String, question: String, step: String, _ c: ModuleContext) throws -> Plan {
        let tree = { (path: String) in path.hasSuffix("/") ? path : path + "/" }
        let asked = try c.fact(Fact(question, paths: [tree(src), tree(dest)]))
        guard asked.succeeded else { throw ModuleFailure("Failed to copy \(src) to \(dest): \(asked.stderrText.trimmed)") }
        var p = Plan()
        p.result.data["dest"] = .string(dest)
        p.result.data["src"] = .string(src)
        let changes = asked.stdoutText.split(separator: "\n").map(String.init)
        guard !changes.isEmpty else { return p }
        let root = dest.hasSuffix("/") ? String(dest.dropLast()) : dest
        if c.check, dest.hasSuffix("/"), changes == [root] { p.result.msg = "dest directory \(root) would be created" }
        var run = c.run(step, what: "copying \(src) to \(dest)", touches: [root])
        run.removesTree = true
        p.steps = [run]
        p.result.changed = true
        return p
    }

    /// decrypt (Ansible's default): a file encrypted with Ansible Vault would be decrypted, and
    /// parc has no vault secrets — refused, ending with Ansible's own words for a missing secret.
    static func refuseVault(_ bytes: [UInt8], _ source: String, _ c: ModuleContext) throws {
        guard c.args["decrypt"]?.truthy ?? true, bytes.starts(with: Array("$ANSIBLE_VAULT;".utf8)) else { return }
        throw ModuleFailure("parc does not support Ansible Vault (decrypt the file first, or give decrypt: no to copy it as it is): "
                            + "A vault password or secret must be specified to decrypt \(source)")
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
    static func localFile(_ src: String, in directories: [String], folder: String) throws -> String {
        let candidates = src.hasPrefix("/") ? [src] : directories.flatMap { ["\($0)/\(folder)/\(src)", "\($0)/\(src)"] }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw ModuleFailure("cannot find \(src) (looked in \(candidates.joined(separator: ", ")))")
        }
        return found
    }

    /// A folder of the control node named by `src` (under files/, else next to the playbook), or nil.
    static func localFolder(_ src: String, in directories: [String]) throws -> String? {
        let candidates = src.hasPrefix("/") ? [src] : directories.flatMap { ["\($0)/files/\(src)", "\($0)/\(src)"] }
        var isFolder: ObjCBool = false
        return candidates.first { FileManager.default.fileExists(atPath: $0, isDirectory: &isFolder) && isFolder.boolValue }
    }

    /// A folder copied as Ansible copies one: `src/` puts its content into `dest`, `src` the
    /// folder itself; every file as a single copy would be (same content: left alone), new
    /// folders made with `directory_mode` (existing ones keep theirs). What is on the device is
    /// read in one round trip.
    static func copyTree(_ folder: String, src: String, to dest: String, _ c: ModuleContext) throws -> Plan {
        let root = src.hasSuffix("/") ? dest : (dest as NSString).appendingPathComponent((folder as NSString).lastPathComponent)
        var files: [String] = [], folders: [String] = [], links: [String: String] = [:]
        let fm = FileManager.default
        // local_follow: no keeps the source's links as links (with the same target) instead of
        // copying what they point to. Followed (the default), a link to a folder is walked as a
        // folder — unless it leads back to a folder it is in (a loop) —, and a link to nothing stays a
        // link, as Ansible's action walks the tree.
        let follow = c.args["local_follow"]?.truthy ?? true
        func real(_ path: String) -> String {
            guard let resolved = realpath(path, nil) else { return path }
            defer { free(resolved) }
            return String(cString: resolved)
        }
        func walk(_ relative: String, within ancestors: Set<String>) {
            let path = relative.isEmpty ? folder : folder + "/" + relative
            for name in ((try? fm.contentsOfDirectory(atPath: path)) ?? []).sorted() {
                let rel = relative.isEmpty ? name : relative + "/" + name
                let full = folder + "/" + rel
                var isFolder: ObjCBool = false
                let exists = fm.fileExists(atPath: full, isDirectory: &isFolder)
                if (try? fm.attributesOfItem(atPath: full)[.type] as? FileAttributeType) == .typeSymbolicLink {
                    let target = try? fm.destinationOfSymbolicLink(atPath: full)
                    if !follow || !exists || (isFolder.boolValue && ancestors.contains(real(full))) {
                        if let target { links[rel] = target }
                        continue
                    }
                }
                guard exists else { continue }
                if isFolder.boolValue {
                    folders.append(rel)
                    walk(rel, within: ancestors.union([real(full)]))
                } else {
                    files.append(rel)
                }
            }
        }
        walk("", within: [real(folder)])
        // A vault-encrypted file refuses the whole folder before anything is asked or sent, the
        // first one as Ansible's walk meets it (a folder's own files before its subfolders').
        for relative in files.sorted(by: { ($0.split(separator: "/").count, $0) < ($1.split(separator: "/").count, $1) }) {
            guard let handle = FileHandle(forReadingAtPath: folder + "/" + relative) else { continue }
            let head = (try? handle.read(upToCount: 15)) ?? Data()
            try? handle.close()
            try refuseVault(Array(head), folder + "/" + relative, c)
        }
        let r = shellQuote(root)
        let listing = try c.fact(Fact("if [ -e \(r) ] && ! [ -d \(r) ]; then echo 'not a directory'; exit 0; fi; [ -d \(r) ] || exit 0; "
                                      + "cd \(r) && stat -c 'd|%a|%U|%G|%u|%g|%s|.' -- . && find . -mindepth 1 -printf '%y|%m|%u|%g|%U|%G|%s|%P\\n' && echo '--' && find . -type f -print0 | xargs -0 -r sha256sum -- "
                                      + "&& echo '--' && find . -type l -printf '%l\\n%P\\n'",
                                      paths: [root.hasSuffix("/") ? root : root + "/"]))
        if listing.stdoutText == "not a directory\n" { throw ModuleFailure("\(root) is not a directory on the device: a folder is copied into a folder") }
        var present: [String: [String]] = [:], sums: [String: String] = [:], linked: [String: String] = [:]
        var section = 0
        var linkTarget: String?
        for line in listing.stdoutText.split(separator: "\n").map(String.init) {
            if line == "--" { section += 1; continue }
            if section == 2 {
                // `target` then `path`, a pair per link.
                if let target = linkTarget { linked[line] = target; linkTarget = nil } else { linkTarget = line }
            } else if section == 1 {
                // `HASH  ./path`
                let hash = String(line.prefix(64)), path = line.dropFirst(66)
                sums[String(path.hasPrefix("./") ? path.dropFirst(2) : path)] = hash
            } else {
                // `type|mode|owner|group|uid|gid|size|path`, the path last (it may hold a `|`): kept as
                // [path, type, mode, owner, group, uid, gid, size].
                let f = line.split(separator: "|", maxSplits: 7, omittingEmptySubsequences: false).map(String.init)
                guard f.count == 8 else { continue }
                present[f[7]] = [f[7], f[0], f[1], f[2], f[3], f[4], f[5], f[6]]
            }
        }
        var p = Plan()
        p.result.data["dest"] = .string(dest.hasSuffix("/") ? dest : dest + "/")
        p.result.data["src"] = .string(src)
        let owner = c.string("owner"), group = c.string("group")
        // The root is made when missing; every folder of the source gets directory_mode (Ansible
        // runs its file module on each), new ones made with it.
        var script: [String] = []
        let directoryMode = try Modules.mode(c.args["directory_mode"])
        // The copied folder itself (`src` without its slash) is one of the source's folders: it gets
        // directory_mode too, as Ansible's action makes it with the others; `src/`'s dest does not.
        let ownRoot = !src.hasSuffix("/")
        if let f = present["."] {
            if ownRoot, let directoryMode, f[2] != directoryMode { script.append("chmod \(directoryMode) -- \(r)") }
            if ownRoot { script += FileModule.ownership(r, owner: owner, group: group, current: PathState(kind: .directory, mode: f[2], owner: f[3], group: f[4]), link: false) }
        } else {
            script.append("mkdir -p -- \(r)" + (ownRoot ? directoryMode.map { " && chmod \($0) -- \(r)" } ?? "" : ""))
            if ownRoot { script += FileModule.ownership(r, owner: owner, group: group, current: nil, link: false) }
        }
        for relative in folders.sorted() {
            let d = shellQuote(root + "/" + relative)
            if let f = present[relative] {
                guard f.count == 8, f[1] == "d" else { throw ModuleFailure("\(root)/\(relative) is on the device but is not a folder") }
                if let directoryMode, f[2] != directoryMode { script.append("chmod \(directoryMode) -- \(d)") }
                script += FileModule.ownership(d, owner: owner, group: group, current: PathState(kind: .directory, mode: f[2], owner: f[3], group: f[4]), link: false)
            } else {
                script.append("mkdir\(directoryMode.map { " -m \($0)" } ?? "") -- \(d)")
                script += FileModule.ownership(d, owner: owner, group: group, current: PathState(kind: .directory, mode: "", owner: "", group: ""), link: false)
            }
        }
        if !script.isEmpty {
            p.steps.append(.run(script.joined(separator: " && "), what: "making the folders of \(root)", touches: [root] + folders.map { root + "/" + $0 }))
            p.result.changed = true
        }
        var linking: [String] = []
        for (relative, target) in links.sorted(by: { $0.key < $1.key }) where linked[relative] != target {
            let path = shellQuote(root + "/" + relative)
            if let f = present[relative], f.count == 8, f[1] == "d" { throw ModuleFailure("\(root)/\(relative) is a folder on the device; the source has a link there") }
            linking.append("ln -sfn -- \(shellQuote(target)) \(path)")
        }
        if !linking.isEmpty {
            p.steps.append(.run(linking.joined(separator: " && "), what: "making the links of \(root)", touches: links.keys.map { root + "/" + $0 }))
            p.result.changed = true
        }
        var own = c
        own.args["validate"] = nil
        for relative in files.sorted() {
            let path = root + "/" + relative
            let bytes = Array(fm.contents(atPath: folder + "/" + relative) ?? Data())
            // mode: preserve gives each file its own source's mode.
            if c.string("mode") == "preserve" { own.args["mode"] = try preservedMode(folder + "/" + relative) }
            let probe: [String]
            if let f = present[relative] {
                guard f.count == 8, f[1] == "f" else { throw ModuleFailure("\(path) is on the device but is not a regular file") }
                // As the checksum fact gives it: uid|gid|owner|group|mode|size|links|kind.
                probe = [sums[relative] ?? "", "\(f[5])|\(f[6])|\(f[3])|\(f[4])|\(f[2])|\(f[7])|1|regular file"]
            } else {
                probe = ["absent"]
            }
            let one = try push(bytes, to: (path, probe), own, readBack: false)
            p.steps += one.steps
            p.result.changed = p.result.changed || one.result.changed
            p.result.diff += one.result.diff
        }
        return p
    }

    /// The plan for a file with this content at `path`: nothing when it is there with its mode
    /// and owner; a mode or owner fix; or an atomic write (validated first, backed up before).
    /// Where the file goes and what is there now, asked before its content is read or rendered:
    /// a plan still waiting for these facts costs no file read and no rendering.
    static func destination(_ path: String, _ c: ModuleContext) throws -> (path: String, probe: [String]) {
        var dest = path
        // follow: a link's target is written, not the link replaced by a file.
        if c.bool("follow") {
            let target = try c.fact(.command("if [ -L \(shellQuote(path)) ]; then readlink -f -- \(shellQuote(path)); fi")).stdoutText.trimmed
            if !target.isEmpty { dest = target }
        }
        func probe(_ dest: String) throws -> [String] {
            var probe = try c.fact(.checksum(dest)).stdoutText.split(separator: "\n").map(String.init)
            // `HASH  -` → the hash.
            if let first = probe.first, first.hasSuffix("  -") { probe[0] = String(first.dropLast(3)) }
            return probe
        }
        let found = try probe(dest)
        // An existing folder as dest: the file goes into it under its source's name, as Ansible's.
        if found.first == "directory" {
            guard c.args["content"] == nil, let src = c.string("src"), !src.hasSuffix("/") else {
                throw ModuleFailure("can not use content with a dir as dest")
            }
            let inside = (dest as NSString).appendingPathComponent((src as NSString).lastPathComponent)
            return (inside, try probe(inside))
        }
        return (dest, found)
    }

    /// `readBack`: the file's attributes read after a change, for the result (off for the files of
    /// a folder, whose result names the folder).
    static func push(_ bytes: [UInt8], to target: (path: String, probe: [String]), _ c: ModuleContext, readBack: Bool = true) throws -> Plan {
        let (dest, probe) = target
        if probe.first == "directory" { throw ModuleFailure("\(dest) is a directory; give the file's full path") }
        try FileEdit.checkValidate(c.string("validate"))
        let exists = probe.first != "absent"
        let sameContent = exists && probe.first == SHA256.hex(bytes)
        // The file's attributes as it is: uid|gid|owner|group|mode|size|links|kind.
        let info = exists && probe.count > 1 ? probe[1] : ""
        let f = info.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        let currentMode = f.count > 4 ? f[4] : nil, currentOwner = f.count > 2 ? f[2] : nil, currentGroup = f.count > 3 ? f[3] : nil
        let mode = try Modules.mode(c.args["mode"], current: currentMode)
        let owner = c.string("owner"), group = c.string("group")
        var p = Plan()
        p.result.data["dest"] = .string(dest)
        // As Ansible's copy and template report them: SHA-1 checksum, MD5, size.
        p.result.data["checksum"] = .string(ContentDigest.sha1Hex(bytes))
        p.result.data["md5sum"] = .string(ContentDigest.md5Hex(bytes))
        p.result.data["size"] = .int(bytes.count)
        p.result.data["state"] = .string("file")
        let d = shellQuote(dest)
        // Ansible's result names the file's owner, group and mode as they are after the task: read
        // after a change, else as the device gave them.
        func readAttributesAfter(_ p: inout Plan) {
            guard readBack, !c.check, !p.steps.isEmpty else { return }
            // It reads only: it makes no fact stale (touches nothing).
            var read = Step.run("stat -c '\(Modules.pathInfoFormat)' -- \(d)", what: "reading the attributes of \(dest)", touches: [])
            read.isResult = true
            p.steps.append(read)
            p.finish = { r, out in for (k, v) in Modules.pathInfo(out.stdoutText.trimmed) where k != "size" && k != "state" { r.data[k] = v } }
        }
        for (k, v) in Modules.pathInfo(info) where k != "size" && k != "state" { p.result.data[k] = v }
        if sameContent {
            var fixes: [String] = []
            if let mode, currentMode != mode { fixes.append("chmod \(mode) -- \(d)") }
            let current = PathState(kind: .file, mode: currentMode ?? "", owner: currentOwner ?? "", group: currentGroup ?? "")
            fixes += FileModule.ownership(d, owner: owner, group: group, current: current, link: false)
            p.steps = fixes.map { .run($0, what: "setting the mode or owner of \(dest)", touches: [dest]) }
            p.result.changed = !fixes.isEmpty
            readAttributesAfter(&p)
            return p
        }
        if exists && !(c.args["force"]?.truthy ?? true) { return p }
        p.result.changed = true
        if c.diff {
            var before: String? = nil
            if exists, let text = FileFact.parse(try c.fact(.file(dest))).content, text.count < 256 * 1024 {
                before = String(validating: text, as: UTF8.self)
            }
            p.result.diff = [FileDiff(path: dest, before: before, after: bytes.count < 256 * 1024 ? String(validating: bytes, as: UTF8.self) : nil)]
        }
        if exists && c.bool("backup") {
            let (step, copy) = FileEdit.backup(dest)
            p.steps.append(step)
            p.result.data["backup_file"] = .string(copy)
        }
        let finalMode = mode.flatMap { UInt32($0, radix: 8) } ?? (currentMode.flatMap { UInt32($0, radix: 8) } ?? 0o644)
        // A replaced file keeps its owner by number: one the device has no name for (a tar's uid) is
        // `UNKNOWN` to stat's %U, which chown would refuse.
        let keptOwner = f.count > 0 && !f[0].isEmpty ? f[0] : nil, keptGroup = f.count > 1 && !f[1].isEmpty ? f[1] : nil
        p.steps.append(.write(dest, bytes, mode: finalMode, owner: owner ?? keptOwner, group: group ?? keptGroup, validate: c.string("validate"),
                              ownerIsKept: owner == nil && group == nil))
        readAttributesAfter(&p)
        return p
    }
}
