"""/sys/class/net, /proc/net/bonding and ethtool 6.1, as a root shell on the host sees them.

`ls -l /sys/class/net` is how the scanner tells physical NICs (a link into the PCI tree) from
virtual devices (a link into devices/virtual/net). ethtool's layout per driver (veth, tun, bridge,
vxlan, loopback) was copied from ethtool 6.1 run on real devices; physical NICs follow ixgbe (10G,
direct-attach) and igb (1G, twisted pair) as recorded on real hosts.
"""

from __future__ import annotations

from lab.hostmodel import Interface
from lab.hosts.iproute import active_slave, pci_address
from lab.hosts.view import HostView

Result = tuple[int, str, str]
LS_DATE = "Jan  1 00:00"  # when the host booted: every sysfs entry has that time
_NO_SUCH_DEVICE = ("netlink error: no device matches name (offset 24)\n"
                   "netlink error: No such device\n") * 5
_MSGLVL_DRV_PROBE_LINK = ("        Current message level: 0x00000007 (7)\n"
                          "                               drv probe link\n")
_MSGLVL_NONE = ("        Current message level: 0x00000000 (0)\n"
                "                              \n")


# -- ethtool -------------------------------------------------------------------------------------

def _modes_block(prefix: str, modes: list[str]) -> str:
    """`Supported link modes:   a b` with further modes on lines aligned under the first."""
    if not modes:
        return f"\t{prefix}Not reported\n"
    rows = [modes[i:i + 2] for i in range(0, len(modes), 2)]  # ethtool pairs modes of one speed
    text = f"\t{prefix}{' '.join(rows[0])}\n"
    return text + "".join(f"\t{' ' * len(prefix)}{' '.join(row)}\n" for row in rows[1:])


def _virtual_settings(name: str, speed: str, duplex: str, port: str, mdix: bool, msglvl: str, link: bool) -> str:
    return (f"Settings for {name}:\n"
            "\tSupported ports: [  ]\n"
            "\tSupported link modes:   Not reported\n"
            "\tSupported pause frame use: No\n"
            "\tSupports auto-negotiation: No\n"
            "\tSupported FEC modes: Not reported\n"
            "\tAdvertised link modes:  Not reported\n"
            "\tAdvertised pause frame use: No\n"
            "\tAdvertised auto-negotiation: No\n"
            "\tAdvertised FEC modes: Not reported\n"
            f"\tSpeed: {speed}\n"
            f"\tDuplex: {duplex}\n"
            "\tAuto-negotiation: off\n"
            f"\tPort: {port}\n"
            "\tPHYAD: 0\n"
            "\tTransceiver: internal\n"
            + ("\tMDI-X: Unknown\n" if mdix else "")
            + msglvl
            + f"\tLink detected: {'yes' if link else 'no'}\n")


def _physical_settings(interface: Interface, link: bool, with_driver_lines: bool = True) -> str:
    speed = interface.speed_mbps or 10000
    name = interface.name
    if speed >= 10000:
        mode = "10000baseT/Full" if speed == 10000 else f"{speed}baseCR/Full"
        text = (f"Settings for {name}:\n"
                "\tSupported ports: [ FIBRE ]\n"
                + _modes_block("Supported link modes:   ", [mode])
                + "\tSupported pause frame use: Symmetric\n"
                "\tSupports auto-negotiation: No\n"
                "\tSupported FEC modes: Not reported\n"
                + _modes_block("Advertised link modes:  ", [mode])
                + "\tAdvertised pause frame use: Symmetric\n"
                "\tAdvertised auto-negotiation: No\n"
                "\tAdvertised FEC modes: Not reported\n"
                f"\tSpeed: {f'{speed}Mb/s' if link else 'Unknown!'}\n"
                f"\tDuplex: {'Full' if link else 'Unknown! (255)'}\n"
                "\tAuto-negotiation: off\n"
                "\tPort: Direct Attach Copper\n"
                "\tPHYAD: 0\n"
                "\tTransceiver: internal\n")
        wake = "\tSupports Wake-on: d\n\tWake-on: d\n"
    else:
        modes = ["10baseT/Half", "10baseT/Full", "100baseT/Half", "100baseT/Full", "1000baseT/Full"]
        partner = (_modes_block("Link partner advertised link modes:  ", modes)
                   + "\tLink partner advertised pause frame use: Symmetric\n"
                   "\tLink partner advertised auto-negotiation: Yes\n"
                   "\tLink partner advertised FEC modes: Not reported\n") if link else ""
        text = (f"Settings for {name}:\n"
                "\tSupported ports: [ TP ]\n"
                + _modes_block("Supported link modes:   ", modes)
                + "\tSupported pause frame use: Symmetric\n"
                "\tSupports auto-negotiation: Yes\n"
                "\tSupported FEC modes: Not reported\n"
                + _modes_block("Advertised link modes:  ", modes)
                + "\tAdvertised pause frame use: Symmetric\n"
                "\tAdvertised auto-negotiation: Yes\n"
                "\tAdvertised FEC modes: Not reported\n"
                + partner
                + f"\tSpeed: {f'{speed}Mb/s' if link else 'Unknown!'}\n"
                f"\tDuplex: {'Full' if link else 'Unknown! (255)'}\n"
                "\tAuto-negotiation: on\n"
                "\tPort: Twisted Pair\n"
                "\tPHYAD: 1\n"
                "\tTransceiver: internal\n"
                f"\tMDI-X: {'off (auto)' if link else 'Unknown'}\n")
        wake = "\tSupports Wake-on: pumbg\n\tWake-on: g\n"
    if with_driver_lines:
        text += wake + _MSGLVL_DRV_PROBE_LINK
    return text + f"\tLink detected: {'yes' if link else 'no'}\n"


