"""Open vSwitch 3.1 on the kernel datapath, as the Neutron OVS agent leaves it.

ovs-vsctl (show, list-br, list-ports, list-ifaces, list/get with --format=json, --columns),
ovs-dpctl show, ovs-ofctl dump-flows/show, ovs-appctl dpif/show and ofproto/list-tunnels.
Formats were checked against ovs-vsctl 3.1.0 on a real ovsdb-server (show, list, get, JSON) and
against recorded outputs of real Neutron hosts (dpctl, ofctl, appctl). Rows get UUIDs derived
from the host and the record's name; `ovs-vsctl show` orders bridges and ports by UUID, as the
real tool does. The database is what vswitchd fills in on a running system: ofport, ifindex,
mac_in_use, link and admin state, statistics and driver status.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field

from lab.hostmodel import OvsBridge, OvsPort
from lab.hosts.view import TUNNEL_DEVICES, HostView, stable_number
from lab.world import Network

Result = tuple[int, str, str]
OVS_VERSION = "3.1.0"
CONTROLLER = "tcp:127.0.0.1:6633"
MANAGER = "ptcp:6640:127.0.0.1"
_NAMESPACE = uuid.UUID("6f1b3a9e-4c2d-4e8f-9a7b-0c5d2e1f3a4b")
# Neutron's br-tun tables: where traffic from a tunnel of each type lands.
_TUN_TO_LV = {"gre": 3, "vxlan": 4}


# -- OVSDB atoms -------------------------------------------------------------------------------

class Uuid(str):
    """A reference to a row."""


@dataclass
class OvsSet:
    """A set column; `multi` for columns of more than one value (printed in brackets even with one)."""

    items: list[object] = field(default_factory=list)
    multi: bool = True


class OvsMap(dict[str, object]):
    """A map column (keys are printed sorted)."""


def _needs_quotes(text: str) -> bool:
    """ovsdb-data.c's string_needs_quotes(): bare only for identifier-like strings."""
    if not text or not (text[0].isalpha() or text[0] == "_"):
        return True
    if any(not (c.isalnum() or c in "_-.") for c in text):
        return True
    if text in ("true", "false"):
        return True
    try:
        uuid.UUID(text)
        return True
    except ValueError:
        return False


def atom_text(value: object) -> str:
    if isinstance(value, Uuid):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return json.dumps(text) if _needs_quotes(text) else text


