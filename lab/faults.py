"""Fault injection: change what a world's hosts show, and record the expected impact and root cause.

Each fault kind names its target the way a user would (a host's NIC, a Neutron port, a network,
an agent, a host), mutates the world's state fields (which the host model and the ground truth
both read), and records a Fault with the object RCA should name first and the VMs whose
connectivity is lost (down) or only loses redundancy (degraded). `clear_fault` undoes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from graphmodel import conventions as names
from graphmodel.schema import host_pnic_id, otep_id, vedge_port_id, vnic_id
from lab.expected import nic_impact, port_vf, vms_on_host
from lab.truth import host_mechanism, service_device_name, vm_port_name
from lab.world import Fault, Host, Port, World, WorldError


@dataclass(frozen=True)
class FaultKind:
    name: str
    target: str  # what TARGET names
    description: str


FAULT_KINDS = (
    FaultKind("nic_down", "HOST/NIC", "the NIC loses carrier (cable out, switch port down)"),
    FaultKind("bond_member_down", "HOST/NIC", "one member of a bond loses carrier; the bond stays up"),
    FaultKind("ovs_port_down", "PORT_ID", "the VM's port on the virtual switch or bridge is down"),
    FaultKind("ovs_port_missing", "PORT_ID", "the VM's port is missing from the virtual switch"),
    FaultKind("bridge_member_missing", "PORT_ID", "the VM's tap is missing from its bridge"),
    FaultKind("tunnel_unreachable", "HOST", "the host's tunneling IP is gone, so its tunnel endpoint is unreachable"),
    FaultKind("agent_dead", "AGENT_ID", "a Neutron agent stops reporting (the datapath keeps forwarding)"),
    FaultKind("dhcp_namespace_gone", "NETWORK_ID", "the network's qdhcp namespace is gone"),
    FaultKind("vlan_tag_mismatch", "PORT_ID", "the port's local VLAN tag differs from its network's"),
    FaultKind("mtu_mismatch", "PORT_ID", "the VM's device MTU is larger than its network's"),
    FaultKind("flood_flow_missing", "HOST/NETWORK_ID",
              "the host's br-tun has no flood flow for the network: its broadcasts reach no peer"),
    FaultKind("tunnel_port_missing", "HOST/PEER_HOST", "the host has no tunnel port to the peer (the peer has one back)"),
)
FAULT_KINDS_BY_NAME = {kind.name: kind for kind in FAULT_KINDS}


def inject_fault(world: World, kind: str, target: str) -> Fault:
    """Apply a fault to the world (in place) and record it; WorldError if the target is unknown."""
    if kind not in FAULT_KINDS_BY_NAME:
        raise WorldError(f"unknown fault kind {kind!r}; choose from {', '.join(FAULT_KINDS_BY_NAME)}")
    if any(f.kind == kind and f.target == target for f in world.faults):
        raise WorldError(f"fault {kind} on {target} is already injected")
    fault = _INJECTORS[kind](world, target)
    world.faults = [*world.faults, fault]
    return fault


def clear_fault(world: World, kind: str, target: str) -> Fault:
    """Undo an injected fault (in place) and drop its record."""
    fault = next((f for f in world.faults if f.kind == kind and f.target == target), None)
    if fault is None:
        raise WorldError(f"no fault {kind} on {target} is injected")
    for path, value in fault.undo.items():
        _set(world, path, value)
    world.faults = [f for f in world.faults if f is not fault]
    return fault


# -- state paths: "nic|<host>|<nic>|carrier", "host|<name>|<field>", "port|<id>|<field>", ... ------

def _set(world: World, path: str, value: object) -> None:
    kind, key, *rest = path.split("|")
    if kind == "nic":
        host = _host(world, key)
        nic = next(n for n in host.nics if n.name == rest[0])
        setattr(nic, rest[1], value)
    elif kind == "host":
        setattr(_host(world, key), rest[0], value)
    elif kind == "port":
        setattr(world.port(key), rest[0], value)
    elif kind == "network":
        setattr(world.network(key), rest[0], value)
    elif kind == "agent":
        setattr(next(a for a in world.agents if a.id == key), rest[0], value)


def _host(world: World, name: str) -> Host:
    host = next((h for h in world.hosts if h.name == name), None)
    if host is None:
        raise WorldError(f"unknown host {name!r}")
    return host


def _port(world: World, port_id: str) -> Port:
    port = next((p for p in world.ports if p.id == port_id), None)
    if port is None:
        raise WorldError(f"unknown port {port_id!r}")
    return port


def _vm_of_port(world: World, port: Port) -> list[str]:
    return [port.device_id] if port.device_owner.startswith("compute:") else []


def _vnic(port: Port) -> str:
    return vnic_id(port.binding_host, port.mac_address)


def _switch_port(world: World, port: Port) -> str:
    """The object that holds a Neutron port's state and tag on its host's switch: the OVS port (qvo, the tap,
    a namespace's internal port) on Open vSwitch; its VF on SR-IOV; the vNIC elsewhere (its tap in a Linux
    bridge, its VPP interface)."""
    host = next((h for h in world.hosts if h.name == port.binding_host), None)
    if host is not None and port.vnic_type == "direct":
        return port_vf(world, host, port)  # SR-IOV: the VF holds the port's link state and VLAN
    if host is None or host_mechanism(world, host) != "ovs":
        return _vnic(port)
    device = vm_port_name(world, port) if port.device_owner.startswith("compute:") \
        else service_device_name("ovs", port)
    return vedge_port_id(port.binding_host, "br-int", device)


# -- injectors --------------------------------------------------------------------------------------

def _nic_down(world: World, target: str, kind: str = "nic_down") -> Fault:
    host_name, _, nic_name = target.partition("/")
    host = _host(world, host_name)
    nic = next((n for n in host.nics if n.name == nic_name), None)
    if nic is None:
        raise WorldError(f"host {host_name} has no NIC {nic_name!r} (it has {', '.join(n.name for n in host.nics)})")
    if kind == "bond_member_down" and not nic.bond:
        raise WorldError(f"{target} is not a bond member")
    undo = {f"nic|{host_name}|{nic_name}|carrier": nic.carrier}
    nic.carrier = False
    impact = nic_impact(world, host, nic_name)
    return Fault(kind=kind, target=target, root_cause=host_pnic_id(host_name, nic_name), down=impact.down,
                 degraded=impact.degraded, undo=undo)


def _port_state(state: str, kind: str) -> Callable[[World, str], Fault]:
    def inject(world: World, target: str) -> Fault:
        port = _port(world, target)
        undo = {f"port|{port.id}|switch_port": port.switch_port}
        port.switch_port = state  # type: ignore[assignment]
        # A port that is down is an object to blame; a missing one is not there: its vNIC is plugged into nothing.
        root = _switch_port(world, port) if state == "down" else _vnic(port)
        return Fault(kind=kind, target=target, root_cause=root, down=_vm_of_port(world, port), undo=undo)
    return inject


def _tunnel_unreachable(world: World, target: str) -> Fault:
    host = _host(world, target)
    if not host.tunnel_ip or world.type_driver not in ("vxlan", "gre"):
        raise WorldError(f"host {target} has no tunnel endpoint in this {world.type_driver} world")
    undo = {f"host|{target}|tunnel_ip_configured": host.tunnel_ip_configured}
    host.tunnel_ip_configured = False
    return Fault(kind="tunnel_unreachable", target=target, root_cause=otep_id(target, world.type_driver),
                 down=vms_on_host(world, target), undo=undo)


def _agent_dead(world: World, target: str) -> Fault:
    agent = next((a for a in world.agents if a.id == target), None)
    if agent is None:
        raise WorldError(f"unknown agent {target!r}")
    undo = {f"agent|{target}|alive": agent.alive}
    agent.alive = False
    # Existing ports keep forwarding while the agent is dead: nothing loses connectivity yet.
    return Fault(kind="agent_dead", target=target, root_cause=agent.id, undo=undo)


def _dhcp_namespace_gone(world: World, target: str) -> Fault:
    network = next((n for n in world.networks if n.id == target), None)
    if network is None:
        raise WorldError(f"unknown network {target!r}")
    dhcp = next((p for p in world.ports if p.network_id == target and p.device_owner == "network:dhcp"), None)
    if dhcp is None:
        raise WorldError(f"network {network.name} has no DHCP port")
    undo = {f"network|{target}|dhcp_namespace_present": network.dhcp_namespace_present}
    network.dhcp_namespace_present = False
    # VMs keep their leases but cannot renew them: degraded, not down.
    vms = sorted(p.device_id for p in world.ports if p.network_id == target and p.device_owner.startswith("compute:"))
    return Fault(kind="dhcp_namespace_gone", target=target, root_cause=f"{dhcp.binding_host}/qdhcp-{target}",
                 degraded=vms, undo=undo)


def _vlan_tag_mismatch(world: World, target: str) -> Fault:
    port = _port(world, target)
    undo = {f"port|{port.id}|vlan_tag_offset": port.vlan_tag_offset}
    port.vlan_tag_offset = port.vlan_tag_offset + 1
    return Fault(kind="vlan_tag_mismatch", target=target, root_cause=_switch_port(world, port),
                 down=_vm_of_port(world, port), undo=undo)


def _mtu_mismatch(world: World, target: str) -> Fault:
    port = _port(world, target)
    undo = {f"port|{port.id}|mtu": port.mtu}
    port.mtu = world.network(port.network_id).mtu + 50
    # Small packets pass, large ones are dropped on the way: degraded.
    return Fault(kind="mtu_mismatch", target=target, root_cause=_vnic(port), degraded=_vm_of_port(world, port),
                 undo=undo)


def _overlay_host(world: World, name: str) -> Host:
    host = _host(world, name)
    if world.mechanism_driver != "ovs" or world.type_driver not in ("vxlan", "gre") or not host.tunnel_ip:
        raise WorldError(f"host {name} has no OVS tunnel bridge in this {world.mechanism_driver}/{world.type_driver} "
                         "world")
    return host


def _vms_on(world: World, hosts: set[str], networks: set[str]) -> list[str]:
    """The VMs on `hosts` with a port on one of `networks`."""
    return sorted({p.device_id for p in world.ports if p.binding_host in hosts and p.network_id in networks
                   and p.device_owner.startswith("compute:")})


def _flood_flow_missing(world: World, target: str) -> Fault:
    host_name, _, network_id = target.partition("/")
    host = _overlay_host(world, host_name)
    if not any(p.network_id == network_id and p.binding_host == host_name for p in world.ports):
        raise WorldError(f"host {host_name} has no port on network {network_id!r}: it floods nothing for it")
    undo = {f"host|{host_name}|flood_flows_missing": list(host.flood_flows_missing)}
    host.flood_flows_missing = [*host.flood_flows_missing, network_id]
    # broadcasts (ARP) of the network's VMs on the host reach no peer: they cannot resolve anyone remote
    return Fault(kind="flood_flow_missing", target=target, root_cause=otep_id(host_name, world.type_driver),
                 down=_vms_on(world, {host_name}, {network_id}), undo=undo)


def _tunnel_port_missing(world: World, target: str) -> Fault:
    host_name, _, peer_name = target.partition("/")
    host, peer = _overlay_host(world, host_name), _overlay_host(world, peer_name)
    if peer is host or peer.tunnel_ip in host.tunnel_ports_missing:
        raise WorldError(f"host {host_name} has no tunnel port to {peer_name} to remove")
    undo = {f"host|{host_name}|tunnel_ports_missing": list(host.tunnel_ports_missing)}
    host.tunnel_ports_missing = [*host.tunnel_ports_missing, peer.tunnel_ip]  # type: ignore[list-item]
    shared = {p.network_id for p in world.ports if p.binding_host == host_name} & \
        {p.network_id for p in world.ports if p.binding_host == peer_name}
    # the broken object is the deleted tunnel port itself (an OVS host's br-tun port to the peer)
    root = vedge_port_id(host_name, "br-tun", names.ovs_tunnel_port_name(world.type_driver, str(peer.tunnel_ip))) \
        if host_mechanism(world, host) == "ovs" else otep_id(host_name, world.type_driver)
    return Fault(kind="tunnel_port_missing", target=target, root_cause=root,
                 down=_vms_on(world, {host_name, peer_name}, shared), undo=undo)


_INJECTORS: dict[str, Callable[[World, str], Fault]] = {
    "nic_down": _nic_down,
    "bond_member_down": lambda world, target: _nic_down(world, target, "bond_member_down"),
    "ovs_port_down": _port_state("down", "ovs_port_down"),
    "ovs_port_missing": _port_state("missing", "ovs_port_missing"),
    "bridge_member_missing": _port_state("missing", "bridge_member_missing"),
    "tunnel_unreachable": _tunnel_unreachable,
    "agent_dead": _agent_dead,
    "dhcp_namespace_gone": _dhcp_namespace_gone,
    "vlan_tag_mismatch": _vlan_tag_mismatch,
    "mtu_mismatch": _mtu_mismatch,
    "flood_flow_missing": _flood_flow_missing,
    "tunnel_port_missing": _tunnel_port_missing,
}
