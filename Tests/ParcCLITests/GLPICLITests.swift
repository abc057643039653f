import Foundation
import Lab
import ParcCore
import Testing

/// GLPI: the export checked against the rules of GLPI's inventory schema (written from
/// inventory.schema.json), and the push against a stand-in GLPI server on loopback.
@Suite(.serialized) struct GLPICLITests {
    /// The schema's rules for what parc writes; the problems found.
    static func schemaProblems(_ doc: [String: Any]) -> [String] {
        var problems: [String] = []
        func need(_ ok: Bool, _ what: String) { if !ok { problems.append(what) } }
        func matches(_ v: Any?, _ pattern: String) -> Bool { (v as? String)?.range(of: pattern, options: .regularExpression) != nil }
        need(doc["deviceid"] is String, "deviceid is a required string")
        need(doc["itemtype"] == nil || matches(doc["itemtype"], "^(Computer|Phone|NetworkEquipment|Printer)$"), "itemtype")
        guard let content = doc["content"] as? [String: Any] else { return problems + ["content is a required object"] }
        need(content["versionclient"] is String, "content.versionclient is a required string")
        let known: Set<String> = ["versionclient", "hardware", "bios", "operatingsystem", "networks", "cpus", "drives"]
        need(Set(content.keys).isSubset(of: known), "content holds only what parc fills: \(content.keys.sorted())")
        if let h = content["hardware"] {
            guard let h = h as? [String: Any] else { return problems + ["hardware is an object"] }
            for k in ["name", "uuid", "chassis_type", "ipaddr"] where h[k] != nil { need(h[k] is String, "hardware.\(k) is a string") }
            if let m = h["memory"] { need(m is Int, "hardware.memory is an integer") }
        }
        if let b = content["bios"] as? [String: Any] { for (k, v) in b { need(v is String, "bios.\(k) is a string") } }
        if let os = content["operatingsystem"] as? [String: Any] { for (k, v) in os { need(v is String, "operatingsystem.\(k) is a string") } }
        for n in content["networks"] as? [[String: Any]] ?? [] {
            need(n["description"] is String && n["status"] is String, "a network has description and status")
            need(matches(n["status"], "^(up|down)$"), "network status is up or down")
            if let t = n["type"] { need(matches(t, "^(ethernet|wifi|infiniband|aggregate|alias|dialup|loopback|bridge|fibrechannel|bluetooth)$"), "network type") }
            for k in ["mac", "ipaddress", "ipmask", "ipsubnet"] where n[k] != nil { need(n[k] is String, "network \(k) is a string") }
        }
        for c in content["cpus"] as? [[String: Any]] ?? [] {
            if let a = c["arch"] { need(matches(a, "^(mips|mips64|alpha|sparc|sparc64|m68k|i386|x86_64|powerpc|powerpc64|arm.*|aarch64)$"), "cpu arch") }
            if let core = c["core"] { need(core is Int, "cpu core is an integer") }
        }
        for d in content["drives"] as? [[String: Any]] ?? [] { need(d["total"] is Int && d["free"] is Int, "drive sizes are integers") }
        return problems
    }

