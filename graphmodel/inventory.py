"""The system of record in MongoDB: current objects and links, their history, and the changes feed.

Every writer (scanner, listener, monitoring) goes through `InventoryWriter`, which in one code
path (DESIGN §2):
- upserts the current documents in `inventory` (objects) and `links`, in batches;
- keeps `history`: every change closes the previous version (`valid_to`) and opens a new one
  (`valid_from`), so the environment as of any time can be rebuilt;
- appends to `changes`, an ordered feed (sequence numbers from an atomic counter) that the
  projector follows into Neo4j. FerretDB has no change streams, so this is how the projector
  learns what changed.
A document that comes back unchanged only has `last_seen` and `scan_id` refreshed: no history,
no feed entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pymongo import DeleteOne, InsertOne, ReturnDocument, UpdateMany, UpdateOne
from pymongo.database import Database

OBJECTS = "inventory"
LINKS = "links"
HISTORY = "history"
CHANGES = "changes"
COUNTERS = "counters"

#: Fields the writer manages; they never count as a change of content.
BOOKKEEPING = frozenset({"_id", "environment", "first_seen", "last_seen", "scan_id"})

Document = dict[str, Any]


def object_key(doc: Document) -> str:
    return str(doc["id"])


def link_key(doc: Document) -> str:
    """A link's identity within an environment: type, source, target."""
    return f"{doc['link_type']}|{doc['source_id']}|{doc['target_id']}"


def content(doc: Document) -> Document:
    """The part of a document whose change is a change of the thing it describes."""
    return {k: v for k, v in doc.items() if k not in BOOKKEEPING}


@dataclass
class Diff:
    """How a batch of incoming documents relates to what is stored."""

    new: list[Document] = field(default_factory=list)
    changed: list[tuple[Document, Document]] = field(default_factory=list)  # (stored, incoming)
    unchanged: list[Document] = field(default_factory=list)


def diff_documents(stored: dict[str, Document], incoming: Iterable[Document],
                   key: Callable[[Document], str]) -> Diff:
    """Split incoming documents into new, changed and unchanged against the stored ones (pure)."""
    result = Diff()
    for doc in incoming:
        previous = stored.get(key(doc))
        if previous is None:
            result.new.append(doc)
        elif content(previous) != content(doc):
            result.changed.append((previous, doc))
        else:
            result.unchanged.append(doc)
    return result


