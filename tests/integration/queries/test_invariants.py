"""Invariants on scanned lab worlds: a clean world of every variant breaks none; each lab fault that
changes what the hosts show is found after a rescan (naming the fault's root cause), and is gone once
the fault is cleared."""

from __future__ import annotations

import pytest
from conftest import scan_and_project

from graphmodel.inventory import OBJECTS, InventoryWriter
from graphmodel.projector import Projector
from graphmodel.schema import vnic_id
from lab.changes import delete_vm
from lab.faults import clear_fault, inject_fault
from lab.generate import generate_world
from lab.world import VARIANTS, World
from queries.invariants import CHECKS, UnknownCheck, invariants
from queries.rca import rca


def vm_port(world: World) -> str:
    """A VM port whose network has another port on the same switch (so a wrong local tag shows)."""
    for instance in world.instances:
        port = world.port(instance.port_ids[0])
        if sum(1 for p in world.ports if p.binding_host == port.binding_host and p.network_id == port.network_id) > 1:
            return port.id
    raise AssertionError("no VM shares its network with another port on its host")


@pytest.mark.parametrize(("mechanism", "type_driver"), VARIANTS)
def test_a_clean_world_breaks_no_invariant(mechanism: str, type_driver: str, mongo_db, neo4j_driver,  # type: ignore[no-untyped-def]
                                           env_name: str) -> None:
    world = generate_world(3, 2, 1 if type_driver == "flat" else 2, mechanism, type_driver, seed=31)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    result = invariants(neo4j_driver, env_name)
    assert result.checks == [c.kind for c in CHECKS]
    assert result.violations == []


# (fault kind, how to name its target in a world, the invariant that must catch it)
FAULTS = {
    ("ovs", "vxlan"): [("mtu_mismatch", "port", "mtu_falling"), ("vlan_tag_mismatch", "port", "vlan_tag"),
                       ("ovs_port_missing", "port", "port_without_switch_port"),
                       ("bond_member_down", "bond_member", "bond_one_live_member"),
                       ("tunnel_unreachable", "host", "tunnel_without_peer")],
    ("lxb", "vxlan"): [("bridge_member_missing", "port", "port_without_switch_port"),
                       ("mtu_mismatch", "port", "mtu_falling"),
                       ("tunnel_unreachable", "host", "tunnel_without_peer")],
    ("sriov", "vlan"): [("vlan_tag_mismatch", "port", "segmentation_id")],
    ("ovs", "vlan"): [("nic_down", "bond_member", "bond_one_live_member"), ("mtu_mismatch", "port", "mtu_falling")],
}


@pytest.mark.parametrize(("mechanism", "type_driver"), list(FAULTS))
def test_each_fault_is_found_and_clears(mechanism: str, type_driver: str, mongo_db, neo4j_driver,  # type: ignore[no-untyped-def]
                                        env_name: str) -> None:
    world = generate_world(3, 2, 1, mechanism, type_driver, seed=31)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    assert invariants(neo4j_driver, env_name).violations == []
    port = vm_port(world)
    host = world.port(port).binding_host
    targets = {"port": port, "host": host, "bond_member": f"{host}/eth1"}
    for kind, target_kind, invariant in FAULTS[(mechanism, type_driver)]:
        fault = inject_fault(world, kind, targets[target_kind])
        scan_and_project(world, mongo_db, neo4j_driver, env_name)
        found = invariants(neo4j_driver, env_name)
        caught = [v for v in found.of_kind(invariant) if fault.root_cause in v.objects]
        assert caught, (kind, fault.root_cause, found.violations)
        assert all(v.evidence and v.severity in ("error", "warning") for v in found.violations)
        # Scoped to hosts: the fault's host sees it, another host does not.
        here = invariants(neo4j_driver, env_name, [invariant], hosts=[host]).of_kind(invariant)
        assert [v.objects for v in here if fault.root_cause in v.objects] == [v.objects for v in caught]
        elsewhere = next(h.name for h in world.hosts if h.name != host)
        assert not [v for v in invariants(neo4j_driver, env_name, [invariant], hosts=[elsewhere]).violations
                    if fault.root_cause in v.objects]
        clear_fault(world, kind, fault.target)
        scan_and_project(world, mongo_db, neo4j_driver, env_name)
        assert invariants(neo4j_driver, env_name).violations == [], f"{kind} left a violation after clearing"


