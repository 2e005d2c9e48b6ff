"""Ground truth: every object and link Calipso should discover in a world, in the model's terms.

Computed from the world spec and OpenStack's naming conventions alone. It deliberately shares
nothing with the scanner (parsers, link finders) nor with the lab's host model (lab/hostmodel.py),
so that "scan equals truth" checks the simulator and the scanner against an independent
statement of what a real cloud built from this spec contains.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from graphmodel import conventions as names
from graphmodel.schema import (
    ENVIRONMENT,
    folder_id,
    host_pnic_id,
    otep_id,
    vconnector_id,
    vconnector_member_id,
    vedge_id,
    vedge_port_id,
    vf_id,
    vnic_id,
    vservice_id,
)
from lab.agentflows import agent_flow_attributes
from lab.world import Aggregate, Host, Network, Port, World

L2_AGENT_BINARIES = {"ovs": "neutron-openvswitch-agent", "lxb": "neutron-linuxbridge-agent",
                     "vpp": "neutron-vpp-agent", "sriov": "neutron-sriov-nic-agent"}


@dataclass
class TruthObject:
    id: str
    type: str
    name: str
    parent_id: str
    parent_type: str
    host: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class TruthLink:
    link_type: str
    source_id: str
    target_id: str
    state: str = "up"
    host: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        return self.link_type, self.source_id, self.target_id


@dataclass
class Truth:
    objects: dict[str, TruthObject] = field(default_factory=dict)
    links: dict[tuple[str, str, str], TruthLink] = field(default_factory=dict)

    def add(self, obj: TruthObject) -> TruthObject:
        self.objects[obj.id] = obj
        return obj

    def folder(self, parent_id: str, parent_type: str, folder: str, child_type: str,
               host: str | None = None) -> str:
        fid = folder if parent_id == "" else folder_id(parent_id, folder)
        if fid not in self.objects:
            self.add(TruthObject(fid, "folder", folder.replace("_", " ").title(), parent_id or ENVIRONMENT,
                                 parent_type, host, {"folder_of": child_type}))
        return fid

    def link(self, link_type: str, source_id: str, target_id: str, up: bool = True, host: str | None = None,
             **attributes: Any) -> None:
        link = TruthLink(link_type, source_id, target_id, "up" if up else "down", host, attributes)
        self.links[link.key] = link

    def to_json(self) -> dict[str, Any]:
        return {"objects": [asdict(o) for o in sorted(self.objects.values(), key=lambda o: o.id)],
                "links": [asdict(link) for link in sorted(self.links.values(), key=lambda link: link.key)]}




def vm_port_name(world: World, port: Port) -> str:
    """The OVS port on br-int of a VM's Neutron port: qvo (hybrid plug) or the tap itself (native)."""
    return names.qvo_name(port.id) if world.firewall == "hybrid" else names.tap_name(port.id)


def host_zone(host: Host) -> str:
    """The availability zone Nova reports a host in: its own zone where it runs nova-compute,
    Nova's "internal" zone where it runs only control services."""
    return host.availability_zone if "compute" in host.roles else "internal"


def host_mechanism(world: World, host: Host) -> str:
    """The L2 mechanism on a host: SR-IOV clouds run Open vSwitch on their network nodes."""
    if world.mechanism_driver == "sriov" and "network" in host.roles:
        return "ovs"
    return world.mechanism_driver


def compute_truth(world: World) -> Truth:
    truth = Truth()
    networks = {n.id: n for n in world.networks}
    ports_by_host: dict[str, list[Port]] = defaultdict(list)
    for port in world.ports:
        ports_by_host[port.binding_host].append(port)

    _add_control_plane(truth, world)
    for host in world.hosts:
        _add_host(truth, world, host, ports_by_host[host.name], networks)
    return truth


