"""The `calipso` command line. Every command has --help; results print as tables or --format json."""

from __future__ import annotations

import importlib.util
import json
import sys

import click

from calipso.common import CalipsoGroup, cli_settings, err
from calipso.output import emit, format_option
from core.settings import Settings, redact_url
from core.stores import Stores
from migrations import runner as migration_runner


@click.group(cls=CalipsoGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="calipso")
def main() -> None:
    """Calipso: discover the path of every VM's packets and answer impact, root-cause and change questions.

    Configuration comes from environment variables (MONGO_URI, NEO4J_URI, NEO4J_PASSWORD, AMQP_URL,
    LDAP_URL, CALIPSO_HOME, ...) or a YAML file named by CALIPSO_CONFIG; `calipso config show` prints it.
    """


# -- migrations -------------------------------------------------------------------------------

@main.command()
@click.option("--status", "show_status", is_flag=True, help="List the steps and when each was applied; change nothing.")
@format_option
def migrate(show_status: bool, output_format: str) -> None:
    """Apply pending schema steps: Neo4j constraints and indexes, MongoDB indexes."""
    with Stores(cli_settings()) as stores:
        if show_status:
            states = migration_runner.status(stores.mongo, stores.neo4j)
        else:
            states = migration_runner.apply_mongo(stores.mongo) + migration_runner.apply_neo4j(stores.neo4j)
            if not states and output_format == "table":
                err.print("schema is up to date")
                return
    rows = [vars(state) for state in states]
    emit(rows, ["store", "version", "description", "applied_at"], output_format)


# -- the main job ---------------------------------------------------------------------------

@click.command()
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port of the REST API on 127.0.0.1 (0: any free port).")
@click.option("--no-serve", is_flag=True, help="Stop after the scan and the sample answers; do not serve the API.")
@format_option
def demo(port: int, no_serve: bool, output_format: str) -> None:
    """The whole product on a lab cloud: the local stack up, migrations, a round trip through every server,
    a lab world served, added as environment `demo`, scanned, projected into Neo4j, a sample impact and
    RCA answer, then the REST API served until interrupted."""
    import socket

    import waitress

    from api import PREFIX, create_app
    from calipso.demo import run_lab_demo, smoke_round_trip
    from stack.manager import Stack

    values = cli_settings()
    with err.status("starting the local stack") as spinner:
        Stack(values).up(lambda name, what: spinner.update(f"{name}: {what}"))
    with Stores(values) as stores:
        migration_runner.apply_mongo(stores.mongo)
        migration_runner.apply_neo4j(stores.neo4j)
        checks = smoke_round_trip(values, stores)
        if output_format == "table":
            emit([vars(check) for check in checks], ["server", "check", "ok", "detail", "ms"], output_format,
                 title="Calipso local stack")
        if not all(check.ok for check in checks):
            sys.exit(1)
        with err.status("the lab") as spinner:
            run = run_lab_demo(values, stores, lambda what: spinner.update(what))
    listener = socket.socket()
    listener.bind(("127.0.0.1", port))  # bound here, so that the printed URL is the one served
    listener.listen(64)  # and listening: a client reading the URL may connect before the app is built
    url = f"http://127.0.0.1:{listener.getsockname()[1]}{PREFIX}"
    ui_url = url.removesuffix(PREFIX) + "/"
    if output_format == "json":
        click.echo(json.dumps({**vars(run), "api": url, "ui": ui_url}), nl=True)
    else:
        emit([{"what": "environment", "value": run.environment},
              {"what": "scan", "value": f"{run.scan_status}: {run.objects} objects, {run.links} links"},
              {"what": f"impact if {run.impact_target} went down (VMs down)",
               "value": ", ".join(run.impact_vm_names) or "(none)"},
              {"what": "injected fault", "value": f"{run.fault} (root cause {run.fault_root_cause})"},
              {"what": f"rca for {run.rca_focal_names}", "value": ", ".join(run.rca_top_suspect_names) or "(none)"},
              {"what": "web UI", "value": f"{ui_url}  (log in as {run.ui_user}, password {run.ui_password})"},
              {"what": "API", "value": f"{url}/  (docs: {url}/docs)"},
              {"what": "token (user demo)", "value": run.token}], ["what", "value"], "table", title="Calipso demo")
        err.print(f'Try: curl -H "Authorization: Bearer {run.token}" '
                  f'"{url}/environments/demo/analysis/impact?target={run.impact_target}"')
    sys.stdout.flush()
    if no_serve:
        listener.close()
        return
    # The rest of `calipso run` (worker, scheduler, listener, projector) as supervised children, so
    # that a `calipso lab change` reaches the inventory and the graph without a command.
    import signal

    from calipso.pipeline_commands import backend_children, supervise_in_background

    # A demo stops quickly: a scan or refresh under way is cut short after 10 s (a worker's goes back to the queue).
    stop_backend, supervisor = supervise_in_background(backend_children(values, api=False), stop_grace_s=10)

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt  # SIGTERM stops the demo as Ctrl-C does: children included

    signal.signal(signal.SIGTERM, interrupt)
    app = create_app(values)
    err.print("serving the API, with a worker, the scheduler, the listener and the projector; Ctrl-C stops "
              "them (`calipso stack down` and `calipso lab down` stop the rest)")
    try:
        waitress.serve(app, sockets=[listener], threads=8, ident="calipso", _quiet=True)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the children's stop short
        stop_backend.set()
        supervisor.join(timeout=60)
        app.extensions["calipso"].stores.close()


# -- the graph --------------------------------------------------------------------------------

@main.group(cls=CalipsoGroup)
def graph() -> None:
    """The Neo4j projection of an environment: sync it from MongoDB's changes feed, verify it."""


