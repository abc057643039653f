import Foundation
import Lab
import ParcCore
@testable import Provisioning
import SSHTransport
import Templating
import Testing

/// Ansible is the oracle for facts too: `ansible -m setup` and parc's gathering on the same lab
/// device, as the same user (with become, as a play that becomes), compared key by key.
@Suite(.serialized) struct FactsParityTests {
    /// Facts that must be equal.
    static let exact = [
        "system", "kernel", "kernel_version", "architecture", "machine", "os_family", "distribution", "distribution_release",
        "distribution_version", "distribution_major_version", "distribution_minor_version", "distribution_file_variety", "distribution_file_path",
        "lsb", "pkg_mgr", "service_mgr", "hostname", "nodename", "fqdn", "domain", "default_ipv4", "default_ipv6", "all_ipv4_addresses",
        "all_ipv6_addresses", "memtotal_mb", "swaptotal_mb", "processor", "processor_count", "processor_cores", "processor_vcpus",
        "processor_threads_per_core", "processor_nproc", "user_id", "user_uid", "user_gid", "user_dir", "user_shell", "user_gecos",
        "real_user_id", "effective_user_id", "real_group_id", "effective_group_id", "machine_id", "product_name", "product_serial", "product_uuid",
        "product_version", "system_vendor", "bios_version", "bios_date", "bios_vendor", "board_name", "board_vendor", "chassis_vendor", "form_factor",
        "virtualization_type", "virtualization_role", "selinux", "apparmor", "fips",
        "python_version", "userspace_bits", "userspace_architecture", "local",
    ]
    /// Lists Ansible builds from Python sets or dict views, whose order changes from run to run.
    static let unordered = ["interfaces", "virtualization_tech_guest", "virtualization_tech_host"]
    /// The per-interface facts' keys that must be equal (not ethtool's `features`).
    static let interfaceKeys = ["device", "macaddress", "mtu", "active", "type", "promisc", "module", "pciid", "speed", "ipv4", "ipv4_secondaries", "ipv6"]
    /// The environment a playbook reads.
    static let envKeys = ["HOME", "USER", "LOGNAME", "SHELL", "PATH", "SUDO_USER"]
    static let dateKeys = ["year", "month", "day", "weekday", "weekday_number", "weeknumber", "tz", "tz_dst", "tz_offset", "date"]

