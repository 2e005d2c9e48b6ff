"""The projector against real FerretDB and Neo4j: shape, idempotent replay, deletes, outage, verify."""

from __future__ import annotations

import neo4j
import pymongo
import pytest
from pymongo import monitoring

from core.errors import StoreUnavailable
from core.settings import load_settings
from core.stores import Stores
from graphmodel.inventory import CHANGES, InventoryWriter
from graphmodel.projector import Projector, verify
from migrations.runner import apply_neo4j


def seed(writer: InventoryWriter) -> None:
    writer.write_objects([
        {"id": "h1", "type": "host", "name": "h1", "parent_id": "environment", "host_type": ["Compute"]},
        {"id": "h1/instances", "type": "folder", "name": "Instances", "parent_id": "h1", "folder_of": "instance"},
        {"id": "vm1", "type": "instance", "name": "vm1", "parent_id": "h1/instances",
         "network_info": [{"ip": "10.0.0.5", "mac": "fa:16:3e:00:00:01"}]},
        {"id": "h1/fa:16:3e:00:00:01", "type": "vnic", "name": "tap1", "parent_id": "vm1", "mtu": 1450},
    ], "s1")
    writer.write_links([{"link_type": "instance-vnic", "source_id": "vm1", "target_id": "h1/fa:16:3e:00:00:01",
                         "state": "up", "provenance": "libvirt"}], "s1")


def nodes(driver: neo4j.Driver, env: str) -> dict[str, list[str]]:
    records, _, _ = driver.execute_query("MATCH (n:Object {env: $env}) RETURN n.id AS id, labels(n) AS labels",
                                         env=env)
    return {r["id"]: sorted(r["labels"]) for r in records}


def test_projection_shape_replay_and_deletes(mongo_db, stores: Stores, env_name: str, neo4j_driver) -> None:  # type: ignore[no-untyped-def]
    apply_neo4j(stores.neo4j)
    writer = InventoryWriter(mongo_db, env_name)
    seed(writer)
    projector = Projector(mongo_db, stores.neo4j, env_name, batch_size=2)
    stats = projector.sync()
    assert stats.changes == 5 and stats.batches == 3
    assert nodes(stores.neo4j, env_name)["vm1"] == ["Instance", "Object"]
    records, _, _ = stores.neo4j.execute_query(
        "MATCH (:Object {uid: $h})-[:CONTAINS]->(:Folder)-[:CONTAINS]->(i:Instance)-[r:INSTANCE_VNIC]->(v:Vnic) "
        "RETURN i.network_info AS info, r.state AS state, v.mtu AS mtu", h=f"{env_name}|h1")
    assert records[0]["state"] == "up" and records[0]["mtu"] == 1450
    assert '"ip": "10.0.0.5"' in records[0]["info"]  # nested values travel as JSON text
    assert verify(mongo_db, stores.neo4j, env_name).ok

    # Replaying from zero changes nothing.
    stores.neo4j.execute_query("MATCH (c:ProjectorCheckpoint {env: $env}) SET c.seq = 0", env=env_name)
    projector.sync()
    assert verify(mongo_db, stores.neo4j, env_name).ok

    # A rename, a moved parent and a deletion all land.
    writer.write_objects([{"id": "vm1", "type": "instance", "name": "renamed", "parent_id": "h1/instances"}], "s2")
    writer.delete_objects(["h1/fa:16:3e:00:00:01"])
    projector.sync()
    assert "h1/fa:16:3e:00:00:01" not in nodes(stores.neo4j, env_name)
    records, _, _ = stores.neo4j.execute_query("MATCH (i:Instance {uid: $u}) RETURN i.name AS name, "
                                               "i.network_info AS info", u=f"{env_name}|vm1")
    assert records[0]["name"] == "renamed" and records[0]["info"] is None
    result = verify(mongo_db, stores.neo4j, env_name)
    assert result.ok, result.differences


