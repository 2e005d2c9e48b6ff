"""`calipso scan NAME [--object ID]`, `calipso scan abort SCAN_ID`, `calipso scan replay SCAN_ID`,
`calipso scan hierarchy`, `calipso scans list|show`."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from calipso.common import CalipsoGroup, cli_settings, err
from calipso.env_commands import environment_store, save_lab_environment
from calipso.output import emit, format_option
from core.errors import CalipsoError
from core.stores import Stores

SCAN_COLUMNS = ["scan_id", "environment", "scope", "status", "requested_by", "created_at", "duration_s", "errors"]


class _ScanGroup(CalipsoGroup):
    """`scan NAME ...` runs a scan; `scan abort ID` is a subcommand. A first word that is not a
    subcommand is taken for an environment name (`scan run NAME` says the same explicitly)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("scan", cls=_ScanGroup)
def scan() -> None:
    """Scan an environment (`calipso scan NAME [--object ID]`), abort a running scan
    (`calipso scan abort SCAN_ID`), or print what a scan finds and how (`calipso scan hierarchy`)."""


@scan.command("hierarchy")
def scan_hierarchy() -> None:
    """Print what a scan finds and how (ingest/hierarchy.py): object types under their parents with
    the source and condition of each, the link finders and their evidence, the host commands, and
    the OpenStack API resources read."""
    from ingest.hierarchy import print_hierarchy

    print_hierarchy(sys.stdout)


def scan_row(doc: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in doc.items() if k != "_id"}
    row["scan_id"] = doc["_id"]
    row["errors"] = len(doc.get("errors") or [])
    if doc.get("duration_s") is not None:
        row["duration_s"] = round(doc["duration_s"], 1)
    return row


@scan.command("run")
@click.argument("environment")
@click.option("--object", "object_id", default=None, metavar="ID",
              help="Rescan only this object's subtree (e.g. a host: its CLI facts and the links touching it).")
@click.option("--lab", "from_lab", is_flag=True,
              help="First add (or refresh) ENVIRONMENT from the lab `calipso lab up` is serving.")
@click.option("--concurrency", default=None, type=click.IntRange(1, 256),
              help="Hosts scanned at once (default: the environment's cli.concurrency); scans in this process.")
@click.option("--inline", "mode", flag_value="inline",
              help="Scan in this process (default when no `calipso worker` is alive).")
@click.option("--queue", "mode", flag_value="queue",
              help="Hand the scan to the workers and follow it (default when a `calipso worker` is alive).")
@format_option
def scan_run(environment: str, object_id: str | None, from_lab: bool, concurrency: int | None,
             mode: str | None, output_format: str) -> None:
    """Scan ENVIRONMENT: OpenStack APIs, then its hosts over SSH, then the links; store the inventory
    with its history in MongoDB (`calipso projector` carries it into Neo4j; or `calipso graph sync
    ENVIRONMENT`). With a `calipso worker` alive the scan is queued for the workers and followed here
    until it ends; otherwise (or with --inline) it runs in this process."""
    from ingest.records import ScanRecords
    from ingest.run import scan_environment
    from ingest.tasks import workers_alive
    from migrations import runner as migration_runner

    settings = cli_settings()
    with Stores(settings) as stores:
        store = environment_store(stores)
        if from_lab:
            save_lab_environment(stores, environment, settings)
        config = store.decrypt(environment)
        if concurrency is not None:
            config.cli.concurrency = concurrency
        migration_runner.apply_mongo(stores.mongo)
        scan_id = ScanRecords(stores.mongo).create(environment, scope=object_id, requested_by="cli")
        if mode is None:
            mode = "queue" if workers_alive(stores.mongo) and concurrency is None else "inline"
        if mode == "queue":
            _queue_and_follow(stores, settings, scan_id, environment, object_id, output_format)
            return
        if output_format == "table":
            err.print(f"scan {scan_id} of {environment}" + (f" (subtree of {object_id})" if object_id else "")
                      + f"; abort it with `calipso scan abort {scan_id}`")
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True, disable=output_format == "json") as bar:
            tasks: dict[str, Any] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(phase, total=total)
                bar.update(tasks[phase], completed=done, total=total)

            result = scan_environment(stores.mongo, config, progress, object_id=object_id, scan_id=scan_id)
    if output_format == "json":
        click.echo(json.dumps({"scan_id": result.scan_id, "environment": environment, "scope": object_id,
                               "status": result.status, "counts": result.counts, "errors": result.errors,
                               "timings": result.timings, "written": vars(result.written)}, indent=2))
    else:
        emit([{"type": k, "count": v} for k, v in sorted(result.counts.items())], ["type", "count"], "table",
             title=f"scan {result.scan_id}: {result.status}")
        for error in result.errors:
            err.print(f"[red]{error}[/]", highlight=False)
        err.print(f"written: {vars(result.written)}; timings: "
                  + ", ".join(f"{k}={v:.1f}s" for k, v in result.timings.items()))
    if result.status != "completed":
        sys.exit(1)


