"""The documents each simulated service computes from a world (no HTTP)."""

import hashlib

import pytest

from lab.cloud.compute import ComputeDocs, MicroversionError, requested_microversion
from lab.cloud.identity import AuthError, IdentityDocs, authenticate
from lab.cloud.network import (
    AGENT_FIELDS,
    NETWORK_FIELDS,
    PORT_FIELDS,
    ROUTER_FIELDS,
    SUBNET_FIELDS,
    NetworkDocs,
    allocation_pools,
    list_filters,
    pagination_links,
)
from lab.cloud.tokens import TokenStore
from lab.generate import generate_world
from lab.world import World

BASE = "http://cloud.test/"


def world(mechanism: str = "ovs", type_driver: str = "vxlan") -> World:
    return generate_world(3, 2, 1 if type_driver == "flat" else 2, mechanism, type_driver, seed=3)


# -- compute ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "expected"), [
    ({}, (2, 1)),
    ({"OpenStack-API-Version": "compute 2.60"}, (2, 60)),
    ({"OpenStack-API-Version": "identity 3.0, compute 2.53"}, (2, 53)),
    ({"X-OpenStack-Nova-API-Version": "2.47"}, (2, 47)),
    ({"OpenStack-API-Version": "compute latest"}, (2, 96)),
])
def test_requested_microversion(headers: dict, expected: tuple[int, int]) -> None:
    assert requested_microversion(headers) == expected


@pytest.mark.parametrize(("header", "code"), [("compute 2.97", 406), ("compute 1.9", 406), ("compute two", 400)])
def test_unusable_microversions(header: str, code: int) -> None:
    with pytest.raises(MicroversionError) as error:
        requested_microversion({"OpenStack-API-Version": header})
    assert error.value.code == code


def test_servers_are_newest_first_with_admin_attributes() -> None:
    spec = world()
    compute = ComputeDocs(spec, BASE)
    docs = compute.servers.docs
    assert [d["id"] for d in docs] == [i.id for i in sorted(spec.instances, key=lambda i: (i.created, i.id),
                                                            reverse=True)]
    instance = spec.instances[0]
    doc = compute.servers.get(instance.id)
    assert doc["OS-EXT-SRV-ATTR:host"] == doc["OS-EXT-SRV-ATTR:hypervisor_hostname"] == instance.host
    assert doc["OS-EXT-SRV-ATTR:instance_name"] == instance.libvirt_name
    assert doc["OS-EXT-AZ:availability_zone"] == "nova"
    assert doc["status"] == "ACTIVE" and doc["OS-EXT-STS:vm_state"] == "active"
    assert doc["OS-EXT-STS:power_state"] == 1
    assert doc["tenant_id"] == instance.project_id
    assert doc["hostId"] == hashlib.sha224((instance.project_id + instance.host).encode()).hexdigest()
    assert doc["flavor"]["original_name"] == "m1.small"
    port = spec.port(instance.port_ids[0])
    [(network_name, [address])] = doc["addresses"].items()
    assert network_name == spec.network(port.network_id).name
    assert address == {"version": 4, "addr": port.fixed_ips[0].ip_address, "OS-EXT-IPS:type": "fixed",
                       "OS-EXT-IPS-MAC:mac_addr": port.mac_address}
    assert doc["links"][0] == {"href": f"{BASE}compute/v2.1/servers/{instance.id}", "rel": "self"}


def test_servers_at_older_microversions() -> None:
    compute = ComputeDocs(world(), BASE)
    newest = compute.servers.docs[0]
    assert compute.server_shape((2, 96)) == ("", None)
    variant, shape = compute.server_shape((2, 50))
    assert variant == "2.47" and shape is not None
    at_50 = shape(newest)
    assert at_50["flavor"] == newest["flavor"] and "tags" in at_50
    assert set(newest) - set(at_50) == {"trusted_image_certificates", "locked_reason", "pinned_availability_zone"}
    variant, shape = compute.server_shape((2, 1))
    assert variant == "2.1" and shape is not None
    at_21 = shape(newest)
    assert at_21["flavor"] == {"id": "2", "links": [{"href": f"{BASE}compute/flavors/2", "rel": "bookmark"}]}
    assert not any(name.startswith("OS-EXT-SRV-ATTR:") and name not in (
        "OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:hypervisor_hostname", "OS-EXT-SRV-ATTR:instance_name")
        for name in at_21)