def test_neo4j_down_loses_nothing(mongo_db, stores: Stores, env_name: str, neo4j_driver) -> None:  # type: ignore[no-untyped-def]
    writer = InventoryWriter(mongo_db, env_name)
    seed(writer)
    down = Stores(load_settings(neo4j_uri="bolt://127.0.0.1:1"))
    with pytest.raises(StoreUnavailable):
        Projector(mongo_db, down.neo4j, env_name).sync()
    assert Projector(mongo_db, stores.neo4j, env_name).checkpoint() == 0
    stats = Projector(mongo_db, stores.neo4j, env_name).sync()
    assert stats.changes == 5
    assert verify(mongo_db, stores.neo4j, env_name).ok


def test_verify_reports_a_difference_and_rebuild_repairs_it(mongo_db, stores: Stores, env_name: str,  # type: ignore[no-untyped-def]
                                                            neo4j_driver) -> None:
    seed(InventoryWriter(mongo_db, env_name))
    projector = Projector(mongo_db, stores.neo4j, env_name)
    projector.sync()
    stores.neo4j.execute_query("MATCH (v:Vnic {env: $env}) DETACH DELETE v", env=env_name)
    broken = verify(mongo_db, stores.neo4j, env_name)
    assert not broken.ok and broken.differences["vnic"] == (1, 0)
    projector.rebuild()
    assert verify(mongo_db, stores.neo4j, env_name).ok
    assert projector.checkpoint() > 0


def test_recent_changes_keep_what_changed_and_what_went_away_not_what_was_created(  # type: ignore[no-untyped-def]
        mongo_db, stores: Stores, env_name: str) -> None:
    apply_neo4j(stores.neo4j)
    writer = InventoryWriter(mongo_db, env_name)
    seed(writer)
    projector = Projector(mongo_db, stores.neo4j, env_name)
    projector.sync()

    def recent() -> dict[str, str]:
        records, _, _ = stores.neo4j.execute_query(
            "MATCH (c:RecentChange {env: $env}) RETURN c.id AS id, c.op AS op, c.at AS at", env=env_name)
        return {r["id"]: r["op"] for r in records if r["at"] is not None}

    assert recent() == {}  # being created is no change
    writer.write_objects([{"id": "h1/fa:16:3e:00:00:01", "type": "vnic", "name": "tap1", "parent_id": "vm1",
                           "mtu": 9000}], "s2")
    writer.delete_objects(["vm1"])
    projector.sync()
    assert recent() == {"h1/fa:16:3e:00:00:01": "changed", "vm1": "removed"}
    projector.sync()  # replaying nothing changes nothing
    projector.rebuild()  # a rebuild keeps them (they are facts about the past)
    assert recent() == {"h1/fa:16:3e:00:00:01": "changed", "vm1": "removed"}
    assert verify(mongo_db, stores.neo4j, env_name).ok


def test_a_removed_object_leaves_a_lost_link_facet_on_the_source_that_points_at_it(  # type: ignore[no-untyped-def]
        mongo_db, stores: Stores, env_name: str) -> None:
    """Root cause follows "this VM lost its link to X" to the removed X: the link's deletion must be
    logged on its surviving source even when X and its links go in one batch."""
    import json
    apply_neo4j(stores.neo4j)
    writer = InventoryWriter(mongo_db, env_name)
    seed(writer)
    projector = Projector(mongo_db, stores.neo4j, env_name)
    projector.sync()
    writer.delete_objects(["h1/fa:16:3e:00:00:01"])  # the vNIC and its instance-vnic link, one batch
    projector.sync()
    record, = stores.neo4j.execute_query("MATCH (c:RecentChange {uid: $u}) RETURN c.log AS log, c.op AS op",
                                         u=f"{env_name}|vm1").records
    facet = json.loads(record["log"])[f"INSTANCE_VNIC>{env_name}|h1/fa:16:3e:00:00:01"]
    assert record["op"] == "changed" and facet[0][0] is None and facet[-1][1] == "absent"


