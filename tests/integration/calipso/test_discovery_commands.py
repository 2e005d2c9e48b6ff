"""Environments, scans by name, subtree rescans, aborts and schedules, through the `calipso` command
line (run as a real process) against the test stack and a served lab."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ServedLab
from cryptography.fernet import Fernet
from pydantic import SecretStr

from calipso.env_commands import lab_environment
from core.environments import EnvironmentStore
from core.settings import Settings, load_settings
from graphmodel.inventory import CHANGES, HISTORY, LINKS, OBJECTS, change_document
from ingest.connections import check_environment
from ingest.records import ScanRecords
from ingest.run import scan_environment
from ingest.schedules import LEASES, SCHEDULES, Scheduler, ScheduleStore, parse_recurrence
from lab.generate import generate_world
from lab.service import LabService
from lab.truth import compute_truth
from lab.world import World, load_world, save_world

CALIPSO = str(Path(sys.executable).with_name("calipso"))
SECRET_KEY = Fernet.generate_key().decode()
LAB_PASSWORD = "lab-admin-pw"


@pytest.fixture(scope="module")
def lab_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("discovery-lab")


@pytest.fixture(scope="module")
def lab_settings(lab_home: Path, settings: Settings) -> Settings:
    return load_settings(calipso_home=str(lab_home), calipso_secret_key=SECRET_KEY)


@pytest.fixture(scope="module")
def world_file(lab_home: Path, lab_settings: Settings) -> Iterator[Path]:
    path = lab_home / "world.yaml"
    save_world(generate_world(3, 2, 2, "ovs", "vxlan", seed=31), path)
    service = LabService(lab_settings)
    service.up(path)
    yield path
    service.down()


def calipso(mongo_db, lab_home: Path, *args: str, check: bool = True,  # type: ignore[no-untyped-def]
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CALIPSO_HOME": str(lab_home), "MONGO_DATABASE": mongo_db.name,
                   "CALIPSO_SECRET_KEY": SECRET_KEY, "CALIPSO_LOG_LEVEL": "WARNING", "COLUMNS": "200"}
    done = subprocess.run([CALIPSO, *args], env=environment, capture_output=True, text=True, timeout=timeout)
    if check:
        assert done.returncode == 0, f"calipso {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def lab(lab_home: Path, lab_settings: Settings, world_file: Path) -> ServedLab:
    """This module's served lab; `lab.enrol(mongo_db, NAME)` adds it as environment NAME with its host keys."""
    return ServedLab(lab_home, lab_settings, world_file, SECRET_KEY)


def stored(mongo_db, name: str) -> tuple[set[str], dict[tuple[str, str, str], str]]:  # type: ignore[no-untyped-def]
    # Keystone's own admin project is not in the world spec: the one object the truth lacks.
    objects = {d["id"] for d in mongo_db[OBJECTS].find({"environment": name})
               if not (d["type"] == "project" and d["name"] == "admin")}
    links = {(d["link_type"], d["source_id"], d["target_id"]): d["state"]
             for d in mongo_db[LINKS].find({"environment": name})}
    return objects, links


def truth_of(world: World) -> tuple[set[str], dict[tuple[str, str, str], str]]:
    truth = compute_truth(world)
    return set(truth.objects), {key: link.state for key, link in truth.links.items()}


# -- environments -----------------------------------------------------------------------------

def test_env_from_lab_passes_its_test_and_never_shows_a_credential(mongo_db, lab_home: Path,  # type: ignore[no-untyped-def]
                                                                   world_file: Path) -> None:
    added = json.loads(calipso(mongo_db, lab_home, "env", "add", "lab", "--from-lab", "--format", "json").stdout)
    assert added[0]["mechanism_drivers"] == ["ovs"] and added[0]["type_drivers"] == ["vxlan"]
    checks = json.loads(calipso(mongo_db, lab_home, "env", "test", "lab", "--format", "json").stdout)
    assert all(check["ok"] for check in checks), checks
    sections = {check["section"] for check in checks}
    assert {"openstack", "cli", "amqp", "monitoring"} <= sections
    assert {check["target"] for check in checks if check["section"] == "cli"} >= {"compute-1", "controller-1"}

    key_text = (lab_home / "lab" / "id_ed25519").read_text().strip().splitlines()[1]
    shown = calipso(mongo_db, lab_home, "env", "show", "lab", "--format", "json").stdout
    listed = calipso(mongo_db, lab_home, "env", "list", "--format", "json").stdout
    table = calipso(mongo_db, lab_home, "env", "show", "lab").stdout
    for output in (shown, listed, table):
        assert LAB_PASSWORD not in output and key_text not in output and "guest:guest" not in output
    assert json.loads(shown)["openstack"]["password"] == "***"
    everything = json.dumps([list(mongo_db[name].find({})) for name in mongo_db.list_collection_names()],
                            default=str)
    assert LAB_PASSWORD not in everything and key_text not in everything


