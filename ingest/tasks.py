"""Scans as Celery tasks on RabbitMQ: `calipso worker` runs them; the API, the scheduler and the CLI
enqueue them.

Celery is the engine: the broker keeps the queue, `acks_late` + `reject_on_worker_lost` hand a task
whose worker died to another worker, `prefetch 1` keeps a busy worker from holding tasks others
could run, time limits stop a stuck scan, and Celery's own retries cover a store that is briefly
away. There is no queue, lease or retry logic of ours here.

The scan record in MongoDB (`ingest.records`) stays the source of truth for progress and status:
the task carries its id, notes on it which worker (host, pid) runs it on each delivery (`worker`,
`attempts`), and does nothing when the scan already ended (a redelivery after a worker finished
but died before its acknowledgement). A redelivered scan starts over; the inventory's writer
stores only what changed, so a scan that runs twice writes no duplicate history versions.

Each MongoDB database has its own queue (`calipso.<database>.tasks`), so workers never run
another deployment's (or another test's) tasks on a shared RabbitMQ.

A scan of more hosts than one batch (CALIPSO_SCAN_HOST_BATCH, default 50; 0: never split) is split:
the `calipso.scan` task reads the OpenStack APIs and hands the hosts to a Celery chord, one
`calipso.fetch_hosts` task per batch (the SSH commands, recorded with their answers in
`scan_fetches`), whose callback `calipso.scan_write` is the environment's one writer: it replays the
recorded answers through the scanner (parse, transform, one batched write, kept outputs), as one
process would have. The first task claims the split (`scan_splits`, keyed by scan id) before reading,
so that the same task delivered twice, or the scan queued twice, starts one chord, not two. A host a
batch could not read is a host error (the scan ends completed_with_errors and keeps that host's stored
objects); a batch task never fails the chord. The
chord's bookkeeping uses Celery's MongoDB result backend in the same database (`celery_taskmeta`,
`celery_groupmeta`); only the batch tasks store a (small) result there.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

import pymongo.errors
from celery import Celery, chord, group
from celery.exceptions import SoftTimeLimitExceeded
from pymongo.database import Database

from core.environments import EnvironmentStore
from core.errors import CalipsoError, StoreUnavailable
from core.services import alive
from core.settings import Settings, get_settings, redact_url
from core.stores import Stores
from ingest.records import FINISHED, ScanRecords

log = logging.getLogger(__name__)

#: A scan that runs longer than this gets Celery's soft time limit (it ends `failed`), then the hard one.
SOFT_TIME_LIMIT_S = 4 * 3600
HARD_TIME_LIMIT_S = SOFT_TIME_LIMIT_S + 300
#: Errors a moment's wait can cure: Celery retries the task (with backoff) instead of failing it.
TRANSIENT = (StoreUnavailable, pymongo.errors.ConnectionFailure)

app = Celery("calipso")
app.conf.update(
    task_acks_late=True,  # acknowledged when done: a worker that dies mid-scan leaves the task queued
    task_reject_on_worker_lost=True,  # ... also when only its pool process died
    worker_prefetch_multiplier=1,  # one task at a time per process; the others stay for other workers
    task_ignore_result=True,  # progress and status live in the scan record
    task_soft_time_limit=SOFT_TIME_LIMIT_S,
    task_time_limit=HARD_TIME_LIMIT_S,
    task_serializer="json", accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    worker_send_task_events=False,
)


def task_queue(settings: Settings) -> str:
    """The queue of a deployment: one per MongoDB database."""
    return f"calipso.{settings.mongo_database}.tasks"


def configure(settings: Settings) -> Celery:
    """Point the Celery app at the settings' RabbitMQ and queue (idempotent)."""
    queue = task_queue(settings)
    if app.conf.broker_url != settings.amqp_url:
        # Celery keeps its producer connections once made: another broker needs new ones (as after a fork).
        app.conf.update(broker_url=settings.amqp_url)
        app._after_fork()
    app.conf.update(task_default_queue=queue, result_backend=settings.mongo_uri,
                    # the chord's bookkeeping, next to the scan records; the batches' results are kept a day
                    mongodb_backend_settings={"database": settings.mongo_database}, result_expires=24 * 3600)
    return app


