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
        vfs=[VirtualFunctionFact(v.index, v.mac, v.vlan, v.link_state, v.spoofchk, v.trust) for v in i.vfs])
        for i in state.interfaces]
    ovs = [OvsPortFact(p.name, b.name, p.type, p.tag, dict(p.options), dict(p.external_ids), link, ofport=p.ofport,
                       admin_state=admin)
           for b in state.ovs_bridges for p in b.ports
           for link, admin in [_interface_state(state, p.name, p.type, p.link_state)]] if state.mechanism == "ovs" \
        else None
    domains = [DomainFact(d.name, d.uuid, d.state, [DomainInterfaceFact(x.type, x.mac, x.target, x.source_bridge,
                                                                        x.interface_id, x.vlan, x.mtu)
                                                    for x in d.interfaces]) for d in state.domains]
    vpp = [VppInterfaceFact(v.name, v.index, v.up, v.mac, v.bridge_domain, v.up) for v in state.vpp_interfaces] \
        if state.mechanism == "vpp" else None
    return HostFacts(state.name, interfaces, list(state.namespaces), ovs, domains, vpp)


def _interface_state(state: HostState, name: str, kind: str, link_state: str) -> tuple[str, str]:
    """An OVS interface's link_state and admin_state as ovs-vswitchd reports them (lab/hosts/ovs.py): a
    kernel device's (system, internal) follow the device in the root namespace."""
    device = state.interface(name)
    kernel = kind in ("", "internal")
    if device is None or not kernel:
        return link_state, "up"
    up = link_state == "up" and (device.up if kind == "internal" else True) and device.carrier
    return ("up" if up else "down"), ("up" if device.up else "down")