def test_hypervisors_at_older_and_newer_microversions() -> None:
    compute = ComputeDocs(world(), BASE)
    doc = compute.hypervisors.docs[0]
    assert "uptime" not in compute.hypervisor_shape((2, 87), detail=True)(doc)
    assert "vcpus" in compute.hypervisor_shape((2, 87), detail=True)(doc)
    at_88 = compute.hypervisor_shape((2, 88), detail=True)(doc)
    assert "uptime" in at_88 and "vcpus" not in at_88 and "cpu_info" in at_88
    assert set(compute.hypervisor_shape((2, 88), detail=False)(doc)) == {"id", "hypervisor_hostname", "state",
                                                                         "status"}


def test_hypervisors_services_zones_of_the_hosts() -> None:
    spec = world()
    compute = ComputeDocs(spec, BASE)
    hypervisors = compute.hypervisors.docs
    assert [h["hypervisor_hostname"] for h in hypervisors] == ["compute-1", "compute-2"]
    assert hypervisors[0]["host_ip"] == spec.host("compute-1").ip_address
    assert hypervisors[0]["running_vms"] == 2
    assert hypervisors[0]["service"]["host"] == "compute-1"
    assert {(s["host"], s["binary"], s["zone"]) for s in compute.services} == {
        ("controller-1", "nova-scheduler", "internal"), ("controller-1", "nova-conductor", "internal"),
        ("compute-1", "nova-compute", "nova"), ("compute-2", "nova-compute", "nova")}
    assert [z["zoneName"] for z in compute.zones] == ["internal", "nova"]
    assert set(compute.zones[1]["hosts"]) == {"compute-1", "compute-2"}
    assert compute.aggregates == []


def test_hosts_outside_the_default_zone_form_an_aggregate() -> None:
    spec = world()
    spec.regions[0].availability_zones.append("az2")
    spec.host("compute-2").availability_zone = "az2"
    compute = ComputeDocs(spec, BASE)
    [aggregate] = compute.aggregates
    assert aggregate["name"] == aggregate["availability_zone"] == "az2"
    assert aggregate["hosts"] == ["compute-2"]
    assert aggregate["metadata"] == {"availability_zone": "az2"}
    assert [z["zoneName"] for z in compute.zones] == ["internal", "az2", "nova"]


def test_unknown_flavors_get_an_id_and_a_flavor_document() -> None:
    spec = world()
    spec.instances[0].flavor = "custom.big"
    compute = ComputeDocs(spec, BASE)
    assert "custom.big" in {f["name"] for f in compute.flavors.docs}


# -- network ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("mechanism", "type_driver"), [("ovs", "vxlan"), ("lxb", "vlan"), ("vpp", "vxlan"),
                                                        ("sriov", "vlan")])
def test_documents_have_exactly_the_declared_attributes(mechanism: str, type_driver: str) -> None:
    network = NetworkDocs(world(mechanism, type_driver), BASE)
    for collection, fields in ((network.networks, NETWORK_FIELDS), (network.subnets, SUBNET_FIELDS),
                               (network.ports, PORT_FIELDS), (network.routers, ROUTER_FIELDS),
                               (network.agents, AGENT_FIELDS)):
        assert collection.docs
        for doc in collection.docs:
            assert list(doc) == list(fields)


