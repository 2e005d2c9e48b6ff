"""The system of record in MongoDB: current objects and links, their history, and the changes feed.

Every writer (scanner, listener, monitoring) goes through `InventoryWriter`, which in one code
path (DESIGN §2):
- upserts the current documents in `inventory` (objects) and `links`, in batches;
- keeps `history`: every change closes the previous version (`valid_to`) and opens a new one
  (`valid_from`), so the environment as of any time can be rebuilt;
- appends to `changes`, an ordered feed per environment that the projector follows into Neo4j.
  FerretDB has no change streams, so this is how the projector learns what changed. Each
  environment numbers its own entries (`seq`, from its counter `counters/changes:<environment>`);
  an entry carries its document as BSON bytes: read it with `change_document`.
A document that comes back unchanged is not written at all: no history, no feed entry, and its
`last_seen` and `scan_id` still name the scan that last wrote it (new or changed). The writer
remembers what each scan saw, so `close_unseen` still closes only what that scan did not see.
Why: rewriting every unchanged document to refresh two fields was most of a rescan's cost on
FerretDB (a delete and an insert per document: 67 s of a 50 x 20 rescan's 76 s), and readers
missed each slice while it was being rewritten.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import bson
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from core.errors import CalipsoError
from core.stores import MongoDatabase
from graphmodel.pushdown import delete_ids, find_each

OBJECTS = "inventory"
LINKS = "links"
HISTORY = "history"
CHANGES = "changes"
COUNTERS = "counters"
#: How many current objects per type and links per link type each environment has: one document per
#: environment and kind, kept by the writer (see `InventoryWriter._count`), read by `inventory_counts`.
INVENTORY_COUNTS = "inventory_counts"

#: Fields the writer manages; they never count as a change of content.
#: (`key` is a link's identity, derived from its content, so it never counts either.)
BOOKKEEPING = frozenset({"_id", "environment", "first_seen", "last_seen", "scan_id", "key"})

Document = dict[str, Any]


def object_key(doc: Document) -> str:
    return str(doc["id"])


def link_key(doc: Document) -> str:
    """A link's identity within an environment: type, source, target."""
    return f"{doc['link_type']}|{doc['source_id']}|{doc['target_id']}"


#: How a feed entry's document is encoded and decoded: as `core.stores` reads MongoDB (UTC datetimes).
FEED_CODEC: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=UTC,
                                                        uuid_representation=UuidRepresentation.STANDARD)


def change_document(change: Document) -> Document:
    """The object or link document a feed entry carries.

    Why bytes: FerretDB (SQLite) decodes every field of every document a query scans, and the
    document is most of an entry's fields; one opaque field makes writing and reading the feed
    about three times faster there. Entries written before that carry a plain document."""
    doc = change["doc"]
    return bson.decode(doc, FEED_CODEC) if isinstance(doc, bytes) else doc


#: What monitoring (ingest/monitoring) writes on objects and links; `status_since` marks it as monitoring's
#: (a Neutron port's own `status` comes without it).
MONITORING_FIELDS = ("status", "status_text", "status_since")


def keep_monitoring_status(doc: Document, stored: Document | None) -> Document:
    """A rescan's document keeps the monitoring status the stored one has: a scan sees what exists,
    not how healthy it is, so health stays until the next monitoring round says otherwise (pure)."""
    if stored is None or "status_since" not in stored or "status_since" in doc:
        return doc
    return {**doc, **{name: stored[name] for name in MONITORING_FIELDS if name in stored}}


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
    return datetime.now(UTC)


