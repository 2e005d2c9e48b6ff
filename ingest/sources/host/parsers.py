"""Pure parsers of the host commands the scanner runs (machine-readable forms first).

Each raises ParseError naming the command and quoting the start of the output when the text is
not what the tool prints; empty but valid output gives empty results.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from typing import Any

from core.errors import CalipsoError
from ingest.sources.host.facts import (
    DomainFact, DomainInterfaceFact, InterfaceFact, OvsPortFact, VirtualFunctionFact, VppInterfaceFact,
)


class ParseError(CalipsoError):
    """A command's output is not in the tool's format."""

    def __init__(self, command: str, reason: str, text: str) -> None:
        self.command, self.reason, self.excerpt = command, reason, text.strip()[:200]
        super().__init__(f"cannot parse `{command}` output: {reason} near: {self.excerpt!r}")


def _json(command: str, text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else []
    except json.JSONDecodeError as exc:
        raise ParseError(command, f"not JSON ({exc.msg} at {exc.pos})", text) from None


# -- iproute2 -------------------------------------------------------------------------------------

def parse_ip_link_json(text: str, namespace: str | None = None, command: str = "ip -d -j link") -> list[InterfaceFact]:
    """`ip -d -j link`: every device with its kind, MAC, MTU, carrier, master, VLAN/VXLAN data, VFs."""
    data = _json(command, text)
    if not isinstance(data, list) or not all(isinstance(d, dict) and "ifname" in d for d in data):
        raise ParseError(command, "expected a JSON list of devices with ifname", text)
    result = []
    for device in data:
        info = device.get("linkinfo") or {}
        kind = info.get("info_kind")
        info_data = info.get("info_data") or {}
        flags = device.get("flags") or []
        result.append(InterfaceFact(
            name=device["ifname"], kind="loopback" if device.get("link_type") == "loopback" else kind,
            mac=device.get("address"), mtu=device.get("mtu"), carrier="LOWER_UP" in flags and "UP" in flags,
            master=device.get("master"), namespace=namespace,
            peer=device.get("link") if kind == "veth" else None,
            vlan_id=info_data.get("id") if kind == "vlan" else None,
            parent=device.get("link") if kind == "vlan" else None,
            vxlan_id=info_data.get("id") if kind == "vxlan" else None,
            vxlan_local=info_data.get("local") if kind == "vxlan" else None,
            vxlan_port=info_data.get("port") if kind == "vxlan" else None,
            vfs=[VirtualFunctionFact(vf.get("vf", n), vf.get("address") or vf.get("mac", ""),
                                     (vf.get("vlan_list") or [{}])[0].get("vlan") if vf.get("vlan_list") else vf.get("vlan"),
                                     str(vf.get("link_state", "auto")))
                 for n, vf in enumerate(device.get("vfinfo_list") or [])]))
    return result


def parse_ip_addr_json(text: str, command: str = "ip -j addr") -> dict[str, list[str]]:
    """`ip -j addr`: each device's IPv4 and global IPv6 addresses as CIDRs."""
    data = _json(command, text)
    if not isinstance(data, list) or not all(isinstance(d, dict) and "ifname" in d for d in data):
        raise ParseError(command, "expected a JSON list of devices with ifname", text)
    return {d["ifname"]: [f"{a['local']}/{a['prefixlen']}" for a in d.get("addr_info") or []
                          if "local" in a and a.get("scope") != "link"] for d in data}


def parse_netns_list(text: str) -> list[str]:
    """`ip netns list`: namespace names (iproute2 may add ` (id: N)`)."""
    names = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = re.fullmatch(r"(\S+)(?: \(id: \d+\))?", line.strip())
        if match is None:
            raise ParseError("ip netns list", "a line is not a namespace name", line)
        names.append(match.group(1))
    return names


# -- sysfs, ethtool, bonding --------------------------------------------------------------------------

