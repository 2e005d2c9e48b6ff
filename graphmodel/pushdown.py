"""Lookups shaped so that FerretDB hands them to its backend.

FerretDB 1.24 turns a top-level equality on a string, ObjectId, date, boolean or integer into SQL
(`_jsonb->'field' @> value`, one statement on PostgreSQL); anything else (`$in`, `$or`, `$nin`,
null) it answers by reading and decoding every document the pushed-down part of the filter
matches. For an inventory query that part is usually `environment`, so a `$in` over a few ids
read the environment's whole inventory: about 0.7 s per query at 20 hosts x 10 VMs, where one
equality per id costs a few milliseconds. These helpers ask one equality per value while that is
cheaper, and fall back to `$in` slices (one read of the matching part per slice) for many values.
FerretDB on SQLite pushes down only `{_id: value}`, so there one `$in` is the cheaper shape, and
MongoDB answers both shapes from its indexes: `pushes_equality_down` asks the server once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import DeleteOne
from pymongo.collection import Collection

Document = dict[str, Any]
MongoCollection = Collection[Document]

#: Up to this many values a lookup asks once per value; above, a `$in` per slice of SLICE values.
#: On the stack's PostgreSQL (lookup indexes: stack/servers/postgresql.py) an equality costs about
#: 1 ms, a `$in` 0.2-0.8 s at 20 hosts x 10 VMs, growing with the inventory.
EQUALITY_LOOKUPS = 500
SLICE = 1000

_pushdown_by_server: dict[Any, bool] = {}
_pushdown_lock = threading.Lock()


def pushes_equality_down(collection: MongoCollection) -> bool:
    """Whether the server answers an equality on a field other than `_id` without reading every
    document. FerretDB's `explain` says so (`filterPushdown`); MongoDB has no such field and
    always uses its indexes. Asked once per server, on a collection that exists (FerretDB says
    False for a missing one, whatever its backend)."""
    client = collection.database.client
    server = tuple(sorted(client.nodes)) or id(client)
    with _pushdown_lock:
        known = _pushdown_by_server.get(server)
    if known is not None:
        return known
    explained = collection.database.command("explain", {"find": collection.name, "filter": {"environment": ""}})
    pushed = bool(explained.get("filterPushdown", True))
    if not pushed and collection.name not in collection.database.list_collection_names(filter={"name": collection.name}):
        return False  # nothing stored to read yet: do not remember an answer about a missing collection
    with _pushdown_lock:
        _pushdown_by_server[server] = pushed
    return pushed


def find_each(collection: MongoCollection, query: Document, fields: str | Sequence[str], values: Iterable[Any],
              projection: Document | None = None) -> list[Document]:
    """The documents matching `query` of which one of `fields` equals (or, for an array field,
    holds) one of `values`, each once. Documents are told apart by `_id`, so a projection without
    `_id` can return a document twice when it matches two values or two fields."""
    wanted = list(dict.fromkeys(values))
    names = [fields] if isinstance(fields, str) else list(fields)
    if not wanted:
        return []
    if len(wanted) * len(names) > EQUALITY_LOOKUPS or not pushes_equality_down(collection):
        found = (doc for name in names for start in range(0, len(wanted), SLICE)
                 for doc in collection.find({**query, name: {"$in": wanted[start:start + SLICE]}}, projection))
    else:
        found = (doc for name in names for value in wanted for doc in collection.find({**query, name: value}, projection))
    seen: set[Any] = set()
    unique: list[Document] = []
    for doc in found:
        key = doc.get("_id")
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        unique.append(doc)
    return unique


def delete_ids(collection: MongoCollection, ids: Iterable[Any]) -> int:
    """Delete the documents with these `_id`s; returns how many went. A delete statement per id, SLICE
    statements per command: `{_id: value}` is pushed down by every FerretDB backend, where a `$in`
    reads every document of the collection once per slice (a rewrite of 300,000 unchanged objects
    in slices of 1,000 read the collection 300 times)."""
    wanted = list(dict.fromkeys(ids))
    return sum(collection.bulk_write([DeleteOne({"_id": key}) for key in wanted[start:start + SLICE]],
                                     ordered=False).deleted_count
               for start in range(0, len(wanted), SLICE))
