"""The listener's applier (ingest/listener/applier.py) on a scanned lab world in the test stack's
MongoDB: a VM rename (and a move to another host) is written as the event says, the hosts to refresh
are found, and each stored object the event names is looked up once by the applier (the writer's own
diff reads the written ones once more): every lookup is a round trip, and an event's time in the
listener is mostly round trips. Counted by a command listener on a client of its own."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pymongo
from pymongo import monitoring

from calipso.lab_scan import scan_world_in_process
from core.settings import Settings
from graphmodel.inventory import OBJECTS
from ingest.listener.applier import InventoryApplier
from ingest.listener.handlers import parse_notification, plan_for
from lab.changes import rename_vm
from lab.generate import generate_world
from lab.notify import envelope, payload_for


class Finds(monitoring.CommandListener):
    """The `id` each `find` on the objects collection asked for, counted."""

    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find" and event.command.get("find") == OBJECTS:
            wanted = event.command.get("filter", {}).get("id")
            if isinstance(wanted, str):
                self.ids[wanted] += 1

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass


def test_a_rename_and_a_move_look_each_named_object_up_once(  # type: ignore[no-untyped-def]
        settings: Settings, mongo_db, env_name: str) -> None:
    world = generate_world(3, 2, 2, "ovs", "vxlan", seed=5)
    scan_world_in_process(world, mongo_db, env_name)
    finds = Finds()
    with pymongo.MongoClient(settings.mongo_uri, event_listeners=[finds]) as client:
        applier = InventoryApplier(client[mongo_db.name], env_name, read_network=lambda network_id: None)
        vm = world.instances[0]
        before = mongo_db[OBJECTS].find_one({"environment": env_name, "id": vm.id})
        below = list(mongo_db[OBJECTS].find({"environment": env_name, "id_path": vm.id, "id": {"$ne": vm.id}}))
        assert below, "a VM with objects under it (its vNICs): the rename reaches their name_path"

        event = rename_vm(world, vm.id, "renamed-vm")[0]
        applied = applier.apply(plan_for(parse_notification(envelope(event, payload_for(world, event)), "nova")))

        assert applied.hosts == [vm.host]
        stored = mongo_db[OBJECTS].find_one({"environment": env_name, "id": vm.id})
        assert stored["name"] == "renamed-vm" and stored["name_path"][-1] == "renamed-vm"
        assert stored["power_state"] == before["power_state"]  # not in the event: kept
        for doc in below:
            now = mongo_db[OBJECTS].find_one({"environment": env_name, "id": doc["id"]})
            assert "renamed-vm" in now["name_path"], doc["id"]
        # The VM: once by the applier, once by the writer's diff; its host: once (they were 3 and 2: the
        # hosts to refresh, the documents to write and the known hosts apart); the host's ancestors
        # (zone, region, root): not at all, its folder's stored path names them (one lookup each before).
        assert finds.ids[vm.id] == 2, finds.ids
        assert finds.ids[vm.host] == 1, finds.ids
        above_host = before["id_path"][:before["id_path"].index(vm.host)]
        assert above_host and not any(finds.ids[i] for i in above_host), finds.ids

        # Moved to another host: the new host's folder is written, and both hosts are refreshed.
        other = next(host.name for host in world.hosts if host.name != vm.host and "compute" in host.roles)
        old_host, vm.host = vm.host, other
        finds.ids.clear()
        event = rename_vm(world, vm.id, "moved-vm")[0]
        applied = applier.apply(plan_for(parse_notification(envelope(event, payload_for(world, event)), "nova")))
        assert applied.hosts == sorted([old_host, other])
        moved = mongo_db[OBJECTS].find_one({"environment": env_name, "id": vm.id})
        assert moved["host"] == other and moved["parent_id"] == f"{other}/instances"
        assert other in moved["id_path"] and old_host not in moved["id_path"]
        assert moved["name_path"][:-1] == [*before["name_path"][:len(above_host)], other, "Instances"]
        assert finds.ids[vm.id] == 2 and finds.ids[old_host] == 1 and finds.ids[other] == 1, finds.ids
        assert not any(finds.ids[i] for i in above_host), finds.ids
