"""Reading the inventory: objects and links of an environment, filtered, current or as of a time,
one page at a time, and their history. The REST API and the command line both ask through here.

Every query is scoped to one environment, and nothing a caller passes can widen it: filters become
field conditions on declared fields only (a link attribute's name must be one the schema declares).
"""

from __future__ import annotations

import heapq
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.stores import MongoDatabase
from graphmodel.inventory import HISTORY, LINKS, OBJECTS, InventoryVersion, inventory_counts, inventory_version
from graphmodel.pushdown import EQUALITY_LOOKUPS, find_each
from graphmodel.schema import LINK_ATTRIBUTES
from queries.explore import count

Document = dict[str, Any]
#: MongoDB integers are 64-bit: a longer number can only ever match as text.
INT64 = 2**63


@dataclass
class ObjectQuery:
    """Which objects: every condition given must hold."""

    types: Sequence[str] = ()
    parent_id: str | None = None  # direct children (`environment` for the top level)
    subtree: str | None = None  # every object under this one (its id is in their id_path)
    name: str | None = None  # contains, case-insensitive, taken literally
    host: str | None = None
    status: str | None = None  # monitoring status
    seen_after: datetime | None = None  # last written by a scan after (current objects only)
    seen_before: datetime | None = None
    as_of: datetime | None = None  # the objects that existed then, as they were (from the history)


@dataclass
class LinkQuery:
    """Which links: every condition given must hold."""

    link_types: Sequence[str] = ()
    host: str | None = None
    state: str | None = None
    status: str | None = None
    source_id: str | None = None
    target_id: str | None = None
    object_id: str | None = None  # from or to this object
    attributes: Sequence[tuple[str, str]] = ()  # (name, value): name one of graphmodel.schema.LINK_ATTRIBUTES
    as_of: datetime | None = None


def object_filter(query: ObjectQuery, prefix: str = "") -> Document:
    """The MongoDB conditions of `query` (pure); `prefix` is "doc." for history versions."""
    found: Document = {}
    if query.types:
        found[prefix + "type"] = _one_of(query.types)
    if query.parent_id:
        found[prefix + "parent_id"] = query.parent_id
    if query.subtree:
        found[prefix + "id_path"] = query.subtree
    if query.name:
        found[prefix + "name"] = {"$regex": re.escape(query.name), "$options": "i"}
    if query.host:
        found[prefix + "host"] = query.host
    if query.status:
        found[prefix + "status"] = query.status
    return found


def link_filter(query: LinkQuery, prefix: str = "") -> Document:
    """The MongoDB conditions of `query` (pure). An attribute name the schema does not declare is a
    ValueError: it becomes a field path, and must never name `environment`, `_id` or anything else."""
    found: Document = {}
    if query.link_types:
        found[prefix + "link_type"] = _one_of(query.link_types)
    for name in ("host", "state", "status", "source_id", "target_id"):
        if getattr(query, name):
            found[prefix + name] = getattr(query, name)
    if query.object_id:
        found["$or"] = [{prefix + "source_id": query.object_id}, {prefix + "target_id": query.object_id}]
    for name, value in query.attributes:
        if name not in LINK_ATTRIBUTES:
            raise ValueError(f"links have no attribute {name!r}; they have {', '.join(LINK_ATTRIBUTES)}")
        number = _number(value)
        found.setdefault("$and", []).append({prefix + name: {"$in": [value, number]} if number is not None else value})
    return found


def _one_of(values: Sequence[str]) -> Any:
    """Equality for one value, `$in` for several: FerretDB on PostgreSQL pushes an equality down to
    the database, never a `$in`."""
    return values[0] if len(set(values)) == 1 else {"$in": list(values)}


def _counted_total(database: MongoDatabase, environment: str, kind: str, types: Sequence[str]) -> int | None:
    """How many current objects (links) of these types (all, when none) the environment has, from the
    writer's counts; None when it has none yet."""
    counts = inventory_counts(database, environment, kind)
    if counts is None:
        return None
    return sum(counts.get(name, 0) for name in set(types)) if types else sum(counts.values())


def _number(text: str) -> int | None:
    try:
        number = int(text)
    except ValueError:
        return None
    return number if -INT64 <= number < INT64 else None