def test_a_status_written_by_monitoring_is_no_recent_change(  # type: ignore[no-untyped-def]
        mongo_db, stores: Stores, env_name: str) -> None:
    """Live health is not a change of the cloud: RCA's recent-change evidence must not fire on it."""
    from datetime import UTC, datetime
    apply_neo4j(stores.neo4j)
    writer = InventoryWriter(mongo_db, env_name)
    seed(writer)
    projector = Projector(mongo_db, stores.neo4j, env_name)
    projector.sync()
    health = {"status": "critical", "status_text": "link down", "status_since": datetime.now(UTC)}
    vnic = {"id": "h1/fa:16:3e:00:00:01", "type": "vnic", "name": "tap1", "parent_id": "vm1", "mtu": 1450}
    link = {"link_type": "instance-vnic", "source_id": "vm1", "target_id": "h1/fa:16:3e:00:00:01", "state": "up",
            "provenance": "libvirt"}
    writer.write_objects([{**vnic, **health}], "monitor")
    writer.write_links([{**link, **health}], "monitor")
    projector.sync()

    def changed() -> list[str]:
        records, _, _ = stores.neo4j.execute_query(
            "MATCH (c:RecentChange {env: $env}) WHERE c.at IS NOT NULL RETURN c.id AS id", env=env_name)
        return sorted(r["id"] for r in records)

    status, = stores.neo4j.execute_query("MATCH (n:Object {env: $env, id: $id}) RETURN n.status AS status",
                                         env=env_name, id=vnic["id"]).records
    assert status["status"] == "critical"  # projected: the graph shows it...
    assert changed() == []  # ...but it is no change
    writer.write_links([{**link, **health, "state": "down"}], "s2")  # the link's own state is one
    projector.sync()
    assert changed() == ["vm1"]


class FeedReads(monitoring.CommandListener):
    """The filters of the finds a client sends to the changes feed."""

    def __init__(self) -> None:
        self.filters: list[dict] = []  # type: ignore[type-arg]

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find" and event.command.get("find") == CHANGES:
            self.filters.append(dict(event.command.get("filter", {})))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def test_a_following_projector_reads_new_changes_by_number_and_waits_at_a_hole(  # type: ignore[no-untyped-def]
        mongo_db, stores: Stores, env_name: str, neo4j_driver) -> None:
    apply_neo4j(stores.neo4j)
    writer = InventoryWriter(mongo_db, env_name)
    seed(writer)
    Projector(mongo_db, stores.neo4j, env_name).sync()
    reads = FeedReads()
    with pymongo.MongoClient(load_settings().mongo_uri, event_listeners=[reads]) as client:
        database = client[mongo_db.name]
        projector = Projector(database, stores.neo4j, env_name)
        checkpoint = projector.checkpoint()
        writer.write_objects([{"id": "vm2", "type": "instance", "name": "vm2", "parent_id": "h1/instances"}])
        stats = projector.sync()
        assert stats.changes == 1 and stats.last_seq == checkpoint + 1
        assert "vm2" in nodes(stores.neo4j, env_name)
        # read by number (an equality FerretDB pushes down), never "after the checkpoint" (`$gt`)
        assert reads.filters and all(f.get("seq") == checkpoint + 1 for f in reads.filters), reads.filters

        for name in ("vm3", "vm4", "vm5"):
            writer.write_objects([{"id": name, "type": "instance", "name": name, "parent_id": "h1/instances"}])
        mongo_db[CHANGES].delete_one({"environment": env_name, "seq": checkpoint + 3})  # vm4's change: a hole
        assert projector.sync().last_seq == checkpoint + 2  # up to the hole (an insert may still be on its way)
        assert {"vm3", "vm5"} & set(nodes(stores.neo4j, env_name)) == {"vm3"}
        assert projector.sync().last_seq == checkpoint + 4  # a hole that stays is passed by the cursor
        assert "vm5" in nodes(stores.neo4j, env_name)

        reads.filters.clear()
        assert projector.sync().changes == 0  # nothing new: the feed is not read at all
        assert reads.filters == []


