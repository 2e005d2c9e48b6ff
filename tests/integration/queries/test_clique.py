"""Cliques on a scanned and projected lab world: a VM's clique holds its whole path on its host and
nothing of another network; a network's clique reaches every VM on it; user clique types are checked."""

from __future__ import annotations

import pytest
from conftest import scan_and_project

from graphmodel.schema import otep_id, vedge_id
from lab.generate import generate_world
from lab.truth import compute_truth
from queries.clique import CLIQUE_TYPES_COLLECTION, CliqueError, add_clique_type, clique, clique_types


@pytest.mark.parametrize(("mechanism", "type_driver"), [("ovs", "vxlan"), ("lxb", "vlan"), ("vpp", "vxlan"),
                                                        ("sriov", "vlan")])
def test_an_instance_clique_is_its_path_and_stays_on_its_networks(mechanism: str, type_driver: str, mongo_db,  # type: ignore[no-untyped-def]
                                                                  neo4j_driver, env_name: str) -> None:
    world = generate_world(3, 2, 2, mechanism, type_driver, seed=31)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    truth = compute_truth(world)
    instance = world.instances[0]
    ports = [world.port(p) for p in instance.port_ids]
    networks = {p.network_id for p in ports}

    result = clique(neo4j_driver, mongo_db, env_name, instance.id)
    ids = {n["id"] for n in result.nodes}
    assert result.variant["mechanism"] == mechanism and result.variant["type_driver"] == type_driver
    assert set(result.networks) == networks

    vnics = {l.target_id for l in truth.links.values() if l.link_type == "instance-vnic" and l.source_id == instance.id}
    first_hops = {l.target_id for l in truth.links.values()
                  if l.source_id in vnics and l.link_type in ("vnic-vconnector", "vnic-vedge")}
    carriers = {l.source_id for l in truth.links.values()
                if l.link_type == "host_pnic-network" and l.target_id in networks and l.host == instance.host}
    expected = {instance.id, *vnics, *first_hops, *carriers, *networks}
    if mechanism != "lxb":
        expected.add(vedge_id(instance.host, mechanism))
    if type_driver == "vxlan":
        expected.add(otep_id(instance.host, type_driver))
    assert vnics and first_hops and carriers
    assert expected <= ids, expected - ids

    by_id = {n["id"]: n for n in result.nodes}
    assert all(n["host"] == instance.host for n in result.nodes if n["type"] != "network")
    assert {i for i, n in by_id.items() if n["type"] == "network"} == networks
    assert not [n for n in result.nodes if n.get("network_id") and n["network_id"] not in networks]
    assert not [l for l in result.links if l.get("network") and l["network"] not in networks]
    other_vms = {i.id for i in world.instances} - {instance.id}
    assert not ids & other_vms  # not even a neighbour on the same switch and network
    assert {(l["source"], l["target"]) for l in result.links} >= {(instance.id, v) for v in vnics}


def test_a_network_clique_reaches_every_vm_on_it(mongo_db, neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(3, 2, 2, "ovs", "vlan", seed=7)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    network = next(n for n in world.networks if not n.external)
    on_it = {p.device_id for p in world.ports if p.network_id == network.id and p.device_owner.startswith("compute:")}
    result = clique(neo4j_driver, mongo_db, env_name, network.id)
    instances = {n["id"] for n in result.nodes if n["type"] == "instance"}
    assert on_it and instances == on_it
    assert result.clique_type == "network"
    dhcp = {n["id"] for n in result.nodes if n["type"] == "vservice" and n["id"].endswith(f"qdhcp-{network.id}")}
    assert dhcp


def test_clique_types_are_seeded_once_and_users_add_valid_ones(mongo_db, neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    first = clique_types(mongo_db)
    assert {t.name for t in first} >= {"instance", "instance-ovs-vlan", "network", "vservice"}
    assert len(clique_types(mongo_db)) == len(first)  # seeding is idempotent
    assert mongo_db[CLIQUE_TYPES_COLLECTION].count_documents({}) == len(first)
    with pytest.raises(CliqueError, match="built in"):
        add_clique_type(mongo_db, {"name": "instance", "focal_point_type": "instance", "link_types": ["instance-vnic"]})
    with pytest.raises(CliqueError, match="not a link type"):
        add_clique_type(mongo_db, {"name": "mine", "focal_point_type": "instance", "link_types": ["instance-tap"]})

    world = generate_world(2, 1, 1, "ovs", "vxlan", seed=3)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    add_clique_type(mongo_db, {"name": "vm-to-switch", "focal_point_type": "instance", "mechanism_driver": "ovs",
                               "type_driver": "vxlan", "link_types": ["instance-vnic", "vnic-vconnector",
                                                                      "vconnector-vedge"]})
    result = clique(neo4j_driver, mongo_db, env_name, world.instances[0].id)
    assert result.clique_type == "vm-to-switch"  # more specific than the built-in instance-ovs-tunnel
    assert {n["type"] for n in result.nodes} == {"instance", "vnic", "vconnector", "vedge"}
    with pytest.raises(CliqueError, match="no object"):
        clique(neo4j_driver, mongo_db, env_name, "no-such-vm")
