"""What every `calipso` command module shares: the error console, the group class that turns
Calipso's own errors into one clear line, and the validated settings."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console

from core.errors import CalipsoError
from core.logging import configure_logging
from core.settings import Settings, get_settings

err = Console(stderr=True)


class CalipsoGroup(click.Group):
    """A click group that turns Calipso's own errors into one clear line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CalipsoError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
            sys.exit(1)


def cli_settings() -> Settings:
    """The validated settings (logging configured from them); an invalid value ends the command
    with a message naming it."""
    value = get_settings()
    configure_logging(value.log_level)
    return value
