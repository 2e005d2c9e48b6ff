"""A scan split into host batches across two `calipso worker` processes (Celery on the test stack's
RabbitMQ): each host is fetched exactly once, both workers fetch, the one writer stores what an
in-process scan stores (no new history version, nothing new in the changes feed), the kept outputs
replay to the same documents, and a host a batch cannot reach is a host error, not a lost scan."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ServedLab, relay, wait_for

from core.settings import Settings, load_settings
from graphmodel.inventory import CHANGES, HISTORY, LINKS, OBJECTS, content
from ingest.records import FINISHED, ScanRecords
from ingest.replay import replay_scan
from ingest.tasks import SCAN_FETCHES

CALIPSO = str(Path(sys.executable).with_name("calipso"))
HOSTS = 6


def batched(size: int) -> dict[str, str]:
    """A worker's environment for scans in host batches of `size` hosts, logging each batch it starts."""
    return {"CALIPSO_SCAN_HOST_BATCH": str(size), "CALIPSO_LOG_LEVEL": "INFO"}


@pytest.fixture(scope="module")
def six_host_lab(tmp_path_factory: pytest.TempPathFactory, settings: Settings, local_stack) -> Iterator[ServedLab]:  # type: ignore[no-untyped-def]
    """An OVS/VXLAN lab of 6 hosts, 1 VM each, served (APIs and SSH on loopback) for this module."""
    from cryptography.fernet import Fernet

    from lab.generate import generate_world
    from lab.service import LabService
    from lab.world import save_world

    home = tmp_path_factory.mktemp("batched-lab")
    secret_key = Fernet.generate_key().decode()
    lab_settings = load_settings(calipso_home=str(home), calipso_secret_key=secret_key)
    world_file = home / "world.yaml"
    save_world(generate_world(HOSTS, 1, 2, "ovs", "vxlan", seed=53), world_file)
    service = LabService(lab_settings)
    service.up(world_file)
    try:
        yield ServedLab(home, lab_settings, world_file, secret_key)
    finally:
        service.down()


