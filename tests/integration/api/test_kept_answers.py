"""Answers the API keeps while an environment's inventory stands still: they follow every write, carry
an ETag a client can send back (304 while unchanged), and a purged environment is gone at once."""

from __future__ import annotations

import uuid

from conftest import error_of, ok

from graphmodel.inventory import InventoryWriter

API = "/api/v1"


def instance(number: int, name: str | None = None) -> dict:  # type: ignore[type-arg]
    return {"id": f"vm-{number}", "type": "instance", "name": name or f"vm-{number}", "parent_id": "environment"}


def test_kept_answers_follow_writes_and_answer_304_while_unchanged(api_world, api_app, api_tokens) -> None:  # type: ignore[no-untyped-def]
    env = f"kept-{uuid.uuid4().hex[:8]}"
    writer = InventoryWriter(api_world.stores.mongo, env)
    writer.write_objects([instance(n) for n in range(3)], scan_id="s1")
    client, headers = api_app.test_client(), {"Authorization": f"Bearer {api_tokens['admin']}"}
    paths = {"list": f"{API}/environments/{env}/inventory?type=instance",
             "search": f"{API}/environments/{env}/search?q=vm-1",
             "tree": f"{API}/environments/{env}/tree"}

    first = {what: client.get(path, headers=headers) for what, path in paths.items()}
    assert sorted(i["name"] for i in ok(first["list"])["items"]) == ["vm-0", "vm-1", "vm-2"]
    assert [i["id"] for i in ok(first["search"])["items"]] == ["vm-1"]
    assert ok(first["tree"])["total"] == 3
    for what, path in paths.items():
        etag = first[what].headers["ETag"]
        again = client.get(path, headers={**headers, "If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"", what
        assert client.get(path, headers=headers).data == first[what].data  # the same body, kept

    writer.write_objects([instance(1, "renamed-vm-1")], scan_id="s2")
    changed = {what: client.get(path, headers={**headers, "If-None-Match": first[what].headers["ETag"]})
               for what, path in paths.items()}
    assert sorted(i["name"] for i in ok(changed["list"])["items"]) == ["renamed-vm-1", "vm-0", "vm-2"]
    assert [i["name"] for i in ok(changed["search"])["items"]] == ["renamed-vm-1"]
    assert changed["list"].headers["ETag"] != first["list"].headers["ETag"]

    error_of(client.get(f"{API}/environments/{env}/tree?parent=no-such", headers=headers), 404)
    assert client.delete(f"{API}/environments/{env}?purge=true", headers=headers).status_code == 204
    for path in paths.values():
        error_of(client.get(path, headers=headers), 404)


def test_statistics_are_kept_until_the_inventory_or_the_messages_change(api_world, api_app, api_tokens) -> None:  # type: ignore[no-untyped-def]
    from ingest.records import Message, record_message

    env = f"kept-{uuid.uuid4().hex[:8]}"
    database = api_world.stores.mongo
    writer = InventoryWriter(database, env)
    writer.write_objects([instance(n) for n in range(2)], scan_id="s1")
    client, headers = api_app.test_client(), {"Authorization": f"Bearer {api_tokens['admin']}"}
    path = f"{API}/environments/{env}/statistics"

    first = client.get(path, headers=headers)
    assert ok(first)["objects_by_type"] == {"instance": 2} and ok(first)["messages_by_level"] == {}
    assert client.get(path, headers={**headers, "If-None-Match": first.headers["ETag"]}).status_code == 304
    record_message(database, Message(environment=env, source_system="test", level="warning", message="hm"))
    assert ok(client.get(path, headers=headers))["messages_by_level"] == {"warning": 1}
    writer.write_objects([instance(n) for n in range(3)], scan_id="s2")
    assert ok(client.get(path, headers=headers))["objects_by_type"] == {"instance": 3}
