"""iproute2: `ip -d -j link`, `ip -d link show`, `ip -j addr`, `ip address show`, `ip netns list`.

The JSON forms (iproute2 >= 4.14 for link, 4.13 for addr) are preferred; the text forms are the
fallback for older hosts that refuse `-j` and carry the same facts. Both give one Link per device
with its kind, MAC, state, master, parent/peer, VLAN/VXLAN/bond data and SR-IOV virtual functions;
`interface_fact` and `global_addresses` turn them into the scanner's facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ingest.sources.host.facts import InterfaceFact, VirtualFunctionFact
from ingest.sources.host.parsers.errors import ParseError, guarded, integer, lenient_int, load_json, require


@dataclass
class VirtualFunction:
    """One SR-IOV VF as its physical function reports it (`vfinfo_list` / `vf N ...` lines)."""

    number: int
    mac: str | None
    vlan: int | None = None
    qos: int | None = None
    vlan_protocol: str | None = None
    link_state: str | None = None  # auto | enable | disable
    spoofchk: bool | None = None
    trust: bool | None = None


@dataclass
class VlanInfo:
    """An 802.1Q/802.1ad sub-interface; its parent device is Link.link."""

    id: int
    protocol: str | None = None


@dataclass
class VxlanInfo:
    """A VXLAN device: VNI, local and remote/group endpoints, UDP port, underlay device."""

    id: int
    local: str | None = None
    remote: str | None = None
    group: str | None = None
    port: int | None = None
    link: str | None = None


@dataclass
class BondInfo:
    """A bond master's mode and (active-backup) active slave."""

    mode: str | None = None
    active_slave: str | None = None
    primary: str | None = None
    miimon: int | None = None


@dataclass
class BondSlaveInfo:
    """A bond member's view of itself (info_slave_kind bond)."""

    state: str | None = None  # ACTIVE | BACKUP
    mii_status: str | None = None  # UP | DOWN
    link_failure_count: int | None = None
    perm_hwaddr: str | None = None
    queue_id: int | None = None


@dataclass
class BridgeSlaveInfo:
    """A Linux bridge port's STP state and port number (info_slave_kind bridge)."""

    state: str | None = None  # forwarding | blocking | listening | learning | disabled
    port_no: int | None = None
    priority: int | None = None
    cost: int | None = None


@dataclass
class Link:
    """One network device of `ip link` (JSON or text)."""

    name: str
    ifindex: int | None = None
    kind: str | None = None  # info_kind (veth, bridge, vxlan, vlan, bond, tun, ...), "loopback", "physical" or None
    slave_kind: str | None = None  # bridge, bond, openvswitch, ...
    mac: str | None = None
    permanent_mac: str | None = None
    mtu: int | None = None
    flags: list[str] = field(default_factory=list)
    carrier: bool = False  # LOWER_UP
    admin_up: bool = False  # UP
    oper_state: str | None = None
    master: str | None = None
    link: str | None = None  # parent (vlan, macvlan) or veth peer, by name, when in the same namespace
    link_index: int | None = None  # the same by index, when only the index is known (peer in another namespace)
    link_netnsid: int | None = None
    link_netns: str | None = None  # the peer's namespace by name (text output of newer iproute2)
    parent_bus: str | None = None
    parent_dev: str | None = None  # e.g. the PCI address of a physical NIC
    vlan: VlanInfo | None = None
    vxlan: VxlanInfo | None = None
    bond: BondInfo | None = None
    bond_slave: BondSlaveInfo | None = None
    bridge_slave: BridgeSlaveInfo | None = None
    tun_type: str | None = None  # tap | tun
    vfs: list[VirtualFunction] = field(default_factory=list)

    @property
    def peer(self) -> str | None:
        """A veth's peer device by name, when ip could resolve it (same namespace)."""
        return self.link if self.kind == "veth" else None

    @property
    def peer_index(self) -> int | None:
        """A veth's peer ifindex, in namespace link_netnsid when the peer lives elsewhere."""
        return self.link_index if self.kind == "veth" else None


@dataclass
class Address:
    """One IP address of a device."""

    cidr: str  # address/prefixlen
    family: str  # inet | inet6
    scope: str | None = None
    label: str | None = None
    broadcast: str | None = None


@dataclass
class InterfaceAddresses:
    """A device of `ip addr` with its MAC, state and addresses."""

    name: str
    ifindex: int | None = None
    mac: str | None = None
    oper_state: str | None = None
    flags: list[str] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)


@dataclass
class Namespace:
    """A named network namespace; `id` is its nsid as seen from where `ip netns list` ran."""

    name: str
    id: int | None = None