def test_recent_changes_keep_the_feed_entries_times(  # type: ignore[no-untyped-def]
        mongo_db, stores: Stores, env_name: str) -> None:
    """A change's time reaches its RecentChange exactly: `at` as a zoned DateTime and each log entry's
    epoch milliseconds (the projector sends times as integers and makes the DateTime in Cypher)."""
    import json
    from datetime import UTC, datetime
    apply_neo4j(stores.neo4j)
    now = [datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)]
    writer = InventoryWriter(mongo_db, env_name, clock=lambda: now[0])
    seed(writer)
    projector = Projector(mongo_db, stores.neo4j, env_name)
    projector.sync()
    changed_at = now[0] = datetime(2026, 3, 4, 5, 7, 0, 123000, tzinfo=UTC)
    writer.write_objects([{"id": "h1/fa:16:3e:00:00:01", "type": "vnic", "name": "tap1", "parent_id": "vm1",
                           "mtu": 9000}], "s2")
    projector.sync()
    removed_at = now[0] = datetime(2027, 1, 1, 0, 0, 0, 1000, tzinfo=UTC)
    writer.delete_objects(["h1/fa:16:3e:00:00:01"])  # with its instance-vnic link: a facet of vm1
    projector.sync()
    records, _, _ = stores.neo4j.execute_query(
        "MATCH (c:RecentChange {env: $env}) RETURN c.id AS id, c.op AS op, c.at AS at, c.log AS log", env=env_name)
    kept = {r["id"]: r for r in records}
    assert set(kept) == {"vm1", "h1/fa:16:3e:00:00:01"}
    vnic, vm = kept["h1/fa:16:3e:00:00:01"], kept["vm1"]
    assert vnic["op"] == "removed" and vnic["at"].to_native() == removed_at and vnic["at"].tzinfo is not None
    millis = [entry[0] for entry in json.loads(vnic["log"])["object"]]
    assert millis == [None, int(changed_at.timestamp() * 1000), int(removed_at.timestamp() * 1000)]
    assert vm["op"] == "changed" and vm["at"].to_native() == removed_at
    facet = json.loads(vm["log"])[f"INSTANCE_VNIC>{env_name}|h1/fa:16:3e:00:00:01"]
    assert facet[-1] == [int(removed_at.timestamp() * 1000), "absent"]


def test_one_batch_of_many_types_labels_and_types_each_row(  # type: ignore[no-untyped-def]
        mongo_db, stores: Stores, env_name: str) -> None:
    """A lab world's objects and links in ONE batch: every node carries its own type's label and every
    relationship its own link type's relationship type (a statement shared by several types must not
    give them all the first row's), and verify, which checks both, is clean."""
    from dataclasses import asdict

    from graphmodel.projector import label_of, relationship_of
    from lab.generate import generate_world
    from lab.truth import compute_truth
    apply_neo4j(stores.neo4j)
    truth = compute_truth(generate_world(2, 2, 2, "ovs", "vxlan", seed=3))
    writer = InventoryWriter(mongo_db, env_name)
    writer.write_objects([{**{k: v for k, v in asdict(o).items() if k != "attributes"}, **o.attributes}
                          for o in truth.objects.values()], "s1")
    writer.write_links([{**{k: v for k, v in asdict(l).items() if k != "attributes"}, **l.attributes}
                        for l in truth.links.values()], "s1")
    stats = Projector(mongo_db, stores.neo4j, env_name, batch_size=100_000).sync()
    assert stats.batches == 1
    records, _, _ = stores.neo4j.execute_query(
        "MATCH (n:Object {env: $env}) RETURN n.type AS type, labels(n) AS labels", env=env_name)
    assert len({r["type"] for r in records}) > 5
    assert all(sorted(r["labels"]) == sorted(["Object", label_of(r["type"])]) for r in records)
    records, _, _ = stores.neo4j.execute_query(
        "MATCH (:Object {env: $env})-[r]->() WHERE type(r) <> 'CONTAINS' RETURN r.link_type AS link_type, "
        "type(r) AS type", env=env_name)
    assert len({r["link_type"] for r in records}) > 5 and len(records) == len(truth.links)
    assert all(r["type"] == relationship_of(r["link_type"]) for r in records)
    assert verify(mongo_db, stores.neo4j, env_name).ok
    # verify sees a wrong relationship type, even with the right properties
    stores.neo4j.execute_query(
        "MATCH (:Object {env: $env})-[r:INSTANCE_VNIC]->() WITH r LIMIT 1 CALL apoc.refactor.setType(r, 'VNIC_VEDGE') "
        "YIELD output RETURN output", env=env_name)
    assert not verify(mongo_db, stores.neo4j, env_name).ok
