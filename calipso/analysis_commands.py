"""The analysis commands, registered by calipso/cli.py: impact, whatif, rca, path.

Each runs one function of queries/ on the environment's graph and prints its result like the other
report commands (calipso/inspection.py): a table by default, or json, csv, md or html, to standard
output or to a file. Errors (an unknown or ambiguous object, an unreachable store) are Calipso's own
and the `calipso` group prints them as one line with exit status 1.
"""

from __future__ import annotations

from typing import Any

import click

from calipso.common import cli_settings, err
from calipso.output import emit_result, report_format_option, report_output_option
from core.errors import CalipsoError
from core.stores import Stores


def _summary(result: Any, output_format: str, output_file: str | None) -> None:
    """After a table, the result's summary lines on standard error (reports carry them inside)."""
    if output_format == "table" and output_file is None:
        for line in getattr(result, "summary", None) or []:
            err.print(line, highlight=False, markup=False)


@click.command("impact")
@click.argument("environment")
@click.argument("objects", nargs=-1, required=True, metavar="OBJECT...")
@report_format_option
@report_output_option
def impact_command(environment: str, objects: tuple[str, ...], output_format: str, output_file: str | None) -> None:
    """What loses connectivity in ENVIRONMENT if OBJECT (one or more) goes down.

    OBJECT is an object id or a unique name: a host, a physical NIC or bond, a switch port, a
    tunnel endpoint, a network, a project, a VM. Everything it holds goes down with it (a host takes
    its VMs and NICs along). Each VM and network service (DHCP, router namespace) affected is listed
    with its host, project, networks and the OBJECT that cut it:

    \b
      down      a vNIC of it has no way out of its host left: it is cut off
      degraded  it lost a way out or a live bond member, but a way out remains

    The summary counts them by project, network and host. VMs that had no way out before are
    reported as already down, not blamed on OBJECT.
    """
    from queries.impact import impact

    with Stores(cli_settings()) as stores:
        result = impact(stores.neo4j, environment, list(objects))
    emit_result(result, ["vm", "name", "type", "impact", "host", "project", "networks", "cause"], output_format,
                output_file)
    _summary(result, output_format, output_file)


@click.command("whatif")
@click.argument("environment")
@click.option("--remove", "remove", multiple=True, required=True, metavar="OBJECT",
              help="An object id or unique name to take away (repeatable).")
@report_format_option
@report_output_option
def whatif_command(environment: str, remove: tuple[str, ...], output_format: str, output_file: str | None) -> None:
    """Which VMs' paths in ENVIRONMENT break if the --remove objects went away (a planned change:
    a host drained, a NIC recabled, a switch port or network deleted).

    One row per vNIC whose way out changes: `breaks` is down when no way out of its host is left,
    degraded when one remains but redundancy (another way out, a live bond member) is lost;
    `removed_on_path` names the removed objects its path passed through, and `path` (in json, csv,
    md and html) is the way out it had before.
    """
    from queries.impact import whatif

    with Stores(cli_settings()) as stores:
        result = whatif(stores.neo4j, environment, list(remove))
    emit_result(result, ["vm", "name", "host", "vnic", "network", "breaks", "removed_on_path"], output_format,
                output_file)
    _summary(result, output_format, output_file)


@click.command("rca")
@click.argument("environment")
@click.argument("vms", nargs=-1, required=True, metavar="VM...")
@click.option("--since", default=None, metavar="WHEN",
              help="Count changes and removals after this time: ISO 8601 (UTC unless it says) or a duration "
                   "ago (90s, 15m, 2h, 7d).  [default: 24h]")
@report_format_option
@report_output_option
def rca_command(environment: str, vms: tuple[str, ...], since: str | None, output_format: str,
                output_file: str | None) -> None:
    """The likely root cause when VM (one or more; ids or unique names of VMs or network services)
    in ENVIRONMENT are broken: the suspects on their paths, most likely first, each with its evidence.

    Every object the VMs' traffic passes on its way out of their hosts (vNIC, bridges, switch, tunnel
    endpoint, NIC or bond and its members) and the agents wiring those hosts is a suspect. Evidence,
    heaviest first: the object is failing itself (no carrier, a dead agent, a failing status); the
    path ends at it, short of a NIC carrying the VM's network; a link next to it is down; an
    invariant check names it; it was removed, or changed, since --since. A suspect's score is the
    sum of its evidence weights, scaled by the share of the VMs whose paths hold it (`shared_by`), so
    what all the broken VMs share ranks first; on a tie, the one more VMs share, then the one
    nearer the VMs.
    """
    from queries.diff import parse_time
    from queries.rca import rca

    start = None
    if since is not None:
        start = parse_time(since)
        if start is None:
            raise CalipsoError(f"--since {since!r} is neither an ISO 8601 time nor a duration ago such as 2h or 7d")
    with Stores(cli_settings()) as stores:
        result = rca(stores.neo4j, environment, list(vms), start)
    emit_result(result, ["rank", "object", "type", "name", "host", "score", "shared_by", "evidence"], output_format,
                output_file)
    _summary(result, output_format, output_file)


@click.command("path")
@click.argument("environment")
@click.argument("vm_a")
@click.argument("vm_b")
@report_format_option
@report_output_option
def path_command(environment: str, vm_a: str, vm_b: str, output_format: str, output_file: str | None) -> None:
    """Every hop from VM_A to VM_B (ids or unique names) in ENVIRONMENT, in order: vNIC, bridges,
    switch, tunnel endpoint, NIC, the network between the hosts, and back in to VM_B, over the first
    network the two share (on one host the path meets at the first bridge or switch they share).

    `health` is ok or why the hop is failing (no carrier, a failing status); `link_state` is the
    state of the link into the hop (up, down, unknown). VMs that share no network are refused:
    paths through routers are not traced.
    """
    from queries.path import path

    with Stores(cli_settings()) as stores:
        result = path(stores.neo4j, environment, vm_a, vm_b)
    emit_result(result, ["hop", "id", "type", "name", "host", "health", "link", "link_state"], output_format,
                output_file)
    _summary(result, output_format, output_file)


ANALYSIS_COMMANDS: list[click.Command] = [impact_command, whatif_command, rca_command, path_command]
