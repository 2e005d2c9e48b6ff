"""`calipso schedule add|list|delete` and `calipso scheduler`, the process that runs them."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from typing import Any

import click

from calipso.common import CalipsoGroup, cli_settings, err
from calipso.env_commands import environment_store
from calipso.output import emit, format_option
from core.stores import Stores

SCHEDULE_COLUMNS = ["schedule_id", "environment", "description", "enabled", "next_run", "runs", "last_run_at",
                    "last_status", "last_scan_id", "owner"]


def _row(document: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in document.items() if k not in ("_id", "recurrence")}
    row["schedule_id"] = document["_id"]
    return row


@click.group("schedule", cls=CalipsoGroup)
def schedule() -> None:
    """Scheduled scans (times in UTC), run by `calipso scheduler`."""


@schedule.command("add")
@click.argument("environment")
@click.option("--every", required=True, type=click.Choice(["once", "hourly", "daily", "weekly", "monthly"]),
              help="How often.")
@click.option("--at", "at", default=None,
              help="When, in UTC. once: ISO time or `now` (default); hourly: MM; daily: HH:MM; weekly: "
                   "`DAY HH:MM` (e.g. `sun 02:00`); monthly: `DD HH:MM` (31 = the month's last day when shorter).")
@format_option
def schedule_add(environment: str, every: str, at: str | None, output_format: str) -> None:
    """Scan ENVIRONMENT on a schedule."""
    from ingest.schedules import ScheduleStore, parse_recurrence

    recurrence = parse_recurrence(every, at)
    with Stores(cli_settings()) as stores:
        environment_store(stores).get(environment)  # a clear error now rather than at run time
        document = ScheduleStore(stores.mongo).add(environment, recurrence)
    emit([_row(document)], ["schedule_id", "environment", "description", "next_run"], output_format)


@schedule.command("list")
@click.option("--env", "environment", default=None, help="Only this environment's schedules.")
@format_option
def schedule_list(environment: str | None, output_format: str) -> None:
    """Every schedule: when it runs next, how its last run ended."""
    from ingest.schedules import ScheduleStore

    with Stores(cli_settings()) as stores:
        rows = [_row(d) for d in ScheduleStore(stores.mongo).list(environment)]
    emit(rows, SCHEDULE_COLUMNS, output_format)


@schedule.command("delete")
@click.argument("schedule_id")
def schedule_delete(schedule_id: str) -> None:
    """Delete a schedule (a scan it started runs to its end)."""
    from ingest.schedules import ScheduleStore

    with Stores(cli_settings()) as stores:
        ScheduleStore(stores.mongo).delete(schedule_id)
    err.print(f"schedule {schedule_id} deleted")


@click.command("scheduler")
@click.option("--poll-interval", default=10.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds between looks for due schedules.")
@click.option("--lease-minutes", default=10.0, show_default=True, type=click.FloatRange(0.05, 1440),
              help="A run whose scheduler has not renewed its lease for this long is taken over.")
@click.option("--once", "just_once", is_flag=True, help="Run what is due now, then exit.")
@format_option
def scheduler(poll_interval: float, lease_minutes: float, just_once: bool, output_format: str) -> None:
    """Run due scheduled scans until stopped (SIGTERM or Ctrl-C: the scan under way finishes first).
    Any number of schedulers may run against one MongoDB: each run is claimed by one of them."""
    from core.services import Heartbeat
    from ingest.schedules import Scheduler
    from ingest.tasks import queued_scan_runner
    from migrations import runner as migration_runner

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    settings = cli_settings()
    with Stores(settings) as stores:
        migration_runner.apply_mongo(stores.mongo)
        # With a `calipso worker` alive, a due scan is queued for the workers; otherwise it runs here.
        worker = Scheduler(stores.mongo, environment_store(stores), lease=timedelta(minutes=lease_minutes),
                           run_scan=queued_scan_runner(settings))
        if just_once:
            runs = worker.run_due(stop)
            emit([vars(r) for r in runs], ["schedule_id", "environment", "scan_id", "status", "next_run"],
                 output_format)
            return
        err.print(f"scheduler {worker.owner}: polling every {poll_interval:g}s (SIGTERM or Ctrl-C to stop)")
        with Heartbeat(stores.mongo, "scheduler"):
            worker.loop(stop, poll_interval, on_run=lambda run: err.print(
                f"schedule {run.schedule_id}: scan {run.scan_id} of {run.environment} {run.status}; "
                f"next run {run.next_run or 'none'}", highlight=False))
    err.print("scheduler stopped")
