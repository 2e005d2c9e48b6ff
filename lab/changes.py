"""Changes to a lab world as OpenStack users make them: boot or delete a VM, add a network, ...

Each change mutates the world (in place, keeping it consistent) and returns the notifications
OpenStack would publish for it, as `Event`s; lab/notify.py turns them into oslo.messaging
envelopes on RabbitMQ. Ids, MACs and addresses of new things are drawn deterministically from
the world's seed and its current size, so a replayed sequence of changes gives the same world.
"""

from __future__ import annotations

import ipaddress
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from graphmodel.conventions import libvirt_name
from lab.generate import VIF_TYPES
from lab.world import FixedIp, Instance, Network, Port, Router, Subnet, World, WorldError


@dataclass
class Event:
    """One notification: which service publishes it, its event type, and what it is about."""

    service: str  # "nova" or "neutron": the exchange
    event_type: str
    publisher: str  # e.g. compute.compute-1, network.controller-1
    subject: dict[str, Any] = field(default_factory=dict)  # ids the payload is built from


class _Draw:
    def __init__(self, world: World) -> None:
        self.random = random.Random(f"{world.seed}/{len(world.ports)}/{len(world.instances)}/{len(world.networks)}")

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))

    def mac(self) -> str:
        return "fa:16:3e" + "".join(f":{self.random.randrange(256):02x}" for _ in range(3))


def _network(world: World, key: str) -> Network:
    found = next((n for n in world.networks if key in (n.id, n.name)), None)
    if found is None:
        raise WorldError(f"unknown network {key!r}")
    return found


def _instance(world: World, key: str) -> Instance:
    found = next((i for i in world.instances if key in (i.id, i.name)), None)
    if found is None:
        raise WorldError(f"unknown VM {key!r}")
    return found


def _router(world: World, key: str) -> Router:
    found = next((r for r in world.routers if key in (r.id, r.name)), None)
    if found is None:
        raise WorldError(f"unknown router {key!r}")
    return found


def _network_node(world: World) -> str:
    return next(h.name for h in world.hosts if "network" in h.roles)


def _next_address(world: World, subnet: Subnet) -> FixedIp:
    used = {f.ip_address for p in world.ports for f in p.fixed_ips if f.subnet_id == subnet.id}
    used.add(subnet.gateway_ip or "")
    for address in ipaddress.ip_network(subnet.cidr).hosts():
        if str(address) not in used:
            return FixedIp(subnet_id=subnet.id, ip_address=str(address))
    raise WorldError(f"subnet {subnet.cidr} is full")


def _vif(world: World, host: str) -> str:
    network_node = "network" in world.host(host).roles
    return "ovs" if world.mechanism_driver == "sriov" and network_node else VIF_TYPES[world.mechanism_driver]


# -- VMs ---------------------------------------------------------------------------------------------

def boot_vm(world: World, name: str, host: str, network: str) -> list[Event]:
    """A new VM with one port on the network; Neutron's port.create.end then Nova's create.end."""
    if host not in {h.name for h in world.hosts}:
        raise WorldError(f"unknown host {host!r}")
    net = _network(world, network)
    if not net.subnets:
        raise WorldError(f"network {net.name} has no subnet to take an address from")
    draw = _Draw(world)
    instance_id = draw.uuid()
    port = Port(id=draw.uuid(), network_id=net.id, project_id=net.project_id, mac_address=draw.mac(),
                fixed_ips=[_next_address(world, net.subnets[0])], device_owner="compute:nova", device_id=instance_id,
                binding_host=host, vif_type=_vif(world, host),
                vnic_type="direct" if world.mechanism_driver == "sriov" else "normal")
    sequence = max((int(i.libvirt_name.split("-")[1], 16) for i in world.instances), default=0) + 1
    instance = Instance(id=instance_id, name=name, project_id=net.project_id, host=host,
                        libvirt_name=libvirt_name(sequence), port_ids=[port.id])
    world.ports = [*world.ports, port]
    world.instances = [*world.instances, instance]
    return [Event("neutron", "port.create.end", f"network.{_network_node(world)}", {"port_id": port.id}),
            Event("nova", "compute.instance.create.end", f"compute.{host}", {"instance_id": instance_id})]


def delete_vm(world: World, vm: str) -> list[Event]:
    instance = _instance(world, vm)
    ports = [p for p in world.ports if p.id in instance.port_ids]
    events = [Event("nova", "compute.instance.delete.end", f"compute.{instance.host}",
                    {"instance_id": instance.id, "deleted": instance.model_dump(mode="json")})]
    events += [Event("neutron", "port.delete.end", f"network.{_network_node(world)}", {"port_id": p.id}) for p in ports]
    world.instances = [i for i in world.instances if i.id != instance.id]
    world.ports = [p for p in world.ports if p.id not in instance.port_ids]
    return events