class InventoryWriter:
    """Writes one environment's objects and links, with history and the changes feed."""

    def __init__(self, database: MongoDatabase, environment: str, clock: Callable[[], datetime] = utcnow,
                 batch_size: int = 2000) -> None:
        self.db = database
        self.environment = environment
        self.clock = clock
        self.batch_size = batch_size
        self._seen: dict[tuple[str, str], set[str]] = {}  # (scan_id, kind) -> keys that scan wrote or found unchanged
        # (scan_id, kind) -> the stored documents a whole read for that scan's write did not ask for:
        # what a full scan's close_unseen would otherwise read the environment again to find.
        self._not_written: dict[tuple[str, str], dict[str, Document]] = {}

    # -- public verbs ---------------------------------------------------------------------------

    def write_objects(self, docs: Sequence[Document], scan_id: str | None = None) -> WriteStats:
        return self._write(OBJECTS, "object", docs, object_key, scan_id)

    def write_links(self, docs: Sequence[Document], scan_id: str | None = None) -> WriteStats:
        return self._write(LINKS, "link", docs, link_key, scan_id)

    def close_unseen(self, scan_id: str, types: Sequence[str] | None = None,
                     subtree: str | None = None) -> WriteStats:
        """Close every object and link a completed scan did not see (optionally only some types, or
        only the subtree of one object: those whose `id_path`, the list of ancestor ids, holds it)."""
        query: dict[str, Any] = {"environment": self.environment}
        if types:
            query["type"] = {"$in": list(types)}
        if subtree:
            query["id_path"] = subtree
        read_whole = [self._not_written.get((scan_id, kind)) for kind in ("object", "link")]
        if not (subtree or types) and read_whole[0] is not None and read_whole[1] is not None:
            # Under the write lock nothing else wrote since the whole reads: what they left out and
            # the scan did not write is what it did not see.
            in_scope, links = list(read_whole[0].values()), list(read_whole[1].values())
        else:
            in_scope = list(self.db[OBJECTS].find(query))
            if subtree or types:
                # A partial scan only vouches for links touching what it scanned (and what it closed).
                links = self._links_touching([d["id"] for d in in_scope])
            else:
                links = list(self.db[LINKS].find({"environment": self.environment}))
        gone = [d for d in in_scope if not self._saw(scan_id, "object", d, object_key)]
        stats = self._delete(OBJECTS, "object", gone, object_key)
        stats += self._delete(LINKS, "link", [d for d in links if not self._saw(scan_id, "link", d, link_key)], link_key)
        return stats

    def _saw(self, scan_id: str, kind: str, stored: Document, key: Callable[[Document], str]) -> bool:
        """Whether the scan wrote the stored document or found it unchanged (by this writer, or written
        by another writer of the same scan: its `scan_id` says so)."""
        return stored.get("scan_id") == scan_id or key(stored) in self._seen.get((scan_id, kind), set())

    def delete_objects(self, ids: Sequence[str]) -> WriteStats:
        """Delete objects (and the links that touch them), as an event from the bus says."""
        gone = find_each(self.db[OBJECTS], {"environment": self.environment}, "id", ids)
        stats = self._delete(OBJECTS, "object", gone, object_key)
        stats += self._delete(LINKS, "link", self._links_touching(ids), link_key)
        return stats

    def _links_touching(self, ids: Sequence[str], query: dict[str, Any] | None = None) -> list[Document]:
        """The environment's links (matching `query`) with either end in `ids`."""
        return find_each(self.db[LINKS], {"environment": self.environment, **(query or {})},
                         ("source_id", "target_id"), ids)

    # -- the one write path ----------------------------------------------------------------------

    def _write(self, collection: str, kind: str, docs: Sequence[Document], key: Callable[[Document], str],
               scan_id: str | None) -> WriteStats:
        stats = WriteStats()
        docs = list({key(d): d for d in docs}.values())  # one document per key: the last one given wins
        stored = self._stored(collection, kind, [key(d) for d in docs], scan_id)
        docs = [keep_monitoring_status(doc, stored.get(key(doc))) for doc in docs]
        for start in range(0, len(docs), self.batch_size):
            stats += self._write_batch(collection, kind, docs[start:start + self.batch_size], key, scan_id, stored)
        return stats

    def _stored(self, collection: str, kind: str, keys: list[str], scan_id: str | None = None) -> dict[str, Document]:
        """The stored documents of these keys. A large write reads the environment's documents once:
        FerretDB (SQLite) reads a whole collection for any filter, so a `$in` per batch would cost
        batches x collection; a small write (the listener's) asks for its keys only. A scan's whole
        read keeps the documents it did not ask for, for its `close_unseen`."""
        key_field = "id" if kind == "object" else "key"
        if len(keys) > WHOLE_READ:
            wanted = set(keys)
            stored: dict[str, Document] = {}
            others = self._not_written.setdefault((scan_id, kind), {}) if scan_id else {}
            for doc in self.db[collection].find({"environment": self.environment}):
                (stored if doc.get(key_field) in wanted else others)[doc[key_field]] = doc
            return stored
        return {d[key_field]: d for d in find_each(self.db[collection], {"environment": self.environment}, key_field, keys)}

    def _write_batch(self, collection: str, kind: str, batch: Sequence[Document], key: Callable[[Document], str],
                     scan_id: str | None, stored_all: dict[str, Document]) -> WriteStats:
        now = self.clock()
        stored = {key(d): stored_all[key(d)] for d in batch if key(d) in stored_all}
        diff = diff_documents(stored, batch, key)
        new_rows = [self._row(doc, key, kind, now, scan_id, first_seen=now) for doc in diff.new]
        changed_rows = [{**self._row(doc, key, kind, now, scan_id, first_seen=previous.get("first_seen", now)),
                         "_id": previous["_id"]} for previous, doc in diff.changed]
        if scan_id:
            self._seen.setdefault((scan_id, kind), set()).update(key(d) for d in batch)
        feed = [self._change(kind, "upsert", key(row), row) for row in new_rows + changed_rows]
        self._insert(collection, new_rows)
        self._replace(collection, changed_rows)
        self._close_versions(kind, [key(row) for row in changed_rows], now)
        self._insert(HISTORY, [self._version(kind, key(row), row, now) for row in new_rows + changed_rows])
        self._append_feed(feed)
        delta = _type_delta(kind, new_rows, +1)
        for previous, doc in diff.changed:  # an object whose type changed moves between counts
            for row, sign in ((previous, -1), (doc, +1)):
                for name, n in _type_delta(kind, [row], sign).items():
                    delta[name] = delta.get(name, 0) + n
        self._count(collection, kind, delta)
        return WriteStats(new=len(diff.new), changed=len(diff.changed), unchanged=len(diff.unchanged))

    def _delete(self, collection: str, kind: str, gone: list[Document], key: Callable[[Document], str]) -> WriteStats:
        if not gone:
            return WriteStats()
        now = self.clock()
        delete_ids(self.db[collection], [doc["_id"] for doc in gone])
        self._close_versions(kind, [key(doc) for doc in gone], now)
        self._append_feed([self._change(kind, "delete", key(doc), {k: v for k, v in doc.items() if k != "_id"})
                           for doc in gone])
        self._count(collection, kind, _type_delta(kind, gone, -1))
        return WriteStats(deleted=len(gone))

    def _count(self, collection: str, kind: str, delta: dict[str, int]) -> None:
        """Move the environment's per-type counts by `delta`, after the state is written (so a count
        made from the state here already includes this write). Why counts at all: FerretDB pushes no
        `count` down, so a list's total would read the whole collection per request; one document
        read by `_id` is pushed down on both backends. Exact because every writer holds the
        environment's write lock (FerretDB's `$inc` is not atomic between two writers). A missing
        document (never counted, or purged) is made from the state instead of from the delta."""
        delta = {name: n for name, n in delta.items() if n}
        if not delta:
            return
        counts_id = inventory_counts_id(self.environment, kind)
        moved = self.db[INVENTORY_COUNTS].update_one(
            {"_id": counts_id}, {"$inc": {f"by_type.{name}": n for name, n in delta.items()}})
        if moved.matched_count == 0:
            self.db[INVENTORY_COUNTS].replace_one(
                {"_id": counts_id}, {"environment": self.environment, "kind": kind,
                                     "by_type": recount(self.db, self.environment, kind)}, upsert=True)

    # Order: current state, then history, then the feed. A crash in between leaves the feed short,
    # never ahead of the state; the next scan repeats the missing entries.

    def _insert(self, collection: str, rows: list[Document]) -> None:
        for chunk in _chunks(rows):
            self.db[collection].insert_many(chunk, ordered=True)

    def _replace(self, collection: str, rows: list[Document]) -> None:
        """Store whole new versions of existing documents (same `_id`) as a delete and an insert per slice.

        Why not update: FerretDB 1.24 (SQLite) spends ~18 ms per updated document and holds one pooled
        SQLite connection per statement of an update command until the command ends (its pool holds
        100, so a bulk of 100 updates waits forever and wedges the database); a set-based delete and
        insert costs ~0.4 ms per document. The price: for a moment a slice is absent, so readers may
        miss it; a crash in that moment loses the slice until the next scan writes it again."""
        for chunk in _chunks(rows):
            delete_ids(self.db[collection], [row["_id"] for row in chunk])
            self.db[collection].insert_many(chunk, ordered=True)

    def _close_versions(self, kind: str, keys: list[str], now: datetime) -> None:
        """Close the open history versions of `keys` (before new ones open: one open version per key)."""
        open_versions = find_each(self.db[HISTORY], {"environment": self.environment, "kind": kind, "valid_to": None},
                                  "key", keys)
        self._replace(HISTORY, [{**version, "valid_to": now} for version in open_versions])

    def _append_feed(self, feed: list[Document]) -> None:
        """Number the entries after the environment's last one and insert them. Callers hold the
        environment's write lock (see `reserve_sequence`), so numbers are handed out and inserted in
        the same order: the projector, reading after its checkpoint, never misses one."""
        if not feed:
            return
        first = reserve_sequence(self.db, self.environment, len(feed))
        for offset, change in enumerate(feed):
            change["seq"] = first + offset
        self._insert(CHANGES, feed)

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
        return {"environment": self.environment, "kind": kind, "op": op, "key": key,
                "doc": bson.encode(content(row), codec_options=FEED_CODEC), "at": self.clock()}


