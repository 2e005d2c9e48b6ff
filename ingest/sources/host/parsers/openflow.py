"""`ovs-ofctl dump-flows BRIDGE` -> flows, and what the Neutron OVS agent's flows say about a host.

The parser reads every form ovs-ofctl 2.x/3.x prints: without a terminal (a `NXST_FLOW reply` header,
`idle_age`, port numbers), `--names` (quoted port names), `--no-stats` (no counters, `table=0` left
out), `-O OpenFlow13` (`OFPST_FLOW reply (OF1.3)`, `reset_counts`, `pop_vlan`). A line that is none
of these is a ParseError naming the line (the scanner records it as a message and goes on).

`derive_openflow` reads the agent's tables (neutron/plugins/ml2/drivers/openvswitch/agent/common/
constants.py): on br-tun, tables 3/4/6 (GRE/VXLAN/Geneve tunnel -> local VLAN: `tun_id=SEG actions=
mod_vlan_vid:LVID`) and 22 (flood: `dl_vlan=LVID actions=strip_vlan,load:SEG->NXM_NX_TUN_ID[],output:..`);
on br-int, table 0's translation of a provider bridge's VLAN (`in_port=int-br-X,dl_vlan=SEG actions=
mod_vlan_vid:LVID`). Pure functions, unit-tested on real captures (tests/fixtures/ovs/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.sources.host.parsers.errors import ParseError, guarded, integer

COMMAND = "ovs-ofctl dump-flows"
DEFAULT_PRIORITY = 32768  # OFP_DEFAULT_PRIORITY: ovs-ofctl leaves it out of a flow that has it
#: Flags ovs-ofctl prints between the statistics and the match, without a value or a comma.
FLAGS = frozenset({"send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts", "no_byte_counts"})
_HEADER = re.compile(r"^(NXST|OFPST)_FLOW reply\b")
#: Neutron's br-tun tables: tunnel of each type -> local VLAN; flooding to the tunnels.
TUN_TO_LV_TABLES = {3: "gre", 4: "vxlan", 6: "geneve"}
FLOOD_TO_TUN = 22
INT_BR_LOCAL_SWITCHING = 0


@dataclass
class Flow:
    """One OpenFlow rule as ovs-ofctl prints it."""

    table: int
    priority: int
    match: dict[str, str]  # field -> value ("" for a bare protocol like `arp`); quotes around names removed
    actions: list[str]  # top-level actions in order, e.g. ["strip_vlan", "load:0x65->NXM_NX_TUN_ID[]", "output:2"]
    n_packets: int | None = None  # None under --no-stats
    cookie: int | None = None


def split_top(text: str) -> list[str]:
    """Split on the commas that are outside parentheses, brackets and double quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for position, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:position])
            start = position + 1
    parts.append(text[start:])
    return [p for p in (part.strip() for part in parts) if p]


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


@guarded(COMMAND)
def parse_dump_flows(text: str, command: str = COMMAND) -> list[Flow]:
    """The flows of one `ovs-ofctl dump-flows` answer; ParseError naming the first line that is not a flow."""
    flows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or _HEADER.match(line.strip()):
            continue
        flows.append(_flow(line, number, command))
    return flows


def _flow(line: str, number: int, command: str) -> Flow:
    found = re.search(r"(?:^|[\s,])actions=", line)
    if found is None:
        raise ParseError(command, f"line {number} is not a flow (no actions=)", line)
    head, actions = line[:found.start()].strip(), line[found.end():].strip()
    if not actions:
        raise ParseError(command, f"line {number} has empty actions", line)
    stats: dict[str, str] = {}
    match_text = ""
    chunks = head.split()
    for position, chunk in enumerate(chunks):
        last = position == len(chunks) - 1
        if chunk.endswith(","):
            key, _, value = chunk[:-1].partition("=")
            stats[key] = value
        elif chunk in FLAGS:
            stats[chunk] = ""
        elif last:
            match_text = chunk
        else:
            raise ParseError(command, f"line {number}: unexpected {chunk[:40]!r} before the match", line)
    match: dict[str, str] = {}
    for item in split_top(match_text):
        key, _, value = item.partition("=")
        match[key] = _unquote(value)
    priority = match.pop("priority", None)
    table = stats.get("table", match.pop("table", "0"))
    where = f"line {number}"
    return Flow(table=_bounded(command, table, f"{where}: table", line, 254),
                priority=_bounded(command, priority, f"{where}: priority", line, 65535)
                if priority is not None else DEFAULT_PRIORITY,
                match=match, actions=split_top(actions),
                n_packets=integer(command, stats["n_packets"], f"{where}: n_packets", line)
                if "n_packets" in stats else None,
                cookie=_cookie(command, stats["cookie"], f"{where}: cookie", line) if "cookie" in stats else None)


