"""The report commands, registered by calipso/cli.py: documents for the command chain.

`calipso report maintenance` and `calipso report incident` build a queries.reports.Document
(queries/command_chain.py) and write it as HTML, Markdown, JSON or PDF (the HTML printed by headless
Chromium), the format taken from the file's suffix unless --format says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from calipso.common import CalipsoGroup, cli_settings, err
from core.errors import CalipsoError
from core.stores import Stores
from queries.reports import DOCUMENT_FORMATS

SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".json": "json", ".pdf": "pdf"}

format_option = click.option(
    "--format", "output_format", type=click.Choice(DOCUMENT_FORMATS), default=None,
    help="html, md, json or pdf. Default: from the -o file's suffix, else md on standard output.")
output_option = click.option(
    "-o", "--output", "output_file", type=click.Path(dir_okay=False, writable=True), default=None,
    help="Write the report here (report.pdf, report.html, report.md, report.json).")


def write_document(document: Any, output_format: str | None, output_file: str | None) -> None:
    """Render and write a document; PDF only to a file."""
    from queries.reports import print_pdf, render_document

    if output_format is None:
        suffix = Path(output_file).suffix.lower() if output_file else ""
        if output_file and suffix not in SUFFIXES:
            raise CalipsoError(f"-o {output_file}: cannot tell the format from {suffix or 'no suffix'!s}; "
                               f"use .pdf, .html, .md or .json, or --format")
        output_format = SUFFIXES.get(suffix, "md")
    if output_format == "pdf":
        if output_file is None:
            raise CalipsoError("a PDF report needs a file: -o report.pdf")
        data = print_pdf(render_document(document, "html"))
        Path(output_file).write_bytes(data)
    else:
        text = render_document(document, output_format)
        if output_file is None:
            click.echo(text, nl=False)
            return
        Path(output_file).write_text(text, encoding="utf-8")
    err.print(f"{document.title}: {output_format} -> {output_file}", highlight=False, markup=False)


@click.group("report", cls=CalipsoGroup)
def report() -> None:
    """Documents to send up the command chain: a maintenance impact report, an incident report."""


@report.command("maintenance")
@click.argument("environment")
@click.option("--hosts", required=True, metavar="H1,H2",
              help="The hosts going down (names or ids, comma-separated).")
@click.option("--window", default=None, metavar="START/END",
              help="The maintenance window, ISO 8601 in UTC: 2026-12-10T02:00/04:00, "
                   "2026-12-10T23:00/2026-12-11T01:00 or 2026-12-10T02:00/PT2H.")
@format_option
@output_option
def maintenance_command(environment: str, hosts: str, window: str | None, output_format: str | None,
                        output_file: str | None) -> None:
    """What taking --hosts down during --window does in ENVIRONMENT, for a change board.

    The summary first (VMs cut off and degraded, projects affected, who to tell), then one table per
    project, each host's impact alone next to the combined one, the what-if picture of the ways out
    that break, and the window.
    """
    from queries.command_chain import maintenance_report, parse_window

    if window:
        parse_window(window)  # a bad window is refused before the stores are asked anything
    with Stores(cli_settings()) as stores:
        document = maintenance_report(stores.neo4j, environment, hosts.split(","), window)
    write_document(document, output_format, output_file)


@report.command("incident")
@click.argument("environment")
@click.argument("vms", nargs=-1, required=True, metavar="VM...")
@click.option("--since", default=None, metavar="WHEN",
              help="The incident window's start: ISO 8601 (UTC unless it says) or a duration ago (2h, 7d). "
                   "[default: 24h]")
@format_option
@output_option
def incident_command(environment: str, vms: tuple[str, ...], since: str | None, output_format: str | None,
                     output_file: str | None) -> None:
    """Why VM (one or more; names or ids of VMs or network services) in ENVIRONMENT is broken, in one
    shareable document: the root-cause suspects with their evidence, each VM's way out of its host
    with the health of every hop (and the path between the first two), what changed near them since
    --since, and the broken invariants on their hosts."""
    from queries.command_chain import incident_report
    from queries.diff import parse_time

    start = None
    if since is not None:
        start = parse_time(since)
        if start is None:
            raise CalipsoError(f"--since {since!r} is neither an ISO 8601 time nor a duration ago such as 2h or 7d")
    with Stores(cli_settings()) as stores:
        document = incident_report(stores.neo4j, stores.mongo, environment, list(vms), start)
    write_document(document, output_format, output_file)


REPORT_COMMANDS: list[click.Command] = [report]
