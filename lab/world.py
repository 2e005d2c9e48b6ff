"""The world spec: one YAML document describing a lab cloud, and its ground truth.

Everything the lab serves (OpenStack APIs, host command output, notifications) and the ground
truth the scanner is checked against are computed from this one document. Hand-written specs
are checked on load; an error names the field and the value at fault.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from core.errors import CalipsoError

MechanismDriver = Literal["ovs", "lxb", "vpp", "sriov"]
TypeDriver = Literal["vxlan", "gre", "vlan", "flat"]
#: Nova's default_availability_zone: hosts in it need no aggregate.
DEFAULT_ZONE = "nova"

HostRole = Literal["controller", "network", "compute"]
NicRole = Literal["management", "tunnel", "provider", "external"]

#: The variants the lab offers, as (mechanism driver, type driver).
VARIANTS: tuple[tuple[str, str], ...] = (
    ("ovs", "vxlan"), ("ovs", "gre"), ("ovs", "vlan"), ("ovs", "flat"),
    ("lxb", "vxlan"), ("lxb", "vlan"), ("lxb", "flat"),
    ("vpp", "vlan"), ("vpp", "vxlan"),
    ("sriov", "vlan"),
)


class WorldError(CalipsoError):
    """A world spec is malformed or inconsistent; the message names the field."""


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Distribution(Spec):
    name: str = "Devstack"
    version: str = "2024.1"


class Region(Spec):
    name: str
    availability_zones: list[str]


class Project(Spec):
    id: str
    name: str
    domain_id: str = "default"
    enabled: bool = True


class Nic(Spec):
    """A physical NIC of a host."""

    name: str
    mac: str
    role: NicRole
    speed_mbps: int = 10000
    mtu: int = 1500
    ip: str | None = None  # CIDR, e.g. 192.168.100.11/24
    physical_network: str | None = None  # for role provider/external
    carrier: bool = True  # state: False when the cable is out (fault nic_down)
    bond: str | None = None  # the bond this NIC is a member of

    @field_validator("mac")
    @classmethod
    def _mac(cls, value: str) -> str:
        return _check_mac(value)


class Bond(Spec):
    name: str
    mac: str
    mode: Literal["active-backup", "802.3ad", "balance-xor"] = "active-backup"
    members: list[str]
    role: NicRole
    mtu: int = 1500
    ip: str | None = None
    physical_network: str | None = None


class TunnelBridge(Spec):
    """The tunneling IP on a Linux bridge (a common installer layout, e.g. `br-mesh`): the bridge holds
    `ip`, and its one port is `lower` itself or, with `vlan`, the VLAN sub-interface `<lower>.<vlan>`."""

    name: str = "br-mesh"
    lower: str  # a NIC or bond of the host (not a bond member)
    vlan: int | None = None
    ip: str  # CIDR; its address is the host's tunnel_ip

    @field_validator("vlan")
    @classmethod
    def _vlan(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 4094:
            raise ValueError(f"VLAN id must be 1..4094, got {value}")
        return value


class Host(Spec):
    name: str
    roles: list[HostRole]
    region: str
    availability_zone: str
    ip_address: str
    tunnel_ip: str | None = None
    tunnel_ip_configured: bool = True  # state: False when the address is gone (fault tunnel_unreachable)
    nics: list[Nic]
    bonds: list[Bond] = []
    tunnel_bridge: TunnelBridge | None = None  # None: the tunneling IP is on a NIC or bond (its `ip`)
    # Open vSwitch's packages installed but its daemons stopped (a Linux-bridge host): ovs-vsctl exists
    # and fails, unable to reach its database.
    ovs_installed_stopped: bool = False
    # OpenFlow faults (OVS agent hosts): networks whose br-tun flood flow (table 22) is gone (fault
    # flood_flow_missing), and peers' tunneling IPs this host has no tunnel port to (fault tunnel_port_missing).
    flood_flows_missing: list[str] = []
    tunnel_ports_missing: list[str] = []
    os: str = "Ubuntu 22.04.4 LTS"
    kernel: str = "5.15.0-105-generic"


class Agent(Spec):
    """A Neutron agent on a host."""

    id: str
    host: str
    agent_type: str  # as Neutron names it, e.g. "Open vSwitch agent", "DHCP agent"
    binary: str
    alive: bool = True
    admin_state_up: bool = True
    configurations: dict[str, object] = {}


class Subnet(Spec):
    id: str
    name: str
    cidr: str
    gateway_ip: str | None
    enable_dhcp: bool = True
    ip_version: int = 4

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            ipaddress.ip_network(value)
        except ValueError as exc:
            raise ValueError(f"not a CIDR: {value!r}") from exc
        return value


class Network(Spec):
    id: str
    name: str
    project_id: str
    network_type: TypeDriver
    segmentation_id: int | None = None
    physical_network: str | None = None
    mtu: int = 1450
    external: bool = False
    shared: bool = False
    admin_state_up: bool = True
    subnets: list[Subnet] = []
    dhcp_namespace_present: bool = True  # state: False when qdhcp-<id> is gone (fault dhcp_namespace_gone)

    @model_validator(mode="after")
    def _segmentation(self) -> Network:
        if self.network_type in ("vxlan", "gre", "vlan") and self.segmentation_id is None:
            raise ValueError(f"network {self.name}: a {self.network_type} network needs segmentation_id")
        if self.network_type in ("vlan", "flat") and not self.physical_network:
            raise ValueError(f"network {self.name}: a {self.network_type} network needs physical_network")
        if self.network_type == "vlan" and not 1 <= (self.segmentation_id or 0) <= 4094:
            raise ValueError(f"network {self.name}: VLAN id must be 1..4094, got {self.segmentation_id}")
        return self


class FixedIp(Spec):
    subnet_id: str
    ip_address: str


class Port(Spec):
    id: str
    name: str = ""
    network_id: str
    project_id: str
    mac_address: str
    fixed_ips: list[FixedIp] = []
    device_owner: str  # compute:<az>, network:dhcp, network:router_interface, network:router_gateway
    device_id: str
    binding_host: str
    vif_type: str  # ovs, bridge, vhostuser, hw_veb
    vnic_type: Literal["normal", "direct"] = "normal"
    status: Literal["ACTIVE", "DOWN", "BUILD"] = "ACTIVE"
    admin_state_up: bool = True
    # Host-side state that faults change:
    switch_port: Literal["up", "down", "missing"] = "up"  # the port's OVS/bridge port on the host
    vlan_tag_offset: int = 0  # fault vlan_tag_mismatch: the local tag differs from the agent's
    mtu: int | None = None  # fault mtu_mismatch: the host device's MTU differs from the network's

    @field_validator("mac_address")
    @classmethod
    def _mac(cls, value: str) -> str:
        return _check_mac(value)


class Router(Spec):
    id: str
    name: str
    project_id: str
    host: str  # where its qrouter namespace lives (L3 agent)
    gateway_network_id: str | None = None
    admin_state_up: bool = True


class Aggregate(Spec):
    """A Nova host aggregate: an operator's group of compute hosts (with `availability_zone`, the zone it
    exposes to users). `id` is Nova's integer id, which the inventory's aggregate ids are built from."""

    id: int
    name: str
    availability_zone: str | None = None
    hosts: list[str] = []
    metadata: dict[str, str] = {}
    uuid: str | None = None  # None: the lab derives one from the id


class Instance(Spec):
    id: str
    name: str
    project_id: str
    host: str
    libvirt_name: str
    flavor: str = "m1.small"
    image: str = "cirros-0.6.2"
    vm_state: str = "active"
    power_state: int = 1
    port_ids: list[str]
    created: str = "2026-01-01T00:00:00Z"


class Fault(Spec):
    """A fault injected into the world, with the expected impact and root cause."""

    kind: str
    target: str  # the object id the fault is applied to (e.g. compute-1/eth1)
    root_cause: str  # the object id RCA should name first
    down: list[str] = []  # instances that lose connectivity
    degraded: list[str] = []  # instances that lose only redundancy
    undo: dict[str, object] = {}  # what `lab fault --clear` restores


class World(Spec):
    """A whole lab cloud."""

    name: str
    seed: int = 0
    distribution: Distribution = Distribution()
    mechanism_driver: MechanismDriver
    firewall: Literal["hybrid", "native"] = "hybrid"  # OVS only: qbr/qvb/qvo plug or tap on br-int
    type_driver: TypeDriver
    regions: list[Region]
    projects: list[Project]
    hosts: list[Host]
    agents: list[Agent] = []
    networks: list[Network]
    ports: list[Port] = []
    routers: list[Router] = []
    instances: list[Instance] = []
    # None: Nova's aggregates as an operator makes them for zones, one per availability zone other than
    # Nova's default zone ("nova"), holding its compute hosts; a list states them exactly.
    aggregates: list[Aggregate] | None = None
    faults: list[Fault] = []

    @model_validator(mode="after")
    def _references(self) -> World:
        problems = list(_reference_problems(self))
        if problems:
            raise ValueError("; ".join(problems[:10]) + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""))
        return self

    # -- lookups --------------------------------------------------------------------------------

    def host(self, name: str) -> Host:
        return next(h for h in self.hosts if h.name == name)

    def network(self, network_id: str) -> Network:
        return next(n for n in self.networks if n.id == network_id)

    def port(self, port_id: str) -> Port:
        return next(p for p in self.ports if p.id == port_id)

    def ports_on_host(self, host: str) -> list[Port]:
        return [p for p in self.ports if p.binding_host == host]

    def nova_aggregates(self) -> list[Aggregate]:
        """The host aggregates Nova has: those the spec states, else one per availability zone other than
        Nova's default zone, named after it and holding its compute hosts (ids 1.. in zone order)."""
        if self.aggregates is not None:
            return list(self.aggregates)
        zones: dict[str, list[str]] = {}
        for host in self.hosts:
            if "compute" in host.roles and host.availability_zone != DEFAULT_ZONE:
                zones.setdefault(host.availability_zone, []).append(host.name)
        return [Aggregate(id=number, name=zone, availability_zone=zone, hosts=members,
                          metadata={"availability_zone": zone})
                for number, (zone, members) in enumerate(sorted(zones.items()), start=1)]


