"""find_each and delete_ids against the test stack's store: the same answers as `$in`, in either shape."""

from __future__ import annotations

import pytest

from graphmodel import pushdown
from graphmodel.pushdown import EQUALITY_LOOKUPS, delete_ids, find_each

DOCUMENTS = EQUALITY_LOOKUPS + 20


@pytest.fixture
def objects(mongo_db):  # type: ignore[no-untyped-def]
    collection = mongo_db["objects"]
    collection.insert_many([{"environment": "e", "id": f"o{n}", "id_path": ["root", f"h{n % 3}", f"o{n}"],
                             "source": f"o{n}", "target": f"o{(n + 1) % DOCUMENTS}"} for n in range(DOCUMENTS)]
                           + [{"environment": "other", "id": "o1", "id_path": ["root"]}])
    return collection


@pytest.mark.parametrize("count", [3, EQUALITY_LOOKUPS + 10])
def test_find_each_equals_in(objects, count: int) -> None:  # type: ignore[no-untyped-def]
    wanted = [f"o{n}" for n in range(count)] + ["o1", "missing"]
    found = find_each(objects, {"environment": "e"}, "id", wanted)
    expected = objects.find({"environment": "e", "id": {"$in": wanted}})
    assert sorted(d["id"] for d in found) == sorted(d["id"] for d in expected)
    assert len({d["_id"] for d in found}) == len(found) == count


def test_find_each_reports_a_document_once_across_fields_and_array_values(objects) -> None:  # type: ignore[no-untyped-def]
    by_path = find_each(objects, {"environment": "e"}, "id_path", ["h1", "o4"])  # o4 is under h1 too
    assert sorted(d["id"] for d in by_path) == sorted(f"o{n}" for n in range(DOCUMENTS) if n % 3 == 1)
    either_end = find_each(objects, {"environment": "e"}, ("source", "target"), ["o5"])
    assert sorted(d["id"] for d in either_end) == ["o4", "o5"]
    assert find_each(objects, {"environment": "e"}, "id", []) == []


@pytest.mark.parametrize("count", [5, EQUALITY_LOOKUPS + 1])
def test_delete_ids(objects, count: int) -> None:  # type: ignore[no-untyped-def]
    ids = [d["_id"] for d in objects.find({"environment": "e"}, {"_id": 1}).limit(count)]
    assert delete_ids(objects, ids + ids[:1]) == count
    assert objects.count_documents({"_id": {"$in": ids}}) == 0
    assert objects.count_documents({}) == DOCUMENTS + 1 - count


def test_the_server_is_asked_once(objects, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(pushdown, "_pushdown_by_server", {})
    asked = pushdown.pushes_equality_down(objects)
    assert isinstance(asked, bool)
    monkeypatch.setattr(objects.database, "command", None)  # a second question would fail
    assert pushdown.pushes_equality_down(objects) is asked