def datum_text(value: object) -> str:
    """A column as `ovs-vsctl list` prints it."""
    if isinstance(value, OvsMap):
        return "{" + ", ".join(f"{atom_text(k)}={atom_text(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, OvsSet):
        if not value.items or value.multi:
            return "[" + ", ".join(atom_text(v) for v in value.items) + "]"
        return atom_text(value.items[0])
    return atom_text(value)


def atom_json(value: object) -> object:
    if isinstance(value, Uuid):
        return ["uuid", str(value)]
    return value


def datum_json(value: object) -> object:
    """A column in ovs-vsctl's --format=json table (OVSDB's wire format)."""
    if isinstance(value, OvsMap):
        return ["map", [[atom_json(k), atom_json(v)] for k, v in sorted(value.items())]]
    if isinstance(value, OvsSet):
        if len(value.items) == 1:
            return atom_json(value.items[0])
        return ["set", [atom_json(v) for v in value.items]]
    return atom_json(value)


def _none() -> OvsSet:
    return OvsSet([], multi=False)


def _one(value: object) -> OvsSet:
    return OvsSet([value], multi=False)


# -- the database of one host ------------------------------------------------------------------

@dataclass
class Database:
    """The rows of the tables the scanner reads, by table name, each row a dict of columns."""

    system_uuid: Uuid
    tables: dict[str, list[dict[str, object]]]

    def find(self, table: str, key: str) -> dict[str, object] | None:
        for row in self.tables.get(table, []):
            if key in (row.get("name"), str(row["_uuid"])):
                return row
        return None


def row_uuid(view: HostView, table: str, name: str) -> Uuid:
    key = f"{view.state.name}/{table}/{name}"
    found = view.memo.get(key)
    if not isinstance(found, Uuid):
        found = view.memo[key] = Uuid(uuid.uuid5(_NAMESPACE, key))
    return found


def datapath_ports(view: HostView) -> list[tuple[int, str, str]]:
    """(port number, device name, type) of the kernel datapath, in the order the agent added them."""
    numbered: list[tuple[str, str]] = [("ovs-system", "internal")]
    seen = {"ovs-system"}

    def add(name: str, kind: str) -> None:
        if name not in seen:
            seen.add(name)
            numbered.append((name, kind))

    for bridge in view.state.ovs_bridges:
        add(bridge.name, "internal")
    for bridge in view.state.ovs_bridges:
        for port in bridge.ports:
            if port.type in TUNNEL_DEVICES:
                add(TUNNEL_DEVICES[port.type], port.type)
            elif port.type == "" and "iface-id" not in port.external_ids:
                add(port.name, "system")
    for bridge in view.state.ovs_bridges:
        for port in bridge.ports:
            if "iface-id" in port.external_ids:
                add(port.name, port.type or "system")
    return [(number, name, kind) for number, (name, kind) in enumerate(numbered)]


def dp_port_numbers(view: HostView) -> dict[str, int]:
    return {name: number for number, name, _ in datapath_ports(view)}


def _odp_port(view: HostView, port: OvsPort, numbers: dict[str, int]) -> int | None:
    """The datapath port behind an OpenFlow port (patch ports have none; tunnels share one)."""
    if port.type == "patch":
        return None
    if port.type in TUNNEL_DEVICES:
        return numbers.get(TUNNEL_DEVICES[port.type])
    return numbers.get(port.name)


def _statistics(view: HostView, port: OvsPort) -> OvsMap:
    seed = f"{view.state.name}/{port.name}"
    rx = stable_number(seed + "/rx", 50000)
    tx = stable_number(seed + "/tx", 50000)
    stats = {"collisions": 0, "rx_bytes": rx * 86, "rx_crc_err": 0, "rx_dropped": 0, "rx_errors": 0,
             "rx_frame_err": 0, "rx_missed_errors": 0, "rx_over_err": 0, "rx_packets": rx, "tx_bytes": tx * 90,
             "tx_dropped": 0, "tx_errors": 0, "tx_packets": tx}
    if port.type == "patch":
        stats = {"rx_bytes": rx * 86, "rx_packets": rx, "tx_bytes": tx * 90, "tx_packets": tx}
    return OvsMap(stats)


def _interface_row(view: HostView, port: OvsPort) -> dict[str, object]:
    device = view.device(port.name)
    kernel = port.type in ("", "internal")
    up = port.link_state == "up"
    speed: OvsSet = _none()
    duplex: OvsSet = _none()
    status: OvsMap = OvsMap()
    if device is not None and port.type == "":
        if device.carrier and device.up:
            speed = _one((device.speed_mbps or 10000) * 1_000_000)
            duplex = _one("full")
        status = OvsMap({"veth": {"driver_name": "veth", "driver_version": "1.0", "firmware_version": ""},
                         "tap": {"driver_name": "tun", "driver_version": "1.6", "firmware_version": ""},
                         "bond": {"driver_name": "bonding", "driver_version": view.host.kernel,
                                  "firmware_version": "2"}}.get(device.kind,
                        {"driver_name": "ixgbe", "driver_version": view.host.kernel,
                         "firmware_version": "0x800003e1"}))
    elif port.type == "internal":
        status = OvsMap({"driver_name": "openvswitch"})
    elif port.type in TUNNEL_DEVICES:
        egress = next((i.name for i in view.in_namespace(None)
                       if any(a.split("/")[0] == port.options.get("local_ip") for a in i.addresses)), None)
        if egress:
            status = OvsMap({"tunnel_egress_iface": egress, "tunnel_egress_iface_carrier": "up"})
    if device is not None and port.type == "internal":
        up = up and device.up
    mac = port.mac_in_use or (device.mac if device else "")
    if not mac:
        mac = ":".join(f"{stable_number(f'{view.state.name}/{port.name}/{n}', 256):02x}" for n in range(6))
        mac = f"{int(mac[:2], 16) & 0xfe | 0x02:02x}" + mac[2:]
    return {
        "_uuid": row_uuid(view, "Interface", port.name),
        "admin_state": _one("up" if (device.up if device is not None and kernel else True) else "down"),
        "bfd": OvsMap(), "bfd_status": OvsMap(), "cfm_fault": _none(), "cfm_fault_status": OvsSet(),
        "cfm_flap_count": _none(), "cfm_health": _none(), "cfm_mpid": _none(), "cfm_remote_mpids": OvsSet(),
        "cfm_remote_opstate": _none(), "duplex": duplex, "error": _none(),
        "external_ids": OvsMap(port.external_ids),
        "ifindex": _one(device.index if device is not None and kernel else 0),
        "ingress_policing_burst": 0, "ingress_policing_kpkts_burst": 0, "ingress_policing_kpkts_rate": 0,
        "ingress_policing_rate": 0, "lacp_current": _none(),
        "link_resets": _one(1 if up else 2), "link_speed": speed,
        "link_state": _one("up" if up and (device is None or not kernel or device.carrier) else "down"),
        "lldp": OvsMap(), "mac": _none(), "mac_in_use": _one(mac),
        "mtu": _one(device.mtu) if device is not None and kernel else _none(), "mtu_request": _none(),
        "name": port.name, "ofport": _one(port.ofport), "ofport_request": _none(),
        "options": OvsMap(port.options), "other_config": OvsMap(), "statistics": _statistics(view, port),
        "status": status, "type": port.type,
    }


def _port_row(view: HostView, port: OvsPort) -> dict[str, object]:
    other_config = OvsMap()
    neutron_port = view.port_of(port)
    if neutron_port is not None and port.tag is not None:
        network = view.networks[neutron_port.network_id]
        other_config = OvsMap({"net_uuid": network.id, "network_type": network.network_type,
                               "physical_network": network.physical_network or "None",
                               "segmentation_id": str(network.segmentation_id or "None"), "tag": str(port.tag)})
    return {
        "_uuid": row_uuid(view, "Port", port.name), "bond_active_slave": _none(), "bond_downdelay": 0,
        "bond_fake_iface": False, "bond_mode": _none(), "bond_updelay": 0, "cvlans": OvsSet(),
        "external_ids": OvsMap(), "fake_bridge": False,
        "interfaces": OvsSet([row_uuid(view, "Interface", port.name)]), "lacp": _none(), "mac": _none(),
        "name": port.name, "other_config": other_config, "protected": False, "qos": _none(),
        "rstp_statistics": OvsMap(), "rstp_status": OvsMap(), "statistics": OvsMap(), "status": OvsMap(),
        "tag": _one(port.tag) if port.tag is not None else _none(), "trunks": OvsSet(), "vlan_mode": _none(),
    }


def _bridge_row(view: HostView, bridge: OvsBridge) -> dict[str, object]:
    internal = view.device(bridge.name)
    mac = internal.mac if internal else "00:00:00:00:00:00"
    ports = sorted(row_uuid(view, "Port", p.name) for p in bridge.ports)
    return {
        "_uuid": row_uuid(view, "Bridge", bridge.name), "auto_attach": _none(),
        "controller": OvsSet([row_uuid(view, "Controller", bridge.name)]),
        "datapath_id": _one("0000" + mac.replace(":", "")), "datapath_type": bridge.datapath_type,
        "datapath_version": "<built-in>", "external_ids": OvsMap(), "fail_mode": _one("secure"),
        "flood_vlans": OvsSet(), "flow_tables": OvsMap(), "ipfix": _none(), "mcast_snooping_enable": False,
        "mirrors": OvsSet(), "name": bridge.name, "netflow": _none(),
        "other_config": OvsMap({"mac-table-size": "50000"}), "ports": OvsSet(list(ports)),
        "protocols": OvsSet(["OpenFlow10", "OpenFlow13", "OpenFlow14"]), "rstp_enable": False,
        "rstp_status": OvsMap(), "sflow": _none(), "status": OvsMap(), "stp_enable": False,
    }


def database(view: HostView) -> Database:
    """The rows vswitchd and the Neutron agent leave in the host's OVSDB (built once per host view:
    a view is rebuilt whenever the world changes)."""
    cached = view.memo.get("ovsdb")
    if isinstance(cached, Database):
        return cached
    ports = [p for b in view.state.ovs_bridges for p in b.ports]
    built = view.memo["ovsdb"] = Database(
        system_uuid=row_uuid(view, "Open_vSwitch", "."),
        tables={
            "Bridge": sorted((_bridge_row(view, b) for b in view.state.ovs_bridges), key=lambda r: str(r["_uuid"])),
            "Port": sorted((_port_row(view, p) for p in ports), key=lambda r: str(r["_uuid"])),
            "Interface": sorted((_interface_row(view, p) for p in ports), key=lambda r: str(r["_uuid"])),
        })
    return built


# -- ovs-vsctl ---------------------------------------------------------------------------------

def show(view: HostView) -> str:
    """`ovs-vsctl show`: bridges and their ports in UUID order, as the real tool walks them."""
    lines = [str(row_uuid(view, "Open_vSwitch", ".")), f'    Manager "{MANAGER}"', "        is_connected: true"]
    for bridge in sorted(view.state.ovs_bridges, key=lambda b: row_uuid(view, "Bridge", b.name)):
        lines += [f"    Bridge {bridge.name}", f'        Controller "{CONTROLLER}"', "            is_connected: true",
                  "        fail_mode: secure", f"        datapath_type: {bridge.datapath_type}"]
        for port in sorted(bridge.ports, key=lambda p: row_uuid(view, "Port", p.name)):
            lines.append(f"        Port {port.name}")
            if port.tag is not None:
                lines.append(f"            tag: {port.tag}")
            lines.append(f"            Interface {port.name}")
            if port.type:
                lines.append(f"                type: {port.type}")
            if port.options:
                lines.append(f"                options: {datum_text(OvsMap(port.options))}")
    lines.append(f'    ovs_version: "{OVS_VERSION}"')
    return "\n".join(lines) + "\n"


def _table_json(rows: list[dict[str, object]], columns: list[str]) -> str:
    data = [[datum_json(row[c]) for c in columns] for row in rows]
    return json.dumps({"data": data, "headings": columns}, separators=(",", ":")) + "\n"


def _table_list(rows: list[dict[str, object]], columns: list[str], bare: bool) -> str:
    records = []
    for row in rows:
        if bare:
            records.append("".join(f"{_bare(row[c])}\n" for c in columns))
        else:
            records.append("".join(f"{c:<20}: {datum_text(row[c])}\n" for c in columns))
    return "\n".join(records)


def _bare(value: object) -> str:
    if isinstance(value, OvsMap):
        return " ".join(f"{k}={v}" for k, v in sorted(value.items()))
    if isinstance(value, OvsSet):
        return " ".join(_bare(v) for v in value.items)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_TABLES = {"interface": "Interface", "port": "Port", "bridge": "Bridge"}


def run_vsctl(view: HostView, args: list[str]) -> Result:
    fmt, columns, bare = "list", None, False
    rest: list[str] = []
    iterator = iter(args)
    for arg in iterator:
        if arg.startswith("--format=") or arg in ("-f", "--format"):
            fmt = arg.split("=", 1)[1] if "=" in arg else next(iterator, "list")
        elif arg.startswith("--columns=") or arg == "--columns":
            columns = (arg.split("=", 1)[1] if "=" in arg else next(iterator, "")).split(",")
        elif arg == "--bare" or arg == "--data=bare":
            bare = True
        elif arg in ("--timeout", "-t", "--db"):
            next(iterator, None)
        elif arg.startswith("-") and arg not in ("--",):
            continue  # --no-wait, --timeout=N, --db=..., -v, --no-headings: no effect on what we print
        else:
            rest.append(arg)
    if not rest:
        return 1, "", "ovs-vsctl: missing command name (use --help for help)\n"
    if rest[0] == "--version" or "--version" in args:
        return 0, f"ovs-vsctl (Open vSwitch) {OVS_VERSION}\nDB Schema 8.3.1\n", ""
    command, params = rest[0], rest[1:]
    bridges = {b.name: b for b in view.state.ovs_bridges}
    if command == "show":
        return 0, show(view), ""
    if command == "list-br":
        return 0, "".join(f"{name}\n" for name in sorted(bridges)), ""
    if command in ("list-ports", "list-ifaces"):
        if not params:
            return 1, "", f"ovs-vsctl: '{command}' command requires at least 1 arguments\n"
        bridge = bridges.get(params[0])
        if bridge is None:
            return 1, "", f"ovs-vsctl: no bridge named {params[0]}\n"
        return 0, "".join(f"{p.name}\n" for p in sorted(bridge.ports, key=lambda p: p.name)
                          if p.name != bridge.name), ""
    if command == "br-exists":
        return (0 if params and params[0] in bridges else 2), "", ""
    if command in ("port-to-br", "iface-to-br"):
        owner = next((b.name for b in view.state.ovs_bridges for p in b.ports if params and p.name == params[0]), None)
        if owner is None:
            what = "port" if command == "port-to-br" else "interface"
            return 1, "", f"ovs-vsctl: no {what} named {params[0] if params else ''}\n"
        return 0, f"{owner}\n", ""
    if command in ("list", "get"):
        return _list_or_get(view, command, params, fmt, columns, bare)
    return 1, "", f"ovs-vsctl: unknown command '{command}'; use --help for help\n"


def _list_or_get(view: HostView, command: str, params: list[str], fmt: str, columns: list[str] | None,
                 bare: bool) -> Result:
    if not params:
        return 1, "", f"ovs-vsctl: '{command}' command requires at least 1 arguments\n"
    table = _TABLES.get(params[0].lower())
    if table is None:
        return 1, "", f'ovs-vsctl: unknown table "{params[0]}"\n'
    db = database(view)
    rows = db.tables[table]
    wanted = params[1:] if command == "list" else params[1:2]
    if command == "get" and not wanted:
        return 1, "", "ovs-vsctl: 'get' command requires at least 3 arguments\n"
    if wanted:
        found = []
        for key in wanted:
            row = db.find(table, key)
            if row is None:
                return 1, "", f'ovs-vsctl: no row "{key}" in table {table}\n'
            found.append(row)
        rows = found
    if command == "get":
        row = rows[0]
        out = []
        for spec in params[2:]:
            column, _, key = spec.partition(":")
            if column not in row:
                return 1, "", f'ovs-vsctl: {table} does not contain a column whose name matches "{column}"\n'
            value = row[column]
            if key:
                if not isinstance(value, OvsMap) or key not in value:
                    return 1, "", f'ovs-vsctl: no key "{key}" in {table} record "{params[1]}" column {column}\n'
                out.append(atom_text(value[key]))
            else:
                out.append(datum_text(value))
        return 0, "".join(f"{line}\n" for line in out), ""
    headings = list(rows[0].keys()) if rows else list(_empty_headings(table))
    if columns:
        unknown = [c for c in columns if c not in headings]
        if unknown:
            return 1, "", f'ovs-vsctl: {table} does not contain a column whose name matches "{unknown[0]}"\n'
        headings = columns
    if fmt == "json":
        return 0, _table_json(rows, headings), ""
    return 0, _table_list(rows, headings, bare), ""


def _empty_headings(table: str) -> list[str]:
    return {"Bridge": ["_uuid", "name"], "Port": ["_uuid", "name"], "Interface": ["_uuid", "name"]}[table]


# -- ovs-dpctl / ovs-appctl ------------------------------------------------------------------------

def _dp_stats(view: HostView) -> tuple[int, int, int, int]:
    seed = view.state.name
    hit = 1000 + stable_number(seed + "/hit", 90000)
    missed = 100 + stable_number(seed + "/missed", 900)
    flows = stable_number(seed + "/flows", 20)
    masks = 1 + stable_number(seed + "/masks", 8)
    return hit, missed, flows, masks


def dpctl_show(view: HostView) -> str:
    """`ovs-dpctl show` of the kernel datapath."""
    hit, missed, flows, masks = _dp_stats(view)
    mask_hit = hit + missed + stable_number(view.state.name + "/maskhit", 1000)
    cache_hit = hit // 2
    packets = hit + missed
    lines = ["system@ovs-system:", f"  lookups: hit:{hit} missed:{missed} lost:0", f"  flows: {flows}",
             f"  masks: hit:{mask_hit} total:{masks} hit/pkt:{mask_hit / packets:.2f}",
             f"  cache: hit:{cache_hit} hit-rate:{cache_hit / packets * 100:.2f}%", "  caches:",
             "    masks-cache: size:256"]
    for number, name, kind in datapath_ports(view):
        if kind == "system":
            lines.append(f"  port {number}: {name}")
        elif kind in TUNNEL_DEVICES:
            lines.append(f"  port {number}: {name} ({kind}: packet_type=ptap)")
        else:
            lines.append(f"  port {number}: {name} ({kind})")
    return "\n".join(lines) + "\n"


def run_dpctl(view: HostView, args: list[str]) -> Result:
    args = [a for a in args if not a.startswith("-")]
    if not args or args[0] == "show":
        if len(args) > 1 and args[1] not in ("system@ovs-system", "ovs-system"):
            return 1, "", (f"ovs-dpctl: opening datapath {args[1]} failed (No such device)\n")
        return 0, dpctl_show(view), ""
    if args[0] == "dump-dps":
        return 0, "system@ovs-system\n", ""
    return 1, "", f"ovs-dpctl: unknown command '{args[0]}'; use --help for help\n"


def _tunnel_config(port: OvsPort) -> str:
    """A tunnel's configuration as netdev-vport's get_tunnel_config() gives it to dpif/show: keys
    sorted, `key=` when the in and out keys agree, egress_pkt_mark when set, df_default only when
    false (checked against ovs-vswitchd 3.1's userspace datapath, whose tunnels print the same)."""
    options = port.options
    shown: dict[str, str] = {k: options[k] for k in ("remote_ip", "local_ip", "egress_pkt_mark") if k in options}
    in_key, out_key = options.get("in_key", options.get("key")), options.get("out_key", options.get("key"))
    if in_key is not None and in_key == out_key:
        shown["key"] = in_key
    else:
        shown.update({k: v for k, v in (("in_key", in_key), ("out_key", out_key)) if v is not None})
    if options.get("df_default") == "false":
        shown["df_default"] = "false"
    return ", ".join(f"{k}={v}" for k, v in sorted(shown.items()))


def dpif_show(view: HostView) -> str:
    """`ovs-appctl dpif/show`: per bridge its ports with OpenFlow/datapath numbers and types."""
    hit, missed, _, _ = _dp_stats(view)
    numbers = dp_port_numbers(view)
    lines = [f"system@ovs-system: hit:{hit} missed:{missed}"]
    for bridge in sorted(view.state.ovs_bridges, key=lambda b: b.name):
        lines.append(f"  {bridge.name}:")
        for port in sorted(bridge.ports, key=lambda p: p.name):
            odp = _odp_port(view, port, numbers)
            odp_text = "none" if odp is None else str(odp)
            if port.type == "patch":
                detail = f"patch: peer={port.options.get('peer', '')}"
            elif port.type in TUNNEL_DEVICES:
                detail = f"{port.type}: {_tunnel_config(port)}"
            else:
                detail = port.type or "system"
            lines.append(f"    {port.name} {port.ofport}/{odp_text}: ({detail})")
    return "\n".join(lines) + "\n"


def list_tunnels(view: HostView) -> str:
    """`ovs-appctl ofproto/list-tunnels`."""
    lines = []
    numbers = dp_port_numbers(view)
    for bridge in view.state.ovs_bridges:
        for port in bridge.ports:
            if port.type in TUNNEL_DEVICES:
                odp = _odp_port(view, port, numbers)
                lines.append(f"port {odp}: {port.name} ({port.type}: {port.options.get('local_ip')}->"
                             f"{port.options.get('remote_ip')}, key=flow, legacy_l2, dp port={odp}, ttl=64)")
    return "".join(f"{line}\n" for line in lines)


def run_appctl(view: HostView, args: list[str]) -> Result:
    args = [a for a in args if not a.startswith("-")]
    if not args:
        return 2, "", "ovs-appctl: at least one non-option argument is required (use --help for help)\n"
    if args[0] == "dpif/show":
        return 0, dpif_show(view), ""
    if args[0] == "ofproto/list-tunnels":
        return 0, list_tunnels(view), ""
    if args[0] == "version":
        return 0, f"ovs-vswitchd (Open vSwitch) {OVS_VERSION}\n", ""
    return 2, "", f'"{args[0]}" is not a valid command (use "list-commands" to see a list of valid commands)\n' \
                  "ovs-appctl: ovs-vswitchd: server returned an error\n"


# -- ovs-ofctl ---------------------------------------------------------------------------------

@dataclass
class Flow:
    table: int
    priority: int
    match: str
    actions: str


def flow_cookie(view: HostView, bridge: str) -> str:
    return f"0x{stable_number(f'{view.state.name}/{bridge}/cookie', 2 ** 63):x}"


def _peer_hosts(view: HostView, network_ids: list[str]) -> dict[str, list[str]]:
    """network id -> the other hosts with a port bound on it (the l2population driver tells the agent)."""
    found: dict[str, list[str]] = {}
    for network_id in network_ids:
        for port in view.world_index.ports_by_network.get(network_id, []):
            if port.binding_host != view.state.name and port.binding_host not in found.setdefault(network_id, []):
                found[network_id].append(port.binding_host)
    return found


def _name(port: str) -> str:
    """A port name as ovs-ofctl --names prints it: quoted unless it is letters, digits and underscores."""
    return port if port.replace("_", "").isalnum() and not port.isdigit() else f'"{port}"'


def flows(view: HostView, bridge: OvsBridge) -> list[Flow]:
    """The flow tables the Neutron OVS agent programs (iptables hybrid firewall; l2population: each
    network floods only to the tunnels of the peers that host it, and each remote port has a unicast flow).
    Ports are named (quoted as `--names` prints them); dump_flows numbers them for the plain form. Built
    once per host view (a view is rebuilt whenever the world changes)."""
    cached = view.memo.get(f"flows/{bridge.name}")
    if isinstance(cached, list):
        return cached
    built = view.memo[f"flows/{bridge.name}"] = _agent_flows(view, bridge)
    return built


def _agent_flows(view: HostView, bridge: OvsBridge) -> list[Flow]:
    vlans = view.local_vlans()
    networks = view.networks
    result: list[Flow] = []
    if bridge.name == "br-int":
        result.append(Flow(0, 65535, "dl_vlan=4095", "drop"))
        for port in bridge.ports:
            if port.type == "patch" and port.name.startswith("int-br-"):
                for network_id, vlan in sorted(vlans.items(), key=lambda item: item[1]):
                    network = networks[network_id]
                    if _provider_bridge_of(network) == "br-" + port.name.removeprefix("int-br-"):
                        match = (f"dl_vlan={network.segmentation_id}" if network.network_type == "vlan"
                                 else "vlan_tci=0x0000/0x1fff")
                        result.append(Flow(0, 3, f"in_port={_name(port.name)},{match}",
                                           f"mod_vlan_vid:{vlan},resubmit(,58)"))
                result.append(Flow(0, 2, f"in_port={_name(port.name)}", "drop"))
        result += [Flow(0, 0, "", "resubmit(,58)"), Flow(23, 0, "", "drop"), Flow(24, 0, "", "drop"),
                   Flow(30, 0, "", "resubmit(,58)"), Flow(31, 0, "", "resubmit(,58)"),
                   Flow(58, 0, "", "resubmit(,60)"), Flow(60, 3, "", "NORMAL")]
    elif bridge.name == "br-tun":
        tunnels = [p for p in bridge.ports if p.type in _TUN_TO_LV]
        result.append(Flow(0, 1, 'in_port="patch-int"', "resubmit(,2)"))
        for port in tunnels:
            result.append(Flow(0, 1, f"in_port={_name(port.name)}", f"resubmit(,{_TUN_TO_LV[port.type]})"))
        result += [Flow(0, 0, "", "drop"),
                   Flow(2, 0, "dl_dst=00:00:00:00:00:00/01:00:00:00:00:00", "resubmit(,20)"),
                   Flow(2, 0, "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00", "resubmit(,22)"),
                   Flow(3, 0, "", "drop")]
        overlay = [(networks[n], v) for n, v in sorted(vlans.items(), key=lambda item: item[1])
                   if networks[n].network_type in _TUN_TO_LV]
        for network, vlan in overlay:
            table = _TUN_TO_LV[network.network_type]
            result.append(Flow(table, 1, f"tun_id=0x{network.segmentation_id:x}",
                               f"mod_vlan_vid:{vlan},resubmit(,10)"))
        result += [Flow(4, 0, "", "drop"), Flow(6, 0, "", "drop"),
                   Flow(10, 1, "", "learn(table=20,hard_timeout=300,priority=1,cookie=" + flow_cookie(view, bridge.name)
                        + ",NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],"
                        "load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:OXM_OF_IN_PORT[]),output:\"patch-int\"")]
        tunnel_of = {p.options.get("remote_ip"): p for p in tunnels}  # remote tunneling IP -> port
        ips = view.world_index.tunnel_ips
        peers = _peer_hosts(view, [network.id for network, _ in overlay])
        output_to = {host: f",output:{_name(tunnel_of[ip].name)}" for host, ip in ips.items() if ip in tunnel_of}
        unicast, flood = [], []
        for network, vlan in overlay:
            carry = f"strip_vlan,load:0x{network.segmentation_id:x}->NXM_NX_TUN_ID[]"
            reached = sorted({tunnel_of[ips[h]].name: tunnel_of[ips[h]] for h in peers.get(network.id, [])
                              if ips.get(h) in tunnel_of}.values(), key=lambda p: p.ofport)
            for remote in view.world_index.ports_by_network.get(network.id, []):
                output = output_to.get(remote.binding_host)
                if output is not None and remote.binding_host != view.state.name:
                    unicast.append(Flow(20, 2, f"dl_vlan={vlan},dl_dst={remote.mac_address}", carry + output))
            if reached and network.id not in view.host.flood_flows_missing:
                flood.append(Flow(22, 1, f"dl_vlan={vlan}",
                                  carry + "".join(f",output:{_name(p.name)}" for p in reached)))
        result += unicast + [Flow(20, 0, "", "resubmit(,22)")] + flood + [Flow(22, 0, "", "drop")]
    else:
        phy = next((p.name for p in bridge.ports if p.type == "patch"), None)
        if phy:
            for network_id, vlan in sorted(vlans.items(), key=lambda item: item[1]):
                network = networks[network_id]
                if _provider_bridge_of(network) != bridge.name:
                    continue
                action = (f"mod_vlan_vid:{network.segmentation_id},NORMAL" if network.network_type == "vlan"
                          else "strip_vlan,NORMAL")
                result.append(Flow(0, 4, f"in_port={_name(phy)},dl_vlan={vlan}", action))
            result.append(Flow(0, 2, f"in_port={_name(phy)}", "drop"))
        result.append(Flow(0, 0, "", "NORMAL"))
    return result


def _provider_bridge_of(network: Network) -> str:
    if network.network_type not in ("vlan", "flat"):
        return ""
    return "br-ex" if network.physical_network == "external" else f"br-{network.physical_network}"


_PORT_REFERENCE = re.compile(r'(in_port=|output:)"([^"]+)"')
_BARE_PORT = re.compile(r"(in_port=|output:)([A-Za-z_][A-Za-z0-9_]*)\b(?!\[)")


def dump_flows(view: HostView, bridge: OvsBridge, names: bool = False, stats: bool = True,
               table: int | None = None) -> str:
    """`ovs-ofctl dump-flows BRIDGE [table=N]` as OVS 3.1 prints it to a pipe (header, idle_age, port numbers),
    or with `--names` (quoted names, no header, no idle_age) or `--no-stats` (no counters, table 0 left out)."""
    cookie = flow_cookie(view, bridge.name)
    numbers = {port.name: "LOCAL" if port.ofport == 65534 else str(port.ofport) for port in bridge.ports}

    def number(found: re.Match[str]) -> str:
        return found.group(1) + numbers.get(found.group(2), found.group(2))

    # with a match ovs-ofctl first negotiates table ids: its request goes out as the 8th transaction, not the 4th
    lines = [] if names or not stats else [f"NXST_FLOW reply (xid=0x{4 if table is None else 8:x}):"]
    for position, flow in enumerate(flows(view, bridge)):
        if table is not None and flow.table != table:
            continue
        match = f"priority={flow.priority}" + (f",{flow.match}" if flow.match else "")
        actions = flow.actions
        if not names:
            match, actions = _PORT_REFERENCE.sub(number, match), _PORT_REFERENCE.sub(number, actions)
            match, actions = _BARE_PORT.sub(number, match), _BARE_PORT.sub(number, actions)
        if not stats:
            shown = f"table={flow.table}, " if flow.table else ""
            lines.append(f" cookie={cookie}, {shown}{match} actions={actions}")
            continue
        seed = f"{view.state.name}/{bridge.name}/{position}"
        packets = stable_number(seed, 500) if flow.priority < 65535 else 0
        duration = 5000 + stable_number(seed + "/d", 900000) / 1000
        idle = "" if names else f"idle_age={stable_number(seed + '/i', 5000)}, "
        lines.append(f" cookie={cookie}, duration={duration:.3f}s, table={flow.table}, n_packets={packets}, "
                     f"n_bytes={packets * 70}, {idle}{match} actions={actions}")
    return "".join(f"{line}\n" for line in lines)


def ofctl_show(view: HostView, bridge: OvsBridge) -> str:
    internal = view.device(bridge.name)
    mac = internal.mac if internal else "00:00:00:00:00:00"
    lines = [f"OFPT_FEATURES_REPLY (xid=0x2): dpid:0000{mac.replace(':', '')}", "n_tables:254, n_buffers:0",
             "capabilities: FLOW_STATS TABLE_STATS PORT_STATS QUEUE_STATS ARP_MATCH_IP",
             "actions: output enqueue set_vlan_vid set_vlan_pcp strip_vlan mod_dl_src mod_dl_dst mod_nw_src "
             "mod_nw_dst mod_nw_tos mod_tp_src mod_tp_dst"]
    db = database(view)
    for port in sorted(bridge.ports, key=lambda p: (p.ofport == 65534, p.ofport)):
        row = db.find("Interface", port.name) or {}
        mac_value = row.get("mac_in_use")
        port_mac = mac_value.items[0] if isinstance(mac_value, OvsSet) and mac_value.items else mac
        number = "LOCAL" if port.ofport == 65534 else str(port.ofport)
        device = view.device(port.name)
        down = device is not None and port.type in ("", "internal") and not device.up
        link_down = down or port.link_state != "up" or (device is not None and not device.carrier)
        speed = "10000 Mbps now, 0 Mbps max" if port.type == "" and not link_down else "0 Mbps now, 0 Mbps max"
        lines += [f" {number}({port.name}): addr:{port_mac}",
                  f"     config:     {'PORT_DOWN' if down else '0'}",
                  f"     state:      {'LINK_DOWN' if link_down else '0'}",
                  f"     speed: {speed}"]
    lines.append("OFPT_GET_CONFIG_REPLY (xid=0x4): frags=normal miss_send_len=0")
    return "\n".join(lines) + "\n"


def run_ofctl(view: HostView, args: list[str]) -> Result:
    options = [a for a in args if a.startswith("-")]
    args = [a for a in args if not a.startswith("-")]
    if not args:
        return 1, "", "ovs-ofctl: missing command name; use --help for help\n"
    command, params = args[0], args[1:]
    if command not in ("dump-flows", "show"):
        return 1, "", f"ovs-ofctl: unknown command '{command}'; use --help for help\n"
    if not params:
        return 1, "", f"ovs-ofctl: '{command}' command requires at least 1 arguments\n"
    bridge = next((b for b in view.state.ovs_bridges if b.name == params[0]), None)
    if bridge is None:
        return 1, "", (f"ovs-ofctl: {params[0]} is not a bridge or a socket\n")
    if command == "show":
        return 0, ofctl_show(view, bridge), ""
    table = None
    for match in params[1:]:  # a flow match: the lab's hosts filter by table only
        found = re.fullmatch(r"table=(\d+)", match)
        if found is None:
            return 1, "", f"ovs-ofctl: lab host: only a table=N match is simulated, not {match!r}\n"
        table = int(found.group(1))
    return 0, dump_flows(view, bridge, names="--names" in options, stats="--no-stats" not in options,
                         table=table), ""


# -- Open vSwitch installed but not running -------------------------------------------------------
# A host with the OVS packages and neither ovsdb-server nor ovs-vswitchd (a Linux-bridge host, or OVS
# restarting). The answers are Debian's openvswitch-switch 3.1 tools', run as root with no daemon.

OVS_RUN_DIR = "/var/run/openvswitch"
OVS_DB_SOCKET = f"unix:{OVS_RUN_DIR}/db.sock"
_LOG_TIME = "2026-01-01T00:00:00Z"  # the tools' log prefix; a fixed instant keeps the answers stable


def run_stopped(tool: str, args: list[str]) -> Result:
    """(exit status, stdout, stderr) of an OVS tool when the daemons are stopped."""
    if "--version" in args or "-V" in args:
        return 0, f"{tool} (Open vSwitch) {OVS_VERSION}\n", ""
    if tool == "ovs-vsctl":
        return 1, "", f"ovs-vsctl: {OVS_DB_SOCKET}: database connection failed (No such file or directory)\n"
    if tool == "ovs-appctl":
        pidfile = f"{OVS_RUN_DIR}/ovs-vswitchd.pid"
        return 1, "", (f"{_LOG_TIME}|00001|daemon_unix|WARN|{pidfile}: open: No such file or directory\n"
                       f'ovs-appctl: cannot read pidfile "{pidfile}" (No such file or directory)\n')
    if tool == "ovs-dpctl":
        return 1, "", (f"{_LOG_TIME}|00001|dpif_netlink|INFO|Generic Netlink family 'ovs_datapath' does not exist. "
                       "The Open vSwitch kernel module is probably not loaded.\n"
                       f"{_LOG_TIME}|00002|dpif|WARN|failed to enumerate system datapaths: No such file or directory\n")
    bridge = next((a for a in args[1:] if not a.startswith("-")), "br-int")
    return 1, "", f"ovs-ofctl: {bridge} is not a bridge or a socket\n"
