"""A host's facts + the OpenStack view -> its objects (pNICs, vNICs, vservices, vconnectors, vedges,
OTEPs) and the links between them, each link with its evidence (pure).

Link state comes from evidence: a NIC's carrier or `Link detected`, an OVS interface's link
state, a tap's carrier, a VF's link state. Every link names its provenance.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from graphmodel.schema import (
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
from graphmodel.tree import folder_document
from ingest.sources.host.facts import HostFacts, InterfaceFact, OvsPortFact, VirtualFunctionFact
from ingest.sources.host.openflow import openflow_attributes
from ingest.sources.host.uplinks import UplinkSetting, declared_uplinks

Document = dict[str, Any]

L2_AGENTS = {"neutron-openvswitch-agent": "ovs", "neutron-linuxbridge-agent": "lxb", "neutron-vpp-agent": "vpp",
             "neutron-sriov-nic-agent": "sriov"}
VEDGE_NAMES = {"ovs": "Open vSwitch", "lxb": "Linux bridge", "vpp": "VPP", "sriov": "SR-IOV NIC switch"}
TUNNEL_TYPES = ("vxlan", "gre", "geneve")  # OVS interface types of tunnel ports
SHORT_ID = 11  # Neutron's device names carry the first 11 characters of an id
FREE_VF_MAC = "00:00:00:00:00:00"  # what a PF lists for a VF nothing has been given to


class OpenStackIndex:
    """Lookups over the OpenStack documents of one scan that every host's transform needs."""

    def __init__(self, docs: Iterable[Document], uplinks: UplinkSetting | None = None) -> None:
        docs = list(docs)
        self.uplinks: UplinkSetting = uplinks or {}  # the environment's declared uplinks (host/uplinks.py)
        self.ports = [d for d in docs if d["type"] == "port"]
        self.port_by_mac = {p["mac_address"]: p for p in self.ports if p.get("mac_address")}
        self.networks = {d["id"]: d for d in docs if d["type"] == "network"}
        self.instances = {d["id"]: d for d in docs if d["type"] == "instance"}
        self.agents: dict[str, list[Document]] = {}
        for agent in (d for d in docs if d["type"] == "network_agent"):
            self.agents.setdefault(agent["host"], []).append(agent)

    def network_by_prefix(self, prefix: str) -> Document | None:
        return next((n for i, n in self.networks.items() if i.startswith(prefix)), None)

    def port_by_prefix(self, prefix: str) -> Document | None:
        return next((p for p in self.ports if p["id"].startswith(prefix)), None)

    def networks_on_host(self, host: str) -> list[Document]:
        ids = sorted({p["network_id"] for p in self.ports if p.get("binding_host") == host})
        return [self.networks[i] for i in ids if i in self.networks]


@dataclass
class HostResult:
    objects: list[Document] = field(default_factory=list)
    links: list[Document] = field(default_factory=list)


#: Follows one vNIC (id, MAC, outside device, network, OVS ports by name, VF VLAN, namespace device) to its
#: vconnector or vedge; ingest/hierarchy.py declares which one runs for which mechanism.
VnicPath = Callable[["HostBuilder", str, str, "str | None", "str | None", "dict[str, OvsPortFact]", "int | None",
                     "str | None"], None]


#: What a host step may need from the steps before it, or produce for those after it (HostBuilder fields).
HostState = Literal["pnic_link", "otep_id"]
Step = TypeVar("Step", bound=Callable[..., Any])


def step(needs: tuple[HostState, ...] = (), produces: tuple[HostState, ...] = ()) -> Callable[[Step], Step]:
    """Declare what a HostBuilder step reads that another step fills in (`needs`) and what it fills in
    (`produces`): ingest/hierarchy.py orders the steps by these, not by where they are declared."""
    def declared(method: Step) -> Step:
        method.needs, method.produces = needs, produces  # type: ignore[attr-defined]
        return method
    return declared