def test_orphan_vnic_and_orphan_tap(mongo_db, neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(2, 1, 1, "ovs", "vxlan", seed=5)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    bridge = mongo_db[OBJECTS].find_one({"environment": env_name, "type": "vconnector"}, {"_id": 0})
    vnic = mongo_db[OBJECTS].find_one({"environment": env_name, "type": "vnic"}, {"_id": 0})
    stray_tap = "tap0123456789a"
    writer = InventoryWriter(mongo_db, env_name)
    writer.write_objects([
        {**{k: v for k, v in bridge.items() if k not in ("environment", "first_seen", "last_seen", "scan_id")},
         "interfaces": [*bridge.get("interfaces", []), stray_tap]},
        {**{k: v for k, v in vnic.items() if k not in ("environment", "first_seen", "last_seen", "scan_id")},
         "id": f"{vnic['host']}/fa:16:3e:ff:ff:ff", "name": "tapffffffffff", "port_id": None,
         "mac_address": "fa:16:3e:ff:ff:ff"}])
    Projector(mongo_db, neo4j_driver, env_name).sync()
    found = invariants(neo4j_driver, env_name, ["orphan_tap"])
    assert found.checks == ["orphan_tap"]
    evidence = {v.objects[0]: v.evidence for v in found.violations}
    assert set(evidence) == {bridge["id"], f"{vnic['host']}/fa:16:3e:ff:ff:ff"}
    assert stray_tap in evidence[bridge["id"]]
    assert "matches no Neutron port" in evidence[f"{vnic['host']}/fa:16:3e:ff:ff:ff"]


def test_an_unknown_check_is_named(neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownCheck, match="no_such_check"):
        invariants(neo4j_driver, env_name, ["no_such_check"])


@pytest.mark.parametrize("mechanism", ["ovs", "lxb"])
def test_tunnels_to_an_address_no_endpoint_holds_and_an_endpoint_no_one_tunnels_to(  # type: ignore[no-untyped-def]
        mechanism: str, mongo_db, neo4j_driver, env_name: str) -> None:
    # A host renumbered its tunneling IP (its agent and its NIC use the new address) while its peers
    # still tunnel to the old one (the world's `tunnel_ip`, from which the lab builds every peer's
    # tunnels): each peer tunnels to an address no endpoint holds, and no one tunnels to the new one.
    world = generate_world(3, 2, 1, mechanism, "vxlan", seed=31)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    assert invariants(neo4j_driver, env_name, ["tunnel_without_peer"]).violations == []
    host = next(h for h in world.hosts if "compute" in h.roles and any(i.host == h.name for i in world.instances))
    old, new = host.tunnel_ip, "192.0.2.99"
    assert old and host.bonds and host.bonds[0].ip
    host.bonds[0].ip = host.bonds[0].ip.replace(old, new)
    agent = next(a for a in world.agents if a.host == host.name and a.configurations.get("tunneling_ip") == old)
    agent.configurations = {**agent.configurations, "tunneling_ip": new}
    scan_and_project(world, mongo_db, neo4j_driver, env_name)

    found = invariants(neo4j_driver, env_name, ["tunnel_without_peer"]).violations
    renumbered = f"{host.name}/otep-vxlan"
    peers = {v.objects[0]: v.evidence for v in found if v.objects != [renumbered]}
    if mechanism == "ovs":  # a full mesh: every endpoint tunnels to every other one
        peer_hosts = {h.name for h in world.hosts if h.tunnel_ip}
    else:  # LXB with l2population: to the hosts with a port on one of its networks
        shared = {p.network_id for p in world.ports if p.binding_host == host.name}
        peer_hosts = {p.binding_host for p in world.ports if p.network_id in shared}
    tunnelling_to_old = {f"{other}/otep-vxlan" for other in peer_hosts} - {renumbered}
    assert tunnelling_to_old and set(peers) == tunnelling_to_old, found
    assert all(f"it tunnels to {old}, which no tunnel endpoint holds" == e for e in peers.values()), found
    alone = [v for v in found if v.objects == [renumbered]]
    assert len(alone) == 1 and alone[0].evidence.endswith(f"endpoints tunnels to {new}"), found
    assert all(v.severity == "error" for v in found)


def _busy_compute(world: World) -> str:
    return max((h.name for h in world.hosts if "compute" in h.roles),
               key=lambda name: sum(1 for i in world.instances if i.host == name))


def test_mtu_falling_blames_the_nic_too_small_and_names_the_vnic(  # type: ignore[no-untyped-def]
        mongo_db, neo4j_driver, env_name: str) -> None:
    world = generate_world(3, 2, 1, "ovs", "vxlan", seed=31)
    host = next(h for h in world.hosts if h.name == _busy_compute(world))
    host.bonds[0].mtu = 1400  # the VMs' network has MTU 1450: 1450 + 50 bytes of VXLAN no longer fit
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    found = invariants(neo4j_driver, env_name, ["mtu_falling"]).violations
    bond = f"{host.name}/bond0"
    vnics = {vnic_id(p.binding_host, p.mac_address): p for p in world.ports
             if p.binding_host == host.name and p.device_owner.startswith("compute:")}
    assert found and {v.objects[1] for v in found} == set(vnics), found
    for violation in found:
        assert violation.blamed == [bond] and violation.culprits == [bond]
        port = vnics[violation.objects[1]]
        assert "MTU 1400" in violation.evidence and f"tap{port.id[:11]}'s MTU 1450" in violation.evidence, violation
    # Root cause from the host's VMs: the NIC, not their vNICs.
    vms = sorted(i.id for i in world.instances if i.host == host.name)
    assert rca(neo4j_driver, env_name, vms).top(1) == [bond]

    # A vNIC larger than its network: the vNIC is blamed, the evidence names the network's MTU, and the
    # NIC (big enough for the network's MTU) is not blamed for what the vNIC should not send.
    host.bonds[0].mtu = 9000
    port = next(iter(vnics.values()))
    fault = inject_fault(world, "mtu_mismatch", port.id)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    found = invariants(neo4j_driver, env_name, ["mtu_falling"]).violations
    assert [v.blamed for v in found] == [[fault.root_cause]], found
    network = world.network(port.network_id)
    assert f"network {network.name}'s MTU {network.mtu}" in found[0].evidence


def test_vlan_tag_blames_the_port_with_the_wrong_tag_and_names_the_networks_tag(  # type: ignore[no-untyped-def]
        mongo_db, neo4j_driver, env_name: str) -> None:
    world = generate_world(2, 3, 1, "ovs", "vxlan", seed=31)
    host = _busy_compute(world)
    ports = [p for p in world.ports if p.binding_host == host and p.device_owner.startswith("compute:")]
    assert len(ports) >= 3 and len({p.network_id for p in ports}) == 1
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    assert invariants(neo4j_driver, env_name, ["vlan_tag"]).violations == []
    tag = {link["vlan_tag"] for link in mongo_db["links"].find({"environment": env_name, "host": host,
                                                                "link_type": "vconnector-vedge"})}
    assert len(tag) == 1
    fault = inject_fault(world, "vlan_tag_mismatch", ports[1].id)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    found = invariants(neo4j_driver, env_name, ["vlan_tag"]).violations
    assert len(found) == 1, found
    # the wrong port (the OVS port qvo that carries the tag), not the network's other ports
    assert found[0].blamed == [fault.root_cause] == [f"{host}/br-int/qvo{ports[1].id[:11]}"]
    assert f"is tag {tag.pop()} ({len(ports) - 1} of its {len(ports)} ports)" in found[0].evidence, found[0]
    # Root cause from a VM whose port is right: the wrong port is still named (it shares their switch).
    others = sorted({p.device_id for p in ports} - {ports[1].device_id})
    assert rca(neo4j_driver, env_name, [ports[1].device_id]).top(1) == [fault.root_cause]
    assert fault.root_cause in rca(neo4j_driver, env_name, others).top(3)

    # Two ports, two tags: no majority tells which is wrong; both are blamed, and the evidence says so.
    clear_fault(world, "vlan_tag_mismatch", ports[1].id)
    for port in ports[2:]:
        delete_vm(world, port.device_id)
    inject_fault(world, "vlan_tag_mismatch", ports[1].id)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    found = invariants(neo4j_driver, env_name, ["vlan_tag"]).violations
    assert len(found) == 1 and {f"{host}/br-int/qvo{p.id[:11]}" for p in ports[:2]} == set(found[0].blamed), found
    assert "no local VLAN of its own" in found[0].evidence
