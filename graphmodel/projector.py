"""The projector: MongoDB's changes feed -> the Neo4j graph (DESIGN §2, §3).

Each batch of the feed after the environment's checkpoint becomes a few UNWIND/MERGE statements
run in ONE Neo4j transaction together with the new checkpoint, so a crash or an outage never
loses or doubles anything: the next run starts after the last committed batch, and replaying a
batch is harmless (MERGE, then SET of whole property maps).

Shape: every object is a node labelled Object and its type's label, unique on `uid`
(environment|id); the tree is (parent)-[:CONTAINS]->(child); each link is a relationship whose
type is the link type in UPPER_SNAKE, with the link's attributes as properties. A link's ends
are matched, not created: writers store objects before the links between them, and objects
come first in every batch, so a link whose end is missing is one `graph verify` should report.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import neo4j

from core.stores import MongoDatabase
from graphmodel.inventory import (
    CHANGES,
    COUNTERS,
    LINKS,
    MONITORING_FIELDS,
    OBJECTS,
    change_document,
    content,
    feed_counter_id,
)
from graphmodel.pushdown import EQUALITY_LOOKUPS, find_each
from graphmodel.schema import ENVIRONMENT, LINK_TYPES_BY_NAME, OBJECT_TYPES_BY_NAME, uid

Document = dict[str, Any]
CHECKPOINT_LABEL = "ProjectorCheckpoint"
#: Up to this many changes after the checkpoint are read by number (`Projector._read_tail`).
TAIL_LOOKUPS = EQUALITY_LOOKUPS
#: A sync's first batch from the cursor has at most this many changes (the next ones double up to the
#: batch size), and the feed comes in replies of this many: Neo4j starts writing while the rest is read
#: (see `in_order`).
FIRST_BATCH = 1000
#: The last change of each object that changed or went away: when, and what it was (type, host,
#: network, ancestors), so that root cause can ask "what changed near these VMs lately" in the graph
#: (FerretDB scans a whole collection for any query on history). Not an Object: counts and verify
#: ignore it; a rebuild keeps it.
#: `log` (JSON) keeps, per facet of the object (`object` itself, and `<RELATIONSHIP>><target uid>` for
#: each of its outgoing links: a tag or a state is a change of the link's source), the state before its
#: first recorded change and then [epoch ms, state] of its last LOG_ENTRIES changes, a state being a
#: fingerprint of the properties or "absent": so that root cause can tell whether something is back to
#: the state it had at the start of its window (a change that was undone is no evidence).
RECENT_CHANGE_LABEL = "RecentChange"
#: Changes kept per facet after its first state (older ones are dropped; the first state stays).
LOG_ENTRIES = 7
ABSENT = "absent"


def _configuration(props: str) -> str:
    """Cypher: the properties `props` (an expression) without what monitoring writes, when monitoring
    wrote them (`status_since` marks it; a Neutron port's own `status` stays): a status change is live
    health, not a change of the cloud, and must not count as recent-change evidence."""
    fields = ", ".join(f"'{name}'" for name in MONITORING_FIELDS)
    return f"CASE WHEN {props}.status_since IS NULL THEN {props} ELSE apoc.map.removeKeys({props}, [{fields}]) END"


#: Cypher: the configuration before and after a row's write (see _configuration).
_BEFORE, _NOW = _configuration("before"), _configuration("row.props")


def _logged(log: str, facet: str, was: str, now: str, at: str) -> str:
    """Cypher: the JSON `log` with [at, now] appended to `facet` (started with [null, was] when new),
    keeping the first state and the last LOG_ENTRIES changes. The arguments are Cypher expressions;
    `at` is a row's time in microseconds since the epoch (see _epoch_us), kept in milliseconds."""
    entries = f"coalesce({log}[{facet}], [[null, {was}]]) + [[{at} / 1000, {now}]]"
    return (f"apoc.convert.toJson(apoc.map.setKey({log}, {facet}, [l IN [{entries}] | "
            f"CASE WHEN size(l) > {LOG_ENTRIES + 1} THEN [l[0]] + l[-{LOG_ENTRIES}..] ELSE l END][0]))")


def _datetime(micros: str) -> str:
    """Cypher: the DateTime (UTC) of `micros`, an expression of microseconds since the epoch (_epoch_us)."""
    return f"datetime({{epochSeconds: {micros} / 1000000, nanosecond: {micros} % 1000000 * 1000}})"


def node_properties(environment: str, doc: Document) -> Document:
    """A document as Neo4j node properties: scalars and lists of scalars; anything nested as JSON."""
    props = {key: _property(value) for key, value in content(doc).items() if value is not None}
    props.update(uid=uid(environment, doc["id"]), env=environment)
    return props


def link_properties(environment: str, doc: Document) -> Document:
    props = {key: _property(value) for key, value in content(doc).items()
             if value is not None and key not in ("source_id", "target_id")}
    props["env"] = environment
    return props


def _property(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float, bool)) for v in value):
        if len({type(v) for v in value}) <= 1:  # Neo4j lists hold one type
            return list(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return json.dumps(value, sort_keys=True, default=str)


def label_of(object_type: str) -> str:
    """The Neo4j label of a declared object type; refuses anything not declared (labels are
    written into Cypher text, so they must come from our schema, never from input)."""
    declared = OBJECT_TYPES_BY_NAME.get(object_type)
    if declared is None:
        raise ValueError(f"unknown object type {object_type!r}")
    return declared.label


def relationship_of(link_type: str) -> str:
    declared = LINK_TYPES_BY_NAME.get(link_type)
    if declared is None:
        raise ValueError(f"unknown link type {link_type!r}")
    return declared.relationship


@dataclass
class Batch:
    """One slice of the feed, compacted: the last change of each key wins. An object's row names its
    label (from the schema), so that all objects are ONE statement whatever their types; links are one
    statement per relationship type (see _write_batch)."""

    last_seq: int
    object_upserts: list[Document]  # uid, label, props, parent_uid, change (see RECENT_CHANGE_LABEL), at
    object_deletes: list[Document]  # uid, change, at
    link_upserts: dict[str, list[Document]]  # by relationship type: source_uid, target_uid, props, at
    link_deletes: dict[str, list[Document]]  # by relationship type: source_uid, target_uid, at


def compact(environment: str, changes: Iterable[Document]) -> Batch | None:
    """Group a slice of the feed into the statements' rows (pure)."""
    last: dict[tuple[str, str], Document] = {}
    last_seq = None
    for change in changes:
        last[(change["kind"], change["key"])] = change
        last_seq = change["seq"]
    if last_seq is None:
        return None
    batch = Batch(last_seq, [], [], {}, {})
    for (kind, _), change in last.items():
        doc = change_document(change)
        at = _epoch_us(change.get("at"))
        if kind == "object":
            kept = recent_change(environment, doc, None)
            del kept["at"]  # the row's `at` (its statement makes the DateTime)
            if change["op"] == "delete":
                batch.object_deletes.append({"uid": uid(environment, doc["id"]), "change": kept, "at": at})
            else:
                parent = doc.get("parent_id")
                if parent == ENVIRONMENT:
                    parent = None  # top-level folders hang off the environment itself, not a node
                batch.object_upserts.append({
                    "uid": uid(environment, doc["id"]), "label": label_of(doc["type"]),
                    "props": node_properties(environment, doc),
                    "parent_uid": uid(environment, parent) if parent else None, "change": kept, "at": at})
        else:
            row = {"source_uid": uid(environment, doc["source_id"]), "target_uid": uid(environment, doc["target_id"]),
                   "at": at}
            relationship = relationship_of(doc["link_type"])
            if change["op"] == "delete":
                batch.link_deletes.setdefault(relationship, []).append(row)
            else:
                batch.link_upserts.setdefault(relationship, []).append(
                    {**row, "props": link_properties(environment, doc)})
    return batch


def recent_change(environment: str, doc: Document, at: Any) -> Document:
    """What a RecentChange node keeps of an object that changed or went away (pure)."""
    return {"uid": uid(environment, doc["id"]), "env": environment, "id": doc["id"], "type": doc.get("type"),
            "name": doc.get("name"), "host": doc.get("host"), "network_id": doc.get("network_id"),
            "id_path": [str(p) for p in doc.get("id_path") or []], "at": _aware(at)}


def _aware(value: Any) -> Any:
    """A feed time as an aware UTC datetime (a naive one would become a Neo4j LocalDateTime, which
    never compares with a zoned time)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_us(value: Any) -> int | None:
    """A feed time as microseconds since the epoch (None stays None); the statements make it a DateTime
    again (`_datetime`). Why: the driver converts each Python datetime to Neo4j's in pure Python
    (neo4j.time), which cost the projector more CPU than everything else it does (1.6 s of 2 s for a
    50 x 20 world's 24.8 k changes); an integer is packed in Rust."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ValueError(f"a feed entry's time is no datetime: {value!r}")
    return int((_aware(value) - _EPOCH) // timedelta(microseconds=1))


#: Prefixes each statement of a batch: Neo4j keeps the plan it made first. Why: it plans a cached
#: statement again when its statistics have moved enough (a large load or drop moves them), and
#: planning one of these statements takes 0.1-0.5 s of CPU: with one per relationship type, a 50 x 20
#: projection once spent 7 of its 10 s re-planning (Neo4j's debug.log: "Discarded stale query from the
#: query cache"). Every plan here seeks by the unique `uid` (or `env`) index whatever the statistics.
_KEEP_PLAN = "CYPHER replan=skip"


def _write_batch(tx: neo4j.ManagedTransaction, environment: str, batch: Batch) -> None:
    # Whether a new node or link may be one that comes back (its RecentChange logged it going away):
    # never on a first load, where asking for each of them would cost an index seek per row.
    answer = tx.run(f"RETURN EXISTS {{ MATCH (c:{RECENT_CHANGE_LABEL} {{env: $env}}) }} AS recall",
                    env=environment).single()
    recall = bool(answer and answer["recall"])
    # All objects in one statement, whatever their types: the label comes with each row (`$(row.label)`,
    # Neo4j 5.26's dynamic labels; Batch's rows take it from the schema). Why: one statement per type was
    # ~30 statements per batch, each a round trip and a plan that Neo4j makes again whenever its
    # statistics move (a large load moves them). Links stay one statement per relationship type: a
    # dynamic relationship type in CREATE or MERGE takes the first row's type for every row in Neo4j
    # 5.26 Community (neo4j/neo4j#13597; test_one_batch_of_many_types_labels_and_types_each_row).
    if batch.object_upserts:
        # One index seek per object and one per parent:
        # - a node that was there (it has `env`: a parent MERGEd ahead of its own row has not) with
        #   other properties changed, or one that comes back after it went away: keep when and what
        #   (root cause asks; a new node is no change and costs one more seek);
        # - a node that was there loses a CONTAINS from any parent but its own (it moved);
        # - every object hangs off its parent (MERGEd: a parent may come in a later batch).
        tx.run(f"""{_KEEP_PLAN}
            UNWIND $rows AS row
            MERGE (n:Object {{uid: row.uid}})
            WITH n, row, n.env IS NOT NULL AS existed, properties(n) AS before
            SET n = row.props, n:$(row.label)
            WITH n, row, existed, before
            CALL {{
              WITH n, row, existed, before
              WITH row, existed, before WHERE row.at IS NOT NULL
                AND (existed AND {_BEFORE} <> {_NOW} OR NOT existed AND $recall)
              OPTIONAL MATCH (known:{RECENT_CHANGE_LABEL} {{uid: row.uid}})
              WITH row, existed, before, known WHERE existed OR known IS NOT NULL
              MERGE (c:{RECENT_CHANGE_LABEL} {{uid: row.uid}})
              WITH c, row, apoc.convert.fromJsonMap(coalesce(c.log, '{{}}')) AS log,
                   CASE WHEN existed THEN apoc.hashing.fingerprint({_BEFORE}) ELSE '{ABSENT}' END AS was
              SET c += row.change, c.at = {_datetime("row.at")}, c.op = 'changed',
                  c.log = {_logged("log", "'object'", "was", f"apoc.hashing.fingerprint({_NOW})", "row.at")}
            }}
            CALL {{
              WITH n, row, existed
              WITH n, row WHERE existed
              MATCH (old:Object)-[stale:CONTAINS]->(n)
              WHERE row.parent_uid IS NULL OR old.uid <> row.parent_uid
              DELETE stale
            }}
            CALL {{
              WITH n, row
              WITH n, row WHERE row.parent_uid IS NOT NULL
              MERGE (p:Object {{uid: row.parent_uid}})
              MERGE (p)-[:CONTAINS]->(n)
            }}
            """, rows=batch.object_upserts, recall=recall).consume()
    # A link's change (its tag, its state; gone, or back after it went away) is a change of its source:
    # the port whose tag changed, the NIC whose link went down. A new link is no change.
    source_change = ("{env: a.env, id: a.id, type: a.type, name: a.name, host: a.host, network_id: a.network_id, "
                     f"id_path: a.id_path, at: {_datetime('row.at')}}}")
    for relationship, rows in batch.link_upserts.items():
        tx.run(f"""{_KEEP_PLAN}
            UNWIND $rows AS row
            MATCH (a:Object {{uid: row.source_uid}})
            MATCH (b:Object {{uid: row.target_uid}})
            MERGE (a)-[r:{relationship}]->(b)
            WITH a, r, row, properties(r) AS before
            SET r = row.props
            WITH a, row, before WHERE row.at IS NOT NULL AND {_BEFORE} <> {_NOW} AND (size(keys(before)) > 0 OR $recall)
            CALL {{
              WITH a, row, before
              OPTIONAL MATCH (known:{RECENT_CHANGE_LABEL} {{uid: row.source_uid}})
              WITH a, row, before, '{relationship}>' + row.target_uid AS facet,
                   CASE WHEN known IS NULL THEN {{}} ELSE apoc.convert.fromJsonMap(coalesce(known.log, '{{}}')) END AS log
              WITH a, row, before, facet, log WHERE size(keys(before)) > 0 OR log[facet] IS NOT NULL
              MERGE (c:{RECENT_CHANGE_LABEL} {{uid: row.source_uid}})
              SET c += {source_change}, c.op = 'changed',
                  c.log = {_logged("log", "facet",
                                   f"CASE WHEN size(keys(before)) > 0 THEN apoc.hashing.fingerprint({_BEFORE}) "
                                   f"ELSE '{ABSENT}' END",
                                   f"apoc.hashing.fingerprint({_NOW})", "row.at")}
            }}
            """, rows=rows, recall=recall).consume()
    # Links go before objects: DETACH DELETE would drop a removed object's links unlogged, and the
    # surviving source's facet ("lost its link to X") is what lets root cause follow a path to X.
    for relationship, rows in batch.link_deletes.items():
        tx.run(f"""{_KEEP_PLAN}
            UNWIND $rows AS row
            MATCH (a:Object {{uid: row.source_uid}})-[r:{relationship}]->(:Object {{uid: row.target_uid}})
            WITH a, r, row, apoc.hashing.fingerprint({_configuration('properties(r)')}) AS was
            DELETE r
            WITH a, row, was WHERE row.at IS NOT NULL
            MERGE (c:{RECENT_CHANGE_LABEL} {{uid: row.source_uid}})
            WITH a, row, was, c, '{relationship}>' + row.target_uid AS facet,
                 apoc.convert.fromJsonMap(coalesce(c.log, '{{}}')) AS log
            SET c += {source_change}, c.op = 'changed',
                c.log = {_logged("log", "facet", "was", f"'{ABSENT}'", "row.at")}
            """, rows=rows).consume()
    if batch.object_deletes:
        tx.run(f"""{_KEEP_PLAN}
            UNWIND $rows AS row
            MATCH (n:Object {{uid: row.uid}})
            CALL {{
              WITH n, row
              WITH n, row WHERE row.at IS NOT NULL
              MERGE (c:{RECENT_CHANGE_LABEL} {{uid: row.uid}})
              WITH c, row, apoc.convert.fromJsonMap(coalesce(c.log, '{{}}')) AS log,
                   apoc.hashing.fingerprint({_configuration('properties(n)')}) AS was
              SET c += row.change, c.at = {_datetime("row.at")}, c.op = 'removed',
                  c.log = {_logged("log", "'object'", "was", f"'{ABSENT}'", "row.at")}
            }}
            DETACH DELETE n
            """, rows=batch.object_deletes).consume()
    tx.run(f"{_KEEP_PLAN} MERGE (c:{CHECKPOINT_LABEL} {{env: $env}}) SET c.seq = $seq",
           env=environment, seq=batch.last_seq).consume()


def in_order(entries: Iterable[Document], after: int, size: int, first: int | None = None) -> Iterator[list[Document]]:
    """Feed entries numbered after `after`, read in any order, as the slices of `size` that a read sorted
    by `seq` gives (pure): each slice as soon as every number up to its end has come, and the rest,
    sorted, when the entries end (a hole left then is passed, as a sorted read passes it). With `first`,
    the first slice has that many entries and each next one twice as many as the one before, up to
    `size`: the writes start early and wait little for the read.

    Why: FerretDB does not push a sort on `seq` down; it reads, decodes and sorts the whole feed after
    the checkpoint before it returns the first entry (3 s at 50 x 20, longer than the Neo4j writes),
    whereas an unsorted read streams in about the order the writer inserted (numbers in order, under
    the environment's write lock), so the first slices can be written while the rest is read."""
    pending: dict[int, Document] = {}
    following = after + 1  # the first number of the next slice
    complete = after  # every number from `following` up to this one has come
    length = first or size  # of the next slice
    for entry in entries:
        pending[entry["seq"]] = entry  # (environment, seq) is unique (Mongo step 5)
        while complete + 1 in pending:
            complete += 1
        while complete - following + 1 >= length:
            yield [pending.pop(seq) for seq in range(following, following + length)]
            following += length
            length = min(size, 2 * length)
    rest = [pending[seq] for seq in sorted(pending)]
    while rest:
        yield rest[:length]
        rest, length = rest[length:], min(size, 2 * length)


class _ReadAhead:
    """An iterator run in a thread of its own, up to `depth` items ahead of its consumer: the feed is
    read (FerretDB's CPU) while the previous slice is written (Neo4j's). Its errors are raised to the
    consumer; `close()` stops it (its generator's `finally` closes the cursor, in its own thread)."""

    def __init__(self, make: Callable[[], Generator[Any, None, None]], depth: int = 2) -> None:
        self._items: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(make,), name="projector-feed", daemon=True)
        self._thread.start()

    def _run(self, make: Callable[[], Generator[Any, None, None]]) -> None:
        try:
            with contextlib.closing(make()) as items:
                for item in items:
                    if not self._put("item", item):
                        return
            self._put("end", None)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            self._put("error", exc)

    def _put(self, kind: str, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._items.put((kind, item), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def next(self) -> Any | None:
        """The next item; None at the end."""
        kind, item = self._items.get()
        if kind == "error":
            raise item
        return item if kind == "item" else None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)  # a read stuck on a dead server ends with its socket timeout


@dataclass
class SyncStats:
    batches: int = 0
    changes: int = 0
    last_seq: int = 0
    seconds: float = 0.0
    #: waiting for the feed from MongoDB: it is read while the previous batch is written, so this is
    #: the part of reading that the writes did not hide
    read_seconds: float = 0.0
    write_seconds: float = 0.0  # the Neo4j transactions

    @property
    def per_second(self) -> float:
        return self.changes / self.seconds if self.seconds else 0.0


class Projector:
    """Applies one environment's changes feed to Neo4j."""

    def __init__(self, database: MongoDatabase, driver: neo4j.Driver, environment: str, batch_size: int = 5000) -> None:
        self.db, self.driver, self.environment, self.batch_size = database, driver, environment, batch_size

    def checkpoint(self) -> int:
        records, _, _ = self.driver.execute_query(
            f"MATCH (c:{CHECKPOINT_LABEL} {{env: $env}}) RETURN c.seq AS seq", env=self.environment)
        return int(records[0]["seq"]) if records else 0

    def sync(self, on_batch: Callable[[SyncStats], None] | None = None, max_batches: int | None = None) -> SyncStats:
        """Apply every change after the checkpoint, batch by batch; returns what was done.

        The feed is read through one cursor (FerretDB reads the whole feed after the checkpoint for
        any query on it, so a query per batch would cost batches x feed), unsorted and put in order by
        `in_order`, in a thread that reads and compacts the next batches while one is written."""
        stats = SyncStats(last_seq=self.checkpoint())
        started = time.perf_counter()
        newest = self._feed_counter()
        if newest is not None and newest <= stats.last_seq:
            # Nothing numbered after the checkpoint: a read "after the checkpoint" would make FerretDB
            # decode the whole feed to find nothing (600 ms at 20 x 10 per idle poll of `follow`).
            stats.seconds = time.perf_counter() - started
            return stats
        tail = self._read_tail(stats.last_seq, newest or 0)
        if tail:
            stats.read_seconds = time.perf_counter() - started
            for start in range(0, len(tail), self.batch_size):
                changes = tail[start:start + self.batch_size]
                self._apply(compact(self.environment, changes), len(changes), stats, started, on_batch)  # type: ignore[arg-type]
            stats.seconds = time.perf_counter() - started
            return stats
        reader = _ReadAhead(lambda: self._compacted_feed(stats.last_seq))
        try:
            while max_batches is None or stats.batches < max_batches:
                read_started = time.perf_counter()
                item = reader.next()
                stats.read_seconds += time.perf_counter() - read_started
                if item is None:
                    break
                changes, batch = item
                self._apply(batch, changes, stats, started, on_batch)
        finally:
            reader.close()
        stats.seconds = time.perf_counter() - started
        return stats

    def _compacted_feed(self, checkpoint: int) -> Generator[tuple[int, Batch], None, None]:
        """The feed after `checkpoint`, batch by batch in `seq` order: (its number of changes, compacted)."""
        # FerretDB decodes a whole reply before it sends it: smaller replies, and a smaller first batch,
        # start the writes sooner (the first 5,000 of a 50 x 20 world's feed took a second to come).
        cursor = self.db[CHANGES].find({"environment": self.environment, "seq": {"$gt": checkpoint}},
                                       batch_size=min(self.batch_size, FIRST_BATCH))
        try:
            for changes in in_order(cursor, checkpoint, self.batch_size, first=min(self.batch_size, FIRST_BATCH)):
                batch = compact(self.environment, changes)
                assert batch is not None  # in_order yields no empty slice
                yield len(changes), batch
        finally:
            cursor.close()

    def _apply(self, batch: Batch, changes: int, stats: SyncStats, started: float,
               on_batch: Callable[[SyncStats], None] | None) -> None:
        write_started = time.perf_counter()
        with self.driver.session() as session:
            session.execute_write(_write_batch, self.environment, batch)
        stats.write_seconds += time.perf_counter() - write_started
        stats.batches += 1
        stats.changes += changes
        stats.last_seq = batch.last_seq
        stats.seconds = time.perf_counter() - started
        if on_batch:
            on_batch(stats)

    def _feed_counter(self) -> int | None:
        """The last number the environment's feed handed out (None: no counter, a feed numbered before
        counters were per environment)."""
        counter = self.db[COUNTERS].find_one({"_id": feed_counter_id(self.environment)}, {"value": 1})
        return None if counter is None else int(counter["value"])

    def _read_tail(self, checkpoint: int, newest: int) -> list[Document]:
        """The few changes after the checkpoint, read by their numbers; [] when there are none or too
        many, or when the next one is not there (the cursor then reads after the checkpoint).

        Why: a following projector reads a handful of changes per write, and FerretDB pushes no `$gt`
        down, so reading "after the checkpoint" decoded the environment's whole feed each time
        (seconds at 20 hosts x 10 VMs); the feed counter says which numbers exist, and an equality
        per number is one index lookup. Only the run that follows the checkpoint without a hole is
        applied: a writer inserts the numbers it reserved just after reserving them, so a hole is
        usually an insert still in flight, read on the next pass."""
        if not 0 < newest - checkpoint <= TAIL_LOOKUPS:
            return []
        found = {doc["seq"]: doc for doc in find_each(self.db[CHANGES], {"environment": self.environment}, "seq",
                                                       range(checkpoint + 1, newest + 1))}
        run: list[Document] = []
        for seq in range(checkpoint + 1, newest + 1):
            if seq not in found:
                break
            run.append(found[seq])
        return run

    def follow(self, stop: Callable[[], bool], idle_seconds: float = 0.2,
               on_batch: Callable[[SyncStats], None] | None = None) -> None:
        """Keep applying the feed until stop() is true; waits (and retries) while Neo4j is down."""
        while not stop():
            try:
                if self.sync(on_batch).changes == 0:
                    time.sleep(idle_seconds)
            except (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired):
                time.sleep(max(idle_seconds, 1.0))  # the feed waits in MongoDB; nothing is lost

    def rebuild(self) -> SyncStats:
        """Drop the environment's graph and project the current inventory afresh."""
        last = self.db[CHANGES].find_one({"environment": self.environment}, sort=[("seq", -1)])
        with self.driver.session() as session:  # CALL IN TRANSACTIONS needs an auto-commit transaction
            session.run("MATCH (n:Object {env: $env}) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS",
                        env=self.environment).consume()
        snapshot = [{"kind": "object", "op": "upsert", "key": d["id"], "doc": d, "seq": 0}
                    for d in self.db[OBJECTS].find({"environment": self.environment}, {"_id": 0})]
        snapshot += [{"kind": "link", "op": "upsert", "key": d["key"], "doc": d, "seq": 0}
                     for d in self.db[LINKS].find({"environment": self.environment}, {"_id": 0})]
        started = time.perf_counter()
        final_seq = int(last["seq"]) if last else 0
        stats = SyncStats(last_seq=final_seq)
        for start in range(0, len(snapshot), self.batch_size):
            chunk = snapshot[start:start + self.batch_size]
            batch = compact(self.environment, chunk)
            assert batch is not None
            batch.last_seq = final_seq
            with self.driver.session() as session:
                session.execute_write(_write_batch, self.environment, batch)
            stats.batches += 1
            stats.changes += len(chunk)
        if not snapshot:
            self.driver.execute_query(f"MERGE (c:{CHECKPOINT_LABEL} {{env: $env}}) SET c.seq = $seq",
                                      env=self.environment, seq=final_seq)
        stats.seconds = time.perf_counter() - started
        return stats


@dataclass
class Verification:
    counts_mongo: dict[str, int]
    counts_neo4j: dict[str, int]
    hash_mongo: str
    hash_neo4j: str

    @property
    def differences(self) -> dict[str, tuple[int, int]]:
        keys = set(self.counts_mongo) | set(self.counts_neo4j)
        return {k: (self.counts_mongo.get(k, 0), self.counts_neo4j.get(k, 0)) for k in sorted(keys)
                if self.counts_mongo.get(k, 0) != self.counts_neo4j.get(k, 0)}

    @property
    def ok(self) -> bool:
        return not self.differences and self.hash_mongo == self.hash_neo4j


def verify(database: MongoDatabase, driver: neo4j.Driver, environment: str) -> Verification:
    """Compare MongoDB and Neo4j: counts per object and link type, and a hash of their content, which
    takes in each node's type label and each relationship's type (a node or relationship with the
    right properties but the wrong label or type is a difference too)."""
    mongo_counts: dict[str, int] = {}
    mongo_items = []
    for doc in database[OBJECTS].find({"environment": environment}, {"_id": 0}):
        mongo_counts[doc["type"]] = mongo_counts.get(doc["type"], 0) + 1
        mongo_items.append(json.dumps([node_properties(environment, doc), _label(doc["type"])],
                                      sort_keys=True, default=str))
    for doc in database[LINKS].find({"environment": environment}, {"_id": 0}):
        key = f"link:{doc['link_type']}"
        mongo_counts[key] = mongo_counts.get(key, 0) + 1
        mongo_items.append(json.dumps([uid(environment, doc["source_id"]), uid(environment, doc["target_id"]),
                                       _relationship(doc["link_type"]), link_properties(environment, doc)],
                                      sort_keys=True, default=str))
    neo_counts: dict[str, int] = {}
    neo_items = []
    with driver.session() as session:
        for record in session.run("MATCH (n:Object {env: $env}) RETURN properties(n) AS p, labels(n) AS labels",
                                  env=environment):
            props = record["p"]
            neo_counts[props.get("type", "?")] = neo_counts.get(props.get("type", "?"), 0) + 1
            label: Any = _label(props.get("type"))
            if label not in record["labels"]:
                label = sorted(set(record["labels"]) - {"Object"})  # shows up as a difference
            neo_items.append(json.dumps([props, label], sort_keys=True, default=str))
        for record in session.run("MATCH (a:Object {env: $env})-[r]->(b:Object) WHERE type(r) <> 'CONTAINS' "
                                  "RETURN a.uid AS a, b.uid AS b, type(r) AS type, properties(r) AS p",
                                  env=environment):
            key = f"link:{record['p'].get('link_type', '?')}"
            neo_counts[key] = neo_counts.get(key, 0) + 1
            neo_items.append(json.dumps([record["a"], record["b"], record["type"], record["p"]],
                                        sort_keys=True, default=str))
    return Verification(mongo_counts, neo_counts, _digest(mongo_items), _digest(neo_items))


def _label(object_type: Any) -> str | None:
    declared = OBJECT_TYPES_BY_NAME.get(object_type)
    return declared.label if declared else None


def _relationship(link_type: Any) -> str | None:
    declared = LINK_TYPES_BY_NAME.get(link_type)
    return declared.relationship if declared else None


def _digest(items: list[str]) -> str:
    digest = hashlib.sha256()
    for item in sorted(items):
        digest.update(item.encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]