def _queue_and_follow(stores: Stores, settings: Any, scan_id: str, environment: str, object_id: str | None,
                      output_format: str) -> None:
    """Queue the scan for the workers, then follow its record until it ends (Ctrl-C stops following, not the scan)."""
    import time
    from contextlib import nullcontext

    from ingest.records import FINISHED, ScanRecords
    from ingest.tasks import enqueue_scan

    enqueue_scan(settings, stores.mongo, scan_id, environment, object_id)
    records = ScanRecords(stores.mongo)
    if output_format == "table":
        err.print(f"scan {scan_id} of {environment} queued for the workers; abort it with "
                  f"`calipso scan abort {scan_id}`")
    shown = None
    with err.status(f"scan {scan_id}: pending") if output_format == "table" else nullcontext() as spinner:
        while True:
            doc = records.get(scan_id) or {"status": "failed"}
            worker = doc.get("worker") or {}
            state = f"scan {scan_id}: {doc['status']}" + (f" on {worker.get('host')}:{worker.get('pid')}" if worker else "")
            if state != shown and spinner is not None:
                spinner.update(state)
            shown = state
            if doc["status"] in FINISHED:
                break
            time.sleep(0.5)
    if output_format == "json":
        click.echo(json.dumps(scan_row(doc) | {"errors": doc.get("errors") or []}, indent=2, default=str))
    else:
        emit([{"type": k, "count": v} for k, v in sorted((doc.get("counts") or {}).items())], ["type", "count"],
             "table", title=f"scan {scan_id}: {doc['status']}" + (f" (worker {worker.get('host')}:{worker.get('pid')})"
                                                                  if worker else ""))
        for error in doc.get("errors") or []:
            err.print(f"[red]{error}[/]", highlight=False)
    if doc["status"] != "completed":
        sys.exit(1)


@scan.command("abort")
@click.argument("scan_id")
def scan_abort(scan_id: str) -> None:
    """Ask a pending or running scan to stop; it stops at its next check (between hosts and phases)
    and ends `aborted`, writing nothing."""
    from ingest.records import ScanRecords

    with Stores(cli_settings()) as stores:
        records = ScanRecords(stores.mongo)
        doc = records.get(scan_id)
        if doc is None:
            raise CalipsoError(f"no scan {scan_id!r} (`calipso scans list` shows them)")
        if not records.request_abort(scan_id):
            raise CalipsoError(f"scan {scan_id} is {doc['status']}: nothing to abort")
    err.print(f"abort requested for scan {scan_id}")


@scan.command("replay")
@click.argument("scan_id")
@format_option
def scan_replay(scan_id: str, output_format: str) -> None:
    """Re-parse what scan SCAN_ID read (the API resources and host outputs it kept: the environment's
    `scan_outputs` section) with today's parsers, in memory, and show how the documents differ from what
    that scan stored. Exits 0 when they are the same, 1 when they differ. Touches neither the cloud
    nor the stored inventory."""
    from ingest.recording import SCAN_OUTPUTS
    from ingest.replay import replay_scan

    with Stores(cli_settings()) as stores:
        meta = stores.mongo[SCAN_OUTPUTS].find_one({"scan_id": scan_id, "part": "_meta"}, {"environment": 1})
        if meta is None:
            raise CalipsoError(f"scan {scan_id!r} kept no outputs (`calipso scans list` shows the scans; each "
                               "environment keeps the outputs of its last `scan_outputs.keep` scans)")
        environment = environment_store(stores).get(str(meta["environment"]))
        with err.status(f"replaying scan {scan_id}"):
            result = replay_scan(stores.mongo, environment, scan_id)
    rows = [{"kind": d.kind, "key": d.key, "change": d.change,
             "fields": d.fields if output_format == "json" else
             "; ".join(f"{name}: {old!r} -> {new!r}"[:200] for name, (old, new) in d.fields.items())}
            for d in result.differences]
    if output_format == "json":
        click.echo(json.dumps({"scan_id": scan_id, "environment": result.environment, "scope": result.scope,
                               "objects": result.objects, "links": result.links, "identical": result.identical,
                               "differences": rows, "messages": result.messages}, indent=2, default=str))
    else:
        for message in result.messages:
            err.print(message, highlight=False)
        if rows:
            emit(rows, ["kind", "key", "change", "fields"], "table",
                 title=f"scan {scan_id} replayed: {len(rows)} difference(s)")
        err.print(f"replayed {result.objects} objects and {result.links} links of {result.environment}: "
                  + ("identical to what the scan stored" if result.identical else
                     f"{len(rows)} document(s) differ from what the scan stored"))
    if not result.identical:
        sys.exit(1)


@click.group("scans", cls=CalipsoGroup)
def scans() -> None:
    """Scan records: status, counts, errors, duration."""


@scans.command("list")
@click.option("--env", "environment", default=None, help="Only this environment's scans.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@format_option
def scans_list(environment: str | None, limit: int, output_format: str) -> None:
    """The latest scans, newest first."""
    from ingest.records import ScanRecords

    with Stores(cli_settings()) as stores:
        rows = [scan_row(d) for d in ScanRecords(stores.mongo).list(environment, limit)]
    emit(rows, SCAN_COLUMNS, output_format)


@scans.command("show")
@click.argument("scan_id")
@format_option
def scans_show(scan_id: str, output_format: str) -> None:
    """One scan: status, counts per type, errors, timings."""
    from ingest.records import ScanRecords

    with Stores(cli_settings()) as stores:
        doc = ScanRecords(stores.mongo).get(scan_id)
    if doc is None:
        raise CalipsoError(f"no scan {scan_id!r} (`calipso scans list` shows them)")
    row = scan_row(doc)
    if output_format == "json":
        row["errors"] = doc.get("errors") or []
        click.echo(json.dumps(row, indent=2, default=str))
        return
    rows = [{"key": k, "value": row.get(k)} for k in SCAN_COLUMNS + ["started_at", "finished_at"]]
    rows += [{"key": f"count.{k}", "value": v} for k, v in sorted((doc.get("counts") or {}).items())]
    rows += [{"key": "error", "value": e} for e in doc.get("errors") or []]
    emit(rows, ["key", "value"], "table", title=f"scan {scan_id}")
