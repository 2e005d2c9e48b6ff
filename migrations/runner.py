"""Apply the schema steps and report which are applied, reading state from the stores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import neo4j
from pymongo.database import Database
from pymongo.errors import OperationFailure

from migrations.steps import MONGO_STEPS, NEO4J_STEPS

MONGO_STATE = "schema_migrations"  # collection: one document per applied step
NEO4J_STATE = "SchemaMigration"  # label: one node per applied step
GONE = (26, 27)  # MongoDB's NamespaceNotFound and IndexNotFound: nothing to drop


@dataclass
class StepState:
    store: str
    version: int
    description: str
    applied_at: datetime | None


def apply_mongo(database: Database) -> list[StepState]:
    """Apply the MongoDB steps not yet recorded; returns those applied now."""
    done = {doc["_id"] for doc in database[MONGO_STATE].find({}, {"_id": 1})}
    applied = []
    for step in MONGO_STEPS:
        if step.version in done:
            continue
        for collection, name in step.drop_indexes:
            try:
                database[collection].drop_index(name)
            except OperationFailure as exc:
                # Gone already: never made, or dropped by another process migrating at the same time
                # (`calipso run` starts several). MongoDB and FerretDB say IndexNotFound (27).
                if exc.code not in GONE and "not found" not in str(exc).lower():
                    raise
        if step.data is not None:
            step.data(database)
        for index in step.indexes:
            database[index.collection].create_index(list(index.keys), name=index.name, unique=index.unique)
        now = datetime.now(UTC)
        database[MONGO_STATE].replace_one(
            {"_id": step.version}, {"_id": step.version, "description": step.description, "applied_at": now},
            upsert=True)
        applied.append(StepState("mongodb", step.version, step.description, now))
    return applied


def apply_neo4j(driver: neo4j.Driver) -> list[StepState]:
    """Apply the Neo4j steps not yet recorded; returns those applied now."""
    records, _, _ = driver.execute_query(f"MATCH (m:{NEO4J_STATE}) RETURN m.version AS version")
    done = {record["version"] for record in records}
    applied = []
    for step in NEO4J_STEPS:
        if step.version in done:
            continue
        for statement in step.statements:  # schema changes cannot share a transaction with writes
            driver.execute_query(statement)
        now = datetime.now(UTC)
        driver.execute_query(
            f"MERGE (m:{NEO4J_STATE} {{version: $version}}) SET m.description = $description, m.applied_at = $now",
            version=step.version, description=step.description, now=now)
        applied.append(StepState("neo4j", step.version, step.description, now))
    return applied


def status(database: Database, driver: neo4j.Driver) -> list[StepState]:
    """Every known step with the time it was applied (None if pending)."""
    mongo_done = {doc["_id"]: doc["applied_at"] for doc in database[MONGO_STATE].find()}
    records, _, _ = driver.execute_query(
        f"MATCH (m:{NEO4J_STATE}) RETURN m.version AS version, m.applied_at AS applied_at")
    neo4j_done = {r["version"]: r["applied_at"].to_native() for r in records}
    return ([StepState("mongodb", s.version, s.description, mongo_done.get(s.version)) for s in MONGO_STEPS]
            + [StepState("neo4j", s.version, s.description, neo4j_done.get(s.version)) for s in NEO4J_STEPS])
