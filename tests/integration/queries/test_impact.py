"""Impact and what-if on scanned and projected lab worlds, against the lab's expectations computed
from the world spec alone (lab/expected.py): a host, a data NIC, its bond and a tunnel endpoint."""

from __future__ import annotations

import pytest
from conftest import scan_and_project

from graphmodel.schema import host_pnic_id, otep_id
from lab.expected import expected_impact
from lab.generate import generate_world
from queries.datapath import AnalysisError
from queries.impact import impact, whatif

VARIANTS = [("ovs", "vxlan"), ("ovs", "gre"), ("ovs", "vlan"), ("ovs", "flat"), ("lxb", "vxlan"), ("lxb", "vlan"),
            ("lxb", "flat"), ("vpp", "vlan"), ("vpp", "vxlan"), ("sriov", "vlan")]


@pytest.mark.parametrize(("mechanism", "type_driver"), VARIANTS)
def test_impact_of_a_host_its_nics_and_tunnel_endpoint_equals_the_lab_expectation(  # type: ignore[no-untyped-def]
        mechanism: str, type_driver: str, mongo_db, neo4j_driver, env_name: str) -> None:
    world = generate_world(4, 3, 1 if type_driver == "flat" else 2, mechanism, type_driver, seed=41)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    compute = next(h for h in world.hosts if "compute" in h.roles)
    targets = [compute.name, *(host_pnic_id(compute.name, n.name) for n in compute.nics),
               *(host_pnic_id(compute.name, b.name) for b in compute.bonds)]
    if type_driver in ("vxlan", "gre"):
        targets.append(otep_id(compute.name, type_driver))
    checked = {"down": 0, "degraded": 0}
    for target in targets:
        expected = expected_impact(world, target)
        result = impact(neo4j_driver, env_name, [target])
        assert (result.ids("down"), result.ids("degraded")) == (expected.down, expected.degraded), target
        checked["down"] += bool(expected.down)
        checked["degraded"] += bool(expected.degraded)
        if expected.down:
            assert all(target in a.cause or compute.name in a.cause for a in result.affected if a.type == "instance")
    assert checked["down"] >= 2  # the host and its data NIC at least cut every VM on it
    assert checked["degraded"] == sum(len(b.members) for b in compute.bonds)  # a bond member alone only degrades
    assert compute.bonds or mechanism in ("vpp", "sriov")  # VPP and SR-IOV own their data NIC: no kernel bond


def test_impact_groups_by_project_network_and_host_and_counts_network_services(  # type: ignore[no-untyped-def]
        mongo_db, neo4j_driver, env_name: str) -> None:
    world = generate_world(4, 3, 2, "ovs", "vxlan", seed=42)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    network_node = next(h for h in world.hosts if "network" in h.roles)
    compute = next(h for h in world.hosts if "compute" in h.roles)
    result = impact(neo4j_driver, env_name, [compute.name, network_node.name])
    vms = [i for i in world.instances if i.host == compute.name]
    assert result.ids("down") == sorted(i.id for i in vms)
    services = result.ids("down", kind="vservice")
    assert services and all(s.startswith(f"{network_node.name}/q") for s in services)
    assert sum(c["down"] for c in result.by_host.values()) == len(result.affected)
    projects = {p.id: p.name for p in world.projects}
    assert {k: v["down"] for k, v in result.by_project.items() if k in projects.values()} == {
        projects[p]: sum(1 for i in vms if i.project_id == p) for p in {i.project_id for i in vms}}
    network_names = {n.name for n in world.networks}
    assert set(result.by_network) <= network_names | {"(none)"}
    frame = result.to_frame()
    assert list(frame["vm"]) == [a.id for a in result.affected]


def test_what_if_lists_the_broken_paths_with_the_removed_hops_and_a_network_removal(  # type: ignore[no-untyped-def]
        mongo_db, neo4j_driver, env_name: str) -> None:
    world = generate_world(3, 2, 2, "lxb", "vxlan", seed=43)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    compute = next(h for h in world.hosts if "compute" in h.roles)
    tunnel = otep_id(compute.name, "vxlan")
    result = whatif(neo4j_driver, env_name, [tunnel])
    assert result.vms("down") == sorted(i.id for i in world.instances if i.host == compute.name)
    for path in result.paths:
        assert path.removed_on_path == [tunnel] and tunnel in path.path and path.path[0] == path.vm
        assert path.ways_out_after == 0 < path.ways_out_before

    network = world.networks[0]
    on_network = sorted({p.device_id for p in world.ports
                         if p.network_id == network.id and p.device_owner.startswith("compute:")})
    by_network = whatif(neo4j_driver, env_name, [network.id])
    assert by_network.vms("down") == on_network
    assert {p.network for p in by_network.paths} == {network.id}


def test_unknown_ambiguous_and_folder_targets_are_refused_with_their_names(  # type: ignore[no-untyped-def]
        mongo_db, neo4j_driver, env_name: str) -> None:
    world = generate_world(3, 2, 1, "ovs", "vlan", seed=44)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    with pytest.raises(AnalysisError, match="no object 'nope'"):
        impact(neo4j_driver, env_name, ["nope"])
    with pytest.raises(AnalysisError, match="names .* objects"):
        impact(neo4j_driver, env_name, ["eth0"])  # every host has one
    with pytest.raises(AnalysisError, match="folder"):
        impact(neo4j_driver, env_name, [f"{world.hosts[1].name}/instances"])
    by_name = impact(neo4j_driver, env_name, [world.instances[0].name])
    assert by_name.ids("down") == [world.instances[0].id]