def test_env_test_names_the_failing_section(mongo_db, lab_settings: Settings, lab_home: Path,  # type: ignore[no-untyped-def]
                                            world_file: Path) -> None:
    good = lab_environment("x", lab_settings)
    wrong_password = good.model_copy(deep=True)
    wrong_password.openstack.password = SecretStr("not-it")
    checks = {c.section: c for c in check_environment(wrong_password) if c.section != "cli"}
    assert not checks["openstack"].ok and "not-it" not in checks["openstack"].detail
    assert checks["amqp"].ok

    jump = good.cli.jump_host
    assert jump is not None
    closed_port = _free_port()
    wrong_port = lab_environment("wrong-port", lab_settings)
    wrong_port.cli.jump_host = jump.rsplit(":", 1)[0] + f":{closed_port}"
    EnvironmentStore(mongo_db, SECRET_KEY).add(wrong_port)
    done = calipso(mongo_db, lab_home, "env", "test", "wrong-port", "--format", "json", check=False)
    assert done.returncode == 1
    results = json.loads(done.stdout)
    failed = [r for r in results if not r["ok"]]
    assert [r["section"] for r in failed] == ["cli"] and str(closed_port) in failed[0]["target"]
    assert next(r for r in results if r["section"] == "openstack")["ok"]


