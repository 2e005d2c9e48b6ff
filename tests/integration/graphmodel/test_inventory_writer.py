import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from graphmodel.inventory import (
    CHANGES,
    HISTORY,
    INVENTORY_COUNTS,
    LINKS,
    OBJECTS,
    WRITE_LOCKS,
    InventoryWriter,
    WriteLockTimeout,
    change_document,
    environment_write_lock,
    inventory_counts,
    recount,
)
from migrations.runner import apply_mongo


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self) -> None:
        self.now += timedelta(minutes=5)


def obj(oid: str, name: str, **extra) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return {"id": oid, "type": "host_pnic", "name": name, "parent_id": "h", "id_path": ["h", oid], **extra}


def test_new_changed_unchanged_and_closed_with_history_and_feed(mongo_db) -> None:  # type: ignore[no-untyped-def]
    apply_mongo(mongo_db)
    clock = Clock()
    writer = InventoryWriter(mongo_db, "env1", clock=clock)
    first = writer.write_objects([obj("h/eth0", "eth0", mtu=1500), obj("h/eth1", "eth1")], scan_id="s1")
    writer.write_links([{"link_type": "vedge-host_pnic", "source_id": "h/ovs", "target_id": "h/eth1",
                         "state": "up"}], scan_id="s1")
    assert (first.new, first.changed) == (2, 0)

    clock.tick()
    second = writer.write_objects([obj("h/eth0", "eth0", mtu=9000), obj("h/eth1", "eth1")], scan_id="s2")
    assert (second.new, second.changed, second.unchanged) == (0, 1, 1)
    closed = writer.close_unseen("s2")
    assert closed.deleted == 1  # the link, not seen by s2

    eth0 = mongo_db[OBJECTS].find_one({"environment": "env1", "id": "h/eth0"})
    assert eth0["mtu"] == 9000 and eth0["first_seen"] < eth0["last_seen"] and eth0["scan_id"] == "s2"
    versions = list(mongo_db[HISTORY].find({"environment": "env1", "key": "h/eth0"}).sort("valid_from", 1))
    assert [v["doc"]["mtu"] for v in versions] == [1500, 9000]
    assert versions[0]["valid_to"] == versions[1]["valid_from"] and versions[1]["valid_to"] is None
    link_history = mongo_db[HISTORY].find_one({"environment": "env1", "kind": "link"})
    assert link_history["valid_to"] == clock.now
    assert mongo_db[LINKS].count_documents({"environment": "env1"}) == 0

    feed = list(mongo_db[CHANGES].find({"environment": "env1"}).sort("seq", 1))
    assert [(c["kind"], c["op"], c["key"]) for c in feed] == [
        ("object", "upsert", "h/eth0"), ("object", "upsert", "h/eth1"),
        ("link", "upsert", "vedge-host_pnic|h/ovs|h/eth1"),
        ("object", "upsert", "h/eth0"),
        ("link", "delete", "vedge-host_pnic|h/ovs|h/eth1")]
    seqs = [c["seq"] for c in feed]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    # Each entry carries the document as it was written, without bookkeeping such as last_seen.
    assert [change_document(c).get("mtu") for c in feed[:4]] == [1500, None, None, 9000]
    assert change_document(feed[0])["id"] == "h/eth0" and "last_seen" not in change_document(feed[0])


def test_a_partial_scan_closes_only_its_subtree(mongo_db) -> None:  # type: ignore[no-untyped-def]
    writer = InventoryWriter(mongo_db, "env2")
    writer.write_objects([obj("a/x", "x", id_path=["a", "a/x"]), obj("b/y", "y", id_path=["b", "b/y"])], "s1")
    writer.write_objects([], "s2")
    closed = writer.close_unseen("s2", subtree="a")
    assert closed.deleted == 1
    assert [d["id"] for d in mongo_db[OBJECTS].find({"environment": "env2"})] == ["b/y"]


def test_environments_do_not_see_each_other(mongo_db) -> None:  # type: ignore[no-untyped-def]
    InventoryWriter(mongo_db, "one").write_objects([obj("h/eth0", "eth0")], "s1")
    InventoryWriter(mongo_db, "two").write_objects([obj("h/eth0", "eth0")], "s1")
    assert InventoryWriter(mongo_db, "one").close_unseen("s2").deleted == 1
    assert mongo_db[OBJECTS].count_documents({"environment": "two"}) == 1