def _add_control_plane(truth: Truth, world: World) -> None:
    regions = truth.folder("", ENVIRONMENT, "regions", "region")
    for region in world.regions:
        rid = f"region:{region.name}"
        truth.add(TruthObject(rid, "region", region.name, regions, "folder"))
        members: dict[str, list[str]] = {}
        for host in world.hosts:
            if host.region == region.name:
                members.setdefault(host_zone(host), []).append(host.name)
        for zone in sorted(members):
            truth.add(TruthObject(f"az:{region.name}:{zone}", "availability_zone", zone, rid, "region",
                                  attributes={"hosts": sorted(members[zone])}))
        for aggregate in world.nova_aggregates():
            if _aggregate_region(world, aggregate) != region.name:
                continue
            folder = truth.folder(rid, "region", "aggregates", "aggregate")
            truth.add(TruthObject(f"aggregate:{region.name}:{aggregate.id}", "aggregate", aggregate.name, folder,
                                  "folder", attributes={"hosts": sorted(aggregate.hosts),
                                                        "availability_zone": aggregate.availability_zone}))
    projects = truth.folder("", ENVIRONMENT, "projects", "project")
    for project in world.projects:
        truth.add(TruthObject(project.id, "project", project.name, projects, "folder",
                              attributes={"domain_id": project.domain_id, "enabled": project.enabled}))
    for network in world.networks:
        folder = truth.folder(network.project_id, "project", "networks", "network")
        truth.add(TruthObject(network.id, "network", network.name, folder, "folder", attributes={
            "network_type": network.network_type, "segmentation_id": network.segmentation_id,
            "physical_network": network.physical_network, "mtu": network.mtu, "external": network.external,
            "cidrs": [s.cidr for s in network.subnets]}))
    zones = {h.name: h.availability_zone for h in world.hosts}
    for router in world.routers:
        folder = truth.folder(router.project_id, "project", "routers", "router")
        truth.add(TruthObject(router.id, "router", router.name, folder, "folder", attributes={
            "project_id": router.project_id, "status": "ACTIVE" if router.admin_state_up else "DOWN",
            "admin_state_up": router.admin_state_up, "gateway_network_id": router.gateway_network_id,
            "ha": False, "distributed": False, "availability_zones": [zones[router.host]]}))
    for port in world.ports:
        folder = truth.folder(port.network_id, "network", "ports", "port")
        truth.add(TruthObject(port.id, "port", port.name or port.id, folder, "folder", port.binding_host, {
            "mac_address": port.mac_address, "device_owner": port.device_owner, "device_id": port.device_id,
            "binding_host": port.binding_host, "vif_type": port.vif_type, "status": port.status,
            "fixed_ips": [f.ip_address for f in port.fixed_ips]}))


def _aggregate_region(world: World, aggregate: Aggregate) -> str:
    """The region whose Nova holds the aggregate: that of its zone, else of its first host, else the first."""
    for region in world.regions:
        if aggregate.availability_zone in region.availability_zones:
            return region.name
    hosts = {h.name: h for h in world.hosts}
    return hosts[aggregate.hosts[0]].region if aggregate.hosts else world.regions[0].name


def _host_type(host: Host) -> list[str]:
    return sorted({"controller": "Controller", "network": "Network", "compute": "Compute"}[r] for r in host.roles)


