"""The discovery commands, registered by calipso/cli.py: env, scan, scans, schedule, scheduler."""

from __future__ import annotations

import click

from calipso.env_commands import env
from calipso.scan_commands import scan, scans
from calipso.schedule_commands import schedule, scheduler

DISCOVERY_COMMANDS: list[click.Command] = [env, scan, scans, schedule, scheduler]
