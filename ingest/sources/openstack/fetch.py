"""Read everything the scanner needs from the OpenStack APIs, as plain dicts.

The lists are read with raw, paged GETs through the connection's service adapters (keystoneauth
Adapters bound to the catalog endpoints), not through openstacksdk's Resource objects: building a
Resource costs ~9 ms of CPU per server, three minutes for 20,000 servers, where the raw pages take
about a second. Each API document is then cut down by a small pure function per resource to the
attributes the transform reads, under openstacksdk's attribute names (`OS-EXT-SRV-ATTR:host` is
`compute_host`, `binding:host_id` is `binding_host_id`, ...), so the dicts are what
`Resource.to_dict()` gave for those keys.

Paging follows each API: Nova's `<key>_links` next link (servers from 2.1, hypervisors from
microversion 2.33), Neutron's `limit`/`marker` with `<key>_links`, Keystone's `links.next`. The
next page is asked for at our own path with the query of the next link, so that a link naming
another host or scheme (a TLS-terminating proxy) does not matter; a link without a marker is
followed as it is. A failed request or a page
that is not what the API documents raises OpenStackFetchError naming the resource and the URL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import keystoneauth1.exceptions
import openstack.connection
import openstack.exceptions

Raw = dict[str, Any]

#: Items asked for per page (Nova caps it at its [api] max_limit, 1000 by default).
PAGE_SIZE = 1000
#: Servers embed their flavor (with original_name) from 2.47 (Pike).
SERVERS_MICROVERSION = "2.47"
#: Hypervisors page with limit/marker from 2.33 and have UUID ids from 2.53 (Pike).
HYPERVISORS_MICROVERSION = "2.53"
#: Aggregates show their uuid from 2.41 (Pike).
AGGREGATES_MICROVERSION = "2.41"


class OpenStackFetchError(openstack.exceptions.SDKException):
    """An API list could not be read: the request failed, or a page was not what the API documents."""

    #: The HTTP status the API answered, when it answered with an error.
    status_code: int | None = None


@dataclass
class RawOpenStack:
    """What the APIs returned, one list of plain dicts per resource (openstacksdk attribute names)."""

    region: str
    regions: list[Raw] = field(default_factory=list)
    projects: list[Raw] = field(default_factory=list)
    zones: list[Raw] = field(default_factory=list)
    aggregates: list[Raw] = field(default_factory=list)
    hypervisors: list[Raw] = field(default_factory=list)
    servers: list[Raw] = field(default_factory=list)
    networks: list[Raw] = field(default_factory=list)
    subnets: list[Raw] = field(default_factory=list)
    ports: list[Raw] = field(default_factory=list)
    routers: list[Raw] = field(default_factory=list)
    agents: list[Raw] = field(default_factory=list)


# -- one API document -> the dict the transform reads (pure) ---------------------------------------

def _optional_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def region(doc: Raw) -> Raw:
    return {"id": doc["id"], "parent_region_id": doc.get("parent_region_id"), "description": doc.get("description")}


def project(doc: Raw) -> Raw:
    return {"id": doc["id"], "name": doc.get("name"), "domain_id": doc.get("domain_id"),
            "parent_id": doc.get("parent_id"), "is_enabled": _optional_bool(doc.get("enabled"))}


def zone(doc: Raw) -> Raw:
    """An availabilityZoneInfo entry (the detail form, with hosts and their services)."""
    return {"name": doc["zoneName"], "state": doc.get("zoneState"), "hosts": doc.get("hosts")}


def aggregate(doc: Raw) -> Raw:
    """A Nova host aggregate: its integer id (what the inventory id is built from), zone, hosts, metadata."""
    return {"id": doc["id"], "uuid": doc.get("uuid"), "name": doc.get("name"),
            "availability_zone": doc.get("availability_zone"), "hosts": list(doc.get("hosts") or []),
            "metadata": dict(doc.get("metadata") or {})}


def hypervisor(doc: Raw) -> Raw:
    return {"id": doc["id"], "name": doc.get("hypervisor_hostname"), "host_ip": doc.get("host_ip"),
            "state": doc.get("state"), "status": doc.get("status"), "hypervisor_type": doc.get("hypervisor_type")}


def server(doc: Raw) -> Raw:
    """A server as an admin sees it (the OS-EXT-* attributes); flavor and image as the API gives them."""
    return {"id": doc["id"], "name": doc.get("name"), "status": doc.get("status"),
            "project_id": doc.get("tenant_id"),
            "compute_host": doc.get("OS-EXT-SRV-ATTR:host"),
            "hypervisor_hostname": doc.get("OS-EXT-SRV-ATTR:hypervisor_hostname"),
            "instance_name": doc.get("OS-EXT-SRV-ATTR:instance_name"),
            "availability_zone": doc.get("OS-EXT-AZ:availability_zone"),
            "vm_state": doc.get("OS-EXT-STS:vm_state"), "power_state": doc.get("OS-EXT-STS:power_state"),
            "task_state": doc.get("OS-EXT-STS:task_state"),
            "flavor": doc.get("flavor"), "image": doc.get("image"), "addresses": doc.get("addresses")}


def network(doc: Raw) -> Raw:
    return {"id": doc["id"], "name": doc.get("name"), "project_id": doc.get("project_id"),
            "status": doc.get("status"), "mtu": doc.get("mtu"),
            "is_router_external": bool(doc.get("router:external", False)),
            "is_shared": _optional_bool(doc.get("shared")),
            "provider_network_type": doc.get("provider:network_type"),
            "provider_physical_network": doc.get("provider:physical_network"),
            "provider_segmentation_id": doc.get("provider:segmentation_id"),
            "subnet_ids": doc.get("subnets"), "availability_zones": doc.get("availability_zones")}


def subnet(doc: Raw) -> Raw:
    return {"id": doc["id"], "name": doc.get("name"), "network_id": doc.get("network_id"),
            "project_id": doc.get("project_id", doc.get("tenant_id")), "cidr": doc.get("cidr"),
            "ip_version": doc.get("ip_version"), "gateway_ip": doc.get("gateway_ip")}


def port(doc: Raw) -> Raw:
    return {"id": doc["id"], "name": doc.get("name"), "network_id": doc.get("network_id"),
            "project_id": doc.get("project_id", doc.get("tenant_id")), "mac_address": doc.get("mac_address"),
            "device_owner": doc.get("device_owner"), "device_id": doc.get("device_id"), "status": doc.get("status"),
            "fixed_ips": doc.get("fixed_ips"), "binding_host_id": doc.get("binding:host_id"),
            "binding_vif_type": doc.get("binding:vif_type"), "binding_vnic_type": doc.get("binding:vnic_type"),
            "binding_vif_details": doc.get("binding:vif_details"), "binding_profile": doc.get("binding:profile")}


def router(doc: Raw) -> Raw:
    return {"id": doc["id"], "name": doc.get("name"), "project_id": doc.get("project_id", doc.get("tenant_id")),
            "status": doc.get("status"), "is_admin_state_up": _optional_bool(doc.get("admin_state_up")),
            "external_gateway_info": doc.get("external_gateway_info"),
            "availability_zones": doc.get("availability_zones"), "is_ha": _optional_bool(doc.get("ha")),
            "is_distributed": _optional_bool(doc.get("distributed"))}


def agent(doc: Raw) -> Raw:
    return {"id": doc["id"], "agent_type": doc.get("agent_type"), "binary": doc.get("binary"),
            "host": doc.get("host"), "is_alive": _optional_bool(doc.get("alive")),
            "is_admin_state_up": _optional_bool(doc.get("admin_state_up")),
            "configuration": doc.get("configurations"), "availability_zone": doc.get("availability_zone")}


# -- reading -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ApiResource:
    """One list API the scanner reads: into `RawOpenStack.<name>`, from `path` of `service` (the
    connection's adapter: compute, network, identity), the list under `key`, each item cut down by
    `plain`. `paged`: the API takes `limit` (and pages by marker); `params` are always sent."""

    name: str
    service: str
    path: str
    key: str
    plain: Callable[[Raw], Raw]
    paged: bool = False
    microversion: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""  # how errors name it; default the name

    @property
    def described(self) -> str:
        return self.label or self.name


#: Every list API the scanner can read, in the order it reads them. ingest/hierarchy.py names the ones each
#: object type is built from; a new resource is one entry here, a field of RawOpenStack and a `plain` mapping.
API_RESOURCES: tuple[ApiResource, ...] = (
    ApiResource("regions", "identity", "/regions", "regions", region),
    ApiResource("projects", "identity", "/projects", "projects", project),
    ApiResource("zones", "compute", "/os-availability-zone/detail", "availabilityZoneInfo", zone,
                label="availability zones"),
    ApiResource("aggregates", "compute", "/os-aggregates", "aggregates", aggregate,
                microversion=AGGREGATES_MICROVERSION),
    ApiResource("hypervisors", "compute", "/os-hypervisors/detail", "hypervisors", hypervisor, paged=True,
                microversion=HYPERVISORS_MICROVERSION),
    ApiResource("servers", "compute", "/servers/detail", "servers", server, paged=True,
                microversion=SERVERS_MICROVERSION, params={"all_tenants": 1}),
    ApiResource("networks", "network", "/networks", "networks", network, paged=True),
    ApiResource("subnets", "network", "/subnets", "subnets", subnet, paged=True),
    ApiResource("ports", "network", "/ports", "ports", port, paged=True),
    ApiResource("routers", "network", "/routers", "routers", router, paged=True),
    ApiResource("agents", "network", "/agents", "agents", agent, paged=True),
)
API_RESOURCES_BY_NAME = {r.name: r for r in API_RESOURCES}


def fetch_openstack(connection: openstack.connection.Connection, region_name: str,
                    page_size: int = PAGE_SIZE, resources: Iterable[str] | None = None) -> RawOpenStack:
    """The named resources (default: every one of API_RESOURCES), page by page; servers of all projects."""
    wanted = set(API_RESOURCES_BY_NAME if resources is None else resources)
    unknown = wanted - set(API_RESOURCES_BY_NAME)
    if unknown:
        raise ValueError(f"no API resource named {', '.join(sorted(unknown))}")
    raw = RawOpenStack(region=region_name)
    for resource in API_RESOURCES:
        if resource.name not in wanted:
            continue
        params = {**resource.params, **({"limit": page_size} if resource.paged else {})}
        setattr(raw, resource.name, read_list(getattr(connection, resource.service), resource.described,
                                              resource.path, resource.key, resource.plain, params,
                                              resource.microversion))
    return raw


def read_list(adapter: Any, resource: str, path: str, key: str, plain: Callable[[Raw], Raw],
              params: Mapping[str, Any] | None = None, microversion: str | None = None) -> list[Raw]:
    """Every item of a list API (the list under `key` in each page's body), each made plain."""
    items: list[Raw] = []
    for url, page in pages(adapter, resource, path, key, params or {}, microversion):
        try:
            items.extend(plain(doc) for doc in page)
        except (KeyError, TypeError, AttributeError) as exc:
            raise OpenStackFetchError(f"{resource}: malformed page from {url}: an item lacks "
                                      f"{_describe(exc)}") from None
    return items


def pages(adapter: Any, resource: str, path: str, key: str, params: Mapping[str, Any],
          microversion: str | None = None) -> Iterator[tuple[str, list[Raw]]]:
    """(URL, items) of each page of a list, following next links until one is absent or a page is empty."""
    target, query = path, dict(params)
    seen: set[str] = set()
    while True:
        url, body = _get(adapter, resource, target, query, microversion)
        items = body.get(key)
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise OpenStackFetchError(f"{resource}: malformed page from {url}: no list of objects under {key!r}")
        yield url, items
        href = _next_link(body, key, resource, url)
        if not items or href is None:
            return
        next_query = {name: values if len(values) > 1 else values[0]
                      for name, values in parse_qs(urlsplit(href).query, keep_blank_values=True).items()}
        if "marker" in next_query:
            # Our own path: the link's host and scheme may be the service's view, not ours.
            target, query, place = path, next_query, str(next_query["marker"])
        else:
            target, query, place = href, {}, href
        if place in seen:
            raise OpenStackFetchError(f"{resource}: endless pagination from {url}: the next page is {place!r} again")
        seen.add(place)


def _get(adapter: Any, resource: str, path: str, query: Mapping[str, Any],
         microversion: str | None) -> tuple[str, Raw]:
    """GET one page: (the URL asked, the JSON body); OpenStackFetchError unless 200 with a JSON object."""
    kwargs: dict[str, Any] = {"params": dict(query), "headers": {"Accept": "application/json"}}
    if microversion is not None:
        kwargs["microversion"] = microversion
    try:
        response = adapter.get(path, **kwargs)
    except keystoneauth1.exceptions.ConnectionError as exc:
        raise OpenStackFetchError(f"{resource}: GET {path} failed: {exc}") from None
    url = response.url or path
    if response.status_code != 200:
        error = OpenStackFetchError(f"{resource}: GET {url} answered {response.status_code}: "
                                    f"{_error_message(response)}")
        error.status_code = response.status_code
        raise error
    try:
        body = response.json()
    except ValueError:
        raise OpenStackFetchError(f"{resource}: malformed page from {url}: not JSON") from None
    if not isinstance(body, dict):
        raise OpenStackFetchError(f"{resource}: malformed page from {url}: not a JSON object")
    return url, body


def _next_link(body: Raw, key: str, resource: str, url: str) -> str | None:
    """The href of the page after this one, or None when the body links to none.

    Nova and Neutron list `{"rel": "next", "href": ...}` under `<key>_links`; Keystone has
    `links: {"next": href or null}`.
    """
    href: Any = None
    links = body.get(f"{key}_links")
    if isinstance(links, list):
        href = next((link.get("href") for link in links if isinstance(link, dict) and link.get("rel") == "next"),
                    None)
    elif isinstance(body.get("links"), dict):
        href = body["links"].get("next")
    if href is not None and not isinstance(href, str):
        raise OpenStackFetchError(f"{resource}: malformed page from {url}: the next link is not a URL")
    return href


def _error_message(response: Any) -> str:
    """The message of an OpenStack error body (Nova, Neutron and Keystone shapes), else its first line."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and len(body) == 1:
        inner = next(iter(body.values()))
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"][:300]
    text = (response.text or "").strip()
    return (text.splitlines() or ["(empty body)"])[0][:300]


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"the key {exc.args[0]!r}"
    return f"the expected shape ({type(exc).__name__}: {exc})"


# -- one host's resources (the listener's host refresh) ---------------------------------------------

#: Network ids per request when reading a host's networks by id (the ids go in the query string).
IDS_PER_REQUEST = 40


def compute_service(doc: Raw) -> Raw:
    """A Nova compute service (os-services): where it runs and in which zone."""
    return {"host": doc["host"], "binary": doc["binary"], "zone": doc.get("zone"),
            "available": doc.get("state") == "up", "active": doc.get("status") == "enabled",
            "updated_at": doc.get("updated_at")}


def zones_of_services(services: Iterable[Raw]) -> list[Raw]:
    """The availability zone entries (as `zone` makes them) that these services make: each zone with
    its hosts and their services, the shape of os-availability-zone/detail (pure)."""
    zones: dict[str, dict[str, dict[str, Raw]]] = {}
    for found in services:
        if found.get("zone"):
            zones.setdefault(found["zone"], {}).setdefault(found["host"], {})[found["binary"]] = {
                "available": found["available"], "active": found["active"], "updated_at": found["updated_at"]}
    return [{"name": name, "state": {"available": True}, "hosts": hosts} for name, hosts in sorted(zones.items())]


def fetch_host_openstack(connection: openstack.connection.Connection, region_name: str, host: str,
                         page_size: int = PAGE_SIZE) -> RawOpenStack:
    """What the APIs say about one host, every request filtered to it the way each API filters:
    Nova's services on it (`os-services?host=`, which also says its zone), its hypervisor
    (`hypervisor_hostname_pattern=`, then the exact name), its servers (`servers/detail?host=`,
    all projects); Neutron's agents on it (`agents?host=`), the ports bound to it
    (`ports?binding:host_id=`), and the networks and subnets of those ports (by id). What a host
    refresh rewrites (the host's subtree) is made of these alone; regions, projects, aggregates and
    routers live outside it and are not asked for, so a refresh costs the same in a cloud of ten
    hosts or of a thousand."""
    raw = RawOpenStack(region=region_name)
    compute, network_api = connection.compute, connection.network
    services = read_list(compute, "compute services", "/os-services", "services", compute_service, {"host": host})
    raw.zones = zones_of_services(s for s in services if s["host"] == host)
    raw.hypervisors = [h for h in _hypervisors_named(compute, host) if h.get("name") == host]
    raw.servers = read_list(compute, "servers", "/servers/detail", "servers", server,
                            {"all_tenants": 1, "host": host, "limit": page_size}, SERVERS_MICROVERSION)
    raw.agents = read_list(network_api, "agents", "/agents", "agents", agent, {"host": host, "limit": page_size})
    raw.ports = read_list(network_api, "ports", "/ports", "ports", port,
                          {"binding:host_id": host, "limit": page_size})
    network_ids = sorted({p["network_id"] for p in raw.ports if p.get("network_id")})
    for start in range(0, len(network_ids), IDS_PER_REQUEST):
        ids = network_ids[start:start + IDS_PER_REQUEST]
        raw.networks += read_list(network_api, "networks", "/networks", "networks", network,
                                  {"id": ids, "limit": page_size})
        raw.subnets += read_list(network_api, "subnets", "/subnets", "subnets", subnet,
                                 {"network_id": ids, "limit": page_size})
    return raw


def _hypervisors_named(compute: Any, host: str) -> list[Raw]:
    """Hypervisors whose name contains `host` (Nova's pattern is a substring match, which pages not:
    limit and marker are refused with it). Nova answers 404 when none matches: a host without
    nova-compute (a network node) has none."""
    try:
        return read_list(compute, "hypervisors", "/os-hypervisors/detail", "hypervisors", hypervisor,
                         {"hypervisor_hostname_pattern": host}, HYPERVISORS_MICROVERSION)
    except OpenStackFetchError as exc:
        if exc.status_code == 404:
            return []
        raise
