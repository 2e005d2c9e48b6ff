"""What the kernel of a simulated host shows: the host model plus the kernel datapath's devices.

The host model (lab/hostmodel.py) lists the devices Nova and Neutron create. A real cloud runs
Open vSwitch on the kernel datapath, whose module adds devices of its own: `ovs-system` (the
datapath, master of every system port) and one tunnel device per tunnel type (`vxlan_sys_4789`,
`gre_sys`). The real lab runs OVS in userspace, where none of them exist; they are added here,
in the simulator's view only, numbered after the host model's devices so that its ifindexes hold.

Everything here is a pure function of (HostState, World); `HostView` caches what every tool of
one host needs (devices per namespace, namespace ids, link-local addresses).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field
from functools import cached_property

from lab.hostmodel import HostState, Interface, OvsPort, derived_mac
from lab.world import Host, Instance, Network, Port, World

# Devices os-vif creates with IPv6 disabled (the hybrid plug's bridge and veth ends).
_NO_IPV6_PREFIXES = ("qbr", "qvb", "qvo")
TUNNEL_DEVICES = {"vxlan": "vxlan_sys_4789", "gre": "gre_sys"}


def stable_number(seed: str, modulo: int) -> int:
    """A number derived from a string, the same on every run (for counters, pids, timers)."""
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") % modulo


class WorldIndex:
    """Lookups over one version of a world, shared by all its hosts (worlds hold thousands of ports)."""

    def __init__(self, world: World) -> None:
        self.world = world

    @cached_property
    def ports(self) -> dict[str, Port]:
        return {p.id: p for p in self.world.ports}

    @cached_property
    def networks(self) -> dict[str, Network]:
        return {n.id: n for n in self.world.networks}

    @cached_property
    def instances(self) -> dict[str, Instance]:
        return {i.id: i for i in self.world.instances}

    @cached_property
    def ports_by_network(self) -> dict[str, list[Port]]:
        found: dict[str, list[Port]] = {}
        for port in self.world.ports:
            found.setdefault(port.network_id, []).append(port)
        return found

    @cached_property
    def tunnel_ips(self) -> dict[str, str]:
        return {h.name: h.tunnel_ip for h in self.world.hosts if h.tunnel_ip}


@dataclass
class HostView:
    """One host as its tools see it."""

    state: HostState
    world: World
    host: Host
    interfaces: list[Interface] = field(default_factory=list)
    index: WorldIndex | None = None
    memo: dict[str, object] = field(default_factory=dict)  # small derived values (row UUIDs), per host

    def __post_init__(self) -> None:
        if self.index is None:
            self.index = WorldIndex(self.world)

    # -- devices ---------------------------------------------------------------------------------

    def in_namespace(self, namespace: str | None) -> list[Interface]:
        """The devices of one namespace (None: the root namespace), by ifindex."""
        return sorted((i for i in self.interfaces if i.namespace == namespace), key=lambda i: i.index)

    def device(self, name: str, namespace: str | None = None) -> Interface | None:
        return next((i for i in self.interfaces if i.name == name and i.namespace == namespace), None)

    def peer(self, interface: Interface) -> Interface | None:
        """The other end of a veth pair."""
        if interface.kind != "veth" or interface.peer is None:
            return None
        return self.device(interface.peer, interface.peer_namespace)

    def parent(self, interface: Interface) -> Interface | None:
        """A VLAN device's lower device."""
        return self.device(interface.link, interface.namespace) if interface.link else None

    def members(self, master: str, namespace: str | None = None) -> list[Interface]:
        """The devices enslaved to a bridge or bond, in the order they were added (ifindex)."""
        return [i for i in self.in_namespace(namespace) if i.master == master]

    def is_bond_slave(self, interface: Interface) -> bool:
        master = self.device(interface.master, interface.namespace) if interface.master else None
        return master is not None and master.kind == "bond"

    def master_kind(self, interface: Interface) -> str | None:
        """bridge, bond or openvswitch (the datapath) for an enslaved device."""
        if not interface.master:
            return None
        if interface.master == "ovs-system":
            return "openvswitch"
        master = self.device(interface.master, interface.namespace)
        return master.kind if master else None

    def operstate(self, interface: Interface) -> str:
        if interface.kind == "gretap" and interface.up:
            return "UNKNOWN"
        return interface.oper_state

    def link_local(self, interface: Interface) -> str | None:
        """The EUI-64 IPv6 link-local address the kernel gives an up device, if it has one."""
        if interface.kind == "loopback" or not interface.up or not interface.carrier:
            return None
        if interface.name.startswith(_NO_IPV6_PREFIXES) or self.is_bond_slave(interface):
            return None
        if interface.name == "ovs-system" or not interface.mac:
            return None
        octets = [int(part, 16) for part in interface.mac.split(":")]
        octets[0] ^= 0x02
        eui = octets[:3] + [0xFF, 0xFE] + octets[3:]
        groups = [f"{eui[i] << 8 | eui[i + 1]:x}" for i in range(0, 8, 2)]
        return str(ipaddress.IPv6Address("fe80::" + ":".join(groups)))

    # -- namespaces ------------------------------------------------------------------------------

    @cached_property
    def namespace_ids(self) -> dict[str, int]:
        """The nsid the root namespace gave each namespace (they all hold a device linked to it)."""
        return {name: number for number, name in enumerate(self.state.namespaces)}

    def link_netns(self, interface: Interface) -> tuple[str | None, int] | None:
        """For a veth whose peer is in another namespace: (that namespace's name or None, nsid)."""
        if interface.kind != "veth" or interface.peer_namespace == interface.namespace:
            return None
        if interface.namespace is None:
            name = interface.peer_namespace
            return name, self.namespace_ids.get(name or "", 0)
        # Seen from inside a namespace the root namespace has no name, and the first id: 0.
        if interface.peer_namespace is None:
            return None, 0
        return interface.peer_namespace, self.namespace_ids.get(interface.peer_namespace, 0) + 1

    # -- world lookups ---------------------------------------------------------------------------

    @property
    def ports(self) -> dict[str, Port]:
        assert self.index is not None
        return self.index.ports

    @property
    def networks(self) -> dict[str, Network]:
        assert self.index is not None
        return self.index.networks

    @property
    def world_index(self) -> WorldIndex:
        assert self.index is not None
        return self.index

    def port_of(self, ovs_port: OvsPort) -> Port | None:
        iface_id = ovs_port.external_ids.get("iface-id")
        return self.ports.get(iface_id) if iface_id else None

    def local_vlans(self) -> dict[str, int]:
        """The OVS agent's local VLAN per network id (as the agent meant it, before any fault)."""
        vlans: dict[str, int] = {}
        for bridge in self.state.ovs_bridges:
            for ovs_port in bridge.ports:
                port = self.port_of(ovs_port)
                if port is not None and ovs_port.tag is not None:
                    vlans.setdefault(port.network_id, ovs_port.tag - port.vlan_tag_offset)
        return vlans


def host_view(state: HostState, world: World, index: WorldIndex | None = None) -> HostView:
    """The kernel's view of a host: its model plus the kernel datapath's devices."""
    host = next(h for h in world.hosts if h.name == state.name)
    interfaces = list(state.interfaces)
    if state.ovs_bridges:
        next_index = max((i.index for i in interfaces if i.namespace is None), default=0) + 1
        extra = [Interface("ovs-system", "openvswitch", derived_mac(f"{state.name}/ovs-system"), up=False)]
        tunnel_types = sorted({p.type for b in state.ovs_bridges for p in b.ports if p.type in TUNNEL_DEVICES})
        for tunnel_type in tunnel_types:
            name = TUNNEL_DEVICES[tunnel_type]
            extra.append(Interface(name, "vxlan" if tunnel_type == "vxlan" else "gretap",
                                   derived_mac(f"{state.name}/{name}"), 65000, master="ovs-system",
                                   vxlan_port=4789 if tunnel_type == "vxlan" else None))
        for number, interface in enumerate(extra):
            interface.index = next_index + number
        interfaces += extra
    return HostView(state, world, host, interfaces, index)
