"""`calipso objects|object|links` on a scanned lab world: the same answers the stored inventory holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from conftest import calipso

from graphmodel.inventory import LINKS, OBJECTS


def test_objects_filters_pages_and_as_of(api_world) -> None:  # type: ignore[no-untyped-def]
    db, env = api_world.stores.mongo, api_world.environment
    vms = json.loads(calipso(db, "objects", env, "--type", "instance", "--format", "json").stdout)
    assert sorted(v["id"] for v in vms) == sorted(i.id for i in api_world.world.instances)
    on_host = json.loads(calipso(db, "objects", env, "--host", "compute-1", "--type", "vnic", "--format",
                                 "json").stdout)
    assert on_host and {v["host"] for v in on_host} == {"compute-1"}
    assert len(on_host) == db[OBJECTS].count_documents({"environment": env, "host": "compute-1", "type": "vnic"})
    first = json.loads(calipso(db, "objects", env, "--limit", "5", "--format", "json").stdout)
    second = json.loads(calipso(db, "objects", env, "--limit", "5", "--skip", "5", "--format", "json").stdout)
    assert len(first) == len(second) == 5 and not {d["id"] for d in first} & {d["id"] for d in second}
    table = calipso(db, "objects", env, "--limit", "5")
    assert "5 of" in table.stderr and "--skip 5" in table.stderr
    before = (datetime.now(UTC) - timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%S")
    assert json.loads(calipso(db, "objects", env, "--as-of", before, "--format", "json").stdout) == []
    unknown = calipso(db, "objects", "no-such-env", check=False)
    assert unknown.returncode == 1 and "no environment named 'no-such-env'" in unknown.stderr


def test_object_shows_one_with_its_history_and_links_filter_by_attribute(api_world) -> None:  # type: ignore[no-untyped-def]
    db, env = api_world.stores.mongo, api_world.environment
    vm = api_world.world.instances[0]
    shown = json.loads(calipso(db, "object", env, vm.id, "--format", "json").stdout)
    assert shown["name"] == vm.name and shown["type"] == "instance"
    history = json.loads(calipso(db, "object", env, vm.id, "--history", "--format", "json").stdout)
    assert len(history) >= 1 and history[0]["valid_to"] is None and history[0]["doc"]["name"] == vm.name
    missing = calipso(db, "object", env, "no/such/object", check=False)
    assert missing.returncode == 1 and "no object 'no/such/object'" in missing.stderr
    of_vm = json.loads(calipso(db, "links", env, "--object", vm.id, "--format", "json").stdout)
    assert of_vm and all(vm.id in (link["source_id"], link["target_id"]) for link in of_vm)
    network = db[LINKS].find_one({"environment": env, "link_type": "vnic-vconnector"})["network"]
    on_network = json.loads(calipso(db, "links", env, "--attribute", f"network={network}", "--limit", "1000",
                                    "--format", "json").stdout)
    assert len(on_network) == db[LINKS].count_documents({"environment": env, "network": network}) > 0
    bad = calipso(db, "links", env, "--attribute", "environment=other", check=False)
    assert bad.returncode == 2 and "NAME one of" in bad.stderr