class HostBuilder:
    """Builds one host's objects and links. ingest/hierarchy.py declares which of its methods produce which
    object types and find which links, and runs them in its order for the host's variant (`mechanism`, the
    host's L2 agent; `overlay`, its tunnel type)."""

    def __init__(self, facts: HostFacts, index: OpenStackIndex,
                 vnic_path: Callable[[str | None], VnicPath | None]) -> None:
        self.facts, self.index, self.host = facts, index, facts.host
        self.result = HostResult()
        self.ids: set[str] = set()
        agent = next((a for a in index.agents.get(self.host, []) if a.get("binary") in L2_AGENTS), None)
        self.agent = agent
        self.mechanism = L2_AGENTS[agent["binary"]] if agent else None
        self.config: dict[str, Any] = (agent or {}).get("configurations") or {}
        self.vedge_id = vedge_id(self.host, self.mechanism) if self.mechanism else None
        self.pnic_link: dict[str, bool] = {}
        self.uplinked: set[str] = set()  # LXB bridges whose uplink links are made
        self.otep_id: str | None = None
        self._path_for = vnic_path  # the mechanism's vNIC path finder, as ingest/hierarchy.py declares it

    @property
    def overlay(self) -> str | None:
        """The host's tunnel type (vxlan, gre, geneve) where its agent has a tunneling IP; else None."""
        return self._overlay() if self.config.get("tunneling_ip") else None

    # -- output helpers --------------------------------------------------------------------------

    def add(self, doc: Document) -> None:
        if doc["id"] not in self.ids:
            self.ids.add(doc["id"])
            self.result.objects.append(doc)

    def folder(self, parent_id: str, parent_type: str, folder: str, child_type: str) -> str:
        doc = folder_document(parent_id, parent_type, folder, child_type, self.host)
        self.add(doc)
        return doc["id"]

    def link(self, link_type: str, source: str, target: str, up: bool, evidence: str, **attributes: Any) -> None:
        self.result.links.append({"link_type": link_type, "source_id": source, "target_id": target,
                                  "state": "up" if up else "down", "host": self.host,
                                  "provenance": evidence, **attributes})

    # -- objects ----------------------------------------------------------------------------------

    @step(produces=("pnic_link",))
    def pnics(self) -> None:
        folder = None
        declared = declared_uplinks(self.facts, self.config, self.index.uplinks)  # NICs sysfs cannot tell
        for iface in self.facts.interfaces:
            if iface.namespace is not None or not (iface.physical or iface.kind == "bond" or iface.name in declared):
                continue
            folder = folder or self.folder(self.host, "host", "pnics", "host_pnic")
            detected = iface.link_detected if iface.link_detected is not None else iface.carrier
            self.pnic_link[iface.name] = detected
            doc: Document = {"id": host_pnic_id(self.host, iface.name), "type": "host_pnic", "name": iface.name,
                             "parent_id": folder, "parent_type": "folder", "host": self.host, "mac_address": iface.mac,
                             "link_detected": detected, "mtu": iface.mtu, "speed": iface.speed_mbps}
            if iface.kind == "bond":
                doc["bond_members"] = sorted(iface.bond_members)
            else:
                master = self.facts.interface(iface.master) if iface.master else None
                doc["master"] = master.name if master is not None and master.kind == "bond" else None
            self.add(doc)
        for vpp in self.facts.vpp_interfaces or []:
            if vpp.name == "local0" or "." in vpp.name or vpp.name.startswith(("VirtualEthernet", "tap", "vxlan")):
                continue
            folder = folder or self.folder(self.host, "host", "pnics", "host_pnic")
            detected = vpp.link_up if vpp.link_up is not None else vpp.up
            self.pnic_link[vpp.name] = detected
            self.add({"id": host_pnic_id(self.host, vpp.name), "type": "host_pnic", "name": vpp.name, "parent_id": folder,
                      "parent_type": "folder", "host": self.host, "mac_address": vpp.mac, "link_detected": detected})

    @step()
    def vedge(self) -> None:
        """The host's virtual switch, from its L2 agent (and OVS's datapath and tunnel ports)."""
        if not self.vedge_id:
            return
        folder = self.folder(self.host, "host", "vedges", "vedge")
        vedge = {"id": self.vedge_id, "type": "vedge", "name": VEDGE_NAMES[self.mechanism or ""],
                 "parent_id": folder, "parent_type": "folder", "host": self.host,
                 "agent_type": self.agent["agent_type"],  # type: ignore[index]
                 "mechanism": self.mechanism, "configurations": self.config}
        if self.mechanism == "ovs" and self.facts.datapath_ports is not None:
            vedge["ports"] = [{"name": p.name, "port_no": p.number, "type": p.type}
                              for p in sorted(self.facts.datapath_ports, key=lambda p: (p.number, p.name))]
        if self.mechanism == "ovs" and self.facts.ovs_ports is not None:
            vedge["tunnel_ports"] = [{"name": p.name, "bridge": p.bridge, "type": p.type,
                                      "local_ip": p.options.get("local_ip"), "remote_ip": p.options.get("remote_ip")}
                                     for p in self.facts.ovs_ports if p.type in TUNNEL_TYPES]
        if self.mechanism == "ovs":
            vedge.update(openflow_attributes(self.facts, self.index.networks, self.config))
        self.add(vedge)

    @step(needs=("pnic_link",), produces=("otep_id",))
    def otep(self) -> None:
        """The vedge's tunnel endpoint (the agent's tunneling IP), and the links vedge-otep, otep-host_pnic."""
        tunneling_ip = self.config.get("tunneling_ip")
        overlay = self.overlay
        if not (self.vedge_id and tunneling_ip and overlay):
            return
        otep = otep_id(self.host, overlay)
        folder = self.folder(self.vedge_id, "vedge", "oteps", "otep")
        doc = {"id": otep, "type": "otep", "name": f"{overlay}-{tunneling_ip}", "parent_id": folder,
               "parent_type": "folder", "host": self.host, "overlay_type": overlay, "ip_address": tunneling_ip,
               "udp_port": self._udp_port(overlay)}
        remotes = self._remote_ips(overlay)
        if remotes is not None:
            doc["remote_ips"] = remotes
        self.add(doc)
        self.otep_id = otep
        self.link("vedge-otep", self.vedge_id, otep, True, "agent configuration tunneling_ip")
        self.otep_pnic(otep, tunneling_ip)

    def otep_pnic(self, otep: str, tunneling_ip: str) -> None:
        """otep-host_pnic to each NIC (or bond) the tunnel leaves by: the holder of the tunneling IP, or
        what is under it when the holder is a Linux bridge or a VLAN sub-interface (e.g. br-mesh on
        bond0.50), with the devices passed (`via`) and the VLAN tag the path adds."""
        holder = self._address_holder(tunneling_ip)
        if holder is None:
            return
        for path in underlay_paths(self.facts, holder, self.pnic_link):
            nic, via = path[-1], path[:-1]
            vlans = [i.vlan_id for i in (self.facts.interface(d) for d in via) if i is not None and i.kind == "vlan"]
            evidence = f"{holder} holds the tunneling IP {tunneling_ip}"
            # a NIC holding the address itself: no attributes, so links scanned before this stay unchanged
            path_attributes = {"via": via, "vlan_tag": vlans[-1] if vlans else None} if via else {}
            if via:
                evidence += " and sends through " + " -> ".join([*via[1:], nic])
            self.link("otep-host_pnic", otep, host_pnic_id(self.host, nic), self.pnic_link[nic], evidence,
                      **path_attributes)

    @step(needs=("pnic_link", "otep_id"))
    def vedge_ports(self) -> None:
        """Every port of Open vSwitch (with its interface) as an object under the vedge, linked where traffic
        passes it: a port towards the VMs into the switch (vedge_port-vedge; the link into the port is made
        by the vNIC's path), a port towards the outside out of it (vedge-vedge_port) to what it leads to:
        its patch peer, the tunnel endpoint, the NIC it is."""
        if self.mechanism != "ovs" or not self.vedge_id or self.facts.ovs_ports is None:
            return
        folder = self.folder(self.vedge_id, "vedge", "ports", "vedge_port")
        names = {p.name: p for p in self.facts.ovs_ports}
        neutron_ports = {p["id"]: p for p in self.index.ports}
        for port in self.facts.ovs_ports:
            pid = ovs_port_id(self.host, port)
            port_type = port.type or "system"
            neutron = neutron_ports.get(port.external_ids.get("iface-id", ""))
            nic = port.name if port_type == "system" and port.name in self.pnic_link else None
            self.add({"id": pid, "type": "vedge_port", "name": port.name, "parent_id": folder,
                      "parent_type": "folder", "host": self.host, "bridge": port.bridge, "port_type": port_type,
                      "ofport": port.ofport, "vlan_tag": port.tag, **self._port_states(port),
                      "mtu": self._port_mtu(port),
                      "error": port.error, "peer": port.options.get("peer"),
                      "remote_ip": port.options.get("remote_ip"), "local_ip": port.options.get("local_ip"),
                      "port_id": neutron["id"] if neutron else None,
                      "network_id": neutron["network_id"] if neutron else None,
                      "pnic": host_pnic_id(self.host, nic) if nic else None})
            up = self.port_up(port)
            if port_type == "patch":
                self.link("vedge-vedge_port", self.vedge_id, pid, True, f"patch port {port.name} on {port.bridge}")
                peer = names.get(port.options.get("peer", ""))
                if peer is not None:
                    self.link("vedge_port-vedge_port", pid, ovs_port_id(self.host, peer), up,
                              f"{port.name} options:peer={peer.name} ({peer.bridge})")
            elif port_type in TUNNEL_TYPES:
                self.link("vedge-vedge_port", self.vedge_id, pid, True, f"{port_type} tunnel port {port.name} on "
                          f"{port.bridge}")
                if self.otep_id:
                    self.link("vedge_port-otep", pid, self.otep_id, up, f"{port.name} tunnels from "
                              f"{port.options.get('local_ip', '?')} to {port.options.get('remote_ip', '?')}",
                              remote_ip=port.options.get("remote_ip"))
            elif nic is not None:
                self.link("vedge-vedge_port", self.vedge_id, pid, True, f"NIC {nic} is a port of {port.bridge}")
                self.link("vedge_port-host_pnic", pid, host_pnic_id(self.host, nic), self.pnic_link[nic],
                          f"OVS port {port.name} is the NIC {nic}")
            else:
                self.link("vedge_port-vedge", pid, self.vedge_id, True, f"{port.name} is a port of {port.bridge}"
                          + (f" with tag {port.tag}" if port.tag is not None else ""),
                          network=neutron["network_id"] if neutron else None, vlan_tag=port.tag)

    def _namespaced(self, port: OvsPortFact) -> InterfaceFact | None:
        """The device of an internal port that was moved into a namespace (a qdhcp tap, a qr-/qg- port)."""
        if port.type != "internal":
            return None
        return next((i for i in self.facts.interfaces if i.name == port.name and i.namespace is not None), None)

    def _port_mtu(self, port: OvsPortFact) -> int | None:
        """The MTU of the kernel device an OVS port is (a qvo or tap veth, a NIC, an internal port, in its
        namespace when moved there); none for patch and tunnel ports, which have no device."""
        if port.type in ("patch", *TUNNEL_TYPES):
            return None
        device = self._namespaced(port) or next(
            (i for i in self.facts.interfaces if i.name == port.name and i.namespace is None), None)
        return device.mtu if device is not None else None

    def _port_states(self, port: OvsPortFact) -> dict[str, str | None]:
        """An OVS port's link and admin state: OVSDB's; for an internal port moved into a namespace, which
        ovs-vswitchd cannot see there (it reports it down), the device's own carrier and no admin state."""
        inner = self._namespaced(port)
        if inner is not None:
            return {"link_state": "up" if inner.carrier else "down", "admin_state": None}
        return {"link_state": port.link_state, "admin_state": port.admin_state}

    def port_up(self, port: OvsPortFact) -> bool:
        """Whether an OVS port passes traffic, by its link state (see _port_states)."""
        return self._port_states(port)["link_state"] != "down"

    @step(needs=("pnic_link",))
    def linux_bridges(self) -> None:
        """Neutron's Linux bridges (OVS hybrid qbr<port>, LXB brq<network>) from the host's bridge list, with
        or without a tap in them, and (LXB) their way out."""
        if self.mechanism not in ("ovs", "lxb"):
            return
        for bridge in self.facts.interfaces:
            if bridge.kind == "bridge" and bridge.namespace is None and bridge.name.startswith(("qbr", "brq")):
                connector = self.vconnector(bridge, self._network_of_bridge(bridge.name))
                members = [i for i in self.facts.interfaces if i.master == bridge.name and i.namespace is None]
                self.lxb_uplink(connector, bridge, members, self._network_of_bridge(bridge.name))

    def vconnector(self, bridge: InterfaceFact, network: str | None) -> str:
        """The vconnector object of a Linux bridge (made once); its id."""
        connector = vconnector_id(self.host, bridge.name)
        if connector not in self.ids:
            folder = self.folder(self.host, "host", "vconnectors", "vconnector")
            # A bridge set down stops forwarding while its members keep their carrier: only its own state says so.
            self.add({"id": connector, "type": "vconnector", "name": bridge.name, "parent_id": folder,
                      "parent_type": "folder", "host": self.host, "network_id": network,
                      "interfaces": sorted(i.name for i in self.facts.interfaces if i.master == bridge.name),
                      "admin_state": "up" if bridge.admin_up else "down",
                      "link_state": "up" if bridge.carrier else "down", "mtu": bridge.mtu})
        return connector

    def _overlay(self) -> str | None:
        types = self.config.get("tunnel_types") or []
        if types:
            return str(types[0])
        if self.mechanism == "vpp" and self.config.get("tunneling_ip"):
            return "vxlan"
        return None

    def _udp_port(self, overlay: str) -> int | None:
        if overlay == "gre":
            return None
        ports = {i.vxlan_port for i in self.facts.interfaces if i.kind == "vxlan" and i.vxlan_port}
        return ports.pop() if len(ports) == 1 else 4789

    def _remote_ips(self, overlay: str) -> list[str] | None:
        """The tunnel peers the switch knows: OVS tunnel ports' remote_ip, LXB VXLAN devices' VTEPs (None: VPP,
        whose CLI the scanner reads does not list them)."""
        if self.mechanism == "ovs":
            return sorted({p.options["remote_ip"] for p in self.facts.ovs_ports or []
                           if p.type == overlay and "remote_ip" in p.options})
        if self.mechanism == "lxb":
            return sorted({r for i in self.facts.interfaces if i.kind == "vxlan" and i.namespace is None
                           for r in i.vxlan_remotes})
        return None

    def _address_holder(self, ip: str) -> str | None:
        for iface in self.facts.interfaces:
            if iface.namespace is None and any(a.split("/")[0] == ip for a in iface.addresses):
                return iface.name
        if self.facts.vpp_interfaces is not None:
            # VPP holds the address on an interface of its own, and `show int` does not print
            # addresses: the tunnel leaves through VPP's first hardware uplink.
            uplinks = sorted((v.index, v.name) for v in self.facts.vpp_interfaces if v.name in self.pnic_link)
            return uplinks[0][1] if uplinks else None
        return None

    def _vfs(self) -> list[tuple[InterfaceFact, VirtualFunctionFact]]:
        """The VFs in use (given a MAC) of the host's physical NICs, with their physical function."""
        return [(pf, vf) for pf in self.facts.interfaces if pf.namespace is None and pf.name in self.pnic_link
                for vf in pf.vfs if vf.mac and vf.mac != FREE_VF_MAC]

    @step(needs=("pnic_link",))
    def vfs(self) -> None:
        """SR-IOV virtual functions in use, each under its physical function (the host_pnic) and linked to it
        (vf-host_pnic: the PF's link); a free VF (no MAC) is left out: a PF may list 64 of them."""
        for pf, vf in self._vfs():
            folder = self.folder(host_pnic_id(self.host, pf.name), "host_pnic", "vfs", "vf")
            port = self.index.port_by_mac.get(vf.mac)
            vid = vf_id(self.host, pf.name, vf.index)
            self.add({"id": vid, "type": "vf", "name": f"{pf.name} vf {vf.index}", "parent_id": folder,
                      "parent_type": "folder", "host": self.host, "pf": pf.name, "vf_index": vf.index,
                      "mac_address": vf.mac, "vlan": vf.vlan, "qos": vf.qos, "spoofchk": vf.spoofchk,
                      "trust": vf.trust, "link_state": vf.link_state, "port_id": port["id"] if port else None,
                      "network_id": port["network_id"] if port else None})
            self.link("vf-host_pnic", vid, host_pnic_id(self.host, pf.name), self.pnic_link[pf.name],
                      f"VF {vf.index} of {pf.name} (ip link: vf {vf.index} MAC {vf.mac})")

    # -- paths from vNICs ----------------------------------------------------------------------------

    @step(needs=("pnic_link",))
    def instance_vnics(self) -> None:
        """The vNICs of the VMs Nova places here (libvirt domains by uuid), each followed to its switch."""
        ovs_by_name = {p.name: p for p in self.facts.ovs_ports or []}
        for domain in self.facts.domains:
            instance = self.index.instances.get(domain.uuid)
            if instance is None:
                continue  # a domain Nova does not know: not ours to place
            vnics = self.folder(instance["id"], "instance", "vnics", "vnic")
            for di in domain.interfaces:
                port = self.index.port_by_mac.get(di.mac)
                tap = self.facts.interface(di.target) if di.target else None
                vid = vnic_id(self.host, di.mac)
                network = port["network_id"] if port else None
                mtu = tap.mtu if tap is not None else di.mtu
                self.add({"id": vid, "type": "vnic", "name": di.target or di.mac, "parent_id": vnics,
                          "parent_type": "folder", "host": self.host, "mac_address": di.mac,
                          "port_id": port["id"] if port else None, "network_id": network, "mtu": mtu})
                self.link("instance-vnic", instance["id"], vid, domain.state == "running",
                          f"libvirt domain {domain.name} interface {di.mac}")
                self._vnic_path(vid, di.mac, di.target, network, ovs_by_name, di.vlan)

    @step(needs=("pnic_link",))
    def vservices(self) -> None:
        """DHCP and router namespaces, their vNICs, each followed to its switch."""
        ovs_by_name = {p.name: p for p in self.facts.ovs_ports or []}
        for namespace in self.facts.namespaces:
            if not namespace.startswith(("qdhcp-", "qrouter-")):
                continue
            devices = [i for i in self.facts.interfaces if i.namespace == namespace and i.kind != "loopback"
                       and i.name != "lo"]
            folder = self.folder(self.host, "host", "vservices", "vservice")
            service_id = vservice_id(self.host, namespace)
            dhcp = namespace.startswith("qdhcp-")
            self.add({"id": service_id, "type": "vservice", "name": namespace, "parent_id": folder,
                      "parent_type": "folder", "host": self.host, "service_type": "dhcp" if dhcp else "router",
                      "network_id": namespace.removeprefix("qdhcp-") if dhcp else None,
                      "router_id": None if dhcp else namespace.removeprefix("qrouter-")})
            vnics = self.folder(service_id, "vservice", "vnics", "vnic")
            for device in devices:
                if not device.mac:
                    continue
                port = self.index.port_by_mac.get(device.mac)
                vid = vnic_id(self.host, device.mac)
                network = port["network_id"] if port else None
                self.add({"id": vid, "type": "vnic", "name": device.name, "parent_id": vnics, "parent_type": "folder",
                          "host": self.host, "mac_address": device.mac, "port_id": port["id"] if port else None,
                          "network_id": network, "mtu": device.mtu})
                self.link("vservice-vnic", service_id, vid, device.carrier,
                          f"{device.name} in namespace {namespace}" + ("" if device.carrier else " (no carrier)"),
                          network=network)
                # LXB and VPP: the namespace end is a veth/tap whose other end carries the traffic.
                outside = self._outside_end(device, port)
                self._vnic_path(vid, device.mac, outside, network, ovs_by_name, None, service_device=device.name)

    def _outside_end(self, device: InterfaceFact, port: Document | None) -> str | None:
        if device.peer:
            return device.peer
        if port is not None:
            tap = f"tap{port['id'][:SHORT_ID]}"
            if self.facts.interface(tap) is not None:
                return tap
        return None

    def _vnic_path(self, vid: str, mac: str, device: str | None, network: str | None,
                   ovs_by_name: dict[str, OvsPortFact], vf_vlan: int | None, service_device: str | None = None) -> None:
        """Follow a vNIC to its vconnector or vedge by the path finder declared for the host's mechanism."""
        path = self._path_for(self.mechanism)
        if path is not None:
            path(self, vid, mac, device, network, ovs_by_name, vf_vlan, service_device)

    def vf_path(self, vid: str, mac: str, device: str | None, network: str | None,
                ovs_by_name: dict[str, OvsPortFact], vf_vlan: int | None, service_device: str | None = None) -> None:
        """SR-IOV: the VF of a physical function whose MAC is the vNIC's: vnic-vf, and vnic-vedge as its
        summary (the VF is a port of the NIC's embedded switch). Up unless the VF's link is forced down."""
        for pf, vf in self._vfs():
            if vf.mac.lower() == mac.lower():
                evidence = f"VF {vf.index} of {pf.name} has MAC {mac}; link-state {vf.link_state}"
                up = vf.link_state != "disable"
                self.link("vnic-vedge", vid, self.vedge_id, up, evidence,  # type: ignore[arg-type]
                          network=network, vlan_tag=vf.vlan)
                self.link("vnic-vf", vid, vf_id(self.host, pf.name, vf.index), up, evidence, network=network,
                          vlan_tag=vf.vlan)

    def vpp_path(self, vid: str, mac: str, device: str | None, network: str | None,
                 ovs_by_name: dict[str, OvsPortFact], vf_vlan: int | None, service_device: str | None = None) -> None:
        """VPP: the interface with the vNIC's MAC and its bridge domain (vnic-vconnector)."""
        vpp = next((v for v in self.facts.vpp_interfaces or [] if v.mac == mac and v.bridge_domain is not None),
                   None)
        if vpp is not None:
            bd = self.bridge_domain(vpp.bridge_domain, network)  # type: ignore[arg-type]
            self.link("vnic-vconnector", vid, bd, vpp.up, f"VPP {vpp.name} (MAC {mac}) is in bridge domain "
                      f"{vpp.bridge_domain}", network=network)

    def kernel_path(self, vid: str, mac: str, device: str | None, network: str | None,
                    ovs_by_name: dict[str, OvsPortFact], vf_vlan: int | None,
                    service_device: str | None = None) -> None:
        """OVS and Linux bridge: the tap's bridge (hybrid qbr, LXB brq), else the OVS port it is."""
        iface = self.facts.interface(device) if device else None
        if service_device and self.facts.ovs_ports is not None and service_device in ovs_by_name:
            port = ovs_by_name[service_device]
            self._to_vedge(vid, port, network, f"OVS internal port {port.name} on {port.bridge}")
            return
        if iface is None:
            return
        if iface.master and iface.master != "ovs-system" and self.facts.interface(iface.master) is not None:
            bridge = self.facts.interface(iface.master)
            assert bridge is not None
            if bridge.kind == "bridge":
                self.linux_bridge(vid, iface, bridge, network, ovs_by_name)
                return
        if device in ovs_by_name:
            self._to_vedge(vid, ovs_by_name[device], network, f"{device} is a port of {ovs_by_name[device].bridge}")

    def _to_vedge(self, vid: str, port: OvsPortFact, network: str | None, evidence: str) -> None:
        up = self.port_up(port)
        self.link("vnic-vedge", vid, self.vedge_id, up, evidence, network=network, vlan_tag=port.tag)  # type: ignore[arg-type]
        self.link("vnic-vedge_port", vid, ovs_port_id(self.host, port), up,
                  f"{evidence}; link state {self._port_states(port)['link_state'] or 'unknown'}", network=network)

    def linux_bridge(self, vid: str, tap: InterfaceFact, bridge: InterfaceFact, network: str | None,
                      ovs_by_name: dict[str, OvsPortFact]) -> None:
        bridge_network = network or self._network_of_bridge(bridge.name)
        connector = self.vconnector(bridge, bridge_network)
        self.link("vnic-vconnector", vid, connector, tap.carrier, f"{tap.name} is a member of {bridge.name}",
                  network=network)
        members = [i for i in self.facts.interfaces if i.master == bridge.name and i.namespace is None]
        for member in members:
            # OVS hybrid plug: the qvb veth end in the bridge, its qvo peer a port of br-int.
            peer = _veth_peer(member)
            if member.kind == "veth" and peer in ovs_by_name:
                port = ovs_by_name[peer]
                self.link("vconnector-vedge", connector, self.vedge_id, port.link_state != "down",  # type: ignore[arg-type]
                          f"{member.name} is the veth peer of OVS port {peer}", network=network, vlan_tag=port.tag)
                self.link("vconnector-vedge_port", connector, ovs_port_id(self.host, port), port.link_state != "down",
                          f"{member.name} is the veth peer of OVS port {peer}; OVSDB link_state "
                          f"{port.link_state or 'unknown'}", network=network)
                # the qvb end is a hop of its own: taken out of the bridge, it cuts the way with nothing else changed
                device = self.member(connector, bridge, member, network)
                self.link("vconnector_member-vedge_port", device, ovs_port_id(self.host, port),
                          port.link_state != "down", f"{member.name} is the veth peer of OVS port {peer}",
                          network=network)
        self.lxb_uplink(connector, bridge, members, bridge_network)

    def lxb_uplink(self, connector: str, bridge: InterfaceFact, members: list[InterfaceFact],
                    network: str | None) -> None:
        if self.mechanism != "lxb" or connector in self.uplinked:
            return
        self.uplinked.add(connector)
        for member in members:
            if member.kind == "vxlan":
                otep = otep_id(self.host, "vxlan")
                evidence = f"{member.name} (VNI {member.vxlan_id}, local {member.vxlan_local}) is in {bridge.name}"
                self.link("otep-vconnector", otep, connector, True, evidence, network=network,
                          segmentation_id=member.vxlan_id)
                device = self.member(connector, bridge, member, network)
                self.link("vconnector_member-otep", device, otep, True, evidence, network=network,
                          segmentation_id=member.vxlan_id)
            elif member.kind == "vlan" and member.parent in self.pnic_link:
                evidence = f"{member.name} (VLAN {member.vlan_id} on {member.parent}) is in {bridge.name}"
                self.link("vconnector-host_pnic", connector, host_pnic_id(self.host, member.parent),
                          self.pnic_link[member.parent], evidence, network=network, vlan_tag=member.vlan_id)
                device = self.member(connector, bridge, member, network)
                self.link("vconnector_member-host_pnic", device, host_pnic_id(self.host, member.parent),
                          self.pnic_link[member.parent], evidence, network=network, vlan_tag=member.vlan_id)
            elif member.name in self.pnic_link:
                self.link("vconnector-host_pnic", connector, host_pnic_id(self.host, member.name),
                          self.pnic_link[member.name], f"{member.name} is in {bridge.name}", network=network,
                          vlan_tag=None)

    def member(self, connector: str, bridge: InterfaceFact, device: InterfaceFact, network: str | None) -> str:
        """A Linux bridge's VXLAN device, VLAN sub-interface or veth end as an object, and its membership link;
        its id. Its link state is the kernel's operstate: lowerlayerdown when the device under it (a veth's
        peer) has no carrier and the device itself is administratively up."""
        under = device.parent or (_veth_peer(device) if device.kind == "veth" else None)
        lower = self.facts.interface(under) if under else None
        lower_up = lower is None or self.pnic_link.get(lower.name, lower.carrier)
        state = "up" if device.carrier else "down" if lower_up or not device.admin_up else "lowerlayerdown"
        folder = self.folder(connector, "vconnector", "members", "vconnector_member")
        member_id = vconnector_member_id(self.host, bridge.name, device.name)
        self.add({"id": member_id, "type": "vconnector_member", "name": device.name, "parent_id": folder,
                  "parent_type": "folder", "host": self.host, "member_type": device.kind, "link_state": state,
                  "vni": device.vxlan_id, "local_ip": device.vxlan_local, "vlan_id": device.vlan_id,
                  "lower": device.parent, "network_id": network, "mtu": device.mtu})
        self.link("vconnector-vconnector_member", connector, member_id, True,
                  f"{device.name} is a member of {bridge.name} (ip link: master {bridge.name})", network=network)
        return member_id

    def _network_of_bridge(self, name: str) -> str | None:
        if name.startswith("brq"):
            network = self.index.network_by_prefix(name[3:])
            return network["id"] if network else None
        if name.startswith("qbr"):
            port = self.index.port_by_prefix(name[3:])
            return port["network_id"] if port else None
        return None

    def bridge_domain(self, bd_id: int, network: str | None) -> str:
        connector = vconnector_id(self.host, f"bd-{bd_id}")
        if connector not in self.ids:
            folder = self.folder(self.host, "host", "vconnectors", "vconnector")
            self.add({"id": connector, "type": "vconnector", "name": f"bd-{bd_id}", "parent_id": folder,
                      "parent_type": "folder", "host": self.host, "network_id": network})
            self.link("vconnector-vedge", connector, self.vedge_id, True,  # type: ignore[arg-type]
                      f"VPP bridge domain {bd_id}", network=network)
        return connector

    # -- uplinks ------------------------------------------------------------------------------------

    @step(needs=("pnic_link", "otep_id"))
    def uplinks(self) -> None:
        """vedge-host_pnic for provider networks, and host_pnic-network for networks used here."""
        physnet_nic = self._physnet_nics()
        if self.mechanism in ("ovs", "vpp", "sriov"):
            for physnet, nic in sorted(physnet_nic.items()):
                self.link("vedge-host_pnic", self.vedge_id, host_pnic_id(self.host, nic), self.pnic_link[nic],  # type: ignore[arg-type]
                          f"physical network {physnet} maps to {nic}", physical_network=physnet)
        tunnel_nics: list[str] = []
        if self.otep_id:  # every NIC under the tunnel endpoint (several when a bridge has several ports)
            tunnel_nics = [link["target_id"].split("/", 1)[1] for link in self.result.links
                           if link["link_type"] == "otep-host_pnic"]
        for network in self.index.networks_on_host(self.host):
            if network.get("network_type") in ("vxlan", "gre"):
                nics = tunnel_nics
            else:
                provider_nic = physnet_nic.get(network.get("physical_network") or "")
                nics = [provider_nic] if provider_nic else []
            segmentation = network.get("segmentation_id")
            for nic in nics:
                self.link("host_pnic-network", host_pnic_id(self.host, nic), network["id"], self.pnic_link[nic],
                          f"ports of {network['name']} are bound here and {nic} carries its "
                          f"{network.get('network_type')} traffic", segmentation_id=segmentation,
                          network_type=network.get("network_type"),
                          link_name=f"Segment-{segmentation}" if segmentation else "Segment-flat")

    def _physnet_nics(self) -> dict[str, str]:
        """Physical network -> the pNIC carrying it, from the agent's mappings and the switch's ports."""
        result: dict[str, str] = {}
        if self.mechanism == "ovs":
            ports_by_bridge: dict[str, list[OvsPortFact]] = {}
            for port in self.facts.ovs_ports or []:
                ports_by_bridge.setdefault(port.bridge, []).append(port)
            for physnet, bridge in (self.config.get("bridge_mappings") or {}).items():
                nic = next((p.name for p in ports_by_bridge.get(bridge, []) if p.type == "" and p.name in self.pnic_link),
                           None)
                if nic:
                    result[physnet] = nic
        elif self.mechanism == "lxb":
            result = {k: v for k, v in (self.config.get("interface_mappings") or {}).items() if v in self.pnic_link}
        elif self.mechanism == "vpp":
            result = {k: v for k, v in (self.config.get("physnets") or {}).items() if v in self.pnic_link}
        elif self.mechanism == "sriov":
            for physnet, devices in (self.config.get("device_mappings") or {}).items():
                for device in devices if isinstance(devices, list) else [devices]:
                    if device in self.pnic_link:
                        result[physnet] = device
        return result


