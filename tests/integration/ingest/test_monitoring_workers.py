"""`calipso monitor --workers`: a round's hosts are checked by a `calipso worker` (one calipso.monitor_hosts
task per host batch, over real SSH to a served lab) and the results are written by the monitor; a fault
injected into the lab shows as its object's status through that path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ServedLab

from graphmodel.inventory import OBJECTS
from ingest.monitoring.runner import ROUNDS
from ingest.run import scan_environment
from lab.world import load_world

CALIPSO = str(Path(sys.executable).with_name("calipso"))


def monitor_once(lab: ServedLab, database: str, environment: str, *options: str) -> dict:  # type: ignore[type-arg]
    done = subprocess.run([CALIPSO, "monitor", environment, "--once", "--format", "json", *options],
                          env=lab.command_environment(database), capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_a_round_checked_by_a_worker_turns_a_faulty_nic_critical(  # type: ignore[no-untyped-def]
        mongo_db, served_lab: ServedLab, env_name: str, started_workers) -> None:
    store = served_lab.enrol(mongo_db, env_name)
    assert scan_environment(mongo_db, store.decrypt(env_name)).status == "completed"

    # without a worker alive, --workers refuses at once
    refused = subprocess.run([CALIPSO, "monitor", env_name, "--once", "--workers"], capture_output=True, text=True,
                             env=served_lab.command_environment(mongo_db.name), timeout=60)
    assert refused.returncode != 0 and "no `calipso worker` is alive" in refused.stderr, refused.stderr

    world = load_world(served_lab.world_file)
    compute = next(h for h in world.hosts if h.name == "compute-1")
    nic = next(n for n in compute.nics if n.role in ("tunnel", "provider"))
    [worker] = started_workers(served_lab, "worker")
    faulted = False
    try:
        first = monitor_once(served_lab, mongo_db.name, env_name, "--workers", "--hosts-per-task", "1")
        assert first["hosts"] == 3 and first["unreachable_hosts"] == [] and first["results"] > 10, first
        assert first["degraded"] == 0, first["status_changes"]
        [checked_by] = first["checked_by"]
        assert worker.runs(int(checked_by.rsplit(":", 1)[1])), checked_by
        rounds = list(mongo_db[ROUNDS].find({"environment": env_name}))
        assert len(rounds) == 1 and all(h["checked_by"] == checked_by for h in rounds[0]["hosts"])

        fault = subprocess.run([CALIPSO, "lab", "fault", str(served_lab.world_file), "nic_down",
                                f"compute-1/{nic.name}"], env=served_lab.command_environment(mongo_db.name),
                               capture_output=True, text=True, timeout=60)
        assert fault.returncode == 0, fault.stderr
        faulted = True
        second = monitor_once(served_lab, mongo_db.name, env_name, "--workers", "--hosts-per-task", "2")
        changes = [c for c in second["status_changes"] if c["key"] == f"compute-1/{nic.name}"]
        assert [(c["previous"], c["status"]) for c in changes] == [("ok", "critical")], second["status_changes"]
        doc = mongo_db[OBJECTS].find_one({"environment": env_name, "id": f"compute-1/{nic.name}"})
        assert doc["status"] == "critical" and doc["status_text"]
        assert second["checked_by"] == [checked_by]
    finally:
        if faulted:
            subprocess.run([CALIPSO, "lab", "fault", str(served_lab.world_file), "nic_down", f"compute-1/{nic.name}",
                            "--clear"], env=served_lab.command_environment(mongo_db.name), timeout=60, check=True)
