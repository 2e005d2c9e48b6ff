import socket

import neo4j.exceptions
import pymongo.errors
import pytest

from core.errors import StoreUnavailable
from core.settings import Settings, load_settings
from core.stores import Stores, connect_mongo, connect_neo4j
from migrations.runner import apply_mongo, apply_neo4j


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_mongo_write_and_read_back(mongo_db) -> None:  # type: ignore[no-untyped-def]
    mongo_db.inventory.insert_one({"environment": "e", "id": "vm-1", "type": "instance", "ports": [1, 2]})
    found = mongo_db.inventory.find_one({"environment": "e", "id": "vm-1"}, {"_id": 0})
    assert found == {"environment": "e", "id": "vm-1", "type": "instance", "ports": [1, 2]}


def test_neo4j_write_and_read_back(neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    neo4j_driver.execute_query(
        "CREATE (:Object:Instance {uid: $uid, env: $env, name: $name})", uid=f"{env_name}/vm-1", env=env_name,
        name="web-1")
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (n:Instance {env: $env}) RETURN n.name AS name, labels(n) AS labels", env=env_name)
    assert [(r["name"], sorted(r["labels"])) for r in records] == [("web-1", ["Instance", "Object"])]


def test_neo4j_uniqueness_constraint_rejects_a_duplicate(neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    apply_neo4j(neo4j_driver)
    create = "CREATE (:Object {uid: $uid, env: $env})"
    neo4j_driver.execute_query(create, uid=f"{env_name}/x", env=env_name)
    with pytest.raises(neo4j.exceptions.ConstraintError):
        neo4j_driver.execute_query(create, uid=f"{env_name}/x", env=env_name)


def test_mongo_unique_index_rejects_a_duplicate(mongo_db) -> None:  # type: ignore[no-untyped-def]
    apply_mongo(mongo_db)
    mongo_db.inventory.insert_one({"environment": "e", "id": "vm-1"})
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        mongo_db.inventory.insert_one({"environment": "e", "id": "vm-1"})
    mongo_db.inventory.insert_one({"environment": "other", "id": "vm-1"})  # the key is (environment, id)


@pytest.mark.timeout(60)
def test_mongo_that_is_down_gives_a_clear_error() -> None:
    port = free_port()
    with pytest.raises(StoreUnavailable) as error:
        connect_mongo(load_settings(mongo_uri=f"mongodb://127.0.0.1:{port}/"))
    assert f"MongoDB at mongodb://127.0.0.1:{port}/ is not reachable" in str(error.value)
    assert "calipso stack up" in str(error.value)


@pytest.mark.timeout(60)
def test_neo4j_that_is_down_gives_a_clear_error() -> None:
    port = free_port()
    with pytest.raises(StoreUnavailable) as error:
        connect_neo4j(load_settings(neo4j_uri=f"bolt://127.0.0.1:{port}"))
    assert f"Neo4j at bolt://127.0.0.1:{port} is not reachable" in str(error.value)


@pytest.mark.timeout(60)
def test_wrong_neo4j_password_names_the_setting(settings: Settings, stores: Stores) -> None:
    with pytest.raises(StoreUnavailable, match="NEO4J_PASSWORD") as error:
        connect_neo4j(load_settings(neo4j_uri=settings.neo4j_uri, neo4j_password="not-the-password"))
    assert "not-the-password" not in str(error.value)


def test_health_reports_both_stores(stores: Stores) -> None:
    checks = {check.name: check for check in stores.health()}
    assert checks["mongodb"].ok and checks["neo4j"].ok
    assert "Neo4j/5.26" in checks["neo4j"].detail


@pytest.mark.timeout(60)
def test_health_of_a_store_that_is_down_is_reported_not_raised() -> None:
    with Stores(load_settings(mongo_uri=f"mongodb://127.0.0.1:{free_port()}/")) as unreachable:
        checks = {check.name: check for check in unreachable.health()}
    assert checks["mongodb"].ok is False
    assert "not reachable" in checks["mongodb"].detail