def ethtool_settings(view: HostView, interface: Interface) -> str:
    """`ethtool IFACE`."""
    link = interface.up and interface.carrier
    kind = interface.kind
    if kind == "physical":
        return _physical_settings(interface, link)
    if kind == "vlan":
        parent = view.parent(interface)
        if parent is not None and parent.kind == "physical":
            text = _physical_settings(parent, link, with_driver_lines=False)
            return text.replace(f"Settings for {parent.name}:", f"Settings for {interface.name}:", 1)
        if parent is not None and parent.kind == "bond":
            return ethtool_settings(view, parent).replace(f"Settings for {parent.name}:",
                                                          f"Settings for {interface.name}:", 1)
        kind = "veth"
    if kind == "bond":
        members = view.members(interface.name, interface.namespace)
        live = [m for m in members if m.carrier]
        if interface.bond_mode == "active-backup" or not interface.bond_mode:
            active = active_slave(view, interface)
            speed = (active.speed_mbps or 10000) if active else 0
        else:
            speed = sum(m.speed_mbps or 10000 for m in live)
        speed_text = f"{speed}Mb/s" if link and speed else "Unknown!"
        return _virtual_settings(interface.name, speed_text, "Full" if link and speed else "Unknown! (255)",
                                 "Other", False, "", link)
    if kind == "bridge":
        return _virtual_settings(interface.name, "10000Mb/s", "Unknown! (255)", "Other", False, "", link)
    if kind in ("veth", "vxlan"):
        return _virtual_settings(interface.name, "10000Mb/s", "Full", "Twisted Pair", True, "", link)
    if kind == "tap":
        return _virtual_settings(interface.name, "10000Mb/s", "Full", "Twisted Pair", True, _MSGLVL_NONE, link)
    # loopback, openvswitch internal ports, gre: no link settings, only the link state
    return f"Settings for {interface.name}:\n\tLink detected: {'yes' if link else 'no'}\n"


def _driver(view: HostView, interface: Interface) -> tuple[str, str, str, str, str] | None:
    """(driver, version, firmware, bus-info, supports-statistics) for `ethtool -i`."""
    kernel = view.host.kernel
    if interface.kind == "physical":
        speed = interface.speed_mbps or 10000
        driver = "ixgbe" if speed >= 10000 else "igb"
        firmware = "0x800003e1" if driver == "ixgbe" else "3.30, 0x800005cc"
        return driver, kernel, firmware, pci_address(view, interface), "yes"
    return {
        "veth": ("veth", "1.0", "", "", "yes"),
        "bridge": ("bridge", "2.3", "N/A", "N/A", "no"),
        "tap": ("tun", "1.6", "", "tap", "no"),
        "vxlan": ("vxlan", "0.1", "", "", "no"),
        "bond": ("bonding", kernel, "2", "", "no"),
        "vlan": ("802.1Q VLAN Support", "1.8", "N/A", "", "no"),
        "openvswitch": ("openvswitch", "", "", "", "no"),
    }.get(interface.kind)


def ethtool_driver(view: HostView, interface: Interface) -> str | None:
    found = _driver(view, interface)
    if found is None:
        return None
    driver, version, firmware, bus, stats = found
    hardware = "yes" if interface.kind == "physical" else "no"
    return (f"driver: {driver}\nversion: {version}\nfirmware-version: {firmware}\nexpansion-rom-version: \n"
            f"bus-info: {bus}\nsupports-statistics: {stats}\nsupports-test: {hardware}\n"
            f"supports-eeprom-access: {hardware}\nsupports-register-dump: {hardware}\n"
            f"supports-priv-flags: {hardware}\n")


