"""The host transform's link finders against the ground truth, on every variant, with and without
faults. Facts come straight from the lab's host model (facts_from_lab), the OpenStack view from the
lab's APIs through openstacksdk; the scan tests check the commands and parsers in between."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest
from conftest import connect_to_lab

from graphmodel.schema import field_type_errors, undeclared_fields
from ingest.hierarchy import host_documents, openstack_documents
from ingest.sources.host.transform import OpenStackIndex
from ingest.sources.openstack.fetch import fetch_openstack
from lab.cloud.server import serve
from lab.cloud.source import StaticWorldSource
from lab.faults import inject_fault
from lab.generate import generate_world
from lab.hostmodel import LabHosts
from lab.truth import compute_truth
from lab.world import VARIANTS, World

sys.path.insert(0, str(Path(__file__).parent))
from facts_from_lab import facts_from_lab  # noqa: E402


def discover(world: World) -> tuple[dict, dict]:  # type: ignore[type-arg]
    with serve(StaticWorldSource(world)) as cloud, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        connection = connect_to_lab(cloud)
        docs = openstack_documents(fetch_openstack(connection, "RegionOne"))
    index, hosts = OpenStackIndex(docs), LabHosts(world)
    objects = {d["id"]: d for d in docs if not (d["type"] == "project" and d["name"] == "admin")}
    links: dict = {}  # type: ignore[type-arg]
    for host in world.hosts:
        result = host_documents(facts_from_lab(hosts.get(host.name)), index)
        for doc in result.objects:
            objects.setdefault(doc["id"], doc)
        for link in result.links:
            links[(link["link_type"], link["source_id"], link["target_id"])] = link
    return objects, links


def assert_equals_truth(world: World) -> None:
    """The documents equal the truth, and each holds exactly what the schema declares for its type, each field
    a value of its declared type."""
    objects, links = discover(world)
    assert [problem for doc in [*objects.values(), *links.values()] for problem in undeclared_fields(doc)] == []
    assert [problem for doc in [*objects.values(), *links.values()] for problem in field_type_errors(doc)] == []
    truth = compute_truth(world)
    assert set(objects) == set(truth.objects)
    for oid, expected in truth.objects.items():
        assert (objects[oid]["type"], objects[oid]["parent_id"]) == (expected.type, expected.parent_id), oid
        for attribute, value in expected.attributes.items():
            if attribute in objects[oid]:
                assert objects[oid][attribute] == value, (oid, attribute)
    assert set(links) == set(truth.links)
    for key, expected in truth.links.items():
        assert links[key]["state"] == expected.state, key
        assert links[key]["provenance"], key


@pytest.mark.parametrize(("mechanism", "type_driver"), VARIANTS)
def test_every_variant_equals_the_truth(mechanism: str, type_driver: str) -> None:
    assert_equals_truth(generate_world(3, 2, 1 if type_driver == "flat" else 2, mechanism, type_driver, seed=4))


@pytest.mark.parametrize(("mechanism", "type_driver", "kind"), [
    ("ovs", "vxlan", "nic_down"), ("ovs", "vlan", "bond_member_down"), ("ovs", "vxlan", "ovs_port_down"),
    ("ovs", "vxlan", "ovs_port_missing"), ("lxb", "vxlan", "tunnel_unreachable"), ("lxb", "vlan", "nic_down"),
    ("ovs", "vxlan", "dhcp_namespace_gone"), ("ovs", "vlan", "vlan_tag_mismatch"), ("sriov", "vlan", "ovs_port_down"),
    ("vpp", "vlan", "ovs_port_down"), ("lxb", "vxlan", "bridge_member_missing"), ("ovs", "gre", "ovs_port_down"),
    ("ovs", "vxlan", "tunnel_port_missing"),
])
def test_faulted_worlds_equal_the_truth(mechanism: str, type_driver: str, kind: str) -> None:
    world = generate_world(3, 2, 2, mechanism, type_driver, seed=4)
    vm = world.instances[0]
    target = {"nic_down": f"{vm.host}/eth1", "bond_member_down": f"{vm.host}/eth1", "tunnel_unreachable": vm.host,
              "dhcp_namespace_gone": world.networks[0].id,
              "tunnel_port_missing": f"{vm.host}/{next(h.name for h in world.hosts if h.name != vm.host)}",
              }.get(kind, vm.port_ids[0])
    inject_fault(world, kind, target)
    assert_equals_truth(world)


# Installer layouts (issue 12): the tunnel IP on a Linux bridge (over the bond's VLAN sub-interface or the
# bond itself), and OVS installed but stopped on the hosts whose L2 agent is not Open vSwitch's.
@pytest.mark.parametrize(("mechanism", "type_driver", "options"), [
    ("lxb", "vxlan", {"tunnel_bridge": "br-mesh", "tunnel_vlan": 50, "ovs_installed_stopped": True}),
    ("ovs", "vxlan", {"tunnel_bridge": "br-mesh", "tunnel_vlan": 50}),
    ("ovs", "gre", {"tunnel_bridge": "br-mesh"}),
    ("sriov", "vlan", {"ovs_installed_stopped": True}),
])
def test_installer_layouts_equal_the_truth(mechanism: str, type_driver: str, options: dict) -> None:  # type: ignore[type-arg]
    world = generate_world(3, 2, 2, mechanism, type_driver, seed=4, **options)
    assert_equals_truth(world)
    if "tunnel_bridge" in options:
        truth = compute_truth(world)
        underlay = {k: l for k, l in truth.links.items() if k[0] == "otep-host_pnic"}
        assert len(underlay) == len(world.hosts)


def test_the_bridged_tunnel_ip_with_its_nic_down_equals_the_truth() -> None:
    world = generate_world(3, 2, 2, "lxb", "vxlan", seed=4, tunnel_bridge="br-mesh", tunnel_vlan=50)
    for nic in world.host("compute-1").nics:
        if nic.bond:
            nic.carrier = False
    assert_equals_truth(world)
    truth = compute_truth(world)
    assert truth.links[("otep-host_pnic", "compute-1/otep-vxlan", "compute-1/bond0")].state == "down"


@pytest.mark.parametrize(("mechanism", "type_driver"), VARIANTS)
def test_the_declared_order_of_host_steps_does_not_change_the_documents(mechanism: str, type_driver: str) -> None:
    """Steps say what they need and produce (transform.step); the hierarchy orders them by that, so a
    shuffled declaration order makes the same documents."""
    import random

    from ingest import hierarchy

    world = generate_world(3, 2, 1 if type_driver == "flat" else 2, mechanism, type_driver, seed=4)
    with serve(StaticWorldSource(world)) as cloud, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        docs = openstack_documents(fetch_openstack(connect_to_lab(cloud), "RegionOne"))
    index, hosts = OpenStackIndex(docs), LabHosts(world)
    facts = {h.name: facts_from_lab(hosts.get(h.name)) for h in world.hosts}

    def made(steps: list) -> dict:  # type: ignore[type-arg]
        found = {}
        for name, host_facts in facts.items():
            result = host_documents(host_facts, index, steps)
            found[name] = (sorted((d["id"], repr(sorted(d.items()))) for d in result.objects),
                           sorted(repr(sorted(link.items())) for link in result.links))
        return found

    declared = made(hierarchy.host_steps())
    shuffler = random.Random(f"{mechanism}-{type_driver}")
    for _ in range(3):
        objects, finders = list(hierarchy.OBJECTS), list(hierarchy.LINK_FINDERS)
        shuffler.shuffle(objects)
        shuffler.shuffle(finders)
        assert made(hierarchy.host_steps(objects, finders)) == declared


def test_host_steps_are_ordered_by_what_they_need_and_refused_when_nothing_produces_it() -> None:
    from ingest.hierarchy import ordered_steps
    from ingest.sources.host.transform import step

    @step(needs=("otep_id",))
    def uses() -> None: ...

    @step(needs=("pnic_link",), produces=("otep_id",))
    def makes() -> None: ...

    @step(produces=("pnic_link",))
    def first() -> None: ...

    assert ordered_steps([uses, makes, first]) == [first, makes, uses]
    with pytest.raises(ValueError, match="uses needs otep_id"):
        ordered_steps([uses, first])
    with pytest.raises(ValueError, match="without @step"):
        ordered_steps([first, lambda: None])
