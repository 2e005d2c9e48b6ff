"""fetch_openstack's raw paging and its per-resource mappings, on documents recorded from the lab's
APIs through Flask's test client (no socket): each mapping gives the world's values under
openstacksdk's names; paging in small pages gives what one big page gives; a failing or malformed
page is reported with the resource and the URL, never a credential."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask.testing import FlaskClient

from ingest.sources.openstack import fetch
from ingest.sources.openstack.fetch import OpenStackFetchError, fetch_openstack
from lab.cloud.app import create_app
from lab.cloud.source import StaticWorldSource
from lab.generate import generate_world
from lab.world import World

PASSWORD = "lab-admin-pw"
SERVICES = {"compute": "/compute/v2.1", "network": "/network/v2.0", "identity": "/identity/v3"}


class Answer:
    """The part of a requests.Response that fetch reads."""

    def __init__(self, status_code: int, url: str, text: str) -> None:
        self.status_code, self.url, self.text = status_code, url, text

    def json(self) -> Any:
        return json.loads(self.text)


#: Replaces the lab's answer to (service path, query) when it returns an Answer.
Override = Callable[[str, dict[str, Any], Answer], Answer | None]


class LabAdapter:
    """A stand-in for a connection's service adapter (keystoneauth Adapter), answered by the lab app."""

    def __init__(self, client: FlaskClient, prefix: str, token: str, override: Override | None = None) -> None:
        self.client, self.prefix, self.token, self.override = client, prefix, token, override
        self.requests: list[str] = []

    def get(self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
            microversion: str | None = None) -> Answer:
        if path.startswith("http"):  # an absolute URL, as keystoneauth allows
            parts = urlsplit(path)
            path, query = parts.path[len(self.prefix):], parts.query
        else:
            query = urlencode(params or {}, doseq=True)
        sent = {"X-Auth-Token": self.token, **(headers or {})}
        if microversion:
            sent["OpenStack-API-Version"] = f"compute {microversion}"
        url = f"http://lab{self.prefix}{path}" + (f"?{query}" if query else "")
        self.requests.append(url)
        response = self.client.get(self.prefix + path, query_string=query, headers=sent)
        answer = Answer(response.status_code, url, response.get_data(as_text=True))
        if self.override is not None:
            return self.override(path, dict(params or {}), answer) or answer
        return answer


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(3, 3, 2, "ovs", "vxlan", seed=5)


@pytest.fixture(scope="module")
def client(world: World) -> FlaskClient:
    return create_app(StaticWorldSource(world), password=PASSWORD).test_client()


@pytest.fixture(scope="module")
def token(client: FlaskClient) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": PASSWORD}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
    return client.post("/identity/v3/auth/tokens", json=body).headers["X-Subject-Token"]


def connection(client: FlaskClient, token: str, overrides: dict[str, Override] | None = None) -> SimpleNamespace:
    return SimpleNamespace(**{service: LabAdapter(client, prefix, token, (overrides or {}).get(service))
                              for service, prefix in SERVICES.items()})


def recorded(client: FlaskClient, token: str, path: str, key: str,
             microversion: str | None = None) -> list[dict[str, Any]]:
    headers = {"X-Auth-Token": token}
    if microversion:
        headers["OpenStack-API-Version"] = f"compute {microversion}"
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json[key]  # type: ignore[index, no-any-return]


# -- the mappings ----------------------------------------------------------------------------------

def test_a_server_is_the_world_instance_under_openstacksdk_names(client: FlaskClient, token: str,
                                                                world: World) -> None:
    docs = recorded(client, token, "/compute/v2.1/servers/detail?all_tenants=1", "servers",
                    fetch.SERVERS_MICROVERSION)
    servers = {s["id"]: s for s in map(fetch.server, docs)}
    assert set(servers) == {i.id for i in world.instances}
    for instance in world.instances:
        server = servers[instance.id]
        assert (server["name"], server["project_id"], server["compute_host"], server["hypervisor_hostname"],
                server["instance_name"], server["vm_state"], server["power_state"]) == (
            instance.name, instance.project_id, instance.host, instance.host, instance.libvirt_name,
            instance.vm_state, instance.power_state)
        assert server["flavor"]["original_name"] == instance.flavor
        macs = {a["OS-EXT-IPS-MAC:mac_addr"] for addresses in server["addresses"].values() for a in addresses}
        assert macs == {p.mac_address for p in world.ports if p.id in instance.port_ids}
        assert server["availability_zone"] == next(h.availability_zone for h in world.hosts if h.name == instance.host)


