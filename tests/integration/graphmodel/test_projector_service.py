"""`calipso projector` as a real process against the test stack: writes to MongoDB reach Neo4j without
any sync command, a kill -9 in the middle of a projection resumes from the checkpoint, and `calipso
status` reports the projection lag and the projector's heartbeat."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import wait_for

from calipso.lab_scan import scan_world_in_process
from core.services import INTERVAL_S, STALE_AFTER
from graphmodel.inventory import CHANGES, InventoryWriter
from graphmodel.projector import CHECKPOINT_LABEL, verify
from lab.generate import generate_world
from migrations.runner import apply_mongo, apply_neo4j

CALIPSO = str(Path(sys.executable).with_name("calipso"))


class ProjectorProcess:
    """`calipso projector` in the background on the test's database; its stderr goes to a file."""

    def __init__(self, database_name: str, log_file: Path, *options: str) -> None:
        self.log_file = log_file
        environment = {**os.environ, "MONGO_DATABASE": database_name, "CALIPSO_LOG_LEVEL": "INFO"}
        with log_file.open("a") as sink:
            self.process = subprocess.Popen([CALIPSO, "projector", "--poll-interval", "0.05", *options],
                                            env=environment, stdout=sink, stderr=sink, start_new_session=True)

    def log(self) -> str:
        return self.log_file.read_text()

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.kill()


def checkpoint(driver, environment: str) -> int:  # type: ignore[no-untyped-def]
    records, _, _ = driver.execute_query(f"MATCH (c:{CHECKPOINT_LABEL} {{env: $env}}) RETURN c.seq AS seq",
                                         env=environment)
    return int(records[0]["seq"]) if records else 0


def last_seq(database, environment: str) -> int:  # type: ignore[no-untyped-def]
    newest = database[CHANGES].find_one({"environment": environment}, sort=[("seq", -1)])
    return int(newest["seq"]) if newest else 0


def test_writes_reach_neo4j_without_a_sync_and_a_killed_projector_resumes(  # type: ignore[no-untyped-def]
        mongo_db, neo4j_driver, env_name: str, tmp_path: Path) -> None:
    apply_mongo(mongo_db)
    apply_neo4j(neo4j_driver)
    log_file = tmp_path / "projector.log"
    # Small batches, so that the first projection of a scan takes many transactions to kill it among.
    service = ProjectorProcess(mongo_db.name, log_file, "--batch-size", "20")
    try:
        # An environment the projector has never seen, written by an in-process scan.
        result = scan_world_in_process(generate_world(3, 2, 2, "ovs", "vxlan", seed=11), mongo_db, env_name)
        assert result.status == "completed", result.errors
        target = last_seq(mongo_db, env_name)
        assert target > 100
        wait_for("the projector applies some batches", lambda: checkpoint(neo4j_driver, env_name) > 0,
                 log=service.log)
        killed_pid = service.process.pid
        service.kill()  # kill -9, most likely in the middle of a batch
        killed_at = time.monotonic()
        stopped_at = checkpoint(neo4j_driver, env_name)
        assert 0 < stopped_at <= target
        assert service.process.returncode == -signal.SIGKILL

        service = ProjectorProcess(mongo_db.name, log_file)
        wait_for("the restarted projector catches up", lambda: checkpoint(neo4j_driver, env_name) == target,
                 log=service.log)
        assert verify(mongo_db, neo4j_driver, env_name).ok

        # A single change through the inventory's one write path shows up on its node, no command run.
        vm = mongo_db["inventory"].find_one({"environment": env_name, "type": "instance"}, {"_id": 0})
        renamed = {k: v for k, v in vm.items() if k not in ("environment", "first_seen", "last_seen", "scan_id")}
        renamed["name"] = "renamed-by-the-test"
        InventoryWriter(mongo_db, env_name).write_objects([renamed])

        def node_renamed() -> bool:
            records, _, _ = neo4j_driver.execute_query(
                "MATCH (n:Object {uid: $uid}) RETURN n.name AS name", uid=f"{env_name}|{vm['id']}")
            return bool(records) and records[0]["name"] == "renamed-by-the-test"
        wait_for("the renamed VM in Neo4j", node_renamed, deadline_s=10.0, log=service.log)
        assert verify(mongo_db, neo4j_driver, env_name).ok

        # `calipso status`: the projector is alive and the environment has no lag; the killed one's
        # heartbeat is stale once STALE_AFTER intervals have passed.
        time.sleep(max(0.0, killed_at + INTERVAL_S * STALE_AFTER + 0.5 - time.monotonic()))
        environment = {**os.environ, "MONGO_DATABASE": mongo_db.name, "CALIPSO_LOG_LEVEL": "WARNING"}
        done = subprocess.run([CALIPSO, "status", "--format", "json"], env=environment, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        status = json.loads(done.stdout)
        assert {"mongodb", "neo4j", "rabbitmq"} == {c["name"] for c in status["stores"] if c["ok"]}
        # The killed one's heartbeat went stale: listed, but dead; the restarted one is alive.
        projectors = {p["id"]: p["alive"] for p in status["processes"] if p["kind"] == "projector"}
        assert projectors == {f"projector:{os.uname().nodename}:{killed_pid}": False,
                              f"projector:{os.uname().nodename}:{service.process.pid}": True}
        row = next(e for e in status["environments"] if e["environment"] == env_name)
        assert row["projection_lag"] == 0 and row["checkpoint"] == last_seq(mongo_db, env_name)
    finally:
        assert service.stop() == 0, service.log()
    # A clean stop removes the heartbeat; the killed one's stays (stale).
    assert [d["pid"] for d in mongo_db["services"].find({"kind": "projector"})] == [killed_pid]

    # With no projector running, a write is lag: `calipso status` counts the feed's changes after the checkpoint.
    renamed["name"] = "renamed-while-nobody-projects"
    InventoryWriter(mongo_db, env_name).write_objects([renamed])
    done = subprocess.run([CALIPSO, "status", "--format", "json"], env=environment, capture_output=True, text=True,
                          timeout=60)
    row = next(e for e in json.loads(done.stdout)["environments"] if e["environment"] == env_name)
    assert row["projection_lag"] == last_seq(mongo_db, env_name) - row["checkpoint"] == 1