@dataclass
class WriteStats:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0

    def __iadd__(self, other: WriteStats) -> WriteStats:
        self.new += other.new
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        return self


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class InventoryWriter:
    """Writes one environment's objects and links, with history and the changes feed."""

    def __init__(self, database: Database, environment: str, clock: Callable[[], datetime] = utcnow,
                 batch_size: int = 2000) -> None:
        self.db = database
        self.environment = environment
        self.clock = clock
        self.batch_size = batch_size

    # -- public verbs ---------------------------------------------------------------------------

    def write_objects(self, docs: Sequence[Document], scan_id: str | None = None) -> WriteStats:
        return self._write(OBJECTS, "object", docs, object_key, scan_id)

    def write_links(self, docs: Sequence[Document], scan_id: str | None = None) -> WriteStats:
        return self._write(LINKS, "link", docs, link_key, scan_id)

    def close_unseen(self, scan_id: str, types: Sequence[str] | None = None,
                     subtree: str | None = None) -> WriteStats:
        """Close every object and link a completed scan did not see (optionally only some types, or
        only the subtree of one object: those whose `id_path`, the list of ancestor ids, holds it)."""
        query: dict[str, Any] = {"environment": self.environment, "scan_id": {"$ne": scan_id}}
        if types:
            query["type"] = {"$in": list(types)}
        if subtree:
            query["id_path"] = subtree
        gone = list(self.db[OBJECTS].find(query))
        stats = self._delete(OBJECTS, "object", gone, object_key)
        link_query: dict[str, Any] = {"environment": self.environment, "scan_id": {"$ne": scan_id}}
        if subtree or types:
            # A partial scan only vouches for links touching what it scanned.
            scanned = [d["id"] for d in self.db[OBJECTS].find({**query, "scan_id": scan_id}, {"id": 1})]
            gone_ids = [d["id"] for d in gone]
            link_query["$or"] = [{"source_id": {"$in": scanned + gone_ids}}, {"target_id": {"$in": scanned + gone_ids}}]
        stats += self._delete(LINKS, "link", list(self.db[LINKS].find(link_query)), link_key)
        return stats

    def delete_objects(self, ids: Sequence[str]) -> WriteStats:
        """Delete objects (and the links that touch them), as an event from the bus says."""
        gone = list(self.db[OBJECTS].find({"environment": self.environment, "id": {"$in": list(ids)}}))
        stats = self._delete(OBJECTS, "object", gone, object_key)
        links = list(self.db[LINKS].find({"environment": self.environment,
                                          "$or": [{"source_id": {"$in": list(ids)}}, {"target_id": {"$in": list(ids)}}]}))
        stats += self._delete(LINKS, "link", links, link_key)
        return stats

    # -- the one write path ----------------------------------------------------------------------

    def _write(self, collection: str, kind: str, docs: Sequence[Document], key: Callable[[Document], str],
               scan_id: str | None) -> WriteStats:
        stats = WriteStats()
        for start in range(0, len(docs), self.batch_size):
            stats += self._write_batch(collection, kind, docs[start:start + self.batch_size], key, scan_id)
        return stats

    def _write_batch(self, collection: str, kind: str, batch: Sequence[Document], key: Callable[[Document], str],
                     scan_id: str | None) -> WriteStats:
        now = self.clock()
        keys = [key(d) for d in batch]
        key_field = "id" if kind == "object" else "key"
        stored = {key(d): d for d in self.db[collection].find({"environment": self.environment,
                                                               key_field: {"$in": keys}})}
        diff = diff_documents(stored, batch, key)
        writes: list[Any] = []
        history: list[Any] = []
        feed: list[Document] = []
        for doc in diff.new:
            row = self._row(doc, key, kind, now, scan_id, first_seen=now)
            writes.append(InsertOne(row))
            history.append(InsertOne(self._version(kind, key(doc), row, now)))
            feed.append(self._change(kind, "upsert", key(doc), row))
        for previous, doc in diff.changed:
            row = self._row(doc, key, kind, now, scan_id, first_seen=previous.get("first_seen", now))
            writes.append(UpdateOne({"_id": previous["_id"]}, {"$set": row, "$unset": _removed(previous, row)}
                                    if _removed(previous, row) else {"$set": row}))
            history.append(UpdateMany({"environment": self.environment, "kind": kind, "key": key(doc),
                                       "valid_to": None}, {"$set": {"valid_to": now}}))
            history.append(InsertOne(self._version(kind, key(doc), row, now)))
            feed.append(self._change(kind, "upsert", key(doc), row))
        if diff.unchanged:
            seen = {"last_seen": now, **({"scan_id": scan_id} if scan_id else {})}
            writes.extend(UpdateOne({"_id": stored[key(d)]["_id"]}, {"$set": seen}) for d in diff.unchanged)
        self._commit(collection, writes, history, feed)
        return WriteStats(new=len(diff.new), changed=len(diff.changed), unchanged=len(diff.unchanged))

    def _delete(self, collection: str, kind: str, gone: list[Document], key: Callable[[Document], str]) -> WriteStats:
        if not gone:
            return WriteStats()
        now = self.clock()
        writes = [DeleteOne({"_id": doc["_id"]}) for doc in gone]
        history = [UpdateMany({"environment": self.environment, "kind": kind, "key": key(doc), "valid_to": None},
                              {"$set": {"valid_to": now}}) for doc in gone]
        feed = [self._change(kind, "delete", key(doc), {k: v for k, v in doc.items() if k != "_id"}) for doc in gone]
        self._commit(collection, writes, history, feed)
        return WriteStats(deleted=len(gone))

    def _commit(self, collection: str, writes: list[Any], history: list[Any], feed: list[Document]) -> None:
        # Current state first, then history, then the feed: a crash in between leaves the feed
        # short, never ahead of the state; the next scan repeats the missing entries.
        for chunk in _chunks(writes):
            self.db[collection].bulk_write(chunk, ordered=False)
        for chunk in _chunks(history):
            self.db[HISTORY].bulk_write(chunk, ordered=True)
        if feed:
            first = reserve_sequence(self.db, len(feed))
            for offset, change in enumerate(feed):
                change["seq"] = first + offset
            self.db[CHANGES].insert_many(feed, ordered=True)

    # -- document shapes --------------------------------------------------------------------------

    def _row(self, doc: Document, key: Callable[[Document], str], kind: str, now: datetime, scan_id: str | None,
             first_seen: datetime) -> Document:
        row = {k: v for k, v in doc.items() if k != "_id"}
        row.update(environment=self.environment, first_seen=first_seen, last_seen=now)
        if scan_id:
            row["scan_id"] = scan_id
        if kind == "link":
            row["key"] = key(doc)
        return row

    def _version(self, kind: str, key: str, row: Document, now: datetime) -> Document:
        return {"environment": self.environment, "kind": kind, "key": key, "valid_from": now, "valid_to": None,
                "doc": content(row)}

    def _change(self, kind: str, op: str, key: str, row: Document) -> Document:
        return {"environment": self.environment, "kind": kind, "op": op, "key": key, "doc": content(row),
                "at": self.clock()}


#: FerretDB 1.24 (SQLite) never answers a bulk write of more than 100 update statements (seen
#: here: 100 answer in 0.2 s, 101 hang); so bulk writes go in slices of 100.
BULK_SLICE = 100


def _chunks(operations: list[Any]) -> list[list[Any]]:
    return [operations[i:i + BULK_SLICE] for i in range(0, len(operations), BULK_SLICE)]


def reserve_sequence(database: Database, count: int) -> int:
    """Reserve `count` consecutive sequence numbers of the changes feed; returns the first."""
    counter = database[COUNTERS].find_one_and_update(
        {"_id": CHANGES}, {"$inc": {"value": count}}, upsert=True, return_document=ReturnDocument.AFTER)
    return int(counter["value"]) - count + 1


def _removed(previous: Document, row: Document) -> dict[str, str]:
    """Fields the new version no longer has (so that $set alone would leave them behind)."""
    return {k: "" for k in previous if k not in row and k not in BOOKKEEPING}