def test_network_subnet_port_router_agent_attributes() -> None:
    spec = world("ovs", "vlan")
    network = NetworkDocs(spec, BASE)
    tenant = spec.networks[0]
    doc = network.networks.get(tenant.id)
    assert doc["provider:network_type"] == "vlan"
    assert doc["provider:segmentation_id"] == tenant.segmentation_id
    assert doc["provider:physical_network"] == "physnet1"
    assert doc["router:external"] is False and doc["status"] == "ACTIVE"
    assert doc["subnets"] == [tenant.subnets[0].id]
    assert doc["availability_zones"] == ["nova"]
    public = network.networks.get(spec.networks[-1].id)
    assert public["router:external"] is True and public["availability_zones"] == []

    dhcp = next(p for p in spec.ports if p.device_owner == "network:dhcp")
    port = network.ports.get(dhcp.id)
    assert port["binding:host_id"] == "controller-1"
    assert port["binding:vif_type"] == "ovs" and port["binding:vnic_type"] == "normal"
    assert port["binding:vif_details"]["ovs_hybrid_plug"] is True
    assert port["fixed_ips"] == [{"subnet_id": dhcp.fixed_ips[0].subnet_id, "ip_address": dhcp.fixed_ips[0].ip_address}]
    assert port["security_groups"] == []

    router = spec.routers[0]
    gateway = next(p for p in spec.ports if p.device_owner == "network:router_gateway" and p.device_id == router.id)
    info = network.routers.get(router.id)["external_gateway_info"]
    assert info["network_id"] == router.gateway_network_id
    assert info["external_fixed_ips"] == [{"subnet_id": gateway.fixed_ips[0].subnet_id,
                                           "ip_address": gateway.fixed_ips[0].ip_address}]

    agents = {(a["host"], a["agent_type"]): a for a in network.agents.docs}
    assert agents[("controller-1", "DHCP agent")]["topic"] == "dhcp_agent"
    assert agents[("controller-1", "DHCP agent")]["availability_zone"] == "nova"
    assert agents[("compute-1", "Open vSwitch agent")]["availability_zone"] is None
    assert agents[("compute-1", "Open vSwitch agent")]["configurations"]["bridge_mappings"] == {"physnet1": "br-physnet1"}


def test_sriov_ports_name_their_virtual_function() -> None:
    spec = world("sriov", "vlan")
    network = NetworkDocs(spec, BASE)
    vm_ports = [network.ports.get(p.id) for p in spec.ports if p.binding_host == "compute-1"]
    assert [p["binding:profile"]["pci_slot"] for p in vm_ports] == ["0000:05:10.0", "0000:05:10.1"]
    assert all(p["binding:vif_type"] == "hw_veb" and p["binding:vnic_type"] == "direct" for p in vm_ports)
    assert vm_ports[0]["binding:vif_details"]["vlan"] == str(spec.network(vm_ports[0]["network_id"]).segmentation_id)


def test_dead_agents_are_not_alive() -> None:
    spec = world()
    spec.agents[0].alive = False
    assert NetworkDocs(spec, BASE).agents.docs[0]["alive"] is False


@pytest.mark.parametrize(("cidr", "gateway", "pools"), [
    ("10.0.0.0/24", "10.0.0.1", [{"start": "10.0.0.2", "end": "10.0.0.254"}]),
    ("10.0.0.0/29", "10.0.0.3", [{"start": "10.0.0.1", "end": "10.0.0.2"}, {"start": "10.0.0.4", "end": "10.0.0.6"}]),
    ("10.0.0.0/29", None, [{"start": "10.0.0.1", "end": "10.0.0.6"}]),
    ("10.0.0.0/31", None, []),
])
def test_allocation_pools(cidr: str, gateway: str | None, pools: list) -> None:
    assert allocation_pools(cidr, gateway) == pools


def test_list_filters_validate_attributes_and_expand_fixed_ips() -> None:
    ports = NetworkDocs(world(), BASE).ports
    assert list_filters(ports, {"device_owner": ["network:dhcp"], "limit": ["2"], "fields": ["id"]}) == [
        ("device_owner", ["network:dhcp"])]
    assert list_filters(ports, {"fixed_ips": ["ip_address=10.0.0.5", "subnet_id=s"]}) == [
        ("ip_address", ["10.0.0.5"]), ("subnet_id", ["s"])]
    with pytest.raises(ValueError, match=r"\[colour\] is invalid attribute for filtering"):
        list_filters(ports, {"colour": ["red"]})


