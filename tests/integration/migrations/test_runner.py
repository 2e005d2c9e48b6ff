from typing import Any

from core.stores import Stores
from migrations.runner import apply_mongo, apply_neo4j, status
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
