"""The three services over HTTP, through Flask's test client (no socket)."""

import json

import pytest
from flask.testing import FlaskClient

from lab.cloud.app import create_app
from lab.cloud.source import StaticWorldSource
from lab.generate import generate_world
from lab.world import World


@pytest.fixture(scope="module")
def spec() -> World:
    return generate_world(3, 3, 2, "ovs", "vxlan", seed=5)


@pytest.fixture(scope="module")
def client(spec: World) -> FlaskClient:
    return create_app(StaticWorldSource(spec), password="secret").test_client()


@pytest.fixture(scope="module")
def headers(client: FlaskClient) -> dict[str, str]:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": "secret"}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
    response = client.post("/identity/v3/auth/tokens", json=body)
    assert response.status_code == 201
    return {"X-Auth-Token": response.headers["X-Subject-Token"]}


def test_version_documents_need_no_token(client: FlaskClient) -> None:
    assert client.get("/identity/v3").json["version"]["id"] == "v3.14"
    root = client.get("/identity")
    assert root.status_code == 300 and root.json["versions"]["values"][0]["status"] == "stable"
    version = client.get("/compute/v2.1/").json["version"]
    assert (version["min_version"], version["version"]) == ("2.1", "2.96")
    assert client.get("/compute/").json["versions"][0]["id"] == "v2.1"
    assert client.get("/network/").json["versions"][0]["id"] == "v2.0"


@pytest.mark.parametrize("path", ["/compute/v2.1/servers", "/network/v2.0/ports", "/identity/v3/projects",
                                  "/network/v2.0/nowhere"])
def test_everything_else_needs_a_token(client: FlaskClient, path: str) -> None:
    for token in (None, "forged"):
        response = client.get(path, headers={"X-Auth-Token": token} if token else {})
        assert response.status_code == 401
        assert response.json == {"error": {"code": 401, "title": "Unauthorized",
                                           "message": "The request you have made requires authentication."}}


def test_bad_password_is_401_in_keystone_shape(client: FlaskClient) -> None:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": "wrong"}}}}}
    response = client.post("/identity/v3/auth/tokens", json=body)
    assert response.status_code == 401 and response.json["error"]["title"] == "Unauthorized"
    assert "X-Subject-Token" not in response.headers


def test_token_validation_and_revocation(client: FlaskClient, headers: dict[str, str]) -> None:
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": headers["X-Auth-Token"]}},
                     "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    token = client.post("/identity/v3/auth/tokens", json=body).headers["X-Subject-Token"]
    shown = client.get("/identity/v3/auth/tokens", headers={**headers, "X-Subject-Token": token})
    assert shown.status_code == 200 and shown.json["token"]["project"]["name"] == "admin"
    assert client.delete("/identity/v3/auth/tokens", headers={**headers, "X-Subject-Token": token}).status_code == 204
    assert client.get("/identity/v3/projects", headers={"X-Auth-Token": token}).status_code == 401


def test_identity_lists(client: FlaskClient, headers: dict[str, str], spec: World) -> None:
    projects = client.get("/identity/v3/projects", headers=headers).json
    assert {p["name"] for p in projects["projects"]} == {"admin"} | {p.name for p in spec.projects}
    assert projects["links"]["self"] == "http://localhost/identity/v3/projects"
    assert [p["name"] for p in client.get("/identity/v3/projects?name=admin", headers=headers).json["projects"]] == [
        "admin"]
    assert client.get("/identity/v3/regions", headers=headers).json["regions"][0]["id"] == "RegionOne"
    assert client.get("/identity/v3/users", headers=headers).json["users"][0]["name"] == "admin"
    assert len(client.get("/identity/v3/auth/projects", headers=headers).json["projects"]) == 1 + len(spec.projects)
    assert len(client.get("/identity/v3/endpoints?interface=public", headers=headers).json["endpoints"]) == 3
    missing = client.get("/identity/v3/projects/nope", headers=headers)
    assert missing.status_code == 404 and missing.json["error"]["message"] == "Could not find project: nope."


