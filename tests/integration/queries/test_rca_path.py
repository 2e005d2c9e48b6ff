"""Root cause and path on scanned and projected lab worlds: after a lab fault and a rescan, RCA names
the fault's root cause first; a path between two VMs lists the lab's expected hops in order."""

from __future__ import annotations

import pytest
from conftest import scan_and_project

from lab.expected import expected_path
from lab.faults import clear_fault, inject_fault
from lab.generate import generate_world
from lab.world import World
from queries.datapath import AnalysisError
from queries.path import path
from queries.rca import rca

VARIANTS = [("ovs", "vxlan"), ("ovs", "gre"), ("ovs", "vlan"), ("ovs", "flat"), ("lxb", "vxlan"), ("lxb", "vlan"),
            ("lxb", "flat"), ("vpp", "vlan"), ("vpp", "vxlan"), ("sriov", "vlan")]


def _pairs(world: World) -> tuple[tuple[str, str], tuple[str, str] | None]:
    """Two VMs on different hosts sharing a network, and two on one host sharing one (if any)."""
    networks = {i.id: {world.port(p).network_id for p in i.port_ids} for i in world.instances}
    apart = together = None
    for a in world.instances:
        for b in world.instances:
            if a.id < b.id and networks[a.id] & networks[b.id]:
                if a.host != b.host and apart is None:
                    apart = (a.id, b.id)
                if a.host == b.host and together is None:
                    together = (a.id, b.id)
    assert apart is not None
    return apart, together


@pytest.mark.parametrize(("mechanism", "type_driver"), VARIANTS)
def test_path_between_two_vms_lists_the_expected_hops_in_order(  # type: ignore[no-untyped-def]
        mechanism: str, type_driver: str, mongo_db, neo4j_driver, env_name: str) -> None:
    world = generate_world(4, 3, 1 if type_driver == "flat" else 2, mechanism, type_driver, seed=51)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    apart, together = _pairs(world)
    for pair in (apart, together):
        if pair is None:
            continue
        result = path(neo4j_driver, env_name, *pair)
        assert result.ids() == expected_path(world, *pair)
        assert result.healthy, result.rows()
        assert [h.hop for h in result.hops] == list(range(len(result.hops)))
    backwards = path(neo4j_driver, env_name, apart[1], apart[0])
    assert backwards.ids() == list(reversed(path(neo4j_driver, env_name, *apart).ids()))


def test_path_shows_the_down_hop_and_refuses_vms_without_a_shared_network(  # type: ignore[no-untyped-def]
        mongo_db, neo4j_driver, env_name: str) -> None:
    world = generate_world(4, 2, 2, "ovs", "vlan", seed=52)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    apart, _ = _pairs(world)
    vm = next(i for i in world.instances if i.id == apart[0])
    inject_fault(world, "ovs_port_down", vm.port_ids[0])
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    result = path(neo4j_driver, env_name, *apart)
    assert not result.healthy
    assert [h.link_state for h in result.hops].count("down") == 1
    networks = {i.id: {world.port(p).network_id for p in i.port_ids} for i in world.instances}
    strangers = next(((a.id, b.id) for a in world.instances for b in world.instances
                      if not networks[a.id] & networks[b.id]), None)
    if strangers:
        with pytest.raises(AnalysisError, match="share no network"):
            path(neo4j_driver, env_name, *strangers)


FAULTS = ["nic_down", "bond_member_down", "ovs_port_down", "ovs_port_missing", "tunnel_unreachable", "agent_dead",
          "dhcp_namespace_gone", "vlan_tag_mismatch", "mtu_mismatch"]


def fault_target(world: World, kind: str) -> tuple[str, list[str]]:
    """A target for a fault kind on the first compute host, and the VMs a user would start from."""
    compute = next(h for h in world.hosts if "compute" in h.roles and any(i.host == h.name for i in world.instances))
    vms = sorted(i.id for i in world.instances if i.host == compute.name)
    vm = next(i for i in world.instances if i.host == compute.name)
    if kind in ("nic_down", "bond_member_down"):
        nic = next(n for n in compute.nics if n.role in ("tunnel", "provider"))  # a member of the data bond
        return f"{compute.name}/{nic.name}", vms
    if kind == "tunnel_unreachable":
        return compute.name, vms
    if kind == "agent_dead":
        agent = next(a for a in world.agents if a.host == compute.name and "openvswitch" in a.binary)
        return agent.id, vms
    if kind == "dhcp_namespace_gone":
        network = world.port(vm.port_ids[0]).network_id
        return network, sorted({p.device_id for p in world.ports
                                if p.network_id == network and p.device_owner.startswith("compute:")})
    return vm.port_ids[0], [vm.id]


@pytest.mark.parametrize("kind", FAULTS)
def test_rca_names_the_fault_first_after_a_rescan(kind: str, mongo_db, neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(4, 3, 2, "ovs", "vxlan", seed=53)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    target, focal = fault_target(world, kind)
    fault = inject_fault(world, kind, target)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    result = rca(neo4j_driver, env_name, fault.down + fault.degraded or focal)
    assert result.top(1) == [fault.root_cause], [(s.id, s.score, s.evidence) for s in result.suspects[:3]]
    assert result.suspects[0].evidence and result.suspects[0].shared_by >= 1

    clear_fault(world, kind, target)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    healed = rca(neo4j_driver, env_name, focal)
    assert all("failing" not in e and "path ends" not in e and "down link" not in e
               for s in healed.suspects for e in s.evidence), healed.rows()[:3]


def test_rca_without_evidence_lists_the_hops_all_broken_vms_share(mongo_db, neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    # VPP's `show int` prints no addresses: a host's lost tunnel IP leaves no trace in the graph.
    world = generate_world(4, 3, 2, "vpp", "vxlan", seed=53)
    compute = next(h for h in world.hosts if "compute" in h.roles and any(i.host == h.name for i in world.instances))
    fault = inject_fault(world, "tunnel_unreachable", compute.name)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    result = rca(neo4j_driver, env_name, fault.down)
    assert result.summary[0] == "no evidence of a fault on these VMs' paths"
    assert result.suspects and all(s.score == 0 and s.evidence == [
        f"common hop: on the path of all {len(fault.down)} VMs; no fault seen"] for s in result.suspects)
    assert all(s.shared_by == len(fault.down) and s.host == compute.name for s in result.suspects)
    hops = [s.id for s in result.suspects]
    assert fault.root_cause in hops[:3], result.rows()
    assert not set(hops) & set(fault.down)  # the VMs themselves are no suspects
