"""What each lab host holds: interfaces, bridges, OVS, namespaces, libvirt domains, VPP, SR-IOV VFs.

Built from the world spec alone, following what Nova's VIF drivers and Neutron's agents create
on a real host for each mechanism driver. The simulated hosts print it in the real tools'
formats (lab/hosts/), and the real lab builds it from kernel objects (lab/real/); comparing the
two keeps the simulator honest.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field

from graphmodel import conventions as names
from lab.world import Host, Network, Port, World

LXB_VXLAN_PORT = 8472  # the Linux kernel's default VXLAN port, which the Linux bridge agent keeps
OVS_VXLAN_PORT = 4789


@dataclass
class Interface:
    """A Linux network device (as `ip link` shows it)."""

    name: str
    kind: str  # physical, bond, bridge, veth, tap, vxlan, vlan, openvswitch (OVS internal), loopback
    mac: str
    mtu: int = 1500
    index: int = 0
    up: bool = True  # administratively up
    carrier: bool = True
    master: str | None = None  # the bridge, bond or OVS datapath it is enslaved to
    namespace: str | None = None  # None: the host's root namespace
    addresses: list[str] = field(default_factory=list)  # CIDRs
    peer: str | None = None  # veth: the other end's name
    peer_namespace: str | None = None
    vlan_id: int | None = None  # vlan: the tag; parent in `link`
    link: str | None = None  # vlan: parent device; vxlan: underlay device
    vxlan_id: int | None = None
    vxlan_local: str | None = None
    vxlan_port: int | None = None
    speed_mbps: int | None = None  # physical
    bond_mode: str | None = None  # bond
    vfs: list[VirtualFunction] = field(default_factory=list)  # SR-IOV physical function

    @property
    def oper_state(self) -> str:
        if self.kind == "loopback":
            return "UNKNOWN"
        if not self.up or not self.carrier:
            return "DOWN"
        return "UNKNOWN" if self.kind in ("tap", "openvswitch", "vxlan") else "UP"  # the kernel tracks no state for these


@dataclass
class VirtualFunction:
    index: int
    mac: str
    vlan: int
    link_state: str = "auto"
    spoofchk: bool = True  # Neutron's SR-IOV agent: on with port security (the default)
    trust: bool = False  # on only for a port whose binding profile asks for it


@dataclass
class OvsPort:
    """A port of an OVS bridge with its single interface (we never build multi-interface ports)."""

    name: str
    bridge: str
    type: str = ""  # "" (system), internal, patch, vxlan, gre
    tag: int | None = None
    ofport: int = 0
    options: dict[str, str] = field(default_factory=dict)
    external_ids: dict[str, str] = field(default_factory=dict)
    mac_in_use: str = ""
    link_state: str = "up"
    admin_state: str = "up"


@dataclass
class OvsBridge:
    name: str
    ports: list[OvsPort] = field(default_factory=list)
    datapath_type: str = "system"


@dataclass
class DomainInterface:
    """An <interface> of a libvirt domain."""

    type: str  # bridge, ethernet, vhostuser, hostdev
    mac: str
    target: str | None  # tap device; None for hostdev
    source_bridge: str | None = None
    virtualport: str | None = None  # openvswitch when plugged straight into br-int
    interface_id: str | None = None  # the Neutron port id (virtualport parameters)
    vhost_socket: str | None = None
    vlan: int | None = None
    pci_address: str | None = None
    mtu: int | None = None


@dataclass
class Domain:
    name: str  # libvirt name, instance-0000000a
    uuid: str
    state: str  # running, shut off
    display_name: str
    interfaces: list[DomainInterface] = field(default_factory=list)


@dataclass
class VppInterface:
    name: str
    index: int
    up: bool = True
    mac: str | None = None
    bridge_domain: int | None = None  # l2 bridge mode when set, l3 otherwise
    kind: str = "ethernet"  # ethernet, vhost-user, tap, vxlan, sub-interface, local
    port_id: str | None = None  # the Neutron port for vhost-user and tap interfaces
    speed_mbps: int | None = None


@dataclass
class HostState:
    """Everything a simulated (or real) host holds."""

    name: str
    interfaces: list[Interface] = field(default_factory=list)
    ovs_bridges: list[OvsBridge] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    domains: list[Domain] = field(default_factory=list)
    vpp_interfaces: list[VppInterface] = field(default_factory=list)
    mechanism: str = ""

    def interface(self, name: str, namespace: str | None = None) -> Interface | None:
        return next((i for i in self.interfaces if i.name == name and i.namespace == namespace), None)

    def in_namespace(self, namespace: str | None) -> list[Interface]:
        return [i for i in self.interfaces if i.namespace == namespace]


class LabHosts:
    """The host states of one version of a world, each built on first use."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._index = _WorldIndex(world)
        self._hosts = {host.name: host for host in world.hosts}
        self._states: dict[str, HostState] = {}

    def __contains__(self, host_name: str) -> bool:
        return host_name in self._hosts

    def get(self, host_name: str) -> HostState:
        if host_name not in self._states:
            self._states[host_name] = _build_host(self.world, self._hosts[host_name], self._index)
        return self._states[host_name]

    def forget(self, host_name: str) -> None:
        """Drop a built host state (it is built again, the same, on its next use)."""
        self._states.pop(host_name, None)


