"""Open vSwitch: `ovs-vsctl --format=json list TABLE`, `ovs-vsctl show`, `ovs-dpctl show` and
`ovs-appctl dpif/show`, and the joins that make the scanner's facts of them.

`--format=json list` is the machine-readable source (ofport, type, options, external_ids such
as iface-id and attached-mac, link_state); `show` is the fallback for an ovs-vsctl that refuses
`--format=json` (it prints no external_ids and no link state). Port numbers in the datapath
come from `ovs-dpctl show` on the kernel datapath and from `ovs-appctl dpif/show` on any
datapath: real clouds run the first, the lab's userspace datapath only answers the second, so
the scanner tries both.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ingest.sources.host.facts import DatapathPortFact, OvsPortFact
from ingest.sources.host.parsers.errors import ParseError, fits, guarded, integer, load_json, require

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# -- ovs-vsctl show ---------------------------------------------------------------------------------

@dataclass
class OvsInterface:
    """An Interface under a Port of `ovs-vsctl show`; type "" is a system device."""

    name: str
    type: str = ""
    options: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    other: dict[str, str] = field(default_factory=dict)  # other `key: value` lines (bfd_status, ...)


@dataclass
class OvsPort:
    """A Port of a bridge: VLAN tag or trunks, and its interfaces (several for a bond)."""

    name: str
    tag: int | None = None
    trunks: list[int] = field(default_factory=list)
    interfaces: list[OvsInterface] = field(default_factory=list)
    other: dict[str, str] = field(default_factory=dict)  # vlan_mode, bond_mode, ...


@dataclass
class OvsController:
    """A Controller (or Manager) target and whether ovs-vswitchd is connected to it."""

    target: str
    is_connected: bool = False


@dataclass
class OvsBridge:
    """A Bridge of `ovs-vsctl show`."""

    name: str
    controllers: list[OvsController] = field(default_factory=list)
    fail_mode: str | None = None
    datapath_type: str | None = None
    ports: list[OvsPort] = field(default_factory=list)
    other: dict[str, str] = field(default_factory=dict)


@dataclass
class OvsShow:
    """The whole of `ovs-vsctl show`: the Open_vSwitch row's uuid, managers, bridges and version."""

    uuid: str
    bridges: list[OvsBridge] = field(default_factory=list)
    managers: list[OvsController] = field(default_factory=list)
    ovs_version: str | None = None