def run_ethtool(view: HostView, namespace: str | None, args: list[str]) -> Result:
    if not args:
        return 1, "", "ethtool: bad command line argument(s)\nFor more information run ethtool -h\n"
    if args[0] in ("-i", "--driver"):
        if len(args) != 2:
            return 1, "", "ethtool: bad command line argument(s)\nFor more information run ethtool -h\n"
        interface = view.device(args[1], namespace)
        if interface is None:
            return 71, "", "Cannot get driver information: No such device\n"
        text = ethtool_driver(view, interface)
        if text is None:
            return 71, "", "Cannot get driver information: Operation not supported\n"
        return 0, text, ""
    if args[0].startswith("-") or len(args) != 1:
        return 1, "", "ethtool: bad command line argument(s)\nFor more information run ethtool -h\n"
    interface = view.device(args[0], namespace)
    if interface is None:
        # ethtool 6.1 as root: every netlink request fails, then the ioctl fallback finds nothing.
        return 75, "No data available\n", _NO_SUCH_DEVICE
    return 0, ethtool_settings(view, interface), ""


# -- /proc/net/bonding ---------------------------------------------------------------------------

_BOND_MODES = {
    "active-backup": "fault-tolerance (active-backup)",
    "802.3ad": "IEEE 802.3ad Dynamic link aggregation",
    "balance-xor": "load balancing (xor)",
}


def proc_bonding(view: HostView, bond: Interface) -> str:
    """/proc/net/bonding/<bond> as the bonding driver of the host's kernel writes it."""
    mode = bond.bond_mode or "active-backup"
    members = view.members(bond.name, bond.namespace)
    up = any(m.carrier for m in members)
    lines = [f"Ethernet Channel Bonding Driver: v{view.host.kernel}", "", f"Bonding Mode: {_BOND_MODES[mode]}"]
    if mode == "active-backup":
        active = active_slave(view, bond)
        lines += ["Primary Slave: None", f"Currently Active Slave: {active.name if active else 'None'}"]
    else:
        lines.append("Transmit Hash Policy: layer2 (0)")
    lines += [f"MII Status: {'up' if up else 'down'}", "MII Polling Interval (ms): 100", "Up Delay (ms): 0",
              "Down Delay (ms): 0", "Peer Notification Delay (ms): 0"]
    if mode == "802.3ad":
        live = [m for m in members if m.carrier]
        lines += ["", "802.3ad info", "LACP active: on", "LACP rate: slow", "Min links: 0",
                  "Aggregator selection policy (ad_select): stable", "System priority: 65535",
                  f"System MAC address: {bond.mac}", "Active Aggregator Info:", "\tAggregator ID: 1",
                  f"\tNumber of ports: {len(live)}", "\tActor Key: 15", "\tPartner Key: 1",
                  "\tPartner Mac Address: 00:00:00:00:00:00"]
    for member in members:
        speed = f"{member.speed_mbps or 10000} Mbps" if member.carrier else "Unknown"
        duplex = "full" if member.carrier else "unknown"
        lines += ["", f"Slave Interface: {member.name}", f"MII Status: {'up' if member.carrier else 'down'}",
                  f"Speed: {speed}", f"Duplex: {duplex}", f"Link Failure Count: {0 if member.carrier else 1}",
                  f"Permanent HW addr: {member.mac}", "Slave queue ID: 0"]
        if mode == "802.3ad":
            lines += ["Aggregator ID: 1", "Actor Churn State: none", "Partner Churn State: churned",
                      "Actor Churned Count: 0", "Partner Churned Count: 1"]
    return "\n".join(lines) + "\n"


# -- cat / ls --------------------------------------------------------------------------------------

