"""The export command, registered by calipso/cli.py: an environment in another tool's format."""

from __future__ import annotations

import sys

import click

from calipso.common import cli_settings, err
from core.stores import Stores
from queries.export import FORMATS, check_export


@click.command("export")
@click.argument("environment")
@click.option("--format", "output_format", type=click.Choice(FORMATS), required=True,
              help="graphml (yEd), gexf (Gephi), json (networkx node-link), dot (Graphviz), netbox (bulk-import "
                   "records), batfish (layer1_topology.json).")
@click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of standard output.")
def export_command(environment: str, output_format: str, output_file: str | None) -> None:
    """ENVIRONMENT in another tool's format, written while MongoDB is read (never held whole).

    \b
      graphml, gexf, json, dot  objects as nodes (folders left out), links as edges
      netbox   devices (hosts, switches), interfaces (NICs, bonds, vNICs of network services),
               virtual machines and their interfaces, MAC and IP addresses, cables: one list per
               NetBox import model, in the order NetBox needs them
      batfish  layer1_topology.json: host NIC to switch port links (empty without a switch source)
    """
    from queries.export import write_export

    with Stores(cli_settings()) as stores:
        if output_file is None:
            write_export(stores.mongo, environment, output_format, sys.stdout)
            sys.stdout.flush()
            return
        # The checks run before the file is opened: a typo leaves no empty file behind.
        check_export(stores.mongo, environment, output_format)
        with open(output_file, "w", encoding="utf-8") as handle:
            written = write_export(stores.mongo, environment, output_format, handle)
    err.print(f"{environment} as {output_format}: {written:,} characters -> {output_file}", highlight=False)


EXPORT_COMMANDS: list[click.Command] = [export_command]