def rename_vm(world: World, vm: str, new_name: str) -> list[Event]:
    instance = _instance(world, vm)
    instance.name = new_name
    return [Event("nova", "compute.instance.update", f"compute.{instance.host}", {"instance_id": instance.id})]


# -- networks and subnets --------------------------------------------------------------------------------

def add_network(world: World, name: str, cidr: str, dhcp: bool = True) -> list[Event]:
    """A tenant network of the world's type with one subnet (and its DHCP port if DHCP is on)."""
    draw = _Draw(world)
    tenant = [n for n in world.networks if not n.external]
    project_id = tenant[0].project_id if tenant else world.projects[0].id
    segmentation = None
    if world.type_driver != "flat":
        segmentation = max((n.segmentation_id or 0 for n in tenant), default=99) + 1
    network = Network(id=draw.uuid(), name=name, project_id=project_id, network_type=world.type_driver,
                      segmentation_id=segmentation,
                      physical_network="physnet1" if world.type_driver in ("vlan", "flat") else None,
                      mtu=tenant[0].mtu if tenant else 1500)
    world.networks = [*world.networks, network]
    events = [Event("neutron", "network.create.end", f"network.{_network_node(world)}", {"network_id": network.id})]
    return events + add_subnet(world, network.id, f"{name}-subnet", cidr, dhcp)


def delete_network(world: World, network: str) -> list[Event]:
    net = _network(world, network)
    users = [p for p in world.ports if p.network_id == net.id and p.device_owner != "network:dhcp"]
    if users:
        raise WorldError(f"network {net.name} still has {len(users)} port(s) in use (delete the VMs or router "
                         "interfaces first, as Neutron requires)")
    dhcp = [p for p in world.ports if p.network_id == net.id]
    events = [Event("neutron", "port.delete.end", f"network.{_network_node(world)}", {"port_id": p.id}) for p in dhcp]
    events.append(Event("neutron", "network.delete.end", f"network.{_network_node(world)}",
                        {"network_id": net.id}))
    world.ports = [p for p in world.ports if p.network_id != net.id]
    world.networks = [n for n in world.networks if n.id != net.id]
    return events


def add_subnet(world: World, network: str, name: str, cidr: str, dhcp: bool = True) -> list[Event]:
    net = _network(world, network)
    try:
        parsed = ipaddress.ip_network(cidr)
    except ValueError as exc:
        raise WorldError(f"not a CIDR: {cidr!r}") from exc
    draw = _Draw(world)
    subnet = Subnet(id=draw.uuid(), name=name, cidr=str(parsed), gateway_ip=str(parsed.network_address + 1),
                    enable_dhcp=dhcp)
    net.subnets = [*net.subnets, subnet]
    events = [Event("neutron", "subnet.create.end", f"network.{_network_node(world)}", {"subnet_id": subnet.id})]
    if dhcp:
        events += _ensure_dhcp_port(world, net, subnet, draw)
    return events


def set_subnet_dhcp(world: World, subnet_id: str, enabled: bool) -> list[Event]:
    """Turn DHCP on or off: the DHCP port, namespace and vNIC appear or go."""
    net = next((n for n in world.networks if any(s.id == subnet_id for s in n.subnets)), None)
    if net is None:
        raise WorldError(f"unknown subnet {subnet_id!r}")
    subnet = next(s for s in net.subnets if s.id == subnet_id)
    subnet.enable_dhcp = enabled
    events = [Event("neutron", "subnet.update.end", f"network.{_network_node(world)}", {"subnet_id": subnet.id})]
    if enabled:
        return events + _ensure_dhcp_port(world, net, subnet, _Draw(world))
    if not any(s.enable_dhcp for s in net.subnets):
        gone = [p for p in world.ports if p.network_id == net.id and p.device_owner == "network:dhcp"]
        world.ports = [p for p in world.ports if p not in gone]
        events += [Event("neutron", "port.delete.end", f"network.{_network_node(world)}", {"port_id": p.id})
                   for p in gone]
    return events


