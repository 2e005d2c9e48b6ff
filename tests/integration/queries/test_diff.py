"""Diff on a scanned lab world: a change in the lab and a rescan show up between the two scans, and
--around keeps only what is near the given object."""

from __future__ import annotations

import pytest
from conftest import scan_and_project

from graphmodel.schema import host_pnic_id
from lab.changes import boot_vm, delete_vm, rename_vm
from lab.faults import inject_fault
from lab.generate import generate_world
from queries.diff import DiffError, diff


def test_changes_between_two_scans(mongo_db, neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(3, 2, 2, "ovs", "vxlan", seed=11)
    first = scan_and_project(world, mongo_db, neo4j_driver, env_name)
    assert diff(mongo_db, env_name, first.scan_id, "now").changes == []

    renamed, removed = world.instances[0], world.instances[1]
    network = next(n for n in world.networks if not n.external)
    old_name = renamed.name
    removed_macs = [world.port(p).mac_address for p in removed.port_ids]
    rename_vm(world, renamed.id, "renamed-vm")
    delete_vm(world, removed.id)
    boot_vm(world, "new-vm", renamed.host, network.id)
    inject_fault(world, "nic_down", f"{renamed.host}/eth1")
    second = scan_and_project(world, mongo_db, neo4j_driver, env_name)
    booted = next(i for i in world.instances if i.name == "new-vm")

    result = diff(mongo_db, env_name, first.scan_id, second.scan_id)
    changes = {(c.kind, c.key): c for c in result.changes}
    assert changes[("object", renamed.id)].change == "changed"
    assert changes[("object", renamed.id)].fields["name"] == {"old": old_name, "new": "renamed-vm"}
    assert changes[("object", removed.id)].change == "removed"
    assert changes[("object", booted.id)].change == "added"
    nic = changes[("object", host_pnic_id(renamed.host, "eth1"))]
    assert nic.fields["link_detected"] == {"old": True, "new": False}
    assert any(c.kind == "link" and c.change == "removed" and removed.id in c.key for c in result.changes)
    assert any(c.kind == "link" and c.change == "added" and booted.id in c.key for c in result.changes)

    # Around the removed VM, one hop: the VM, its vNICs and their links; not the renamed VM elsewhere.
    near = diff(mongo_db, env_name, first.scan_id, second.scan_id, around=removed.id, hops=1)
    keys = {c.key for c in near.changes}
    assert removed.id in keys and renamed.id not in keys and booted.id not in keys
    one_hop = {removed.id} | {f"{removed.host}/{mac}" for mac in removed_macs}
    assert {c.key for c in near.changes if c.kind == "object"} <= one_hop
    assert all(set(c.key.split("|")[1:]) & one_hop for c in near.changes if c.kind == "link")
    assert len(near.changes) < len(result.changes)

    # Nothing changed after the second scan.
    assert diff(mongo_db, env_name, second.scan_id, "now").changes == []


def test_bad_times_and_objects_are_named(mongo_db, env_name: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DiffError, match="neither a time"):
        diff(mongo_db, env_name, "last tuesday", "now")
    with pytest.raises(DiffError, match="after --to"):
        diff(mongo_db, env_name, "now", "2h")
    with pytest.raises(DiffError, match="no object 'ghost'"):
        diff(mongo_db, env_name, "2h", "now", around="ghost")
