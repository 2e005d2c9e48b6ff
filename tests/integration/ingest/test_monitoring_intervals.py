"""Per-check intervals: a monitor with intervals runs on each host only the checks whose interval has
passed (a host with none due is not contacted), and an object's status stays the worst of its checks'
latest results between their runs. On a scanned lab world; the monitor's clock is a variable."""

from __future__ import annotations

import pytest
from conftest import scan_and_project

from graphmodel.checks import check_intervals
from graphmodel.inventory import OBJECTS
from ingest.monitoring.runner import Monitor
from ingest.transport import CallableTransport
from lab.faults import clear_fault, inject_fault
from lab.generate import generate_world
from lab.hosts import LabResponder

pytestmark = pytest.mark.integration


def test_only_due_checks_run_and_statuses_persist_between_runs(mongo_db, neo4j_driver, env_name) -> None:  # type: ignore[no-untyped-def]
    from migrations import runner

    runner.apply_mongo(mongo_db)
    world = generate_world(2, 1, 1, "ovs", "vxlan", seed=61)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    now = [0.0]
    monitor = Monitor(mongo_db, env_name, CallableTransport(LabResponder(world)),
                      intervals=check_intervals({"link_state": 10}), monotonic=lambda: now[0])
    compute = next(h for h in world.hosts if "compute" in h.roles)
    nic = next(n for n in compute.nics if n.role in ("tunnel", "provider"))
    agent = next(a for a in world.agents if a.host == compute.name and a.binary.endswith("openvswitch-agent"))

    def status(object_id: str) -> str:
        return mongo_db[OBJECTS].find_one({"environment": env_name, "id": object_id})["status"]

    first = monitor.round()  # every check is due on every host
    assert {h.host for h in first.hosts} == {h.name for h in world.hosts} and min(h.sections for h in first.hosts) > 1
    now[0] = 5.0
    assert monitor.round().hosts == []  # nothing due: no host contacted
    inject_fault(world, "agent_dead", agent.id)
    nic_fault = inject_fault(world, "nic_down", f"{compute.name}/{nic.name}")
    try:
        now[0] = 10.0
        link_only = monitor.round()
        assert link_only.hosts and all(h.sections == 1 for h in link_only.hosts)  # `ip -j link` alone
        assert status(nic_fault.root_cause) == "critical"
        assert status(agent.id) == "ok"  # its check is not due before 60 s
        now[0] = 60.0
        monitor.round()
        assert status(agent.id) == "critical"
    finally:
        clear_fault(world, "agent_dead", agent.id)
        clear_fault(world, "nic_down", f"{compute.name}/{nic.name}")
    now[0] = 70.0
    monitor.round()  # the link check clears the NIC; the agent keeps its latest result
    assert status(nic_fault.root_cause) == "ok" and status(agent.id) == "critical"
    now[0] = 120.0
    monitor.round()
    assert status(agent.id) == "ok"