_stores: dict[int, Stores] = {}


def _process_stores() -> Stores:
    """This process's store connections (a pool process gets its own after the fork)."""
    pid = os.getpid()
    if pid not in _stores:
        _stores[pid] = Stores(get_settings())
    return _stores[pid]


def _worker_identity() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


@app.task(bind=True, name="calipso.scan", autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=60,
          max_retries=5)
def scan_task(self: Any, scan_id: str, environment: str, object_id: str | None = None) -> str:
    """Run the scan `scan_id` (created by whoever enqueued it) of `environment`, all of it or the
    subtree of `object_id`. Returns the scan's final status."""
    from ingest.run import scan_environment

    stores = _process_stores()
    records = ScanRecords(stores.mongo)
    doc = records.get(scan_id)
    if doc is None:
        log.error("scan %s: no such scan record; nothing to do", scan_id)
        return "missing"
    if doc["status"] in FINISHED:
        log.info("scan %s already ended %s; not run again", scan_id, doc["status"])
        return str(doc["status"])
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    records.claim(scan_id, {**_worker_identity(), "redelivered": redelivered})
    try:
        config = EnvironmentStore.from_settings(stores.mongo, stores.settings).decrypt(environment)
    except CalipsoError as exc:  # e.g. the environment was deleted after the scan was asked for
        records.add_error(scan_id, str(exc))
        records.finish(scan_id, "failed", {})
        return "failed"
    log.info("scan %s of %s%s (delivery %s)", scan_id, environment, f" ({object_id})" if object_id else "",
             "again" if redelivered else "first")
    if object_id is None and stores.settings.scan_host_batch > 0:
        return _scan_in_batches(stores, config, scan_id, stores.settings.scan_host_batch, self.request.id,
                                redelivered)
    return scan_environment(stores.mongo, config, scan_id=scan_id, object_id=object_id).status


#: Where host batch tasks leave what they read for the scan's writer (removed once it has written).
SCAN_FETCHES = "scan_fetches"
#: One document per scan being split (`_id`: the scan id): the delivery of its first task that reads and splits it.
SCAN_SPLITS = "scan_splits"
#: A host batch still running after this is cut short: the hosts it did not finish are host errors.
FETCH_SOFT_TIME_LIMIT_S = 1800
FETCH_HARD_TIME_LIMIT_S = FETCH_SOFT_TIME_LIMIT_S + 120


def claim_split(database: Database, scan_id: str, task_id: str | None, redelivered: bool) -> bool:
    """Whether this delivery of a scan's first task is the one to read the APIs and split the scan.

    The first delivery to insert the scan's document in `scan_splits` (its `_id` is the scan id: the
    unique key makes two deliveries at once safe, also on FerretDB) splits it; another delivery (the
    same message twice, the scan queued twice) returns without reading. Celery redelivers a task (same
    task id, `redelivered`) only once the worker that had it is gone, so a redelivery of the claiming
    task takes the claim over: that worker died before it handed the hosts over (`split` not yet set).
    """
    claim = {"_id": scan_id, "task_id": task_id, "worker": _worker_identity(), "at": time.time()}
    try:
        database[SCAN_SPLITS].insert_one(claim)
        return True
    except pymongo.errors.DuplicateKeyError:
        pass
    held = database[SCAN_SPLITS].find_one({"_id": scan_id}) or {}
    if redelivered and task_id is not None and held.get("task_id") == task_id:
        database[SCAN_SPLITS].replace_one({"_id": scan_id}, {**claim, "taken_over_from": held.get("worker")})
        return True
    return False


