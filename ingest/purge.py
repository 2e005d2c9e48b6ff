"""Removing everything Calipso keeps about one environment: `calipso env delete --purge` and
`DELETE /environments/{env}?purge=true`.

A deleted environment's inventory, history, changes feed, scans, messages, schedules, known host
keys and graph would otherwise stay behind, and come back to life under a new environment of the
same name. Grants on it are removed by the caller (they belong to the API's users).
"""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from core.environments import ENVIRONMENTS
from core.known_hosts import KNOWN_HOSTS
from graphmodel.inventory import CHANGES, HISTORY, INVENTORY_COUNTS, LINKS, OBJECTS, WRITE_LOCKS, mark_purged
from graphmodel.projector import CHECKPOINT_LABEL, RECENT_CHANGE_LABEL
from ingest.recording import SCAN_OUTPUTS
from ingest.records import MESSAGES, SCANS
from ingest.schedules import LEASES, SCHEDULES

#: Collections whose documents name their environment in the `environment` field.
BY_ENVIRONMENT_FIELD = (OBJECTS, LINKS, INVENTORY_COUNTS, HISTORY, CHANGES, SCANS, SCAN_OUTPUTS, MESSAGES, SCHEDULES,
                        KNOWN_HOSTS)
#: Neo4j labels of the nodes an environment owns (each carries `env`).
GRAPH_LABELS = ("Object", RECENT_CHANGE_LABEL, CHECKPOINT_LABEL)


def purge_environment(database: Database, neo4j: Any, environment: str) -> dict[str, int]:
    """Delete the environment's configuration and every document and node of it; returns how many
    were deleted per collection and per graph label."""
    removed: dict[str, int] = {}
    schedule_ids = [d["_id"] for d in database[SCHEDULES].find({"environment": environment}, {"_id": 1})]
    if schedule_ids:
        removed[LEASES] = database[LEASES].delete_many({"schedule_id": {"$in": schedule_ids}}).deleted_count
    for collection in BY_ENVIRONMENT_FIELD:
        removed[collection] = database[collection].delete_many({"environment": environment}).deleted_count
    removed[WRITE_LOCKS] = database[WRITE_LOCKS].delete_many({"_id": environment}).deleted_count
    removed[ENVIRONMENTS] = database[ENVIRONMENTS].delete_many({"name": environment}).deleted_count
    mark_purged(database, environment)  # what readers kept of the inventory is not right any more
    with neo4j.session() as session:  # CALL IN TRANSACTIONS needs an auto-commit transaction
        for label in GRAPH_LABELS:
            summary = session.run(f"MATCH (n:{label} {{env: $env}}) CALL {{ WITH n DETACH DELETE n }} "
                                  "IN TRANSACTIONS OF 5000 ROWS", env=environment).consume()
            removed[f"graph:{label}"] = summary.counters.nodes_deleted
    return removed
