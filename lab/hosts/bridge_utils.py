"""bridge-utils 1.7 (`brctl show`, `brctl showmacs`), as printed by the real tool on real bridges.

`brctl show`: bridges sorted by name, "name\\t\\tbridge id\\tSTP\\t\\tfirst member"; further members on
lines of seven tabs; a bridge without members ends its line with the two tabs. `showmacs`: one
line per forwarding entry sorted by MAC, the bridge's own port addresses marked local.
"""

from __future__ import annotations

from lab.hosts.iproute import bridge_port_number, learned_macs
from lab.hosts.view import HostView, stable_number

Result = tuple[int, str, str]
USAGE = """Usage: brctl [commands]
commands:
\taddbr     \t<bridge>\t\tadd bridge
\tdelbr     \t<bridge>\t\tdelete bridge
\taddif     \t<bridge> <device>\tadd interface to bridge
\tdelif     \t<bridge> <device>\tdelete interface from bridge
\thairpin   \t<bridge> <port> {on|off}\tturn hairpin on/off
\tsetageing \t<bridge> <time>\t\tset ageing time
\tsetbridgeprio\t<bridge> <prio>\t\tset bridge priority
\tsetfd     \t<bridge> <time>\t\tset bridge forward delay
\tsethello  \t<bridge> <time>\t\tset hello time
\tsetmaxage \t<bridge> <time>\t\tset max message age
\tsetpathcost\t<bridge> <port> <cost>\tset path cost
\tsetportprio\t<bridge> <port> <prio>\tset port priority
\tshow      \t[ <bridge> ]\t\tshow a list of bridges
\tshowmacs  \t<bridge>\t\tshow a list of mac addrs
\tshowstp   \t<bridge>\t\tshow bridge stp info
\tstp       \t<bridge> {on|off}\tturn stp on/off
"""


def bridge_id(mac: str) -> str:
    return "8000." + mac.replace(":", "")


def show(view: HostView, namespace: str | None, only: str | None = None) -> str:
    """`brctl show [BRIDGE]`."""
    lines = ["bridge name\tbridge id\t\tSTP enabled\tinterfaces"]
    bridges = sorted((i for i in view.in_namespace(namespace) if i.kind == "bridge"), key=lambda i: i.name)
    if not bridges:
        return ""  # bridge-utils 1.7.1 prints not even the header when there is no bridge
    for bridge in bridges:
        if only is not None and bridge.name != only:
            continue
        members = sorted(m.name for m in view.members(bridge.name, namespace))
        first = members[0] if members else ""
        lines.append(f"{bridge.name}\t\t{bridge_id(bridge.mac)}\tno\t\t{first}")
        lines += ["\t" * 7 + member for member in members[1:]]
    return "\n".join(lines) + "\n"


def showmacs(view: HostView, namespace: str | None, bridge_name: str) -> str:
    """`brctl showmacs BRIDGE`: learned and local entries, sorted by MAC."""
    entries: list[tuple[str, int, bool, float]] = []
    for member in view.members(bridge_name, namespace):
        number = bridge_port_number(view, member)
        entries.append((member.mac, number, True, 0.0))
        for mac in learned_macs(view, member):
            age = stable_number(f"{view.state.name}/{bridge_name}/{mac}", 30000) / 100
            entries.append((mac, number, False, age))
    lines = ["port no\tmac addr\t\tis local?\tageing timer"]
    for mac, number, local, age in sorted(entries):
        lines.append(f"{number:3d}\t{mac}\t{'yes' if local else 'no'}\t\t{age:7.2f}")
    return "\n".join(lines) + "\n"


def run_brctl(view: HostView, namespace: str | None, args: list[str]) -> Result:
    if not args:
        return 1, USAGE, ""
    command = args[0]
    if command == "show":
        if len(args) > 1:
            found = view.device(args[1], namespace)
            if found is None or found.kind != "bridge":
                return 1, "", f"bridge {args[1]} does not exist!\n"
            return 0, show(view, namespace, args[1]), ""
        return 0, show(view, namespace), ""
    if command == "showmacs":
        if len(args) < 2:
            return 1, USAGE, "Incorrect number of arguments for command\n"
        found = view.device(args[1], namespace)
        if found is None or found.kind != "bridge":
            return 1, "", "read of forward table failed: No such device\n"
        return 0, showmacs(view, namespace, args[1]), ""
    return 1, USAGE, f"never heard of command [{command}]\n"