def host_state(world: World, host_name: str) -> HostState:
    """The devices of one host of the world (builds the world's indexes: use LabHosts for many hosts)."""
    return LabHosts(world).get(host_name)


class _WorldIndex:
    """Lookups over a world that every host build needs."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.networks = {n.id: n for n in world.networks}
        self.ports_by_host: dict[str, list[Port]] = {}
        for port in world.ports:
            self.ports_by_host.setdefault(port.binding_host, []).append(port)
        self.instances = {i.id: i for i in world.instances}
        self.subnet_prefix = {s.id: ipaddress.ip_network(s.cidr).prefixlen for n in world.networks for s in n.subnets}
        self.tunnel_ips = [h.tunnel_ip for h in world.hosts if h.tunnel_ip]

    def cidr(self, port: Port) -> list[str]:
        return [f"{f.ip_address}/{self.subnet_prefix[f.subnet_id]}" for f in port.fixed_ips]


def _l2_mechanism(world: World, host: Host) -> str:
    if world.mechanism_driver == "sriov" and "network" in host.roles:
        return "ovs"
    return world.mechanism_driver


class _Builder:
    """Accumulates a host's devices, numbering interfaces as the kernel would."""

    def __init__(self, name: str, mechanism: str) -> None:
        self.state = HostState(name=name, mechanism=mechanism)
        self.next_index: dict[str | None, int] = {None: 1}  # per namespace (None: the root namespace)

    def add(self, interface: Interface) -> Interface:
        namespace = interface.namespace
        self.next_index.setdefault(namespace, 1)
        interface.index = self.next_index[namespace]
        self.next_index[namespace] += 1
        self.state.interfaces.append(interface)
        return interface

    def veth(self, name: str, peer: str, mac: str, peer_mac: str, mtu: int, namespace: str | None = None,
             peer_namespace: str | None = None) -> tuple[Interface, Interface]:
        one = self.add(Interface(name, "veth", mac, mtu, peer=peer, namespace=namespace, peer_namespace=peer_namespace))
        two = self.add(Interface(peer, "veth", peer_mac, mtu, peer=name, namespace=peer_namespace,
                                 peer_namespace=namespace))
        return one, two

    def namespace(self, name: str) -> None:
        if name not in self.state.namespaces:
            self.state.namespaces.append(name)
            self.add(Interface("lo", "loopback", "00:00:00:00:00:00", 65536, namespace=name))


def derived_mac(seed: str) -> str:
    """A stable locally administered MAC for devices that have no MAC in the spec (veth ends, bridges)."""
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:5], "big")
    return "fe:" + ":".join(f"{(digest >> shift) & 0xff:02x}" for shift in (32, 24, 16, 8, 0))


def _build_host(world: World, host: Host, index: _WorldIndex) -> HostState:
    mechanism = _l2_mechanism(world, host)
    builder = _Builder(host.name, mechanism)
    builder.add(Interface("lo", "loopback", "00:00:00:00:00:00", 65536, addresses=["127.0.0.1/8"]))
    _add_physical(builder, host, mechanism)
    ports = index.ports_by_host.get(host.name, [])
    if mechanism == "ovs":
        _build_ovs(builder, world, host, ports, index)
    elif mechanism == "lxb":
        _build_lxb(builder, world, host, ports, index)
    elif mechanism == "vpp":
        _build_vpp(builder, world, host, ports, index)
    elif mechanism == "sriov":
        _build_sriov(builder, world, host, ports, index)
    _add_domains(builder, world, host, ports, index, mechanism)
    _bridge_addresses(builder.state)
    return builder.state


