"""The unfiltered inventory list pages by an id order kept per environment (read again when its
changes feed moves) and reads each page's objects by (environment, id): the same pages as the
server's sort by id, through writes that add, change and remove objects."""

from graphmodel.inventory import OBJECTS, InventoryWriter
from migrations.runner import apply_mongo
from queries.inventory import _ID_ORDERS, ObjectQuery, find_objects, object_ids_in_order


def _server_page(mongo_db, skip: int, limit: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [d["id"] for d in mongo_db[OBJECTS].find({"environment": "env1"}).sort("id", 1).skip(skip).limit(limit)]


def _pages_agree(mongo_db) -> None:  # type: ignore[no-untyped-def]
    for skip, limit in ((0, 5), (5, 5), (10, 50), (0, 100), (40, 5)):
        # Each page twice: from the pass that reads the order (none kept), then by lookups (order kept).
        _ID_ORDERS.clear()
        for _ in range(2):
            docs, total = find_objects(mongo_db, "env1", ObjectQuery(), skip=skip, limit=limit)
            assert [d["id"] for d in docs] == _server_page(mongo_db, skip, limit)
            assert total == mongo_db[OBJECTS].count_documents({"environment": "env1"})


def test_pages_follow_writes(mongo_db) -> None:  # type: ignore[no-untyped-def]
    apply_mongo(mongo_db)
    writer = InventoryWriter(mongo_db, "env1")
    # Ids whose order is not their insertion order, with upper case and non-ASCII among them.
    names = [f"vm-{(i * 7) % 23:02d}" for i in range(23)] + ["Zeta", "älpha", "host-b", "host-a"]
    writer.write_objects([{"id": n, "type": "instance", "name": n} for n in names], scan_id="s1")
    writer.write_objects([{"id": "other", "type": "host", "name": "other"}], scan_id="s1")
    InventoryWriter(mongo_db, "env2").write_objects([{"id": "a-first", "type": "host", "name": "x"}], scan_id="s1")
    _pages_agree(mongo_db)
    assert "a-first" not in object_ids_in_order(mongo_db, "env1")  # type: ignore[operator]

    writer.write_objects([{"id": "vm-00a", "type": "instance", "name": "new"}], scan_id="s2")  # added
    _pages_agree(mongo_db)
    writer.delete_objects(["vm-01", "host-a"])  # removed
    _pages_agree(mongo_db)
    writer.write_objects([{"id": "vm-02", "type": "instance", "name": "renamed"}], scan_id="s3")  # changed
    docs, _ = find_objects(mongo_db, "env1", ObjectQuery(), skip=0, limit=50)
    assert [d["name"] for d in docs if d["id"] == "vm-02"] == ["renamed"]
    _pages_agree(mongo_db)


def test_an_order_read_while_objects_are_missing_is_not_kept(mongo_db) -> None:  # type: ignore[no-untyped-def]
    apply_mongo(mongo_db)
    writer = InventoryWriter(mongo_db, "env1")
    writer.write_objects([{"id": f"o{i}", "type": "host", "name": f"o{i}"} for i in range(6)], scan_id="s1")
    # As a rewrite of unchanged objects does for a moment: gone from the state, no feed entry.
    hidden = mongo_db[OBJECTS].find_one_and_delete({"environment": "env1", "id": "o2"})
    assert "o2" not in object_ids_in_order(mongo_db, "env1")  # type: ignore[operator]
    mongo_db[OBJECTS].insert_one(hidden)
    assert [d["id"] for d in find_objects(mongo_db, "env1", ObjectQuery(), limit=10)[0]] == \
        ["o0", "o1", "o2", "o3", "o4", "o5"]