def test_nova_answers_with_the_microversion_it_used(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.get("/compute/v2.1/flavors", headers={**headers, "OpenStack-API-Version": "compute 2.60"})
    assert response.headers["OpenStack-API-Version"] == "compute 2.60"
    assert response.headers["X-OpenStack-Nova-API-Version"] == "2.60"
    assert "OpenStack-API-Version" in response.headers["Vary"]
    assert client.get("/compute/v2.1/flavors", headers=headers).headers["OpenStack-API-Version"] == "compute 2.1"
    refused = client.get("/compute/v2.1/flavors", headers={**headers, "OpenStack-API-Version": "compute 2.99"})
    assert refused.status_code == 406 and refused.json["computeFault"]["code"] == 406


def test_nova_lists_only_the_own_project_without_all_tenants(client: FlaskClient, headers: dict[str, str],
                                                             spec: World) -> None:
    assert client.get("/compute/v2.1/servers", headers=headers).json == {"servers": []}
    everything = client.get("/compute/v2.1/servers?all_tenants=1", headers=headers).json["servers"]
    assert {s["id"] for s in everything} == {i.id for i in spec.instances}
    assert set(everything[0]) == {"id", "links", "name"}
    project = spec.projects[0].id
    mine = client.get(f"/compute/v2.1/servers/detail?all_tenants=1&project_id={project}", headers=headers).json
    assert {s["id"] for s in mine["servers"]} == {i.id for i in spec.instances if i.project_id == project}


@pytest.mark.parametrize(("query", "expected"), [
    ("host=compute-1", lambda i: i.host == "compute-1"),
    ("host=compute-1&host=compute-2", lambda i: True),
    ("name=^vm-1$", lambda i: i.name == "vm-1"),
    ("name=vm-1", lambda i: i.name.startswith("vm-1")),
    ("status=active", lambda i: True),
    ("node=compute-2", lambda i: i.host == "compute-2"),
])
def test_nova_server_filters(client: FlaskClient, headers: dict[str, str], spec: World, query: str,
                             expected) -> None:  # type: ignore[no-untyped-def]
    found = client.get(f"/compute/v2.1/servers/detail?all_tenants=True&{query}", headers=headers).json["servers"]
    assert {s["name"] for s in found} == {i.name for i in spec.instances if expected(i)}


def test_nova_pages_link_on_while_pages_are_full(client: FlaskClient, headers: dict[str, str], spec: World) -> None:
    url, seen = "/compute/v2.1/servers/detail?all_tenants=1&limit=4", []
    while url:
        body = client.get(url, headers=headers).json
        seen += [s["id"] for s in body["servers"]]
        links = body.get("servers_links", [])
        assert len(body["servers"]) == 4 or not links
        url = links[0]["href"].removeprefix("http://localhost") if links else None
    assert seen == [i.id for i in sorted(spec.instances, key=lambda i: (i.created, i.id), reverse=True)]
    bad = client.get("/compute/v2.1/servers/detail?all_tenants=1&marker=nope", headers=headers)
    assert bad.status_code == 400 and bad.json["badRequest"]["message"] == "marker [nope] not found"


def test_nova_show_and_its_404(client: FlaskClient, headers: dict[str, str], spec: World) -> None:
    instance = spec.instances[0]
    server = client.get(f"/compute/v2.1/servers/{instance.id}",
                        headers={**headers, "OpenStack-API-Version": "compute 2.96"}).json["server"]
    assert server["OS-EXT-SRV-ATTR:instance_name"] == instance.libvirt_name and server["server_groups"] == []
    assert server["pinned_availability_zone"] is None
    old = client.get(f"/compute/v2.1/servers/{instance.id}", headers=headers).json["server"]
    assert old["flavor"]["id"] == "2" and "server_groups" not in old and "locked" not in old
    missing = client.get("/compute/v2.1/servers/nope", headers=headers)
    assert missing.status_code == 404
    assert missing.json == {"itemNotFound": {"code": 404, "message": "Instance nope could not be found."}}


def test_nova_hypervisors_zones_services(client: FlaskClient, headers: dict[str, str], spec: World) -> None:
    summary = client.get("/compute/v2.1/os-hypervisors", headers=headers).json["hypervisors"]
    assert set(summary[0]) == {"id", "hypervisor_hostname", "state", "status"}
    with_servers = client.get("/compute/v2.1/os-hypervisors/detail?with_servers=true", headers=headers).json
    assert {s["name"] for s in with_servers["hypervisors"][0]["servers"]} == {
        i.libvirt_name for i in spec.instances if i.host == "compute-1"}
    pattern = client.get("/compute/v2.1/os-hypervisors?hypervisor_hostname_pattern=-2", headers=headers).json
    assert [h["hypervisor_hostname"] for h in pattern["hypervisors"]] == ["compute-2"]
    zones = client.get("/compute/v2.1/os-availability-zone", headers=headers).json["availabilityZoneInfo"]
    assert zones == [{"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}]
    services = client.get("/compute/v2.1/os-services?binary=nova-compute", headers=headers).json["services"]
    assert {s["host"] for s in services} == {"compute-1", "compute-2"}
    assert client.get("/compute/v2.1/os-hypervisors/nope", headers=headers).status_code == 404
    new = client.get("/compute/v2.1/os-hypervisors/detail", headers={**headers, "OpenStack-API-Version": "compute 2.88"})
    assert "uptime" in new.json["hypervisors"][0] and "vcpus" not in new.json["hypervisors"][0]
    old = client.get("/compute/v2.1/os-hypervisors/detail", headers=headers)
    assert "uptime" not in old.json["hypervisors"][0] and "vcpus" in old.json["hypervisors"][0]


def test_neutron_filters_fields_and_unknown_attributes(client: FlaskClient, headers: dict[str, str],
                                                        spec: World) -> None:
    dhcp = client.get("/network/v2.0/ports?device_owner=network:dhcp&fields=id&fields=device_owner",
                      headers=headers).json["ports"]
    assert {p["id"] for p in dhcp} == {p.id for p in spec.ports if p.device_owner == "network:dhcp"}
    assert all(set(p) == {"id", "device_owner"} for p in dhcp)
    two_owners = client.get("/network/v2.0/ports?device_owner=network:dhcp&device_owner=network:router_gateway",
                            headers=headers).json["ports"]
    assert len(two_owners) == sum(p.device_owner in ("network:dhcp", "network:router_gateway") for p in spec.ports)
    on_host = client.get("/network/v2.0/ports?binding:host_id=compute-1", headers=headers).json["ports"]
    assert {p["id"] for p in on_host} == {p.id for p in spec.ports if p.binding_host == "compute-1"}
    external = client.get("/network/v2.0/networks?router:external=True", headers=headers).json["networks"]
    assert [n["name"] for n in external] == ["public"]
    address = spec.ports[0].fixed_ips[0].ip_address
    by_ip = client.get(f"/network/v2.0/ports?fixed_ips=ip_address={address}", headers=headers).json["ports"]
    assert [p["id"] for p in by_ip] == [spec.ports[0].id]
    bad = client.get("/network/v2.0/ports?colour=red", headers=headers)
    assert bad.status_code == 400
    assert bad.json == {"NeutronError": {"type": "HTTPBadRequest", "detail": "",
                                         "message": "[colour] is invalid attribute for filtering"}}


def test_neutron_pages_forward_and_back(client: FlaskClient, headers: dict[str, str], spec: World) -> None:
    url, seen = "/network/v2.0/ports?limit=3", []
    while url:
        body = client.get(url, headers=headers).json
        seen += [p["id"] for p in body["ports"]]
        next_links = [link for link in body["ports_links"] if link["rel"] == "next"]
        url = next_links[0]["href"].removeprefix("http://localhost") if next_links else None
    assert seen == [p.id for p in spec.ports]
    back = client.get(f"/network/v2.0/ports?limit=2&marker={spec.ports[4].id}&page_reverse=True", headers=headers)
    assert [p["id"] for p in back.json["ports"]] == [spec.ports[2].id, spec.ports[3].id]
    missing = client.get("/network/v2.0/ports?limit=2&marker=nope", headers=headers)
    assert missing.status_code == 404 and missing.json["NeutronError"]["type"] == "PortNotFound"


@pytest.mark.parametrize(("path", "kind"), [("networks", "Network"), ("subnets", "Subnet"), ("ports", "Port"),
                                            ("routers", "Router"), ("agents", "Agent")])
def test_neutron_show_and_its_404(client: FlaskClient, headers: dict[str, str], path: str, kind: str) -> None:
    first = client.get(f"/network/v2.0/{path}?limit=1", headers=headers).json[path][0]
    shown = client.get(f"/network/v2.0/{path}/{first['id']}", headers=headers).json
    assert shown == {kind.lower(): first}
    missing = client.get(f"/network/v2.0/{path}/nope", headers=headers)
    assert missing.status_code == 404
    assert missing.json == {"NeutronError": {"type": f"{kind}NotFound", "detail": "",
                                             "message": f"{kind} nope could not be found."}}


def test_unknown_paths_are_404_in_the_service_shape(client: FlaskClient, headers: dict[str, str]) -> None:
    assert "itemNotFound" in client.get("/compute/v2.1/os-nothing", headers=headers).json
    assert "NeutronError" in client.get("/network/v2.0/nothing", headers=headers).json
    assert client.get("/identity/v3/nothing", headers=headers).json["error"]["code"] == 404


def test_list_bodies_are_plain_json(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.get("/network/v2.0/agents", headers=headers)
    assert response.mimetype == "application/json"
    assert isinstance(json.loads(response.data)["agents"], list)


def test_hypervisors_without_servers_list_them_from_2_75() -> None:
    empty = create_app(StaticWorldSource(generate_world(3, 0, 1))).test_client()
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": "lab-admin-pw"}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    token = empty.post("/identity/v3/auth/tokens", json=body).headers["X-Subject-Token"]
    url = "/compute/v2.1/os-hypervisors?with_servers=true"
    old = empty.get(url, headers={"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.74"}).json
    new = empty.get(url, headers={"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.75"}).json
    assert all("servers" not in h for h in old["hypervisors"])
    assert all(h["servers"] == [] for h in new["hypervisors"])