def _reference_problems(world: World) -> Iterator[str]:
    """Every dangling or duplicate reference, as a message naming it."""
    for kind, items in (("host", world.hosts), ("network", world.networks), ("port", world.ports),
                        ("router", world.routers), ("instance", world.instances), ("project", world.projects),
                        ("agent", world.agents), ("aggregate", world.aggregates or [])):
        seen: set[str] = set()
        for item in items:
            key = getattr(item, "id", None) or getattr(item, "name")  # noqa: B009 - Agent has no name
            if key in seen:
                yield f"duplicate {kind} {key!r}"
            seen.add(key)
    hosts = {h.name for h in world.hosts}
    networks = {n.id for n in world.networks}
    projects = {p.id for p in world.projects}
    zones = {(r.name, z) for r in world.regions for z in r.availability_zones}
    subnets = {s.id for n in world.networks for s in n.subnets}
    ports = {p.id for p in world.ports}
    for host in world.hosts:
        if (host.region, host.availability_zone) not in zones:
            yield f"host {host.name}: availability zone {host.availability_zone!r} is not in region {host.region!r}"
        nic_names = {n.name for n in host.nics}
        for bond in host.bonds:
            for member in bond.members:
                if member not in nic_names:
                    yield f"host {host.name}: bond {bond.name} member {member!r} is not one of its NICs"
        yield from _tunnel_bridge_problems(host)
        if host.ovs_installed_stopped and (world.mechanism_driver == "ovs" or (
                world.mechanism_driver == "sriov" and "network" in host.roles)):
            yield f"host {host.name}: ovs_installed_stopped, but its L2 agent is Open vSwitch's"
    for network in world.networks:
        if network.project_id not in projects:
            yield f"network {network.name}: unknown project_id {network.project_id!r}"
    for port in world.ports:
        if port.network_id not in networks:
            yield f"port {port.id}: unknown network_id {port.network_id!r}"
        if port.binding_host and port.binding_host not in hosts:
            yield f"port {port.id}: unknown binding_host {port.binding_host!r}"
        for fixed in port.fixed_ips:
            if fixed.subnet_id not in subnets:
                yield f"port {port.id}: unknown subnet_id {fixed.subnet_id!r}"
    for instance in world.instances:
        if instance.host not in hosts:
            yield f"instance {instance.name}: unknown host {instance.host!r}"
        if instance.project_id not in projects:
            yield f"instance {instance.name}: unknown project_id {instance.project_id!r}"
        for port_id in instance.port_ids:
            if port_id not in ports:
                yield f"instance {instance.name}: unknown port {port_id!r}"
    for router in world.routers:
        if router.host not in hosts:
            yield f"router {router.name}: unknown host {router.host!r}"
        if router.gateway_network_id and router.gateway_network_id not in networks:
            yield f"router {router.name}: unknown gateway_network_id {router.gateway_network_id!r}"
    for agent in world.agents:
        if agent.host not in hosts:
            yield f"agent {agent.id}: unknown host {agent.host!r}"
    zone_names = {z for _, z in zones}
    for aggregate in world.aggregates or []:
        for host_name in aggregate.hosts:
            if host_name not in hosts:
                yield f"aggregate {aggregate.name}: unknown host {host_name!r}"
        if aggregate.availability_zone is not None and aggregate.availability_zone not in zone_names:
            yield f"aggregate {aggregate.name}: availability zone {aggregate.availability_zone!r} is in no region"