def _int(value: Any) -> int | None:
    """An int from JSON or text: 17, "17", "0x11"; None when absent, not a number or beyond 64 bits."""
    return lenient_int(value, 0)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(device: dict[str, Any], key: str, command: str) -> dict[str, Any]:
    """The JSON object `device[key]`, {} when absent; ParseError naming the key when it is no object."""
    value = device.get(key)
    require(value is None or isinstance(value, dict), command,
            f"`{key}` of {device.get('ifname', 'a device')!r:.40} is not an object", repr(value))
    return value or {}


def _list(device: dict[str, Any], key: str, command: str) -> list[Any]:
    """The JSON array `device[key]`, [] when absent; ParseError naming the key when it is no array."""
    value = device.get(key)
    require(value is None or isinstance(value, list), command,
            f"`{key}` of {device.get('ifname', 'a device')!r:.40} is not a list", repr(value))
    return value or []


# -- JSON -----------------------------------------------------------------------------------------

def _device_list(command: str, text: str) -> list[dict[str, Any]]:
    data = load_json(command, text, [])
    require(isinstance(data, list), command, "expected a JSON list of devices", text)
    for device in data:
        require(isinstance(device, dict) and isinstance(device.get("ifname"), str), command,
                "expected every device to be an object with an ifname", text)
    return data


def _vf_from_json(entry: dict[str, Any], position: int, command: str) -> VirtualFunction:
    # iproute2 >= 4.19 lists VLANs under vlan_list (one {} per VF without a VLAN); older ones
    # put vlan/qos on the VF itself. The MAC is "address" from 5.x on, "mac" before.
    vlans = [v for v in _list(entry, "vlan_list", command) if isinstance(v, dict) and v.get("vlan")]
    first = vlans[0] if vlans else entry
    return VirtualFunction(
        number=vf if (vf := _int(entry.get("vf"))) is not None else position,
        mac=_str(entry.get("address")) or _str(entry.get("mac")),
        vlan=_int(first.get("vlan")) or None, qos=_int(first.get("qos")) or None,
        vlan_protocol=_str(first.get("protocol")),
        link_state=_str(entry.get("link_state")),
        spoofchk=entry["spoofchk"] if isinstance(entry.get("spoofchk"), bool) else None,
        trust=entry["trust"] if isinstance(entry.get("trust"), bool) else None)


def _kind(info_kind: str | None, link_type: str | None, parent_bus: str | None) -> str | None:
    if info_kind:
        return info_kind
    if link_type == "loopback":
        return "loopback"
    # A device with no driver kind but a bus behind it is hardware: a NIC, a VF, a PF.
    return "physical" if parent_bus else None


def _link_from_json(device: dict[str, Any], command: str) -> Link:
    info = _dict(device, "linkinfo", command)
    kind_name = _str(info.get("info_kind"))
    data = _dict(info, "info_data", command)
    slave_kind = _str(info.get("info_slave_kind"))
    slave = _dict(info, "info_slave_data", command)
    flags = [f for f in _list(device, "flags", command) if isinstance(f, str)]
    link = Link(
        name=device["ifname"], ifindex=_int(device.get("ifindex")),
        kind=_kind(kind_name, _str(device.get("link_type")), _str(device.get("parentbus"))),
        slave_kind=slave_kind, mac=_str(device.get("address")), permanent_mac=_str(device.get("permaddr")),
        mtu=_int(device.get("mtu")), flags=flags, carrier="LOWER_UP" in flags, admin_up="UP" in flags,
        oper_state=_str(device.get("operstate")), master=_str(device.get("master")),
        link=_str(device.get("link")), link_index=_int(device.get("link_index")),
        link_netnsid=_int(device.get("link_netnsid")),
        parent_bus=_str(device.get("parentbus")), parent_dev=_str(device.get("parentdev")),
        vfs=[_vf_from_json(vf, n, command) for n, vf in enumerate(_list(device, "vfinfo_list", command))
             if isinstance(vf, dict)])
    if kind_name == "vlan":
        link.vlan = VlanInfo(id=_int(data.get("id")) or 0, protocol=_str(data.get("protocol")))
    elif kind_name == "vxlan":
        link.vxlan = VxlanInfo(id=_int(data.get("id")) or 0, local=_str(data.get("local")) or _str(data.get("local6")),
                               remote=_str(data.get("remote")) or _str(data.get("remote6")),
                               group=_str(data.get("group")) or _str(data.get("group6")),
                               port=_int(data.get("port")), link=_str(data.get("link")))
    elif kind_name == "bond":
        link.bond = BondInfo(mode=_str(data.get("mode")), active_slave=_str(data.get("active_slave")),
                             primary=_str(data.get("primary")), miimon=_int(data.get("miimon")))
    elif kind_name == "tun":
        link.tun_type = _str(data.get("type"))
    if slave_kind == "bond":
        link.bond_slave = BondSlaveInfo(
            state=_str(slave.get("state")), mii_status=_str(slave.get("mii_status")),
            link_failure_count=_int(slave.get("link_failure_count")), perm_hwaddr=_str(slave.get("perm_hwaddr")),
            queue_id=_int(slave.get("queue_id")))
    elif slave_kind == "bridge":
        link.bridge_slave = BridgeSlaveInfo(
            state=_str(slave.get("state")), port_no=_int(slave.get("no")),
            priority=_int(slave.get("priority")), cost=_int(slave.get("cost")))
    return link


