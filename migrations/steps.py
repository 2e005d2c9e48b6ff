"""The schema steps, in order. Append; never edit a step that has been released."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pymongo.database import Database

from graphmodel.inventory import initialize_feed_counters


@dataclass(frozen=True)
class MongoIndex:
    collection: str
    keys: tuple[tuple[str, int], ...]
    unique: bool = False

    @property
    def name(self) -> str:
        return "_".join(f"{field}_{direction}" for field, direction in self.keys)


@dataclass(frozen=True)
class MongoStep:
    """Indexes to drop (by name; a missing one is fine), then a data change (idempotent), then
    indexes to create."""

    version: int
    description: str
    indexes: tuple[MongoIndex, ...]
    drop_indexes: tuple[tuple[str, str], ...] = ()  # (collection, index name)
    data: Callable[[Database], object] | None = None


@dataclass(frozen=True)
class Neo4jStep:
    version: int
    description: str
    statements: tuple[str, ...]


ASC = 1

MONGO_STEPS: tuple[MongoStep, ...] = (
    MongoStep(1, "keys of the system of record", (
        # Objects are keyed by (environment, id); links by (environment, type, source, target).
        MongoIndex("inventory", (("environment", ASC), ("id", ASC)), unique=True),
        MongoIndex("inventory", (("environment", ASC), ("type", ASC))),
        MongoIndex("inventory", (("environment", ASC), ("parent_id", ASC))),
        MongoIndex("links", (("environment", ASC), ("link_type", ASC), ("source_id", ASC),
                             ("target_id", ASC)), unique=True),
        MongoIndex("links", (("environment", ASC), ("source_id", ASC))),
        MongoIndex("links", (("environment", ASC), ("target_id", ASC))),
        # The ordered feed the projector follows (DESIGN §2).
        MongoIndex("changes", (("seq", ASC),), unique=True),
        MongoIndex("changes", (("environment", ASC), ("seq", ASC))),
        MongoIndex("history", (("environment", ASC), ("key", ASC), ("valid_from", ASC))),
        MongoIndex("environments", (("name", ASC),), unique=True),
        MongoIndex("scans", (("environment", ASC), ("started_at", ASC))),
        MongoIndex("messages", (("environment", ASC), ("timestamp", ASC))),
    )),
    MongoStep(2, "clique types by name; history by time (diffs read what opened or closed in a window)", (
        MongoIndex("clique_types", (("name", ASC),), unique=True),
        MongoIndex("history", (("environment", ASC), ("valid_from", ASC))),
        MongoIndex("history", (("environment", ASC), ("valid_to", ASC))),
    )),
    MongoStep(3, "scans newest first; due schedules; one lease per schedule run", (
        MongoIndex("scans", (("environment", ASC), ("created_at", ASC))),
        MongoIndex("schedules", (("enabled", ASC), ("next_run", ASC))),
        MongoIndex("schedule_leases", (("schedule_id", ASC), ("due", ASC), ("attempt", ASC))),
    )),
    MongoStep(4, "known SSH host keys: one per environment, host and key type", (
        MongoIndex("known_hosts", (("environment", ASC), ("host", ASC), ("key_type", ASC)), unique=True),
    )),
    MongoStep(5, "each environment numbers its own changes feed (one counter per environment, "
                 "unique per environment and seq): one global counter was not atomic on FerretDB", (
        MongoIndex("changes", (("environment", ASC), ("seq", ASC)), unique=True),
    ), drop_indexes=(("changes", "seq_1"), ("changes", "environment_1_seq_1")), data=initialize_feed_counters),
    MongoStep(6, "what each scan read, for `calipso scan replay`: by scan, and an environment's newest first", (
        MongoIndex("scan_outputs", (("scan_id", ASC),)),
        MongoIndex("scan_outputs", (("environment", ASC), ("part", ASC), ("at", ASC))),
    )),
    MongoStep(7, "what a split scan's host batches left for its writer (`scan_fetches`), by scan: the writer "
                 "reads a scan's host parts and removes all of its documents", (
        MongoIndex("scan_fetches", (("scan_id", ASC), ("part", ASC))),
    )),
    MongoStep(8, "lookups of partial writes (a host refresh, a subtree rescan): objects by ancestor (`id_path`), "
                 "links by key", (
        MongoIndex("inventory", (("environment", ASC), ("id_path", ASC))),
        MongoIndex("links", (("environment", ASC), ("key", ASC))),
    )),
    MongoStep(9, "the API's and `calipso objects|links --host` lists: objects and links by host (FerretDB pushes "
                 "the equality down; on the stack's PostgreSQL the index's twin answers it instead of a scan of "
                 "every environment's documents)", (
        MongoIndex("inventory", (("environment", ASC), ("host", ASC))),
        MongoIndex("links", (("environment", ASC), ("host", ASC))),
    )),
)

NEO4J_STEPS: tuple[Neo4jStep, ...] = (
    Neo4jStep(1, "object identity and lookups", (
        # uid = environment + id; single-property uniqueness works on Community edition.
        "CREATE CONSTRAINT object_uid IF NOT EXISTS FOR (n:Object) REQUIRE n.uid IS UNIQUE",
        "CREATE INDEX object_env_type IF NOT EXISTS FOR (n:Object) ON (n.env, n.type)",
        "CREATE INDEX object_env_name IF NOT EXISTS FOR (n:Object) ON (n.env, n.name)",
        "CREATE CONSTRAINT projector_checkpoint_env IF NOT EXISTS "
        "FOR (c:ProjectorCheckpoint) REQUIRE c.env IS UNIQUE",
    )),
    Neo4jStep(2, "recent changes by object, and removals by network (root cause)", (
        "CREATE CONSTRAINT recent_change_uid IF NOT EXISTS FOR (c:RecentChange) REQUIRE c.uid IS UNIQUE",
        "CREATE INDEX recent_change_env_network IF NOT EXISTS FOR (c:RecentChange) ON (c.env, c.network_id)",
    )),
    Neo4jStep(3, "objects by host and type (the analysis reads one host's datapath at a time)", (
        "CREATE INDEX object_env_host_type IF NOT EXISTS FOR (n:Object) ON (n.env, n.host, n.type)",
    )),
    Neo4jStep(4, "recent changes by environment (the projector asks whether an environment has any, per batch)", (
        "CREATE INDEX recent_change_env IF NOT EXISTS FOR (c:RecentChange) ON (c.env)",
    )),
)
