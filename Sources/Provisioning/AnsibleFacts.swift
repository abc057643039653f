import Foundation
import ParcCore
import Templating

/// The facts ansible-playbook's `setup` gathers on a Linux device, under its names, from the same
/// files and commands its collectors read (platform, distribution, lsb, pkg_mgr, service_mgr, user,
/// env, date_time, DMI, virtualization, CPU, memory, mounts, interfaces, default routes, SELinux,
/// AppArmor, Python), read by `FactGathering.script` in the same round trip as parc's own facts.
/// Each rule follows ansible-core's collector (module_utils/facts); the differential test compares
/// the result with `ansible -m setup` on the same lab device.
public enum AnsibleFacts {
    /// The shell part: one section per source (no Python, few processes: files are read with `read`).
    static let script = #"""
        echo '==uname=='; uname -snrvm
        echo '==debian_version=='; cat /etc/debian_version 2>/dev/null
        echo '==lsb=='
        if command -v lsb_release >/dev/null 2>&1; then lsb_release -a 2>/dev/null; elif [ -r /etc/lsb-release ]; then echo '#file'; cat /etc/lsb-release; fi
        echo '==probe=='
        for p in /usr/bin/apt-get /usr/bin/dnf /usr/bin/yum /usr/bin/zypper /sbin/apk /usr/bin/pacman /run/systemd/system/ /dev/.run/systemd/ /dev/.systemd/ \
          /etc/init/ /sbin/openrc /etc/init.d/ /.dockerenv /.dockerinit /proc/xen /dev/kvm /sys/kernel/security/apparmor /sys/fs/selinux/enforce \
          /sys/devices/virtual/dmi/id/product_name; do [ -e "$p" ] && echo "$p"; done
        for c in systemctl initctl lsblk findmnt python3; do v=$(command -v "$c" 2>/dev/null) && echo "$c=$v"; done
        [ -L /sbin/init ] && echo "init=$(readlink /sbin/init)"
        echo '==proc1=='; cat /proc/1/comm 2>/dev/null
        echo '==cgroup1=='; cat /proc/1/cgroup 2>/dev/null
        echo '==container=='; { tr '\0' '\n' < /proc/1/environ; } 2>/dev/null | grep '^container='; cat /run/systemd/container 2>/dev/null | sed 's/^/systemd=/'
        echo '==xen=='; cat /proc/xen/capabilities 2>/dev/null
        echo '==modules=='; cut -d' ' -f1 /proc/modules 2>/dev/null | grep -E '^(kvm|vboxdrv|virtio)$'
        echo '==cpuinfo=='; cat /proc/cpuinfo 2>/dev/null
        echo '==meminfo=='; cat /proc/meminfo 2>/dev/null
        echo '==nproc=='; nproc 2>/dev/null
        echo '==id=='; id
        echo '==passwd=='; getent passwd "$(id -u)"
        echo '==env=='; env
        echo '==date=='; date '+%Y|%m|%A|%w|%W|%d|%H|%M|%S|%s|%N|%Z|%z'
        echo '==tznames=='; y=$(date +%Y); printf '%s\n' "$y-01-01 12:00" "$y-07-01 12:00" | date -f - '+%Z %z' 2>/dev/null
        echo '==machine_id=='; cat /etc/machine-id 2>/dev/null || cat /var/lib/dbus/machine-id 2>/dev/null
        echo '==fips=='; cat /proc/sys/crypto/fips_enabled 2>/dev/null
        echo '==mounts=='; cat /proc/mounts
        echo '==statfs=='
        set --; while read -r d m t rest; do case "$d" in /*|*:/*) [ "$t" = none ] || set -- "$@" "$m";; esac; done < /proc/mounts
        [ $# -gt 0 ] && stat -f -c '%S %s %b %f %a %c %d %n' "$@" 2>/dev/null
        echo '==binds=='; command -v findmnt >/dev/null 2>&1 && findmnt --list --noheadings --notruncate 2>/dev/null | grep '\]'
        echo '==uuids=='; command -v lsblk >/dev/null 2>&1 && lsblk --list --noheadings --paths --output NAME,UUID --exclude 2 2>/dev/null
        echo '==dmi_all=='
        for f in bios_date bios_vendor bios_version board_asset_tag board_name board_serial board_vendor board_version chassis_asset_tag \
          chassis_serial chassis_vendor chassis_version chassis_type product_name product_serial product_uuid product_version product_family sys_vendor; do
          p=/sys/devices/virtual/dmi/id/$f
          if [ -r "$p" ]; then v=; { read -r v < "$p"; } 2>/dev/null; printf '%s=%s\n' "$f" "$v"; fi
        done
        # Without DMI in sysfs, Ansible asks dmidecode (root only), as parc's own facts do.
        if [ ! -e /sys/devices/virtual/dmi/id/product_name ] && command -v dmidecode >/dev/null 2>&1; then
          echo '#dmidecode'
          for kv in bios_date:bios-release-date bios_vendor:bios-vendor bios_version:bios-version board_asset_tag:baseboard-asset-tag \
            board_name:baseboard-product-name board_serial:baseboard-serial-number board_vendor:baseboard-manufacturer board_version:baseboard-version \
            chassis_asset_tag:chassis-asset-tag chassis_serial:chassis-serial-number chassis_vendor:chassis-manufacturer chassis_version:chassis-version \
            chassis_type:chassis-type product_name:system-product-name product_serial:system-serial-number product_uuid:system-uuid \
            product_version:system-version sys_vendor:system-manufacturer; do
            if out=$(dmidecode -s "${kv#*:}" 2>/dev/null); then printf '%s=%s\n' "${kv%%:*}" "$(printf '%s\n' "$out" | grep -v '^#' | tr -d '\n')"; fi
          done
        fi
        echo '==net=='
        for n in $(ls -f /sys/class/net 2>/dev/null); do
          p=/sys/class/net/$n; case $n in .|..) continue;; esac; [ -d "$p" ] || continue
          echo "iface $n"
          for f in address mtu operstate type flags speed; do
            if [ -r "$p/$f" ]; then v=; { read -r v < "$p/$f"; } 2>/dev/null && printf '%s %s\n' "$f" "$v"; fi
          done
          [ -e "$p/device/driver/module" ] && echo "module $(basename "$(readlink -f "$p/device/driver/module")")"
          [ -e "$p/device" ] && echo "pciid $(basename "$(readlink "$p/device")")"
          [ -e "$p/bridge" ] && echo "bridge $(ls "$p/brif" 2>/dev/null | tr '\n' ' ')"
          [ -e "$p/bonding" ] && echo "bonding"
        done
        echo '==addresses_all=='; ip addr show 2>/dev/null
        echo '==route4=='; ip -4 route get 8.8.8.8 2>/dev/null
        echo '==route6=='; ip -6 route get 2404:6800:400a:800::1012 2>/dev/null
        echo '==hostsname=='; a=$(getent hosts "$(uname -n)" | head -n 1); echo "$a"; set -- $a; [ -n "$1" ] && getent hosts "$1" | head -n 1
        echo '==selinux=='
        if [ -r /sys/fs/selinux/enforce ]; then read -r e < /sys/fs/selinux/enforce; echo "enforce=$e"; read -r v < /sys/fs/selinux/policyvers && echo "policyvers=$v"; grep -E '^SELINUX(TYPE)?=' /etc/selinux/config 2>/dev/null; fi
        echo '==python=='; command -v python3 >/dev/null 2>&1 && python3 -S -c 'import sys; print(*sys.version_info); print(sys.executable)' 2>/dev/null
        """#

    /// The facts, without the `ansible_` prefix, from the script's sections.
    public static func collect(_ sections: [String: [String]]) -> [String: Value] {
        func lines(_ s: String) -> [String] { (sections[s] ?? []).filter { !$0.trimmed.isEmpty } }
        func first(_ s: String) -> String? { lines(s).first?.trimmed }
        var f: [String: Value] = [:]
        let probe = Set(lines("probe").map(\.trimmed))
        var commands: [String: String] = [:]
        for l in probe { if let eq = l.firstIndex(of: "="), !l.hasPrefix("/") { commands[String(l[..<eq])] = String(l[l.index(after: eq)...]) } }

        // Platform: uname -snrvm (kernel_version may hold spaces; the machine is the last word).
        // Without it (an old recorded output), parc's own platform facts stand.
        guard let unameLine = first("uname") else { return [:] }
        let u = unameLine.split(separator: " ").map(String.init)
        let machine = u.count >= 5 ? u[u.count - 1] : ""
        let nodename = u.count >= 2 ? u[1] : ""
        f["system"] = .string(u.first ?? "Linux")
        f["kernel"] = .string(u.count >= 3 ? u[2] : "")
        f["kernel_version"] = .string(u.count >= 5 ? u[3..<(u.count - 1)].joined(separator: " ") : "")
        f["machine"] = .string(machine)
        f["architecture"] = .string(machine.count == 4 && machine.hasPrefix("i") && machine.hasSuffix("86") ? "i386" : machine)
        f["nodename"] = .string(nodename)
        f["hostname"] = .string(String(nodename.split(separator: ".").first ?? ""))
        // socket.getfqdn(): the host's name resolved, then its address resolved back; the first
        // name with a dot among the canonical name and its aliases, else the canonical name.
        let resolved = lines("hostsname").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        var fqdn = nodename
        if let back = resolved.count > 1 ? resolved[1] : resolved.first, back.count >= 2 {
            let names = Array(back.dropFirst())
            fqdn = names.first { $0.contains(".") } ?? names[0]
        }
        f["fqdn"] = .string(fqdn)
        f["domain"] = .string(fqdn.firstIndex(of: ".").map { String(fqdn[fqdn.index(after: $0)...]) } ?? "")
        f["userspace_bits"] = .string(machine.contains("64") ? "64" : "32")
        f["userspace_architecture"] = .string(machine)

        distribution(lines("os"), debianVersion: first("debian_version"), into: &f)
        f["lsb"] = .map(lsb(lines("lsb")))
        f["pkg_mgr"] = .string(probe.contains("/usr/bin/apt-get") ? "apt" : probe.contains("/usr/bin/dnf") ? "dnf"
                                : probe.contains("/usr/bin/yum") ? "yum" : probe.contains("/usr/bin/zypper") ? "zypper"
                                : probe.contains("/sbin/apk") ? "apk" : probe.contains("/usr/bin/pacman") ? "pacman" : "unknown")
        f["service_mgr"] = .string(serviceManager(proc1: first("proc1"), probe: probe, commands: commands, initLink: commands["init"]))
        user(id: first("id") ?? "", passwd: first("passwd") ?? "", env: lines("env"), into: &f)
        f["date_time"] = .map(dateTime(first("date") ?? "", tznames: lines("tznames")))
        if let id = first("machine_id") { f["machine_id"] = .string(id) }
        f["fips"] = .bool(first("fips") == "1")
        let dmi = dmiFacts(lines("dmi_all"))
        for (k, v) in dmi where !k.hasPrefix("_") { f[k] = v }
        virtualization(probe: probe, cgroup: lines("cgroup1"), container: lines("container"), xen: lines("xen"), modules: Set(lines("modules").map(\.trimmed)),
                       cpuinfo: lines("cpuinfo"), dmi: dmi, into: &f)
        cpu(lines("cpuinfo"), architecture: f["architecture"]?.string ?? "", nproc: Int(first("nproc") ?? ""), into: &f)
        memory(lines("meminfo"), into: &f)
        f["mounts"] = .list(mounts(lines("mounts"), statfs: lines("statfs"), binds: lines("binds"), uuids: lines("uuids")))
        network(lines("net"), addresses: sections["addresses_all"] ?? [], route4: first("route4"), route6: first("route6"), into: &f)
        f["selinux_python_present"] = .bool(true)
        f["selinux"] = .map(selinux(lines("selinux")))
        f["apparmor"] = .map(["status": .string(probe.contains("/sys/kernel/security/apparmor") ? "enabled" : "disabled")])
        let py = lines("python")
        if py.count >= 2 {
            let v = py[0].split(separator: " ").map(String.init)
            if v.count >= 5, let major = Int(v[0]), let minor = Int(v[1]), let micro = Int(v[2]), let serial = Int(v[4]) {
                f["python_version"] = .string("\(major).\(minor).\(micro)")
                f["python"] = .map(["executable": .string(py[1].trimmed), "has_sslcontext": .bool(true), "type": .string("cpython"),
                                    "version": .map(["major": .int(major), "minor": .int(minor), "micro": .int(micro), "releaselevel": .string(v[3]), "serial": .int(serial)]),
                                    "version_info": .list([.int(major), .int(minor), .int(micro), .string(v[3]), .int(serial)])])
            }
        }
        f["local"] = .map([:])
        f["gather_subset"] = .list([.string("all")])
        f["module_setup"] = .bool(true)
        return f
    }

    // MARK: Subsets (gather_subset) and filters (setup's filter)

    /// Fact names of the hardware, network and virtual subsets (the rest is the minimal set).
    static let hardwareKeys: Set<String> = [
        "processor", "processor_count", "processor_cores", "processor_vcpus", "processor_threads_per_core", "processor_nproc", "memtotal_mb",
        "memfree_mb", "swaptotal_mb", "swapfree_mb", "memory_mb", "mounts", "bios_date", "bios_vendor", "bios_version", "board_asset_tag",
        "board_name", "board_serial", "board_vendor", "board_version", "chassis_asset_tag", "chassis_serial", "chassis_vendor", "chassis_version",
        "form_factor", "product_name", "product_serial", "product_uuid", "product_version", "system_vendor", "uptime_seconds",
    ]
    static let networkKeys: Set<String> = ["interfaces", "default_ipv4", "default_ipv6", "all_ipv4_addresses", "all_ipv6_addresses"]
    static let virtualKeys: Set<String> = ["virtualization_type", "virtualization_role", "virtualization_tech_guest", "virtualization_tech_host"]
    /// Subset names Ansible accepts that parc maps onto its groups (the others are the minimal set's).
    static let subsetGroups: [String: String] = [
        "hardware": "hardware", "devices": "hardware", "dmi": "hardware", "mounts": "hardware", "network": "network", "interfaces": "network",
        "default_ipv4": "network", "default_ipv6": "network", "all_ipv4_addresses": "network", "all_ipv6_addresses": "network",
        "virtual": "virtual", "min": "min", "all": "all",
    ]
    static let minimalSubsets: Set<String> = ["apparmor", "caps", "cmdline", "date_time", "distribution", "dns", "env", "fips", "local", "lsb",
                                              "pkg_mgr", "platform", "python", "selinux", "service_mgr", "ssh_pub_keys", "user", "ohai", "facter"]

    /// The facts a `gather_subset` keeps (`all` by default; `!x` leaves x out; `min` is always kept).
    public static func subset(_ facts: [String: Value], _ subsets: [String]) throws -> [String: Value] {
        var include = Set<String>(), exclude = Set<String>()
        for raw in subsets {
            let s = raw.trimmed
            let name = s.hasPrefix("!") ? String(s.dropFirst()) : s
            guard subsetGroups[name] != nil || minimalSubsets.contains(name) else {
                let allowed = (Array(subsetGroups.keys) + Array(minimalSubsets)).sorted().joined(separator: ", ")
                throw ModuleFailure("Bad subset '\(name)' given to Ansible. gather_subset options allowed: \(allowed)")
            }
            if s.hasPrefix("!") { exclude.insert(subsetGroups[name] ?? name) } else { include.insert(subsetGroups[name] ?? name) }
        }
        if include.isEmpty && !exclude.contains("all") { include = ["all"] }
        var groups: Set<String> = include.contains("all") ? ["hardware", "network", "virtual"] : include.intersection(["hardware", "network", "virtual"])
        if exclude.contains("all") && !include.contains("all") { groups = include.intersection(["hardware", "network", "virtual"]) }
        groups.subtract(exclude)
        let interfaces = Set((facts["interfaces"]?.list ?? []).compactMap { $0.string.map { $0.replacingOccurrences(of: "-", with: "_") } })
        var out = facts.filter { key, _ in
            let group = hardwareKeys.contains(key) ? "hardware" : networkKeys.contains(key) || interfaces.contains(key) ? "network"
                : virtualKeys.contains(key) ? "virtual" : "min"
            return group == "min" || groups.contains(group)
        }
        out["gather_subset"] = .list(subsets.map { .string($0.trimmed) })
        return out
    }

    /// setup's `filter`: facts whose `ansible_` name matches one of the shell patterns.
    public static func filter(_ facts: [String: Value], _ patterns: [String]) -> [String: Value] {
        guard !patterns.isEmpty else { return facts }
        return facts.filter { key, _ in patterns.contains { fnmatch($0, "ansible_" + key, 0) == 0 || fnmatch($0, key, 0) == 0 } }
    }

    // MARK: Distribution (ansible's Distribution collector and the `distro` library it bundles)

    static func distribution(_ osRelease: [String], debianVersion: String?, into f: inout [String: Value]) {
        var os: [String: String] = [:]
        for l in osRelease {
            guard let eq = l.firstIndex(of: "=") else { continue }
            var v = String(l[l.index(after: eq)...]).trimmed
            if v.count >= 2, (v.hasPrefix("\"") && v.hasSuffix("\"")) || (v.hasPrefix("'") && v.hasSuffix("'")) { v = String(v.dropFirst().dropLast()) }
            os[String(l[..<eq]).trimmed] = v
        }
        let data = osRelease.joined(separator: "\n")
        let id = os["ID"] ?? ""
        let like = (os["ID_LIKE"] ?? "").split(separator: " ").map(String.init)
        var name: String
        var release = os["VERSION_CODENAME"].flatMap { $0.isEmpty ? nil : $0 } ?? os["UBUNTU_CODENAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "NA"
        var version = os["VERSION_ID"] ?? ""
        if data.contains("Debian") || data.contains("Raspbian") {
            name = "Debian"
            // PRETTY_NAME="Debian GNU/Linux 12 (bookworm)" gives the release.
            if let pretty = os["PRETTY_NAME"], let open = pretty.lastIndex(of: "("), let close = pretty.lastIndex(of: ")"), open < close {
                release = String(pretty[pretty.index(after: open)..<close])
            }
            // The `distro` library's best version: /etc/debian_version when it is a number.
            if let dv = debianVersion, dv.first?.isNumber == true { version = dv }
        } else if data.contains("Ubuntu") {
            name = "Ubuntu"
        } else if data.contains("Mint") {
            name = "Linux Mint"
        } else {
            name = os["NAME"].map { $0 } ?? id.capitalized
            if id == "primtux" { name = "PrimTux" }
        }
        let parts = version.split(separator: ".").map(String.init)
        f["distribution"] = .string(name)
        f["distribution_version"] = .string(version.isEmpty ? "NA" : version)
        f["distribution_major_version"] = .string(parts.first ?? "NA")
        if let dv = debianVersion, name == "Debian", let dot = dv.firstIndex(of: ".") {
            f["distribution_minor_version"] = .string(String(dv[dv.index(after: dot)...].prefix { $0.isNumber }))
        } else if parts.count > 1 {
            f["distribution_minor_version"] = .string(parts[1])
        }
        f["distribution_release"] = .string(release)
        let debianFamily = id == "debian" || like.contains("debian") || like.contains("ubuntu") || ["Debian", "Ubuntu", "Linux Mint"].contains(name)
        f["os_family"] = .string(debianFamily ? "Debian" : (id == "fedora" || like.contains("rhel") || like.contains("fedora") ? "RedHat" : name))
        if debianFamily {
            f["distribution_file_variety"] = .string("Debian")
            f["distribution_file_path"] = .string("/etc/os-release")
            f["distribution_file_parsed"] = .bool(true)
        }
    }

    /// `lsb_release -a`, or /etc/lsb-release (a `#file` line first).
    static func lsb(_ lines: [String]) -> OrderedMap {
        var out = OrderedMap()
        let fromFile = lines.first == "#file"
        for l in lines where l != "#file" {
            let sep: Character = fromFile ? "=" : ":"
            guard let i = l.firstIndex(of: sep) else { continue }
            let key = String(l[..<i]).trimmed
            var v = String(l[l.index(after: i)...]).trimmed
            if v.count >= 2, v.hasPrefix("\""), v.hasSuffix("\"") { v = String(v.dropFirst().dropLast()) }
            switch key {
            case "Distributor ID", "DISTRIB_ID": out["id"] = .string(v)
            case "Release", "DISTRIB_RELEASE": out["release"] = .string(v)
            case "Description", "DISTRIB_DESCRIPTION": out["description"] = .string(v)
            case "Codename", "DISTRIB_CODENAME": out["codename"] = .string(v)
            default: break
            }
        }
        if let r = out["release"]?.string { out["major_release"] = .string(String(r.split(separator: ".").first ?? "")) }
        return out
    }

    /// Ansible's ServiceMgr collector: pid 1's name unless it is `init` or a shell, then systemd's
    /// marks, upstart, OpenRC, SysV init, else `service`.
    static func serviceManager(proc1: String?, probe: Set<String>, commands: [String: String], initLink: String?) -> String {
        let map = ["procd": "openwrt_init", "runit-init": "runit", "svscan": "svc", "openrc-init": "openrc"]
        if var p = proc1 ?? initLink {
            p = (p as NSString).lastPathComponent.trimmed
            if !p.isEmpty && p != "init" && !p.hasSuffix("sh") { return map[p] ?? p }
        }
        let systemctl = commands["systemctl"] != nil
        if systemctl && (probe.contains("/run/systemd/system/") || probe.contains("/dev/.run/systemd/") || probe.contains("/dev/.systemd/")) { return "systemd" }
        if commands["initctl"] != nil && probe.contains("/etc/init/") { return "upstart" }
        if probe.contains("/sbin/openrc") { return "openrc" }
        if systemctl, let link = initLink, (link as NSString).lastPathComponent == "systemd" { return "systemd" }
        if probe.contains("/etc/init.d/") { return "sysvinit" }
        return "service"
    }

    /// The user facts (getpass.getuser(): LOGNAME, USER, LNAME, USERNAME, else the account's name).
    static func user(id: String, passwd: String, env: [String], into f: inout [String: Value]) {
        var vars: [String: String] = [:]
        var envMap = OrderedMap()
        var last: String?
        for l in env {
            if let eq = l.firstIndex(of: "="), !l[..<eq].contains(" ") {
                let k = String(l[..<eq]), v = String(l[l.index(after: eq)...])
                vars[k] = v
                envMap[k] = .string(v)
                last = k
            } else if let k = last, case .string(let v)? = envMap[k] {
                // A value spanning lines.
                envMap[k] = .string(v + "\n" + l)
                vars[k] = v + "\n" + l
            }
        }
        f["env"] = .map(envMap)
        // `uid=1000(eleve) gid=1000(eleve) groups=…`
        func number(_ key: String) -> (Int, String)? {
            guard let r = id.range(of: key + "=") else { return nil }
            let rest = id[r.upperBound...]
            let digits = rest.prefix { $0.isNumber }
            var name = ""
            if rest.dropFirst(digits.count).first == "(" { name = String(rest.dropFirst(digits.count + 1).prefix { $0 != ")" }) }
            return Int(digits).map { ($0, name) }
        }
        let uid = number("uid"), gid = number("gid")
        let pw = passwd.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let name = ["LOGNAME", "USER", "LNAME", "USERNAME"].lazy.compactMap { vars[$0] }.first ?? (pw.first ?? uid?.1 ?? "")
        f["user_id"] = .string(name)
        if let uid { f["user_uid"] = .int(uid.0); f["real_user_id"] = .int(uid.0); f["effective_user_id"] = .int(uid.0) }
        if let gid { f["user_gid"] = .int(gid.0); f["real_group_id"] = .int(gid.0); f["effective_group_id"] = .int(gid.0) }
        if pw.count >= 7 {
            f["user_gecos"] = .string(pw[4])
            f["user_dir"] = .string(pw[5])
            f["user_shell"] = .string(pw[6])
        }
    }

    /// `date '+%Y|%m|%A|%w|%W|%d|%H|%M|%S|%s|%N|%Z|%z'`, and the zone's names in January and July.
    static func dateTime(_ line: String, tznames: [String]) -> OrderedMap {
        let p = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard p.count >= 13, let epoch = Int(p[9]) else { return OrderedMap() }
        let micro = String(p[10].prefix(6))
        var d = OrderedMap()
        d["year"] = .string(p[0]); d["month"] = .string(p[1]); d["weekday"] = .string(p[2]); d["weekday_number"] = .string(p[3])
        d["weeknumber"] = .string(p[4]); d["day"] = .string(p[5]); d["hour"] = .string(p[6]); d["minute"] = .string(p[7]); d["second"] = .string(p[8])
        d["epoch"] = .string(p[9]); d["epoch_int"] = .string(p[9])
        d["date"] = .string("\(p[0])-\(p[1])-\(p[5])"); d["time"] = .string("\(p[6]):\(p[7]):\(p[8])")
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let c = utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(epoch)))
        func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        let utcText = "\(c.year ?? 1970)-\(two(c.month))-\(two(c.day))T\(two(c.hour)):\(two(c.minute)):\(two(c.second))"
        d["iso8601_micro"] = .string(utcText + ".\(micro)Z")
        d["iso8601"] = .string(utcText + "Z")
        d["iso8601_basic"] = .string("\(p[0])\(p[1])\(p[5])T\(p[6])\(p[7])\(p[8])\(micro)")
        d["iso8601_basic_short"] = .string("\(p[0])\(p[1])\(p[5])T\(p[6])\(p[7])\(p[8])")
        d["tz"] = .string(p[11])
        // time.tzname[1]: the daylight-saving name (the one with the larger offset), or the only one.
        let names = tznames.map { $0.split(separator: " ").map(String.init) }.filter { $0.count == 2 }
        var dst = p[11]
        if names.count == 2 { dst = (Int(names[1][1]) ?? 0) >= (Int(names[0][1]) ?? 0) ? names[1][0] : names[0][0] }
        d["tz_dst"] = .string(dst)
        d["tz_offset"] = .string(p[12])
        return d
    }

    static let formFactors = ["Unknown", "Other", "Unknown", "Desktop", "Low Profile Desktop", "Pizza Box", "Mini Tower", "Tower", "Portable", "Laptop",
                              "Notebook", "Hand Held", "Docking Station", "All In One", "Sub Notebook", "Space-saving", "Lunch Box", "Main Server Chassis",
                              "Expansion Chassis", "Sub Chassis", "Bus Expansion Chassis", "Peripheral Chassis", "RAID Chassis", "Rack Mount Chassis",
                              "Sealed-case PC", "Multi-system", "CompactPCI", "AdvancedTCA", "Blade", "Blade Enclosure", "Tablet", "Convertible",
                              "Detachable", "IoT Gateway", "Embedded PC", "Mini PC", "Stick PC"]

    /// DMI from sysfs; `NA` for what cannot be read (serials need root).
    static func dmiFacts(_ lines: [String]) -> [String: Value] {
        var raw: [String: String] = [:]
        for l in lines { if let eq = l.firstIndex(of: "=") { raw[String(l[..<eq])] = String(l[l.index(after: eq)...]).trimmed } }
        // dmidecode names the chassis type itself.
        let fromDmidecode = lines.contains("#dmidecode")
        var out: [String: Value] = [:]
        let keys = ["bios_date", "bios_vendor", "bios_version", "board_asset_tag", "board_name", "board_serial", "board_vendor", "board_version",
                    "chassis_asset_tag", "chassis_serial", "chassis_vendor", "chassis_version", "product_name", "product_serial", "product_uuid",
                    "product_version"]
        for k in keys { out[k] = .string(raw[k] ?? "NA") }
        out["system_vendor"] = .string(raw["sys_vendor"] ?? "NA")
        if let t = raw["chassis_type"], fromDmidecode {
            out["form_factor"] = .string(t)
        } else if let t = raw["chassis_type"] {
            out["form_factor"] = .string(Int(t).flatMap { $0 >= 0 && $0 < formFactors.count ? formFactors[$0] : nil } ?? "unknown \(t)")
        } else {
            out["form_factor"] = .string("NA")
        }
        if let family = raw["product_family"] { out["_product_family"] = .string(family) }
        return out
    }

    /// Ansible's LinuxVirtual collector, in its order: containers, Xen, DMI names, cpuinfo, kernel modules, /dev/kvm.
    static func virtualization(probe: Set<String>, cgroup: [String], container: [String], xen: [String], modules: Set<String>,
                               cpuinfo: [String], dmi: [String: Value], into f: inout [String: Value]) {
        var type: String?, role: String?
        var guest = Set<String>(), host = Set<String>()
        func found(_ t: String, _ r: String?, guestTech: Bool = true) {
            if guestTech { guest.insert(t) } else { host.insert(t) }
            if type == nil { type = t; role = r }
        }
        for l in cgroup {
            if l.range(of: #"/docker(/|-[0-9a-f]+\.scope)"#, options: .regularExpression) != nil { found("docker", "guest") }
            if l.contains("/lxc/") || l.contains("/machine.slice/machine-lxc") { found("lxc", "guest") }
            if l.contains("/system.slice/containerd.service") { found("containerd", "guest") }
        }
        var systemdContainer: String?
        for l in container {
            if l.hasPrefix("systemd=") { systemdContainer = String(l.dropFirst(8)).trimmed; continue }
            if l.contains("container=lxc") { found("lxc", "guest") }
            if l.contains("container=podman") { found("podman", "guest") }
            if l.hasPrefix("container="), l.count > 10 { found("container", "guest") }
        }
        if let s = systemdContainer, !s.isEmpty { found(s, "guest") }
        if probe.contains("/.dockerenv") || probe.contains("/.dockerinit") { found("docker", "guest") }
        if !guest.intersection(["docker", "lxc", "podman", "openvz", "containerd"]).isEmpty || systemdContainer != nil { guest.insert("container") }
        if probe.contains("/proc/xen") {
            if xen.contains(where: { $0.contains("control_d") }) { found("xen", "host", guestTech: false) } else { found("xen", "guest") }
        }
        let product = dmi["product_name"]?.string, vendor = dmi["system_vendor"]?.string, bios = dmi["bios_vendor"]?.string
        let family = dmi["_product_family"]?.string
        if ["KVM", "KVM Server", "Bochs", "AHV"].contains(product ?? "") { found("kvm", "guest") }
        if vendor == "oVirt" { found("oVirt", "guest") }
        if vendor == "Red Hat" { if family == "RHV" { found("RHV", "guest") } else if product == "RHEV Hypervisor" { found("RHEV", "guest") } }
        if product?.hasPrefix("VMware") == true { found("VMware", "guest") }
        if ["OpenStack Compute", "OpenStack Nova"].contains(product ?? "") { found("openstack", "guest") }
        if bios == "Xen" { found("xen", "guest") }
        if bios == "innotek GmbH" { found("virtualbox", "guest") }
        if ["Amazon EC2", "DigitalOcean", "Hetzner"].contains(bios ?? "") { found("kvm", "guest") }
        if ["QEMU", "Amazon EC2", "DigitalOcean", "Google", "Scaleway", "Nutanix"].contains(vendor ?? "") { found("kvm", "guest") }
        if vendor == "KubeVirt" { found("KubeVirt", "guest") }
        if vendor == "Microsoft Corporation" { found("VirtualPC", "guest") }
        if vendor == "Parallels Software International Inc." { found("parallels", "guest") }
        if vendor == "OpenStack Foundation" { found("openstack", "guest") }
        for l in cpuinfo {
            if l.hasPrefix("model name"), l.contains("QEMU Virtual CPU") { found("kvm", "guest") }
            else if l.hasPrefix("vendor_id"), l.contains("User Mode Linux") { found("uml", "guest") }
            else if l.hasPrefix("model name"), l.contains("UML") { found("uml", "guest") }
        }
        if modules.contains("kvm") { found("kvm", "host", guestTech: false) }
        if modules.contains("vboxdrv") { found("virtualbox", "host", guestTech: false) }
        if modules.contains("virtio") { host.insert("kvm"); if type == nil { type = "kvm"; role = "guest" } }
        if probe.contains("/dev/kvm") { found("kvm", "host", guestTech: false) }
        f["virtualization_type"] = .string(type ?? "NA")
        f["virtualization_role"] = .string(role ?? "NA")
        f["virtualization_tech_guest"] = .list(guest.sorted().map(Value.string))
        f["virtualization_tech_host"] = .list(host.sorted().map(Value.string))
    }

    /// The CPU facts of Ansible's LinuxHardware (x86 and ARM).
    static func cpu(_ cpuinfo: [String], architecture: String, nproc: Int?, into f: inout [String: Value]) {
        var processor: [Value] = []
        var sockets: [(String, Int)] = [], cores: [(String, Int)] = []
        var physid = "", coreid = ""
        var i = 0, vendorCount = 0, modelCount = 0, processorCount = 0
        func set(_ list: inout [(String, Int)], _ key: String, _ value: Int, onlyNew: Bool) {
            if let at = list.firstIndex(where: { $0.0 == key }) { if !onlyNew { list[at].1 = value } } else { list.append((key, value)) }
        }
        for l in cpuinfo {
            let parts = l.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0]).trimmed
            let val = parts.count > 1 ? String(parts[1]).trimmed : ""
            switch key {
            case "model name", "Processor", "vendor_id", "cpu", "Vendor", "processor":
                processor.append(.string(val))
                if key == "vendor_id" { vendorCount += 1 }
                if key == "model name" { modelCount += 1 }
                if key == "processor" { processorCount += 1 }
                i += 1
            case "physical id": physid = val; set(&sockets, val, 1, onlyNew: true)
            case "core id": coreid = val; set(&cores, val, 1, onlyNew: true)
            case "cpu cores": set(&sockets, physid, Int(val) ?? 1, onlyNew: false)
            case "siblings": set(&cores, coreid, Int(val) ?? 1, onlyNew: false)
            default: break
            }
        }
        if vendorCount > 0, vendorCount == modelCount { i = vendorCount }
        if architecture.hasPrefix("armv") || architecture.hasPrefix("aarch") || architecture.hasPrefix("ppc") { i = processorCount }
        let count = sockets.isEmpty ? i : sockets.count
        let coresPer = (sockets.first?.1).flatMap { $0 == 0 ? nil : $0 } ?? 1
        let threads = cores.isEmpty ? Int((1.0 / Double(coresPer)).rounded(.toNearestOrEven)) : Int((Double(cores[0].1) / Double(coresPer)).rounded(.toNearestOrEven))
        f["processor"] = .list(processor)
        f["processor_count"] = .int(count)
        f["processor_cores"] = .int(coresPer)
        f["processor_threads_per_core"] = .int(threads)
        f["processor_vcpus"] = .int(threads * count * coresPer)
        f["processor_nproc"] = .int(nproc ?? processorCount)
    }

    /// Memory in MB as Ansible computes it (integer division of kB by 1024).
    static func memory(_ meminfo: [String], into f: inout [String: Value]) {
        var kb: [String: Int] = [:]
        for l in meminfo {
            let p = l.split(separator: " ", omittingEmptySubsequences: true)
            if p.count >= 2, let v = Int(p[1]) { kb[String(p[0].dropLast())] = v / 1024 }
        }
        let total = kb["MemTotal"] ?? 0, free = kb["MemFree"] ?? 0, buffers = kb["Buffers"] ?? 0, cached = kb["Cached"] ?? 0
        let swapTotal = kb["SwapTotal"] ?? 0, swapFree = kb["SwapFree"] ?? 0, swapCached = kb["SwapCached"] ?? 0
        f["memtotal_mb"] = .int(total)
        f["memfree_mb"] = .int(free)
        f["swaptotal_mb"] = .int(swapTotal)
        f["swapfree_mb"] = .int(swapFree)
        let nocacheFree = free + buffers + cached
        f["memory_mb"] = .map(["real": .map(["total": .int(total), "used": .int(total - free), "free": .int(free)]),
                               "nocache": .map(["free": .int(nocacheFree), "used": .int(total - nocacheFree)]),
                               "swap": .map(["total": .int(swapTotal), "free": .int(swapFree), "used": .int(swapTotal - swapFree), "cached": .int(swapCached)])])
    }

    /// /proc/mounts entries of block devices and network shares, with statvfs sizes and lsblk's UUIDs.
    static func mounts(_ lines: [String], statfs: [String], binds: [String], uuids: [String]) -> [Value] {
        var sizes: [String: [Int]] = [:]
        for l in statfs {
            let p = l.split(separator: " ", maxSplits: 7, omittingEmptySubsequences: false).map(String.init)
            guard p.count == 8 else { continue }
            sizes[p[7]] = p[0..<7].compactMap { Int($0) }
        }
        let bound = Set(binds.compactMap { $0.split(separator: " ").first.map(String.init) })
        var uuid: [String: String] = [:]
        for l in uuids {
            let p = l.trimmed.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if p.count >= 2, uuid[p[0]] == nil { uuid[p[0]] = p[p.count - 1] }
        }
        var out: [Value] = []
        for l in lines {
            let p = l.split(separator: " ", omittingEmptySubsequences: true).map { unescapeOctal(String($0)) }
            guard p.count >= 6 else { continue }
            let (device, mount, fstype) = (p[0], p[1], p[2])
            if (!device.hasPrefix("/") && !device.hasPrefix("\\") && !device.contains(":/")) || fstype == "none" { continue }
            var options = p[3]
            if bound.contains(mount), options.range(of: #"(^|,)bind($|,)"#, options: .regularExpression) == nil { options += ",bind" }
            var m: OrderedMap = ["mount": .string(mount), "device": .string(device), "fstype": .string(fstype), "options": .string(options),
                                 "dump": .int(Int(p[4]) ?? 0), "passno": .int(Int(p[5]) ?? 0)]
            if let s = sizes[mount], s.count == 7 {
                let (frsize, bsize, blocks, bfree, bavail, files, ffree) = (s[0], s[1], s[2], s[3], s[4], s[5], s[6])
                m["size_total"] = .int(frsize * blocks); m["size_available"] = .int(frsize * bavail)
                m["block_size"] = .int(bsize); m["block_total"] = .int(blocks); m["block_available"] = .int(bavail); m["block_used"] = .int(blocks - bfree)
                m["inode_total"] = .int(files); m["inode_available"] = .int(ffree); m["inode_used"] = .int(files - ffree)
            }
            m["uuid"] = .string(uuid[device].flatMap { $0.isEmpty ? nil : $0 } ?? "N/A")
            out.append(.map(m))
        }
        return out
    }

    static func unescapeOctal(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        return s.replacingOccurrences(of: "\\040", with: " ").replacingOccurrences(of: "\\011", with: "\t")
            .replacingOccurrences(of: "\\012", with: "\n").replacingOccurrences(of: "\\134", with: "\\")
    }

    static let interfaceTypes = ["1": "ether", "32": "infiniband", "512": "ppp", "772": "loopback", "65534": "tunnel"]

    /// Interfaces from sysfs and `ip addr show`, default routes from `ip route get` (LinuxNetwork).
    static func network(_ net: [String], addresses: [String], route4: String?, route6: String?, into f: inout [String: Value]) {
        var order: [String] = []
        var ifaces: [String: OrderedMap] = [:]
        // The address file as read (Ansible's default routes take it even when it is all zeros).
        var rawMac: [String: String] = [:]
        var current = ""
        for l in net {
            let p = l.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let key = p[0], value = p.count > 1 ? p[1].trimmed : ""
            if key == "iface" { current = value; order.append(value); ifaces[value] = ["device": .string(value)]; continue }
            guard var i = ifaces[current] else { continue }
            switch key {
            case "address":
                rawMac[current] = value
                if !value.isEmpty && value != "00:00:00:00:00:00" { i["macaddress"] = .string(value) }
            case "mtu": if let n = Int(value) { i["mtu"] = .int(n) }
            case "operstate": i["active"] = .bool(value != "down")
            case "type": i["type"] = .string(interfaceTypes[value] ?? "unknown")
            case "flags": if let n = Int(value.hasPrefix("0x") ? String(value.dropFirst(2)) : value, radix: 16) { i["promisc"] = .bool(n & 0x100 != 0) }
            case "speed": if let n = Int(value) { i["speed"] = .int(n) }
            case "module": i["module"] = .string(value)
            case "pciid": i["pciid"] = .string(value)
            case "bridge": i["type"] = .string("bridge"); i["interfaces"] = .list(value.split(separator: " ").map { .string(String($0)) })
            case "bonding": i["type"] = .string("bonding")
            default: break
            }
            ifaces[current] = i
        }
        // Keys in Ansible's order of insertion matter little; values do.
        func words(_ s: String) -> [String] { s.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        var v4: OrderedMap = [:], v6: OrderedMap = [:]
        for (route, target, into) in [(route4, "8.8.8.8", 4), (route6, "2404:6800:400a:800::1012", 6)] {
            guard let route else { continue }
            let w = words(route)
            guard w.first == target else { continue }
            var m = OrderedMap()
            for k in 0..<(w.count - 1) {
                if w[k] == "dev" { m["interface"] = .string(w[k + 1]) }
                else if w[k] == "src" { m["address"] = .string(w[k + 1]) }
                else if w[k] == "via", w[k + 1] != target { m["gateway"] = .string(w[k + 1]) }
            }
            if into == 4 { v4 = m } else { v6 = m }
        }
        var all4: [Value] = [], all6: [Value] = []
        // `ip addr show`: an interface's header line, then `inet …` / `inet6 …` lines.
        var blocks: [String: [String]] = [:]
        var dev = ""
        for l in addresses {
            if let c = l.first, c.isNumber, let colon = l.firstIndex(of: ":") {
                let rest = l[l.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                dev = String(rest.prefix { $0 != ":" && $0 != "@" })
                continue
            }
            blocks[dev, default: []].append(l.trimmed)
        }
        for device in order {
            guard var i = ifaces[device] else { continue }
            let lines = blocks[device] ?? []
            let primaries = lines.filter { $0.hasPrefix("inet ") && !words($0).contains("secondary") }
            let secondaries = lines.filter { $0.hasPrefix("inet ") && words($0).contains("secondary") }
            func ipv4(_ line: String) -> (OrderedMap, String, String) {
                let w = words(line)
                let cidr = w[1].split(separator: "/").map(String.init)
                let address = cidr[0], prefix = cidr.count > 1 ? cidr[1] : "32"
                let broadcast = w.count > 3 && w[2] == "brd" ? w[3] : ""
                let bits = UInt32(Int(prefix) ?? 32)
                let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
                let a = address.split(separator: ".").compactMap { UInt32($0) }.reduce(UInt32(0)) { $0 << 8 | $1 }
                func dotted(_ n: UInt32) -> String { [24, 16, 8, 0].map { String((n >> UInt32($0)) & 0xff) }.joined(separator: ".") }
                return (["address": .string(address), "broadcast": .string(broadcast), "netmask": .string(dotted(mask)),
                         "network": .string(dotted(a & mask)), "prefix": .string(prefix)], address, w[w.count - 1])
            }
            func fillDefault(_ m: OrderedMap, label: String) {
                for k in ["broadcast", "netmask", "network", "prefix"] { v4[k] = m[k] }
                v4["macaddress"] = .string(rawMac[device] ?? "")
                v4["mtu"] = i["mtu"]; v4["type"] = i["type"] ?? .string("unknown"); v4["alias"] = .string(label)
            }
            for (n, line) in primaries.enumerated() {
                let (m, address, label) = ipv4(line)
                if n == 0, i["ipv4"] == nil { i["ipv4"] = .map(m) } else { i["ipv4_secondaries"] = .list((i["ipv4_secondaries"]?.list ?? []) + [.map(m)]) }
                if v4["address"]?.string == address { fillDefault(m, label: label) }
                if !address.hasPrefix("127.") { all4.append(.string(address)) }
            }
            for line in secondaries {
                let (m, address, label) = ipv4(line)
                i["ipv4_secondaries"] = .list((i["ipv4_secondaries"]?.list ?? []) + [.map(m)])
                if v4["address"]?.string == address { fillDefault(m, label: label) }
                if !address.hasPrefix("127.") { all4.append(.string(address)) }
            }
            for line in lines where line.hasPrefix("inet6 ") {
                let w = words(line)
                let address: String, prefix: String, scope: String
                if w.count > 5, w[2] == "peer" {
                    address = w[1]; prefix = String(w[3].split(separator: "/").last ?? ""); scope = w[5]
                } else {
                    let cidr = w[1].split(separator: "/").map(String.init)
                    address = cidr[0]; prefix = cidr.count > 1 ? cidr[1] : "128"; scope = w.count > 3 ? w[3] : ""
                }
                i["ipv6"] = .list((i["ipv6"]?.list ?? []) + [.map(["address": .string(address), "prefix": .string(prefix), "scope": .string(scope)])])
                if v6["address"]?.string == address {
                    v6["prefix"] = .string(prefix); v6["scope"] = .string(scope)
                    v6["macaddress"] = .string(rawMac[device] ?? ""); v6["mtu"] = i["mtu"]; v6["type"] = i["type"] ?? .string("unknown")
                }
                if address != "::1" { all6.append(.string(address)) }
            }
            ifaces[device] = i
        }
        f["interfaces"] = .list(order.map { .string($0.replacingOccurrences(of: ":", with: "_")) })
        for device in order { if let i = ifaces[device] { f[device.replacingOccurrences(of: ":", with: "_").replacingOccurrences(of: "-", with: "_")] = .map(i) } }
        f["default_ipv4"] = .map(v4)
        f["default_ipv6"] = .map(v6)
        f["all_ipv4_addresses"] = .list(all4)
        f["all_ipv6_addresses"] = .list(all6)
    }

    static func selinux(_ lines: [String]) -> OrderedMap {
        var kv: [String: String] = [:]
        for l in lines { if let eq = l.firstIndex(of: "=") { kv[String(l[..<eq])] = String(l[l.index(after: eq)...]).trimmed } }
        guard let enforce = kv["enforce"] else { return ["status": .string("disabled")] }
        var m: OrderedMap = ["status": .string("enabled"), "mode": .string(enforce == "1" ? "enforcing" : "permissive")]
        if let v = kv["policyvers"], let n = Int(v) { m["policyvers"] = .int(n) }
        if let c = kv["SELINUX"] { m["config_mode"] = .string(c) }
        if let t = kv["SELINUXTYPE"] { m["type"] = .string(t) }
        return m
    }
}
