"""The stack's PostgreSQL gives every index FerretDB makes a GIN twin that its pushed-down equalities use."""

from __future__ import annotations

import pytest

from core.settings import Settings
from migrations.runner import apply_mongo


def plan_indexes(plan: dict) -> list[str]:  # type: ignore[type-arg]
    """The names of the indexes a PostgreSQL plan (as FerretDB's explain returns it) scans."""
    names = [plan["Index Name"]] if "Index Name" in plan else []
    return names + [name for child in plan.get("Plans", []) for name in plan_indexes(child)]


def test_a_declared_index_serves_equality_lookups(settings: Settings, mongo_db) -> None:  # type: ignore[no-untyped-def]
    if settings.ferretdb_backend != "postgresql":
        pytest.skip("the lookup indexes are made by the stack's PostgreSQL (CALIPSO_FERRETDB_BACKEND=postgresql)")
    apply_mongo(mongo_db)  # creates the collections' indexes through FerretDB, as every calipso command does
    mongo_db["inventory"].insert_many([{"environment": "e", "id": f"vm-{n}", "type": "instance"} for n in range(50)])

    explained = mongo_db.command("explain", {"find": "inventory", "filter": {"environment": "e", "id": "vm-7"}})
    used = plan_indexes(explained["queryPlanner"]["Plan"])
    assert used and all(name.startswith("calipso_lookup_") for name in used), explained["queryPlanner"]

    by_id = mongo_db["inventory"].find_one({"id": "vm-7"}, {"_id": 1})
    assert by_id is not None
    explained = mongo_db.command("explain", {"find": "inventory", "filter": {"_id": by_id["_id"]}})
    assert plan_indexes(explained["queryPlanner"]["Plan"]), "a lookup by _id scans the table"
    # a field no index names stays a scan: the twins mirror the declared indexes, nothing more
    explained = mongo_db.command("explain", {"find": "inventory", "filter": {"name": "vm-7"}})
    assert plan_indexes(explained["queryPlanner"]["Plan"]) == []