def parse_sys_class_net(text: str) -> dict[str, bool]:
    """`ls -l /sys/class/net`: device name -> True when backed by a PCI device (a physical NIC)."""
    result: dict[str, bool] = {}
    for line in text.splitlines():
        if " -> " not in line:
            if line.startswith(("total", "-")) or not line.strip():
                continue
            raise ParseError("ls -l /sys/class/net", "expected `name -> ../../devices/...` lines", line)
        name, target = line.split(" -> ", 1)
        result[name.split()[-1]] = "/devices/virtual/" not in target
    return result


def parse_ethtool_link(text: str, interface: str) -> tuple[bool | None, int | None]:
    """`ethtool IF`: (Link detected, speed in Mb/s or None when Unknown)."""
    if f"Settings for {interface}:" not in text:
        raise ParseError(f"ethtool {interface}", "no `Settings for` header", text)
    detected = re.search(r"Link detected:\s*(yes|no)", text)
    speed = re.search(r"Speed:\s*(\d+)Mb/s", text)
    return (detected.group(1) == "yes") if detected else None, int(speed.group(1)) if speed else None


def parse_bonding(text: str, bond: str) -> list[str]:
    """`cat /proc/net/bonding/BOND`: the slave interfaces, in order."""
    if "Bonding Mode:" not in text:
        raise ParseError(f"cat /proc/net/bonding/{bond}", "no `Bonding Mode:` line", text)
    return re.findall(r"^Slave Interface:\s*(\S+)", text, flags=re.MULTILINE)


# -- Open vSwitch ------------------------------------------------------------------------------------

def _ovs_atom(value: Any) -> Any:
    """Decode an OVSDB JSON atom: ["map", [[k, v]...]], ["set", [...]], ["uuid", x] or a scalar."""
    if isinstance(value, list) and len(value) == 2 and value[0] in ("map", "set", "uuid", "named-uuid"):
        kind, body = value
        if kind == "map":
            return {str(k): _ovs_atom(v) for k, v in body}
        if kind == "set":
            return [_ovs_atom(v) for v in body]
        return body
    return value


def parse_ovsdb_table(text: str, table: str) -> list[dict[str, Any]]:
    """`ovs-vsctl --format=json list TABLE`: rows as dicts with decoded atoms."""
    command = f"ovs-vsctl --format=json list {table}"
    data = _json(command, text)
    if not isinstance(data, dict) or "headings" not in data or "data" not in data:
        raise ParseError(command, "expected an object with headings and data", text)
    return [dict(zip(data["headings"], (_ovs_atom(v) for v in row), strict=False)) for row in data["data"]]


def ovs_ports(bridges: list[dict[str, Any]], ports: list[dict[str, Any]],
              interfaces: list[dict[str, Any]]) -> list[OvsPortFact]:
    """Join the Bridge, Port and Interface tables into one fact per port (its first interface)."""
    port_by_uuid = {p["_uuid"]: p for p in ports}
    interface_by_uuid = {i["_uuid"]: i for i in interfaces}
    result = []
    for bridge in bridges:
        members = bridge.get("ports") or []
        for port_uuid in members if isinstance(members, list) else [members]:
            port = port_by_uuid.get(port_uuid)
            if port is None:
                continue
            iface_uuids = port.get("interfaces") or []
            iface = interface_by_uuid.get(iface_uuids[0] if isinstance(iface_uuids, list) and iface_uuids
                                          else iface_uuids) or {}
            tag = port.get("tag")
            result.append(OvsPortFact(
                name=port["name"], bridge=bridge["name"], type=iface.get("type") or "",
                tag=tag if isinstance(tag, int) else None, options=dict(iface.get("options") or {}),
                external_ids=dict(iface.get("external_ids") or {}),
                link_state=iface.get("link_state") if isinstance(iface.get("link_state"), str) else None))
    return result


# -- libvirt ---------------------------------------------------------------------------------------