    @Test(arguments: [false, true]) func parcGathersTheFactsAnsibleGathers(_ become: Bool) async throws {
        guard let playbook = SyntaxAgreementTests.ansiblePlaybook else {
            Issue.record("ansible is needed: run scripts/setup-ansible (scripts/test does)")
            return
        }
        let tool = (playbook as NSString).deletingLastPathComponent + "/ansible"
        let lab = try await LabRun.start(devices: 1)
        let d = lab.lab.devices[0]
        let hosts = lab.dir + "/hosts.ini"
        try "[lab]\n\(d.name) ansible_host=\(d.address) ansible_port=\(d.port) ansible_user=\(d.user) ansible_ssh_private_key_file=\(lab.lab.clientKey) ansible_python_interpreter=/usr/bin/python3\n"
            .write(toFile: hosts, atomically: true, encoding: .utf8)
        // parc reads before and after Ansible: the lab devices share this machine's network, where
        // other tests add and remove interfaces; a fact must equal Ansible's in one of the two readings.
        func gather() async throws -> [String: Value] {
            let c = try await LabRun.LabConnector(lab: lab.lab).connect(lab.hosts[0])
            let gathered = try await FactGathering.gatherForPlay(c, become: become ? .sudo : .none)
            await c.close()
            return FactGathering.variables(gathered.device, ansible: gathered.ansible)
        }
        let before = try await gather()
        var args = [d.name, "-i", hosts, "-m", "setup"]
        if become { args.append("-b") }
        let (status, out, err) = try await DifferentialTests.ansible(tool, args, home: lab.dir + "/ansible-home")
        let json = try #require(out.range(of: "=> {").map { String(out[out.index(before: $0.upperBound)...]) }, "ansible -m setup gave no facts (status \(status)):\n\(out)\n\(err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let theirs = try #require(object["ansible_facts"] as? [String: Any])

        let ours = try await gather()
        let facts = try #require(ours["ansible_facts"]?.map)
        let earlier = before["ansible_facts"]?.map ?? [:]

        func value(_ any: Any?) -> Value? { any.map(Value.fromJSON) }
        for key in Self.exact {
            let a = value(theirs["ansible_" + key])
            #expect(facts[key] == a || earlier[key] == a, "\(key): ansible \(a.map(\.json) ?? "missing"), parc \(facts[key].map(\.json) ?? "missing")")
            #expect(ours["ansible_" + key] == facts[key], "ansible_\(key) and ansible_facts.\(key) are the same")
        }
        for key in Self.unordered {
            let a = Set(value(theirs["ansible_" + key])?.list ?? [.null])
            let p = Set(facts[key]?.list ?? []), p0 = Set(earlier[key]?.list ?? [])
            #expect(p == a || p0 == a, "\(key): ansible \(a), parc \(p)")
        }
        // Per interface (ethtool's features and timestamping aside).
        for name in (theirs["ansible_interfaces"] as? [String]) ?? [] {
            let key = name.replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: ":", with: "_")
            let a = theirs["ansible_" + key] as? [String: Any] ?? [:]
            let p = facts[key]?.map ?? [:], p0 = earlier[key]?.map ?? [:]
            for k in Self.interfaceKeys {
                #expect(p[k] == value(a[k]) || p0[k] == value(a[k]), "\(key).\(k): ansible \(value(a[k]).map(\.json) ?? "missing"), parc \(p[k].map(\.json) ?? "missing")")
            }
        }
        // What moves between two readings: the same within a margin.
        let env = (theirs["ansible_env"] as? [String: Any]) ?? [:]
        for k in Self.envKeys { #expect(facts["env"]?.map?[k] == value(env[k]), "env.\(k): ansible \(env[k] ?? "missing"), parc \(facts["env"]?.map?[k]?.json ?? "missing")") }
        let date = (theirs["ansible_date_time"] as? [String: Any]) ?? [:]
        for k in Self.dateKeys where date["hour"] as? String == facts["date_time"]?.map?["hour"]?.string {
            #expect(facts["date_time"]?.map?[k] == value(date[k]), "date_time.\(k): ansible \(date[k] ?? "missing"), parc \(facts["date_time"]?.map?[k]?.json ?? "missing")")
        }
        #expect(Set((facts["date_time"]?.map ?? [:]).keys) == Set(date.keys), "date_time has the keys of Ansible")
        let epochs = (Int(date["epoch"] as? String ?? "") ?? 0, Int(facts["date_time"]?.map?["epoch"]?.string ?? "") ?? 0)
        #expect(abs(epochs.0 - epochs.1) < 120, "date_time.epoch: \(epochs)")
        let free = ((theirs["ansible_memfree_mb"] as? Int) ?? 0, facts["memfree_mb"]?.int ?? 0)
        #expect(abs(free.0 - free.1) < max(200, free.0 / 5), "memfree_mb: \(free)")
        // Mounts: the same mount points with the same device, type and options.
        func mounts(_ list: [Value]) -> [String: String] {
            Dictionary(list.compactMap { m -> (String, String)? in
                guard let m = m.map, let at = m["mount"]?.string else { return nil }
                return (at, ["device", "fstype", "options", "uuid"].map { m[$0]?.string ?? "-" }.joined(separator: " "))
            }) { a, _ in a }
        }
        #expect(mounts(facts["mounts"]?.list ?? []) == mounts(value(theirs["ansible_mounts"])?.list ?? []))
        #expect(facts["mounts"]?.list?.first?.map?["size_total"]?.int ?? 0 > 0, "sizes from statvfs")
        // Python: the interpreter Ansible used.
        #expect(facts["python"]?.map?["version_info"] == value((theirs["ansible_python"] as? [String: Any])?["version_info"]))
        #expect(facts["python"]?.map?["executable"] == value((theirs["ansible_python"] as? [String: Any])?["executable"]))
    }
}

extension Value {
    /// A JSONSerialization value as a template value (numbers: whole ones as ints).
    static func fromJSON(_ any: Any) -> Value {
        switch any {
        case let n as NSNumber where String(cString: n.objCType) == "c": return .bool(n.boolValue)
        case let n as NSNumber: return n.doubleValue == n.doubleValue.rounded() && abs(n.doubleValue) < 1e15 ? .int(n.intValue) : .double(n.doubleValue)
        case let s as String: return .string(s)
        case let l as [Any]: return .list(l.map(fromJSON))
        case let m as [String: Any]: return .map(OrderedMap(ordered: m.sorted { $0.key < $1.key }.map { ($0.key, fromJSON($0.value)) }))
        case is NSNull: return .null
        default: return .string("\(any)")
        }
    }
}
