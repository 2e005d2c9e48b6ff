"""A list's total: from the writer's per-type counts when it is filtered by type alone (no count of the
collection, which FerretDB does not push down), counted when other filters narrow it."""

from graphmodel.inventory import INVENTORY_COUNTS, InventoryWriter, inventory_counts_id
from migrations.runner import apply_mongo
from queries.explore import statistics
from queries.inventory import LinkQuery, ObjectQuery, find_links, find_objects


def _world(mongo_db) -> None:  # type: ignore[no-untyped-def]
    apply_mongo(mongo_db)
    writer = InventoryWriter(mongo_db, "env1")
    writer.write_objects([{"id": f"vm{i}", "type": "instance", "name": f"vm{i}", "host": f"h{i % 2}"}
                          for i in range(5)] + [{"id": "h0", "type": "host", "name": "h0"}], scan_id="s1")
    writer.write_links([{"link_type": "instance-vnic", "source_id": f"vm{i}", "target_id": f"vm{i}/v"}
                        for i in range(5)], scan_id="s1")


def test_totals_by_type_come_from_the_counts(mongo_db) -> None:  # type: ignore[no-untyped-def]
    _world(mongo_db)
    docs, total = find_objects(mongo_db, "env1", ObjectQuery(types=["instance"]), limit=2)
    assert [d["id"] for d in docs] == ["vm0", "vm1"] and total == 5
    assert find_objects(mongo_db, "env1", ObjectQuery())[1] == 6
    assert find_objects(mongo_db, "env1", ObjectQuery(types=["instance", "host"]))[1] == 6
    assert find_links(mongo_db, "env1", LinkQuery(link_types=["instance-vnic"]))[1] == 5

    # Proof that the total is read, not counted: a count the writer did not make shows through.
    mongo_db[INVENTORY_COUNTS].update_one({"_id": inventory_counts_id("env1", "object")},
                                          {"$set": {"by_type.instance": 41}})
    assert find_objects(mongo_db, "env1", ObjectQuery(types=["instance"]))[1] == 41
    assert statistics(mongo_db, "env1")["objects_by_type"] == {"host": 1, "instance": 41}
    # Any other filter counts what matches.
    assert find_objects(mongo_db, "env1", ObjectQuery(types=["instance"], host="h0"))[1] == 3


def test_an_environment_without_counts_is_counted(mongo_db) -> None:  # type: ignore[no-untyped-def]
    _world(mongo_db)
    mongo_db[INVENTORY_COUNTS].delete_many({})
    assert find_objects(mongo_db, "env1", ObjectQuery(types=["instance"]))[1] == 5
    assert find_links(mongo_db, "env1", LinkQuery())[1] == 5
    assert find_objects(mongo_db, "nowhere", ObjectQuery())[1] == 0
    assert statistics(mongo_db, "env1")["objects_by_type"] == {"host": 1, "instance": 5}


def test_a_page_that_is_not_full_tells_the_total(mongo_db) -> None:  # type: ignore[no-untyped-def]
    _world(mongo_db)
    on_h0 = ObjectQuery(types=["instance"], host="h0")  # vm0, vm2, vm4
    for skip, limit, ids in ((0, 2, ["vm0", "vm2"]), (2, 2, ["vm4"]), (0, 10, ["vm0", "vm2", "vm4"]), (5, 2, [])):
        docs, total = find_objects(mongo_db, "env1", on_h0, skip=skip, limit=limit)
        assert [d["id"] for d in docs] == ids and total == 3
    touching = LinkQuery(object_id="vm1")
    assert find_links(mongo_db, "env1", touching, limit=1)[1] == find_links(mongo_db, "env1", touching, limit=9)[1] == 1
    assert find_objects(mongo_db, "env1", ObjectQuery(name="nothing"))[1] == 0