#: Documents per statement: set-based statements ($in, insert_many) carry a slice each.
SLICE = 1000
#: Above this many documents, a write reads the environment's stored documents in one pass.
WHOLE_READ = 5000


def _type_field(kind: str) -> str:
    return "type" if kind == "object" else "link_type"


def _type_delta(kind: str, docs: Iterable[Document], sign: int) -> dict[str, int]:
    """How many of `docs` there are per type, times `sign` (pure)."""
    delta: dict[str, int] = {}
    for doc in docs:
        name = str(doc.get(_type_field(kind)))
        delta[name] = delta.get(name, 0) + sign
    return delta


def inventory_counts_id(environment: str, kind: str) -> str:
    """The `_id` of an environment's counts of objects ("object") or links ("link")."""
    return f"{kind}:{environment}"


#: What `assign_paths` reads of a stored ancestor.
ANCESTOR_FIELDS = ("id", "name", "parent_id", "id_path", "type")


def stored_ancestors(database: MongoDatabase, environment: str, docs: Iterable[Document],
                     also: Iterable[str] = ()) -> dict[str, Document]:
    """The stored objects `assign_paths` walks up through for `docs` (each parent that is not among
    them, and its stored ancestors), and the objects `also` names with theirs: what a partial write
    needs to place its documents, where a full one reads the whole inventory anyway."""
    docs = list(docs)
    in_batch = {d["id"] for d in docs}
    parents = {d["parent_id"] for d in docs if d.get("parent_id") and d["parent_id"] not in in_batch}
    projection = {"_id": 0, **{name: 1 for name in ANCESTOR_FIELDS}}
    query = {"environment": environment}
    found = {d["id"]: d for d in find_each(database[OBJECTS], query, "id", sorted(parents | set(also)), projection)}
    chain = {i for d in found.values() for i in d.get("id_path") or []} - found.keys() - in_batch
    found.update((d["id"], d) for d in find_each(database[OBJECTS], query, "id", sorted(chain), projection))
    return found


