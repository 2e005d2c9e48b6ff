"""`calipso stack up|down|status`: the local servers (development and tests; not in the production image)."""

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