def parse_virsh_list(text: str) -> list[tuple[str, str]]:
    """`virsh list --all`: (domain name, state) pairs."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    if not lines[0].split()[:2] == ["Id", "Name"]:
        raise ParseError("virsh list --all", "no ` Id   Name   State` header", text)
    domains = []
    for line in lines[2:]:
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise ParseError("virsh list --all", "a domain line has fewer than 3 columns", line)
        domains.append((parts[1], parts[2].strip()))
    return domains


def parse_virsh_dumpxml(text: str, state: str, command: str = "virsh dumpxml") -> DomainFact:
    """`virsh dumpxml DOMAIN`: uuid, name and network interfaces (our own hosts' XML; no entities)."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise ParseError(command, f"not XML ({exc})", text) from None
    if root.tag != "domain" or root.findtext("uuid") is None:
        raise ParseError(command, "not a libvirt <domain> with a <uuid>", text)
    interfaces = []
    for element in root.iterfind("devices/interface"):
        mac = element.find("mac")
        if mac is None:
            continue
        source, target, mtu = element.find("source"), element.find("target"), element.find("mtu")
        parameters, vlan = element.find("virtualport/parameters"), element.find("vlan/tag")
        interfaces.append(DomainInterfaceFact(
            type=element.get("type", ""), mac=mac.get("address", ""),
            target=target.get("dev") if target is not None else None,
            source_bridge=source.get("bridge") if source is not None else None,
            interface_id=parameters.get("interfaceid") if parameters is not None else None,
            vlan=int(vlan.get("id", "0")) if vlan is not None else None,
            mtu=int(mtu.get("size", "0")) if mtu is not None else None))
    return DomainFact(root.findtext("name") or "", root.findtext("uuid") or "", state, interfaces)


# -- VPP -------------------------------------------------------------------------------------------

def parse_vpp_show_int(text: str) -> dict[str, tuple[int, bool]]:
    """`vppctl show int`: interface -> (index, admin up)."""
    lines = text.splitlines()
    if not lines or "Name" not in lines[0] or "Idx" not in lines[0]:
        raise ParseError("vppctl show int", "no `Name Idx State` header", text)
    result = {}
    for line in lines[1:]:
        match = re.match(r"^(\S+)\s+(\d+)\s+(up|down)\b", line)
        if match:
            result[match.group(1)] = (int(match.group(2)), match.group(3) == "up")
    return result


def parse_vpp_show_mode(text: str) -> dict[str, int | None]:
    """`vppctl show mode`: interface -> bridge domain id (None for l3)."""
    result: dict[str, int | None] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        bridged = re.match(r"^l2 bridge (\S+) bd_id (\d+)", line)
        routed = re.match(r"^l3 (\S+)", line)
        if bridged:
            result[bridged.group(1)] = int(bridged.group(2))
        elif routed:
            result[routed.group(1)] = None
        else:
            raise ParseError("vppctl show mode", "a line is neither `l2 bridge` nor `l3`", line)
    return result


def parse_vpp_hardware(text: str) -> dict[str, tuple[str | None, bool]]:
    """`vppctl show hardware-interfaces`: interface -> (MAC, link up)."""
    lines = text.splitlines()
    if not lines or "Name" not in lines[0] or "Link" not in lines[0]:
        raise ParseError("vppctl show hardware-interfaces", "no `Name Idx Link Hardware` header", text)
    result: dict[str, tuple[str | None, bool]] = {}
    current = None
    for line in lines[1:]:
        head = re.match(r"^(\S+)\s+\d+\s+(up|down)\s", line)
        if head:
            current = head.group(1)
            result[current] = (None, head.group(2) == "up")
        elif current and "Ethernet address" in line:
            result[current] = (line.split()[-1], result[current][1])
    return result


def vpp_interfaces(show_int: dict[str, tuple[int, bool]], mode: dict[str, int | None],
                   hardware: dict[str, tuple[str | None, bool]]) -> list[VppInterfaceFact]:
    return [VppInterfaceFact(name, index, up, hardware.get(name, (None, up))[0], mode.get(name),
                             hardware[name][1] if name in hardware else None)
            for name, (index, up) in sorted(show_int.items(), key=lambda item: item[1][0])]