def _scan_in_batches(stores: Stores, config: Any, scan_id: str, batch_size: int, task_id: str | None = None,
                     redelivered: bool = False) -> str:
    """Read the OpenStack APIs, then scan in process (hosts fit one batch) or hand the hosts to a chord of
    `calipso.fetch_hosts` tasks whose callback `calipso.scan_write` writes. Returns the status so far."""
    from ingest.run import host_roles, read_openstack_raw, scan_environment

    records = ScanRecords(stores.mongo)
    if (records.get(scan_id) or {}).get("split"):
        # A redelivery after the chord was handed over: the chord carries on (its writer ends the scan).
        log.info("scan %s: its host batches are queued already", scan_id)
        return "running"
    if not claim_split(stores.mongo, scan_id, task_id, redelivered):
        log.info("scan %s: another delivery of its first task reads and splits it; this one stops", scan_id)
        held = stores.mongo[SCAN_SPLITS].find_one({"_id": scan_id}) or {}
        if held.get("worker"):  # the record names the worker that runs the scan, not this one (still an attempt)
            records.collection.update_one({"_id": scan_id}, {"$set": {"worker": held["worker"]}})
        return "running"
    records.start(scan_id)
    started = time.perf_counter()
    try:
        raw, docs = read_openstack_raw(config)
    except CalipsoError as exc:
        records.add_error(scan_id, str(exc))
        records.finish(scan_id, "failed", {}, {"openstack_s": time.perf_counter() - started})
        stores.mongo[SCAN_SPLITS].delete_one({"_id": scan_id})
        return "failed"
    hosts = sorted(d["id"] for d in docs if d["type"] == "host")
    if len(hosts) <= batch_size:
        try:
            return scan_environment(stores.mongo, config, scan_id=scan_id, openstack_raw=raw,
                                    openstack_s=time.perf_counter() - started).status
        finally:
            stores.mongo[SCAN_SPLITS].delete_one({"_id": scan_id})  # ended in this process: nothing to guard
    roles = host_roles(docs)
    batches = [hosts[start:start + batch_size] for start in range(0, len(hosts), batch_size)]
    stage_openstack(stores.mongo, scan_id, raw, hosts, time.perf_counter() - started)
    header = group(fetch_hosts_task.s(scan_id, config.name, batch, {h: roles.get(h, []) for h in batch}, number)
                   for number, batch in enumerate(batches))
    try:
        chord(header)(scan_writer(scan_id, config.name))
    except Exception as exc:
        # no writer will come: the scan ends here, and what it staged goes with it
        _fail_scan(records, scan_id, f"its host batches could not be queued: {type(exc).__name__}: {exc}")
        drop_staged(stores.mongo, scan_id)
        raise
    stores.mongo["scans"].update_one({"_id": scan_id}, {"$set": {"split": {
        "batches": len(batches), "batch_size": batch_size, "hosts": len(hosts)}}})
    log.info("scan %s: %d hosts handed to %d host batch tasks", scan_id, len(hosts), len(batches))
    return "running"


def stage_openstack(database: Database, scan_id: str, raw: Any, hosts: list[str], seconds: float) -> None:
    """Leave a split scan's OpenStack read (a RawOpenStack) and its hosts for the writer."""
    import dataclasses

    from ingest.recording import _pack

    database[SCAN_FETCHES].replace_one(
        {"_id": f"{scan_id}/openstack"},
        {"scan_id": scan_id, "part": "openstack", "data": _pack(dataclasses.asdict(raw)), "hosts": hosts,
         "openstack_s": seconds, "queued_at": time.time()}, upsert=True)


def scan_writer(scan_id: str, environment: str) -> Any:
    """The chord's callback: the writer, which also runs when a batch task failed outright."""
    return write_scan_task.s(scan_id, environment).on_error(scan_batches_failed_task.s(scan_id, environment))


@app.task(name="calipso.scan_batches_failed")
def scan_batches_failed_task(request: Any, exc: BaseException, traceback: Any, scan_id: str,
                             environment: str) -> None:
    """The writer's error callback. Celery runs the chord's callback only when every batch task succeeded;
    one that failed outright (its hard time limit, its retries used up) would leave the scan running for
    ever. The writer is queued anyway: the failed batch left nothing staged, so its hosts are host errors."""
    log.warning("scan %s: a host batch task failed (%s); writing what the others read", scan_id, exc)
    write_scan_task.apply_async(args=[[], scan_id, environment])


