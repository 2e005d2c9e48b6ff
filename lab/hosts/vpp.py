"""vppctl as VPP 16.09 prints it: show version, interface, hardware-interfaces, mode, bridge-domain.

VPP cannot be installed here, so the layouts come from the recorded real outputs in
tests/fixtures/reference/vpp/ (column widths included): `show int` is
"%-32s%=5d%=16s" then counters "%-16s%16d" continued under column 53, `show hardware` is
"%-32s%=6d%=8s%s" with counters right-aligned at column 60. VPP's centring puts the odd space
on the left.
"""

from __future__ import annotations

from lab.hostmodel import VppInterface
from lab.hosts.view import HostView, stable_number

Result = tuple[int, str, str]
VERSION_LINE = "vpp v16.09-rc0~157-g203c632 built by localadmin on ubuntu0 at Sun Jun 26 16:35:15 PDT 2016"


def center(text: str, width: int) -> str:
    """VPP's %=Ns: centred, the odd padding space on the left."""
    pad = max(0, width - len(text))
    return " " * (pad - pad // 2) + text + " " * (pad // 2)


def _counter(view: HostView, interface: VppInterface, name: str, scale: int = 1) -> int:
    return (1 + stable_number(f"{view.state.name}/vpp/{interface.name}/{name}", 900000)) * scale


def interface_counters(view: HostView, interface: VppInterface) -> list[tuple[str, int]]:
    """The non-zero counters `show int` lists, in VPP's order (combined rx/tx, then simple ones)."""
    if not interface.up or interface.kind == "local":
        return []
    rx = _counter(view, interface, "rx")
    tx = _counter(view, interface, "tx")
    if interface.kind == "vhost-user":
        return [("rx packets", rx), ("rx bytes", rx * 87), ("tx packets", tx), ("tx bytes", tx * 87)]
    counters = [("rx packets", rx), ("rx bytes", rx * 1320), ("tx packets", tx), ("tx bytes", tx * 78)]
    if interface.kind == "ethernet":
        counters += [("drops", rx // 350 + 1), ("punts", 1), ("rx-miss", rx // 8 + 1)]
    return counters


def show_int(view: HostView) -> str:
    lines = [center("Name", 32) + center("Idx", 5) + center("State", 16) + center("Counter", 16)
             + center("Count", 16)]
    for interface in sorted(view.state.vpp_interfaces, key=lambda i: i.name):
        row = f"{interface.name:<32}{center(str(interface.index), 5)}{center('up' if interface.up else 'down', 16)}"
        counters = interface_counters(view, interface)
        if not counters:
            lines.append(row)
            continue
        for number, (name, value) in enumerate(counters):
            prefix = row if number == 0 else " " * 53
            lines.append(f"{prefix}{name:<16}{value:>16}")
    return "\n".join(lines) + "\n"


def _stat(indent: int, name: str, value: int) -> str:
    return " " * indent + name.ljust(60 - 16 - indent) + f"{value:>16}"


def show_hardware(view: HostView) -> str:
    lines = [center("Name", 32) + center("Idx", 6) + center("Link", 8) + "Hardware"]
    hardware = [i for i in view.state.vpp_interfaces if i.kind != "sub-interface"]
    for interface in sorted(hardware, key=lambda i: i.name):
        link = "up" if interface.up else "down"
        lines.append(f"{interface.name:<32}{center(str(interface.index), 6)}{center(link, 8)}{interface.name}")
        if interface.kind == "local":
            lines.append("  local")
            continue
        if interface.kind == "vxlan":
            lines.append("  VXLAN")
            continue
        if interface.mac:
            lines.append(f"  Ethernet address {interface.mac}")
        if interface.kind != "ethernet":
            continue
        lines.append("  Cisco VIC" if (interface.mac or "").startswith("00:25:b5") else "  Intel 82599")
        nic = next((n for n in view.host.nics if n.name == interface.name), None)
        if interface.up:
            lines.append(f"    carrier up full duplex speed {interface.speed_mbps or 10000} "
                         f"mtu {nic.mtu if nic else 9000}  promisc")
        else:
            lines.append("    carrier down ")
        lines += ["    rx queues 1, rx desc 5120, tx queues 1, tx desc 2048", "    cpu socket 0"]
        if interface.up:
            rx = _counter(view, interface, "rx")
            tx = _counter(view, interface, "tx")
            lines += ["", _stat(4, "tx frames ok", tx), _stat(4, "tx bytes ok", tx * 82),
                      _stat(4, "rx frames ok", rx), _stat(4, "rx bytes ok", rx * 1329),
                      _stat(4, "rx missed", rx // 8 + 1), "    extended stats:",
                      _stat(6, "rx good packets", rx), _stat(6, "tx good packets", tx),
                      _stat(6, "rx good bytes", rx * 1329), _stat(6, "tx good bytes", tx * 82)]
    return "\n".join(lines) + "\n"


def show_mode(view: HostView) -> str:
    lines = []
    for interface in sorted(view.state.vpp_interfaces, key=lambda i: i.index):
        if interface.bridge_domain is None:
            lines.append(f"l3 {interface.name}  ")
        else:
            lines.append(f"l2 bridge {interface.name} bd_id {interface.bridge_domain} shg 0")
    return "\n".join(lines) + "\n"


def show_bridge_domain(view: HostView) -> str:
    domains = sorted({i.bridge_domain for i in view.state.vpp_interfaces if i.bridge_domain is not None})
    if not domains:
        return ""
    widths = (5, 7, 10, 10, 10, 10, 10, 14)
    header = ("ID", "Index", "Learning", "U-Forwrd", "UU-Flood", "Flooding", "ARP-Term", "BVI-Intf")
    lines = ["".join(center(text, width) for text, width in zip(header, widths, strict=True))]
    for index, domain in enumerate(domains, 1):
        row = (str(domain), str(index), "on", "on", "on", "on", "off", "N/A")
        lines.append("".join(center(text, width) for text, width in zip(row, widths, strict=True)))
    return "\n".join(lines) + "\n"


def show_runtime(view: HostView) -> str:
    """`show runtime`: the graph nodes' call counters (what the monitoring check reads)."""
    seed = f"{view.state.name}/vpp/runtime"
    calls = 1000 + stable_number(seed, 10 ** 8)
    lines = [f"Time {calls / 1000:.1f}, average vectors/node 1.00, last 128 main loops 0.00 per node 0.00",
             "  vector rates in 0.0000e0, out 0.0000e0, drop 0.0000e0, punt 0.0000e0",
             f"{'Name':^32}{'State':^14}{'Calls':^16}{'Vectors':^16}{'Suspends':^16}{'Clocks':^16}Vectors/Call"]
    nodes = [("dpdk-input", "polling"), ("ethernet-input", "active"), ("l2-input", "active"),
             ("l2-fwd", "active"), ("l2-output", "active"), ("vhost-user-input", "polling")]
    for number, (name, state) in enumerate(nodes):
        count = calls // (number + 1)
        vectors = count // 3 if state == "active" else 0
        lines.append(f"{name:<32}{state:^14}{count:>16}{vectors:>16}{0:>16}{1.2e2 + number:>16.2e}"
                     f"{vectors / count if count else 0:>16.2f}")
    return "\n".join(lines) + "\n"


def run_vppctl(view: HostView, args: list[str]) -> Result:
    words = [a for a in args if not a.startswith("-")]
    if not words or words[0] != "show":
        what = words[0] if words else ""
        return 0, f"unknown input `{what}'\n", ""
    topic = words[1] if len(words) > 1 else ""
    if topic and "version".startswith(topic) and len(topic) >= 2:
        return 0, VERSION_LINE + "\n\n", ""
    if topic and ("interface".startswith(topic) or topic == "int") and len(topic) >= 3:
        return 0, show_int(view), ""
    if topic and ("hardware-interfaces".startswith(topic)) and len(topic) >= 2:
        return 0, show_hardware(view), ""
    if topic and "runtime".startswith(topic) and len(topic) >= 2:
        return 0, show_runtime(view), ""
    if topic == "mode":
        return 0, show_mode(view), ""
    if topic and "bridge-domain".startswith(topic) and len(topic) >= 2:
        return 0, show_bridge_domain(view), ""
    return 0, f"show: unknown input `{' '.join(words[1:])}'\n", ""