def _as_of(environment: str, kind: str, at: datetime, conditions: Document) -> Document:
    return {"environment": environment, "kind": kind, "valid_from": {"$lte": at},
            "$and": [{"$or": [{"valid_to": None}, {"valid_to": {"$gt": at}}]}, conditions]}


def find_objects(database: MongoDatabase, environment: str, query: ObjectQuery, skip: int = 0,
                 limit: int = 100) -> tuple[list[Document], int]:
    """One page of the environment's objects matching `query`, by id, and how many match in all
    (by type alone: from the writer's counts, no count of the collection)."""
    if query.as_of is not None:
        condition = _as_of(environment, "object", query.as_of, object_filter(query, "doc."))
        versions = list(database[HISTORY].find(condition).sort("key", 1).skip(skip).limit(limit))
        return ([{**v["doc"], "environment": environment} for v in versions],
                _total(versions, skip, limit, lambda: count(database, HISTORY, condition)))
    condition = {**object_filter(query), "environment": environment}
    if query.seen_after or query.seen_before:
        condition["last_seen"] = {k: v for k, v in (("$gt", query.seen_after), ("$lt", query.seen_before)) if v}
    docs = _page_by_id_order(database, environment, OBJECTS, skip, limit) if query == ObjectQuery() and limit > 0 \
        else None
    if docs is None:
        docs = list(database[OBJECTS].find(condition).sort("id", 1).skip(skip).limit(limit))
    by_type_only = ObjectQuery(types=query.types) == query
    total = _counted_total(database, environment, "object", query.types) if by_type_only else None
    return docs, _total(docs, skip, limit, lambda: count(database, OBJECTS, condition)) if total is None else total


def _total(page: Sequence[Document], skip: int, limit: int, counted: Callable[[], int]) -> int:
    """How many match in all, for a list without the writer's counts: a page that is not full ends
    the list, so the total is `skip` and its length; otherwise `counted()`, a count FerretDB answers by
    reading every matching document again."""
    if limit > 0 and len(page) < limit and (page or skip == 0):
        return skip + len(page)
    return counted()


#: (database, environment, collection) -> (the environment's inventory version, its object ids or
#: link keys in order), for the few lists asked last.
_ID_ORDERS: OrderedDict[tuple[str, str, str], tuple[InventoryVersion, list[str]]] = OrderedDict()
_ID_ORDERS_LOCK = threading.Lock()
ID_ORDER_ENVIRONMENTS = 16


def object_ids_in_order(database: MongoDatabase, environment: str) -> list[str] | None:
    """The ids of the environment's current objects, sorted as MongoDB sorts them (None when one is
    not a string). Why: FerretDB sorts no field but `$natural` in its backend and applies a limit only
    to an empty filter, so each unfiltered page sorted by id read and decoded the whole environment
    (13 s p50 under 20 clients at 20 hosts x 10 VMs). The order is kept per environment with its
    inventory version (graphmodel.inventory) and read again when that has moved. Every write that
    adds or removes an object changes the state before it numbers its feed entries, so an order read
    between two equal versions misses only what the next entry announces. An order whose length is
    not the writer's count (a write caught between its state and its counts) is used once and not kept."""
    return _id_order(database, environment, OBJECTS, 0)[0]


#: What orders each list: the objects' id, the links' key (their identity; see graphmodel.inventory).
_ORDER = {OBJECTS: ("id", "object"), LINKS: ("key", "link")}