def _add_host(truth: Truth, world: World, host: Host, ports: list[Port], networks: dict[str, Network]) -> None:
    name = host.name
    mechanism = host_mechanism(world, host)
    attributes: dict[str, Any] = {"host_type": _host_type(host)}
    if "compute" in host.roles:  # Nova reports the address of hypervisors only
        attributes["ip_address"] = host.ip_address
    truth.add(TruthObject(name, "host", name, f"az:{host.region}:{host_zone(host)}", "availability_zone",
                          name, attributes))
    overlay = world.type_driver if world.type_driver in ("vxlan", "gre") and host.tunnel_ip else None

    # Physical NICs and bonds. VPP owns its data NICs but they are still the host's pNICs.
    pnics = truth.folder(name, "host", "pnics", "host_pnic", name)
    carrier: dict[str, bool] = {}
    for nic in host.nics:
        carrier[nic.name] = nic.carrier
        truth.add(TruthObject(host_pnic_id(name, nic.name), "host_pnic", nic.name, pnics, "folder", name, {
            "mac_address": nic.mac, "link_detected": nic.carrier, "mtu": nic.mtu, "master": nic.bond}))
    for bond in host.bonds:
        members = [n for n in host.nics if n.bond == bond.name]
        carrier[bond.name] = any(n.carrier for n in members)
        truth.add(TruthObject(host_pnic_id(name, bond.name), "host_pnic", bond.name, pnics, "folder", name, {
            "mac_address": bond.mac, "link_detected": carrier[bond.name], "mtu": bond.mtu,
            "bond_members": [n.name for n in members]}))
    data_pnic = _data_pnic(host)
    tunnel_pnic = _tunnel_pnic(host)
    external_pnic = next((n.name for n in host.nics if n.role == "external"), None)

    # Neutron agents.
    agents = [a for a in world.agents if a.host == name]
    if agents:
        folder = truth.folder(name, "host", "network_agents", "network_agent", name)
        for agent in agents:
            truth.add(TruthObject(agent.id, "network_agent", agent.binary, folder, "folder", name,
                                  {"agent_type": agent.agent_type, "alive": agent.alive}))

    # The vedge: one per host and mechanism, where an L2 agent runs.
    vedge = vedge_id(name, mechanism)
    l2_agent = next((a for a in agents if a.binary == L2_AGENT_BINARIES[mechanism]), None)
    if l2_agent is not None:
        folder = truth.folder(name, "host", "vedges", "vedge", name)
        truth.add(TruthObject(vedge, "vedge", {"ovs": "Open vSwitch", "lxb": "Linux bridge", "vpp": "VPP",
                                               "sriov": "SR-IOV NIC switch"}[mechanism], folder, "folder", name,
                              {"agent_type": l2_agent.agent_type, "mechanism": mechanism,
                               **(agent_flow_attributes(world, host, l2_agent.configurations) if mechanism == "ovs"
                                  else {})}))
    otep = None
    if overlay:
        otep = otep_id(name, overlay)
        folder = truth.folder(vedge, "vedge", "oteps", "otep", name)
        truth.add(TruthObject(otep, "otep", f"{overlay}-{host.tunnel_ip}", folder, "folder", name, {
            "overlay_type": overlay, "ip_address": host.tunnel_ip,
            "udp_port": {"vxlan": 8472 if mechanism == "lxb" else 4789, "gre": None}[overlay]}))
        truth.link("vedge-otep", vedge, otep, host=name)
        if host.tunnel_ip_configured and tunnel_pnic is not None:  # otherwise no NIC holds the tunneling IP
            bridge = host.tunnel_bridge
            via = [] if bridge is None else [bridge.name] + ([f"{bridge.lower}.{bridge.vlan}"] if bridge.vlan else [])
            path = {"via": via, "vlan_tag": bridge.vlan} if bridge is not None else {}
            truth.link("otep-host_pnic", otep, host_pnic_id(name, tunnel_pnic), carrier[tunnel_pnic], host=name, **path)

    # Provider (VLAN, flat) uplinks of the vedge.
    provider_networks = {n.physical_network for n in networks.values() if n.network_type in ("vlan", "flat")}
    if mechanism in ("ovs", "vpp", "sriov") and not overlay and data_pnic and "physnet1" in provider_networks:
        truth.link("vedge-host_pnic", vedge, host_pnic_id(name, data_pnic), carrier[data_pnic], host=name,
                   physical_network="physnet1")
    if mechanism in ("ovs", "vpp") and external_pnic:  # the switch owns the external NIC
        truth.link("vedge-host_pnic", vedge, host_pnic_id(name, external_pnic), carrier[external_pnic], host=name,
                   physical_network="external")

    if mechanism == "ovs" and l2_agent is not None:
        _ovs_ports(truth, world, host, vedge, otep, ports, networks, carrier)
    if mechanism == "sriov" and data_pnic:
        _sriov_vfs(truth, host, data_pnic, ports, networks, carrier)

    # Which pNIC carries each network on this host; host_pnic-network for networks with ports here.
    def carrier_pnic(network: Network) -> str | None:
        if network.network_type in ("vxlan", "gre"):  # through the NIC that holds the tunneling IP
            return tunnel_pnic if overlay and host.tunnel_ip_configured else None
        if network.physical_network == "external":
            return external_pnic
        return data_pnic

    for network_id in sorted({p.network_id for p in ports}):
        network = networks[network_id]
        pnic = carrier_pnic(network)
        if pnic:
            truth.link("host_pnic-network", host_pnic_id(name, pnic), network.id, carrier[pnic], host=name,
                       segmentation_id=network.segmentation_id, network_type=network.network_type,
                       link_name=f"Segment-{network.segmentation_id}" if network.segmentation_id else "Segment-flat")

    # Linux bridge agent: a bridge per network with a port bound here (with or without a tap left in it),
    # and its way out: a VXLAN device to the endpoint, a VLAN sub-interface or the flat NIC itself.
    if mechanism == "lxb":
        for network_id in sorted({p.network_id for p in ports}):
            _lxb_bridge(truth, host, networks[network_id], otep, carrier_pnic(networks[network_id]), carrier)

    # VMs, their vNICs, and the path from each vNIC to the vedge.
    instances = [i for i in world.instances if i.host == name]
    by_port = {p.id: p for p in ports}
    local_tags: dict[str, int] = {}
    for port in ports:
        local_tags.setdefault(port.network_id, len(local_tags) + 1)
    if instances:
        folder = truth.folder(name, "host", "instances", "instance", name)
        for instance in instances:
            truth.add(TruthObject(instance.id, "instance", instance.name, folder, "folder", name, {
                "local_name": instance.libvirt_name, "project_id": instance.project_id,
                "vm_state": instance.vm_state}))
            vnics = truth.folder(instance.id, "instance", "vnics", "vnic", name)
            for port_id in instance.port_ids:
                found = by_port.get(port_id)
                if found is None:
                    continue
                port = found
                vid = vnic_id(name, port.mac_address)
                truth.add(TruthObject(vid, "vnic", _vnic_name(mechanism, port), vnics, "folder", name, {
                    "mac_address": port.mac_address, "port_id": port.id, "network_id": port.network_id,
                    "mtu": port.mtu or networks[port.network_id].mtu}))
                truth.link("instance-vnic", instance.id, vid, instance.power_state == 1, host=name)
                _vnic_path(truth, world, mechanism, name, vedge, port, networks[port.network_id], local_tags,
                           vid, carrier, carrier_pnic(networks[port.network_id]), otep)

    # Network services (DHCP and router namespaces) and their vNICs.
    services = [p for p in ports if not p.device_owner.startswith("compute:")
                and (p.device_owner != "network:dhcp" or networks[p.network_id].dhcp_namespace_present)]
    if services:
        folder = truth.folder(name, "host", "vservices", "vservice", name)
        for port in services:
            dhcp = port.device_owner == "network:dhcp"
            namespace = (names.dhcp_namespace(port.network_id) if dhcp else names.router_namespace(port.device_id))
            service_id = vservice_id(name, namespace)
            if service_id not in truth.objects:
                truth.add(TruthObject(service_id, "vservice", namespace, folder, "folder", name, {
                    "service_type": "dhcp" if dhcp else "router",
                    "network_id": port.network_id if dhcp else None, "router_id": None if dhcp else port.device_id}))
            vnics = truth.folder(service_id, "vservice", "vnics", "vnic", name)
            vid = vnic_id(name, port.mac_address)
            truth.add(TruthObject(vid, "vnic", service_device_name(mechanism, port), vnics, "folder", name, {
                "mac_address": port.mac_address, "port_id": port.id, "network_id": port.network_id}))
            truth.link("vservice-vnic", service_id, vid, host=name, network=port.network_id)
            _vnic_path(truth, world, mechanism, name, vedge, port, networks[port.network_id], local_tags, vid,
                       carrier, carrier_pnic(networks[port.network_id]), otep)


