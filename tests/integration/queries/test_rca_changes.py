"""Recent-change evidence in root cause, on scanned and projected lab worlds: a newer change outranks an
older one; a change that was undone (an object or a link back to its earlier state, a namespace back
after it went away) is no evidence; a link's change (a port's VLAN tag) counts for the port."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import scan_and_project

from graphmodel.inventory import BOOKKEEPING, OBJECTS, InventoryWriter
from graphmodel.projector import Projector, verify
from graphmodel.schema import vnic_id
from lab.faults import clear_fault, inject_fault
from lab.generate import generate_world
from lab.world import World
from queries.rca import RcaResult, rca


def _vm_vnic_and_bond(world: World) -> tuple[str, str, str]:
    vm = next(i for i in world.instances if "compute" in next(h for h in world.hosts if h.name == i.host).roles)
    port = world.port(vm.port_ids[0])
    return vm.id, vnic_id(port.binding_host, port.mac_address), f"{vm.host}/bond0"


def _rewrite(database: Any, environment: str, object_id: str, when: datetime, **changes: Any) -> None:
    """Write an object again with some fields changed, as a writer would at `when`."""
    doc = database[OBJECTS].find_one({"environment": environment, "id": object_id})
    assert doc is not None, object_id
    InventoryWriter(database, environment, clock=lambda: when).write_objects(
        [{**{k: v for k, v in doc.items() if k not in BOOKKEEPING}, **changes}])


def _evidence(result: RcaResult, object_id: str) -> list[str]:
    return next((s.evidence for s in result.suspects if s.id == object_id), [])


def test_a_newer_change_outranks_an_older_one(mongo_db, neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(3, 2, 1, "ovs", "vxlan", seed=61)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    vm, vnic, bond = _vm_vnic_and_bond(world)
    now = datetime.now(UTC)
    _rewrite(mongo_db, env_name, vnic, now - timedelta(hours=20), addresses=["10.9.9.9"])
    _rewrite(mongo_db, env_name, bond, now - timedelta(hours=1), speed=40000)
    Projector(mongo_db, neo4j_driver, env_name).sync()
    result = rca(neo4j_driver, env_name, [vm])
    assert result.top(2) == [bond, vnic], result.rows()[:3]  # the vNIC is nearer the VM: only age ranks the bond first
    assert [e.split(" at ")[0] for e in _evidence(result, bond)] == ["changed recently: changed"]
    scores = {s.id: s.score for s in result.suspects}
    assert scores[bond] > scores[vnic] > 0
    # Outside the window (since: 2 hours ago) the vNIC's change is no evidence at all.
    recent = rca(neo4j_driver, env_name, [vm], since=now - timedelta(hours=2))
    assert not any("changed" in e for e in _evidence(recent, vnic)) and recent.top(1) == [bond]


def test_a_change_undone_is_no_evidence(mongo_db, neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(3, 2, 1, "ovs", "vxlan", seed=61)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    vm, vnic, bond = _vm_vnic_and_bond(world)
    now = datetime.now(UTC)
    before = {k: v for k, v in mongo_db[OBJECTS].find_one({"environment": env_name, "id": vnic}).items()
              if k not in BOOKKEEPING}
    _rewrite(mongo_db, env_name, bond, now - timedelta(hours=5), speed=40000)
    _rewrite(mongo_db, env_name, vnic, now - timedelta(hours=3), addresses=["10.9.9.9"])
    Projector(mongo_db, neo4j_driver, env_name).sync()
    assert rca(neo4j_driver, env_name, [vm]).top(1) == [vnic]  # newer, and nearer
    InventoryWriter(mongo_db, env_name, clock=lambda: now - timedelta(hours=2)).write_objects([before])
    Projector(mongo_db, neo4j_driver, env_name).sync()
    result = rca(neo4j_driver, env_name, [vm])
    assert result.top(1) == [bond], result.rows()[:3]
    assert not any("changed" in e for e in _evidence(result, vnic)), _evidence(result, vnic)
    assert verify(mongo_db, neo4j_driver, env_name).ok


def test_a_links_change_counts_for_its_port_until_it_is_undone(  # type: ignore[no-untyped-def]
        mongo_db, neo4j_driver, env_name: str) -> None:
    world = generate_world(3, 2, 1, "ovs", "vxlan", seed=61)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    vm = next(i for i in world.instances if i.host == next(h.name for h in world.hosts if "compute" in h.roles))
    port = world.port(vm.port_ids[0])
    fault = inject_fault(world, "vlan_tag_mismatch", port.id)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    result = rca(neo4j_driver, env_name, [vm.id])
    assert result.top(1) == [fault.root_cause]
    # the OVS port is named: its tag (the object) and its link into the switch changed
    assert fault.root_cause == f"{port.binding_host}/br-int/qvo{port.id[:11]}"
    changed = [e for e in _evidence(result, fault.root_cause) if e.startswith("changed recently")]
    assert any(f"its vedge_port_vedge link to {port.binding_host}/vedge-ovs changed at" in e for e in changed), \
        _evidence(result, fault.root_cause)
    assert any(e.startswith("changed recently: changed at") for e in changed), _evidence(result, fault.root_cause)
    assert verify(mongo_db, neo4j_driver, env_name).ok

    clear_fault(world, "vlan_tag_mismatch", port.id)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    healed = rca(neo4j_driver, env_name, [vm.id])
    assert all(s.score == 0 for s in healed.suspects), healed.rows()[:3]
    assert verify(mongo_db, neo4j_driver, env_name).ok


def test_a_namespace_back_after_it_went_away_is_no_evidence(  # type: ignore[no-untyped-def]
        mongo_db, neo4j_driver, env_name: str) -> None:
    world = generate_world(3, 2, 1, "ovs", "vxlan", seed=61)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    network = world.networks[0].id
    vms = sorted({p.device_id for p in world.ports if p.network_id == network and p.device_owner.startswith("compute:")})
    fault = inject_fault(world, "dhcp_namespace_gone", network)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    gone = rca(neo4j_driver, env_name, vms)
    assert gone.top(1) == [fault.root_cause] and any(e.startswith("removed recently")
                                                     for e in gone.suspects[0].evidence)
    clear_fault(world, "dhcp_namespace_gone", network)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    back = rca(neo4j_driver, env_name, vms)
    assert not any("recently" in e for s in back.suspects for e in s.evidence), back.rows()[:3]