def recount(database: MongoDatabase, environment: str, kind: str) -> dict[str, int]:
    """Count an environment's current objects per type (or links per link type) from the state:
    a whole read of the environment, for making a missing counts document, and for checking one."""
    collection = OBJECTS if kind == "object" else LINKS
    rows = database[collection].aggregate([{"$match": {"environment": environment}},
                                           {"$group": {"_id": f"${_type_field(kind)}", "n": {"$sum": 1}}}])
    return {str(row["_id"]): int(row["n"]) for row in rows}


def inventory_counts(database: MongoDatabase, environment: str, kind: str) -> dict[str, int] | None:
    """The environment's current objects per type (kind "object") or links per link type ("link"),
    as the writer keeps them; None when they were never counted (nothing written since the counts
    were introduced): the caller counts then. Types with none left are absent or 0."""
    found = database[INVENTORY_COUNTS].find_one({"_id": inventory_counts_id(environment, kind)})
    return None if found is None else {str(k): int(v) for k, v in found.get("by_type", {}).items()}


def _chunks(items: list[Any], size: int = SLICE) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def feed_counter_id(environment: str) -> str:
    """The `_id` of the counter document of an environment's changes feed."""
    return f"{CHANGES}:{environment}"


#: A version of an environment's whole inventory: its feed counter, and the mark of its last purge.
InventoryVersion = tuple[int, str | None]