def _bridge_addresses(state: HostState) -> None:
    """A Linux bridge nobody gave an address takes the lowest MAC of its ports (the kernel's
    br_stp_recalculate_bridge_id); Neutron's agents and os-vif never set one."""
    for bridge in state.interfaces:
        if bridge.kind != "bridge":
            continue
        ports = [i.mac for i in state.interfaces if i.master == bridge.name and i.namespace == bridge.namespace]
        if ports:
            bridge.mac = min(ports)


def _add_physical(builder: _Builder, host: Host, mechanism: str) -> None:
    for nic in host.nics:
        if mechanism == "vpp" and nic.role != "management":
            continue  # VPP owns its data NICs through DPDK: the kernel no longer sees them
        builder.add(Interface(nic.name, "physical", nic.mac, nic.mtu, carrier=nic.carrier, master=nic.bond,
                              addresses=_addresses(host, nic.ip), speed_mbps=nic.speed_mbps))
    for bond in host.bonds:
        if mechanism == "vpp":
            continue
        members = [n for n in host.nics if n.bond == bond.name]
        live = any(n.carrier for n in members)
        builder.add(Interface(bond.name, "bond", bond.mac, bond.mtu, carrier=live, bond_mode=bond.mode,
                              addresses=_addresses(host, bond.ip)))
    if host.tunnel_bridge is not None and mechanism != "vpp":
        _add_tunnel_bridge(builder, host)


def _add_tunnel_bridge(builder: _Builder, host: Host) -> None:
    """The installer's bridge holding the tunnel IP, over the data NIC or bond or its VLAN sub-interface."""
    spec = host.tunnel_bridge
    assert spec is not None
    lower = builder.state.interface(spec.lower)
    if lower is None:
        return
    port = lower
    if spec.vlan is not None:
        port = builder.add(Interface(f"{lower.name}.{spec.vlan}", "vlan", lower.mac, lower.mtu, vlan_id=spec.vlan,
                                     link=lower.name, carrier=lower.carrier))
    builder.add(Interface(spec.name, "bridge", derived_mac(f"{host.name}/{spec.name}"), lower.mtu,
                          addresses=_addresses(host, spec.ip)))
    port.master = spec.name


def _addresses(host: Host, cidr: str | None) -> list[str]:
    """A device's addresses; the tunneling IP is gone under fault tunnel_unreachable."""
    if cidr is None:
        return []
    if not host.tunnel_ip_configured and cidr.split("/")[0] == host.tunnel_ip:
        return []
    return [cidr]


def _local_vlans(ports: list[Port]) -> dict[str, int]:
    """OVS agent: local VLAN tags on br-int, handed out per network in order of first use."""
    tags: dict[str, int] = {}
    for port in ports:
        tags.setdefault(port.network_id, len(tags) + 1)
    return tags


def _provider_bridge(network: Network) -> str:
    return "br-ex" if network.physical_network == "external" else f"br-{network.physical_network}"


