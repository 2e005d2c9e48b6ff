"""The inspection commands, registered by calipso/cli.py: clique, clique-types, diff, invariants."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from calipso.common import cli_settings, err
from calipso.output import emit, emit_result, format_option, report_format_option, report_output_option
from core.errors import CalipsoError
from core.stores import Stores


@click.command("clique")
@click.argument("environment")
@click.argument("object_id", metavar="OBJECT")
@click.option("--clique-type", "clique_type", default=None, help="Use this clique type instead of the variant's.")
@click.option("--mechanism", default=None, help="Mechanism driver (ovs, lxb, vpp, sriov); default: the "
              "environment's, else the vedge on the object's host.")
@click.option("--type-driver", default=None, help="Type driver (vxlan, gre, vlan, flat); default: the "
              "environment's, else the type of the object's networks.")
@click.option("--distribution", default=None, help="Distribution; default: the environment's.")
@report_format_option
@report_output_option
def clique_command(environment: str, object_id: str, clique_type: str | None, mechanism: str | None,
                   type_driver: str | None, distribution: str | None, output_format: str,
                   output_file: str | None) -> None:
    """The clique of OBJECT (a VM, a vservice, a network) in ENVIRONMENT: every object and link on its
    path, by the most specific clique type for the environment's variant, staying on its networks."""
    from queries.clique import clique

    with Stores(cli_settings()) as stores:
        result = clique(stores.neo4j, stores.mongo, environment, object_id, distribution, mechanism, type_driver,
                        clique_type)
    emit_result(result, ["id", "type", "name", "host", "status"], output_format, output_file)
    if output_format == "table" and output_file is None:
        emit(result.links, ["link_type", "source", "target", "state", "network"], "table",
             title=f"{len(result.links)} link(s); clique type {result.clique_type}, variant "
                   + ", ".join(f"{k}={v}" for k, v in result.variant.items() if v))


@click.group("clique-types")
def clique_types_group() -> None:
    """Clique types: which link types make up the clique of a focal point, per variant."""


@clique_types_group.command("list")
@format_option
def clique_types_list(output_format: str) -> None:
    """Every clique type, built in and user-defined."""
    from queries.clique import clique_type_document, clique_types

    with Stores(cli_settings()) as stores:
        types = clique_types(stores.mongo)
    emit([clique_type_document(t) for t in types],
         ["name", "focal_point_type", "distribution", "mechanism_driver", "type_driver", "link_types"], output_format)


@clique_types_group.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def clique_types_add(file: str) -> None:
    """Add (or replace) a clique type from a YAML or JSON FILE with name, focal_point_type, link_types and
    optionally distribution, mechanism_driver, type_driver (ANY by default) and constraints."""
    from queries.clique import add_clique_type

    try:
        doc = yaml.safe_load(Path(file).read_text())
    except yaml.YAMLError as exc:
        raise CalipsoError(f"{file} is not YAML or JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise CalipsoError(f"{file} must hold one mapping (a clique type), not {type(doc).__name__}")
    with Stores(cli_settings()) as stores:
        added = add_clique_type(stores.mongo, doc)
    err.print(f"clique type {added.name} saved ({added.focal_point_type}: {', '.join(added.link_types)})")


@click.command("diff")
@click.argument("environment")
@click.option("--from", "t_from", required=True, metavar="T1",
              help="An ISO 8601 time (UTC unless it says), a scan id, 'now', or a duration ago (90s, 15m, 2h, 7d).")
@click.option("--to", "t_to", default="now", show_default=True, metavar="T2", help="Same forms as --from.")
@click.option("--around", default=None, metavar="OBJECT", help="Only objects within --hops links of this one.")
@click.option("--hops", default=1, show_default=True, type=click.IntRange(0, 6), help="With --around.")
@report_format_option
@report_output_option
def diff_command(environment: str, t_from: str, t_to: str, around: str | None, hops: int, output_format: str,
                 output_file: str | None) -> None:
    """What changed in ENVIRONMENT between two times or scans: objects and links added, removed and
    changed, with each changed field's old and new value."""
    from queries.diff import diff

    with Stores(cli_settings()) as stores:
        result = diff(stores.mongo, environment, t_from, t_to, around, hops)
    emit_result(result, ["kind", "change", "type", "key", "name", "fields"], output_format, output_file)
    if output_format == "table" and output_file is None:
        err.print(", ".join(f"{k}: {v}" for k, v in result.summary.items()) or "no change")


@click.command("invariants")
@click.argument("environment", required=False)
@click.option("--check", "checks", multiple=True, metavar="KIND",
              help="Run only this check (repeatable); `calipso invariants --list` names them.")
@click.option("--list", "list_checks", is_flag=True, help="List the checks and exit.")
@report_format_option
@report_output_option
def invariants_command(environment: str | None, checks: tuple[str, ...], list_checks: bool, output_format: str,
                       output_file: str | None) -> None:
    """Check ENVIRONMENT's graph for broken invariants: MTU falling along a path, VLAN tag or segmentation
    id mismatch, ACTIVE port without a switch port, orphan tap, tunnel endpoint without a peer, bond with
    one live member. Each violation names its objects and evidence."""
    from queries.invariants import CHECKS, invariants

    if list_checks:
        emit([{"kind": c.kind, "description": c.description} for c in CHECKS], ["kind", "description"],
             "json" if output_format == "json" else "table")
        return
    if not environment:
        raise click.UsageError("name the ENVIRONMENT to check (or ask for --list)")
    with Stores(cli_settings()) as stores:
        result = invariants(stores.neo4j, environment, checks)
    emit_result(result, ["severity", "kind", "host", "objects", "evidence"], output_format, output_file)
    if output_format == "table" and output_file is None:
        err.print(", ".join(f"{k}: {v}" for k, v in result.summary.items()))


INSPECTION_COMMANDS: list[click.Command] = [clique_command, clique_types_group, diff_command, invariants_command]
