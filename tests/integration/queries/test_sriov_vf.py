"""An SR-IOV VM's VF on the analyses, after a scan of the lab (issue 12): the path walks vNIC -> VF -> PF
(tests/integration/queries/test_rca_path.py, by lab.expected), so does the VM's clique; taking the VF down
cuts its VM only, and a VF forced down or given the wrong VLAN is the suspect RCA names
first and the object the segmentation invariant blames."""

from __future__ import annotations

from conftest import scan_and_project

from lab.expected import port_vf
from lab.faults import inject_fault
from lab.generate import generate_world
from lab.world import World
from queries.clique import clique
from queries.impact import impact
from queries.invariants import invariants
from queries.rca import rca


def _world_and_vm(seed: int) -> tuple[World, str, str]:
    world = generate_world(4, 3, 2, "sriov", "vlan", seed=seed)
    vm = next(i for i in world.instances if any(o.host == i.host and o.id != i.id for o in world.instances))
    return world, vm.id, vm.port_ids[0]


def test_a_vf_is_on_its_vms_way_out_and_only_its(mongo_db, neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    world, vm, port_id = _world_and_vm(61)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    port = world.port(port_id)
    vf = port_vf(world, world.host(port.binding_host), port)
    pf = vf.rsplit("/", 1)[0]
    found = clique(neo4j_driver, mongo_db, env_name, vm)
    assert found.clique_type == "instance-sriov"
    hops = {(link["source"], link["target"]) for link in found.links}
    vnic = f"{port.binding_host}/{port.mac_address}"
    assert {(vnic, vf), (vf, pf)} <= hops
    assert not {n["id"] for n in found.nodes if n["type"] == "vf"} - {vf}  # not its neighbours' VFs
    result = impact(neo4j_driver, env_name, [vf])
    assert result.ids("down") == [vm]  # its neighbour on the same PF keeps its own VF
    assert any(vf in a.cause for a in result.affected)


def test_rca_and_the_invariant_name_the_vf(mongo_db, neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    world, vm, port_id = _world_and_vm(62)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    port = world.port(port_id)
    vf = port_vf(world, world.host(port.binding_host), port)

    inject_fault(world, "ovs_port_down", port_id)  # SR-IOV: the VF's link-state set to disable
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    first = rca(neo4j_driver, env_name, [vm]).suspects[0]
    assert first.id == vf and any("link-state disable" in e for e in first.evidence), first

    world = generate_world(4, 3, 2, "sriov", "vlan", seed=62)
    inject_fault(world, "vlan_tag_mismatch", port_id)  # the VF's VLAN is not its network's
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    [violation] = [v for v in invariants(neo4j_driver, env_name, ["segmentation_id"]).violations if vf in v.objects]
    assert violation.culprits == [vf] and "vf" in violation.evidence
    first = rca(neo4j_driver, env_name, [vm]).suspects[0]
    assert first.id == vf and any("segmentation_id" in e for e in first.evidence), first