@graph.command("sync")
@click.argument("environment")
@click.option("--rebuild", is_flag=True, help="Drop the environment's graph and project the inventory afresh.")
@click.option("--follow", is_flag=True, help="Keep applying new changes until interrupted.")
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(1, 100000))
@format_option
def graph_sync(environment: str, rebuild: bool, follow: bool, batch_size: int, output_format: str) -> None:
    """Apply ENVIRONMENT's changes feed to Neo4j after the last checkpoint (idempotent, resumable)."""
    import threading

    from graphmodel.projector import Projector

    with Stores(cli_settings()) as stores:
        projector = Projector(stores.mongo, stores.neo4j, environment, batch_size)
        if rebuild:
            stats = projector.rebuild()
        elif follow:
            stop = threading.Event()
            err.print(f"following the changes feed of {environment} (Ctrl-C to stop)")
            try:
                projector.follow(stop.is_set, on_batch=lambda s: err.print(
                    f"applied up to change {s.last_seq} ({s.changes} changes, {s.per_second:.0f}/s)"))
            except KeyboardInterrupt:
                stop.set()
            return
        else:
            with err.status(f"projecting {environment}") as spinner:
                stats = projector.sync(on_batch=lambda s: spinner.update(
                    f"projecting {environment}: {s.changes} changes, up to {s.last_seq}"))
    emit([{"environment": environment, "batches": stats.batches, "changes": stats.changes,
           "checkpoint": stats.last_seq, "seconds": round(stats.seconds, 2),
           "changes_per_second": round(stats.per_second)}],
         ["environment", "batches", "changes", "checkpoint", "seconds", "changes_per_second"], output_format)


@graph.command("verify")
@click.argument("environment")
@format_option
def graph_verify(environment: str, output_format: str) -> None:
    """Compare MongoDB and Neo4j for ENVIRONMENT: counts per type and a content hash. Exit 1 on a difference."""
    from graphmodel.projector import verify

    with Stores(cli_settings()) as stores:
        result = verify(stores.mongo, stores.neo4j, environment)
    keys = sorted(set(result.counts_mongo) | set(result.counts_neo4j))
    rows = [{"what": key, "mongodb": result.counts_mongo.get(key, 0), "neo4j": result.counts_neo4j.get(key, 0)}
            for key in keys]
    rows.append({"what": "content hash", "mongodb": result.hash_mongo, "neo4j": result.hash_neo4j})
    emit(rows, ["what", "mongodb", "neo4j"], output_format)
    if not result.ok:
        err.print("[red]MongoDB and Neo4j differ[/]")
        sys.exit(1)


# -- configuration and health -----------------------------------------------------------------

@main.group(cls=CalipsoGroup)
def config() -> None:
    """Inspect the configuration."""


@config.command("show")
@format_option
def config_show(output_format: str) -> None:
    """The effective settings, by environment variable name, with secrets hidden."""
    values = cli_settings()
    rows = []
    for field_name, field in Settings.model_fields.items():
        alias = str(field.validation_alias.choices[0])  # type: ignore[union-attr]
        value = getattr(values, field_name)
        if field_name.endswith(("password", "secret_key")) or alias.endswith("PASSWORD"):
            shown = None if value is None else "***"
        elif isinstance(value, str) and "://" in value:
            shown = redact_url(value)
        else:
            shown = str(value)
        rows.append({"name": alias, "value": shown})
    emit(rows, ["name", "value"], output_format)


@main.command()
@format_option
def health(output_format: str) -> None:
    """Check that MongoDB and Neo4j answer; exit status 1 if one does not."""
    with Stores(cli_settings()) as stores:
        checks = stores.health()
    emit([vars(check) for check in checks], ["name", "ok", "detail"], output_format)
    if not all(check.ok for check in checks):
        sys.exit(1)


#: The lab, the local stack and the demo need lab/ and stack/, which a development checkout has and the
#: production image leaves out (Dockerfile): there the command line simply has no such commands.
def _installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except ImportError:
        return False


DEVELOPMENT = _installed("lab") and _installed("stack")
if DEVELOPMENT:
    from calipso.lab_commands import lab  # noqa: E402
    from calipso.stack_commands import stack  # noqa: E402
    for _command in (stack, lab, demo): main.add_command(_command)  # noqa: E701

# The other command groups, each in its own module (imported once `main` exists).
from calipso.analysis_commands import ANALYSIS_COMMANDS  # noqa: E402 - impact, whatif, rca, path
from calipso.discovery import DISCOVERY_COMMANDS  # noqa: E402 - env, scan, scans, schedule, scheduler
from calipso.export_commands import EXPORT_COMMANDS  # noqa: E402 - export
from calipso.inspection import INSPECTION_COMMANDS  # noqa: E402 - clique, clique-types, diff, invariants
from calipso.inventory_commands import INVENTORY_COMMANDS  # noqa: E402 - objects, object, links
from calipso.listen_commands import listen  # noqa: E402 - the bus listener
from calipso.monitor_commands import MONITOR_COMMANDS  # noqa: E402 - monitor, watch, monitoring
from calipso.pipeline_commands import PIPELINE_COMMANDS  # noqa: E402 - projector, worker, run, status
from calipso.report_commands import REPORT_COMMANDS  # noqa: E402 - report maintenance|incident
from calipso.serve import API_COMMANDS  # noqa: E402 - serve, user, token: the REST API's commands

for _command in (*API_COMMANDS, *DISCOVERY_COMMANDS, *INSPECTION_COMMANDS, *ANALYSIS_COMMANDS, *EXPORT_COMMANDS,
                 *REPORT_COMMANDS, listen, *PIPELINE_COMMANDS, *MONITOR_COMMANDS, *INVENTORY_COMMANDS):
    main.add_command(_command)


if __name__ == "__main__":
    main()