def ovs_port_id(host: str, port: OvsPortFact) -> str:
    """An OVS port's object id (graphmodel.schema.vedge_port_id)."""
    return vedge_port_id(host, port.bridge, port.name)


def underlay_paths(facts: HostFacts, device: str, pnics: Collection[str]) -> list[list[str]]:
    """The ways down from a root-namespace device to the pNICs (`pnics`: physical NICs and bonds) under it,
    each as the device names from `device` to the pNIC: a pNIC is its own way; a Linux bridge leads to its
    ports, a VLAN sub-interface to its parent. Anything else (a veth, a VXLAN device, an OVS internal port)
    leads nowhere a scan can see. Pure; cycles in odd facts are cut."""
    def down(name: str, seen: tuple[str, ...]) -> list[list[str]]:
        if name in seen:
            return []
        path = [*seen, name]
        if name in pnics:
            return [path]
        iface = facts.interface(name)
        if iface is None:
            return []
        if iface.kind == "bridge":
            ports = sorted(i.name for i in facts.interfaces if i.master == name and i.namespace is None)
            return [found for port in ports for found in down(port, tuple(path))]
        if iface.kind == "vlan" and iface.parent:
            return down(iface.parent, tuple(path))
        return []
    return down(device, ())


def _veth_peer(device: InterfaceFact) -> str | None:
    """A veth's other end: as `ip -d link` names it, else (OVS hybrid plug) qvo<port> for qvb<port>."""
    return device.peer or (f"qvo{device.name[3:]}" if device.name.startswith("qvb") else None)
