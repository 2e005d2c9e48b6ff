"""`calipso graph sync --follow` and `graph verify` as real processes: the graph equals MongoDB after a
scan, after a fault and a rescan, and after the follower is killed in the middle of its batches and
started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from calipso.lab_scan import scan_world_in_process
from graphmodel.inventory import CHANGES
from graphmodel.projector import CHECKPOINT_LABEL
from lab.faults import inject_fault
from lab.generate import generate_world
from migrations.runner import apply_mongo, apply_neo4j

CALIPSO = str(Path(sys.executable).with_name("calipso"))


def _environment(mongo_db) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {**os.environ, "MONGO_DATABASE": mongo_db.name, "CALIPSO_LOG_LEVEL": "WARNING", "COLUMNS": "200"}


def _checkpoint(driver, env: str) -> int:  # type: ignore[no-untyped-def]
    records, _, _ = driver.execute_query(f"MATCH (c:{CHECKPOINT_LABEL} {{env: $env}}) RETURN c.seq AS seq", env=env)
    return int(records[0]["seq"]) if records else 0


def _verify(mongo_db, env: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run([CALIPSO, "graph", "verify", env, "--format", "json"], env=_environment(mongo_db),
                          capture_output=True, text=True, timeout=300)


def test_verify_after_a_scan_a_fault_and_a_follower_killed_mid_batch(mongo_db, neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    apply_mongo(mongo_db)
    apply_neo4j(neo4j_driver)
    world = generate_world(8, 6, 2, "ovs", "vxlan", seed=61)
    scan_world_in_process(world, mongo_db, env_name)
    last_seq = mongo_db[CHANGES].find_one({"environment": env_name}, sort=[("seq", -1)])["seq"]

    follower = subprocess.Popen([CALIPSO, "graph", "sync", env_name, "--follow", "--batch-size", "50"],
                                env=_environment(mongo_db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while _checkpoint(neo4j_driver, env_name) == 0 and time.monotonic() < deadline and follower.poll() is None:
            time.sleep(0.05)
        follower.send_signal(signal.SIGKILL)  # in the middle of its batches: no chance to finish anything
        follower.wait(timeout=30)
    finally:
        if follower.poll() is None:
            follower.kill()
    reached = _checkpoint(neo4j_driver, env_name)
    assert 0 < reached < last_seq, (reached, last_seq)  # killed part of the way through
    assert _verify(mongo_db, env_name).returncode == 1  # the graph is behind, and verify says so

    resumed = subprocess.run([CALIPSO, "graph", "sync", env_name, "--batch-size", "50"], env=_environment(mongo_db),
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert _checkpoint(neo4j_driver, env_name) == last_seq
    verified = _verify(mongo_db, env_name)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    compute = next(h for h in world.hosts if "compute" in h.roles)
    inject_fault(world, "nic_down", f"{compute.name}/eth1")
    scan_world_in_process(world, mongo_db, env_name)
    synced = subprocess.run([CALIPSO, "graph", "sync", env_name], env=_environment(mongo_db),
                            capture_output=True, text=True, timeout=600)
    assert synced.returncode == 0, synced.stderr
    verified = _verify(mongo_db, env_name)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    records, _, _ = neo4j_driver.execute_query("MATCH (p:HostPnic {uid: $uid}) RETURN p.link_detected AS up",
                                               uid=f"{env_name}|{compute.name}/eth1")
    assert records[0]["up"] is False