def _cookie(command: str, value: str, what: str, line: str) -> int:
    """A cookie: 64 bits unsigned (the agent's are random), so not bound to the stores' signed range."""
    try:
        number = int(value, 16)
    except ValueError:
        raise ParseError(command, f"{what} {value[:30]!r} is not a hexadecimal number", line) from None
    if not 0 <= number < 2**64:
        raise ParseError(command, f"{what} {value[:30]!r} is not a 64-bit cookie", line)
    return number


def _bounded(command: str, value: str, what: str, line: str, top: int) -> int:
    number = integer(command, value, what, line)
    if not 0 <= number <= top:
        raise ParseError(command, f"{what} {number} is out of range 0..{top}", line)
    return number


# -- what the agent's flows say -----------------------------------------------------------------------

@dataclass
class BridgeOpenflow:
    """What one host's flows say, in the agent's terms."""

    #: (tunnel type, segmentation id) -> local VLAN, from br-tun's tunnel -> local VLAN tables
    tunnel_vlans: dict[tuple[str, int], int] = field(default_factory=dict)
    #: local VLAN -> (segmentation id, tunnel port names it floods to), from br-tun table 22
    floods: dict[int, tuple[int, list[str]]] = field(default_factory=dict)
    #: (provider bridge patch port on br-int, segmentation id or None for flat) -> local VLAN, from br-int table 0
    provider_vlans: dict[tuple[str, int | None], int] = field(default_factory=dict)
    #: whether br-int drops what no port owns (the dead VLAN 4095, or a table-0 drop)
    dead_vlan_drop: bool = False


def _number(text: str) -> int | None:
    try:
        return int(text, 0)
    except ValueError:
        return None


def _vlan_set(actions: list[str]) -> int | None:
    """The VLAN an action list sets: mod_vlan_vid:N, or set_field:N->vlan_vid (OpenFlow 1.3: 0x1000|N)."""
    for action in actions:
        if action.startswith("mod_vlan_vid:"):
            return _number(action.split(":", 1)[1])
        found = re.fullmatch(r"set_field:(\w+)->vlan_vid", action)
        if found and _number(found.group(1)) is not None:
            return _number(found.group(1)) & 0xFFF  # type: ignore[operator]
    return None


def _tunnel_id_set(actions: list[str]) -> int | None:
    for action in actions:
        found = re.fullmatch(r"load:(\w+)->NXM_NX_TUN_ID\[\]", action) or \
            re.fullmatch(r"set_field:(\w+)->tun_id", action)
        if found:
            return _number(found.group(1))
    return None


def _outputs(actions: list[str], names: dict[int, str]) -> list[str]:
    """The ports `output:` actions send to, by name (numbers through `names`, quoted names as they are)."""
    result = []
    for action in actions:
        if not action.startswith("output:"):
            continue
        port = _unquote(action.split(":", 1)[1])
        number = _number(port)
        result.append(names.get(number, port) if number is not None else port)
    return result


def derive_openflow(flows: dict[str, list[Flow]], port_names: dict[str, dict[int, str]],
                    tunnel_bridge: str = "br-tun", integration_bridge: str = "br-int") -> BridgeOpenflow:
    """The local VLAN <-> segment mapping and flooding of one host from its bridges' flows.

    `flows`: bridge -> its flows; `port_names`: bridge -> OpenFlow port number -> port name (from
    OVSDB's Interface ofport), used where ovs-ofctl printed numbers."""
    result = BridgeOpenflow()
    for flow in flows.get(tunnel_bridge, []):
        if flow.table in TUN_TO_LV_TABLES and "tun_id" in flow.match:
            segment, vlan = _number(flow.match["tun_id"].split("/")[0]), _vlan_set(flow.actions)
            if segment is not None and vlan is not None:
                result.tunnel_vlans[(TUN_TO_LV_TABLES[flow.table], segment)] = vlan
        elif flow.table == FLOOD_TO_TUN and "dl_vlan" in flow.match:
            vlan, segment = _number(flow.match["dl_vlan"]), _tunnel_id_set(flow.actions)
            if vlan is not None and segment is not None:
                result.floods[vlan] = (segment, _outputs(flow.actions, port_names.get(tunnel_bridge, {})))
    names = port_names.get(integration_bridge, {})
    for flow in flows.get(integration_bridge, []):
        if flow.table != INT_BR_LOCAL_SWITCHING:
            continue
        if flow.match.get("dl_vlan") == "4095" and flow.actions == ["drop"]:
            result.dead_vlan_drop = True
        in_port = flow.match.get("in_port")
        vlan = _vlan_set(flow.actions)
        if in_port is None or vlan is None:
            continue
        number = _number(in_port)
        port = names.get(number, in_port) if number is not None else in_port
        if "dl_vlan" in flow.match:
            result.provider_vlans[(port, _number(flow.match["dl_vlan"]))] = vlan
        elif flow.match.get("vlan_tci", "").startswith("0x0000"):
            result.provider_vlans[(port, None)] = vlan
    return result