def _build_ovs(builder: _Builder, world: World, host: Host, ports: list[Port], index: _WorldIndex) -> None:
    tags = _local_vlans(ports)
    overlay = world.type_driver in ("vxlan", "gre")
    br_int = OvsBridge("br-int")
    bridges = [br_int]
    ofports: dict[str, int] = {}

    def plug(bridge: OvsBridge, port: OvsPort) -> OvsPort:
        ofports[bridge.name] = ofports.get(bridge.name, 0) + 1
        port.ofport = 65534 if port.name == bridge.name else ofports[bridge.name]
        if port.name == bridge.name:
            ofports[bridge.name] -= 1
        port.bridge = bridge.name
        bridge.ports.append(port)
        return port

    def internal(bridge: OvsBridge) -> None:
        mac = derived_mac(f"{host.name}/{bridge.name}")
        plug(bridge, OvsPort(bridge.name, bridge.name, "internal", mac_in_use=mac))
        builder.add(Interface(bridge.name, "openvswitch", mac, up=False))

    internal(br_int)
    has_external = any(index.networks[p.network_id].external for p in ports)
    if overlay and host.tunnel_ip:
        br_tun = OvsBridge("br-tun")
        bridges.append(br_tun)
        internal(br_tun)
        plug(br_int, OvsPort("patch-tun", "br-int", "patch", options={"peer": "patch-int"}))
        plug(br_tun, OvsPort("patch-int", "br-tun", "patch", options={"peer": "patch-tun"}))
        for remote in index.tunnel_ips:
            if remote == host.tunnel_ip or remote in host.tunnel_ports_missing:
                continue
            plug(br_tun, OvsPort(names.ovs_tunnel_port_name(world.type_driver, remote), "br-tun", world.type_driver,
                                 options={"df_default": "true", "egress_pkt_mark": "0", "in_key": "flow",
                                          "local_ip": host.tunnel_ip, "out_key": "flow", "remote_ip": remote}))
    physnets = [] if overlay else ["physnet1"]
    if has_external or "network" in host.roles:
        physnets.append("external")
    for physnet in physnets:
        bridge_name = "br-ex" if physnet == "external" else f"br-{physnet}"
        bridge = OvsBridge(bridge_name)
        bridges.append(bridge)
        internal(bridge)
        short = "ex" if physnet == "external" else physnet
        plug(br_int, OvsPort(f"int-br-{short}", "br-int", "patch", options={"peer": f"phy-br-{short}"}))
        plug(bridge, OvsPort(f"phy-br-{short}", bridge_name, "patch", options={"peer": f"int-br-{short}"}))
        uplink = next((n.name for n in host.nics if n.physical_network == physnet and not n.bond), None)
        uplink = uplink or next((b.name for b in host.bonds if b.physical_network == physnet), None)
        if uplink:
            plug(bridge, OvsPort(uplink, bridge_name))
            nic = builder.state.interface(uplink)
            if nic:
                nic.master = nic.master or "ovs-system"

    for port in ports:
        network = index.networks[port.network_id]
        if port.switch_port == "missing":
            continue
        tag = tags[port.network_id] + port.vlan_tag_offset
        mtu = port.mtu or network.mtu
        external_ids = {"attached-mac": port.mac_address, "iface-id": port.id, "iface-status": "active"}
        state = "down" if port.switch_port == "down" else "up"
        if port.device_owner.startswith("compute:"):
            external_ids["vm-uuid"] = port.device_id
            tap = names.tap_name(port.id)
            tap_mac = "fe" + port.mac_address[2:]
            if world.firewall == "hybrid":
                qbr, qvb, qvo = names.qbr_name(port.id), names.qvb_name(port.id), names.qvo_name(port.id)
                builder.add(Interface(qbr, "bridge", derived_mac(qbr), mtu))
                builder.add(Interface(tap, "tap", tap_mac, mtu, master=qbr))
                one, two = builder.veth(qvb, qvo, derived_mac(qvb), derived_mac(qvo), mtu)
                one.master, two.master = qbr, "ovs-system"
                two.carrier = one.carrier = state == "up"
                plug(br_int, OvsPort(qvo, "br-int", tag=tag, external_ids=external_ids, mac_in_use=two.mac,
                                     link_state=state))
            else:
                builder.add(Interface(tap, "tap", tap_mac, mtu, master="ovs-system", carrier=state == "up"))
                plug(br_int, OvsPort(tap, "br-int", tag=tag, external_ids=external_ids, mac_in_use=tap_mac,
                                     link_state=state))
        elif _service_present(port, index):
            namespace, device = _service_device(port)
            builder.namespace(namespace)
            builder.add(Interface(device, "openvswitch", port.mac_address, mtu, namespace=namespace,
                                  addresses=index.cidr(port), carrier=state == "up"))
            plug(br_int, OvsPort(device, "br-int", "internal", tag=tag, external_ids=external_ids,
                                 mac_in_use=port.mac_address, link_state=state))
    builder.state.ovs_bridges = bridges
    for bridge in bridges:
        # ovs-vswitchd gives a bridge's own port the smallest MTU of its system ports (none: 1500)
        own = builder.state.interface(bridge.name)
        system = [builder.state.interface(p.name) for p in bridge.ports if p.type == ""]
        mtus = [d.mtu for d in system if d is not None]
        if own is not None and mtus:
            own.mtu = min(mtus)