def test_hypervisors_zones_projects_and_regions(client: FlaskClient, token: str, world: World) -> None:
    hypervisors = map(fetch.hypervisor, recorded(client, token, "/compute/v2.1/os-hypervisors/detail",
                                                 "hypervisors", fetch.HYPERVISORS_MICROVERSION))
    assert {h["name"]: h["host_ip"] for h in hypervisors} == {
        h.name: h.ip_address for h in world.hosts if "compute" in h.roles}
    zones = [fetch.zone(z) for z in recorded(client, token, "/compute/v2.1/os-availability-zone/detail",
                                             "availabilityZoneInfo")]
    hosts_by_zone = {z["name"]: set(z["hosts"]) for z in zones}
    for host in world.hosts:
        if "compute" in host.roles:
            assert host.name in hosts_by_zone[host.availability_zone]
    projects = {p["id"]: p for p in map(fetch.project, recorded(client, token, "/identity/v3/projects", "projects"))}
    for spec in world.projects:
        assert (projects[spec.id]["name"], projects[spec.id]["domain_id"], projects[spec.id]["is_enabled"]) == (
            spec.name, spec.domain_id, spec.enabled)
    regions = [fetch.region(r) for r in recorded(client, token, "/identity/v3/regions", "regions")]
    assert [r["id"] for r in regions] == [r.name for r in world.regions]


def test_networks_subnets_ports_routers_and_agents(client: FlaskClient, token: str, world: World) -> None:
    networks = {n["id"]: n for n in map(fetch.network, recorded(client, token, "/network/v2.0/networks", "networks"))}
    for spec in world.networks:
        found = networks[spec.id]
        assert (found["name"], found["project_id"], found["provider_network_type"], found["provider_segmentation_id"],
                found["provider_physical_network"], found["mtu"], found["is_router_external"]) == (
            spec.name, spec.project_id, spec.network_type, spec.segmentation_id, spec.physical_network, spec.mtu,
            spec.external)
        assert found["subnet_ids"] == [s.id for s in spec.subnets]
    subnets = {s["id"]: s for s in map(fetch.subnet, recorded(client, token, "/network/v2.0/subnets", "subnets"))}
    assert {i: s["cidr"] for i, s in subnets.items()} == {s.id: s.cidr for n in world.networks for s in n.subnets}
    ports = {p["id"]: p for p in map(fetch.port, recorded(client, token, "/network/v2.0/ports", "ports"))}
    assert set(ports) == {p.id for p in world.ports}
    for spec in world.ports:
        found = ports[spec.id]
        assert (found["network_id"], found["mac_address"], found["device_owner"], found["device_id"],
                found["binding_host_id"], found["binding_vif_type"], found["binding_vnic_type"], found["status"]) == (
            spec.network_id, spec.mac_address, spec.device_owner, spec.device_id, spec.binding_host, spec.vif_type,
            spec.vnic_type, spec.status)
        assert [f["ip_address"] for f in found["fixed_ips"]] == [f.ip_address for f in spec.fixed_ips]
    routers = {r["id"]: r for r in map(fetch.router, recorded(client, token, "/network/v2.0/routers", "routers"))}
    assert {i: r["name"] for i, r in routers.items()} == {r.id: r.name for r in world.routers}
    agents = {a["id"]: a for a in map(fetch.agent, recorded(client, token, "/network/v2.0/agents", "agents"))}
    for spec in world.agents:
        found = agents[spec.id]
        assert (found["host"], found["agent_type"], found["binary"], found["is_alive"], found["configuration"]) == (
            spec.host, spec.agent_type, spec.binary, spec.alive, spec.configurations)


def test_a_missing_optional_attribute_reads_none_as_openstacksdk_gives_it() -> None:
    # A non-admin sees no OS-EXT-SRV-ATTR:*; Neutron without the binding extension shows no binding:*.
    server = fetch.server({"id": "s1", "name": "vm"})
    assert server["compute_host"] is None and server["instance_name"] is None and server["flavor"] is None
    assert fetch.port({"id": "p1", "tenant_id": "t1"})["binding_host_id"] is None
    assert fetch.port({"id": "p1", "tenant_id": "t1"})["project_id"] == "t1"
    assert fetch.network({"id": "n1"})["is_router_external"] is False
    assert fetch.project({"id": "p"})["is_enabled"] is None


# -- paging ------------------------------------------------------------------------------------------

