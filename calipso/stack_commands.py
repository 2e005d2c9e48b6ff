"""`calipso stack up|down|status|purge`: the local servers (development and tests; not in the production image)."""

from __future__ import annotations

import time

import click

from calipso.common import CalipsoGroup, cli_settings, err
from calipso.output import emit, format_option
from stack.manager import SERVERS, Stack

only_option = click.option(
    "--only", multiple=True, type=click.Choice(list(SERVERS)),
    help="Act on this server only (repeatable). Default: all of them.")


@click.group(cls=CalipsoGroup)
def stack() -> None:
    """The local servers: Neo4j, FerretDB (MongoDB protocol; on SQLite or PostgreSQL), RabbitMQ and slapd, on loopback."""


@stack.command("up")
@only_option
def stack_up(only: tuple[str, ...]) -> None:
    """Build (first time) and start the local servers, and wait until each answers. Idempotent."""
    local = Stack(cli_settings(), only)
    started = time.monotonic()
    with err.status("starting the local stack") as spinner:
        ready_after = local.up(lambda name, what: spinner.update(f"{name}: {what}"))
    for name, seconds in ready_after.items():
        err.print(f"{name}: ready after {seconds:.1f}s")
    err.print(f"stack up in {time.monotonic() - started:.1f}s (data under {cli_settings().home})")


@stack.command("down")
@only_option
def stack_down(only: tuple[str, ...]) -> None:
    """Stop the local servers and every helper process they started."""
    stopped = Stack(cli_settings(), only).down(lambda name, what: err.print(f"{name}: {what}"))
    if not stopped:
        err.print("nothing was running")


@stack.command("status")
@only_option
@format_option
def stack_status(only: tuple[str, ...], output_format: str) -> None:
    """Each local server: running, ready, PID, ports and log file."""
    rows = [vars(status) for status in Stack(cli_settings(), only).status()]
    emit(rows, ["name", "running", "ready", "pid", "ports", "log"], output_format)


@stack.command("purge")
@click.option("--yes", is_flag=True,
              help="Remove for real. Without it: list what would be removed, and remove nothing.")
@click.option("--orphans", is_flag=True,
              help="Instead of this stack's data: the PostgreSQL clusters under "
                   "/var/lib/postgresql/calipso-clusters whose data directory no longer exists.")
@click.option("--all-unknown", is_flag=True,
              help="With --orphans: also the clusters of unknown owner (made before clusters recorded their data "
                   "directory). A cluster whose PostgreSQL runs is always kept.")
@format_option
def stack_purge(yes: bool, orphans: bool, all_unknown: bool, output_format: str) -> None:
    """Delete a stopped stack's data directory (<CALIPSO_HOME>/data) and its PostgreSQL cluster kept under
    /var/lib/postgresql/calipso-clusters; refused while any of its servers runs (it stops nothing). With
    --orphans: the clusters there whose stack is gone."""
    from stack.purge import carry_out, orphans_plan, stack_plan

    if all_unknown and not orphans:
        raise click.UsageError("--all-unknown goes with --orphans")
    plan = orphans_plan(all_unknown) if orphans else stack_plan(cli_settings())
    if yes:
        carry_out(plan)
    emit([item.row() for item in plan], ["path", "kind", "owner", "action"], output_format)
    if not any(item.action != "kept" for item in plan):
        err.print("nothing to remove")
    elif not yes:
        err.print("nothing removed: run again with --yes to remove what is listed as 'would remove'")
