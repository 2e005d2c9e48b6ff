"""Monitoring a VPP world (the lab's simulated VPP answers vppctl as the reference recordings show it):
a healthy world is all ok (VPP's NICs, vhost-user vNICs and bridge domains are no kernel devices, so the
kernel's checks leave them alone), and a VM's interface taken down in VPP turns its vNIC critical and back."""

from __future__ import annotations

import pytest
from conftest import scan_and_project

from graphmodel.inventory import OBJECTS
from ingest.monitoring.runner import Monitor
from ingest.transport import CallableTransport
from lab.faults import clear_fault, inject_fault
from lab.generate import generate_world
from lab.hosts import LabResponder

pytestmark = pytest.mark.integration


def test_a_vpp_world_is_checked_in_vpp(mongo_db, neo4j_driver, env_name) -> None:  # type: ignore[no-untyped-def]
    from migrations import runner

    runner.apply_mongo(mongo_db)
    world = generate_world(2, 1, 1, "vpp", "vxlan", seed=5)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    monitor = Monitor(mongo_db, env_name, CallableTransport(LabResponder(world)))
    first = monitor.round()
    assert first.changes and [c for c in first.changes if c.status != "ok"] == []
    by_type = {}
    for doc in mongo_db[OBJECTS].find({"environment": env_name, "status_since": {"$exists": True}}):
        by_type.setdefault(doc["type"], set()).update(doc["status_text"].removeprefix("ok: ").split(", "))
    assert "vpp_interface" in by_type["vedge"] and "vpp_interface" in by_type["vnic"]
    assert "vpp_interface" in by_type["host_pnic"] and "link_state" in by_type["host_pnic"]  # VPP's NIC, eth0
    vm = next(i for i in world.instances if i.host != "controller-1")
    fault = inject_fault(world, "ovs_port_down", vm.port_ids[0])
    try:
        monitor.round()
        doc = mongo_db[OBJECTS].find_one({"environment": env_name, "id": fault.root_cause})
        assert doc["type"] == "vnic" and doc["status"] == "critical"
        assert "VPP interface VirtualEthernet" in doc["status_text"] and "administratively down" in doc["status_text"]
    finally:
        clear_fault(world, "ovs_port_down", vm.port_ids[0])
    monitor.round()
    assert mongo_db[OBJECTS].find_one({"environment": env_name, "id": fault.root_cause})["status"] == "ok"