    @Test func everyExportedFileKeepsToGLPIsSchema() async throws {
        let s = try await LabPingTests.Setup(devices: 2)
        #expect(try await s.run("device", "edit", try s.lab.devices[0].serial, "--mac", "8c:16:45:3a:10:99").status == 0)
        let facts = try await s.run("facts", "room_0572113m_lab_parc")
        #expect(facts.status == 0, "\(facts.stderr)")
        let dir = s.parc.dir.appendingPathComponent("glpi").path
        let r = try await s.run("export", "glpi", "-o", dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("left out:") && r.stderr.contains("not a computer"), "screens and carts are left out, with why: \(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".json") }
        #expect(files.count >= 2)
        for f in files {
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + f))) as? [String: Any])
            #expect(Self.schemaProblems(doc).isEmpty, "\(f): \(Self.schemaProblems(doc))")
        }
        let lab = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/\(try s.lab.devices[0].serial).json"))) as? [String: Any])
        let content = try #require(lab["content"] as? [String: Any])
        #expect((content["operatingsystem"] as? [String: Any])?["name"] != nil, "from the stored facts")
        #expect((content["networks"] as? [[String: Any]])?.contains { $0["mac"] as? String == "8c:16:45:3a:10:99" } == true, "the inventory's MAC")
        #expect((content["bios"] as? [String: Any])?["ssn"] as? String == (try s.lab.devices[0].serial))
    }

    /// A stand-in GLPI server: checks the headers, decompresses, checks the document, answers as
    /// GLPI does — busy once (503), pending for lab-02, an error for lab-03, ok otherwise.
    static let server = #"""
    import http.server, json, os, re, signal, ssl, sys, threading, zlib
    out = sys.argv[1]; expected_auth = sys.argv[2]
    signal.alarm(300)  # never outlives a test run
    state = {"busy": True, "pending": set()}
    class Elsewhere(http.server.BaseHTTPRequestHandler):
        # Another origin a redirect points to: it notes what it was sent, and says ok to anything.
        def log_message(self, *a): pass
        def do_POST(self):
            open(os.path.join(out, "elsewhere-got"), "a").write(json.dumps(dict(self.headers)) + "\n")
            body = json.dumps({"status": "ok"}).encode()
            self.send_response(200); self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def answer(self, code, obj, compress=False, headers=()):
            body = json.dumps(obj).encode()
            self.send_response(code)
            if compress:
                body = zlib.compress(body); self.send_header("Content-Type", "application/x-compress-zlib")
            else:
                self.send_header("Content-Type", "application/json")
            for k, v in headers: self.send_header(k, v)
            self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
        def do_GET(self):
            rid = self.headers.get("GLPI-Request-ID")
            if rid in state["pending"]:
                state["pending"].discard(rid); open(os.path.join(out, "pending-resolved"), "w").write(rid)
                return self.answer(200, {"status": "ok"}, compress=True)
            return self.answer(400, {"status": "error", "message": "unknown request"})
        def do_POST(self):
            if self.path.startswith("/moved"):
                self.send_response(307); self.send_header("Location", "http://127.0.0.2:%d/front/inventory.php" % elsewhere.server_address[1])
                self.send_header("Content-Length", "0"); self.end_headers(); return
            if self.headers.get("Authorization") != expected_auth:
                return self.answer(401, {"status": "error", "message": "Authentication required"})
            if self.headers.get("Content-Type") != "application/x-compress-zlib":
                return self.answer(400, {"status": "error", "message": "bad content type"})
            if not re.match(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$", self.headers.get("GLPI-Agent-ID", ""), re.I):
                return self.answer(400, {"status": "error", "message": "bad agent id"})
            data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if state["busy"]:
                state["busy"] = False
                return self.answer(503, {"status": "error", "message": "busy"}, headers=[("Retry-After", "1")])
            doc = json.loads(zlib.decompress(data))
            if not isinstance(doc.get("deviceid"), str) or not isinstance(doc.get("content", {}).get("versionclient"), str):
                return self.answer(400, {"status": "error", "message": "invalid inventory"})
            name = doc["content"]["hardware"]["name"]
            open(os.path.join(out, name + ".json"), "w").write(json.dumps(doc))
            if name == "lab-03":
                return self.answer(200, {"status": "error", "message": "Import denied by rule 'école fermée'"})
            if name == "lab-02":
                state["pending"].add("0A1B2C3D")
                return self.answer(200, {"status": "pending", "expiration": 1}, headers=[("GLPI-Request-ID", "0A1B2C3D")])
            return self.answer(200, {"status": "ok", "expiration": 24}, compress=True)
    elsewhere = http.server.HTTPServer(("127.0.0.2", 0), Elsewhere)
    plain = http.server.HTTPServer(("127.0.0.1", 0), H)
    srv = http.server.HTTPServer(("127.0.0.1", 0), H)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(out, "cert.pem"), os.path.join(out, "key.pem"))
    srv.socket = context.wrap_socket(srv.socket, server_side=True)
    for s in (elsewhere, plain):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    open(os.path.join(out, "port.tmp"), "w").write("%d %d" % (srv.server_address[1], plain.server_address[1]))
    os.rename(os.path.join(out, "port.tmp"), os.path.join(out, "port"))
    srv.serve_forever()
    """#

    @Test func pushSendsAsGLPIAgentDoesOverHTTPSAndReportsRefusals() async throws {
        let s = try await LabPingTests.Setup(devices: 3)
        let dir = s.parc.dir.appendingPathComponent("glpi-server").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Self.server.write(toFile: dir + "/server.py", atomically: true, encoding: .utf8)
        // The server's certificate, made here: trusted only through --ca-file.
        let cert = try await parcShell(s.parc, """
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "\(dir)/key.pem" -out "\(dir)/cert.pem" \
              -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>&1
            """)
        #expect(cert.status == 0, "\(cert.stdout)")
        let auth = "Basic " + Data("glpi:secret-1".utf8).base64EncodedString()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [dir + "/server.py", dir, auth]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let pid = p.processIdentifier
        defer { kill(pid, SIGKILL) }
        var ports = ""
        for _ in 0..<100 where ports.isEmpty {
            ports = (try? String(contentsOfFile: dir + "/port", encoding: .utf8)) ?? ""
            if ports.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        let both = ports.split(separator: " ").map(String.init)
        try #require(both.count == 2, "the stand-in server started")
        try "secret-1\n".write(toFile: dir + "/password", atomically: true, encoding: .utf8)
        chmod(dir + "/password", 0o600)
        let url = "https://127.0.0.1:\(both[0])/front/inventory.php"
        let credentials = ["--user", "glpi", "--password-file", dir + "/password"]
        let r = try await s.run(["glpi", "push", url, "room_0572113m_lab_parc", "--ca-file", dir + "/cert.pem"] + credentials)
        #expect(r.status == 2, "a refused device: exit 2\n\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("lab-01 (") && r.stdout.contains("): accepted"), "\(r.stdout)")
        #expect(r.stdout.contains("refused — Import denied by rule 'école fermée'"), "GLPI's message: \(r.stdout)")
        #expect(r.stdout.contains("2 accepted, 1 refused"), "the pending one accepted after waiting: \(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: dir + "/pending-resolved"))
        #expect(FileManager.default.fileExists(atPath: dir + "/lab-01.json"))
        // A certificate this machine does not trust: nothing sent, said plainly.
        let untrusted = try await s.run(["glpi", "push", url, "lab-01"] + credentials)
        #expect(untrusted.status == 2 && untrusted.stdout.contains("--ca-file"), "\(untrusted.stdout)\(untrusted.stderr)")
        // A redirect to another origin: not followed, the credentials stay here, nothing counted as accepted.
        let moved = try await s.run(["glpi", "push", "https://127.0.0.1:\(both[0])/moved/inventory.php", "lab-01", "--ca-file", dir + "/cert.pem"] + credentials)
        #expect(moved.status == 2 && moved.stdout.contains("redirects (HTTP 307) to http://127.0.0.2:") && moved.stdout.contains("0 accepted, 1 refused"),
                "\(moved.stdout)\(moved.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/elsewhere-got"), "the other origin received nothing")
        // Plain http: credentials refused before anything is sent, unless --insecure-http says so.
        let plainURL = "http://127.0.0.1:\(both[1])/front/inventory.php"
        let plain = try await s.run(["glpi", "push", plainURL, "lab-01"] + credentials)
        #expect(plain.status != 0 && plain.stderr.contains("plain http") && plain.stderr.contains("--insecure-http"), "\(plain.stderr)")
        let insecure = try await s.run(["glpi", "push", plainURL, "lab-01", "--insecure-http"] + credentials)
        #expect(insecure.status == 0 && insecure.stdout.contains("1 accepted, 0 refused"), "\(insecure.stdout)\(insecure.stderr)")
        // Wrong credentials: every device refused, with the server's word.
        try "wrong\n".write(toFile: dir + "/password", atomically: true, encoding: .utf8)
        chmod(dir + "/password", 0o600)
        let denied = try await s.run(["glpi", "push", url, "lab-01", "--ca-file", dir + "/cert.pem"] + credentials)
        #expect(denied.status == 2 && denied.stdout.contains("Authentication required"), "\(denied.stdout)\(denied.stderr)")
        // A password file others may read is refused before anything is sent.
        chmod(dir + "/password", 0o644)
        let open = try await s.run(["glpi", "push", url, "lab-01", "--ca-file", dir + "/cert.pem"] + credentials)
        #expect(open.status != 0 && open.stderr.contains("chmod 600"), "\(open.stderr)")
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
