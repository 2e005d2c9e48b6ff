"""The back end's long-running processes: `calipso projector`, `calipso worker`, `calipso run`, and
`calipso status` (are they alive, how far behind is each environment's graph)."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import click

from calipso.common import cli_settings, err
from calipso.output import emit, format_option
from core.stores import Stores


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


@click.command("projector")
@click.option("--poll-interval", default=0.2, show_default=True, type=click.FloatRange(0.01, 60), metavar="S",
              help="Seconds between looks at the changes feed's counter.")
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(1, 100000))
def projector(poll_interval: float, batch_size: int) -> None:
    """Follow EVERY environment's changes feed into Neo4j until SIGTERM or Ctrl-C: any write to the
    inventory reaches the graph within about a second. New environments are found on their own;
    each keeps its checkpoint in Neo4j, so a restart resumes where the last run stopped."""
    from core.services import Heartbeat
    from graphmodel.follower import ProjectorService
    from migrations import runner as migration_runner

    stop = _stop_on_signals()
    with Stores(cli_settings()) as stores:
        migration_runner.apply_neo4j(stores.neo4j)
        service = ProjectorService(stores.mongo, stores.neo4j, poll_interval_s=poll_interval, batch_size=batch_size,
                                   on_batch=lambda env, s: err.print(
                                       f"{env}: applied up to change {s.last_seq} ({s.changes} changes)",
                                       highlight=False))
        err.print(f"projector: following every environment's changes feed every {poll_interval:g}s "
                  "(SIGTERM or Ctrl-C to stop)")
        with Heartbeat(stores.mongo, "projector") as heartbeat:
            heartbeat.details = {"poll_interval_s": poll_interval}
            stats = service.run(stop.is_set)
    err.print(f"projector stopped after {stats.changes} changes")


@click.command("worker")
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Tasks run at once (pool processes).")
@click.option("--loglevel", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
def worker(concurrency: int, loglevel: str) -> None:
    """A Celery worker on the stack's RabbitMQ (AMQP_URL) running scans and object rescans that the API,
    the scheduler and `calipso scan` hand it (queue `calipso.<MONGO_DATABASE>.tasks`), the host batches of
    scans split across workers (CALIPSO_SCAN_HOST_BATCH) and of `calipso monitor --workers` rounds. Tasks are
    acknowledged when done, so a worker that dies mid-scan leaves its scan to another; start as many
    as you like, here or on other machines. SIGTERM: finish the scan under way, then stop."""
    import os
    import socket

    from celery import signals

    from core.services import Heartbeat
    from ingest.tasks import configure, task_queue
    from migrations import runner as migration_runner

    settings = cli_settings()
    app = configure(settings)
    with Stores(settings) as stores:
        migration_runner.apply_mongo(stores.mongo)
    heartbeat: list[Heartbeat] = []

    @signals.worker_ready.connect(weak=False)
    def ready(**_: Any) -> None:
        beat = Heartbeat(Stores(settings).mongo, "worker")
        beat.details = {"queue": task_queue(settings), "concurrency": concurrency}
        heartbeat.append(beat.start())

    @signals.worker_shutdown.connect(weak=False)
    def shutdown(**_: Any) -> None:
        for beat in heartbeat:
            beat.stop()

    err.print(f"worker: queue {task_queue(settings)}, {concurrency} at a time (SIGTERM or Ctrl-C to stop)")
    app.worker_main(["worker", "--queues", task_queue(settings), "--concurrency", str(concurrency),
                     "--pool", "prefork", "--loglevel", loglevel.upper(),
                     "--hostname", f"calipso.{os.getpid()}@{socket.gethostname()}",
                     "--without-gossip", "--without-mingle"])


def backend_children(settings: Any, host: str = "127.0.0.1", port: int = 8080, worker_concurrency: int = 1,
                     listener: bool = True, api: bool = True) -> list[Any]:
    """The children `calipso run` supervises: API (unless `api` is false), worker, scheduler, projector,
    and the listener when asked and an environment has an amqp section."""
    from calipso.supervisor import Child, calipso_command
    from core.environments import ENVIRONMENTS
    from migrations import runner as migration_runner

    with Stores(settings) as stores:
        migration_runner.apply_mongo(stores.mongo)
        migration_runner.apply_neo4j(stores.neo4j)
        with_amqp = sorted(d["name"] for d in stores.mongo[ENVIRONMENTS].find({"amqp": {"$ne": None}}, {"name": 1})
                           if d.get("name"))
    commands = {"api": ["serve", "--host", host, "--port", str(port)]} if api else {}
    commands.update({"worker": ["worker", "--concurrency", str(worker_concurrency)],
                     "scheduler": ["scheduler"], "projector": ["projector"]})
    if listener and with_amqp:
        commands["listener"] = ["listen"]
    elif listener:
        err.print("no environment has an amqp section: the listener is not started")
    logs = settings.home / "logs" / "run"
    return [Child(name, [*calipso_command(), *argv], logs / f"{name}.log") for name, argv in commands.items()]


def supervise_in_background(children: list[Any], stop_grace_s: float = 30.0) -> tuple[threading.Event, threading.Thread]:
    """Supervise `children` from a thread (the caller serves something else); set the event, then join
    the thread, to stop them all (SIGKILL after `stop_grace_s`)."""
    from calipso.supervisor import Supervisor

    stop = threading.Event()
    supervisor = Supervisor(children, lambda line: err.print(f"run: {line}", highlight=False),
                            stop_grace_s=stop_grace_s)
    thread = threading.Thread(target=supervisor.run,
                              args=(stop.is_set,), name="supervisor", daemon=True)
    thread.start()
    return stop, thread


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the REST API listens on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Port of the REST API.")
@click.option("--worker-concurrency", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Scans the worker runs at once.")
@click.option("--listener/--no-listener", default=True, show_default=True,
              help="Run `calipso listen` when an environment has an amqp section.")
def run(host: str, port: int, worker_concurrency: int, listener: bool) -> None:
    """The whole back end on one machine until SIGTERM or Ctrl-C: the REST API (`calipso serve`), one
    worker, the scheduler, the listener (when an environment has an amqp section) and the projector,
    each a supervised child process: one that crashes is started again (backoff 1 s doubling to 30 s);
    SIGTERM or Ctrl-C stops them all (SIGKILL after 30 s). Children's output goes to
    CALIPSO_HOME/logs/run/<name>.log."""
    from calipso.supervisor import Supervisor

    children = backend_children(cli_settings(), host, port, worker_concurrency, listener)
    stop = _stop_on_signals()
    err.print(f"calipso run: {', '.join(c.name for c in children)}; API on http://{host}:{port}/ "
              "(SIGTERM or Ctrl-C to stop)")
    Supervisor(children, lambda line: err.print(f"run: {line}", highlight=False)).run(stop.is_set)
    err.print("run: stopped")


def _check_alive(kind: str) -> None:
    import socket

    from core.errors import StoreUnavailable
    from core.services import alive

    try:
        with Stores(cli_settings()) as stores:
            here = [d for d in alive(stores.mongo, kind) if d.get("host") == socket.gethostname()]
    except StoreUnavailable as exc:
        err.print(f"{kind}: cannot tell ({exc})", highlight=False)
        sys.exit(1)
    if not here:
        err.print(f"no live {kind} on {socket.gethostname()}", highlight=False)
        sys.exit(1)
    click.echo(f"{kind} alive: " + ", ".join(str(d["_id"]) for d in here))


def _amqp_check(url: str) -> dict[str, Any]:
    import kombu

    from core.settings import redact_url

    try:
        with kombu.Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
        return {"name": "rabbitmq", "ok": True, "detail": redact_url(url)}
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return {"name": "rabbitmq", "ok": False, "detail": f"{redact_url(url)}: {type(exc).__name__}: {exc}"}


@click.command("status")
@click.option("--alive", "alive_kind", default=None, type=click.Choice(["projector", "worker", "scheduler", "listener"]),
              help="Only check that a process of this kind on this host beats its heartbeat: exit 0 if so, 1 if "
                   "not (a container's health check).")
@format_option
def status(alive_kind: str | None, output_format: str) -> None:
    """The back end at a glance: whether MongoDB, Neo4j and RabbitMQ answer; the projector, workers,
    schedulers and listeners alive (by their heartbeats); each environment's last scan and projection
    lag (changes in MongoDB's feed not yet in Neo4j). Exit status 1 if a store does not answer."""
    import json

    if alive_kind is not None:
        _check_alive(alive_kind)
        return

    from core.environments import ENVIRONMENTS
    from core.services import services
    from graphmodel.follower import projection_lag
    from ingest.records import SCANS

    settings = cli_settings()
    processes: list[dict[str, Any]] = []
    environments: list[dict[str, Any]] = []
    with Stores(settings) as stores:
        checks = [vars(check) for check in stores.health()] + [_amqp_check(settings.amqp_url)]
        up = {check["name"] for check in checks if check["ok"]}
        if "mongodb" in up:
            processes = [{"kind": d.get("kind"), "id": d["_id"], "alive": d["alive"], "beat_at": d.get("beat_at")}
                         for d in sorted(services(stores.mongo), key=lambda d: (d.get("kind") or "", d["_id"]))]
            configured = {d["name"] for d in stores.mongo[ENVIRONMENTS].find({}, {"name": 1}) if d.get("name")}
            from graphmodel.inventory import CHANGES
            configured |= set(stores.mongo[CHANGES].distinct("environment"))
            lags = ({lag.environment: lag for lag in projection_lag(stores.mongo, stores.neo4j, sorted(configured))}
                    if "neo4j" in up else {})
            for name in sorted(configured | set(lags)):
                last = stores.mongo[SCANS].find_one({"environment": name}, sort=[("created_at", -1)])
                lag = lags.get(name)
                environments.append({
                    "environment": name, "last_scan": last["_id"] if last else None,
                    "scan_status": last.get("status") if last else None,
                    "scanned_at": (last.get("finished_at") or last.get("created_at")) if last else None,
                    "checkpoint": lag.checkpoint if lag else None,
                    "projection_lag": lag.changes if lag else None})
    if output_format == "json":
        click.echo(json.dumps({"stores": checks, "processes": processes, "environments": environments},
                              indent=2, default=str))
    else:
        emit(checks, ["name", "ok", "detail"], "table", title="stores")
        emit(processes, ["kind", "id", "alive", "beat_at"], "table", title="processes")
        emit(environments, ["environment", "last_scan", "scan_status", "scanned_at", "checkpoint", "projection_lag"],
             "table", title="environments")
    if not all(check["ok"] for check in checks):
        sys.exit(1)


PIPELINE_COMMANDS = [projector, worker, run, status]
