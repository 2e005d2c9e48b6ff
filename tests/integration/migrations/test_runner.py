from typing import Any

import pytest
from pymongo.errors import DuplicateKeyError

from core.stores import Stores
from graphmodel.inventory import COUNTERS, InventoryWriter, feed_counters, reserve_sequence
from migrations.runner import MONGO_STATE, apply_mongo, apply_neo4j, status
from migrations.steps import MONGO_STEPS, NEO4J_STEPS


def mongo_schema(database) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {name: database[name].index_information() for name in sorted(database.list_collection_names())}


def neo4j_schema(driver) -> list[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    constraints, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties")
    indexes, _, _ = driver.execute_query("SHOW INDEXES YIELD name, type, labelsOrTypes, properties")
    return sorted(tuple(str(value) for value in record.values()) for record in [*constraints, *indexes])


def test_mongo_migrations_applied_twice_leave_the_same_state(mongo_db) -> None:  # type: ignore[no-untyped-def]
    first = apply_mongo(mongo_db)
    assert [step.version for step in first] == [step.version for step in MONGO_STEPS]
    after_first = mongo_schema(mongo_db)
    assert "environment_1_id_1" in after_first["inventory"]
    assert after_first["inventory"]["environment_1_id_1"]["unique"] is True
    assert apply_mongo(mongo_db) == []
    assert mongo_schema(mongo_db) == after_first


def test_neo4j_migrations_applied_twice_leave_the_same_state(stores: Stores) -> None:
    apply_neo4j(stores.neo4j)
    after_first = neo4j_schema(stores.neo4j)
    assert any(row[0] == "object_uid" for row in after_first)
    assert apply_neo4j(stores.neo4j) == []
    assert neo4j_schema(stores.neo4j) == after_first


def test_status_lists_every_step_with_its_time(mongo_db, stores: Stores) -> None:  # type: ignore[no-untyped-def]
    pending = status(mongo_db, stores.neo4j)
    assert all(state.applied_at is None for state in pending if state.store == "mongodb")
    apply_mongo(mongo_db)
    apply_neo4j(stores.neo4j)
    states = status(mongo_db, stores.neo4j)
    assert len(states) == len(MONGO_STEPS) + len(NEO4J_STEPS)
    assert all(state.applied_at is not None for state in states)


def test_feed_counters_per_environment_continue_a_feed_numbered_by_the_global_counter(mongo_db) -> None:  # type: ignore[no-untyped-def]
    # A database as step 4 left it: one global counter, the feed numbered across environments.
    apply_mongo(mongo_db)
    mongo_db["changes"].drop_indexes()
    mongo_db["changes"].create_index([("seq", 1)], name="seq_1", unique=True)
    mongo_db["changes"].create_index([("environment", 1), ("seq", 1)], name="environment_1_seq_1")
    mongo_db[MONGO_STATE].delete_one({"_id": 5})
    mongo_db[COUNTERS].delete_many({})
    mongo_db[COUNTERS].insert_one({"_id": "changes", "value": 7})
    mongo_db["changes"].insert_many([{"environment": env, "seq": seq, "kind": "object", "op": "upsert", "key": "k"}
                                     for env, seq in (("a", 1), ("b", 2), ("a", 3), ("b", 4), ("a", 7))])

    assert [step.version for step in apply_mongo(mongo_db)] == [5]
    assert feed_counters(mongo_db) == {"a": 7, "b": 4}
    indexes = mongo_db["changes"].index_information()
    assert "seq_1" not in indexes and indexes["environment_1_seq_1"]["unique"] is True
    # Each environment continues after its own newest entry; numbers may now repeat across environments.
    InventoryWriter(mongo_db, "b").write_objects([{"id": "x", "type": "host", "name": "x"}])
    InventoryWriter(mongo_db, "a").write_objects([{"id": "x", "type": "host", "name": "x"}])
    assert mongo_db["changes"].find_one({"environment": "b", "key": "x"})["seq"] == 5
    assert mongo_db["changes"].find_one({"environment": "a", "key": "x"})["seq"] == 8
    # A second entry with a number its environment already has is refused, not silently kept.
    with pytest.raises(DuplicateKeyError):
        mongo_db["changes"].insert_one({"environment": "a", "seq": 8})


def test_a_missing_feed_counter_starts_after_the_environments_newest_entry(mongo_db) -> None:  # type: ignore[no-untyped-def]
    # No migration run (an upgraded deployment before `calipso migrate`): the feed has old numbers.
    mongo_db["changes"].insert_many([{"environment": "a", "seq": seq} for seq in (3, 11)])
    assert reserve_sequence(mongo_db, "a", 4) == 12
    assert reserve_sequence(mongo_db, "a", 1) == 16
    assert reserve_sequence(mongo_db, "fresh", 2) == 1
    assert feed_counters(mongo_db) == {"a": 16, "fresh": 2}


def test_a_split_scans_staged_answers_are_indexed_by_scan(mongo_db) -> None:  # type: ignore[no-untyped-def]
    # The writer finds a scan's host parts ({scan_id, part}) and removes all its documents ({scan_id}):
    # without an index each of those reads every staged document of every scan.
    apply_mongo(mongo_db)
    indexes = mongo_db["scan_fetches"].index_information()
    by_keys = {tuple(index["key"]): name for name, index in indexes.items()}
    assert (("scan_id", 1), ("part", 1)) in by_keys, indexes
    assert by_keys[(("scan_id", 1), ("part", 1))] == "scan_id_1_part_1"


def test_objects_and_links_are_indexed_by_host(mongo_db) -> None:  # type: ignore[no-untyped-def]
    # The lists filtered by host ({environment, host}) are answered from an index, not a scan.
    apply_mongo(mongo_db)
    for collection in ("inventory", "links"):
        keys = [tuple(index["key"]) for index in mongo_db[collection].index_information().values()]
        assert (("environment", 1), ("host", 1)) in keys, (collection, keys)


def test_the_projectors_per_batch_recall_check_seeks_an_index(stores: Stores) -> None:
    """`EXISTS {MATCH (c:RecentChange {env: $env})}` (graphmodel/projector.py) runs once per batch: without
    the index it scans every RecentChange node of every environment."""
    apply_neo4j(stores.neo4j)

    def operators(plan: dict[str, Any]) -> list[str]:
        return [plan["operatorType"].split("@")[0]] + [o for child in plan.get("children", []) for o in operators(child)]
    with stores.neo4j.session() as session:
        session.run("CALL db.awaitIndexes(60)").consume()
        plan = session.run("CYPHER replan=force EXPLAIN RETURN EXISTS { MATCH (c:RecentChange {env: $env}) } AS recall",
                           env="any").consume().plan
    assert "NodeIndexSeek" in operators(plan) and "NodeByLabelScan" not in operators(plan)
