"""Tables for people, JSON for machines: one way to print results from every command."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table

FORMATS = ("table", "json")

format_option = click.option(
    "--format", "output_format", type=click.Choice(FORMATS), default="table", show_default=True,
    help="table for people, json for machines.")


def emit(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], output_format: str,
         title: str | None = None) -> None:
    """Print rows as a table (only the given columns) or as a JSON list (every key)."""
    if output_format == "json":
        click.echo(json.dumps(list(rows), indent=2, default=str))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    Console().print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


# -- analysis results: a table, or a report document --------------------------------------------

REPORT_FORMATS = ("table", "json", "csv", "md", "html")

report_format_option = click.option(
    "--format", "output_format", type=click.Choice(REPORT_FORMATS), default="table", show_default=True,
    help="table for people, json for machines, csv/md for spreadsheets and tickets, html for a report to forward.")

report_output_option = click.option(
    "-o", "--output", "output_file", type=click.Path(dir_okay=False, writable=True), default=None,
    help="Write the report to this file instead of standard output.")


def emit_result(result: Any, columns: Sequence[str], output_format: str, output_file: str | None = None) -> None:
    """Print an analysis result (anything with rows() and to_dict()): its rows as a table, or the whole
    result rendered as json, csv, md or html (queries.reports), to standard output or a file."""
    from queries.reports import render

    if output_format == "table" and output_file is None:
        emit(result.rows(), columns, "table", title=getattr(result, "title", None))
        return
    text = render(result, "md" if output_format == "table" else output_format)
    if output_file is None:
        click.echo(text, nl=False)
    else:
        with open(output_file, "w", encoding="utf-8") as handle:
            handle.write(text)