def slow_proxy(host: str, port: int, delay_s: float) -> int:
    """A loopback TCP proxy to host:port that waits `delay_s` before forwarding each new connection; returns
    its port (its threads end with the test process)."""
    import socket
    import threading
    import time

    listener = socket.create_server(("127.0.0.1", 0))

    def serve(client: socket.socket) -> None:
        time.sleep(delay_s)
        upstream = socket.create_connection((host, port))
        threading.Thread(target=relay, args=(upstream, client), daemon=True).start()
        relay(client, upstream)

    def accept() -> None:
        while True:
            client, _ = listener.accept()
            threading.Thread(target=serve, args=(client,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return int(listener.getsockname()[1])


def two_workers_behind_a_slow_keystone(store, lab: ServedLab, mongo_db, env_name: str, settings: Settings,  # type: ignore[no-untyped-def]
                                       started_workers):
    """Point the environment's Keystone at a proxy that holds each connection a second (so that two
    deliveries of one task overlap), start two batching workers, and configure this process's Celery
    client for the test's database: (workers, their logs as one text, the test's settings)."""
    from urllib.parse import urlsplit

    from ingest.tasks import configure

    config = store.get(env_name, reveal=True)
    keystone = urlsplit(config.openstack.auth_url)
    proxy_port = slow_proxy(keystone.hostname or "127.0.0.1", keystone.port or 80, delay_s=1.0)
    store.update(config.model_copy(update={"openstack": config.openstack.model_copy(
        update={"auth_url": keystone._replace(netloc=f"127.0.0.1:{proxy_port}").geturl()})}))
    workers = started_workers(lab, "worker-1", "worker-2", **batched(3))
    test_settings = load_settings(amqp_url=settings.amqp_url, mongo_uri=settings.mongo_uri,
                                  mongo_database=mongo_db.name)
    configure(test_settings)
    return workers, lambda: "".join(w.log() for w in workers), test_settings


def inventory(database, environment: str) -> tuple[dict, dict]:  # type: ignore[no-untyped-def,type-arg]
    objects = {d["id"]: content(d) for d in database[OBJECTS].find({"environment": environment}, {"_id": 0})}
    links = {(d["link_type"], d["source_id"], d["target_id"]): content(d)
             for d in database[LINKS].find({"environment": environment}, {"_id": 0})}
    return objects, links


def run_scan(lab: ServedLab, database: str, environment: str, *options: str) -> dict:  # type: ignore[type-arg]
    done = subprocess.run([CALIPSO, "scan", environment, *options, "--format", "json"],
                          env=lab.command_environment(database), capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert done.stdout, done.stderr
    return json.loads(done.stdout)


def test_a_scan_split_into_host_batches_across_two_workers_equals_the_in_process_scan(  # type: ignore[no-untyped-def]
        mongo_db, six_host_lab: ServedLab, env_name: str, started_workers) -> None:
    store = six_host_lab.enrol(mongo_db, env_name)

    # -- the reference: one process scans everything ----------------------------------------------
    inline = run_scan(six_host_lab, mongo_db.name, env_name, "--inline")
    assert inline["status"] == "completed", inline
    objects_before, links_before = inventory(mongo_db, env_name)
    hosts = sorted(i for i, d in objects_before.items() if d["type"] == "host")
    assert len(hosts) == HOSTS
    feed_before = mongo_db[CHANGES].count_documents({"environment": env_name})

    workers = started_workers(six_host_lab, "worker-1", "worker-2", **batched(1))
    logs = lambda: "".join(w.log() for w in workers)  # noqa: E731
    queued = run_scan(six_host_lab, mongo_db.name, env_name, "--queue")
    scan = ScanRecords(mongo_db).get(queued["scan_id"])
    assert scan["status"] == "completed", (scan.get("errors"), logs())
    assert scan["split"] == {"batches": HOSTS, "batch_size": 1, "hosts": HOSTS}

    # each host fetched exactly once, by a batch task; both workers fetched
    fetched = Counter(f["host"] for f in scan["fetches"])
    assert sorted(fetched) == hosts and set(fetched.values()) == {1}, scan["fetches"]
    assert all(f["commands"] > 0 for f in scan["fetches"])
    fetchers = {f["worker"]["pid"] for f in scan["fetches"]}
    assert all(any(w.runs(pid) for w in workers) for pid in fetchers)
    assert all(any(w.runs(pid) for pid in fetchers) for w in workers), (scan["fetches"], logs())
    assert scan["timings"]["fetch_workers"] == 2.0 and scan["timings"]["batches"] == HOSTS
    # the staged answers are removed once written (just after the scan's status turned final)
    wait_for("the staging removed", lambda: mongo_db[SCAN_FETCHES].count_documents({"scan_id": scan["_id"]}) == 0,
             deadline_s=30)
    task_ids = sorted({f["task_id"] for f in scan["fetches"]})
    assert mongo_db["celery_taskmeta"].count_documents({"_id": {"$in": task_ids}}) == 0  # and the chord's results

    # the one writer stored what the in-process scan stored: the same documents, no new version or change
    assert inventory(mongo_db, env_name) == (objects_before, links_before)
    assert mongo_db[CHANGES].count_documents({"environment": env_name}) == feed_before
    versions = list(mongo_db[HISTORY].aggregate([
        {"$match": {"environment": env_name}}, {"$group": {"_id": "$key", "n": {"$sum": 1}}}]))
    assert versions and max(v["n"] for v in versions) == 1

    # its outputs were kept like any scan's: a replay makes the same documents
    replayed = replay_scan(mongo_db, store.get(env_name), scan["_id"])
    assert replayed.identical, replayed.differences[:5]
    assert replayed.objects == len(objects_before)

    # -- a host no batch can reach: a host error, as in one process; the scan completes with errors --
    lost = hosts[0]
    config = store.get(env_name, reveal=True)
    store.update(config.model_copy(update={"cli": config.cli.model_copy(
        update={"addresses": {lost: "192.0.2.1"}, "connect_timeout": 2})}))
    inline = run_scan(six_host_lab, mongo_db.name, env_name, "--inline")
    assert inline["status"] == "completed_with_errors", inline
    reference = inventory(mongo_db, env_name)
    assert {i for i, d in reference[0].items() if d.get("host") == lost} == \
        {i for i, d in objects_before.items() if d.get("host") == lost}  # nothing of it closed
    feed_before = mongo_db[CHANGES].count_documents({"environment": env_name})
    queued = run_scan(six_host_lab, mongo_db.name, env_name, "--queue")
    scan = ScanRecords(mongo_db).get(queued["scan_id"])
    assert scan["status"] == "completed_with_errors", (scan.get("errors"), logs())
    assert len(scan["errors"]) == 1 and scan["errors"][0].startswith(f"{lost}: "), scan["errors"]
    assert scan["errors"] == ScanRecords(mongo_db).get(inline["scan_id"])["errors"]
    assert Counter(f["host"] for f in scan["fetches"]) == Counter(hosts)
    assert inventory(mongo_db, env_name) == reference
    assert mongo_db[CHANGES].count_documents({"environment": env_name}) == feed_before
    assert all(d["status"] in FINISHED for d in mongo_db["scans"].find({"environment": env_name}))


def test_a_host_batch_task_that_fails_outright_makes_its_hosts_host_errors_not_a_lost_scan(  # type: ignore[no-untyped-def]
        mongo_db, six_host_lab: ServedLab, settings: Settings, env_name: str, started_workers) -> None:
    """Celery runs a chord's callback only when every header task succeeded: a batch task that fails
    outright (here: a host name that is not a string breaks it past its own error handling) must still end
    in the writer; the hosts no batch reported are host errors."""
    from celery import chord

    from ingest.run import host_roles, read_openstack_raw
    from ingest.tasks import configure, fetch_hosts_task, scan_writer, stage_openstack

    store = six_host_lab.enrol(mongo_db, env_name)
    raw, docs = read_openstack_raw(store.decrypt(env_name))
    hosts = sorted(d["id"] for d in docs if d["type"] == "host")
    good, lost = hosts[:3], hosts[3:]
    records = ScanRecords(mongo_db)
    scan_id = records.create(env_name, requested_by="test")
    records.start(scan_id)
    stage_openstack(mongo_db, scan_id, raw, hosts, 0.0)

    [worker] = started_workers(six_host_lab, "worker", **batched(3))
    configure(load_settings(amqp_url=settings.amqp_url, mongo_uri=settings.mongo_uri,
                            mongo_database=mongo_db.name))
    roles = host_roles(docs)
    chord([fetch_hosts_task.s(scan_id, env_name, good, {h: roles[h] for h in good}, 0),
           fetch_hosts_task.s(scan_id, env_name, [{"not": "a host name"}], {}, 1)])(scan_writer(scan_id, env_name))
    done = wait_for("the scan ends", lambda: (d := records.get(scan_id)) and d["status"] in FINISHED and d,
                    log=worker.log)
    assert done["status"] == "completed_with_errors", (done.get("errors"), worker.log())
    assert "a host batch task failed" in worker.log()  # the writer came through the chord's error callback
    assert sorted(e.split(":", 1)[0] for e in done["errors"]) == lost, done["errors"]
    assert all("its host batch task reported nothing" in e for e in done["errors"])
    assert sorted(f["host"] for f in done["fetches"]) == good
    written = {d["host"] for d in mongo_db[OBJECTS].find({"environment": env_name, "type": "host_pnic"}, {"host": 1})}
    assert written == set(good)  # what the batch that ran read is written; the lost hosts' NICs were never seen


def test_a_worker_killed_in_the_middle_of_a_host_batch_leaves_the_batch_to_the_other_worker(  # type: ignore[no-untyped-def]
        mongo_db, six_host_lab: ServedLab, env_name: str, started_workers) -> None:
    import re

    six_host_lab.enrol(mongo_db, env_name)
    inline = run_scan(six_host_lab, mongo_db.name, env_name, "--inline")
    assert inline["status"] == "completed", inline
    reference = inventory(mongo_db, env_name)
    hosts = sorted(i for i, d in reference[0].items() if d["type"] == "host")

    workers = started_workers(six_host_lab, "worker-1", "worker-2", **batched(3))
    logs = lambda: "".join(w.log() for w in workers)  # noqa: E731
    started = re.compile(r"host batch (\d) \(3 hosts\) started\n")
    follower = subprocess.Popen([CALIPSO, "scan", env_name, "--queue", "--format", "json"],
                                env=six_host_lab.command_environment(mongo_db.name), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    victim = wait_for("a worker starts a host batch",
                      lambda: next((w for w in workers if started.search(w.log())), None), interval_s=0.02,
                      log=logs)
    batch = int(started.search(victim.log()).group(1))  # type: ignore[union-attr]
    victim.kill()  # the worker and its pool process, mid-batch
    survivor = next(w for w in workers if w is not victim)
    out, errors = follower.communicate(timeout=300)
    assert follower.returncode == 0, out + errors + survivor.log()
    scan = ScanRecords(mongo_db).get(json.loads(out)["scan_id"])
    assert all(survivor.runs(f["worker"]["pid"]) for f in scan["fetches"] if f["batch"] == batch), scan["fetches"]
    assert scan["status"] == "completed", scan.get("errors")
    assert f"host batch {batch} (3 hosts) started again" in survivor.log()  # Celery redelivered it
    assert Counter(f["host"] for f in scan["fetches"]) == Counter(hosts)  # each host once, in the end
    assert inventory(mongo_db, env_name) == reference


def test_the_first_task_of_a_split_scan_delivered_twice_splits_it_once(  # type: ignore[no-untyped-def]
        mongo_db, six_host_lab: ServedLab, settings: Settings, env_name: str, started_workers) -> None:
    """The same `calipso.scan` message twice (a broker may deliver one again), taken by two workers at once:
    one of them reads the APIs and hands the hosts to a chord; the other returns without reading. Keystone
    answers through a proxy that holds each connection a while, so that both deliveries overlap."""

    from ingest.tasks import scan_task, task_queue

    store = six_host_lab.enrol(mongo_db, env_name)
    inline = run_scan(six_host_lab, mongo_db.name, env_name, "--inline")
    assert inline["status"] == "completed", inline
    reference = inventory(mongo_db, env_name)
    feed_before = mongo_db[CHANGES].count_documents({"environment": env_name})
    workers, logs, test_settings = two_workers_behind_a_slow_keystone(
        store, six_host_lab, mongo_db, env_name, settings, started_workers)
    records = ScanRecords(mongo_db)
    scan_id = records.create(env_name, requested_by="test")
    for _ in range(2):
        scan_task.apply_async(args=[scan_id, env_name], task_id=f"{scan_id}-first", queue=task_queue(test_settings))
    done = wait_for("the scan ends", lambda: (d := records.get(scan_id)) and d["status"] in FINISHED and d, log=logs)
    assert done["status"] == "completed", (done.get("errors"), logs())
    wait_for("both deliveries taken", lambda: len(records.get(scan_id).get("attempts", [])) == 2, log=logs)
    wait_for("the staging removed", lambda: mongo_db[SCAN_FETCHES].count_documents({"scan_id": scan_id}) == 0,
             deadline_s=30, log=logs)

    # the hosts were handed over once and each read once
    assert logs().count(f"scan {scan_id}: {HOSTS} hosts handed to 2 host batch tasks") == 1, logs()
    assert logs().count("(3 hosts) started") == 2, logs()
    assert "another delivery of its first task reads and splits it" in logs(), logs()
    [splitter] = [w for w in workers if "handed to" in w.log()]
    assert splitter.runs(records.get(scan_id)["worker"]["pid"])  # the record names the worker that split it
    assert Counter(f["host"] for f in done["fetches"]) == Counter(reference[0][h]["id"] for h in reference[0]
                                                                  if reference[0][h]["type"] == "host")
    # and written once: the same documents, no new history version or change
    assert inventory(mongo_db, env_name) == reference
    assert mongo_db[CHANGES].count_documents({"environment": env_name}) == feed_before
    versions = list(mongo_db[HISTORY].aggregate([
        {"$match": {"environment": env_name}}, {"$group": {"_id": "$key", "n": {"$sum": 1}}}]))
    assert versions and max(v["n"] for v in versions) == 1


def test_a_writer_that_fails_leaves_no_staged_answers(  # type: ignore[no-untyped-def]
        mongo_db, six_host_lab: ServedLab, settings: Settings, env_name: str, started_workers) -> None:
    """The writer of a split scan fails (its environment deleted meanwhile; a staged read it cannot unpack):
    the scan ends failed saying why, and nothing it was handed stays in `scan_fetches`."""
    from ingest.recording import _pack
    from ingest.run import read_openstack_raw
    from ingest.tasks import SCAN_SPLITS, configure, stage_openstack, write_scan_task

    store = six_host_lab.enrol(mongo_db, env_name)
    raw, docs = read_openstack_raw(store.decrypt(env_name))
    hosts = sorted(d["id"] for d in docs if d["type"] == "host")
    [worker] = started_workers(six_host_lab, "worker", **batched(3))
    configure(load_settings(amqp_url=settings.amqp_url, mongo_uri=settings.mongo_uri,
                            mongo_database=mongo_db.name))
    records = ScanRecords(mongo_db)

    def staged_scan(environment: str) -> str:
        """A scan split as the first task leaves it: claimed, its OpenStack read and one host's answers staged."""
        scan_id = records.create(environment, requested_by="test")
        records.start(scan_id)
        mongo_db[SCAN_SPLITS].insert_one({"_id": scan_id, "task_id": "test"})
        stage_openstack(mongo_db, scan_id, raw, hosts, 0.0)
        mongo_db[SCAN_FETCHES].insert_one({
            "_id": f"{scan_id}/host/{hosts[0]}/t", "scan_id": scan_id, "part": "host", "host": hosts[0], "batch": 0,
            "task_id": "t", "worker": {"host": "h", "pid": 1}, "at": 0.0, "commands": 0, "error": None,
            "error_command": None, "data": _pack([])})
        return scan_id

    gone = staged_scan(f"{env_name}-gone")  # no such environment (deleted after the scan was asked for)
    corrupt = staged_scan(env_name)
    mongo_db[SCAN_FETCHES].update_one({"_id": f"{corrupt}/openstack"}, {"$set": {"data": b"not zlib"}})
    for scan_id, environment in ((gone, f"{env_name}-gone"), (corrupt, env_name)):
        write_scan_task.apply_async(args=[[], scan_id, environment])
    for scan_id in (gone, corrupt):
        done = wait_for("the scan ends", lambda s=scan_id: (d := records.get(s)) and d["status"] in FINISHED and d,
                        log=worker.log)
        assert done["status"] == "failed", (done, worker.log())
        assert done["errors"], done
    assert "environment" in records.get(gone)["errors"][0] and env_name in records.get(gone)["errors"][0]
    assert "writer" in records.get(corrupt)["errors"][0], records.get(corrupt)["errors"]
    for scan_id in (gone, corrupt):
        wait_for("the staging removed", lambda s=scan_id: mongo_db[SCAN_FETCHES].count_documents({"scan_id": s}) == 0
                 and mongo_db[SCAN_SPLITS].count_documents({"_id": s}) == 0, deadline_s=30, log=worker.log)


def test_a_worker_killed_while_reading_a_split_scans_apis_leaves_the_split_to_the_other_worker(  # type: ignore[no-untyped-def]
        mongo_db, six_host_lab: ServedLab, settings: Settings, env_name: str, started_workers) -> None:
    """The worker that claimed a scan's split dies before handing the hosts over: Celery redelivers the task to
    the other worker, which takes the claim over (same task, redelivered) and splits the scan once."""

    from ingest.tasks import SCAN_SPLITS, scan_task, task_queue

    store = six_host_lab.enrol(mongo_db, env_name)
    inline = run_scan(six_host_lab, mongo_db.name, env_name, "--inline")
    assert inline["status"] == "completed", inline
    reference = inventory(mongo_db, env_name)
    hosts = sorted(i for i, d in reference[0].items() if d["type"] == "host")
    workers, logs, test_settings = two_workers_behind_a_slow_keystone(
        store, six_host_lab, mongo_db, env_name, settings, started_workers)
    records = ScanRecords(mongo_db)
    scan_id = records.create(env_name, requested_by="test")
    scan_task.apply_async(args=[scan_id, env_name], queue=task_queue(test_settings))
    claim = wait_for("a worker claims the split", lambda: mongo_db[SCAN_SPLITS].find_one({"_id": scan_id}),
                     interval_s=0.02, log=logs)
    victim = next(w for w in workers if w.runs(claim["worker"]["pid"]))
    victim.kill()  # while it reads the APIs (keystone answers slowly), before it hands the hosts over
    survivor = next(w for w in workers if w is not victim)
    done = wait_for("the scan ends", lambda: (d := records.get(scan_id)) and d["status"] in FINISHED and d,
                    log=survivor.log)
    assert done["status"] == "completed", (done.get("errors"), survivor.log())
    assert "(delivery again)" in survivor.log() and "handed to 2 host batch tasks" in survivor.log()
    assert "handed to" not in victim.log()
    assert Counter(f["host"] for f in done["fetches"]) == Counter(hosts)
    assert all(survivor.runs(f["worker"]["pid"]) for f in done["fetches"])
    assert inventory(mongo_db, env_name) == reference
    wait_for("the claim and staging removed", lambda: mongo_db[SCAN_FETCHES].count_documents({"scan_id": scan_id})
             + mongo_db[SCAN_SPLITS].count_documents({"_id": scan_id}) == 0, deadline_s=30, log=survivor.log)
