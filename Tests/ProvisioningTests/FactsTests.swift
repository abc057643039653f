import Foundation
import ParcCore
@testable import Provisioning
import Templating
import Testing

/// Fact parsers on outputs of real systems (Debian 12 recorded on this machine; Ubuntu 22.04 and
/// a PrimTux-like system written from their documented formats), as data.
@Suite struct FactsParsingTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/facts")
    func load(_ name: String) throws -> DeviceFacts {
        FactGathering.parse(try String(contentsOf: Self.dir.appendingPathComponent(name), encoding: .utf8))
    }

    @Test func debian12AsRecorded() throws {
        let f = try load("debian12-recorded.txt")
        #expect(f.hostname == "vm")
        #expect(f.osName == "Debian GNU/Linux 12 (bookworm)")
        #expect(f.osID == "debian" && f.osVersion == "12" && f.osFamily == "Debian")
        #expect(f.kernel == "6.18.44-fc-v669" && f.architecture == "x86_64")
        #expect(f.cpuModel == "AMD EPYC" && f.cpuCount == 2)
        #expect(f.memoryMB == 24105)
        #expect(f.diskSizeMB == 258019 && f.diskFreeMB == 79540)
        #expect(f.uptimeSeconds == 4257)
        #expect(f.lastBoot == Date(timeIntervalSince1970: 1_795_911_042))
        #expect(f.interfaces.map(\.name) == ["eth0", "ifb0", "ifb1"])
        #expect(f.primaryIPv4 == "192.0.2.2")
        #expect(f.addresses.count == 3, "loopback left out")
        #expect(f.serial == nil && f.vendor == nil, "a VM without DMI")
    }

    @Test func ubuntuLaptop() throws {
        let f = try load("ubuntu2204-lenovo.txt")
        #expect(f.serial == "PF4NLV33" && f.vendor == "LENOVO" && f.product == "82QB")
        #expect(f.osFamily == "Debian" && f.osVersion == "22.04")
        #expect(f.macs == ["00:e0:4c:68:00:01", "8c:16:45:3a:10:03"])
        #expect(f.primaryIPv4 == "10.57.12.43")
        let vars = FactGathering.variables(f)
        #expect(vars["ansible_distribution"] == .string("Ubuntu"))
        #expect(vars["ansible_distribution_major_version"] == .string("22"))
        #expect(vars["ansible_product_serial"] == .string("PF4NLV33"))
        #expect(vars["ansible_memtotal_mb"] == .int(3774))
        #expect(vars["ansible_default_ipv4"]?.map?["interface"] == .string("wlp1s0"))
        #expect(vars["ansible_facts"]?.map?["fqdn"] == .string("nlv-ce2-cm1-03.ecole.local"))
    }

    @Test func primtuxLikeWithAPlaceholderSerial() throws {
        let f = try load("primtux7-like.txt")
        #expect(f.serial == nil, "'To Be Filled By O.E.M.' is no serial")
        #expect(f.vendor == "Acer" && f.product == "TravelMate B311-31")
        #expect(f.osFamily == "Debian")
        #expect(FactGathering.variables(f)["ansible_distribution"] == .string("PrimTux"))
        #expect(f.cpuCount == 4)
    }
}