def _service_present(port: Port, index: _WorldIndex) -> bool:
    """False for a DHCP port whose namespace is gone (fault dhcp_namespace_gone)."""
    return port.device_owner != "network:dhcp" or index.networks[port.network_id].dhcp_namespace_present


def _service_device(port: Port) -> tuple[str, str]:
    """The namespace and device name of a DHCP or router port (OVS naming)."""
    if port.device_owner == "network:dhcp":
        return names.dhcp_namespace(port.network_id), names.tap_name(port.id)
    if port.device_owner == "network:router_gateway":
        return names.router_namespace(port.device_id), names.router_gateway_name(port.id)
    return names.router_namespace(port.device_id), names.router_interface_name(port.id)


def _build_lxb(builder: _Builder, world: World, host: Host, ports: list[Port], index: _WorldIndex) -> None:
    bridges: dict[str, Interface] = {}
    for port in ports:
        network = index.networks[port.network_id]
        bridge_name = names.brq_name(network.id)
        mtu = port.mtu or network.mtu
        if bridge_name not in bridges:
            bridges[bridge_name] = builder.add(Interface(bridge_name, "bridge", derived_mac(bridge_name), network.mtu))
            _lxb_uplink(builder, host, network, bridge_name)
        if port.switch_port == "missing":
            continue
        up = port.switch_port == "up"
        tap = names.tap_name(port.id)
        if port.device_owner.startswith("compute:"):
            builder.add(Interface(tap, "tap", "fe" + port.mac_address[2:], mtu, master=bridge_name, carrier=up))
        elif _service_present(port, index):
            namespace, _ = _service_device(port)
            inner = (names.ns_port_name(port.id) if port.device_owner == "network:dhcp"
                     else _service_device(port)[1])
            builder.namespace(namespace)
            outside, inside = builder.veth(tap, inner, derived_mac(tap), port.mac_address, mtu,
                                           peer_namespace=namespace)
            outside.master = bridge_name
            inside.addresses = index.cidr(port)
            outside.carrier = inside.carrier = up


def _lxb_uplink(builder: _Builder, host: Host, network: Network, bridge_name: str) -> None:
    """The bridge's way out: a VXLAN device, a VLAN sub-interface, or the flat NIC itself."""
    if network.network_type == "vxlan" and host.tunnel_ip:
        # the agent's VXLAN devices leave through the device holding local_ip
        data_device = (host.tunnel_bridge.name if host.tunnel_bridge else
                       next(b.name for b in host.bonds) if host.bonds else "eth1")
        builder.add(Interface(names.lxb_vxlan_name(network.segmentation_id or 0), "vxlan",
                              derived_mac(f"{host.name}/vxlan-{network.segmentation_id}"), network.mtu,
                              master=bridge_name, vxlan_id=network.segmentation_id, vxlan_local=host.tunnel_ip,
                              link=data_device, vxlan_port=LXB_VXLAN_PORT))
        return
    uplink = next((n.name for n in host.nics if n.physical_network == network.physical_network and not n.bond), None)
    uplink = uplink or next((b.name for b in host.bonds if b.physical_network == network.physical_network), None)
    if uplink is None:
        return
    parent = builder.state.interface(uplink)
    if network.network_type == "vlan":
        builder.add(Interface(f"{uplink}.{network.segmentation_id}", "vlan", parent.mac if parent else "",
                              parent.mtu if parent else 1500, master=bridge_name, vlan_id=network.segmentation_id,
                              link=uplink, carrier=parent.carrier if parent else True))
    elif parent is not None:
        parent.master = bridge_name