@guarded("ip -d -j link")
def parse_ip_link_json(text: str, command: str = "ip -d -j link") -> list[Link]:
    """`ip -d -j link` / `ip -details -json link show`: every device (plain `ip -j link` gives fewer facts)."""
    return [_link_from_json(device, command) for device in _device_list(command, text)]


@guarded("ip -j addr")
def parse_ip_addr_json(text: str, command: str = "ip -j addr") -> list[InterfaceAddresses]:
    """`ip -j addr`: each device with its addresses (link-local ones included, with their scope)."""
    result = []
    for device in _device_list(command, text):
        addresses = []
        for entry in _list(device, "addr_info", command):
            # iproute2 4.x printed {} placeholders for devices without addresses
            if not isinstance(entry, dict) or "local" not in entry:
                continue
            prefix = _int(entry.get("prefixlen"))
            require(isinstance(entry["local"], str) and prefix is not None, command,
                    f"an address of {device['ifname']} has no local/prefixlen", text)
            addresses.append(Address(
                cidr=f"{entry['local']}/{prefix}", family=str(entry.get("family", "")),
                scope=_str(entry.get("scope")), label=_str(entry.get("label")),
                broadcast=_str(entry.get("broadcast"))))
        flags = [f for f in _list(device, "flags", command) if isinstance(f, str)]
        result.append(InterfaceAddresses(
            name=device["ifname"], ifindex=_int(device.get("ifindex")), mac=_str(device.get("address")),
            oper_state=_str(device.get("operstate")), flags=flags, addresses=addresses))
    return result


# -- text -----------------------------------------------------------------------------------------

# "8: tapns0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master brq state UP ..."
_HEADER = re.compile(r"^(\d+):\s+([^\s:@]+)(?:@([^\s:]+))?:\s+<([^>]*)>(.*)$")
_VF = re.compile(r"^vf\s+(\d+)\s+(?:MAC\s+([0-9a-fA-F:]+)|link/\S+\s+([0-9a-fA-F:]+)(?:\s+brd\s+[0-9a-fA-F:]+)?)(.*)$")
# Words that start the generic attribute part of a -d line rather than a kind's details.
_GENERIC = {"addrgenmode", "numtxqueues", "numrxqueues", "gso_max_size", "gso_max_segs", "tso_max_size",
            "tso_max_segs", "gro_max_size", "gso_ipv4_max_size", "gro_ipv4_max_size", "portid", "portname",
            "parentbus", "parentdev", "alias", "altname", "promiscuity", "minmtu", "maxmtu", "allmulti",
            "prog/xdp", "xdp", "vf", "RX:", "TX:", "RX", "TX", "protodown", "link-netnsid", "link-netns"}


def _after(tokens: list[str], key: str) -> str | None:
    """The token that follows `key` in a line of `key value` pairs."""
    try:
        return tokens[tokens.index(key) + 1]
    except (ValueError, IndexError):
        return None


def _vf_from_text(line: str, command: str) -> VirtualFunction | None:
    match = _VF.match(line)
    if match is None:
        return None
    vf = VirtualFunction(number=integer(command, match.group(1), "vf number", line),
                         mac=match.group(2) or match.group(3))
    for part in (p.strip() for p in match.group(4).split(",")):
        words = part.split()
        if len(words) >= 3 and words[:2] == ["vlan", "protocol"]:
            vf.vlan_protocol = words[2]
        elif len(words) >= 2 and words[0] == "vlan":
            vf.vlan = _int(words[1])
        elif len(words) >= 2 and words[0] == "qos":
            vf.qos = _int(words[1])
        elif part.startswith("spoof checking"):
            vf.spoofchk = part.endswith("on")
        elif words and words[0] == "link-state":
            vf.link_state = words[1] if len(words) > 1 else None
        elif len(words) >= 2 and words[0] == "trust":
            vf.trust = words[1] == "on"
    return vf


