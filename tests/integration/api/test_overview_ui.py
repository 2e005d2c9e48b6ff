"""The web UI's page and files (public), and the overview namespace it reads: an environment at a
glance, the health of objects, messages over time."""

from __future__ import annotations

from conftest import error_of, ok

from api.ui import BUNDLE


def test_the_page_and_its_files_load_without_a_token_but_not_the_api(api_app) -> None:  # type: ignore[no-untyped-def]
    client = api_app.test_client()
    page = client.get("/")
    if BUNDLE.exists():
        assert page.status_code == 200
        assert 'src="/ui/dist/app.js"' in page.get_data(as_text=True)
        bundle = client.get("/ui/dist/app.js")
        assert bundle.status_code == 200 and "javascript" in bundle.content_type
    else:
        assert page.status_code == 503 and "make bootstrap" in page.get_data(as_text=True)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert client.get("/ui/calipso.css").status_code == 200
    assert client.get("/favicon.ico").status_code == 200
    assert client.get("/ui/../api/__init__.py").status_code == 404
    assert client.get("/api/v1/environments").status_code == 401


def test_overview_of_a_scanned_environment(get, api_world) -> None:  # type: ignore[no-untyped-def]
    env = api_world.environment
    overview = ok(get(f"/environments/{env}/overview"))
    stats = ok(get(f"/environments/{env}/statistics"))
    assert overview["role"] == "view"
    assert overview["last_scan"]["status"] == "completed"
    assert overview["objects"] == stats["objects"] and overview["links"] == stats["links"]
    assert overview["links_down"] == stats["links_by_state"].get("down", 0)
    assert overview["failing_total"] == len(overview["failing"]) == 0  # a healthy lab
    assert "projection" not in overview  # apart: counting the feed can be slow
    projection = ok(get(f"/environments/{env}/overview/projection"))
    assert projection["lag"] == 0 and projection["checkpoint"] > 0
    assert ok(get(f"/environments/{env}/overview", user="carol"))["role"] == "edit"
    error_of(get(f"/environments/{env}/overview", user="bob"), 403)
    error_of(get(f"/environments/{env}/overview", user=None), 401)


def test_health_of_a_vms_clique_and_of_unknown_ids(get, api_world) -> None:  # type: ignore[no-untyped-def]
    env = api_world.environment
    vm = api_world.world.instances[0]
    clique = ok(get(f"/environments/{env}/cliques/{vm.id}"))
    ids = [n["id"] for n in clique["nodes"]]
    answer = ok(get(f"/environments/{env}/overview/health", id=[*ids, "no-such-object"]))
    assert {item["id"] for item in answer["items"]} == set(ids)
    assert {item["health"] for item in answer["items"]} == {"ok"}
    for item in answer["items"][:3]:  # its degree: what a picture of it may leave out
        assert item["degree"] == ok(get(f"/environments/{env}/links", object_id=item["id"]))["total"]
    assert "required" in error_of(get(f"/environments/{env}/overview/health"), 400)["message"]
    error_of(get(f"/environments/{env}/overview/health", user="bob", id=ids[0]), 403)


def test_timeline_counts_the_messages_per_level(get, api_world) -> None:  # type: ignore[no-untyped-def]
    env = api_world.environment
    since = "2000-01-01T00:00:00Z"
    timeline = ok(get(f"/environments/{env}/overview/timeline", bucket="hour", since=since))
    messages = ok(get(f"/environments/{env}/messages", since=since, page_size=1))
    assert sum(item["count"] for item in timeline["items"]) == messages["total"]
    assert all(item["start"].endswith(("00:00+00:00", "00:00")) for item in timeline["items"])
    error_of(get(f"/environments/{env}/overview/timeline", bucket="week"), 400)


def test_search_finds_a_vm_by_its_ip_and_mac(get, api_world) -> None:  # type: ignore[no-untyped-def]
    env = api_world.environment
    vm = api_world.world.instances[0]
    port = api_world.world.port(vm.port_ids[0])
    ip = port.fixed_ips[0].ip_address
    by_ip = ok(get(f"/environments/{env}/search", q=ip, page_size=50))
    assert vm.id in {hit["id"] for hit in by_ip["items"]}
    by_mac = ok(get(f"/environments/{env}/search", q=port.mac_address.upper(), page_size=50))
    assert {"vnic", "port", "instance"} <= {hit["type"] for hit in by_mac["items"]}
