"""Test helper: the HostFacts a perfect fetch would produce for a lab host, read off the lab's host
model. It lets the transform's link finders be checked against the ground truth on every variant
without going through commands and parsers (those are checked by the scan tests)."""

from __future__ import annotations

from ingest.sources.host.facts import (
    DomainFact,
    DomainInterfaceFact,
    HostFacts,
    InterfaceFact,
    OvsPortFact,
    VirtualFunctionFact,
    VppInterfaceFact,
)
from lab.hostmodel import HostState


def facts_from_lab(state: HostState) -> HostFacts:
    bonds = {i.name: [m.name for m in state.interfaces if m.master == i.name] for i in state.interfaces
             if i.kind == "bond"}
    interfaces = [InterfaceFact(
        name=i.name, kind={"physical": None}.get(i.kind, i.kind), mac=i.mac, mtu=i.mtu, carrier=i.up and i.carrier,
        master=i.master, physical=i.kind == "physical", namespace=i.namespace, addresses=list(i.addresses),
        peer=i.peer, vlan_id=i.vlan_id, parent=i.link, vxlan_id=i.vxlan_id, vxlan_local=i.vxlan_local,
        vxlan_port=i.vxlan_port, link_detected=i.carrier if i.kind in ("physical", "bond") else None,
        speed_mbps=i.speed_mbps, bond_members=bonds.get(i.name, []),
        vfs=[VirtualFunctionFact(v.index, v.mac, v.vlan, v.link_state) for v in i.vfs]) for i in state.interfaces]
    ovs = [OvsPortFact(p.name, b.name, p.type, p.tag, dict(p.options), dict(p.external_ids), p.link_state)
           for b in state.ovs_bridges for p in b.ports] if state.mechanism == "ovs" else None
    domains = [DomainFact(d.name, d.uuid, d.state, [DomainInterfaceFact(x.type, x.mac, x.target, x.source_bridge,
                                                                        x.interface_id, x.vlan, x.mtu)
                                                    for x in d.interfaces]) for d in state.domains]
    vpp = [VppInterfaceFact(v.name, v.index, v.up, v.mac, v.bridge_domain, v.up) for v in state.vpp_interfaces] \
        if state.mechanism == "vpp" else None
    return HostFacts(state.name, interfaces, list(state.namespaces), ovs, domains, vpp)