def inventory_version(database: MongoDatabase, environment: str) -> InventoryVersion:
    """The environment's inventory version, in one lookup by `_id`. Every change of its objects and
    links numbers a feed entry after the state is written, so an answer computed after reading a
    version stays right while the version stands still. A purge deletes the feed but not the
    counter (numbers are never handed out twice), and marks the counter, so the version moves then too."""
    counter = database[COUNTERS].find_one({"_id": feed_counter_id(environment)}, {"value": 1, "purged": 1})
    if counter is None:
        return 0, None
    return int(counter.get("value") or 0), counter.get("purged")


def messages_version(database: MongoDatabase, environment: str) -> str | None:
    """A value that changes whenever the environment's messages change (ingest.records writes them),
    for answers that count messages too. It lives beside the feed counters, without their
    `environment` field, so nothing takes it for a feed."""
    found = database[COUNTERS].find_one({"_id": f"messages:{environment}"}, {"value": 1})
    return None if found is None else str(found["value"])


def mark_messages_changed(database: MongoDatabase, environment: str) -> None:
    """Move `messages_version` (a random value: FerretDB's `$inc` can lose an update under concurrency)."""
    database[COUNTERS].update_one({"_id": f"messages:{environment}"}, {"$set": {"value": secrets.token_hex(8)}},
                                  upsert=True)


def mark_purged(database: MongoDatabase, environment: str) -> None:
    """Move the environment's inventory version after its inventory was deleted (see inventory_version)."""
    database[COUNTERS].update_one({"_id": feed_counter_id(environment)},
                                  {"$set": {"purged": secrets.token_hex(8)}})
    mark_messages_changed(database, environment)


