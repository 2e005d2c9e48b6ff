"""Every resource of the API against a scanned lab: filters, pagination totals, 404s, strict
parameters, one error shape, nothing secret in any answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from conftest import error_of, ok

from graphmodel.inventory import HISTORY, LINKS, OBJECTS
from graphmodel.schema import CLIQUE_TYPES, LINK_TYPES, OBJECT_TYPES
from ingest.records import MESSAGES, Message, record_message

API = "/api/v1"


def env_path(api_world, rest: str) -> str:  # type: ignore[no-untyped-def]
    return f"/environments/{api_world.environment}{rest}"


def test_inventory_filters_and_pagination(get, api_world) -> None:  # type: ignore[no-untyped-def]
    db, env = api_world.stores.mongo, api_world.environment
    everything = ok(get(env_path(api_world, "/inventory"), page_size=500))
    assert everything["total"] == db[OBJECTS].count_documents({"environment": env}) == len(everything["items"])
    instances = ok(get(env_path(api_world, "/inventory"), type="instance"))
    assert instances["total"] == len(api_world.world.instances) and {o["type"] for o in instances["items"]} == {"instance"}
    # pages are disjoint, cover everything, and each reports the same total
    seen = []
    for page in range(1, -(-everything["total"] // 30) + 1):
        answer = ok(get(env_path(api_world, "/inventory"), page=page, page_size=30))
        assert answer["total"] == everything["total"] and answer["page"] == page
        seen += [o["id"] for o in answer["items"]]
    assert sorted(seen) == sorted(o["id"] for o in everything["items"])
    both = ok(get(env_path(api_world, "/inventory"), type=["instance", "host"]))
    assert both["total"] == instances["total"] + db[OBJECTS].count_documents({"environment": env, "type": "host"})


def test_inventory_by_parent_subtree_host_and_name(get, api_world) -> None:  # type: ignore[no-untyped-def]
    db, env = api_world.stores.mongo, api_world.environment
    subtree = ok(get(env_path(api_world, "/inventory"), subtree="compute-1", page_size=500))
    assert subtree["total"] == db[OBJECTS].count_documents({"environment": env, "id_path": "compute-1"})
    assert all("compute-1" in o["id_path"] for o in subtree["items"]) and subtree["total"] > 5
    children = ok(get(env_path(api_world, "/inventory"), parent_id="compute-1"))
    assert {o["parent_id"] for o in children["items"]} == {"compute-1"}
    on_host = ok(get(env_path(api_world, "/inventory"), host="compute-2", type="vnic"))
    assert on_host["total"] >= 1 and {o["host"] for o in on_host["items"]} == {"compute-2"}
    vm = api_world.world.instances[0].name
    named = ok(get(env_path(api_world, "/inventory"), name=vm.upper()))
    assert vm in {o["name"] for o in named["items"]}
    # user input is literal text, not a pattern: ".*" matches only names holding ".*"
    assert ok(get(env_path(api_world, "/inventory"), name=".*"))["total"] == 0
    assert ok(get(env_path(api_world, "/inventory"), name="vm-("))["total"] == 0


def test_inventory_object_and_404(get, api_world) -> None:  # type: ignore[no-untyped-def]
    pnic = api_world.stores.mongo[OBJECTS].find_one({"environment": api_world.environment, "type": "host_pnic"})
    answer = ok(get(env_path(api_world, f"/inventory/{pnic['id']}")))  # ids hold '/'
    assert answer["id"] == pnic["id"] and "_id" not in answer
    assert isinstance(answer["first_seen"], str) and answer["first_seen"].startswith("20")
    error = error_of(get(env_path(api_world, "/inventory/no-such-object")), 404)
    assert error["code"] == "not_found" and "no-such-object" in error["message"]


def test_inventory_history_and_as_of(get, api_world) -> None:  # type: ignore[no-untyped-def]
    db, env = api_world.stores.mongo, api_world.environment
    vm = db[OBJECTS].find_one({"environment": env, "type": "instance"})
    history = ok(get(env_path(api_world, f"/inventory/{vm['id']}/history")))
    assert history["total"] == 1 and history["items"][0]["valid_to"] is None
    assert history["items"][0]["doc"]["name"] == vm["name"]
    before = vm["first_seen"] - timedelta(seconds=1)
    assert ok(get(env_path(api_world, "/inventory"), as_of=before.isoformat()))["total"] == 0
    now = datetime.now(UTC).isoformat()
    as_of_now = ok(get(env_path(api_world, "/inventory"), as_of=now, type="instance"))
    assert as_of_now["total"] == len(api_world.world.instances)
    error_of(get(env_path(api_world, "/inventory/never-there/history")), 404)
    assert db[HISTORY].count_documents({"environment": env}) > 0


def test_links_filters(get, api_world) -> None:  # type: ignore[no-untyped-def]
    db, env = api_world.stores.mongo, api_world.environment
    everything = ok(get(env_path(api_world, "/links"), page_size=500))
    assert everything["total"] == db[LINKS].count_documents({"environment": env})
    by_type = ok(get(env_path(api_world, "/links"), link_type="instance-vnic"))
    assert by_type["total"] == db[LINKS].count_documents({"environment": env, "link_type": "instance-vnic"}) > 0
    link = by_type["items"][0]
    assert ok(get(env_path(api_world, "/links"), source_id=link["source_id"]))["total"] >= 1
    assert ok(get(env_path(api_world, "/links"), target_id=link["target_id"]))["items"][0]["target_id"] == link["target_id"]
    touching = ok(get(env_path(api_world, "/links"), object_id=link["target_id"]))
    assert all(link["target_id"] in (l["source_id"], l["target_id"]) for l in touching["items"]) and touching["total"] >= 2
    up = ok(get(env_path(api_world, "/links"), state="up"))["total"]
    down = ok(get(env_path(api_world, "/links"), state="down"))["total"]
    assert up + down == everything["total"]
    on_host = ok(get(env_path(api_world, "/links"), host="compute-1"))
    assert on_host["total"] > 0 and {l["host"] for l in on_host["items"]} == {"compute-1"}
    # a link that names a network (some link types carry `network: null`: the port of no network)
    with_attribute = db[LINKS].find_one({"environment": env, "network": {"$type": "string"}})
    network = with_attribute["network"]
    answer = ok(get(env_path(api_world, "/links"), attribute=f"network={network}", page_size=500))
    assert answer["total"] == db[LINKS].count_documents({"environment": env, "network": network}) > 0
    assert all(l["network"] == network for l in answer["items"])
    # (both set: `network: null` or `vlan_tag: null` would make find_one's pick order-dependent, as above)
    tagged = db[LINKS].find_one({"environment": env, "network": {"$type": "string"}, "vlan_tag": {"$type": "int"}})
    both = ok(get(env_path(api_world, "/links"),
                  attribute=[f"network={tagged['network']}", f"vlan_tag={tagged['vlan_tag']}"]))
    assert both["total"] == db[LINKS].count_documents(
        {"environment": env, "network": tagged["network"], "vlan_tag": tagged["vlan_tag"]}) > 0
    # a tag no link carries: a number too large for MongoDB is still a clean, empty answer
    assert ok(get(env_path(api_world, "/links"), attribute="vlan_tag=" + "9" * 24))["total"] == 0
    single = ok(get(env_path(api_world, "/links/" + quote(link["key"], safe="/"))))
    assert single["key"] == link["key"]
    error_of(get(env_path(api_world, "/links/instance-vnic|a|b")), 404)


def test_attribute_names_cannot_reach_into_the_query(get, api_world) -> None:  # type: ignore[no-untyped-def]
    # Only the attributes link types declare: no operator, path, or field that scopes the query.
    for bad in ("$where=1", "a.b=1", "network", "x y=1", "environment=other", "_id=x", "host=compute-1",
                "source_id=x"):
        error = error_of(get(env_path(api_world, "/links"), attribute=bad), 400)
        assert error["details"]["parameter"] == "attribute"


def test_messages(get, api_world) -> None:  # type: ignore[no-untyped-def]
    db, env = api_world.stores.mongo, api_world.environment
    record_message(db, Message(env, "Sensu", "error", "port down on compute-1", related_object="compute-1/eth1",
                               related_object_type="host_pnic"))
    record_message(db, Message(env, "Calipso", "info", "all good", timestamp=datetime.now(UTC) - timedelta(days=2)))
    total = db[MESSAGES].count_documents({"environment": env})
    assert ok(get(env_path(api_world, "/messages")))["total"] == total
    errors = ok(get(env_path(api_world, "/messages"), level="error", source_system="Sensu"))
    assert errors["total"] == 1 and errors["items"][0]["related_object"] == "compute-1/eth1"
    assert ok(get(env_path(api_world, "/messages"), related_object="compute-1/eth1"))["total"] == 1
    recent = ok(get(env_path(api_world, "/messages"), since=(datetime.now(UTC) - timedelta(days=1)).isoformat()))
    older = ok(get(env_path(api_world, "/messages"), until=(datetime.now(UTC) - timedelta(days=1)).isoformat()))
    assert recent["total"] + older["total"] == total and older["total"] >= 1
    one = ok(get(env_path(api_world, f"/messages/{errors['items'][0]['id']}")))
    assert one["message"] == "port down on compute-1"
    error_of(get(env_path(api_world, "/messages/000000000000000000000000")), 404)
    error_of(get(env_path(api_world, "/messages/not-an-id")), 404)


def test_statistics_match_the_stores(get, api_world) -> None:  # type: ignore[no-untyped-def]
    db, env = api_world.stores.mongo, api_world.environment
    stats = ok(get(env_path(api_world, "/statistics")))
    assert stats["objects"] == db[OBJECTS].count_documents({"environment": env})
    assert stats["objects_by_type"]["instance"] == len(api_world.world.instances)
    assert sum(stats["links_by_state"].values()) == stats["links"] == db[LINKS].count_documents({"environment": env})
    assert stats["links_by_type"]["instance-vnic"] == db[LINKS].count_documents({"environment": env,
                                                                                  "link_type": "instance-vnic"})
    assert set(stats["messages_by_level"]) <= {"info", "warning", "error"}


def test_types_and_clique_types(get) -> None:  # type: ignore[no-untyped-def]
    types = ok(get("/types"))
    assert [t["name"] for t in types["object_types"]] == [t.name for t in OBJECT_TYPES]
    assert {t["relationship"] for t in types["link_types"]} == {t.relationship for t in LINK_TYPES}
    cliques = ok(get("/clique-types", focal_point_type="instance"))
    declared = {c.name for c in CLIQUE_TYPES if c.focal_point_type == "instance"}
    assert declared <= {c["name"] for c in cliques}  # users may have added their own
    assert {c["focal_point_type"] for c in cliques} == {"instance"}


def test_scans(get, api_world) -> None:  # type: ignore[no-untyped-def]
    scans = ok(get(env_path(api_world, "/scans")))
    assert scans["total"] == 1 and scans["items"][0]["status"] == "completed"
    one = ok(get(env_path(api_world, f"/scans/{scans['items'][0]['id']}")))
    assert one["counts"] and one["environment"] == api_world.environment
    assert ok(get(env_path(api_world, "/scans"), status="failed"))["total"] == 0
    error_of(get(env_path(api_world, "/scans/nope")), 404)


def test_graph_around_a_focal_point_is_capped(get, api_world) -> None:  # type: ignore[no-untyped-def]
    vm = api_world.world.instances[0]
    graph = ok(get(env_path(api_world, "/graph"), focal=vm.id, hops=3))
    ids = {n["id"] for n in graph["nodes"]}
    assert vm.id in ids and graph["focal"] == [vm.id]
    assert {"instance", "vnic"} <= {n["type"] for n in graph["nodes"]}
    assert graph["links"] and all(l["source"] in ids and l["target"] in ids for l in graph["links"])
    assert {l["relationship"] for l in graph["links"]} <= {t.relationship for t in LINK_TYPES}
    assert all("state" in l for l in graph["links"]) and all("status" in n for n in graph["nodes"])
    capped = ok(get(env_path(api_world, "/graph"), focal=vm.id, hops=4, max_nodes=3))
    assert len(capped["nodes"]) == 3 and capped["truncated"] is True
    assert vm.id in {n["id"] for n in capped["nodes"]}  # nearest first: the focal point is kept
    assert any(n["hidden_links"] > 0 for n in capped["nodes"])
    only_focal = ok(get(env_path(api_world, "/graph"), focal=vm.id, hops=0))
    assert [n["id"] for n in only_focal["nodes"]] == [vm.id] and only_focal["links"] == []
    searched = ok(get(env_path(api_world, "/graph"), search=vm.name, hops=1))
    assert vm.id in searched["focal"]
    error_of(get(env_path(api_world, "/graph")), 400)
    error_of(get(env_path(api_world, "/graph"), focal="no-such-vm"), 404)
    error_of(get(env_path(api_world, "/graph"), focal=vm.id, max_nodes=100000), 400)


def test_search_and_tree(get, api_world) -> None:  # type: ignore[no-untyped-def]
    vm = api_world.world.instances[1]
    hits = ok(get(env_path(api_world, "/search"), q=vm.name))
    assert hits["items"][0]["id"] == vm.id  # the exact match first
    assert ok(get(env_path(api_world, "/search"), q="compute-", type="host"))["total"] == 2
    top = ok(get(env_path(api_world, "/tree")))
    assert top["total"] >= 2 and all(child["children"] >= 0 for child in top["items"])
    regions = next(c for c in top["items"] if c["id"] == "regions")
    below = ok(get(env_path(api_world, "/tree"), parent="regions"))
    assert below["total"] == regions["children"] > 0
    error_of(get(env_path(api_world, "/tree"), parent="nope"), 404)
    error_of(get(env_path(api_world, "/search")), 400)


@pytest.mark.parametrize(("path", "params", "named"), [
    ("/inventory", {"typo": "x"}, "typo"),
    ("/inventory", {"page": "0"}, "page"),
    ("/inventory", {"page_size": "501"}, "page_size"),
    ("/inventory", {"page": "one"}, "page"),
    ("/inventory", {"type": "vm"}, "type"),
    ("/inventory", {"as_of": "yesterday"}, "as_of"),
    ("/links", {"state": "sideways"}, "state"),
    ("/links", {"host": ["a", "b"]}, "host"),
    ("/messages", {"level": "fatal"}, "level"),
    ("/statistics", {"x": "1"}, "x"),
    ("/graph", {"focal": "x", "hops": "9"}, "hops"),
])
def test_strict_parameters(get, api_world, path: str, params: dict, named: str) -> None:  # type: ignore[no-untyped-def, type-arg]
    error = error_of(get(env_path(api_world, path), **params), 400)
    assert named in error["message"]


def test_unknown_body_keys_and_methods(api_app, api_tokens) -> None:  # type: ignore[no-untyped-def]
    client = api_app.test_client()
    error = error_of(client.post(f"{API}/auth/tokens", json={"username": "a", "password": "b", "role": "admin"}), 400)
    assert error["details"]["unknown"] == ["role"]
    error_of(client.post(f"{API}/auth/tokens", data="not json", content_type="application/json"), 400)
    error_of(client.put(f"{API}/types", headers={"Authorization": f"Bearer {api_tokens['admin']}"}), 405)
    error_of(client.get(f"{API}/no/such/route", headers={"Authorization": f"Bearer {api_tokens['admin']}"}), 404)


def test_health_and_metrics(get, api_app, api_world) -> None:  # type: ignore[no-untyped-def]
    health = api_app.test_client().get(f"{API}/health").get_json()
    assert health["status"] == "ok" and {s["name"] for s in health["stores"]} == {"mongodb", "neo4j"}
    get("/types")
    # The figures name every environment: administrators only.
    assert error_of(get("/metrics", user="alice"), 403)["message"] == "this operation is for administrators"
    answer = get("/metrics", user="admin")
    assert answer.status_code == 200 and answer.content_type.startswith("text/plain")
    text = answer.get_data(as_text=True)
    assert 'calipso_api_requests_total{endpoint="/api/v1/types",method="GET",status="200"}' in text
    assert "calipso_api_request_duration_seconds_bucket" in text
    env = api_world.environment
    assert f'calipso_scans{{environment="{env}",status="completed"}} 1.0' in text
    assert f'calipso_projection_lag_changes{{environment="{env}"}} 0.0' in text
    assert f'calipso_scan_duration_seconds_count{{environment="{env}"}} 1.0' in text


def test_no_credential_in_any_answer(get, api_world, api_tokens) -> None:  # type: ignore[no-untyped-def]
    secrets = [api_world.settings.ldap_bind_password.get_secret_value(), "admin-pw", "alice-pw", "carol-pw",
               api_world.settings.neo4j_password.get_secret_value(), "lab-admin-pw", "password_hash"]
    env = api_world.environment
    paths = ["/environments", f"/environments/{env}", f"/environments/{env}/inventory",
             f"/environments/{env}/links", f"/environments/{env}/scans", f"/environments/{env}/messages",
             "/auth/whoami", f"/environments/{env}/statistics", "/metrics"]
    for path in paths:
        for user in ("admin", "alice"):
            text = get(path, user=user, **({"page_size": 500} if path.endswith(("inventory", "links")) else {})
                       ).get_data(as_text=True)
            assert not [s for s in secrets if s in text], path
            assert all(token not in text for token in api_tokens.values())
