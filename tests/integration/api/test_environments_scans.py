"""Environments (credentials masked in every answer), scans started and aborted through the API,
schedules, clique types and cliques, diff."""

from __future__ import annotations

import time
import uuid

import pytest

API = "/api/v1"


@pytest.fixture
def call(api_app, api_tokens):  # type: ignore[no-untyped-def]
    client = api_app.test_client()

    def request(method: str, path: str, user: str = "admin", **options):  # type: ignore[no-untyped-def]
        return client.open(f"{API}{path}", method=method, headers={"Authorization": f"Bearer {api_tokens[user]}"},
                           **options)
    return request


def config(name: str, auth_url: str = "http://127.0.0.1:5000/v3") -> dict:  # type: ignore[type-arg]
    return {"name": name, "mechanism_drivers": ["ovs"], "type_drivers": ["vxlan"],
            "openstack": {"auth_url": auth_url, "username": "admin", "password": "os-secret-pw"},
            "cli": {"user": "calipso", "password": "ssh-secret-pw", "jump_host": "jump.example.org"}}


def test_environment_lifecycle_never_shows_credentials(call) -> None:  # type: ignore[no-untyped-def]
    name = f"api-env-{uuid.uuid4().hex[:6]}"
    created = call("POST", "/environments", json=config(name))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["configured"] is True and body["config"]["openstack"]["password"] == "***"
    for answer in (created, call("GET", f"/environments/{name}"), call("GET", "/environments", query_string={"name": name})):
        text = answer.get_data(as_text=True)
        assert "os-secret-pw" not in text and "ssh-secret-pw" not in text
    assert call("POST", "/environments", json=config(name)).status_code == 409
    # only admins change configurations
    assert call("POST", "/environments", user="carol", json=config(f"x-{name}")).status_code == 403
    # an edited document sent back with *** keeps its secrets
    edited = call("GET", f"/environments/{name}").get_json()["config"]
    edited["cli"]["concurrency"] = 3
    edited.pop("name")
    replaced = call("PUT", f"/environments/{name}", json=edited)
    assert replaced.status_code == 200, replaced.get_json()
    assert replaced.get_json()["config"]["cli"]["concurrency"] == 3
    # unknown keys, in the body or in a section, are named
    bad = call("POST", "/environments", json={**config(f"b-{name}"), "opnstack": {}}).get_json()["error"]
    assert bad["details"]["unknown"] == ["opnstack"]
    section = call("POST", "/environments", json={**config(f"c-{name}"), "cli": {"user": "x", "pasword": "y"}})
    assert section.status_code == 400 and "pasword" in section.get_json()["error"]["message"]
    assert call("DELETE", f"/environments/{name}").status_code == 204
    assert call("GET", f"/environments/{name}").status_code == 404
    assert call("DELETE", f"/environments/{name}").status_code == 404


def test_scan_started_through_the_api_runs_and_can_be_listed(api_app, call, api_world) -> None:  # type: ignore[no-untyped-def]
    from conftest import connect_to_lab  # noqa: F401 - the lab's credentials live there

    from ingest.transport import CallableTransport
    from lab.cloud.server import serve
    from lab.cloud.source import StaticWorldSource
    from lab.hosts import LabResponder

    name = f"api-scan-{uuid.uuid4().hex[:6]}"
    with serve(StaticWorldSource(api_world.world)) as cloud:
        document = config(name, cloud.auth_url)
        document["openstack"]["password"] = "lab-admin-pw"
        assert call("POST", "/environments", json=document).status_code == 201
        api_app.config["SCAN_TRANSPORT"] = lambda environment: CallableTransport(LabResponder(api_world.world))
        try:
            assert call("POST", f"/environments/{name}/scans", user="alice", json={}).status_code == 403
            started = call("POST", f"/environments/{name}/scans", json={})
            assert started.status_code == 202, started.get_json()
            scan_id = started.get_json()["id"]
            for _ in range(240):
                scan = call("GET", f"/environments/{name}/scans/{scan_id}").get_json()
                if scan["status"] not in ("pending", "running"):
                    break
                time.sleep(0.25)
        finally:
            api_app.config.pop("SCAN_TRANSPORT")
            call("DELETE", f"/environments/{name}")
    assert scan["status"] in ("completed", "completed_with_errors"), scan
    assert scan["requested_by"] == "admin"
    instances = call("GET", f"/environments/{name}/inventory", query_string={"type": "instance"}).get_json()
    assert instances["total"] == len(api_world.world.instances)
    assert call("DELETE", f"/environments/{name}/scans/{scan_id}").status_code == 409