def _ensure_dhcp_port(world: World, net: Network, subnet: Subnet, draw: _Draw) -> list[Event]:
    existing = next((p for p in world.ports if p.network_id == net.id and p.device_owner == "network:dhcp"), None)
    if existing is not None:
        existing.fixed_ips = [*existing.fixed_ips, _next_address(world, subnet)]
        return [Event("neutron", "port.update.end", f"network.{_network_node(world)}", {"port_id": existing.id})]
    node = _network_node(world)
    port = Port(id=draw.uuid(), network_id=net.id, project_id=net.project_id, mac_address=draw.mac(),
                fixed_ips=[_next_address(world, subnet)], device_owner="network:dhcp",
                device_id=f"dhcp{uuid.uuid5(uuid.NAMESPACE_DNS, node)}-{net.id}", binding_host=node,
                vif_type=_vif(world, node))
    world.ports = [*world.ports, port]
    return [Event("neutron", "port.create.end", f"network.{node}", {"port_id": port.id})]


# -- routers ---------------------------------------------------------------------------------------------

def add_router(world: World, name: str, project: str | None = None) -> list[Event]:
    draw = _Draw(world)
    project_id = project or world.projects[0].id
    router = Router(id=draw.uuid(), name=name, project_id=project_id, host=_network_node(world))
    world.routers = [*world.routers, router]
    return [Event("neutron", "router.create.end", f"network.{router.host}", {"router_id": router.id})]


def delete_router(world: World, router: str) -> list[Event]:
    found = _router(world, router)
    ports = [p for p in world.ports if p.device_id == found.id]
    events = [Event("neutron", "port.delete.end", f"network.{found.host}", {"port_id": p.id}) for p in ports]
    events.append(Event("neutron", "router.delete.end", f"network.{found.host}", {"router_id": found.id}))
    world.ports = [p for p in world.ports if p.device_id != found.id]
    world.routers = [r for r in world.routers if r.id != found.id]
    return events


def add_router_interface(world: World, router: str, network: str) -> list[Event]:
    found, net = _router(world, router), _network(world, network)
    if not net.subnets:
        raise WorldError(f"network {net.name} has no subnet")
    subnet = net.subnets[0]
    if any(p.device_id == found.id and p.network_id == net.id for p in world.ports):
        raise WorldError(f"router {found.name} already has an interface on {net.name}")
    draw = _Draw(world)
    port = Port(id=draw.uuid(), network_id=net.id, project_id=found.project_id, mac_address=draw.mac(),
                fixed_ips=[FixedIp(subnet_id=subnet.id, ip_address=subnet.gateway_ip or "")],
                device_owner="network:router_interface", device_id=found.id, binding_host=found.host,
                vif_type=_vif(world, found.host))
    world.ports = [*world.ports, port]
    return [Event("neutron", "port.create.end", f"network.{found.host}", {"port_id": port.id}),
            Event("neutron", "router.interface.create", f"network.{found.host}",
                  {"router_id": found.id, "port_id": port.id, "subnet_id": subnet.id})]


def remove_router_interface(world: World, router: str, network: str) -> list[Event]:
    found, net = _router(world, router), _network(world, network)
    port = next((p for p in world.ports if p.device_id == found.id and p.network_id == net.id
                 and p.device_owner == "network:router_interface"), None)
    if port is None:
        raise WorldError(f"router {found.name} has no interface on {net.name}")
    world.ports = [p for p in world.ports if p.id != port.id]
    return [Event("neutron", "router.interface.delete", f"network.{found.host}",
                  {"router_id": found.id, "port_id": port.id, "subnet_id": port.fixed_ips[0].subnet_id}),
            Event("neutron", "port.delete.end", f"network.{found.host}", {"port_id": port.id})]


def set_router_gateway(world: World, router: str, network: str | None) -> list[Event]:
    """Add (network given) or remove (None) the router's external gateway."""
    found = _router(world, router)
    net = _network(world, network) if network is not None else None
    if net is not None and not net.external:
        raise WorldError(f"network {net.name} is not external")
    old = [p for p in world.ports if p.device_id == found.id and p.device_owner == "network:router_gateway"]
    world.ports = [p for p in world.ports if p not in old]
    events = [Event("neutron", "port.delete.end", f"network.{found.host}", {"port_id": p.id}) for p in old]
    found.gateway_network_id = None
    if net is not None:
        draw = _Draw(world)
        port = Port(id=draw.uuid(), network_id=net.id, project_id="", mac_address=draw.mac(),
                    fixed_ips=[_next_address(world, net.subnets[0])], device_owner="network:router_gateway",
                    device_id=found.id, binding_host=found.host, vif_type=_vif(world, found.host))
        world.ports = [*world.ports, port]
        found.gateway_network_id = net.id
        events.append(Event("neutron", "port.create.end", f"network.{found.host}", {"port_id": port.id}))
    events.append(Event("neutron", "router.update.end", f"network.{found.host}", {"router_id": found.id}))
    return events