@app.task(bind=True, name="calipso.fetch_hosts", ignore_result=False, autoretry_for=TRANSIENT, retry_backoff=True,
          retry_backoff_max=60, max_retries=5, soft_time_limit=FETCH_SOFT_TIME_LIMIT_S,
          time_limit=FETCH_HARD_TIME_LIMIT_S)
def fetch_hosts_task(self: Any, scan_id: str, environment: str, hosts: list[str], roles: dict[str, list[str]],
                     batch: int) -> dict[str, Any]:
    """Run the host commands of one batch of a scan's hosts and leave what they answered in
    `scan_fetches` (one document per host) for the scan's writer. Never fails: whatever stops it makes
    the hosts it did not finish host errors. Returns a short summary (the chord's result)."""
    from ingest.recording import _pack
    from ingest.run import FetchedHosts, fetch_hosts

    stores = _process_stores()
    identity = _worker_identity()
    doc = ScanRecords(stores.mongo).get(scan_id)
    if doc is None or doc["status"] in FINISHED or doc.get("abort_requested"):
        return {"batch": batch, "hosts": [], "skipped": True, "worker": identity}
    started = time.perf_counter()
    fetched = FetchedHosts()
    log.info("scan %s: host batch %d (%d hosts) started%s", scan_id, batch, len(hosts),
             " again" if (self.request.delivery_info or {}).get("redelivered") else "")
    try:
        config = EnvironmentStore.from_settings(stores.mongo, stores.settings).decrypt(environment)
        fetch_hosts(stores.mongo, config, hosts, roles, fetched)
    except SoftTimeLimitExceeded:
        for host in hosts:
            if host not in fetched.commands or host in fetched.errors:
                fetched.errors.setdefault(host, f"its host batch was cut short after {FETCH_SOFT_TIME_LIMIT_S} s")
    except Exception as exc:  # noqa: BLE001 - a batch that fails is its hosts' error, never a lost scan
        for host in hosts:
            fetched.errors.setdefault(host, f"its host batch task failed: {type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - started
    doc = ScanRecords(stores.mongo).get(scan_id)
    if doc is None or doc["status"] in FINISHED:
        # A redelivered batch whose first reading was written already (its result was stored just before its
        # worker died): nothing left to stage for.
        return {"batch": batch, "hosts": [], "skipped": True, "worker": identity}
    docs = [{"_id": f"{scan_id}/host/{host}/{self.request.id}", "scan_id": scan_id, "part": "host", "host": host,
             "batch": batch, "task_id": self.request.id, "worker": identity, "at": time.time(),
             "commands": len(fetched.commands.get(host, [])), "error": fetched.errors.get(host),
             "error_command": fetched.error_commands.get(host),
             "data": _pack(fetched.commands.get(host, []))} for host in hosts]
    for doc in docs:  # a redelivered batch replaces what its first delivery left
        stores.mongo[SCAN_FETCHES].replace_one({"_id": doc["_id"]}, doc, upsert=True)
    if (ScanRecords(stores.mongo).get(scan_id) or {"status": "failed"})["status"] in FINISHED:
        # the writer ended the scan (and removed what was staged) while this batch staged: nothing reads it
        stores.mongo[SCAN_FETCHES].delete_many({"_id": {"$in": [doc["_id"] for doc in docs]}})
    log.info("scan %s: host batch %d (%d hosts) read in %.1f s, %d host errors", scan_id, batch, len(hosts),
             seconds, len(fetched.errors))
    return {"batch": batch, "hosts": hosts, "errors": len(fetched.errors), "seconds": seconds, "worker": identity}


@app.task(bind=True, name="calipso.scan_write", autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=60,
          max_retries=5)
def write_scan_task(self: Any, batches: list[dict[str, Any]], scan_id: str, environment: str) -> str:
    """The chord's callback, the scan's one writer: the scanner on what the host batches recorded. What
    they staged is removed however the write ends (kept only for a retry after a store error). A writer
    that fails ends the scan `failed` saying why. Returns the scan's final status."""
    stores = _process_stores()
    records = ScanRecords(stores.mongo)
    retried = False
    try:
        doc = records.get(scan_id)
        if doc is None or doc["status"] in FINISHED:
            # gone, or written by an earlier delivery of this task (which died before its acknowledgement)
            return str(doc["status"]) if doc else "missing"
        return _write_staged_scan(stores, records, scan_id, environment, len(batches))
    except TRANSIENT as exc:
        retried = self.request.retries < (self.max_retries or 0)
        if not retried:
            _fail_scan(records, scan_id, f"its writer failed: {type(exc).__name__}: {exc}")
        raise  # Celery retries it (autoretry_for), with what was staged still there
    except Exception as exc:
        _fail_scan(records, scan_id, f"its writer failed: {type(exc).__name__}: {exc}")
        raise
    finally:
        if not retried:
            drop_staged(stores.mongo, scan_id)


def _write_staged_scan(stores: Stores, records: ScanRecords, scan_id: str, environment: str, batches: int) -> str:
    """The writer's work: what the batches staged, replayed through the scanner and written."""
    from ingest.recording import Recording, _unpack
    from ingest.run import write_fetched_scan
    from ingest.sources.openstack.fetch import RawOpenStack
    from ingest.transport import CommandResult

    writer_started = time.time()
    staged = stores.mongo[SCAN_FETCHES]
    head = staged.find_one({"_id": f"{scan_id}/openstack"})
    try:
        config = EnvironmentStore.from_settings(stores.mongo, stores.settings).decrypt(environment)
        if head is None:
            raise CalipsoError(f"scan {scan_id}: its OpenStack read was not staged for the writer")
    except CalipsoError as exc:
        records.add_error(scan_id, str(exc))
        records.finish(scan_id, "failed", {})
        return "failed"
    commands: dict[str, dict[str, CommandResult]] = {}
    errors: dict[str, str] = {}
    error_commands: dict[str, str | None] = {}
    fetches: list[dict[str, Any]] = []
    for part in sorted(staged.find({"scan_id": scan_id, "part": "host"}), key=lambda d: d["at"]):
        # the latest reading of a host wins (a batch delivered twice read it twice)
        commands[part["host"]] = {c: CommandResult(status, out, err) for c, status, out, err in _unpack(part["data"])}
        errors.pop(part["host"], None)
        if part.get("error"):
            errors[part["host"]] = part["error"]
            error_commands[part["host"]] = part.get("error_command")
        fetches.append({"host": part["host"], "batch": part["batch"], "worker": part["worker"],
                        "commands": part["commands"], "task_id": part["task_id"]})
    for host in head["hosts"]:
        if host not in commands:
            errors[host] = "its host batch task reported nothing (it was lost or skipped)"
    records.collection.update_one({"_id": scan_id}, {"$set": {"fetches": fetches, "writer": _worker_identity()}})
    recording = Recording(scan_id, environment, None, RawOpenStack(**_unpack(head["data"])), commands)
    workers = {(f["worker"]["host"], f["worker"]["pid"]) for f in fetches}
    timings = {"openstack_s": head["openstack_s"], "hosts_fetch_s": writer_started - head["queued_at"],
               "batches": float(batches), "fetch_workers": float(len(workers))}
    for task_id in sorted({f["task_id"] for f in fetches}):  # the batches' chord results are of no more use
        try:
            app.AsyncResult(task_id).forget()
        except Exception:  # noqa: BLE001,S110 - they expire anyway (result_expires)
            pass
    return write_fetched_scan(stores.mongo, config, scan_id, recording, errors, error_commands, timings).status


def _fail_scan(records: ScanRecords, scan_id: str, why: str) -> None:
    """End a scan `failed` with `why`, unless it ended already (the scanner records its own failures)."""
    try:
        doc = records.get(scan_id)
        if doc is not None and doc["status"] not in FINISHED:
            records.add_error(scan_id, why)
            records.finish(scan_id, "failed", {})
    except pymongo.errors.PyMongoError as exc:
        log.error("scan %s: %s; and it could not be marked failed: %s", scan_id, why, exc)


def drop_staged(database: Database, scan_id: str) -> None:
    """Remove what a split scan staged for its writer, and its split claim: its answers never outlive it."""
    try:
        database[SCAN_FETCHES].delete_many({"scan_id": scan_id})
        database[SCAN_SPLITS].delete_one({"_id": scan_id})  # the scan has ended: its status guards it now
    except pymongo.errors.PyMongoError as exc:
        log.error("scan %s: what its host batches staged could not be removed: %s", scan_id, exc)


@app.task(bind=True, name="calipso.rescan_object", autoretry_for=TRANSIENT, retry_backoff=True,
          retry_backoff_max=60, max_retries=5)
def rescan_object_task(self: Any, scan_id: str, environment: str, object_id: str) -> str:
    """Rescan one object's subtree (a host: its CLI facts and the links touching it)."""
    return scan_task.run(scan_id, environment, object_id)


class BrokerUnavailable(CalipsoError):
    """The task broker (RabbitMQ) could not take the task."""


def workers_alive(database: Database) -> int:
    """How many `calipso worker` processes of this database beat their heartbeat."""
    return len(alive(database, "worker"))


def enqueue_scan(settings: Settings, database: Database, scan_id: str, environment: str,
                 object_id: str | None = None) -> None:
    """Hand the (created) scan `scan_id` to the workers. When RabbitMQ does not take it, the scan
    record ends `failed` saying why, and BrokerUnavailable is raised."""
    configure(settings)
    task = rescan_object_task if object_id else scan_task
    args = [scan_id, environment, object_id] if object_id else [scan_id, environment]
    try:
        task.apply_async(args=args, queue=task_queue(settings),
                         retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5})
    except Exception as exc:  # noqa: BLE001 - kombu raises several kinds; all mean "not queued"
        message = f"cannot queue the scan: the task broker at {redact_url(settings.amqp_url)} did not take it " \
                  f"({type(exc).__name__}: {exc})"
        records = ScanRecords(database)
        records.add_error(scan_id, message)
        records.finish(scan_id, "failed", {})
        raise BrokerUnavailable(message) from None
    log.info("scan %s of %s queued on %s", scan_id, environment, task_queue(settings))


