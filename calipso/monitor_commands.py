"""`calipso monitor ENV`, `calipso watch ENV VM...`, `calipso monitoring sensu-checks|collectd-config`.

The monitor runs rounds of Calipso's own checks (ingest/monitoring) over the environment's SSH
transport, carries the new statuses into Neo4j (the projector, idempotent next to a running
`calipso projector`) and evaluates the environment's watches (queries/watches.py) after each round.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from calipso.common import cli_settings, err
from calipso.env_commands import environment_store
from calipso.output import format_option
from core.errors import CalipsoError
from core.stores import Stores


def monitor_loop(database: Any, driver: Any, environment: str, transport: Any, interval_s: float, once: bool,
                 stop: threading.Event, on_round: Callable[[Any, list[Any]], None],
                 hosts: list[str] | None = None, check_intervals: dict[str, int] | None = None,
                 mail_fn: Callable[[str, dict[str, Any]], Any] | None = None, check_hosts: Any = None) -> None:
    """Rounds until `stop` (or one with `once`): check (each check type when its interval has passed on a
    host, with `check_intervals`; all of them every round without; by the workers with `check_hosts`),
    project, evaluate the watches."""
    from graphmodel.projector import Projector
    from ingest.monitoring.runner import Monitor
    from queries.watches import evaluate_watches

    monitor = Monitor(database, environment, transport, intervals=check_intervals, check_hosts=check_hosts)
    while not stop.is_set():
        started = time.monotonic()
        result = monitor.round(hosts)
        Projector(database, driver, environment).sync()
        events = evaluate_watches(database, driver, environment, mail_fn=mail_fn)
        on_round(result, events)
        if once:
            return
        stop.wait(max(0.0, interval_s - (time.monotonic() - started)))


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


@click.command("monitor")
@click.argument("environment")
@click.option("--once", is_flag=True, help="Run one round, print it, and exit.")
@click.option("--interval", "interval_s", default=None, type=click.FloatRange(1, 86400), metavar="S",
              help="Seconds between the starts of two rounds [default: the greatest common divisor of the check "
                   "intervals, 60 with the defaults].")
@click.option("--check-interval", "check_interval", multiple=True, metavar="CHECK=S",
              help="Seconds between two runs of a check type on a host (repeatable; also "
                   "CALIPSO_MONITOR_CHECK_INTERVALS); e.g. link_state=30. Default 60 s each.")
@click.option("--workers", is_flag=True,
              help="Hand each round's hosts to the `calipso worker`s: one calipso.monitor_hosts task per host batch "
                   "(the results are written here).")
@click.option("--hosts-per-task", default=50, show_default=True, type=click.IntRange(1, 100000), metavar="N",
              help="Hosts per task with --workers.")
@format_option
def monitor(environment: str, once: bool, interval_s: float | None, check_interval: tuple[str, ...],
            workers: bool, hosts_per_task: int, output_format: str) -> None:
    """Monitor ENVIRONMENT: each round runs the checks of graphmodel/checks.py that are due on every host
    (one SSH session and one batched command line per host; a check runs when its interval has passed
    there), sets status, status_text and status_since on objects and links (with history and the changes
    feed; a message per change of state), projects them into Neo4j and evaluates the environment's
    watches (webhooks on degradation and recovery). SIGTERM or Ctrl-C stops after the round under way."""
    from math import gcd

    from graphmodel.checks import check_intervals, parse_intervals
    from ingest.monitoring.runner import environment_transport
    from migrations import runner as migration_runner
    from queries.watches import smtp_mailer

    settings = cli_settings()  # an incomplete CALIPSO_SMTP_* stops here, naming the variable
    mail_fn = smtp_mailer(settings)
    try:
        intervals = check_intervals({**parse_intervals(settings.monitor_check_intervals),
                                     **parse_intervals(" ".join(check_interval))})
    except ValueError as exc:
        raise CalipsoError(f"check intervals: {exc}") from None
    tick = interval_s if interval_s is not None else float(gcd(*intervals.values()))
    stop = _stop_on_signals()
    with Stores(settings) as stores:
        config = environment_store(stores).decrypt(environment)
        migration_runner.apply_mongo(stores.mongo)
        transport = environment_transport(config, stores.mongo)
        check_hosts = None
        if workers:
            from ingest.tasks import task_queue, worker_checks, workers_alive

            if not workers_alive(stores.mongo):
                raise CalipsoError(f"--workers: no `calipso worker` is alive on queue {task_queue(settings)}")
            check_hosts = worker_checks(settings, environment, hosts_per_task)

        def report(result: Any, events: list[Any]) -> None:
            summary = result.summary()
            summary["watch_events"] = [{"watch": e.watch_id, "event": e.event,
                                        "delivered": e.delivery.delivered if e.delivery else None,
                                        "mailed": e.mail.delivered if e.mail else None} for e in events]
            summary["status_changes"] = [{"kind": c.kind, "key": c.key, "type": c.type, "previous": c.previous,
                                          "status": c.status, "text": c.text} for c in result.changes]
            if output_format == "json":
                click.echo(json.dumps(summary, default=str))
                return
            stamp = datetime.now(UTC).strftime("%H:%M:%S")
            err.print(f"{stamp} round: {summary['hosts']} hosts, {summary['results']} results, "
                      f"{summary['changes']} changes in {summary['seconds']} s"
                      + (f"; unreachable: {', '.join(summary['unreachable_hosts'])}"
                         if summary["unreachable_hosts"] else ""),
                      highlight=False)
            for change in result.changes:
                if change.previous is None and change.status == "ok":
                    continue
                click.echo(f"{stamp} {change.type or change.kind} {change.name or change.key}: "
                           f"{change.previous or 'no status'} -> {change.status}: {change.text}")
            for event in events:
                click.echo(f"{stamp} watch {event.watch_id}: {event.event}"
                           + (f" (webhook {'delivered' if event.delivery.delivered else 'NOT delivered'})"
                              if event.delivery else "")
                           + (f" (e-mail {'sent' if event.mail.delivered else 'NOT sent'})" if event.mail else ""))

        try:
            monitor_loop(stores.mongo, stores.neo4j, environment, transport, tick, once, stop, report,
                         check_intervals=intervals, mail_fn=mail_fn, check_hosts=check_hosts)
        finally:
            transport.close()


@click.command("watch")
@click.argument("environment")
@click.argument("vms", nargs=-1, required=True)
@click.option("--until-healthy", is_flag=True, help="Exit (status 0) once every hop is ok, printing the time to recovery.")
@click.option("--webhook", default=None, metavar="URL",
              help="Also store a watch that calls URL on degradation and recovery (kept after this command ends).")
@click.option("--email", default=None, metavar="ADDRESS",
              help="Also store a watch that e-mails ADDRESS on degradation and recovery (needs CALIPSO_SMTP_HOST; "
                   "sent by `calipso monitor`).")
@click.option("--interval", "interval_s", default=5.0, show_default=True, type=click.FloatRange(0.2, 3600),
              metavar="S", help="Seconds between two looks at the paths.")
@click.option("--check/--no-check", default=False, show_default=True,
              help="Run a monitoring round on the VMs' hosts before each look (when no `calipso monitor` runs).")
@click.option("--timeout", "timeout_s", default=None, type=click.FloatRange(0, None), metavar="S",
              help="Give up after S seconds (exit status 3).")
def watch(environment: str, vms: tuple[str, ...], until_healthy: bool, webhook: str | None, email: str | None,
          interval_s: float, check: bool, timeout_s: float | None) -> None:
    """Follow the paths of VMS (ids or unique names) in ENVIRONMENT and print each status change of any
    hop as it happens. With --until-healthy, exit when every hop is ok and print the time to recovery."""
    from graphmodel.projector import Projector
    from ingest.monitoring.runner import Monitor, environment_transport
    from queries.watches import SEVERITY, WatchError, make_watch, path_health

    stop = _stop_on_signals()
    started = time.monotonic()
    settings = cli_settings()
    with Stores(settings) as stores:
        driver, database = stores.neo4j, stores.mongo
        if webhook or email:
            try:
                made = make_watch(database, driver, environment, list(vms), webhook, created_by="cli", email=email,
                                  settings=settings)
            except WatchError as exc:
                raise CalipsoError(str(exc)) from None
            err.print(f"watch {made['_id']} stored: it " + " and ".join(
                      ([f"calls {webhook}"] if webhook else []) + ([f"e-mails {email}"] if email else []))
                      + " on degradation and recovery "
                      f"(delete it with DELETE /environments/{environment}/watches/{made['_id']})", highlight=False)
        monitor_ = None
        if check:
            config = environment_store(stores).decrypt(environment)
            monitor_ = Monitor(database, environment, environment_transport(config, database))
        seen: dict[str, str] = {}
        degraded_at: float | None = None
        first = True
        while not stop.is_set():
            if monitor_ is not None:
                hosts = sorted({h.host for p in path_health(driver, environment, list(vms)) for h in p.hops if h.host})
                monitor_.round(hosts)
                Projector(database, driver, environment).sync()
            paths = path_health(driver, environment, list(vms))
            stamp = datetime.now(UTC).strftime("%H:%M:%S")
            for path in paths:
                for hop in path.hops:
                    before = seen.get(hop.id)
                    if before != hop.status and (before is not None or hop.status != "ok"):
                        click.echo(f"{stamp} {path.name or path.focal}: {hop.type} {hop.name or hop.id} "
                                   f"{before or 'ok'} -> {hop.status}" + (f": {hop.status_text}" if hop.status != "ok"
                                                                           and hop.status_text else ""))
                    seen[hop.id] = hop.status
            bad = any(SEVERITY[p.status] >= SEVERITY["warning"] for p in paths)
            if first:
                click.echo(f"{stamp} " + ("; ".join(f"{p.name or p.focal}: {p.status} ({len(p.hops)} hops)"
                                                    for p in paths)))
                first = False
            if bad and degraded_at is None:
                degraded_at = time.monotonic()
            if not bad and until_healthy:
                since = f" after {time.monotonic() - degraded_at:.1f} s" if degraded_at is not None else ""
                click.echo(f"{stamp} every hop is ok: healthy{since}")
                return
            if not bad:
                degraded_at = None
            if timeout_s is not None and time.monotonic() - started > timeout_s:
                err.print("gave up: --timeout reached while not healthy")
                sys.exit(3)
            stop.wait(interval_s)


@click.group("monitoring")
def monitoring() -> None:
    """Configurations for the monitoring people already run (Sensu Go, collectd) that post to Calipso."""


def _inventory(environment: str) -> tuple[Any, list[dict[str, Any]]]:
    from graphmodel.inventory import OBJECTS
    from ingest.monitoring.runner import MONITORED_TYPES

    stores = Stores(cli_settings())
    docs = list(stores.mongo[OBJECTS].find({"environment": environment, "type": {"$in": list(MONITORED_TYPES)}},
                                           {"_id": 0}))
    if not docs:
        stores.close()
        raise CalipsoError(f"environment {environment!r} has no scanned hosts: scan it first")
    return stores, docs


@monitoring.command("sensu-checks")
@click.argument("environment")
@click.option("--url", default="http://127.0.0.1:8080", show_default=True, help="Where the Calipso API listens.")
@click.option("--interval", "interval_s", default=60, show_default=True, type=click.IntRange(10, 86400))
def sensu_checks_command(environment: str, url: str, interval_s: int) -> None:
    """Print Sensu Go resources (JSON, for `sensuctl create -f`): a pipe handler posting events to this
    environment's intake (token from the backend's CALIPSO_TOKEN) and one check per object the checks
    speak about (NICs, vNICs, bridges, namespaces, agents, tunnel endpoints), each labelled with its object."""
    from ingest.monitoring.intake import sensu_checks, sensu_handler

    stores, docs = _inventory(environment)
    stores.close()
    for resource in [sensu_handler(url, environment), *sensu_checks(docs, interval_s=interval_s)]:
        click.echo(json.dumps(resource))


@monitoring.command("collectd-config")
@click.argument("environment")
@click.argument("host")
@click.option("--url", default="http://127.0.0.1:8080", show_default=True, help="Where the Calipso API listens.")
@click.option("--interval", "interval_s", default=10, show_default=True, type=click.IntRange(1, 3600))
@click.option("--ovs-socket", default=None, metavar="PATH",
              help="ovsdb-server's socket for ovs_events (default: the plugin's, /var/run/openvswitch/db.sock).")
def collectd_config_command(environment: str, host: str, url: str, interval_s: int, ovs_socket: str | None) -> None:
    """Print a collectd.conf fragment for HOST: interface (counters), connectivity (link state of NICs and
    VMs' taps), ovs_events (OVS hosts), ping (tunnel peers) and write_http posting JSON to this
    environment's intake (replace CALIPSO_TOKEN with an edit token)."""
    from ingest.monitoring.intake import collectd_config

    stores, docs = _inventory(environment)
    stores.close()
    if not any(d.get("type") == "host" and d["id"] == host for d in docs):
        raise CalipsoError(f"environment {environment!r} has no host {host!r}")
    if ovs_socket is not None and not all(c.isalnum() or c in "/._-" for c in ovs_socket):
        raise CalipsoError(f"--ovs-socket {ovs_socket!r}: a path of letters, digits and / . _ - only")
    click.echo(collectd_config(host, docs, url, environment, interval_s, ovs_socket), nl=False)


MONITOR_COMMANDS = [monitor, watch, monitoring]
