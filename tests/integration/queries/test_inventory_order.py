"""The unfiltered inventory (and link) list pages by an id (key) order kept per environment (read again when its
changes feed moves) and reads each page's objects by (environment, id): the same pages as the
server's sort by id, through writes that add, change and remove objects."""

from graphmodel.inventory import COUNTERS, LINKS, OBJECTS, InventoryWriter, feed_counter_id
from migrations.runner import apply_mongo
from queries.inventory import _ID_ORDERS, LinkQuery, ObjectQuery, find_links, find_objects, object_ids_in_order


def _server_page(mongo_db, skip: int, limit: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [d["id"] for d in mongo_db[OBJECTS].find({"environment": "env1"}).sort("id", 1).skip(skip).limit(limit)]


def _pages_agree(mongo_db) -> None:  # type: ignore[no-untyped-def]
    # First with the order kept before the last write (which must not be used: the feed moved).
    assert [d["id"] for d in find_objects(mongo_db, "env1", ObjectQuery(), limit=100)[0]] == _server_page(mongo_db, 0, 100)
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


def test_link_pages_follow_writes(mongo_db) -> None:  # type: ignore[no-untyped-def]
    apply_mongo(mongo_db)
    writer = InventoryWriter(mongo_db, "env1")

    def pages_agree() -> None:
        every = [d["key"] for d in mongo_db[LINKS].find({"environment": "env1"}).sort("key", 1)]
        assert [d["key"] for d in find_links(mongo_db, "env1", LinkQuery(), limit=50)[0]] == every  # kept before
        for skip, limit in ((0, 4), (4, 4), (0, 50), (30, 4)):
            _ID_ORDERS.clear()
            for _ in range(2):  # from the pass that reads the order, then by lookups
                docs, total = find_links(mongo_db, "env1", LinkQuery(), skip=skip, limit=limit)
                assert [d["key"] for d in docs] == every[skip:skip + limit] and total == len(every)

    writer.write_links([{"link_type": t, "source_id": f"s{(i * 5) % 11}", "target_id": f"t{i}"}
                        for i in range(11) for t in ("vnic-vconnector", "instance-vnic")], scan_id="s1")
    InventoryWriter(mongo_db, "env2").write_links([{"link_type": "a", "source_id": "a", "target_id": "a"}], "s1")
    pages_agree()
    writer.write_links([{"link_type": "aaa", "source_id": "x", "target_id": "y"}], scan_id="s2")  # added
    pages_agree()
    writer.delete_objects(["s0", "t3"])  # removes the links touching them
    pages_agree()


def test_an_environment_purged_and_written_again_is_read_again(mongo_db, neo4j_driver,  # type: ignore[no-untyped-def]
                                                               env_name: str) -> None:
    from ingest.purge import purge_environment

    apply_mongo(mongo_db)
    InventoryWriter(mongo_db, env_name).write_objects(
        [{"id": i, "type": "host", "name": i} for i in ("a", "b", "z")], scan_id="s1")
    assert [d["id"] for d in find_objects(mongo_db, env_name, ObjectQuery(), limit=2)[0]] == ["a", "b"]
    purge_environment(mongo_db, neo4j_driver, env_name)
    assert find_objects(mongo_db, env_name, ObjectQuery(), limit=2) == ([], 0)
    # Written again with as many objects, all of the page's still there.
    InventoryWriter(mongo_db, env_name).write_objects(
        [{"id": i, "type": "host", "name": i} for i in ("a", "a0", "b")], scan_id="s2")
    assert [d["id"] for d in find_objects(mongo_db, env_name, ObjectQuery(), limit=2)[0]] == ["a", "a0"]
    # A purge marks the inventory version (the counter stays: feed numbers are never handed out twice);
    # a feed counter deleted past the purge is still seen as a new version when written again.
    mongo_db[COUNTERS].delete_one({"_id": feed_counter_id(env_name)})
    InventoryWriter(mongo_db, env_name).write_objects([{"id": "0", "type": "host", "name": "0"}], scan_id="s3")
    assert [d["id"] for d in find_objects(mongo_db, env_name, ObjectQuery(), limit=2)[0]] == ["0", "a"]