def test_pagination_links_as_neutron_writes_them() -> None:
    url = "http://cloud.test/network/v2.0/ports"
    full = pagination_links(url, {"limit": ["2"], "device_owner": ["x"]}, ["a", "b"], 2, reverse=False)
    assert [link["rel"] for link in full] == ["next", "previous"]
    assert full[0]["href"] == f"{url}?limit=2&device_owner=x&marker=b"
    assert full[1]["href"] == f"{url}?limit=2&device_owner=x&marker=a&page_reverse=True"
    last = pagination_links(url, {"limit": ["2"], "marker": ["z"]}, ["c"], 2, reverse=False)
    assert [link["rel"] for link in last] == ["previous"]
    backwards_first = pagination_links(url, {"limit": ["2"], "marker": ["c"], "page_reverse": ["True"]}, ["a"], 2,
                                       reverse=True)
    assert [link["rel"] for link in backwards_first] == ["next"]


# -- identity --------------------------------------------------------------------------------------

def password_auth(password: str = "pw", project: dict | None = None, user: dict | None = None) -> dict:
    user = user or {"name": "admin", "domain": {"name": "Default"}}
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {**user, "password": password}}}}}
    if project is not None:
        body["auth"]["scope"] = {"project": project}
    return body


def test_password_auth_issues_a_project_token_with_a_catalog_of_this_server() -> None:
    identity = IdentityDocs(world(), BASE)
    tokens = TokenStore()
    token = authenticate(password_auth(project={"name": "admin", "domain": {"id": "default"}}), "pw", identity, tokens)
    assert tokens.get(token.id) == token
    body = identity.token_body(token)["token"]
    assert body["project"]["name"] == "admin" and body["user"]["name"] == "admin"
    assert {r["name"] for r in body["roles"]} == {"admin", "member", "reader"}
    urls = {(s["type"], e["interface"], e["region_id"]): e["url"] for s in body["catalog"] for e in s["endpoints"]}
    assert urls[("identity", "public", "RegionOne")] == f"{BASE}identity"
    assert urls[("compute", "internal", "RegionOne")] == f"{BASE}compute/v2.1"
    assert urls[("network", "admin", "RegionOne")] == f"{BASE}network"
    assert len(urls) == 9


def test_auth_by_user_id_and_project_id_and_by_token() -> None:
    spec = world()
    identity = IdentityDocs(spec, BASE)
    tokens = TokenStore()
    first = authenticate(password_auth(user={"id": identity.user_id}, project={"id": spec.projects[0].id}), "pw",
                         identity, tokens)
    assert first.project_id == spec.projects[0].id
    again = authenticate({"auth": {"identity": {"methods": ["token"], "token": {"id": first.id}}}}, "pw",
                         identity, tokens)
    assert again.project_id is None and "catalog" not in identity.token_body(again)["token"]


@pytest.mark.parametrize(("body", "code"), [
    (password_auth("wrong", {"name": "admin", "domain": {"name": "Default"}}), 401),
    (password_auth(user={"name": "bob", "domain": {"name": "Default"}}), 401),
    (password_auth(project={"name": "nope", "domain": {"name": "Default"}}), 401),
    (password_auth(project={"name": "admin", "domain": {"name": "Elsewhere"}}), 401),
    ({"auth": {"identity": {"methods": ["token"], "token": {"id": "forged"}}}}, 401),
    ({"auth": {}}, 400),
    ("not json", 400),
])
def test_rejected_authentication(body: object, code: int) -> None:
    with pytest.raises(AuthError) as error:
        authenticate(body, "pw", IdentityDocs(world(), BASE), TokenStore())
    assert error.value.code == code


def test_flavors_at_older_and_newer_microversions() -> None:
    compute = ComputeDocs(world(), BASE)
    doc = compute.flavors.get("2")
    _, at_21 = compute.flavor_shape((2, 1), detail=True)
    assert at_21(doc)["swap"] == "" and "description" not in at_21(doc) and "extra_specs" not in at_21(doc)
    _, at_61 = compute.flavor_shape((2, 61), detail=True)
    assert at_61(doc)["swap"] == "" and at_61(doc)["extra_specs"] == {} and at_61(doc)["description"] is None
    _, at_96 = compute.flavor_shape((2, 96), detail=True)
    assert at_96(doc) == doc and doc["swap"] == 0
    _, listed = compute.flavor_shape((2, 96), detail=False)
    assert set(listed(doc)) == {"id", "links", "name", "description"}
