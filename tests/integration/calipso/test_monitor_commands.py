"""`calipso monitor` and `calipso watch` as processes against a served lab, over real SSH: a round sets
every checked object ok; after `calipso lab fault` the next round prints the NIC going critical; `calipso
watch --until-healthy --check` follows a VM until the fault is cleared and exits, printing the time to
recovery."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import ServedLab

from graphmodel.inventory import OBJECTS
from graphmodel.projector import Projector
from ingest.run import scan_environment
from lab.world import load_world

CALIPSO = str(Path(__file__).parents[3] / ".venv" / "bin" / "calipso")


def _run(lab: ServedLab, db, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run([CALIPSO, *args], env=lab.command_environment(db.name), capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.timeout(600)
def test_monitor_and_watch_over_ssh(mongo_db, neo4j_driver, served_lab: ServedLab, env_name: str) -> None:  # type: ignore[no-untyped-def]
    store = served_lab.enrol(mongo_db, env_name)
    assert scan_environment(mongo_db, store.decrypt(env_name)).status == "completed"
    Projector(mongo_db, neo4j_driver, env_name).sync()

    first = _run(served_lab, mongo_db, "monitor", env_name, "--once", "--format", "json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["hosts"] == 3 and summary["unreachable_hosts"] == [] and summary["results"] > 10
    checked = list(mongo_db[OBJECTS].find({"environment": env_name, "status_since": {"$exists": True}}))
    assert checked and {d["status"] for d in checked} == {"ok"}

    world = load_world(served_lab.world_file)
    compute = next(h for h in world.hosts if h.name == "compute-1")
    nic = next(n for n in compute.nics if n.role in ("tunnel", "provider"))
    vm = next(i for i in world.instances if i.host == "compute-1")
    fault = _run(served_lab, mongo_db, "lab", "fault", str(served_lab.world_file), "nic_down", f"compute-1/{nic.name}")
    assert fault.returncode == 0, fault.stderr
    try:
        second = _run(served_lab, mongo_db, "monitor", env_name, "--once")
        assert second.returncode == 0, second.stderr
        assert f"host_pnic {nic.name}: ok -> critical" in second.stdout, second.stdout

        watch = subprocess.Popen([CALIPSO, "watch", env_name, vm.name, "--until-healthy", "--check", "--interval", "0.5",
                                  "--timeout", "120"], env=served_lab.command_environment(mongo_db.name),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first_line = watch.stdout.readline() if watch.stdout else ""  # it has looked once: the path is degraded
    finally:
        cleared = _run(served_lab, mongo_db, "lab", "fault", str(served_lab.world_file), "nic_down",
                       f"compute-1/{nic.name}", "--clear")
        assert cleared.returncode == 0, cleared.stderr
    # not communicate(): it reads the pipe's descriptor, past the lines readline() left in the file's buffer
    watch.wait(timeout=150)
    out = first_line + (watch.stdout.read() if watch.stdout else "")
    err = watch.stderr.read() if watch.stderr else ""
    assert watch.returncode == 0, out + err
    assert f"{vm.name}: critical (" in out and f"host_pnic {nic.name} critical -> ok" in out
    assert "every hop is ok: healthy after" in out