@dataclass
class QueuedScan:
    """What a scan run by a worker ended as (the shape the scheduler expects of a scan result)."""

    scan_id: str
    status: str


def wait_for_scan(database: Database, scan_id: str, poll_s: float = 0.5,
                  timeout_s: float = HARD_TIME_LIMIT_S + 600) -> dict[str, Any]:
    """Poll the scan record until it ends; returns it (status `pending`/`running` on timeout)."""
    deadline = time.monotonic() + timeout_s
    records = ScanRecords(database)
    while True:
        doc = records.get(scan_id) or {"_id": scan_id, "status": "failed"}
        if doc["status"] in FINISHED or time.monotonic() > deadline:
            return doc
        time.sleep(poll_s)


def queued_scan_runner(settings: Settings) -> Any:
    """A scheduler's scan runner that hands the scan to the workers when one is alive (and waits for
    its end), and scans in process otherwise."""
    from ingest.run import scan_environment

    def run(database: Database, environment: Any, scan_id: str) -> Any:
        if not workers_alive(database):
            return scan_environment(database, environment, scan_id=scan_id)
        enqueue_scan(settings, database, scan_id, environment.name)
        return QueuedScan(scan_id, str(wait_for_scan(database, scan_id)["status"]))
    return run


# -- monitoring rounds: a task per host batch ------------------------------------------------------------