def _build_vpp(builder: _Builder, world: World, host: Host, ports: list[Port], index: _WorldIndex) -> None:
    vpp = builder.state.vpp_interfaces
    vpp.append(VppInterface("local0", 0, up=False, kind="local"))
    next_index = 1
    uplinks: dict[str, VppInterface] = {}
    for nic in host.nics:
        if nic.role == "management":
            continue
        uplinks[nic.name] = VppInterface(nic.name, next_index, up=nic.carrier, mac=nic.mac, speed_mbps=nic.speed_mbps)
        vpp.append(uplinks[nic.name])
        next_index += 1
    uplink = next(iter(uplinks.values()), None)
    domains: dict[str, int] = {}
    vhost = 0
    taps = 0
    for port in ports:
        network = index.networks[port.network_id]
        if network.id not in domains:
            domains[network.id] = network.segmentation_id or 1  # a flat network: VPP's bridge domain 1
            if network.network_type == "vlan" and uplink:
                vpp.append(VppInterface(f"{uplink.name}.{network.segmentation_id}", next_index, up=uplink.up,
                                        bridge_domain=domains[network.id], kind="sub-interface"))
                next_index += 1
            elif network.network_type == "flat":
                carrier = next((n.name for n in host.nics if n.physical_network == network.physical_network), None)
                if carrier in uplinks:
                    uplinks[carrier].bridge_domain = domains[network.id]
            elif network.network_type == "vxlan":
                for remote in index.tunnel_ips:
                    if remote != host.tunnel_ip:
                        vpp.append(VppInterface(f"vxlan_tunnel{next_index}", next_index,
                                                bridge_domain=domains[network.id], kind="vxlan"))
                        next_index += 1
        if port.switch_port == "missing":
            continue
        up = port.switch_port == "up"
        if port.device_owner.startswith("compute:"):
            vpp.append(VppInterface(f"VirtualEthernet0/0/{vhost}", next_index, up=up, mac=port.mac_address,
                                    bridge_domain=domains[network.id], kind="vhost-user", port_id=port.id))
            vhost += 1
        elif _service_present(port, index):
            namespace, device = _service_device(port)
            builder.namespace(namespace)
            builder.add(Interface(device, "tap", port.mac_address, port.mtu or network.mtu, namespace=namespace,
                                  addresses=index.cidr(port), carrier=up))
            # networking-vpp creates the tap with the Neutron port's MAC.
            vpp.append(VppInterface(f"tap{taps}", next_index, up=up, mac=port.mac_address,
                                    bridge_domain=domains[network.id], kind="tap", port_id=port.id))
            taps += 1
        next_index += 1


def _build_sriov(builder: _Builder, world: World, host: Host, ports: list[Port], index: _WorldIndex) -> None:
    pf_name = "eth1"
    pf = builder.state.interface(pf_name)
    if pf is None:
        return
    for number, port in enumerate(p for p in ports if p.vnic_type == "direct"):
        network = index.networks[port.network_id]
        tag = (network.segmentation_id or 0) + port.vlan_tag_offset
        state = {"up": "auto", "down": "disable"}.get(port.switch_port)
        if state is None:
            continue
        pf.vfs.append(VirtualFunction(number, port.mac_address, tag, state))


def _add_domains(builder: _Builder, world: World, host: Host, ports: list[Port], index: _WorldIndex,
                 mechanism: str) -> None:
    by_port = {p.id: p for p in ports}
    # VFs are numbered in the order of the host's direct ports, as _build_sriov hands them out.
    vf_number = {p.id: n for n, p in enumerate(p for p in ports if p.vnic_type == "direct")}
    for instance in world.instances:
        if instance.host != host.name:
            continue
        domain = Domain(instance.libvirt_name, instance.id, "running" if instance.power_state == 1 else "shut off",
                        instance.name)
        for number, port_id in enumerate(instance.port_ids):
            port = by_port.get(port_id)
            if port is None:
                continue
            network = index.networks[port.network_id]
            tap = names.tap_name(port.id)
            if mechanism == "ovs" and world.firewall == "hybrid":
                interface = DomainInterface("bridge", port.mac_address, tap, source_bridge=names.qbr_name(port.id))
            elif mechanism == "ovs":
                interface = DomainInterface("bridge", port.mac_address, tap, source_bridge="br-int",
                                            virtualport="openvswitch", interface_id=port.id)
            elif mechanism == "lxb":
                interface = DomainInterface("bridge", port.mac_address, tap, source_bridge=names.brq_name(network.id))
            elif mechanism == "vpp":
                interface = DomainInterface("vhostuser", port.mac_address, None,
                                            vhost_socket=f"/var/run/vpp/vhost-{port.id[:11]}.sock")
            else:
                interface = DomainInterface("hostdev", port.mac_address, None, vlan=network.segmentation_id,
                                            pci_address=f"0000:05:10.{vf_number.get(port.id, number)}")
            interface.mtu = port.mtu or network.mtu
            domain.interfaces.append(interface)
        builder.state.domains.append(domain)