def sysfs_attribute(view: HostView, interface: Interface, attribute: str) -> str | None:
    """The text of /sys/class/net/<if>/<attribute>; None where the kernel answers EINVAL."""
    running = interface.up
    if attribute == "carrier":
        return ("1" if interface.carrier or interface.kind == "loopback" else "0") if running else None
    if attribute == "operstate":
        return view.operstate(interface).lower()
    if attribute == "address":
        return interface.mac
    if attribute == "mtu":
        return str(interface.mtu)
    if attribute in ("speed", "duplex"):
        if interface.kind in ("loopback", "openvswitch", "gretap") or not running:
            return None
        if interface.kind == "physical":
            if not interface.carrier:
                return "-1" if attribute == "speed" else "unknown"
            return str(interface.speed_mbps or 10000) if attribute == "speed" else "full"
        if interface.kind == "bridge":
            return "10000" if attribute == "speed" else "unknown"
        return "10000" if attribute == "speed" else "full"
    if attribute == "ifindex":
        return str(interface.index)
    if attribute == "iflink":
        peer = view.peer(interface)
        parent = view.parent(interface)
        return str(peer.index if peer else parent.index if parent else interface.index)
    if attribute == "type":
        return "772" if interface.kind == "loopback" else "1"
    if attribute == "master" or attribute == "":
        return None
    return ""


_ATTRIBUTES = ("address", "carrier", "duplex", "ifindex", "iflink", "mtu", "operstate", "speed", "type")


def run_cat(view: HostView, namespace: str | None, args: list[str]) -> Result:
    out, err, status = [], [], 0
    for path in args:
        text, error = _read(view, namespace, path)
        if error:
            err.append(f"cat: {path}: {error}\n")
            status = 1
        else:
            out.append(text or "")
    return status, "".join(out), "".join(err)


def _read(view: HostView, namespace: str | None, path: str) -> tuple[str | None, str | None]:
    parts = path.rstrip("/").split("/")
    if path.startswith("/proc/net/bonding/") and len(parts) == 5:
        bond = view.device(parts[4], None)
        if bond is None or bond.kind != "bond":
            return None, "No such file or directory"
        return proc_bonding(view, bond), None
    if path.startswith("/sys/class/net/") and len(parts) == 6:
        interface = view.device(parts[4], namespace)
        if interface is None:
            return None, "No such file or directory"
        attribute = parts[5]
        if attribute not in _ATTRIBUTES:
            return None, "No such file or directory"
        value = sysfs_attribute(view, interface, attribute)
        return (None, "Invalid argument") if value is None else (value + "\n", None)
    if path.startswith("/sys/class/net/") and len(parts) == 5 and view.device(parts[4], namespace):
        return None, "Is a directory"
    if path == "/etc/hostname":
        return view.state.name + "\n", None
    return None, "No such file or directory"


def sysfs_target(view: HostView, interface: Interface) -> str:
    """Where /sys/class/net/<if> points: the PCI device for a NIC, devices/virtual/net otherwise."""
    if interface.kind == "physical":
        pci = pci_address(view, interface)
        root_port = f"0000:00:{int(pci[5:7], 16) - 1:02x}.0" if pci[5:7] != "01" else "0000:00:01.0"
        return f"../../devices/pci0000:00/{root_port}/{pci}/net/{interface.name}"
    return f"../../devices/virtual/net/{interface.name}"


def class_net_entries(view: HostView, namespace: str | None) -> list[tuple[str, str | None]]:
    """(name, symlink target or None for a plain file) in ls's (C locale) order."""
    entries: list[tuple[str, str | None]] = [(i.name, sysfs_target(view, i)) for i in view.in_namespace(namespace)]
    if namespace is None and any(i.kind == "bond" for i in view.interfaces):
        entries.append(("bonding_masters", None))  # the bonding module's control file
    return sorted(entries)


def run_ls(view: HostView, namespace: str | None, args: list[str]) -> Result:
    long = any(a.startswith("-") and "l" in a for a in args)
    paths = [a for a in args if not a.startswith("-")] or ["."]
    out, err, status = [], [], 0
    for path in paths:
        if path.rstrip("/") != "/sys/class/net":
            err.append(f"ls: cannot access '{path}': No such file or directory\n")
            status = 2
            continue
        entries = class_net_entries(view, namespace)
        if not long:
            out += [f"{name}\n" for name, _ in entries]
            continue
        out.append("total 0\n")
        for name, target in entries:
            if target is None:
                out.append(f"-rw-r--r-- 1 root root 4096 {LS_DATE} {name}\n")
            else:
                out.append(f"lrwxrwxrwx 1 root root 0 {LS_DATE} {name} -> {target}\n")
    return status, "".join(out), "".join(err)


def run_uname(view: HostView, args: list[str]) -> Result:
    if args in (["-r"],):
        return 0, f"{view.host.kernel}\n", ""
    if args in (["-n"],):
        return 0, f"{view.host.name}\n", ""
    if args in ([], ["-s"]):
        return 0, "Linux\n", ""
    return 0, f"Linux {view.host.name} {view.host.kernel} #1 SMP x86_64 x86_64 x86_64 GNU/Linux\n", ""
