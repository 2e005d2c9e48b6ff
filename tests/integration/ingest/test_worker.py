"""`calipso worker` (Celery on the test stack's RabbitMQ) running scans of a served lab: a scan started
through the API runs in a worker process, not the web process; a worker killed with kill -9 in the
middle of a scan leaves it to another worker, which completes it once, with no duplicate history."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ServedLab, wait_for

from core.settings import Settings, load_settings
from core.stores import Stores
from graphmodel.inventory import CHANGES, HISTORY
from ingest.records import FINISHED, ScanRecords

CALIPSO = str(Path(sys.executable).with_name("calipso"))


@pytest.fixture
def lab_env(mongo_db, served_lab: ServedLab, env_name: str) -> str:  # type: ignore[no-untyped-def]
    served_lab.enrol(mongo_db, env_name)
    return env_name


def test_an_api_scan_runs_in_a_worker_and_a_killed_worker_leaves_its_scan_to_another(  # type: ignore[no-untyped-def]
        mongo_db, served_lab: ServedLab, settings: Settings, lab_env: str, started_workers) -> None:
    from api import create_app

    [first] = started_workers(served_lab, "worker-1")

    # -- through the API: the web process queues, a worker process scans ------------------------
    api_settings = load_settings(mongo_uri=settings.mongo_uri, mongo_database=mongo_db.name,
                                 calipso_home=str(served_lab.home), calipso_secret_key=served_lab.secret_key)
    with Stores(api_settings) as api_stores:
        app = create_app(api_settings, api_stores)
        app.testing = True
        from api.auth import UserStore
        UserStore(api_stores.mongo).add("pipeline-admin", "pipeline-pw", admin=True)
        client = app.test_client()
        token = client.post("/api/v1/auth/tokens",
                            json={"username": "pipeline-admin", "password": "pipeline-pw"}).get_json()["token"]
        answer = client.post(f"/api/v1/environments/{lab_env}/scans", json={},
                             headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 202, answer.get_json()
        scan_id = answer.get_json()["id"]
    records = ScanRecords(mongo_db)
    done = wait_for("the API's scan ends", lambda: (d := records.get(scan_id)) and d["status"] in FINISHED and d,
                    log=first.log)
    assert done["status"] == "completed", done.get("errors")
    assert done["timings"]["openstack_s"] > 0 and "split" not in done  # 3 hosts fit one batch: read once, here
    assert done["worker"]["pid"] != os.getpid()
    assert first.runs(done["worker"]["pid"]), (done["worker"], first.process.pid)
    assert [a["redelivered"] for a in done["attempts"]] == [False]
    feed_after_first = mongo_db[CHANGES].count_documents({"environment": lab_env})
    assert feed_after_first > 0

    # -- kill -9 the worker that runs a scan: another worker completes it, once ----------------
    [second] = started_workers(served_lab, "worker-2")
    workers = [first, second]
    for attempt in range(1, 4):
        follower = subprocess.Popen([CALIPSO, "scan", lab_env, "--queue", "--format", "json"],
                                    env=served_lab.command_environment(mongo_db.name), stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
        claimed = wait_for("a worker runs the queued scan", lambda: mongo_db["scans"].find_one(
            {"environment": lab_env, "requested_by": "cli", "worker": {"$exists": True}, "status": "running"}),
            log=lambda: "".join(w.log() for w in workers))
        running_in = next(w for w in workers if w.runs(claimed["worker"]["pid"]))
        other = next(w for w in workers if w is not running_in)
        running_in.kill()
        if records.get(claimed["_id"])["status"] == "running":
            break  # killed in the middle of the scan
        # The scan ended just before the kill (a fast moment): try again with a fresh worker.
        follower.communicate(timeout=300)
        [replacement] = started_workers(served_lab, f"worker-{attempt + 2}")
        workers = [other, replacement]
    else:
        pytest.fail("each of 3 scans ended before its worker was killed")
    out, errors = follower.communicate(timeout=300)
    assert follower.returncode == 0, out + errors + other.log()
    assert json.loads(out)["status"] == "completed"
    scan = records.get(claimed["_id"])
    assert scan["status"] == "completed"
    assert [a["redelivered"] for a in scan["attempts"]] == [False, True]
    assert other.runs(scan["worker"]["pid"])
    assert mongo_db["scans"].count_documents({"environment": lab_env}) == 1 + attempt

    # The same cloud scanned again (each completely, one of them cut short first): one history version per
    # object and link, and nothing new in the changes feed.
    versions = list(mongo_db[HISTORY].aggregate([
        {"$match": {"environment": lab_env}},
        {"$group": {"_id": {"kind": "$kind", "key": "$key"}, "n": {"$sum": 1}}}]))
    assert versions and max(v["n"] for v in versions) == 1
    assert mongo_db[CHANGES].count_documents({"environment": lab_env}) == feed_after_first

    # -- the scheduler queues a due scan for the live worker and waits for its end --------------
    command_env = served_lab.command_environment(mongo_db.name)
    added = subprocess.run([CALIPSO, "schedule", "add", lab_env, "--every", "once", "--at", "now"],
                           env=command_env, capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    ran = subprocess.run([CALIPSO, "scheduler", "--once", "--format", "json"], env=command_env,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr + other.log()
    [run] = json.loads(ran.stdout)
    assert run["status"] == "completed"
    scheduled = records.get(run["scan_id"])
    assert scheduled["requested_by"].startswith("schedule:") and other.runs(scheduled["worker"]["pid"])


def test_a_scan_rabbitmq_does_not_take_fails_at_once_naming_the_broker_without_its_password(  # type: ignore[no-untyped-def]
        mongo_db, settings: Settings) -> None:
    import socket

    from ingest.tasks import BrokerUnavailable, enqueue_scan

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    nowhere = load_settings(amqp_url=f"amqp://guest:secret-pw@127.0.0.1:{closed}//", mongo_uri=settings.mongo_uri,
                            mongo_database=mongo_db.name)
    records = ScanRecords(mongo_db)
    scan_id = records.create("somewhere")
    with pytest.raises(BrokerUnavailable) as raised:
        enqueue_scan(nowhere, mongo_db, scan_id, "somewhere")
    assert f"127.0.0.1:{closed}" in str(raised.value) and "secret-pw" not in str(raised.value)
    scan = records.get(scan_id)
    assert scan["status"] == "failed" and scan["errors"] == [str(raised.value)]