def _data_pnic(host: Host) -> str | None:
    """The NIC (or bond) that carries tenant traffic: tunnels or the provider network."""
    bond = next((b.name for b in host.bonds if b.role in ("tunnel", "provider")), None)
    return bond or next((n.name for n in host.nics if n.role in ("tunnel", "provider") and not n.bond), None)


def _tunnel_pnic(host: Host) -> str | None:
    """The NIC (or bond) tunnel packets leave by: under the installer's bridge when the tunnel IP is on one
    (the bridge, and a VLAN sub-interface, are not objects of the model), else the data NIC or bond."""
    return host.tunnel_bridge.lower if host.tunnel_bridge is not None else _data_pnic(host)


def _vnic_name(mechanism: str, port: Port) -> str:
    return names.tap_name(port.id) if mechanism in ("ovs", "lxb") else port.mac_address


def service_device_name(mechanism: str, port: Port) -> str:
    if port.device_owner == "network:dhcp":
        return names.ns_port_name(port.id) if mechanism == "lxb" else names.tap_name(port.id)
    if port.device_owner == "network:router_gateway":
        return names.router_gateway_name(port.id)
    return names.router_interface_name(port.id)


def _vnic_path(truth: Truth, world: World, mechanism: str, host: str, vedge: str, port: Port, network: Network,
               local_tags: dict[str, int], vid: str, carrier: dict[str, bool], uplink: str | None,
               otep: str | None) -> None:
    """The links from a vNIC to its host's vedge (and, for LXB, the bridge's uplink)."""
    if port.switch_port == "missing":
        return  # nothing on the host connects the vNIC: no link to find
    up = port.switch_port == "up"
    instance_port = port.device_owner.startswith("compute:")
    def connector(connector_id: str, name: str) -> None:
        folder = truth.folder(host, "host", "vconnectors", "vconnector", host)
        truth.add(TruthObject(connector_id, "vconnector", name, folder, "folder", host, {"network_id": network.id}))

    if mechanism == "ovs":
        tag = local_tags[network.id] + port.vlan_tag_offset
        if instance_port and world.firewall == "hybrid":
            qbr = vconnector_id(host, names.qbr_name(port.id))
            connector(qbr, names.qbr_name(port.id))
            truth.link("vnic-vconnector", vid, qbr, host=host, network=network.id)
            truth.link("vconnector-vedge", qbr, vedge, up, host=host, network=network.id, vlan_tag=tag)
            qvo = vedge_port_id(host, "br-int", names.qvo_name(port.id))
            truth.link("vconnector-vedge_port", qbr, qvo, up, host=host, network=network.id)
            members = truth.folder(qbr, "vconnector", "members", "vconnector_member", host)
            qvb = vconnector_member_id(host, names.qbr_name(port.id), names.qvb_name(port.id))
            truth.add(TruthObject(qvb, "vconnector_member", names.qvb_name(port.id), members, "folder", host, {
                # the port down takes both veth ends' carrier: the qvb end, itself up, is lowerlayerdown
                "member_type": "veth", "link_state": "up" if up else "lowerlayerdown", "network_id": network.id}))
            truth.link("vconnector-vconnector_member", qbr, qvb, host=host, network=network.id)
            truth.link("vconnector_member-vedge_port", qvb, qvo, up, host=host, network=network.id)
        else:
            truth.link("vnic-vedge", vid, vedge, up, host=host, network=network.id, vlan_tag=tag)
            device = vm_port_name(world, port) if instance_port else service_device_name("ovs", port)
            truth.link("vnic-vedge_port", vid, vedge_port_id(host, "br-int", device), up, host=host,
                       network=network.id)
    elif mechanism == "lxb":
        brq = vconnector_id(host, names.brq_name(network.id))
        truth.link("vnic-vconnector", vid, brq, up, host=host, network=network.id)
    elif mechanism == "vpp":
        bd_id = network.segmentation_id or 1
        bd = vconnector_id(host, f"bd-{bd_id}")
        if bd not in truth.objects:
            connector(bd, f"bd-{bd_id}")
            truth.link("vconnector-vedge", bd, vedge, host=host, network=network.id)
        truth.link("vnic-vconnector", vid, bd, up, host=host, network=network.id)
    elif mechanism == "sriov":
        vlan = (network.segmentation_id or 0) + port.vlan_tag_offset
        truth.link("vnic-vedge", vid, vedge, up, host=host, network=network.id, vlan_tag=vlan)
        vf = next((o.id for o in truth.objects.values() if o.type == "vf" and o.host == host
                   and o.attributes["port_id"] == port.id), None)
        if vf is not None:
            truth.link("vnic-vf", vid, vf, up, host=host, network=network.id, vlan_tag=vlan)


