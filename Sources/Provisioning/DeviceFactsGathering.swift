import Foundation
import ParcCore
import Templating

/// Facts: one shell script in one round trip (a section per fact), and a parser per section,
/// tested on recorded outputs. DMI (serial, vendor, product) needs root.
public enum FactGathering {
    public static let script = #"""
        echo '==hostname=='; hostname
        echo '==fqdn=='; hostname -f 2>/dev/null || hostname
        echo '==os=='; cat /etc/os-release 2>/dev/null
        echo '==kernel=='; uname -r; uname -m
        echo '==cpu=='; grep -m1 '^model name' /proc/cpuinfo; grep -c '^processor' /proc/cpuinfo
        echo '==memory=='; grep -E '^(MemTotal|MemAvailable):' /proc/meminfo
        echo '==disk=='; df -P -k / | tail -n 1
        echo '==uptime=='; cat /proc/uptime; grep '^btime' /proc/stat
        echo '==interfaces=='
        for i in /sys/class/net/*; do n=${i##*/}; [ "$n" = lo ] && continue; printf '%s %s\n' "$n" "$(cat "$i/address" 2>/dev/null)"; done
        echo '==addresses=='; ip -o addr show 2>/dev/null
        echo '==dmi=='
        for f in product_serial:system-serial-number sys_vendor:system-manufacturer product_name:system-product-name; do
          k=${f%%:*}; printf '%s=' "$k"
          cat "/sys/class/dmi/id/$k" 2>/dev/null || dmidecode -s "${f#*:}" 2>/dev/null || echo
        done
        echo '==end=='
        """#

    /// Gathers a device's facts (as root when `become` allows, for DMI).
    public static func gather(_ transport: any Transport, become: Become) async throws -> DeviceFacts {
        let r = try await transport.shell(script, become: become, timeout: .seconds(60))
        guard r.stdoutText.contains("==end==") else {
            throw TransportError.channelFailure(host: transport.host, reason: "gathering facts failed: \(r.stderrText.trimmed)")
        }
        return parse(r.stdoutText)
    }

    /// parc's facts and Ansible's (`setup`), in one script.
    public static let fullScript = script.replacingOccurrences(of: "echo '==end=='", with: AnsibleFacts.script + "\necho '==end=='")

    /// What a play gathers: parc's facts and Ansible's (`setup`), in one round trip.
    public static func gatherForPlay(_ transport: any Transport, become: Become) async throws -> (device: DeviceFacts, ansible: [String: Value]) {
        let r = try await transport.shell(fullScript, become: become, timeout: .seconds(60))
        guard r.stdoutText.contains("==end==") else {
            throw TransportError.channelFailure(host: transport.host, reason: "gathering facts failed: \(r.stderrText.trimmed)")
        }
        let s = sections(r.stdoutText)
        return (parse(s), AnsibleFacts.collect(s))
    }

    /// The script's output by section (`==name==` lines).
    public static func sections(_ output: String) -> [String: [String]] {
        var sections: [String: [String]] = [:]
        var current = ""
        for raw in output.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.hasPrefix("=="), line.hasSuffix("=="), line.count > 4 { current = String(line.dropFirst(2).dropLast(2)); continue }
            sections[current, default: []].append(line)
        }
        return sections
    }

    /// Parses the script's output (pure; the tests feed it recorded outputs).
    public static func parse(_ output: String) -> DeviceFacts { parse(sections(output)) }

    static func parse(_ sections: [String: [String]]) -> DeviceFacts {
        func lines(_ s: String) -> [String] { (sections[s] ?? []).filter { !$0.trimmed.isEmpty } }
        var f = DeviceFacts()
        f.hostname = lines("hostname").first?.trimmed ?? ""
        f.fqdn = lines("fqdn").first?.trimmed ?? f.hostname
        var os: [String: String] = [:]
        for l in lines("os") {
            guard let eq = l.firstIndex(of: "=") else { continue }
            var v = String(l[l.index(after: eq)...]).trimmed
            if v.count >= 2, v.hasPrefix("\""), v.hasSuffix("\"") { v = String(v.dropFirst().dropLast()) }
            os[String(l[..<eq])] = v
        }
        f.osName = os["PRETTY_NAME"] ?? os["NAME"] ?? ""
        f.osID = os["ID"] ?? ""
        f.osVersion = os["VERSION_ID"] ?? ""
        let like = (os["ID_LIKE"] ?? "").split(separator: " ").map(String.init)
        f.osFamily = f.osID == "debian" || like.contains("debian") || like.contains("ubuntu") ? "Debian" : f.osID.capitalized
        let k = lines("kernel")
        f.kernel = k.first?.trimmed ?? ""
        f.architecture = k.count > 1 ? k[1].trimmed : ""
        for l in lines("cpu") {
            if l.hasPrefix("model name"), let colon = l.firstIndex(of: ":") { f.cpuModel = String(l[l.index(after: colon)...]).trimmed }
            else if let n = Int(l.trimmed) { f.cpuCount = n }
        }
        for l in lines("memory") {
            let parts = l.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, let kb = Int(parts[1]) else { continue }
            if l.hasPrefix("MemTotal") { f.memoryMB = kb / 1024 } else if l.hasPrefix("MemAvailable") { f.memoryAvailableMB = kb / 1024 }
        }
        if let d = lines("disk").last?.split(separator: " ", omittingEmptySubsequences: true), d.count >= 4 {
            f.diskSizeMB = (Int(d[1]) ?? 0) / 1024
            f.diskFreeMB = (Int(d[3]) ?? 0) / 1024
        }
        for l in lines("uptime") {
            if l.hasPrefix("btime"), let t = Double(l.split(separator: " ").last ?? "") { f.lastBoot = Date(timeIntervalSince1970: t) }
            else if let up = Double(l.split(separator: " ").first ?? "") { f.uptimeSeconds = Int(up) }
        }
        for l in lines("interfaces") {
            let p = l.split(separator: " ")
            if p.count == 2 { f.interfaces.append(.init(name: String(p[0]), mac: String(p[1]))) }
        }
        // `2: eth0    inet 192.168.1.20/24 brd … scope global …`
        for l in lines("addresses") {
            let p = l.split(separator: " ", omittingEmptySubsequences: true)
            guard p.count >= 4, p[2] == "inet" || p[2] == "inet6" else { continue }
            let iface = String(p[1])
            if iface == "lo" { continue }
            f.addresses.append(.init(interface: iface, family: String(p[2]), address: String(p[3])))
        }
        for l in lines("dmi") {
            guard let eq = l.firstIndex(of: "=") else { continue }
            let v = String(l[l.index(after: eq)...]).trimmed
            let value = v.isEmpty || ["To Be Filled By O.E.M.", "Default string", "System Serial Number", "Not Specified", "None"].contains(v) ? nil : v
            switch l[..<eq] {
            case "product_serial": f.serial = value
            case "sys_vendor": f.vendor = value
            case "product_name": f.product = value
            default: break
            }
        }
        return f
    }

    /// The facts as playbook variables, with Ansible's names where they exist.
    public static func variables(_ f: DeviceFacts) -> [String: Value] {
        var facts: [String: Value] = [
            "hostname": .string(f.hostname.split(separator: ".").first.map(String.init) ?? f.hostname), "fqdn": .string(f.fqdn),
            "distribution": .string(distribution(f)), "distribution_version": .string(f.osVersion),
            "distribution_major_version": .string(String(f.osVersion.split(separator: ".").first ?? "")), "os_family": .string(f.osFamily),
            "kernel": .string(f.kernel), "architecture": .string(f.architecture), "processor_vcpus": .int(f.cpuCount),
            "processor_count": .int(f.cpuCount), "memtotal_mb": .int(f.memoryMB), "memfree_mb": .int(f.memoryAvailableMB),
            "uptime_seconds": .int(f.uptimeSeconds), "interfaces": .list(f.interfaces.map { .string($0.name) }),
            "product_serial": .string(f.serial ?? ""), "system_vendor": .string(f.vendor ?? ""), "product_name": .string(f.product ?? ""),
            "processor": .list([.string(f.cpuModel)]),
            "pkg_mgr": .string(f.osFamily == "Debian" ? "apt" : "unknown"), "os_name": .string(f.osName),
        ]
        if let ip = f.primaryIPv4 {
            let iface = f.addresses.first { $0.family == "inet" && $0.address.hasPrefix(ip + "/") }?.interface ?? ""
            facts["default_ipv4"] = .map(["address": .string(ip), "interface": .string(iface),
                                          "macaddress": .string(f.interfaces.first { $0.name == iface }?.mac ?? "")])
        }
        return namespaced(facts)
    }

    /// A play's facts: parc's, with Ansible's own (gathered by the same script) over them.
    public static func variables(_ f: DeviceFacts, ansible: [String: Value]) -> [String: Value] {
        var facts = variables(f)["ansible_facts"]?.map ?? [:]
        for (k, v) in ansible { facts[k] = v }
        return namespaced(facts)
    }

    /// `ansible_facts.NAME` and `ansible_NAME`, as Ansible injects them.
    static func namespaced(_ facts: [String: Value]) -> [String: Value] {
        var out: [String: Value] = ["ansible_facts": .map(OrderedMap(ordered: facts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))]
        for (k, v) in facts { out["ansible_\(k)"] = v }
        return out
    }

    static func distribution(_ f: DeviceFacts) -> String {
        switch f.osID {
        case "debian": return "Debian"
        case "ubuntu": return "Ubuntu"
        case "linuxmint": return "Linux Mint"
        case "primtux": return "PrimTux"
        default: return f.osName.split(separator: " ").first.map(String.init) ?? f.osID.capitalized
        }
    }
}
