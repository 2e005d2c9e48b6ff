"""Generate a world spec of any size, deterministically from a seed.

Shape: one controller that is also the network node (DHCP and L3 agents, the routers), and
compute hosts carrying the VMs. Every host has a management NIC (eth0) and a data bond (bond0 of
eth1 + eth2, active-backup) that holds the tunnel IP (vxlan, gre) or carries the provider physical
network (vlan, flat); SR-IOV computes use eth1 as the VFs' physical function instead. The network
node has eth3 on the external network for router gateways.

Two installer layouts are options: `tunnel_bridge` puts the tunnel IP on a Linux bridge of that name
over the data bond (with `tunnel_vlan`, over its VLAN sub-interface bond0.<vlan>) instead of on the
bond; `ovs_installed_stopped` gives every host whose L2 agent is not Open vSwitch's the OVS packages
with their daemons stopped (ovs-vsctl answers that it cannot reach its database).
"""

from __future__ import annotations

import ipaddress
import random
import uuid

from graphmodel.conventions import libvirt_name
from lab.world import (
    Agent,
    Aggregate,
    Bond,
    FixedIp,
    Host,
    Instance,
    Network,
    Nic,
    Port,
    Project,
    Region,
    Router,
    Subnet,
    TunnelBridge,
    World,
)

PROVIDER_PHYSNET = "physnet1"
EXTERNAL_PHYSNET = "external"
MANAGEMENT_NET = ipaddress.ip_network("10.0.0.0/16")
TUNNEL_NET = ipaddress.ip_network("192.168.0.0/16")
TENANT_SUPERNET = ipaddress.ip_network("172.16.0.0/12")
EXTERNAL_CIDR = ipaddress.ip_network("203.0.113.0/24")
FIRST_VLAN = 100
FIRST_VNI = 1000

AGENT_TYPES = {  # mechanism driver -> (Neutron agent type, binary) of its L2 agent
    "ovs": ("Open vSwitch agent", "neutron-openvswitch-agent"),
    "lxb": ("Linux bridge agent", "neutron-linuxbridge-agent"),
    "vpp": ("VPP agent", "neutron-vpp-agent"),
    "sriov": ("NIC Switch agent", "neutron-sriov-nic-agent"),
}
VIF_TYPES = {"ovs": "ovs", "lxb": "bridge", "vpp": "vhostuser", "sriov": "hw_veb"}