def test_hundreds_of_changed_objects_and_links_are_rewritten_with_history(mongo_db) -> None:  # type: ignore[no-untyped-def]
    """FerretDB 1.24 wedged on an update command of 100 statements; a rescan changing hundreds of
    objects must still finish, keep one open version per key and feed every change."""
    writer = InventoryWriter(mongo_db, "big")
    objects = [{"id": f"vnic-{i}", "type": "vnic", "name": f"tap{i}", "parent_id": "h", "mtu": 1500}
               for i in range(250)]
    links = [{"link_type": "vnic-vedge", "source_id": f"vnic-{i}", "target_id": "ovs", "state": "up"}
             for i in range(250)]
    writer.write_objects(objects, "s1")
    writer.write_links(links, "s1")
    changed = writer.write_objects([{**o, "mtu": 9000} for o in objects], "s2")
    changed_links = writer.write_links([{**link, "state": "down"} for link in links[:120]] + links[120:], "s2")
    assert (changed.changed, changed.unchanged) == (250, 0)
    assert (changed_links.changed, changed_links.unchanged) == (120, 130)
    assert mongo_db[OBJECTS].count_documents({"environment": "big", "mtu": 9000}) == 250
    assert mongo_db[OBJECTS].count_documents({"environment": "big", "scan_id": "s2"}) == 250
    # unchanged documents are not rewritten: they keep the scan that last wrote them
    assert mongo_db[LINKS].count_documents({"environment": "big", "scan_id": "s2"}) == 120
    assert mongo_db[LINKS].count_documents({"environment": "big", "scan_id": "s1"}) == 130
    assert writer.close_unseen("s2").deleted == 0  # ... and still count as seen by s2
    assert mongo_db[HISTORY].count_documents({"environment": "big", "kind": "object", "valid_to": None}) == 250
    assert mongo_db[HISTORY].count_documents({"environment": "big", "kind": "object"}) == 500
    assert mongo_db[HISTORY].count_documents({"environment": "big", "kind": "link"}) == 370
    assert mongo_db[CHANGES].count_documents({"environment": "big"}) == 250 + 250 + 250 + 120
    again = writer.write_links(links, "s3")
    assert (again.changed, again.unchanged) == (120, 130)  # a link's derived key is not content


def test_write_lock_serialises_writers_of_one_environment_and_expires_with_its_holder(mongo_db) -> None:  # type: ignore[no-untyped-def]
    order: list[str] = []
    holding = threading.Event()

    def first() -> None:
        with environment_write_lock(mongo_db, "env-lock", owner="first"):
            holding.set()
            time.sleep(0.5)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(10)
    with environment_write_lock(mongo_db, "env-lock", owner="second", poll_s=0.05):
        order.append("second in")
    thread.join()
    assert order == ["first done", "second in"]
    assert mongo_db[WRITE_LOCKS].count_documents({"_id": "env-lock"}) == 0  # released
    with environment_write_lock(mongo_db, "other-env", owner="third", wait=timedelta(0)):
        pass  # another environment is never blocked

    # A holder that died: its lease runs out and the next writer takes over.
    mongo_db[WRITE_LOCKS].insert_one({"_id": "env-lock", "owner": "dead", "since": datetime.now(UTC),
                                      "expires_at": datetime.now(UTC) + timedelta(seconds=1)})
    with pytest.raises(WriteLockTimeout, match="locked by dead"):
        with environment_write_lock(mongo_db, "env-lock", owner="impatient", wait=timedelta(0)):
            pass
    with environment_write_lock(mongo_db, "env-lock", owner="patient", wait=timedelta(seconds=30), poll_s=0.1):
        assert mongo_db[WRITE_LOCKS].find_one({"_id": "env-lock"})["owner"] == "patient"


