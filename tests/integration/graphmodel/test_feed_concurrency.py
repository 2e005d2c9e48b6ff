"""Environments written at the same time, each under its own write lock, as the listener and a scan
do: the changes feed of each must carry every change once, in the order it was written, so that the
projector (which follows each environment's feed from its checkpoint) applies every change exactly
once. FerretDB 1.24's `$inc` through find_one_and_update is not atomic, so a counter shared by the
environments handed out overlapping and backward sequence numbers: duplicate keys in the feed, and
changes numbered below a checkpoint already passed, which the projector never reads."""

from __future__ import annotations

import threading
from collections import Counter

from graphmodel.follower import ProjectorService
from graphmodel.inventory import CHANGES, OBJECTS, InventoryWriter, environment_write_lock
from graphmodel.projector import SyncStats, verify
from migrations.runner import apply_mongo, apply_neo4j

WRITES = 40  # single-object writes per environment, like listener events
ENVIRONMENTS = 4  # written at once (two suffice to collide; four make a collision near certain)


def vnic(number: int, name: str) -> dict:  # type: ignore[type-arg]
    return {"id": f"h1/vnic-{number}", "type": "vnic", "name": name, "parent_id": "h1", "mtu": 1450}


def write_events(database, environment: str, errors: list[BaseException]) -> None:  # type: ignore[no-untyped-def]
    """WRITES writes of one object each (every other one renames the object the one before created),
    each under the environment's write lock."""
    writer = InventoryWriter(database, environment)
    try:
        for i in range(WRITES):
            doc = vnic(i - i % 2, f"v{i}")
            with environment_write_lock(database, environment, owner=f"test:{environment}", poll_s=0.01):
                writer.write_objects([doc])
    except BaseException as exc:  # noqa: BLE001 - reported by the test thread
        errors.append(exc)


def test_two_environments_written_concurrently_reach_the_follower_exactly_once(  # type: ignore[no-untyped-def]
        mongo_db, neo4j_driver, env_name: str) -> None:
    apply_mongo(mongo_db)
    apply_neo4j(neo4j_driver)
    environments = [env_name] + [f"{env_name}-{n}" for n in range(1, ENVIRONMENTS)]
    applied: Counter[str] = Counter()
    seen_batches: dict[str, int] = {}

    def on_batch(environment: str, stats: SyncStats) -> None:
        # stats is cumulative within one sync; count each batch's changes once
        applied[environment] += stats.changes - seen_batches.get(environment, 0)
        seen_batches[environment] = stats.changes

    service = ProjectorService(mongo_db, neo4j_driver, poll_interval_s=0.02, batch_size=7, on_batch=on_batch)
    service.environments |= set(environments)

    def sync_pass() -> None:
        seen_batches.clear()
        service.sync_all()

    errors: list[BaseException] = []
    done = threading.Event()

    def follow() -> None:  # the follower runs while the writes happen, as in production
        try:
            while not done.is_set():
                sync_pass()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    writers = [threading.Thread(target=write_events, args=(mongo_db, env, errors)) for env in environments]
    follower = threading.Thread(target=follow)
    follower.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=300)
    done.set()
    follower.join(timeout=120)
    sync_pass()  # catch up on what came after the last pass
    assert not errors, errors

    try:
        for environment in environments:
            feed = list(mongo_db[CHANGES].find({"environment": environment}, {"seq": 1, "_id": 1}))
            seqs = [change["seq"] for change in feed]
            # every write changed one object: one feed entry each, numbered uniquely
            assert len(feed) == WRITES, environment
            assert len(set(seqs)) == WRITES, f"{environment}: duplicate sequence numbers {sorted(seqs)}"
            # numbered in the order written (ObjectIds grow in one process), so no entry lands behind a checkpoint
            in_written_order = [change["seq"] for change in sorted(feed, key=lambda change: change["_id"])]
            assert in_written_order == sorted(seqs), f"{environment}: numbers out of write order"
            # the follower applied each change exactly once, and the graph equals the inventory
            assert applied[environment] == WRITES, (environment, applied[environment])
            assert mongo_db[OBJECTS].count_documents({"environment": environment}) == WRITES // 2
            result = verify(mongo_db, neo4j_driver, environment)
            assert result.ok, (environment, result.differences)
    finally:
        for environment in environments[1:]:  # the fixture cleans env_name
            neo4j_driver.execute_query("MATCH (n {env: $env}) DETACH DELETE n", env=environment)
