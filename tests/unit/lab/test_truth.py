from collections import Counter

import pytest

from graphmodel.schema import LINK_TYPES_BY_NAME, OBJECT_TYPES_BY_NAME, host_pnic_id, vnic_id
from lab.generate import generate_world
from lab.truth import compute_truth
from lab.world import VARIANTS


def world_for(mechanism: str, type_driver: str):  # type: ignore[no-untyped-def]
    return generate_world(3, 2, 1 if type_driver == "flat" else 2, mechanism, type_driver, seed=2)


@pytest.mark.parametrize(("mechanism", "type_driver"), VARIANTS)
def test_truth_is_a_tree_and_links_join_known_objects(mechanism: str, type_driver: str) -> None:
    truth = compute_truth(world_for(mechanism, type_driver))
    for obj in truth.objects.values():
        assert obj.type in OBJECT_TYPES_BY_NAME, obj
        assert obj.parent_id == "environment" or obj.parent_id in truth.objects, obj
    for link in truth.links.values():
        declared = LINK_TYPES_BY_NAME[link.link_type]
        assert truth.objects[link.source_id].type == declared.source, link
        assert truth.objects[link.target_id].type == declared.target, link


@pytest.mark.parametrize(("mechanism", "type_driver"), VARIANTS)
def test_every_vm_reaches_a_physical_nic_of_its_host(mechanism: str, type_driver: str) -> None:
    world = world_for(mechanism, type_driver)
    truth = compute_truth(world)
    neighbours: dict[str, set[str]] = {}
    for link in truth.links.values():
        neighbours.setdefault(link.source_id, set()).add(link.target_id)
        neighbours.setdefault(link.target_id, set()).add(link.source_id)
    for instance in world.instances:
        seen, frontier = {instance.id}, [instance.id]
        while frontier:
            node = frontier.pop()
            for other in neighbours.get(node, ()):
                if other not in seen and truth.objects[other].type != "network":
                    seen.add(other)
                    frontier.append(other)
        pnics = {truth.objects[n].host for n in seen if truth.objects[n].type == "host_pnic"}
        assert pnics == {instance.host}, (instance.name, sorted(seen))


def test_ovs_hybrid_vxlan_has_the_reference_chain() -> None:
    world = world_for("ovs", "vxlan")
    truth = compute_truth(world)
    counts = Counter(link.link_type for link in truth.links.values())
    assert counts["instance-vnic"] == len(world.instances)
    assert counts["vnic-vconnector"] == counts["vconnector-vedge"] == len(world.instances)
    assert counts["vedge-otep"] == counts["otep-host_pnic"] == len(world.hosts)


def test_a_nic_without_carrier_turns_its_links_down() -> None:
    world = world_for("ovs", "vlan")
    host = world.hosts[1]
    for nic in host.nics:
        if nic.bond:
            nic.carrier = False
    truth = compute_truth(world)
    bond = host_pnic_id(host.name, "bond0")
    assert truth.objects[bond].attributes["link_detected"] is False
    touching = [l for l in truth.links.values() if bond in (l.source_id, l.target_id)]
    assert touching and all(l.state == "down" for l in touching)


def test_one_bond_member_down_keeps_the_bond_up() -> None:
    world = world_for("ovs", "vlan")
    world.hosts[1].nics[1].carrier = False
    truth = compute_truth(world)
    assert truth.objects[host_pnic_id(world.hosts[1].name, "bond0")].attributes["link_detected"] is True


def test_a_missing_switch_port_removes_the_vnic_link() -> None:
    world = world_for("ovs", "vxlan")
    instance = world.instances[0]
    port = world.port(instance.port_ids[0])
    port.switch_port = "missing"
    truth = compute_truth(world)
    vnic = vnic_id(instance.host, port.mac_address)
    assert vnic in truth.objects
    assert not [l for l in truth.links.values() if l.source_id == vnic]