def test_scan_needs_a_configuration(call, api_world) -> None:  # type: ignore[no-untyped-def]
    answer = call("POST", f"/environments/{api_world.environment}/scans", json={})
    assert answer.status_code == 409 and "configuration" in answer.get_json()["error"]["message"]
    assert call("POST", f"/environments/{api_world.environment}/scans", json={"full": True}).status_code == 400


def test_schedules(call, api_world) -> None:  # type: ignore[no-untyped-def]
    env = api_world.environment
    assert call("POST", f"/environments/{env}/schedules", user="alice", json={"every": "daily"}).status_code == 403
    created = call("POST", f"/environments/{env}/schedules", user="carol", json={"every": "daily", "at": "02:30"})
    assert created.status_code == 201, created.get_json()
    schedule = created.get_json()
    assert schedule["every"] == "daily" and schedule["next_run"].endswith("02:30:00+00:00")
    listed = call("GET", f"/environments/{env}/schedules", user="alice").get_json()
    assert schedule["id"] in {s["id"] for s in listed["items"]}
    bad = call("POST", f"/environments/{env}/schedules", json={"every": "daily", "at": "25:00"})
    assert bad.status_code == 400 and "--at" in bad.get_json()["error"]["message"]
    assert call("DELETE", f"/environments/{env}/schedules/{schedule['id']}", user="carol").status_code == 204
    assert call("GET", f"/environments/{env}/schedules/{schedule['id']}").status_code == 404


def test_clique_of_a_vm_and_clique_types(call, api_world) -> None:  # type: ignore[no-untyped-def]
    vm = api_world.world.instances[0]
    answer = call("GET", f"/environments/{api_world.environment}/cliques/{vm.id}", user="alice")
    assert answer.status_code == 200, answer.get_json()
    clique = answer.get_json()
    assert clique["focal_id"] == vm.id and clique["variant"]["mechanism"] == "ovs"
    types = {n["type"] for n in clique["nodes"]}
    assert {"instance", "vnic", "vedge", "host_pnic"} <= types
    assert call("GET", f"/environments/{api_world.environment}/cliques/nope").status_code == 404
    name = f"mine-{uuid.uuid4().hex[:6]}"
    mine = {"name": name, "focal_point_type": "instance", "link_types": ["instance-vnic"]}
    assert call("POST", "/clique-types", user="carol", json=mine).status_code == 403
    assert call("POST", "/clique-types", json=mine).status_code == 201
    listed = call("GET", "/clique-types", user="alice", query_string={"focal_point_type": "instance"}).get_json()
    assert name in {t["name"] for t in listed}
    used = call("GET", f"/environments/{api_world.environment}/cliques/{vm.id}", query_string={"clique_type": name})
    assert {n["type"] for n in used.get_json()["nodes"]} == {"instance", "vnic"}


def test_diff_between_scans(call, api_world) -> None:  # type: ignore[no-untyped-def]
    env = api_world.environment
    scan = call("GET", f"/environments/{env}/scans").get_json()["items"][0]
    answer = call("GET", f"/environments/{env}/analysis/diff", user="alice", query_string={"since": "7d"})
    assert answer.status_code == 200, answer.get_json()
    result = answer.get_json()
    added = [r for r in result["rows"] if r["change"] == "added" and r["kind"] == "object"]
    assert len(added) == call("GET", f"/environments/{env}/statistics").get_json()["objects"]
    after = call("GET", f"/environments/{env}/analysis/diff", query_string={"since": scan["id"]}).get_json()
    assert after["rows"] == []
    assert call("GET", f"/environments/{env}/analysis/diff", query_string={"since": "whenever"}).status_code == 400


def test_invariants_match_the_function(call, api_world) -> None:  # type: ignore[no-untyped-def]
    from queries.invariants import invariants

    env = api_world.environment
    answer = call("GET", f"/environments/{env}/analysis/invariants", user="alice")
    assert answer.status_code == 200, answer.get_json()
    direct = invariants(api_world.stores.neo4j, env)
    assert len(answer.get_json()["rows"]) == len(direct.rows())
    one = call("GET", f"/environments/{env}/analysis/invariants", query_string={"check": "orphan_tap"})
    assert one.status_code == 200
    assert call("GET", f"/environments/{env}/analysis/invariants", query_string={"check": "nope"}).status_code == 400