#: A monitoring batch still running after this is cut short (its hosts get `unknown` this round).
MONITOR_SOFT_TIME_LIMIT_S = 300
_transports: dict[tuple[int, str], tuple[str, Any]] = {}


def _monitor_transport(stores: Stores, environment: str) -> Any:
    """This process's monitoring transport for the environment, kept between rounds (its SSH sessions stay
    open); made again when the environment's stored configuration changed."""
    from ingest.monitoring.runner import environment_transport

    config = EnvironmentStore.from_settings(stores.mongo, stores.settings).decrypt(environment)
    fingerprint = config.model_dump_json()
    key = (os.getpid(), environment)
    kept = _transports.get(key)
    if kept is None or kept[0] != fingerprint:
        if kept is not None:
            kept[1].close()
        _transports[key] = (fingerprint, environment_transport(config, stores.mongo))
    return _transports[key][1]


@app.task(bind=True, name="calipso.monitor_hosts", ignore_result=False, autoretry_for=TRANSIENT, retry_backoff=True,
          retry_backoff_max=10, max_retries=3, soft_time_limit=MONITOR_SOFT_TIME_LIMIT_S,
          time_limit=MONITOR_SOFT_TIME_LIMIT_S + 60)
def monitor_hosts_task(self: Any, environment: str, plans: list[dict[str, Any]],
                       networks: dict[str, Any]) -> list[dict[str, Any]]:
    """Check one batch of a monitoring round's hosts (`calipso monitor --workers` enqueues one per batch, with
    the plans it made from the inventory) and return each host's cost and results; the round's coordinator
    writes them."""
    import dataclasses

    from ingest.monitoring.runner import check_batch, plan_from_json

    stores = _process_stores()
    identity = _worker_identity()
    outcomes = check_batch([plan_from_json(plan, networks) for plan in plans], _monitor_transport(stores, environment),
                           checked_by=f"{identity['host']}:{identity['pid']}")
    return [{"cost": dataclasses.asdict(cost), "results": [dataclasses.asdict(r) for r in results]}
            for cost, results in outcomes]