def _ovs_ports(truth: Truth, world: World, host: Host, vedge: str, otep: str | None, ports: list[Port],
               networks: dict[str, Network], carrier: dict[str, bool]) -> None:
    """Open vSwitch's ports on a host as the OVS agent and os-vif make them: br-int with the VMs' and
    services' ports (and, with tunnels, br-tun with a tunnel port per peer, joined by patch ports), a
    provider bridge per physical network with its NIC and the patch pair to br-int; each bridge's own
    internal port (down: the agents never set it up)."""
    name = host.name
    folder = truth.folder(vedge, "vedge", "ports", "vedge_port", name)

    def port(bridge: str, device: str, kind: str, link_state: str = "up", admin_state: str | None = "up",
             **attributes: Any) -> str:
        pid = vedge_port_id(name, bridge, device)
        truth.add(TruthObject(pid, "vedge_port", device, folder, "folder", name, {
            "bridge": bridge, "port_type": kind, "link_state": link_state, "admin_state": admin_state,
            **attributes}))
        return pid

    def own(bridge: str) -> None:
        truth.link("vedge_port-vedge", port(bridge, bridge, "internal", "down", "down"), vedge, host=name)

    def patch(bridge: str, device: str, peer_bridge: str, peer: str) -> None:
        one = port(bridge, device, "patch", peer=peer)
        two = port(peer_bridge, peer, "patch", peer=device)
        for a, b in ((one, two), (two, one)):
            truth.link("vedge-vedge_port", vedge, a, host=name)
            truth.link("vedge_port-vedge_port", a, b, host=name)

    own("br-int")
    overlay = world.type_driver in ("vxlan", "gre")
    if overlay and host.tunnel_ip:
        own("br-tun")
        patch("br-int", "patch-tun", "br-tun", "patch-int")
        # no tunnel port to a peer whose port was taken out (fault tunnel_port_missing)
        skip = {host.tunnel_ip, *host.tunnel_ports_missing}
        for remote in (h.tunnel_ip for h in world.hosts if h.tunnel_ip and h.tunnel_ip not in skip):
            tunnel = port("br-tun", names.ovs_tunnel_port_name(world.type_driver, remote), world.type_driver,
                          remote_ip=remote)
            truth.link("vedge-vedge_port", vedge, tunnel, host=name)
            if otep:
                truth.link("vedge_port-otep", tunnel, otep, host=name, remote_ip=remote)
    physnets = [] if overlay else ["physnet1"]
    if any(networks[p.network_id].external for p in ports) or "network" in host.roles:
        physnets.append("external")
    for physnet in physnets:
        short = "ex" if physnet == "external" else physnet
        bridge = f"br-{short}"
        own(bridge)
        patch("br-int", f"int-br-{short}", bridge, f"phy-br-{short}")
        uplink = next((n.name for n in host.nics if n.physical_network == physnet and not n.bond), None)
        uplink = uplink or next((b.name for b in host.bonds if b.physical_network == physnet), None)
        if uplink:
            nic = port(bridge, uplink, "system", "up" if carrier[uplink] else "down")
            truth.link("vedge-vedge_port", vedge, nic, host=name)
            truth.link("vedge_port-host_pnic", nic, host_pnic_id(name, uplink), carrier[uplink], host=name)

    tags: dict[str, int] = {}
    for neutron in ports:
        tags.setdefault(neutron.network_id, len(tags) + 1)
    for neutron in ports:
        network = networks[neutron.network_id]
        instance_port = neutron.device_owner.startswith("compute:")
        if neutron.switch_port == "missing" or (neutron.device_owner == "network:dhcp"
                                                 and not network.dhcp_namespace_present):
            continue
        device = vm_port_name(world, neutron) if instance_port else service_device_name("ovs", neutron)
        tag = tags[network.id] + neutron.vlan_tag_offset
        # a service's internal port lives in its namespace: the scanner reads its state there, without an
        # admin state (ovs-vswitchd cannot see the device)
        pid = port("br-int", device, "system" if instance_port else "internal",
                   "up" if neutron.switch_port == "up" else "down", vlan_tag=tag, port_id=neutron.id,
                   network_id=network.id, **({} if instance_port else {"admin_state": None}))
        truth.link("vedge_port-vedge", pid, vedge, host=name, network=network.id, vlan_tag=tag)