def test_env_add_rejects_unknown_keys_by_name(mongo_db, lab_home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "env.yaml"
    config.write_text("openstack: {auth_url: 'http://k:5000/v3', username: a, password: b, regoin: r1}\n"
                      "cli: {user: root, key_file: /k}\nsensu: {}\n")
    done = calipso(mongo_db, lab_home, "env", "add", "typo", "--config", str(config), check=False)
    assert done.returncode == 1
    assert "openstack.regoin: unknown key" in done.stderr and "sensu: unknown key" in done.stderr
    assert "Traceback" not in done.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- scans ------------------------------------------------------------------------------------

def test_scan_by_name_equals_the_truth_and_a_host_rescan_after_a_fault_changes_only_that_host(  # type: ignore[no-untyped-def]
        mongo_db, lab: ServedLab, lab_home: Path, world_file: Path) -> None:
    lab.enrol(mongo_db, "lab")
    summary = json.loads(calipso(mongo_db, lab_home, "scan", "lab", "--format", "json").stdout)
    assert summary["status"] == "completed", summary["errors"]
    assert stored(mongo_db, "lab") == truth_of(load_world(world_file))
    full_scan = summary["scan_id"]

    calipso(mongo_db, lab_home, "lab", "fault", str(world_file), "tunnel_unreachable", "compute-1")
    try:
        faulted = truth_of(load_world(world_file))
        assert faulted != stored(mongo_db, "lab")  # the fault shows in the truth
        last_seq = max((c["seq"] for c in mongo_db[CHANGES].find({"environment": "lab"}, {"seq": 1})), default=0)
        rescan = json.loads(calipso(mongo_db, lab_home, "scan", "lab", "--object", "compute-1",
                                    "--format", "json").stdout)
        assert rescan["status"] == "completed" and rescan["scope"] == "compute-1"
        assert stored(mongo_db, "lab") == faulted
        # Only compute-1's objects and links changed (the feed says so), and the old versions are kept.
        changes = list(mongo_db[CHANGES].find({"environment": "lab", "seq": {"$gt": last_seq}}))
        assert changes and all(change_document(change).get("host") == "compute-1" for change in changes)
        closed = list(mongo_db[HISTORY].find({"environment": "lab", "kind": "link", "valid_to": {"$ne": None}}))
        assert {v["key"] for v in closed} == {c["key"] for c in changes if c["kind"] == "link"}
        # What the rescan wrote (new or changed: an unchanged document is not rewritten) is compute-1's;
        # the fault itself closed links (the feed's changes above).
        touched = {d["id"] for d in mongo_db[OBJECTS].find({"environment": "lab", "scan_id": rescan["scan_id"]})}
        assert "compute-2" not in touched
        untouched = mongo_db[OBJECTS].find_one({"environment": "lab", "id": "compute-2/bond0"})
        assert untouched["scan_id"] == full_scan
        assert all(compute_truth(load_world(world_file)).objects[i].host == "compute-1"
                   or "compute-1" in mongo_db[OBJECTS].find_one({"environment": "lab", "id": i})["id_path"]
                   for i in touched)
    finally:
        calipso(mongo_db, lab_home, "lab", "fault", str(world_file), "tunnel_unreachable", "compute-1", "--clear")

    listed = json.loads(calipso(mongo_db, lab_home, "scans", "list", "--env", "lab", "--format", "json").stdout)
    assert [s["scan_id"] for s in listed] == [rescan["scan_id"], full_scan]
    unknown = calipso(mongo_db, lab_home, "scan", "lab", "--object", "no-such-object", check=False)
    assert unknown.returncode == 1 and "no object 'no-such-object'" in unknown.stderr


def test_scan_abort_stops_a_running_scan_and_writes_nothing(mongo_db, lab: ServedLab,  # type: ignore[no-untyped-def]
                                                            lab_home: Path) -> None:
    environment = lab.enrol(mongo_db, "lab").decrypt("lab")
    environment.cli.concurrency = 1
    scan_id = ScanRecords(mongo_db).create("lab")
    aborted: list[subprocess.CompletedProcess[str]] = []

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "hosts" and done == 1 and not aborted:  # the scan is under way: abort it from outside
            aborted.append(calipso(mongo_db, lab_home, "scan", "abort", scan_id))

    result = scan_environment(mongo_db, environment, progress, scan_id=scan_id)
    assert aborted, "the scan never reached its hosts"
    assert result.status == "aborted"
    assert ScanRecords(mongo_db).get(scan_id)["status"] == "aborted"
    assert mongo_db[OBJECTS].count_documents({"environment": "lab"}) == 0
    again = calipso(mongo_db, lab_home, "scan", "abort", scan_id, check=False)
    assert again.returncode == 1 and "aborted: nothing to abort" in again.stderr


# -- schedules --------------------------------------------------------------------------------

def test_two_schedulers_racing_run_each_due_schedule_once(mongo_db, lab: ServedLab) -> None:  # type: ignore[no-untyped-def]
    store = lab.enrol(mongo_db, "lab")
    schedules = ScheduleStore(mongo_db)
    ids = [schedules.add("lab", parse_recurrence("once"))["_id"] for _ in range(3)]
    workers = [Scheduler(mongo_db, store, owner=f"scheduler-{n}") for n in range(2)]
    start = threading.Barrier(len(workers))
    runs: dict[str, list[Any]] = {}

    def work(worker: Scheduler) -> None:
        start.wait()
        runs[worker.owner] = worker.run_due()

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done = [run for worker_runs in runs.values() for run in worker_runs]
    assert sorted(run.schedule_id for run in done) == sorted(ids)  # each exactly once, between the two
    scans = {s["_id"]: s for s in mongo_db["scans"].find({"environment": "lab"})}
    assert [(run.status, scans[run.scan_id].get("error")) for run in done] == [("completed", None)] * len(done)
    scans = list(mongo_db["scans"].find({"environment": "lab"}))
    assert sorted(s["requested_by"] for s in scans) == sorted(f"schedule:{i}" for i in ids)
    for document in mongo_db[SCHEDULES].find({}):
        assert document["runs"] == 1 and document["enabled"] is False and document["next_run"] is None


def test_scheduler_takes_over_a_dead_schedulers_run_stops_on_sigterm_and_resumes_from_mongodb(  # type: ignore[no-untyped-def]
        mongo_db, lab: ServedLab, lab_home: Path) -> None:
    lab.enrol(mongo_db, "lab")
    schedules = ScheduleStore(mongo_db)
    hourly = schedules.add("lab", parse_recurrence("hourly", "0"))
    # A scheduler died while running this hour's scan: its lease stopped beating an hour ago.
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    mongo_db[SCHEDULES].update_one({"_id": hourly["_id"]}, {"$set": {"next_run": due}})
    dead = schedules.claim(schedules.get(hourly["_id"]), "dead-scheduler", timedelta(minutes=10),
                           due - timedelta(hours=1))
    assert dead is not None

    process = subprocess.Popen(
        [CALIPSO, "scheduler", "--poll-interval", "0.5", "--lease-minutes", "5"],
        env={**os.environ, "CALIPSO_HOME": str(lab_home), "MONGO_DATABASE": mongo_db.name,
             "CALIPSO_SECRET_KEY": SECRET_KEY, "CALIPSO_LOG_LEVEL": "WARNING"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while schedules.get(hourly["_id"])["runs"] < 1 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "scheduler stopped" in stderr
    after = schedules.get(hourly["_id"])
    assert after["runs"] == 1 and after["last_status"] == "completed", stderr
    assert after["next_run"] > datetime.now(UTC) and after["next_run"].minute == 0
    leases = list(mongo_db[LEASES].find({"schedule_id": hourly["_id"]}).sort("attempt", 1))
    assert [(lease["owner"], lease["attempt"]) for lease in leases][0] == ("dead-scheduler", 0)
    assert leases[-1]["attempt"] == 1 and leases[-1]["owner"] != "dead-scheduler"
    assert leases[-1]["scan_id"] == after["last_scan_id"]

    # A restarted scheduler reads its state from MongoDB: nothing is due, nothing runs again.
    restarted = calipso(mongo_db, lab_home, "scheduler", "--once", "--format", "json")
    assert json.loads(restarted.stdout) == []
    assert schedules.get(hourly["_id"])["runs"] == 1
    assert mongo_db["scans"].count_documents({"environment": "lab"}) == 1