def test_a_large_write_reads_the_stored_documents_once_and_diffs_the_same(mongo_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import graphmodel.inventory as inventory

    apply_mongo(mongo_db)
    monkeypatch.setattr(inventory, "WHOLE_READ", 10)  # so that 60 documents take the one-pass read
    clock = Clock()
    writer = InventoryWriter(mongo_db, "env-large", clock=clock, batch_size=25)
    InventoryWriter(mongo_db, "env-other", clock=clock).write_objects([obj("h/eth0", "other env")], "s0")
    first = writer.write_objects([obj(f"h/eth{i}", f"eth{i}", mtu=1500) for i in range(60)], "s1")
    assert (first.new, first.changed) == (60, 0)
    clock.tick()
    again = [obj(f"h/eth{i}", f"eth{i}", mtu=9000 if i % 3 == 0 else 1500) for i in range(60)]
    second = writer.write_objects(again + [again[0]], "s2")  # a key given twice counts once
    assert (second.new, second.changed, second.unchanged) == (0, 20, 40)
    assert mongo_db[OBJECTS].count_documents({"environment": "env-large"}) == 60
    assert mongo_db[HISTORY].count_documents({"environment": "env-large", "valid_to": None}) == 60
    assert mongo_db[HISTORY].count_documents({"environment": "env-large"}) == 80
    assert mongo_db[OBJECTS].find_one({"environment": "env-other", "id": "h/eth0"})["name"] == "other env"


def test_counts_per_type_follow_every_write_and_equal_a_recount(mongo_db) -> None:  # type: ignore[no-untyped-def]
    apply_mongo(mongo_db)
    writer = InventoryWriter(mongo_db, "env1")
    other = InventoryWriter(mongo_db, "env2")
    assert inventory_counts(mongo_db, "env1", "object") is None  # never written: callers count instead
    writer.write_objects([obj(f"h/eth{i}", f"eth{i}") for i in range(5)]
                         + [{"id": f"vm{i}", "type": "instance", "name": f"vm{i}"} for i in range(3)], scan_id="s1")
    other.write_objects([{"id": "vm9", "type": "instance", "name": "vm9"}], scan_id="x")
    writer.write_links([{"link_type": "vedge-host_pnic", "source_id": "h/ovs", "target_id": f"h/eth{i}"}
                        for i in range(4)], scan_id="s1")
    assert inventory_counts(mongo_db, "env1", "object") == {"host_pnic": 5, "instance": 3}
    assert inventory_counts(mongo_db, "env1", "link") == {"vedge-host_pnic": 4}

    # A second scan: one pNIC changed, one VM became another type, two pNICs and a link not seen again.
    writer.write_objects([obj("h/eth0", "eth0", mtu=9000), obj("h/eth1", "eth1"), obj("h/eth2", "eth2"),
                          {"id": "vm0", "type": "instance", "name": "vm0"},
                          {"id": "vm1", "type": "instance", "name": "vm1"},
                          {"id": "vm2", "type": "vservice", "name": "vm2"}], scan_id="s2")
    writer.write_links([{"link_type": "vedge-host_pnic", "source_id": "h/ovs", "target_id": f"h/eth{i}"}
                        for i in range(3)], scan_id="s2")
    writer.close_unseen("s2")
    writer.delete_objects(["vm1"])
    expected = {"host_pnic": 3, "instance": 1, "vservice": 1}
    counts = inventory_counts(mongo_db, "env1", "object")
    assert {k: v for k, v in (counts or {}).items() if v} == expected == recount(mongo_db, "env1", "object")
    assert inventory_counts(mongo_db, "env1", "link") == {"vedge-host_pnic": 3} == recount(mongo_db, "env1", "link")
    assert inventory_counts(mongo_db, "env2", "object") == {"instance": 1}


def test_missing_counts_are_made_from_the_state_at_the_next_write(mongo_db) -> None:  # type: ignore[no-untyped-def]
    apply_mongo(mongo_db)
    writer = InventoryWriter(mongo_db, "env1")
    writer.write_objects([obj(f"h/eth{i}", f"eth{i}") for i in range(4)], scan_id="s1")
    mongo_db[INVENTORY_COUNTS].delete_many({})  # as before counts existed, or after a purge
    writer.write_objects([{"id": "vm0", "type": "instance", "name": "vm0"}], scan_id="s2")
    assert inventory_counts(mongo_db, "env1", "object") == {"host_pnic": 4, "instance": 1}


def test_a_full_scan_closes_from_its_whole_reads_what_the_queries_would_close(mongo_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import graphmodel.inventory as inventory

    apply_mongo(mongo_db)
    monkeypatch.setattr(inventory, "WHOLE_READ", 10)
    objects = [obj(f"h/eth{i}", f"eth{i}") for i in range(30)]
    links = [{"link_type": "vedge-host_pnic", "source_id": "h/ovs", "target_id": f"h/eth{i}", "state": "up"}
             for i in range(30)]
    closed = {}
    for environment, whole in (("env-whole", True), ("env-queried", False)):
        writer = InventoryWriter(mongo_db, environment)
        writer.write_objects(objects, "s1")
        writer.write_links(links, "s1")
        writer = InventoryWriter(mongo_db, environment)  # the next scan's writer
        writer.write_objects(objects[:20], "s2")
        writer.write_links(links[:25], "s2")
        if not whole:
            writer._not_written.clear()  # as a writer whose writes were too small for a whole read
        stats = writer.close_unseen("s2")
        closed[environment] = (stats.deleted, sorted(d["id"] for d in mongo_db[OBJECTS].find({"environment": environment})),
                               mongo_db[LINKS].count_documents({"environment": environment}))
    assert closed["env-whole"] == closed["env-queried"]
    assert closed["env-whole"][0] == 10 + 5 and len(closed["env-whole"][1]) == 20 and closed["env-whole"][2] == 25