def _lxb_bridge(truth: Truth, host: Host, network: Network, otep: str | None, uplink: str | None,
                carrier: dict[str, bool]) -> None:
    """A Linux bridge agent's bridge for a network, and its way out: the VXLAN device to the tunnel endpoint,
    the VLAN sub-interface on the NIC, or the flat NIC itself."""
    name = host.name
    bridge = names.brq_name(network.id)
    brq = vconnector_id(name, bridge)
    folder = truth.folder(name, "host", "vconnectors", "vconnector", name)
    truth.add(TruthObject(brq, "vconnector", bridge, folder, "folder", name, {"network_id": network.id}))

    def member(device: str, kind: str, link_state: str, **attributes: Any) -> str:
        members = truth.folder(brq, "vconnector", "members", "vconnector_member", name)
        mid = vconnector_member_id(name, bridge, device)
        truth.add(TruthObject(mid, "vconnector_member", device, members, "folder", name, {
            "member_type": kind, "link_state": link_state, "network_id": network.id, **attributes}))
        truth.link("vconnector-vconnector_member", brq, mid, host=name, network=network.id)
        return mid

    if network.network_type == "vxlan" and otep:
        truth.link("otep-vconnector", otep, brq, host=name, network=network.id,
                   segmentation_id=network.segmentation_id)
        vxlan = member(names.lxb_vxlan_name(network.segmentation_id or 0), "vxlan", "up",
                       vni=network.segmentation_id)
        truth.link("vconnector_member-otep", vxlan, otep, host=name, network=network.id,
                   segmentation_id=network.segmentation_id)
    elif uplink:
        vlan = network.segmentation_id if network.network_type == "vlan" else None
        truth.link("vconnector-host_pnic", brq, host_pnic_id(name, uplink), carrier[uplink], host=name,
                   network=network.id, vlan_tag=vlan)
        if vlan is not None:
            sub = member(f"{uplink}.{vlan}", "vlan", "up" if carrier[uplink] else "lowerlayerdown", vlan_id=vlan,
                         lower=uplink)
            truth.link("vconnector_member-host_pnic", sub, host_pnic_id(name, uplink), carrier[uplink], host=name,
                       network=network.id, vlan_tag=vlan)


