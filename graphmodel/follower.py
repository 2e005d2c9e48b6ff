"""The projector service: one process that keeps EVERY environment's graph current.

It follows the changes feed of all environments, so any write to the inventory (a scan from the
CLI, the API, the scheduler or a worker; a listener event) reaches Neo4j within about a second,
without a command. Each environment keeps its own checkpoint in Neo4j (`Projector`): a crash, a
kill -9 or a Neo4j outage loses nothing and doubles nothing; the next run resumes after the last
committed batch.

Cheap when idle: each environment's feed is numbered by its own counter document
(`counters/changes:<environment>`); the service reads those few small documents each poll and syncs
an environment only while its counter is ahead of what the service applied (its checkpoint). A sync
with nothing after the checkpoint is not free: FerretDB answers its `seq > checkpoint` read by decoding
the environment's whole feed (600 ms at 20 hosts x 10 VMs), and syncing every environment on each poll
for seconds after any write put that in front of the next event's projection. A writer reserves its
numbers before it inserts the entries, so a next entry not there yet is waited for (up to SETTLE_S
seconds; one that stays missing, a writer that crashed in between, is passed by the sync's feed read,
once per counter value). Every RESYNC_S seconds the checkpoints are read from Neo4j again (another
projector or a `graph sync` may have moved one) and feed-only environments are discovered.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import neo4j
import neo4j.exceptions
import pymongo.errors

from core.environments import ENVIRONMENTS
from core.stores import MongoDatabase
from graphmodel.inventory import CHANGES, feed_counters
from graphmodel.projector import CHECKPOINT_LABEL, TAIL_LOOKUPS, Projector, SyncStats

log = logging.getLogger(__name__)

#: How long a next entry is waited for before the sync passes it (entries are inserted after their numbers).
SETTLE_S = 3.0
#: Checkpoints read from Neo4j again (and environments rediscovered from the feed) this often.
RESYNC_S = 30.0

_NEO4J_DOWN = (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired)
_MONGO_DOWN = (pymongo.errors.ConnectionFailure, pymongo.errors.ServerSelectionTimeoutError)


@dataclass
class Lag:
    """How far one environment's graph is behind its feed."""

    environment: str
    checkpoint: int  # newest entry applied to Neo4j
    changes: int  # entries of the feed after it: not in Neo4j yet


def projection_lag(database: MongoDatabase, driver: neo4j.Driver, environments: list[str] | None = None) -> list[Lag]:
    """Each environment's projection lag: its Neo4j checkpoint and how many changes of its feed come
    after it. Without `environments`, every environment with a feed or a checkpoint. Taken from the
    feed counters (the last number handed out), not counted in the feed: FerretDB would decode the
    environment's whole feed for a count of `seq > checkpoint` on every scrape. A number reserved by a
    writer that has not inserted its entry yet counts as pending, as it is."""
    records, _, _ = driver.execute_query(f"MATCH (c:{CHECKPOINT_LABEL}) RETURN c.env AS env, c.seq AS seq")
    checkpoints = {r["env"]: int(r["seq"] or 0) for r in records}
    counters = feed_counters(database)
    if environments is None:
        environments = sorted(set(counters) | set(checkpoints))
    return [Lag(environment, checkpoints.get(environment, 0),
                max(0, counters.get(environment, 0) - checkpoints.get(environment, 0)))
            for environment in environments]


@dataclass
class ServiceStats:
    """What the service did since it started."""

    passes: int = 0
    changes: int = 0
    per_environment: dict[str, int] = field(default_factory=dict)  # environment -> checkpoint