def _apply_detail_line(link: Link, tokens: list[str]) -> None:
    """A `-d` line: the kind's details (`vxlan id 1001 ...`) or the slave's (`bridge_slave state ...`)."""
    word = tokens[0]
    if word in _GENERIC or word.startswith("link/"):
        return
    if word.endswith("_slave"):
        link.slave_kind = word.removesuffix("_slave")
        if link.slave_kind == "bond":
            link.bond_slave = BondSlaveInfo(
                state=_after(tokens, "state"), mii_status=_after(tokens, "mii_status"),
                link_failure_count=_int(_after(tokens, "link_failure_count")),
                perm_hwaddr=_after(tokens, "perm_hwaddr"), queue_id=_int(_after(tokens, "queue_id")))
        elif link.slave_kind == "bridge":
            link.bridge_slave = BridgeSlaveInfo(
                state=_after(tokens, "state"), port_no=_int(_after(tokens, "port_no")),
                priority=_int(_after(tokens, "priority")), cost=_int(_after(tokens, "cost")))
        return
    if link.kind not in (None, "physical", "loopback"):
        return  # the kind line came already; this is something else
    link.kind = word
    if word == "vlan":
        link.vlan = VlanInfo(id=_int(_after(tokens, "id")) or 0, protocol=_after(tokens, "protocol"))
    elif word == "vxlan":
        link.vxlan = VxlanInfo(id=_int(_after(tokens, "id")) or 0, local=_after(tokens, "local"),
                               remote=_after(tokens, "remote"), group=_after(tokens, "group"),
                               port=_int(_after(tokens, "dstport")), link=_after(tokens, "dev"))
    elif word == "bond":
        link.bond = BondInfo(mode=_after(tokens, "mode"), active_slave=_after(tokens, "active_slave"),
                             primary=_after(tokens, "primary"), miimon=_int(_after(tokens, "miimon")))
    elif word == "tun":
        link.tun_type = _after(tokens, "type")


def _header(match: re.Match[str], command: str) -> Link:
    """A device's first line: index, name, @link, flags, then `key value` pairs."""
    flags = [f for f in match.group(4).split(",") if f]
    rest = match.group(5).split()
    at = match.group(3)
    link = Link(name=match.group(2), ifindex=integer(command, match.group(1), "ifindex", match.group(0)),
                flags=flags, carrier="LOWER_UP" in flags, admin_up="UP" in flags, mtu=_int(_after(rest, "mtu")),
                master=_after(rest, "master"),
                oper_state=_after(rest, "state"))
    if at and at != "NONE":
        # "@if8" is an index in another namespace; "@eth9" a name in this one
        if re.fullmatch(r"if\d+", at):
            link.link_index = integer(command, at[2:], "peer ifindex", match.group(0))
        else:
            link.link = at
    return link


def _apply_link_line(link: Link, tokens: list[str]) -> None:
    """`    link/ether MAC brd BRD [permaddr X] [link-netns NS | link-netnsid N] ...`"""
    link_type = tokens[0].removeprefix("link/")
    if len(tokens) > 1 and re.fullmatch(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2})+", tokens[1]):
        link.mac = tokens[1]
    link.permanent_mac = _after(tokens, "permaddr")
    link.link_netnsid = _int(_after(tokens, "link-netnsid"))
    link.link_netns = _after(tokens, "link-netns")
    if link_type == "loopback":
        link.kind = "loopback"
    # the generic attributes may follow on the same line (older iproute2 -d output)
    bus = _after(tokens, "parentbus")
    if bus:
        link.parent_bus, link.parent_dev = bus, _after(tokens, "parentdev")