def test_small_pages_give_what_one_page_gives(client: FlaskClient, token: str, world: World) -> None:
    whole = fetch_openstack(connection(client, token), "RegionOne")
    paged_connection = connection(client, token)
    paged = fetch_openstack(paged_connection, "RegionOne", page_size=2)
    assert paged == whole
    assert {s["id"] for s in whole.servers} == {i.id for i in world.instances}
    assert {p["id"] for p in whole.ports} == {p.id for p in world.ports}
    # Every list but Keystone's and the zones' was read two items at a time.
    pages_of_ports = [u for u in paged_connection.network.requests if "/ports" in u]
    assert len(pages_of_ports) == len(world.ports) // 2 + 1
    assert all("limit=2" in u for u in pages_of_ports)
    servers_pages = [u for u in paged_connection.compute.requests if "/servers/detail" in u]
    assert len(servers_pages) == len(world.instances) // 2 + 1 and all("all_tenants=1" in u for u in servers_pages)


def test_a_next_link_without_marker_is_followed_as_it_is(client: FlaskClient, token: str) -> None:
    def paged_keystone(path: str, params: dict[str, Any], answer: Answer) -> Answer | None:
        if path != "/projects":
            return None
        body = answer.json()
        first, rest = body["projects"][:1], body["projects"][1:]
        if "offset=1" in answer.url:
            body["projects"] = rest
        else:
            body["projects"] = first
            body["links"]["next"] = "http://lab/identity/v3/projects?offset=1"
        return Answer(200, answer.url, json.dumps(body))
    plain = fetch_openstack(connection(client, token), "RegionOne")
    linked = fetch_openstack(connection(client, token, {"identity": paged_keystone}), "RegionOne")
    assert linked.projects == plain.projects


def failing(status: int, body: str, on: str = "/ports") -> Override:
    def override(path: str, params: dict[str, Any], answer: Answer) -> Answer | None:
        return Answer(status, answer.url, body) if path == on else None
    return override


@pytest.mark.parametrize(("status", "body", "message"), [
    (500, '{"NeutronError": {"type": "HTTPInternalServerError", "message": "Request Failed: internal server error '
          'while processing your request.", "detail": ""}}',
     r"^ports: GET http://lab/network/v2.0/ports\?limit=1000 answered 500: Request Failed: internal server error"),
    (503, "<html><body>Service Unavailable</body></html>",
     r"^ports: GET http://lab/network/v2.0/ports\?limit=1000 answered 503: <html><body>Service Unavailable"),
    (200, "<html>maintenance</html>",
     r"^ports: malformed page from http://lab/network/v2.0/ports\?limit=1000: not JSON"),
    (200, '{"networks": []}', r"^ports: malformed page from .*/ports\?limit=1000: no list of objects under 'ports'"),
    (200, '{"ports": ["p1"]}', r"^ports: malformed page from .*: no list of objects under 'ports'"),
    (200, '{"ports": [{"name": "no id"}]}',
     r"^ports: malformed page from .*/ports\?limit=1000: an item lacks the key 'id'"),
])
def test_a_failed_or_malformed_page_names_the_resource_and_url(client: FlaskClient, token: str, status: int,
                                                               body: str, message: str) -> None:
    with pytest.raises(OpenStackFetchError, match=message) as caught:
        fetch_openstack(connection(client, token, {"network": failing(status, body)}), "RegionOne")
    assert token not in str(caught.value) and PASSWORD not in str(caught.value)


def test_a_server_error_of_nova_names_servers(client: FlaskClient, token: str) -> None:
    body = '{"computeFault": {"code": 500, "message": "Unexpected API Error."}}'
    with pytest.raises(OpenStackFetchError, match=r"^servers: GET http://lab/compute/v2.1/servers/detail\?"
                                                  r"all_tenants=1&limit=1000 answered 500: Unexpected API Error\.$"):
        fetch_openstack(connection(client, token, {"compute": failing(500, body, "/servers/detail")}), "RegionOne")


def test_a_next_link_back_to_the_same_page_is_an_error_not_a_loop(client: FlaskClient, token: str) -> None:
    def same_marker(path: str, params: dict[str, Any], answer: Answer) -> Answer | None:
        if path != "/networks":
            return None
        body = {"networks": [{"id": "m1"}],
                "networks_links": [{"rel": "next", "href": "http://lab/network/v2.0/networks?limit=1000&marker=m1"}]}
        return Answer(200, answer.url, json.dumps(body))
    with pytest.raises(OpenStackFetchError, match=r"^networks: endless pagination from .*marker=m1"):
        fetch_openstack(connection(client, token, {"network": same_marker}), "RegionOne")
