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
