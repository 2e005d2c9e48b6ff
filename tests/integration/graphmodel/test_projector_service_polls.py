"""The projector service's polls (graphmodel/follower.py) on the test stack: an environment is synced
only while its feed counter is ahead of its checkpoint, a number reserved but not inserted yet is waited
for (SETTLE_S) before the sync passes it, and a hole that stays is passed once, not on every poll. Syncing
with nothing new is what delayed bus events: FerretDB reads a whole feed for `seq > checkpoint`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from conftest import wait_for

from graphmodel import follower
from graphmodel.follower import ProjectorService
from graphmodel.inventory import InventoryWriter, feed_counters, reserve_sequence
from migrations.runner import apply_mongo, apply_neo4j

POLL_S = 0.02
#: Long enough for many polls of the service.
WATCH_S = 0.6


def vnic(number: int) -> dict:  # type: ignore[type-arg]
    return {"id": f"h1/vnic-{number}", "type": "vnic", "name": f"v{number}", "parent_id": "h1", "mtu": 1450}


def name_in_graph(driver, environment: str, object_id: str) -> str | None:  # type: ignore[no-untyped-def]
    records, _, _ = driver.execute_query("MATCH (n:Object {env: $env, id: $id}) RETURN n.name AS name",
                                         env=environment, id=object_id)
    return records[0]["name"] if records else None


@pytest.fixture
def start_service(mongo_db, neo4j_driver) -> Iterator[Callable[[], ProjectorService]]:  # type: ignore[no-untyped-def]
    """Starts a ProjectorService following the test's database in a thread (stopped afterwards)."""
    apply_mongo(mongo_db)
    apply_neo4j(neo4j_driver)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start() -> ProjectorService:
        running = ProjectorService(mongo_db, neo4j_driver, poll_interval_s=POLL_S)
        threads.append(threading.Thread(target=running.run, args=(stop.is_set,), daemon=True))
        threads[-1].start()
        return running
    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()


def caught_up(service: ProjectorService, database, environment: str) -> bool:  # type: ignore[no-untyped-def]
    return service.stats.per_environment.get(environment) == feed_counters(database).get(environment)


def test_an_environment_is_synced_only_while_its_counter_is_ahead(  # type: ignore[no-untyped-def]
        start_service, mongo_db, neo4j_driver, env_name: str) -> None:
    writer = InventoryWriter(mongo_db, env_name)
    writer.write_objects([vnic(1), vnic(2)])
    service = start_service()  # finds the environment from its counter at once
    wait_for("the first write projected", lambda: caught_up(service, mongo_db, env_name), 30)
    passes = service.stats.passes
    time.sleep(WATCH_S)  # idle: the counter stands still
    assert service.stats.passes == passes  # no sync of an environment whose checkpoint is current

    writer.write_objects([{**vnic(1), "name": "renamed"}])
    wait_for("the rename projected", lambda: name_in_graph(neo4j_driver, env_name, "h1/vnic-1") == "renamed", 30)
    assert service.stats.passes > passes


def test_a_reserved_number_is_awaited_then_passed_once(  # type: ignore[no-untyped-def]
        start_service, mongo_db, neo4j_driver, env_name: str, monkeypatch) -> None:
    writer = InventoryWriter(mongo_db, env_name)
    writer.write_objects([vnic(1)])
    service = start_service()
    wait_for("vnic-1 projected", lambda: caught_up(service, mongo_db, env_name), 30)

    monkeypatch.setattr(follower, "SETTLE_S", 3600.0)
    reserve_sequence(mongo_db, env_name, 1)  # a writer between its reservation and its insert
    writer.write_objects([vnic(2)])  # numbered after it
    passes = service.stats.passes
    time.sleep(WATCH_S)
    # The next entry is awaited: no sync, so vnic-2 (after it) is not applied yet.
    assert service.stats.passes == passes
    assert name_in_graph(neo4j_driver, env_name, "h1/vnic-2") is None

    monkeypatch.setattr(follower, "SETTLE_S", 0.0)  # the writer died: its number stays missing
    wait_for("vnic-2 projected past the hole", lambda: name_in_graph(neo4j_driver, env_name, "h1/vnic-2") == "v2", 30)
    wait_for("caught up", lambda: caught_up(service, mongo_db, env_name), 30)

    passes = service.stats.passes
    reserve_sequence(mongo_db, env_name, 2)  # a hole at the end of the feed, nothing after it
    wait_for("the hole passed", lambda: service.stats.passes > passes, 30)
    passes = service.stats.passes
    time.sleep(WATCH_S)
    assert service.stats.passes == passes  # passed once, not on every poll
    writer.write_objects([vnic(3)])  # the next write is applied past the hole
    wait_for("vnic-3 projected", lambda: name_in_graph(neo4j_driver, env_name, "h1/vnic-3") == "v3", 30)