class ProjectorService:
    """Follows every environment's changes feed into Neo4j until `stop()` is true."""

    def __init__(self, database: MongoDatabase, driver: neo4j.Driver, poll_interval_s: float = 0.2,
                 batch_size: int = 5000, on_batch: Callable[[str, SyncStats], None] | None = None) -> None:
        self.db, self.driver = database, driver
        self.poll_interval_s, self.batch_size, self.on_batch = poll_interval_s, batch_size, on_batch
        self.environments: set[str] = set()
        self.failed: set[str] = set()  # environments whose last sync failed (retried on the next poll)
        self.stats = ServiceStats()

    def discover(self, from_feed: bool) -> set[str]:
        """The environments to follow: configured ones, and (now and then) those that only have a feed,
        e.g. written by a test or a benchmark without a configuration. Every feed has its counter
        (`reserve_sequence` makes it; Mongo step 5 made those of older feeds), so the few counter
        documents name them: a `distinct` over the feed decoded every entry of every environment."""
        found = {doc["name"] for doc in self.db[ENVIRONMENTS].find({}, {"name": 1}) if doc.get("name")}
        if from_feed:
            found |= set(feed_counters(self.db))
        self.environments |= found
        return self.environments

    def counter(self) -> dict[str, int]:
        """Every environment's feed counter; a difference from the last poll means something was written."""
        return feed_counters(self.db)

    def checkpoints(self) -> dict[str, int]:
        """Every environment's checkpoint in Neo4j (one query)."""
        records, _, _ = self.driver.execute_query(f"MATCH (c:{CHECKPOINT_LABEL}) RETURN c.env AS env, c.seq AS seq")
        return {r["env"]: int(r["seq"] or 0) for r in records}

    def due(self, counter: dict[str, int], waiting: dict[str, tuple[int, float]], passed: dict[str, int],
            now: float) -> list[str]:
        """The environments to sync now: their counter is ahead of the checkpoint applied (or that is not
        known yet), and their next entry is in the feed, or has been awaited SETTLE_S already (`waiting`:
        environment -> (missing number, since when)), and no sync found nothing at this counter value
        (`passed`: environment -> counter value)."""
        due = []
        for environment in sorted(self.environments | set(counter)):
            newest, done = counter.get(environment, 0), self.stats.per_environment.get(environment)
            if done is not None and (newest <= done or passed.get(environment) == newest):
                continue
            if done is not None and newest - done <= TAIL_LOOKUPS and self.db[CHANGES].find_one(
                    {"environment": environment, "seq": done + 1}, {"_id": 1}) is None:
                missing, since = waiting.setdefault(environment, (done + 1, now))
                if missing == done + 1 and now - since < SETTLE_S:
                    continue  # reserved, not inserted yet: its writer inserts it in a moment
                if missing != done + 1:
                    waiting[environment] = (done + 1, now)
                    continue
            due.append(environment)
        return due

    def sync_all(self, environments: list[str] | None = None) -> int:
        """One pass: apply every environment's new changes (or those of `environments`); returns how many
        were applied."""
        applied = 0
        for environment in sorted(self.environments) if environments is None else environments:
            projector = Projector(self.db, self.driver, environment, self.batch_size)
            callback = functools.partial(self.on_batch, environment) if self.on_batch else None
            try:
                stats = projector.sync(callback)
            except _NEO4J_DOWN + _MONGO_DOWN:
                raise  # the loop waits and retries; nothing is lost
            except Exception:  # noqa: BLE001 - one environment's failure must not stop the others
                log.exception("projecting %s failed; retried on the next pass", environment)
                self.failed.add(environment)
                continue
            self.failed.discard(environment)
            applied += stats.changes
            self.stats.per_environment[environment] = stats.last_seq
        self.stats.passes += 1
        self.stats.changes += applied
        return applied

    def run(self, stop: Callable[[], bool]) -> ServiceStats:
        """Follow until stop() is true. Waits (and retries) while a store is down."""
        waiting: dict[str, tuple[int, float]] = {}
        passed: dict[str, int] = {}
        next_full = 0.0
        backoff = self.poll_interval_s
        while not stop():
            try:
                now = time.monotonic()
                if now >= next_full:
                    self.discover(from_feed=True)
                    self.stats.per_environment = self.checkpoints()
                    passed.clear()
                    next_full = now + RESYNC_S
                counter = self.counter()
                due = self.due(counter, waiting, passed, now)
                before = {environment: self.stats.per_environment.get(environment) for environment in due}
                applied = self.sync_all(due) if due else 0
                for environment in due:
                    if self.stats.per_environment.get(environment) != before[environment]:
                        waiting.pop(environment, None)
                    elif before[environment] is not None and environment not in self.failed:
                        # nothing after the checkpoint: a hole that stays (its writer died in between)
                        passed[environment] = counter.get(environment, 0)
                backoff = self.poll_interval_s
                if not applied:  # after a batch, look again at once: more may have come meanwhile
                    time.sleep(self.poll_interval_s)
            except _NEO4J_DOWN + _MONGO_DOWN as exc:
                log.warning("projector: a store is unavailable (%s); retrying in %.1fs", exc, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                next_full = 0.0  # read the checkpoints again once it is back
        return self.stats