def worker_checks(settings: Settings, environment: str, batch_size: int = 50,
                  timeout_s: float = MONITOR_SOFT_TIME_LIMIT_S + 120) -> Any:
    """A `Monitor(check_hosts=...)` that hands each round's hosts to the workers, one `calipso.monitor_hosts`
    task per batch of `batch_size`, and waits for their answers. A batch that fails or does not answer in
    `timeout_s` gives its hosts `unknown` for the round (the hosts are not to blame)."""
    from ingest.monitoring.checks import HostPlan, Result
    from ingest.monitoring.runner import HostCost, plan_to_json

    configure(settings)

    def check(plans: list[HostPlan], round_number: int) -> list[tuple[HostCost, list[Result]]]:
        chunks = [plans[start:start + batch_size] for start in range(0, len(plans), max(1, batch_size))]
        batches = [[plan.host for plan in chunk] for chunk in chunks]
        networks = plans[0].networks if plans else {}  # one dict shared by the round's plans
        job = group(monitor_hosts_task.s(environment, [plan_to_json(plan) for plan in chunk], networks)
                    for chunk in chunks).apply_async(queue=task_queue(settings))
        try:
            answers: list[Any] = job.get(timeout=timeout_s, propagate=False, interval=0.1)
        except Exception as exc:  # noqa: BLE001 - celery's TimeoutError, or the result store gone: a lost round
            answers = [exc] * len(batches)
        finally:
            try:
                job.forget()
            except Exception:  # noqa: BLE001,S110 - results expire anyway (result_expires)
                pass
        by_host: dict[str, tuple[HostCost, list[Result]]] = {}
        for batch, answer in zip(batches, answers, strict=True):
            if isinstance(answer, list):
                for item in answer:
                    cost = HostCost(**item["cost"])
                    by_host[cost.host] = (cost, [Result(**r) for r in item["results"]])
                continue
            why = f"its monitoring task failed: {type(answer).__name__}: {answer}"
            for host in batch:
                by_host[host] = (HostCost(host, 0, 0.0, 0.0, why),
                                 [Result("object", host, "reachability", "unknown", why)])
        missing = "its monitoring task did not check it"
        return [by_host.get(plan.host) or (HostCost(plan.host, 0, 0.0, 0.0, missing),
                                           [Result("object", plan.host, "reachability", "unknown", missing)])
                for plan in plans]
    return check
