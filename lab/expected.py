"""What the analysis queries should answer for a world, from the spec alone (like lab/truth.py).

- `expected_impact`: the VMs that lose connectivity (down) or only redundancy (degraded) when a
  host, one of its NICs or bonds, or its tunnel endpoint goes down;
- `expected_path`: every hop from one VM to another, in order, in the model's ids.

These restate OpenStack's wiring per mechanism driver (which NIC carries tenant traffic, which
bridges a port goes through); they never read the scanner's documents or the graph, so a query that
matches them is checked against an independent statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphmodel import conventions as names
from graphmodel.schema import (
    host_pnic_id,
    otep_id,
    vconnector_id,
    vconnector_member_id,
    vedge_id,
    vedge_port_id,
    vf_id,
    vnic_id,
)
from lab.truth import host_mechanism, vm_port_name
from lab.world import Host, Instance, Port, World, WorldError

TUNNEL_TYPES = ("vxlan", "gre")


@dataclass
class ExpectedImpact:
    down: list[str] = field(default_factory=list)
    degraded: list[str] = field(default_factory=list)


def _host(world: World, name: str) -> Host:
    host = next((h for h in world.hosts if h.name == name), None)
    if host is None:
        raise WorldError(f"unknown host {name!r}")
    return host


def vms_on_host(world: World, host: str) -> list[str]:
    return sorted(i.id for i in world.instances if i.host == host)


def nic_impact(world: World, host: Host, nic_name: str) -> ExpectedImpact:
    """A NIC (or bond) of a host goes down: its VMs lose their datapath if the NIC carries tenant
    traffic (tunnels or the provider network), unless it is a bond member whose bond keeps another
    live member (then they only lose redundancy). A management or storage NIC cuts no VM."""
    bond = next((b for b in host.bonds if b.name == nic_name), None)
    if bond is not None:
        return ExpectedImpact(down=vms_on_host(world, host.name)) if bond.role in ("tunnel", "provider") \
            else ExpectedImpact()
    nic = next((n for n in host.nics if n.name == nic_name), None)
    if nic is None:
        raise WorldError(f"host {host.name} has no NIC {nic_name!r} (it has {', '.join(n.name for n in host.nics)})")
    if nic.role not in ("tunnel", "provider"):
        return ExpectedImpact()
    peers = [n for n in host.nics if nic.bond and n.bond == nic.bond and n.name != nic.name]
    if any(n.carrier for n in peers):
        return ExpectedImpact(degraded=vms_on_host(world, host.name))
    return ExpectedImpact(down=vms_on_host(world, host.name))


def expected_impact(world: World, target: str) -> ExpectedImpact:
    """The impact of one target going down: a host name, a host's NIC or bond (`host/nic`, its
    host_pnic id) or a host's tunnel endpoint (its otep id)."""
    if any(h.name == target for h in world.hosts):
        return ExpectedImpact(down=vms_on_host(world, target))
    host_name, _, rest = target.partition("/")
    host = _host(world, host_name)
    if rest.startswith("otep-"):
        if target != otep_id(host_name, world.type_driver) or world.type_driver not in TUNNEL_TYPES:
            raise WorldError(f"{target} is not a tunnel endpoint of this {world.type_driver} world")
        return ExpectedImpact(down=vms_on_host(world, host_name))
    return nic_impact(world, host, rest)


# -- paths --------------------------------------------------------------------------------------------

def _data_uplink(host: Host) -> str:
    """The NIC or bond that carries tenant traffic (tunnels or the provider network)."""
    bond = next((b.name for b in host.bonds if b.role in ("tunnel", "provider")), None)
    nic = next((n.name for n in host.nics if n.role in ("tunnel", "provider") and not n.bond), None)
    uplink = bond or nic
    if uplink is None:
        raise WorldError(f"host {host.name} has no NIC for tenant traffic")
    return uplink


def uplink_chain(world: World, host: Host, port: Port) -> list[str]:
    """The hops from a VM port's vNIC to the NIC that carries its network off the host, in order."""
    mechanism = host_mechanism(world, host)
    network = world.network(port.network_id)
    vnic = vnic_id(host.name, port.mac_address)
    vedge = vedge_id(host.name, mechanism)
    pnic = host_pnic_id(host.name, _data_uplink(host))
    tunnel = network.network_type in TUNNEL_TYPES
    otep = [otep_id(host.name, network.network_type)] if tunnel else []
    if mechanism == "ovs":  # the VM's OVS port (qvo, or the tap itself) is a hop of its own
        qbr = names.qbr_name(port.id)
        bridge = [vconnector_id(host.name, qbr), vconnector_member_id(host.name, qbr, names.qvb_name(port.id))] \
            if world.firewall == "hybrid" else []
        return [vnic, *bridge, vedge_port_id(host.name, "br-int", vm_port_name(world, port)), vedge, *otep, pnic]
    if mechanism == "lxb":  # the bridge's VXLAN device or VLAN sub-interface is a hop of its own
        brq = names.brq_name(network.id)
        nic = pnic.split("/", 1)[1]
        device = names.lxb_vxlan_name(network.segmentation_id or 0) if tunnel else \
            f"{nic}.{network.segmentation_id}" if network.network_type == "vlan" else None
        member = [vconnector_member_id(host.name, brq, device)] if device else []
        return [vnic, vconnector_id(host.name, brq), *member, *otep, pnic]
    if mechanism == "vpp":
        return [vnic, vconnector_id(host.name, f"bd-{network.segmentation_id or 1}"), vedge, *otep, pnic]
    return [vnic, port_vf(world, host, port), pnic]  # SR-IOV: the VM's port is a VF of the NIC


def port_vf(world: World, host: Host, port: Port) -> str:
    """The SR-IOV VF a direct port is, by its id: on the NIC for tenant traffic, numbered in the order of the
    host's direct ports (as lab/truth.py states the VFs)."""
    direct = [p.id for p in world.ports if p.binding_host == host.name and p.vnic_type == "direct"]
    if port.id not in direct:
        raise WorldError(f"port {port.id} is not an SR-IOV (direct) port of host {host.name}")
    return vf_id(host.name, _data_uplink(host), direct.index(port.id))


def _instance(world: World, vm: str) -> Instance:
    instance = next((i for i in world.instances if i.id == vm), None)
    if instance is None:
        raise WorldError(f"unknown instance {vm!r}")
    return instance


def expected_path(world: World, vm_a: str, vm_b: str) -> list[str]:
    """Every hop from VM A to VM B over the first network they share: A, its vNIC up to the NIC
    carrying the network, the network, then B's side down to B. On one host the two sides meet at
    the first bridge or switch they share and never leave the host."""
    a, b = _instance(world, vm_a), _instance(world, vm_b)
    ports = {p.id: p for p in world.ports}
    a_ports = [ports[p] for p in a.port_ids if p in ports]
    b_ports = [ports[p] for p in b.port_ids if p in ports]
    shared = sorted({p.network_id for p in a_ports} & {p.network_id for p in b_ports})
    if not shared:
        raise WorldError(f"{vm_a} and {vm_b} share no network")
    port_a = next(p for p in a_ports if p.network_id == shared[0])
    port_b = next(p for p in b_ports if p.network_id == shared[0])
    up = uplink_chain(world, _host(world, a.host), port_a)
    down = list(reversed(uplink_chain(world, _host(world, b.host), port_b)))
    if a.host == b.host:
        meet = next(hop for hop in up if hop in down)
        return [a.id, *up[:up.index(meet) + 1], *down[down.index(meet) + 1:], b.id]
    return [a.id, *up, shared[0], *down, b.id]