def _unquote(value: str) -> str:
    """ovs-vsctl quotes strings that are not plain identifiers (`"qvo1a2b-3c"` on old releases)."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r'\\(.)', r"\1", value[1:-1])
    return value


_MAP_ITEM = re.compile(r'\s*([^=,\s]+)=("(?:[^"\\]|\\.)*"|[^,]*)\s*(?:,|$)')


def _parse_map(value: str) -> dict[str, str]:
    """`{df_default="true", in_key=flow, peer=patch-int}` -> dict; `{}` -> {}."""
    value = value.strip()
    if not (value.startswith("{") and value.endswith("}")):
        raise ValueError(f"not an OVSDB map: {value!r}")
    body, result, position = value[1:-1].strip(), {}, 0
    while position < len(body):
        match = _MAP_ITEM.match(body, position)
        if match is None or match.end() == position:
            raise ValueError(f"not an OVSDB map: {value!r}")
        result[_unquote(match.group(1))] = _unquote(match.group(2))
        position = match.end()
    return result


def _parse_int_set(value: str, command: str, line: str) -> list[int]:
    """`[100, 200]` -> [100, 200]."""
    body = value.strip().removeprefix("[").removesuffix("]")
    return [integer(command, item.strip(), "a VLAN of trunks", line) for item in body.split(",") if item.strip()]


@guarded("ovs-vsctl show")
def parse_ovs_vsctl_show(text: str, command: str = "ovs-vsctl show") -> OvsShow:
    """`ovs-vsctl show`: bridges -> ports -> interfaces, as indented four spaces per level."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    require(bool(lines) and bool(_UUID.match(lines[0].strip())) and not lines[0][:1].isspace(), command,
            "the first line is not the Open_vSwitch row's uuid", text)
    show = OvsShow(uuid=lines[0].strip())
    bridge: OvsBridge | None = None
    port: OvsPort | None = None
    interface: OvsInterface | None = None
    controller: OvsController | None = None
    for line in lines[1:]:
        indent = len(line) - len(line.lstrip(" "))
        require(indent % 4 == 0 and 4 <= indent <= 16, command, "unexpected indentation", line)
        depth, content = indent // 4, line.strip()
        word, _, rest = content.partition(" ")
        key, colon, value = content.partition(": ")
        if depth == 1:
            bridge = port = interface = controller = None
            if word == "Bridge":
                bridge = OvsBridge(name=_unquote(rest))
                show.bridges.append(bridge)
            elif word == "Manager":
                controller = OvsController(target=_unquote(rest))
                show.managers.append(controller)
            elif key == "ovs_version" and colon:
                show.ovs_version = _unquote(value)
            else:
                raise ParseError(command, "expected Bridge, Manager or ovs_version at the top level", line)
        elif depth == 2 and controller is not None and bridge is None:
            if key == "is_connected":
                controller.is_connected = value.strip() == "true"
        elif depth == 2:
            require(bridge is not None, command, "a bridge attribute outside a Bridge", line)
            assert bridge is not None
            port = interface = controller = None
            if word == "Port":
                port = OvsPort(name=_unquote(rest))
                bridge.ports.append(port)
            elif word == "Controller":
                controller = OvsController(target=_unquote(rest))
                bridge.controllers.append(controller)
            elif key == "fail_mode" and colon:
                bridge.fail_mode = value.strip()
            elif key == "datapath_type" and colon:
                bridge.datapath_type = value.strip()
            elif colon:
                bridge.other[key] = _unquote(value)
            else:
                raise ParseError(command, "expected Port, Controller or `key: value` under a Bridge", line)
        elif depth == 3:
            if controller is not None:
                if key == "is_connected":
                    controller.is_connected = value.strip() == "true"
                continue
            require(port is not None, command, "a port attribute outside a Port", line)
            assert port is not None
            interface = None
            if word == "Interface":
                interface = OvsInterface(name=_unquote(rest))
                port.interfaces.append(interface)
            elif key == "tag" and colon:
                port.tag = integer(command, value.strip(), "tag", line)
            elif key == "trunks" and colon:
                port.trunks = _parse_int_set(value, command, line)
            elif colon:
                port.other[key] = _unquote(value)
            else:
                raise ParseError(command, "expected Interface or `key: value` under a Port", line)
        else:  # depth 4 (and deeper lines of the same interface)
            require(interface is not None and bool(colon), command, "an interface attribute outside an Interface",
                    line)
            assert interface is not None
            if key == "type":
                interface.type = value.strip()
            elif key == "options":
                try:
                    interface.options = _parse_map(value)
                except ValueError as exc:
                    raise ParseError(command, f"options of Interface {interface.name}: {exc}", line) from None
            elif key == "error":
                interface.error = _unquote(value)
            else:
                interface.other[key] = _unquote(value)
    return show


# -- ovs-vsctl --format=json list ---------------------------------------------------------------------

# Columns that may hold more than one value (from vswitch.ovsschema: sets with max > 1). OVSDB
# prints a one-element set as the bare value, so without knowing these we could not tell a set
# from a scalar; every other ["set", ...] is an optional scalar (empty -> None).
SET_COLUMNS = {
    "Open_vSwitch": {"bridges", "manager_options", "datapath_types", "iface_types"},
    "Bridge": {"ports", "mirrors", "controller", "protocols", "flood_vlans"},
    "Port": {"interfaces", "trunks", "cvlans"},
    "Interface": {"cfm_remote_mpids", "cfm_fault_status"},
    "Mirror": {"select_src_port", "select_dst_port", "select_vlan"},
    "Flow_Table": {"groups", "prefixes"},
    "NetFlow": {"targets"}, "sFlow": {"targets"}, "IPFIX": {"targets"},
}