def _id_order(database: MongoDatabase, environment: str, collection: str,
              first: int) -> tuple[list[str] | None, list[Document] | None]:
    """The environment's object ids (link keys, for LINKS) in order (see object_ids_in_order) and,
    when they had to be read again, its first `first` documents in that order (read in the same
    pass: one read of the environment, as the server's sort made, instead of a lookup per document
    of the page); None when kept."""
    field, kind = _ORDER[collection]
    key = (database.name, environment, collection)
    before = inventory_version(database, environment)
    with _ID_ORDERS_LOCK:
        kept = _ID_ORDERS.get(key)
        if kept is not None and kept[0] == before:
            _ID_ORDERS.move_to_end(key)
            return kept[1], None
    ids: list[Any] = []

    def each_object() -> Iterator[tuple[str, Document]]:
        for doc in database[collection].find({"environment": environment}, None if first else {"_id": 0, field: 1}):
            ids.append(doc.get(field))
            yield (doc[field] if isinstance(doc.get(field), str) else ""), doc

    # Streamed: only the first `first` objects are held, never the whole environment.
    smallest = [doc for _, doc in heapq.nsmallest(first, each_object(), key=lambda pair: pair[0])] if first \
        else [doc for _, doc in each_object()]
    ordered = sorted(i for i in ids if isinstance(i, str))  # by code point, as MongoDB compares UTF-8 bytes
    if len(ordered) != len(ids):
        return None, None  # MongoDB orders mixed types by type first: leave that to the server
    counted = _counted_total(database, environment, kind, ())
    if inventory_version(database, environment) == before and counted == len(ordered):
        with _ID_ORDERS_LOCK:
            _ID_ORDERS[key] = (before, ordered)
            _ID_ORDERS.move_to_end(key)
            while len(_ID_ORDERS) > ID_ORDER_ENVIRONMENTS:
                _ID_ORDERS.popitem(last=False)
    return ordered, smallest if first else None


def _page_by_id_order(database: MongoDatabase, environment: str, collection: str, skip: int,
                      limit: int) -> list[Document] | None:
    """One page of all the environment's objects by id (links by key): from the pass that read the
    order again, or each read by an equality on (environment, id) that FerretDB pushes down; None
    when the page is too long for lookups one by one or a document went between reading the order
    and the page (the caller then asks the server to sort)."""
    field = _ORDER[collection][0]
    skip = max(skip, 0)
    ids, first = _id_order(database, environment, collection, skip + limit)
    if ids is None:
        return None
    if first is not None:
        return first[skip:skip + limit]
    wanted = ids[skip:skip + limit]
    if len(wanted) > EQUALITY_LOOKUPS:
        return None
    found = {doc[field]: doc for doc in find_each(database[collection], {"environment": environment}, field, wanted)}
    if len(found) != len(wanted):
        return None
    return [found[i] for i in wanted]


def find_object(database: MongoDatabase, environment: str, object_id: str) -> Document | None:
    return database[OBJECTS].find_one({"environment": environment, "id": object_id})


def object_versions(database: MongoDatabase, environment: str, object_id: str, skip: int = 0,
                    limit: int = 100) -> tuple[list[Document], int]:
    """Every version of an object, newest first: what it was from `valid_from` until `valid_to`."""
    condition = {"environment": environment, "kind": "object", "key": object_id}
    versions = list(database[HISTORY].find(condition).sort("valid_from", -1).skip(skip).limit(limit))
    return ([{k: v[k] for k in ("valid_from", "valid_to", "doc")} for v in versions],
            _total(versions, skip, limit, lambda: count(database, HISTORY, condition)))


def find_links(database: MongoDatabase, environment: str, query: LinkQuery, skip: int = 0,
               limit: int = 100) -> tuple[list[Document], int]:
    """One page of the environment's links matching `query`, by key, and how many match in all
    (by link type alone: from the writer's counts)."""
    if query.as_of is not None:
        condition = _as_of(environment, "link", query.as_of, link_filter(query, "doc."))
        versions = list(database[HISTORY].find(condition).sort("key", 1).skip(skip).limit(limit))
        return ([{**v["doc"], "environment": environment, "key": v["key"]} for v in versions],
                _total(versions, skip, limit, lambda: count(database, HISTORY, condition)))
    condition = {**link_filter(query), "environment": environment}
    docs = _page_by_id_order(database, environment, LINKS, skip, limit) if query == LinkQuery() and limit > 0 \
        else None
    if docs is None:
        docs = list(database[LINKS].find(condition).sort("key", 1).skip(skip).limit(limit))
    by_type_only = LinkQuery(link_types=query.link_types) == query
    total = _counted_total(database, environment, "link", query.link_types) if by_type_only else None
    return docs, _total(docs, skip, limit, lambda: count(database, LINKS, condition)) if total is None else total


def find_link(database: MongoDatabase, environment: str, key: str) -> Document | None:
    return database[LINKS].find_one({"environment": environment, "key": key})
