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
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

import pymongo.errors
from celery import Celery
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
    app.conf.update(task_default_queue=queue)
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
    return scan_environment(stores.mongo, config, scan_id=scan_id, object_id=object_id).status


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
