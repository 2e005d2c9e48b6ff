"""`calipso objects|object|links`: the inventory as the REST API serves it (queries/inventory.py),
for people at a terminal: filtered, current or as of a time, a page at a time, and an object's history."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from calipso.common import cli_settings, err
from calipso.output import emit, format_option
from core.errors import CalipsoError
from core.stores import Stores
from graphmodel.schema import LINK_ATTRIBUTES, LINK_TYPES, OBJECT_TYPES

TIME = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"])
OBJECT_COLUMNS = ["id", "type", "name", "host", "status"]
LINK_COLUMNS = ["link_type", "source_id", "target_id", "state", "host", "status"]


def _utc(value: datetime | None) -> datetime | None:
    """A time given without a zone is UTC, as everywhere in Calipso."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _page_options(command: Any) -> Any:
    command = click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000),
                           help="At most this many rows.")(command)
    command = click.option("--skip", default=0, show_default=True, type=click.IntRange(0),
                           help="Leave out this many rows first (the next page: --skip LIMIT).")(command)
    return click.option("--as-of", "as_of", type=TIME, default=None,
                        help="As it was at this time (UTC unless a zone is given), from the history.")(command)


def _known(stores: Stores, environment: str) -> None:
    """An environment name that is no environment's is an error, not an empty answer."""
    from core.environments import ENVIRONMENTS
    from graphmodel.inventory import OBJECTS

    if stores.mongo[ENVIRONMENTS].find_one({"name": environment}, {"_id": 1}) is None and \
            stores.mongo[OBJECTS].find_one({"environment": environment}, {"_id": 1}) is None:
        raise CalipsoError(f"no environment named {environment!r} (`calipso env list` shows them)")


def _footer(shown: int, total: int, skip: int, output_format: str) -> None:
    if output_format == "table":
        more = f"; the next page: --skip {skip + shown}" if skip + shown < total else ""
        err.print(f"{shown} of {total} shown{more}", highlight=False)


@click.command("objects")
@click.argument("environment")
@click.option("--type", "types", multiple=True, type=click.Choice([t.name for t in OBJECT_TYPES]),
              help="Only objects of this type (repeatable).")
@click.option("--host", default=None, help="Only objects on this host.")
@click.option("--parent", "parent_id", default=None, help="Only direct children of this object.")
@click.option("--subtree", default=None, help="Only objects under this one.")
@click.option("--name", default=None, help="Name contains this text (case-insensitive).")
@click.option("--status", default=None, help="Only objects in this monitoring status.")
@_page_options
@format_option
def objects(environment: str, types: tuple[str, ...], host: str | None, parent_id: str | None,
            subtree: str | None, name: str | None, status: str | None, as_of: datetime | None, skip: int,
            limit: int, output_format: str) -> None:
    """Objects of ENVIRONMENT's inventory, by id: filtered, current or --as-of a time."""
    from queries.inventory import ObjectQuery, find_objects

    query = ObjectQuery(types=types, parent_id=parent_id, subtree=subtree, name=name, host=host, status=status,
                        as_of=_utc(as_of))
    with Stores(cli_settings()) as stores:
        _known(stores, environment)
        docs, total = find_objects(stores.mongo, environment, query, skip, limit)
    emit([{k: v for k, v in d.items() if k != "_id"} for d in docs], OBJECT_COLUMNS, output_format)
    _footer(len(docs), total, skip, output_format)


@click.command("object")
@click.argument("environment")
@click.argument("object_id")
@click.option("--history", is_flag=True, help="Every version of the object, newest first, instead.")
@format_option
def object_show(environment: str, object_id: str, history: bool, output_format: str) -> None:
    """One object of ENVIRONMENT by id, every attribute; with --history, what it was and when."""
    from queries.inventory import find_object, object_versions

    with Stores(cli_settings()) as stores:
        _known(stores, environment)
        if history:
            versions, total = object_versions(stores.mongo, environment, object_id, 0, 1000)
        else:
            doc = find_object(stores.mongo, environment, object_id)
    if history:
        if not total:
            raise CalipsoError(f"no object {object_id!r} was ever in environment {environment!r}")
        if output_format == "json":
            click.echo(json.dumps(versions, indent=2, default=str))
            return
        emit([{"valid_from": v["valid_from"], "valid_to": v["valid_to"] or "(current)",
               "name": v["doc"].get("name"), "status": v["doc"].get("status")} for v in versions],
             ["valid_from", "valid_to", "name", "status"], "table", title=f"{object_id}: {total} version(s)")
        return
    if doc is None:
        raise CalipsoError(f"no object {object_id!r} in environment {environment!r} "
                           f"(`calipso objects {environment} --name ...` finds one)")
    doc.pop("_id", None)
    if output_format == "json":
        click.echo(json.dumps(doc, indent=2, default=str))
        return
    emit([{"attribute": k, "value": v} for k, v in sorted(doc.items())], ["attribute", "value"], "table",
         title=f"{doc.get('type')} {object_id}")


@click.command("links")
@click.argument("environment")
@click.option("--type", "link_types", multiple=True, type=click.Choice([t.name for t in LINK_TYPES]),
              help="Only links of this type (repeatable).")
@click.option("--object", "object_id", default=None, help="Only links from or to this object.")
@click.option("--source", "source_id", default=None, help="Only links from this object.")
@click.option("--target", "target_id", default=None, help="Only links to this object.")
@click.option("--host", default=None, help="Only links on this host.")
@click.option("--state", default=None, type=click.Choice(["up", "down"]))
@click.option("--status", default=None, help="Only links in this monitoring status.")
@click.option("--attribute", "attributes", multiple=True, metavar="NAME=VALUE",
              help=f"The link attribute NAME has VALUE (repeatable); NAME one of {', '.join(LINK_ATTRIBUTES)}.")
@_page_options
@format_option
def links(environment: str, link_types: tuple[str, ...], object_id: str | None, source_id: str | None,
          target_id: str | None, host: str | None, state: str | None, status: str | None,
          attributes: tuple[str, ...], as_of: datetime | None, skip: int, limit: int, output_format: str) -> None:
    """Links of ENVIRONMENT, by key: filtered, current or --as-of a time."""
    from queries.inventory import LinkQuery, find_links

    pairs = []
    for attribute in attributes:
        name, equals, value = attribute.partition("=")
        if not equals or name not in LINK_ATTRIBUTES:
            raise click.BadParameter(f"expected NAME=VALUE with NAME one of {', '.join(LINK_ATTRIBUTES)}, "
                                     f"got {attribute!r}", param_hint="--attribute")
        pairs.append((name, value))
    query = LinkQuery(link_types=link_types, host=host, state=state, status=status, source_id=source_id,
                      target_id=target_id, object_id=object_id, attributes=pairs, as_of=_utc(as_of))
    with Stores(cli_settings()) as stores:
        _known(stores, environment)
        docs, total = find_links(stores.mongo, environment, query, skip, limit)
    emit([{k: v for k, v in d.items() if k != "_id"} for d in docs], LINK_COLUMNS, output_format)
    _footer(len(docs), total, skip, output_format)


INVENTORY_COMMANDS = (objects, object_show, links)