def _sriov_vfs(truth: Truth, host: Host, pf: str, ports: list[Port], networks: dict[str, Network],
               carrier: dict[str, bool]) -> None:
    """The SR-IOV agent's VFs: one per `direct` port bound to the host, on the NIC for tenant traffic, numbered
    in the order of those ports (as Nova's PCI tracker hands them out on a fresh host), with the port's MAC and
    its network's VLAN; a port set down is a VF whose link-state is disable. A port whose VF is gone has none."""
    for index, port in enumerate(p for p in ports if p.vnic_type == "direct"):
        if port.switch_port == "missing":
            continue
        folder = truth.folder(host_pnic_id(host.name, pf), "host_pnic", "vfs", "vf", host.name)
        network = networks[port.network_id]
        vid = vf_id(host.name, pf, index)
        truth.add(TruthObject(vid, "vf", f"{pf} vf {index}", folder, "folder", host.name, {
            "pf": pf, "vf_index": index, "mac_address": port.mac_address,
            "vlan": (network.segmentation_id or 0) + port.vlan_tag_offset or None,
            "link_state": "auto" if port.switch_port == "up" else "disable", "spoofchk": True, "trust": False,
            "port_id": port.id, "network_id": network.id}))
        truth.link("vf-host_pnic", vid, host_pnic_id(host.name, pf), carrier[pf], host=host.name)
