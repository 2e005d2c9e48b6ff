"""POST/GET/DELETE /environments/{env}/watches on the scanned lab: a view user watches VMs by name or id,
sees the paths' health and deliveries, deletes their watch; bad focal VMs, webhooks and unknown fields are
400s, another user's watch is not theirs to delete, a user without a grant gets 403."""

from __future__ import annotations

from conftest import error_of, ok

API = "/api/v1"


def test_watch_lifecycle_and_refusals(api_app, api_tokens, api_world) -> None:  # type: ignore[no-untyped-def]
    client = api_app.test_client()
    env = api_world.environment
    path = f"{API}/environments/{env}/watches"

    def auth(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_tokens[user]}"}

    vm = api_world.world.instances[0]
    # A webhook makes the server call a URL: the edit role; a view user may watch without one.
    error_of(client.post(path, json={"focal": [vm.name], "webhook": "http://127.0.0.1:9/hook"}, headers=auth("alice")),
             403)
    made = client.post(path, json={"focal": [vm.name], "webhook": "http://127.0.0.1:9/hook"}, headers=auth("carol"))
    assert made.status_code == 201, made.get_json()
    watch = made.get_json()
    assert watch["focal"] == [vm.id] and watch["state"] == "unknown" and watch["created_by"] == "carol"
    assert client.post(path, json={"focal": [vm.name]}, headers=auth("alice")).status_code == 201

    listed = ok(client.get(path, headers=auth("alice")))
    assert watch["id"] in [w["id"] for w in listed["items"]] and listed["total"] >= 1
    one = ok(client.get(f"{path}/{watch['id']}", headers=auth("alice")))
    [health] = one["paths"]
    assert health["focal"] == vm.id and health["hops"] and one["deliveries"] == []
    assert {h["type"] for h in health["hops"]} >= {"instance", "vnic", "vedge"}

    assert "no object" in error_of(client.post(path, json={"focal": ["no-such-vm"]}, headers=auth("alice")), 404)["message"]
    assert "webhook" in error_of(client.post(path, json={"focal": [vm.id], "webhook": "ftp://x.invalid/"},
                                             headers=auth("carol")), 400)["message"]
    assert "webhook" in error_of(client.post(path, json={"focal": [vm.id], "webhook": "http://u:p@127.0.0.1/"},
                                             headers=auth("carol")), 400)["message"]
    assert "unknown field" in error_of(client.post(path, json={"focal": [vm.id], "extra": 1},
                                                   headers=auth("alice")), 400)["message"]
    error_of(client.post(path, json={"focal": [vm.id]}, headers=auth("bob")), 403)
    error_of(client.get(f"{path}/nope", headers=auth("alice")), 404)

    others = client.post(path, json={"focal": [vm.id]}, headers=auth("carol")).get_json()
    error_of(client.delete(f"{path}/{others['id']}", headers=auth("alice")), 403)  # carol's, alice only views
    assert client.delete(f"{path}/{others['id']}", headers=auth("carol")).status_code == 204
    assert client.delete(f"{path}/{watch['id']}", headers=auth("carol")).status_code == 204
    error_of(client.get(f"{path}/{watch['id']}", headers=auth("alice")), 404)


def test_an_email_watch_needs_the_edit_role_and_an_smtp_server(api_app, api_tokens, api_world) -> None:  # type: ignore[no-untyped-def]
    client = api_app.test_client()
    path = f"{API}/environments/{api_world.environment}/watches"
    vm = api_world.world.instances[0]

    def auth(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_tokens[user]}"}

    body = {"focal": [vm.id], "email": "ops@example.org"}
    error_of(client.post(path, json=body, headers=auth("alice")), 403)  # the server would mail anyone: edit role
    refused = error_of(client.post(path, json=body, headers=auth("carol")), 400)  # the test API has no SMTP server
    assert "CALIPSO_SMTP_HOST" in refused["message"]
    assert "email" in error_of(client.post(path, json={**body, "email": "two@a.org, three@b.org"},
                                           headers=auth("carol")), 400)["message"]