/// Ansible's facts from outputs the lab cannot produce (another distribution, a KVM guest with
/// systemd and SELinux, two sockets, secondary addresses), each rule as ansible-core's collector.
@Suite struct AnsibleFactsRulesTests {
    func collect(_ sections: [String: String]) -> [String: Value] {
        AnsibleFacts.collect(sections.mapValues { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) })
    }

    func strings(_ pairs: KeyValuePairs<String, String>) -> Value { .map(OrderedMap(ordered: pairs.map { ($0.key, Value.string($0.value)) })) }

    @Test func anUbuntuKVMGuestWithSystemdAndSELinux() {
        let f = collect([
            "uname": "Linux pc-12.ecole.example 5.15.0-91-generic #101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023 x86_64",
            "os": "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.3 LTS (Jammy Jellyfish)\"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME=\"Ubuntu 22.04.3 LTS\"",
            "lsb": "#file\nDISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\nDISTRIB_DESCRIPTION=\"Ubuntu 22.04.3 LTS\"",
            "probe": "/usr/bin/apt-get\n/run/systemd/system/\n/etc/init.d/\nsystemctl=/usr/bin/systemctl\n/sys/devices/virtual/dmi/id/product_name",
            "proc1": "systemd",
            "dmi_all": "product_name=Standard PC (Q35 + ICH9, 2009)\nsys_vendor=QEMU\nchassis_type=10\nbios_vendor=SeaBIOS",
            "selinux": "enforce=1\npolicyvers=33\nSELINUX=enforcing\nSELINUXTYPE=targeted",
            "cpuinfo": "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\nphysical id\t: 0\nsiblings\t: 2\ncore id\t: 0\ncpu cores\t: 1\n"
                + "processor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\nphysical id\t: 1\nsiblings\t: 2\ncore id\t: 0\ncpu cores\t: 1",
            "hostsname": "10.0.0.12 pc-12.ecole.example pc-12\n10.0.0.12 pc-12.ecole.example pc-12",
            "net": "iface lo\naddress 00:00:00:00:00:00\nmtu 65536\noperstate unknown\ntype 772\nflags 0x9\niface enp1s0\naddress 52:54:00:12:34:56\nmtu 1500\noperstate up\ntype 1\nflags 0x1103\nspeed 1000\nmodule virtio_net\npciid 0000:01:00.0",
            "addresses_all": "1: lo: <LOOPBACK,UP> mtu 65536\n    inet 127.0.0.1/8 scope host lo\n2: enp1s0: <BROADCAST,UP> mtu 1500\n    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff\n"
                + "    inet 10.0.0.12/24 brd 10.0.0.255 scope global enp1s0\n    inet 10.0.0.99/24 scope global secondary enp1s0\n    inet6 fe80::5054:ff:fe12:3456/64 scope link",
            "route4": "8.8.8.8 via 10.0.0.1 dev enp1s0 src 10.0.0.12 uid 0",
            "id": "uid=1000(eleve) gid=1000(eleve) groups=1000(eleve)",
            "passwd": "eleve:x:1000:1000:Élève,,,:/home/eleve:/bin/bash",
            "env": "HOME=/home/eleve\nLOGNAME=eleve\nPATH=/usr/bin:/bin",
            "date": "2026|12|Monday|1|49|07|11|05|09|1796637909|123456789|CET|+0100",
            "tznames": "CET +0100\nCEST +0200",
        ])
        #expect(f["distribution"] == .string("Ubuntu") && f["distribution_version"] == .string("22.04") && f["distribution_release"] == .string("jammy"))
        #expect(f["distribution_major_version"] == .string("22") && f["distribution_minor_version"] == .string("04") && f["os_family"] == .string("Debian"))
        #expect(f["lsb"] == strings(["id": "Ubuntu", "release": "22.04", "codename": "jammy", "description": "Ubuntu 22.04.3 LTS", "major_release": "22"]))
        #expect(f["hostname"] == .string("pc-12") && f["fqdn"] == .string("pc-12.ecole.example") && f["domain"] == .string("ecole.example"))
        #expect(f["kernel_version"] == .string("#101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023"))
        #expect(f["service_mgr"] == .string("systemd") && f["pkg_mgr"] == .string("apt"))
        #expect(f["virtualization_type"] == .string("kvm") && f["virtualization_role"] == .string("guest"))
        #expect(f["form_factor"] == .string("Notebook") && f["system_vendor"] == .string("QEMU") && f["product_serial"] == .string("NA"))
        var selinux = strings(["status": "enabled", "mode": "enforcing", "config_mode": "enforcing", "type": "targeted"]).map ?? [:]
        selinux["policyvers"] = .int(33)
        #expect(f["selinux"]?.map == selinux)
        #expect(f["processor_count"] == .int(2) && f["processor_cores"] == .int(1) && f["processor_threads_per_core"] == .int(2) && f["processor_vcpus"] == .int(4))
        let nic = f["enp1s0"]?.map ?? [:]
        #expect(nic["ipv4"] == strings(["address": "10.0.0.12", "broadcast": "10.0.0.255", "netmask": "255.255.255.0", "network": "10.0.0.0", "prefix": "24"]))
        #expect(nic["ipv4_secondaries"]?.list?.count == 1 && nic["module"] == .string("virtio_net") && nic["speed"] == .int(1000) && nic["promisc"] == .bool(true))
        #expect(f["lo"]?.map?["macaddress"] == nil, "an all-zero address is left out, as Ansible")
        #expect(f["default_ipv4"]?.map?["gateway"] == .string("10.0.0.1") && f["default_ipv4"]?.map?["macaddress"] == .string("52:54:00:12:34:56"))
        #expect(f["all_ipv4_addresses"] == .list([.string("10.0.0.12"), .string("10.0.0.99")]), "loopback left out, secondaries after primaries")
        #expect(f["user_id"] == .string("eleve") && f["user_gecos"] == .string("Élève,,,") && f["user_dir"] == .string("/home/eleve"))
        let date = f["date_time"]?.map ?? [:]
        #expect(date["iso8601"] == .string("2026-12-07T10:05:09Z") && date["iso8601_micro"] == .string("2026-12-07T10:05:09.123456Z"))
        #expect(date["tz_dst"] == .string("CEST") && date["iso8601_basic_short"] == .string("20261207T110509"))
        #expect(f["python"] == nil, "no Python on the device: no python facts (parc needs none)")
    }

    @Test func serviceManagersAndContainers() {
        func mgr(_ proc1: String?, _ probe: String) -> String {
            AnsibleFacts.serviceManager(proc1: proc1, probe: Set(probe.split(separator: "\n").map(String.init)), commands: [:], initLink: nil)
        }
        #expect(mgr("runit-init", "") == "runit")
        #expect(mgr("init", "/etc/init.d/") == "sysvinit", "`init` tells nothing: the files decide")
        #expect(mgr("bash", "") == "service")
        var f: [String: Value] = [:]
        AnsibleFacts.virtualization(probe: [], cgroup: ["0::/system.slice/docker-0123abcd.scope"], container: [], xen: [], modules: [], cpuinfo: [], dmi: [:], into: &f)
        #expect(f["virtualization_type"] == .string("docker") && f["virtualization_tech_guest"] == .list([.string("container"), .string("docker")]))
        AnsibleFacts.virtualization(probe: [], cgroup: [], container: [], xen: [], modules: [], cpuinfo: [], dmi: ["system_vendor": .string("LENOVO")], into: &f)
        #expect(f["virtualization_type"] == .string("NA") && f["virtualization_role"] == .string("NA"), "a real laptop")
    }
}