def _devices(text: str, command: str) -> list[tuple[re.Match[str], list[str]]]:
    """Split `ip link`/`ip addr` text into (header match, continuation lines) per device."""
    devices: list[tuple[re.Match[str], list[str]]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _HEADER.match(line)
        if match:
            devices.append((match, []))
        elif line[:1].isspace() and devices:
            devices[-1][1].append(line.strip())
        else:
            raise ParseError(command, "expected `N: name: <FLAGS> ...` device lines", line)
    return devices


@guarded("ip -d link show")
def parse_ip_link_text(text: str, command: str = "ip -d link show") -> list[Link]:
    """`ip -d link show` (and plain `ip link show`): the same facts as the JSON form, from text."""
    result = []
    for match, lines in _devices(text, command):
        link = _header(match, command)
        for line in lines:
            tokens = line.split()
            if tokens[0].startswith("link/"):
                _apply_link_line(link, tokens)
            elif tokens[0] == "vf":
                vf = _vf_from_text(line, command)
                if vf is not None:
                    link.vfs.append(vf)
            elif tokens[0] not in ("RX:", "TX:", "altname", "alias") and not tokens[0].isdigit():
                _apply_detail_line(link, tokens)
                bus = _after(tokens, "parentbus")
                if bus:
                    link.parent_bus, link.parent_dev = bus, _after(tokens, "parentdev")
        if link.kind is None and link.parent_bus:
            link.kind = "physical"
        result.append(link)
    return result


_ADDRESS = re.compile(r"^(inet6?)\s+(\S+)(?:\s+peer\s+(\S+))?(.*)$")
_ADDRESS_FLAGS = {"dynamic", "noprefixroute", "secondary", "temporary", "deprecated", "tentative", "permanent",
                  "mngtmpaddr", "nodad", "optimistic", "home", "dadfailed", "stable-privacy", "autojoin"}


@guarded("ip address show")
def parse_ip_addr_text(text: str, command: str = "ip address show") -> list[InterfaceAddresses]:
    """`ip address show`: each device with its MAC, state and addresses."""
    result = []
    for match, lines in _devices(text, command):
        link = _header(match, command)
        device = InterfaceAddresses(name=link.name, ifindex=link.ifindex, oper_state=link.oper_state,
                                    flags=link.flags)
        for line in lines:
            tokens = line.split()
            if tokens[0].startswith("link/"):
                _apply_link_line(link, tokens)
                device.mac = link.mac
                continue
            address = _ADDRESS.match(line)
            if address is None:
                continue  # valid_lft lines, altname, ...
            family, local, peer, rest = address.groups()
            if "/" not in local:
                # point-to-point: the prefix is printed on the peer
                prefix = peer.split("/")[1] if peer and "/" in peer else ("128" if family == "inet6" else "32")
                local = f"{local}/{prefix}"
            words = rest.split()
            scope = _after(words, "scope")
            label = None
            if family == "inet" and "scope" in words:
                # IPv4 lines end with the label ("eth0", "eth0:1") after the scope and address flags
                tail = [w for w in words[words.index("scope") + 2:] if w not in _ADDRESS_FLAGS]
                label = tail[-1] if tail else None
            device.addresses.append(Address(cidr=local, family=family, scope=scope, label=label,
                                            broadcast=_after(words, "brd")))
        result.append(device)
    return result


_NETNS = re.compile(r"^(\S+)(?:\s+\(id:\s*(\d+)\))?$")


@guarded("ip netns list")
def parse_netns_list(text: str, command: str = "ip netns list") -> list[Namespace]:
    """`ip netns list`: namespace names, with ` (id: N)` when the namespace has an nsid."""
    result = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _NETNS.match(line.strip())
        if match is None:
            raise ParseError(command, "a line is not `name` or `name (id: N)`", line)
        name = match.group(1)
        # Namespace names are file names under /var/run/netns: no markup, no brackets.
        require(name.isprintable() and not any(c in name for c in "<>{}[]\"'=;") and not name.endswith(":"),
                command, "a line is not a namespace name", line)
        nsid = integer(command, match.group(2), "nsid", line) if match.group(2) else None
        result.append(Namespace(name=name, id=nsid))
    return result


# -- the scanner's facts ----------------------------------------------------------------------------

def interface_fact(link: Link, namespace: str | None = None) -> InterfaceFact:
    """A device as the link finders see it (fetch adds addresses, sysfs, ethtool and bonding facts)."""
    return InterfaceFact(
        name=link.name, kind=None if link.kind == "physical" else link.kind, mac=link.mac, mtu=link.mtu,
        carrier=link.carrier and link.admin_up, admin_up=link.admin_up, master=link.master, namespace=namespace,
        peer=link.peer,
        vlan_id=link.vlan.id if link.vlan else None, parent=link.link if link.vlan else None,
        vxlan_id=link.vxlan.id if link.vxlan else None, vxlan_local=link.vxlan.local if link.vxlan else None,
        vxlan_port=link.vxlan.port if link.vxlan else None,
        vxlan_remotes=[link.vxlan.remote] if link.vxlan and link.vxlan.remote else [],
        vfs=[VirtualFunctionFact(vf.number, vf.mac or "", vf.vlan, vf.link_state or "auto", vf.spoofchk, vf.trust,
                                 vf.qos) for vf in link.vfs])


def global_addresses(devices: list[InterfaceAddresses]) -> dict[str, list[str]]:
    """Each device's addresses as CIDRs, without link-local ones (no tunnel or gateway uses them)."""
    return {d.name: [a.cidr for a in d.addresses if a.scope != "link"] for d in devices}
