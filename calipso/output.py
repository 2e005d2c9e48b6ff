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