def decode_atom(value: Any, many: bool = False) -> Any:
    """Decode an OVSDB JSON value: ["uuid", u] / ["named-uuid", u] -> u, ["map", [[k, v]...]] -> dict,
    ["set", [...]] -> list when `many`, else its only element or None; scalars as they are."""
    if isinstance(value, list):
        if len(value) != 2 or not isinstance(value[0], str):
            raise ValueError(f"not an OVSDB atom: {value!r:.80}")
        kind, body = value
        if kind in ("uuid", "named-uuid"):
            if not isinstance(body, str):
                raise ValueError(f"not an OVSDB uuid: {value!r:.80}")
            return [body] if many else body
        if kind == "map":
            # a map pairs atoms with atoms
            if not isinstance(body, list) or not all(isinstance(pair, list) and len(pair) == 2 and _atom(pair[0])
                                                     and _atom(pair[1]) for pair in body):
                raise ValueError(f"not an OVSDB map of atoms: {value!r:.80}")
            return {decode_atom(key): decode_atom(item) for key, item in body}
        if kind == "set":
            if not isinstance(body, list):
                raise ValueError(f"not an OVSDB set: {value!r:.80}")
            # a set holds atoms only: a set inside a set (or a map) is not OVSDB
            items = [decode_atom(item) for item in body if _atom(item)]
            if len(items) != len(body):
                raise ValueError(f"an OVSDB set holds a set or map: {value!r:.80}")
            if many:
                return items
            return None if not items else items[0] if len(items) == 1 else items
        raise ValueError(f"unknown OVSDB atom type {kind!r:.40}")
    if isinstance(value, dict):
        raise ValueError(f"not an OVSDB atom: {value!r:.80}")
    if isinstance(value, int) and not isinstance(value, bool) and not fits(value):
        raise ValueError(f"an OVSDB integer beyond 64 bits: {value!r:.40}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"an OVSDB real that is not finite: {value!r}")
    return [value] if many else value


def _atom(value: Any) -> bool:
    """An OVSDB atom: a scalar or a ["uuid"|"named-uuid", u] pair (what sets and maps may hold)."""
    if isinstance(value, list):
        return len(value) == 2 and value[0] in ("uuid", "named-uuid")
    return not isinstance(value, dict)


@guarded("ovs-vsctl --format=json list")
def parse_ovsdb_table(text: str, table: str | None = None,
                     command: str = "ovs-vsctl --format=json list") -> list[dict[str, Any]]:
    """`ovs-vsctl --format=json list TABLE`: rows as dicts of decoded values.

    Multi-valued columns (SET_COLUMNS of `table`) are always lists; an empty optional column is
    None (an Interface's ofport before ovs-vswitchd has seen it); maps are dicts; uuids strings.
    """
    data = load_json(command, text, None)
    if data is None:
        return []
    require(isinstance(data, dict) and isinstance(data.get("headings"), list) and isinstance(data.get("data"), list),
            command, "expected an object with headings and data", text)
    headings = data["headings"]
    require(all(isinstance(h, str) for h in headings), command, "headings are not column names", text)
    many = SET_COLUMNS.get(table or "", set())
    rows: list[dict[str, Any]] = []
    for row in data["data"]:
        require(isinstance(row, list) and len(row) == len(headings), command,
                "a row does not have one value per heading", text)
        decoded = {}
        for heading, value in zip(headings, row):
            try:
                decoded[heading] = decode_atom(value, heading in many)
            except ValueError as exc:
                raise ParseError(command, f"row {len(rows) + 1}, column {heading}: {exc}", text) from None
        rows.append(decoded)
    return rows


# -- datapaths -------------------------------------------------------------------------------------------

@dataclass
class DatapathPort:
    """A port of a datapath: its number there, name, type (None for a plain device) and options."""

    number: int
    name: str
    type: str | None = None
    options: dict[str, str] = field(default_factory=dict)


@dataclass
class Datapath:
    """A datapath of `ovs-dpctl show` (system@ovs-system on the kernel, netdev@ovs-netdev in userspace)."""

    name: str
    type: str
    ports: list[DatapathPort] = field(default_factory=list)


def _port_type(spec: str | None, command: str, line: str) -> tuple[str | None, dict[str, str]]:
    """`vxlan: df_default=false, dst_port=4789, key=flow` -> ("vxlan", {...}); `internal` -> ("internal", {})."""
    if not spec:
        return None, {}
    kind, _, options = spec.partition(":")
    result = {}
    for item in options.split(","):
        if item.strip():
            key, equals, value = item.strip().partition("=")
            if not equals:
                raise ParseError(command, f"a port option is not `key=value`: {item.strip()!r:.40}", line)
            result[key] = value
    return kind.strip(), result


_DP_HEADER = re.compile(r"^(\w+)@(\S+?):(.*)$")
_DP_PORT = re.compile(r"^port (\d+): (\S+)(?: \((.*)\))?$")


def _datapath_header(line: str, command: str, expected: str) -> tuple[str, str, str]:
    """`type@name:` and what follows on the line (dpif/show prints hit/missed counters there)."""
    header = _DP_HEADER.match(line.strip())
    require(header is not None, command, f"expected a `{expected}` datapath line", line)
    assert header is not None
    return header.group(1), header.group(2), header.group(3)


@guarded("ovs-dpctl show")
def parse_ovs_dpctl_show(text: str, command: str = "ovs-dpctl show") -> list[Datapath]:
    """`ovs-dpctl show` (also `ovs-appctl dpctl/show`): datapaths and their numbered ports."""
    datapaths: list[Datapath] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line[:1].isspace():
            kind, name, rest = _datapath_header(line, command, "type@name:")
            require(not rest.strip(), command, "expected a `type@name:` datapath line", line)
            datapaths.append(Datapath(name=name, type=kind))
            continue
        require(bool(datapaths), command, "an indented line before any datapath", line)
        port = _DP_PORT.match(line.strip())
        if port:
            port_kind, options = _port_type(port.group(3), command, line)
            number = integer(command, port.group(1), "port number", line)
            datapaths[-1].ports.append(DatapathPort(number, port.group(2), port_kind, options))
        # lookups:, flows:, masks:, cache:, caches: and statistics lines carry nothing we need
    return datapaths


@dataclass
class DpifPort:
    """A bridge port of `ovs-appctl dpif/show`: OpenFlow port and datapath port (None for patch ports)."""

    name: str
    ofport: int
    dp_port: int | None
    type: str | None = None
    options: dict[str, str] = field(default_factory=dict)


@dataclass
class DpifBridge:
    """A bridge of `ovs-appctl dpif/show` with its ports."""

    name: str
    ports: list[DpifPort] = field(default_factory=list)


@dataclass
class DpifDatapath:
    """A datapath of `ovs-appctl dpif/show` and the bridges it serves."""

    name: str
    type: str
    bridges: list[DpifBridge] = field(default_factory=list)


_DPIF_PORT = re.compile(r"^(\S+) (\d+)/(\d+|none):(?: \((.*)\))?$")


@guarded("ovs-appctl dpif/show")
def parse_ovs_dpif_show(text: str, command: str = "ovs-appctl dpif/show") -> list[DpifDatapath]:
    """`ovs-appctl dpif/show`: datapath -> bridges -> ports with `ofport/dp_port` numbers."""
    datapaths: list[DpifDatapath] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        content = line.strip()
        if indent == 0:
            kind, name, _ = _datapath_header(line, command, "type@name: hit:N missed:N")
            datapaths.append(DpifDatapath(name=name, type=kind))
        elif content.endswith(":") and " " not in content:
            require(bool(datapaths), command, "a bridge before any datapath", line)
            datapaths[-1].bridges.append(DpifBridge(name=content[:-1]))
        else:
            port = _DPIF_PORT.match(content)
            require(port is not None and bool(datapaths) and bool(datapaths[-1].bridges), command,
                    "expected `name ofport/dp_port: (type)` under a bridge", line)
            assert port is not None
            port_kind, options = _port_type(port.group(4), command, line)
            dp_port = None if port.group(3) == "none" else integer(command, port.group(3), "datapath port", line)
            ofport = integer(command, port.group(2), "OpenFlow port", line)
            datapaths[-1].bridges[-1].ports.append(DpifPort(port.group(1), ofport, dp_port, port_kind, options))
    return datapaths


# -- joins into the scanner's facts ---------------------------------------------------------------------

def ovs_ports(bridges: list[dict[str, Any]], ports: list[dict[str, Any]],
              interfaces: list[dict[str, Any]]) -> list[OvsPortFact]:
    """Join the Bridge, Port and Interface tables (as parse_ovsdb_table gives them for those tables)
    into one fact per port, with its first interface's type, options, external_ids and link state."""
    port_by_uuid = {_column(p, "Port", "_uuid", str): p for p in ports}
    interface_by_uuid = {_column(i, "Interface", "_uuid", str): i for i in interfaces}
    result = []
    for bridge in bridges:
        uuids = _column(bridge, "Bridge", "ports", list)
        for port in (port_by_uuid[u] for u in uuids if isinstance(u, str) and u in port_by_uuid):
            members = _column(port, "Port", "interfaces", list)
            first = members[0] if members and isinstance(members[0], str) else None
            interface = interface_by_uuid.get(first, {}) if first else {}
            link_state, kind = interface.get("link_state"), interface.get("type")
            admin_state, ofport, error = interface.get("admin_state"), interface.get("ofport"), interface.get("error")
            tag = _column(port, "Port", "tag", int, optional=True)
            result.append(OvsPortFact(
                name=_column(port, "Port", "name", str), bridge=_column(bridge, "Bridge", "name", str),
                type=kind if isinstance(kind, str) else "", tag=tag if not isinstance(tag, bool) else None,
                options=_strings(interface.get("options")), external_ids=_strings(interface.get("external_ids")),
                link_state=link_state if isinstance(link_state, str) else None,
                admin_state=admin_state if isinstance(admin_state, str) else None,
                ofport=ofport if isinstance(ofport, int) and not isinstance(ofport, bool) else None,
                error=error if isinstance(error, str) else None))
    return result


def _column(row: dict[str, Any], table: str, name: str, kind: type, optional: bool = False) -> Any:
    """A column of an OVSDB row that ovs_ports needs, of the type OVSDB gives it; else a ParseError
    naming the table and column."""
    value = row.get(name)
    if (value is None and optional) or isinstance(value, kind):
        return value
    raise ParseError(f"ovs-vsctl --format=json list {table}",
                     f"a row has no {kind.__name__} `{name}` column", repr(row))


def _strings(value: Any) -> dict[str, str]:
    """An OVSDB string map (options, external_ids); anything else in it is dropped."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def ovs_ports_from_show(show: OvsShow) -> list[OvsPortFact]:
    """The same facts from `ovs-vsctl show`: no external_ids and no link state (links then count as up)."""
    result = []
    for bridge in show.bridges:
        for port in bridge.ports:
            first = port.interfaces[0] if port.interfaces else OvsInterface(port.name)
            result.append(OvsPortFact(name=port.name, bridge=bridge.name, type=first.type, tag=port.tag,
                                      options=dict(first.options)))
    return result


def dpctl_ports(datapaths: list[Datapath]) -> list[DatapathPortFact]:
    """The ports of every datapath of `ovs-dpctl show`, by datapath device name (tunnels share one
    device per type and UDP port, e.g. vxlan_sys_4789)."""
    return [DatapathPortFact(p.name, p.number, p.type or "system") for d in datapaths for p in d.ports]


def dpif_ports(datapaths: list[DpifDatapath]) -> list[DatapathPortFact]:
    """The ports of `ovs-appctl dpif/show` that are in a datapath (patch ports are not), by OVS port name."""
    return [DatapathPortFact(p.name, p.dp_port, p.type or "system")
            for d in datapaths for b in d.bridges for p in b.ports if p.dp_port is not None]