class _Ids:
    """UUIDs and MACs drawn from one seeded generator, so that a seed gives the same world."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))

    def mac(self, prefix: str = "fa:16:3e") -> str:
        return prefix + "".join(f":{self.random.randrange(256):02x}" for _ in range(3))


def generate_world(hosts: int = 3, vms_per_host: int = 2, networks: int = 2, mechanism: str = "ovs",
                   type_driver: str = "vxlan", seed: int = 1, name: str | None = None,
                   firewall: str = "hybrid", aggregates: bool = False, tunnel_bridge: str | None = None,
                   tunnel_vlan: int | None = None, ovs_installed_stopped: bool = False) -> World:
    """A consistent world spec with the given size and variant. With `aggregates`, the spec states Nova
    host aggregates: one per availability zone, holding the zone's compute hosts. With `tunnel_bridge`
    (and `tunnel_vlan`), each host's tunnel IP is on that Linux bridge over its bond (VLAN sub-interface);
    with `ovs_installed_stopped`, hosts without the OVS agent have OVS installed but not running."""
    if hosts < 2:
        raise ValueError("a world needs at least 2 hosts (a controller/network node and a compute)")
    if networks < 1 or vms_per_host < 0:
        raise ValueError("a world needs at least 1 network, and vms_per_host cannot be negative")
    if type_driver == "flat" and networks != 1:
        raise ValueError("a flat world has exactly 1 tenant network (Neutron allows one flat network per "
                         "physical network)")
    if mechanism == "sriov" and type_driver != "vlan":
        raise ValueError("SR-IOV worlds use VLAN networks (--type-driver vlan)")
    overlay = type_driver in ("vxlan", "gre")
    if tunnel_vlan is not None and tunnel_bridge is None:
        raise ValueError("tunnel_vlan needs tunnel_bridge (the bridge over the VLAN sub-interface)")
    if tunnel_bridge is not None and (not overlay or mechanism == "vpp"):
        raise ValueError("tunnel_bridge needs an overlay (vxlan, gre) and a kernel data bond (not VPP)")
    if ovs_installed_stopped and mechanism == "ovs":
        raise ValueError("ovs_installed_stopped is for hosts whose L2 agent is not Open vSwitch's")
    ids = _Ids(seed)
    region = Region(name="RegionOne", availability_zones=["nova"])
    projects = [Project(id=ids.uuid().replace("-", ""), name=f"project-{i + 1}") for i in range(max(1, networks // 4))]

    host_list = [_host("controller-1", ["controller", "network"], 1, ids, type_driver, mechanism, network_node=True)]
    host_list += [_host(f"compute-{i}", ["compute"], i + 1, ids, type_driver, mechanism, network_node=False)
                  for i in range(1, hosts)]
    for host in host_list:
        if tunnel_bridge is not None:
            _bridge_the_tunnel_ip(host, tunnel_bridge, tunnel_vlan)
        if ovs_installed_stopped and not (mechanism == "sriov" and "network" in host.roles):
            host.ovs_installed_stopped = True

    vms_per_network = -(-(hosts - 1) * vms_per_host // networks)
    prefix = min(24, 32 - (vms_per_network + 8).bit_length())
    network_list = [_tenant_network(i, projects[i % len(projects)].id, ids, type_driver, prefix)
                    for i in range(networks)]
    external = Network(id=ids.uuid(), name="public", project_id=projects[0].id, network_type="flat",
                       physical_network=EXTERNAL_PHYSNET, mtu=1500, external=True, shared=True,
                       subnets=[Subnet(id=ids.uuid(), name="public-subnet", cidr=str(EXTERNAL_CIDR),
                                       gateway_ip=str(EXTERNAL_CIDR[1]), enable_dhcp=False)])
    network_list.append(external)

    allocator = _AddressAllocator(network_list)
    network_node = host_list[0]
    ports: list[Port] = []
    # DHCP ports on the network node, one per subnet with DHCP.
    for network in network_list:
        for subnet in network.subnets:
            if subnet.enable_dhcp:
                ports.append(Port(
                    id=ids.uuid(), name="", network_id=network.id, project_id=network.project_id,
                    mac_address=ids.mac(), fixed_ips=[allocator.next(subnet)], device_owner="network:dhcp",
                    device_id=f"dhcp{uuid.uuid5(uuid.NAMESPACE_DNS, network_node.name)}-{network.id}",
                    binding_host=network_node.name, vif_type=_network_node_vif(mechanism)))
    # One router per project: an interface on each of the project's networks, a gateway on public.
    routers: list[Router] = []
    for project in projects:
        router = Router(id=ids.uuid(), name=f"router-{project.name}", project_id=project.id,
                        host=network_node.name, gateway_network_id=external.id)
        routers.append(router)
        ports.append(Port(id=ids.uuid(), network_id=external.id, project_id="", mac_address=ids.mac(),
                          fixed_ips=[allocator.next(external.subnets[0])], device_owner="network:router_gateway",
                          device_id=router.id, binding_host=network_node.name,
                          vif_type=_network_node_vif(mechanism)))
        for network in network_list:
            if network.project_id == project.id and not network.external:
                subnet = network.subnets[0]
                ports.append(Port(id=ids.uuid(), network_id=network.id, project_id=project.id, mac_address=ids.mac(),
                                  fixed_ips=[FixedIp(subnet_id=subnet.id, ip_address=subnet.gateway_ip or "")],
                                  device_owner="network:router_interface", device_id=router.id,
                                  binding_host=network_node.name, vif_type=_network_node_vif(mechanism)))
    # VMs: round-robin over tenant networks, one port each.
    instances: list[Instance] = []
    tenant_networks = [n for n in network_list if not n.external]
    sequence = 0
    for host in host_list[1:]:
        for _ in range(vms_per_host):
            sequence += 1
            network = tenant_networks[(sequence - 1) % len(tenant_networks)]
            instance_id = ids.uuid()
            port = Port(id=ids.uuid(), network_id=network.id, project_id=network.project_id, mac_address=ids.mac(),
                        fixed_ips=[allocator.next(network.subnets[0])], device_owner="compute:nova",
                        device_id=instance_id, binding_host=host.name, vif_type=VIF_TYPES[mechanism],
                        vnic_type="direct" if mechanism == "sriov" else "normal")
            ports.append(port)
            instances.append(Instance(id=instance_id, name=f"vm-{sequence}", project_id=network.project_id,
                                      host=host.name, libvirt_name=libvirt_name(sequence), port_ids=[port.id],
                                      created=f"2026-01-01T00:{sequence // 60 % 60:02d}:{sequence % 60:02d}Z"))

    return World(
        name=name or f"lab-{mechanism}-{type_driver}", seed=seed, mechanism_driver=mechanism,
        firewall=firewall, type_driver=type_driver, regions=[region], projects=projects,
        hosts=host_list, agents=_agents(host_list, mechanism, overlay, type_driver, ids), networks=network_list,
        ports=ports, routers=routers, instances=instances,
        aggregates=_aggregates(region, host_list) if aggregates else None)


def _aggregates(region: Region, hosts: list[Host]) -> list[Aggregate]:
    """One aggregate per availability zone (ids from 1, in the region's zone order) with its computes."""
    return [Aggregate(id=number, name=f"{zone}-computes", availability_zone=zone,
                      hosts=[h.name for h in hosts if "compute" in h.roles and h.availability_zone == zone],
                      metadata={"availability_zone": zone})
            for number, zone in enumerate(region.availability_zones, start=1)]


def _network_node_vif(mechanism: str) -> str:
    # SR-IOV clouds run their DHCP and L3 agents on Open vSwitch.
    return "ovs" if mechanism == "sriov" else VIF_TYPES[mechanism]


def _host(name: str, roles: list[str], number: int, ids: _Ids, type_driver: str, mechanism: str,
          network_node: bool) -> Host:
    overlay = type_driver in ("vxlan", "gre")
    management_ip = MANAGEMENT_NET[number + 10]
    tunnel_ip = TUNNEL_NET[number + 10] if overlay else None
    nics = [Nic(name="eth0", mac=ids.mac("52:54:00"), role="management", speed_mbps=1000,
                ip=f"{management_ip}/{MANAGEMENT_NET.prefixlen}")]
    bonds: list[Bond] = []
    if mechanism == "sriov" and not network_node:
        nics.append(Nic(name="eth1", mac=ids.mac("52:54:00"), role="provider", physical_network=PROVIDER_PHYSNET))
    elif mechanism == "vpp":
        # VPP takes its data NIC over (DPDK) and names it by PCI address; no kernel bond.
        nics.append(Nic(name="TenGigabitEthernet5/0/0", mac=ids.mac("00:25:b5"), role="tunnel" if overlay else "provider",
                        physical_network=None if overlay else PROVIDER_PHYSNET, mtu=9000,
                        ip=f"{tunnel_ip}/{TUNNEL_NET.prefixlen}" if tunnel_ip else None))
    else:
        data_role = "tunnel" if overlay else "provider"
        physnet = None if overlay else PROVIDER_PHYSNET
        for member in ("eth1", "eth2"):
            nics.append(Nic(name=member, mac=ids.mac("52:54:00"), role=data_role, physical_network=physnet,
                            bond="bond0", mtu=9000))
        bonds.append(Bond(name="bond0", mac=nics[1].mac, members=["eth1", "eth2"], role=data_role, mtu=9000,
                          physical_network=physnet,
                          ip=f"{tunnel_ip}/{TUNNEL_NET.prefixlen}" if tunnel_ip else None))
    if network_node:
        nics.append(Nic(name="eth3", mac=ids.mac("52:54:00"), role="external", physical_network=EXTERNAL_PHYSNET))
    return Host(name=name, roles=roles, region="RegionOne", availability_zone="nova",
                ip_address=str(management_ip), tunnel_ip=str(tunnel_ip) if tunnel_ip else None, nics=nics, bonds=bonds)


def _bridge_the_tunnel_ip(host: Host, bridge: str, vlan: int | None) -> None:
    """Move the tunnel IP from the host's data bond to a Linux bridge over it (or its VLAN sub-interface)."""
    bond = next(b for b in host.bonds if b.ip)
    host.tunnel_bridge = TunnelBridge(name=bridge, lower=bond.name, vlan=vlan, ip=bond.ip or "")
    bond.ip = None


def _tenant_network(index: int, project_id: str, ids: _Ids, type_driver: str, prefix: int) -> Network:
    capacity = 2 ** (prefix - TENANT_SUPERNET.prefixlen)
    if prefix < TENANT_SUPERNET.prefixlen or index >= capacity:
        raise ValueError(f"too many tenant networks or VMs for {TENANT_SUPERNET}: {index + 1} networks of /{prefix}")
    subnet_net = ipaddress.ip_network((int(TENANT_SUPERNET.network_address) + index * 2 ** (32 - prefix), prefix))
    segmentation = {"vlan": FIRST_VLAN + index, "vxlan": FIRST_VNI + index, "gre": FIRST_VNI + index}.get(type_driver)
    return Network(
        id=ids.uuid(), name=f"net-{index + 1}", project_id=project_id, network_type=type_driver,
        segmentation_id=segmentation, physical_network=PROVIDER_PHYSNET if type_driver in ("vlan", "flat") else None,
        mtu=1450 if type_driver == "vxlan" else 1458 if type_driver == "gre" else 1500,
        subnets=[Subnet(id=ids.uuid(), name=f"net-{index + 1}-subnet", cidr=str(subnet_net),
                        gateway_ip=str(subnet_net[1]), enable_dhcp=True)])


def _agents(hosts: list[Host], mechanism: str, overlay: bool, type_driver: str, ids: _Ids) -> list[Agent]:
    agents = []
    for host in hosts:
        network_node = "network" in host.roles
        l2 = "ovs" if mechanism == "sriov" and network_node else mechanism
        agent_type, binary = AGENT_TYPES[l2]
        configurations: dict[str, object] = {}
        if l2 == "ovs":
            configurations = {"bridge_mappings": {} if overlay else {PROVIDER_PHYSNET: f"br-{PROVIDER_PHYSNET}"},
                              "tunnel_types": [type_driver] if overlay else [],
                              "tunneling_ip": host.tunnel_ip, "integration_bridge": "br-int"}
            if network_node:
                configurations["bridge_mappings"] = {**configurations["bridge_mappings"],  # type: ignore[dict-item]
                                                     EXTERNAL_PHYSNET: "br-ex"}
        elif l2 == "lxb":
            configurations = {"interface_mappings": {} if overlay else {PROVIDER_PHYSNET: "bond0"},
                              "tunnel_types": ["vxlan"] if overlay else [], "tunneling_ip": host.tunnel_ip}
            if network_node:
                configurations["interface_mappings"] = {**configurations["interface_mappings"],  # type: ignore[dict-item]
                                                        EXTERNAL_PHYSNET: "eth3"}
        elif l2 == "vpp":
            physnets = {PROVIDER_PHYSNET: "TenGigabitEthernet5/0/0"} if not overlay else {}
            if network_node:
                physnets[EXTERNAL_PHYSNET] = "eth3"
            configurations = {"physnets": physnets, "tunneling_ip": host.tunnel_ip}
        elif l2 == "sriov":
            configurations = {"device_mappings": {PROVIDER_PHYSNET: ["eth1"]}}
        agents.append(Agent(id=ids.uuid(), host=host.name, agent_type=agent_type, binary=binary,
                            configurations=configurations))
        if network_node:
            agents.append(Agent(id=ids.uuid(), host=host.name, agent_type="DHCP agent", binary="neutron-dhcp-agent"))
            agents.append(Agent(id=ids.uuid(), host=host.name, agent_type="L3 agent", binary="neutron-l3-agent",
                                configurations={"agent_mode": "legacy"}))
            agents.append(Agent(id=ids.uuid(), host=host.name, agent_type="Metadata agent",
                                binary="neutron-metadata-agent"))
    return agents


class _AddressAllocator:
    """Hands out the next free address of each subnet (after the gateway)."""

    def __init__(self, networks: list[Network]) -> None:
        self.next_host = {s.id: 2 for n in networks for s in n.subnets}

    def next(self, subnet: Subnet) -> FixedIp:
        network = ipaddress.ip_network(subnet.cidr)
        index = self.next_host[subnet.id]
        if index >= network.num_addresses - 1:
            raise ValueError(f"subnet {subnet.cidr} is full")
        self.next_host[subnet.id] = index + 1
        return FixedIp(subnet_id=subnet.id, ip_address=str(network[index]))