def _tunnel_bridge_problems(host: Host) -> Iterator[str]:
    bridge = host.tunnel_bridge
    if bridge is None:
        return
    lowers = {n.name for n in host.nics if not n.bond} | {b.name for b in host.bonds}
    if bridge.lower not in lowers:
        yield (f"host {host.name}: tunnel_bridge.lower {bridge.lower!r} is not one of its NICs or bonds "
               f"(bond members cannot be)")
    if bridge.name in lowers | {n.name for n in host.nics}:
        yield f"host {host.name}: tunnel_bridge.name {bridge.name!r} is already a NIC or bond"
    try:
        address = str(ipaddress.ip_interface(bridge.ip).ip)
    except ValueError:
        yield f"host {host.name}: tunnel_bridge.ip is not a CIDR: {bridge.ip!r}"
        return
    if address != host.tunnel_ip:
        yield f"host {host.name}: tunnel_bridge.ip {bridge.ip} is not the tunnel_ip {host.tunnel_ip!r}"


def _check_mac(value: str) -> str:
    parts = value.split(":")
    if len(parts) != 6 or not all(len(p) == 2 and all(c in "0123456789abcdef" for c in p) for p in parts):
        raise ValueError(f"not a lower-case MAC address like fa:16:3e:00:00:01: {value!r}")
    return value


def load_world(path: str | Path) -> World:
    """Read and check a world spec; WorldError names what is wrong."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise WorldError(f"cannot read world spec {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise WorldError(f"world spec {path} is not valid YAML: {exc}") from exc
    return parse_world(data, str(path))


def parse_world(data: object, source: str = "world spec") -> World:
    try:
        return World.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors()[:20]:
            where = ".".join(str(part) for part in error["loc"]) or "(top level)"
            lines.append(f"  {where}: {error['msg'].removeprefix('Value error, ')}")
        raise WorldError(f"{source} is not a valid world spec:\n" + "\n".join(lines)) from None


def save_world(world: World, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(world.model_dump(mode="json", exclude_defaults=False), sort_keys=False))
