"""Purging an environment (`calipso env delete --purge`, `DELETE /environments/{env}?purge=true`)
removes everything kept about it from MongoDB and Neo4j, and nothing of any other environment."""

from __future__ import annotations

import uuid
from typing import Any

from conftest import calipso, error_of, scan_and_project

from api.auth import UserStore
from core.known_hosts import KNOWN_HOSTS
from ingest.purge import BY_ENVIRONMENT_FIELD, GRAPH_LABELS
from ingest.records import MESSAGES, Message, record_message
from ingest.schedules import Recurrence, ScheduleStore
from lab.generate import generate_world


def kept_about(database: Any, neo4j: Any, environment: str) -> dict[str, int]:
    counts = {c: database[c].count_documents({"environment": environment}) for c in BY_ENVIRONMENT_FIELD}
    counts["environments"] = database["environments"].count_documents({"name": environment})
    counts["grants"] = database["api_grants"].count_documents({"environment": environment})
    for label in GRAPH_LABELS:
        records, _, _ = neo4j.execute_query(f"MATCH (n:{label} {{env: $env}}) RETURN count(n) AS n", env=environment)
        counts[label] = records[0]["n"]
    return counts


def populate(database: Any, neo4j: Any, environment: str, seed: int) -> None:
    """A scanned and projected lab world, with a message, a schedule, a known host key and a grant."""
    assert scan_and_project(generate_world(2, 1, 1, "ovs", "vxlan", seed=seed), database, neo4j,
                            environment).status == "completed"
    record_message(database, Message(environment, "Calipso", "warning", "something"))
    ScheduleStore(database).add(environment, Recurrence("daily", hour=3))
    database[KNOWN_HOSTS].insert_one({"environment": environment, "host": "compute-1", "key_type": "ssh-ed25519",
                                      "key": "AAAA", "fingerprint": "SHA256:x"})
    UserStore(database).grant("alice", environment, "view")


def test_env_delete_purge_removes_everything_of_that_environment_only(mongo_db, neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    other = f"test-other-{uuid.uuid4().hex[:8]}"
    try:
        populate(mongo_db, neo4j_driver, env_name, seed=3)
        populate(mongo_db, neo4j_driver, other, seed=4)
        before_other = kept_about(mongo_db, neo4j_driver, other)
        before = kept_about(mongo_db, neo4j_driver, env_name)
        assert all(before[c] > 0 for c in ("inventory", "links", "history", "changes", "scans", MESSAGES,
                                            "schedules", KNOWN_HOSTS, "grants", "Object"))
        done = calipso(mongo_db, "env", "delete", env_name, "--purge", "--yes")
        assert "purged" in done.stderr
        assert set(kept_about(mongo_db, neo4j_driver, env_name).values()) == {0}
        assert kept_about(mongo_db, neo4j_driver, other) == before_other
        again = calipso(mongo_db, "env", "delete", env_name, "--purge", "--yes", check=False)
        assert again.returncode != 0 and "nothing to purge" in again.stderr
    finally:
        neo4j_driver.execute_query("MATCH (n {env: $env}) DETACH DELETE n", env=other)


def test_purge_through_the_api_is_for_administrators(api_app, api_tokens, api_world, stores) -> None:  # type: ignore[no-untyped-def]
    database, name = api_world.stores.mongo, f"test-purge-{uuid.uuid4().hex[:8]}"
    populate(database, stores.neo4j, name, seed=5)
    client = api_app.test_client()
    url = f"/api/v1/environments/{name}"

    def delete(user: str):  # type: ignore[no-untyped-def]
        return client.delete(url, query_string={"purge": "true"}, headers={"Authorization": f"Bearer {api_tokens[user]}"})

    error_of(delete("alice"), 403)  # alice holds view on it (populate granted it): still not an admin
    assert kept_about(database, stores.neo4j, name)["inventory"] > 0
    assert delete("admin").status_code == 204
    assert set(kept_about(database, stores.neo4j, name).values()) == {0}
    error_of(delete("admin"), 404)