def reserve_sequence(database: MongoDatabase, environment: str, count: int) -> int:
    """Reserve `count` consecutive sequence numbers of one environment's changes feed; returns the first.

    Correct only under the environment's write lock (`environment_write_lock`): FerretDB 1.24 does
    not apply find_one_and_update's `$inc` atomically (8 threads x 25 increments ended at 20), so a
    counter two writers advance at once hands out overlapping numbers, or goes back below numbers the
    projector already passed. One counter per environment, advanced only by the lock's holder, never
    sees two writers; the feed's unique (environment, seq) index turns a writer without the lock
    into a duplicate-key error instead of a lost change. A missing counter starts after the
    environment's newest entry (a feed numbered before counters were per environment)."""
    counter = database[COUNTERS].find_one_and_update(
        {"_id": feed_counter_id(environment)}, {"$inc": {"value": count}, "$set": {"environment": environment}},
        upsert=True, return_document=ReturnDocument.AFTER)
    assert counter is not None  # an upsert returning the document after it always finds one
    value = int(counter["value"])
    if value == count:  # a new counter: continue an older feed, if the environment has one
        newest = database[CHANGES].find_one({"environment": environment}, {"seq": 1}, sort=[("seq", -1)])
        if newest is not None and int(newest["seq"]) > 0:
            value = int(newest["seq"]) + count
            database[COUNTERS].update_one({"_id": feed_counter_id(environment)}, {"$set": {"value": value}})
    return value - count + 1


def feed_counters(database: MongoDatabase) -> dict[str, int]:
    """Every environment's feed counter: the last sequence number handed out (one small read)."""
    return {str(doc["environment"]): int(doc["value"])
            for doc in database[COUNTERS].find({"environment": {"$exists": True}}, {"environment": 1, "value": 1})}


def initialize_feed_counters(database: MongoDatabase) -> dict[str, int]:
    """Create the per-environment counters from an existing feed (each continues after its
    environment's newest entry; an existing counter is only ever moved forward). Returns them."""
    counters = feed_counters(database)
    for environment in database[CHANGES].distinct("environment"):
        newest = database[CHANGES].find_one({"environment": environment}, {"seq": 1}, sort=[("seq", -1)])
        last = int(newest["seq"]) if newest else 0
        if last > counters.get(environment, 0):
            database[COUNTERS].update_one({"_id": feed_counter_id(environment)},
                                          {"$set": {"environment": environment, "value": last}}, upsert=True)
            counters[environment] = last
    return counters


WRITE_LOCKS = "write_locks"


class WriteLockTimeout(CalipsoError):
    """Another writer kept an environment's inventory locked for longer than we were willing to wait."""


@contextmanager
def environment_write_lock(database: MongoDatabase, environment: str, owner: str,
                           wait: timedelta = timedelta(minutes=30), lease: timedelta = timedelta(minutes=15),
                           poll_s: float = 0.2) -> Iterator[None]:
    """Hold the one write lock of an environment's inventory while a writer diffs and writes.

    Why: a write is a diff against what is stored; two scans (or a scan and the listener) writing
    the same environment at once would each close the other's versions and delete what the other
    saw. The lock is a document with the environment as `_id` (an insert either wins or raises a
    duplicate key), so it works on MongoDB and FerretDB alike; a holder that died stops blocking
    others when its lease expires."""
    deadline = time.monotonic() + wait.total_seconds()
    while True:
        now = utcnow()
        try:
            database[WRITE_LOCKS].insert_one({"_id": environment, "owner": owner, "since": now,
                                              "expires_at": now + lease})
            break
        except DuplicateKeyError:
            database[WRITE_LOCKS].delete_one({"_id": environment, "expires_at": {"$lt": now}})
            if time.monotonic() > deadline:
                holder = database[WRITE_LOCKS].find_one({"_id": environment}) or {}
                raise WriteLockTimeout(
                    f"environment {environment!r}: its inventory has been locked by {holder.get('owner', '?')} "
                    f"since {holder.get('since', '?')}; gave up after {wait}") from None
            time.sleep(poll_s)
    try:
        yield
    finally:
        database[WRITE_LOCKS].delete_one({"_id": environment, "owner": owner})
