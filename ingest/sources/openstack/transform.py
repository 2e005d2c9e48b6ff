"""OpenStack API resources -> inventory documents (pure). Ids follow graphmodel/schema.py's id rules."""

from __future__ import annotations

from typing import Any

from graphmodel.tree import folder_document
from ingest.sources.openstack.fetch import OpenStackFetchError, RawOpenStack

Document = dict[str, Any]

CONTROL_SERVICES = {"nova-conductor", "nova-scheduler", "nova-api", "nova-consoleauth", "nova-cert"}
NETWORK_AGENTS = {"L3 agent", "DHCP agent"}
INTERNAL_ZONE = "internal"


def host_types(services: set[str], agent_types: set[str]) -> list[str]:
    """A host's roles from what runs on it: nova-compute, control services, L3/DHCP agents."""
    roles = set()
    if "nova-compute" in services:
        roles.add("Compute")
    if services & CONTROL_SERVICES:
        roles.add("Controller")
    if agent_types & NETWORK_AGENTS:
        roles.add("Network")
    return sorted(roles)


# -- what the producers may expect of the cloud's answers ------------------------------------------------
# The APIs are a hostile cloud's to answer: a field of another type (a list where a name goes, a
# number of 30 digits) must be a clear error naming the resource, the item and the field, not a
# TypeError deep in a producer or an OverflowError when the inventory is written.

_NUMBER = (int,)
_TEXT = (str,)
#: Per resource, the type of each field a producer reads (None is always allowed but for REQUIRED).
FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "regions": {"id": _TEXT},
    "projects": {"id": _TEXT, "name": _TEXT, "domain_id": _TEXT, "is_enabled": (bool,)},
    "zones": {"name": _TEXT, "hosts": (dict,)},
    "aggregates": {"id": (int, str), "name": _TEXT, "uuid": _TEXT, "availability_zone": _TEXT, "hosts": (list,),
                   "metadata": (dict,)},
    "hypervisors": {"name": _TEXT, "host_ip": _TEXT},
    "servers": {"id": _TEXT, "name": _TEXT, "compute_host": _TEXT, "hypervisor_hostname": _TEXT,
                "instance_name": _TEXT, "project_id": _TEXT, "vm_state": _TEXT, "power_state": _NUMBER,
                "flavor": (dict,), "image": (dict, str), "addresses": (dict,)},  # image "": booted from a volume
    "networks": {"id": _TEXT, "name": _TEXT, "project_id": _TEXT, "provider_network_type": _TEXT,
                 "provider_segmentation_id": _NUMBER, "provider_physical_network": _TEXT, "mtu": _NUMBER,
                 "is_router_external": (bool,), "subnet_ids": (list,)},
    "subnets": {"id": _TEXT, "cidr": _TEXT},
    "ports": {"id": _TEXT, "name": _TEXT, "network_id": _TEXT, "binding_host_id": _TEXT, "mac_address": _TEXT,
              "device_owner": _TEXT, "device_id": _TEXT, "binding_vif_type": _TEXT, "status": _TEXT,
              "fixed_ips": (list,)},
    "routers": {"id": _TEXT, "name": _TEXT, "project_id": _TEXT, "status": _TEXT, "is_admin_state_up": (bool,),
                "external_gateway_info": (dict,), "availability_zones": (list,), "is_ha": (bool,),
                "is_distributed": (bool,)},
    "agents": {"id": _TEXT, "host": _TEXT, "agent_type": _TEXT, "binary": _TEXT, "is_alive": (bool,),
               "configuration": (dict,)},
}
#: Fields without which an item means nothing (ids, and what parents it).
REQUIRED = {"regions": ("id",), "projects": ("id",), "zones": ("name",), "aggregates": ("id",),
            "servers": ("id",), "networks": ("id",), "subnets": ("id",), "ports": ("id", "network_id"),
            "routers": ("id",), "agents": ("id", "host")}
#: The members of container fields: (resource, field) -> the type of each member (of a dict: each value).
MEMBERS: dict[tuple[str, str], tuple[type, ...]] = {
    ("zones", "hosts"): (dict,), ("aggregates", "hosts"): _TEXT, ("servers", "addresses"): (list,),
    ("networks", "subnet_ids"): _TEXT, ("ports", "fixed_ips"): (dict,), ("routers", "availability_zones"): _TEXT,
}
_MAX_DEPTH = 32  # metadata and agent configurations are stored whole: nothing sane nests deeper


def _storable(value: Any, depth: int = 0) -> str | None:
    """Why `value` cannot be stored in MongoDB as it is (a number beyond 64 bits, nesting deeper than
    _MAX_DEPTH, a non-finite real), or None."""
    if depth > _MAX_DEPTH:
        return "nested too deeply"
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    if isinstance(value, int):
        return None if -(2**63) <= value < 2**63 else "a number beyond 64 bits"
    if isinstance(value, float):
        return None if value == value and abs(value) != float("inf") else "a number that is not finite"
    members = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return next((why for why in (_storable(m, depth + 1) for m in members) if why), None)


def _names(types: tuple[type, ...]) -> str:
    return " or ".join({"str": "a string", "int": "an integer", "bool": "true/false", "dict": "an object",
                        "list": "a list"}[t.__name__] for t in types)


def check(raw: RawOpenStack, *resources: str) -> None:
    """Raise OpenStackFetchError naming the resource, item and field when an item of `resources` holds
    what its API never returns. Each resource is checked once per RawOpenStack."""
    done: set[str] = raw.__dict__.setdefault("_checked", set())
    for resource in resources:
        if resource in done:
            continue
        for position, item in enumerate(getattr(raw, resource)):
            name = item.get("id", item.get("name", f"#{position + 1}")) if isinstance(item, dict) else position
            where = f"{resource}: item {name!r:.60}"
            if not isinstance(item, dict):
                raise OpenStackFetchError(f"{resource}: item #{position + 1} is not an object")
            for field, types in FIELDS.get(resource, {}).items():
                value = item.get(field)
                if value is None:
                    if field in REQUIRED.get(resource, ()):
                        raise OpenStackFetchError(f"{where}: has no {field!r}")
                    continue
                if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                    raise OpenStackFetchError(f"{where}: {field!r} is {value!r:.60}, expected {_names(types)}")
                member_types = MEMBERS.get((resource, field))
                members = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
                if member_types and not all(isinstance(m, member_types) for m in members):
                    raise OpenStackFetchError(f"{where}: {field!r} holds something other than {_names(member_types)}")
                why = _storable(value)
                if why:
                    raise OpenStackFetchError(f"{where}: {field!r} holds {why}")
        done.add(resource)


def regions(raw: RawOpenStack) -> list[Document]:
    check(raw, "regions")
    names = {r["id"] for r in raw.regions} | {raw.region}
    return [folder_document("", "environment", "regions", "region")] + [
        {"id": f"region:{name}", "type": "region", "name": name, "parent_id": "regions", "parent_type": "folder"}
        for name in sorted(names)]


def projects(raw: RawOpenStack) -> list[Document]:
    check(raw, "projects")
    return [folder_document("", "environment", "projects", "project")] + [
        {"id": p["id"], "type": "project", "name": p.get("name"), "parent_id": "projects", "parent_type": "folder",
         "domain_id": p.get("domain_id"), "enabled": p.get("is_enabled", True)} for p in raw.projects]


def zones(raw: RawOpenStack) -> list[Document]:
    check(raw, "zones")
    region = f"region:{raw.region}"
    return [{"id": f"az:{raw.region}:{zone['name']}", "type": "availability_zone", "name": zone["name"],
             "parent_id": region, "parent_type": "region", "hosts": sorted(zone.get("hosts") or {})}
            for zone in raw.zones]


def aggregates(raw: RawOpenStack) -> list[Document]:
    """Nova host aggregates under the region's aggregates folder; ids from Nova's immutable integer id."""
    check(raw, "aggregates")
    region = f"region:{raw.region}"
    docs: list[Document] = []
    for aggregate in raw.aggregates:
        docs.append(folder_document(region, "region", "aggregates", "aggregate"))
        docs.append({"id": f"aggregate:{raw.region}:{aggregate['id']}", "type": "aggregate",
                     "name": aggregate.get("name") or str(aggregate["id"]),
                     "parent_id": f"{region}/aggregates", "parent_type": "folder",
                     "uuid": aggregate.get("uuid"), "availability_zone": aggregate.get("availability_zone"),
                     "hosts": sorted(aggregate.get("hosts") or []), "metadata": aggregate.get("metadata") or {}})
    return docs


def hosts(raw: RawOpenStack) -> list[Document]:
    """Hosts from the zones' services and the Neutron agents; each in the zone of its compute service."""
    check(raw, "zones", "agents", "hypervisors")
    services: dict[str, set[str]] = {}
    zone_of: dict[str, str] = {}
    for zone in raw.zones:
        for host, host_services in (zone.get("hosts") or {}).items():
            services.setdefault(host, set()).update(host_services)
            # A host in several zones belongs where its compute service is.
            if host not in zone_of or "nova-compute" in host_services:
                zone_of[host] = zone["name"]
    agents: dict[str, set[str]] = {}
    for agent in raw.agents:
        agents.setdefault(agent["host"], set()).add(str(agent.get("agent_type") or ""))
    ips = {h.get("name"): h.get("host_ip") for h in raw.hypervisors}
    docs: list[Document] = []
    for host in sorted(set(services) | set(agents)):
        zone_name = zone_of.get(host, INTERNAL_ZONE)
        doc: Document = {"id": host, "type": "host", "name": host, "parent_id": f"az:{raw.region}:{zone_name}",
               "parent_type": "availability_zone", "host": host,
               "host_type": host_types(services.get(host, set()), agents.get(host, set())),
               "services": sorted(services.get(host, set()))}
        if ips.get(host):
            doc["ip_address"] = ips[host]
        docs.append(doc)
    return docs


def instances(raw: RawOpenStack) -> list[Document]:
    check(raw, "servers")
    docs: list[Document] = []
    for server in raw.servers:
        host = server.get("compute_host") or server.get("hypervisor_hostname")
        if not host:
            continue  # not scheduled yet: nothing on a host to discover
        docs.append(folder_document(host, "host", "instances", "instance", host))
        docs.append({
            "id": server["id"], "type": "instance", "name": server.get("name"), "parent_id": f"{host}/instances",
            "parent_type": "folder", "host": host, "uuid": server["id"], "local_name": server.get("instance_name"),
            "project_id": server.get("project_id"), "vm_state": server.get("vm_state"),
            "power_state": server.get("power_state"), "flavor": (server.get("flavor") or {}).get("original_name"),
            "image": server["image"].get("id") if isinstance(server.get("image"), dict) else None,
            "network_info": [{"network": label, "ip": address.get("addr"), "mac": address.get("OS-EXT-IPS-MAC:mac_addr")}
                             for label, addresses in (server.get("addresses") or {}).items() for address in addresses
                             if isinstance(address, dict)],
        })
    return docs


def networks_and_ports(raw: RawOpenStack) -> list[Document]:
    """Networks, then ports (the listener's one call for both)."""
    return networks(raw) + ports(raw)


def networks(raw: RawOpenStack) -> list[Document]:
    check(raw, "networks", "subnets")
    cidrs = {s["id"]: s.get("cidr") for s in raw.subnets}
    docs: list[Document] = []
    for network in raw.networks:
        project = network.get("project_id") or "shared"
        docs.append(folder_document(project, "project", "networks", "network"))
        docs.append({
            "id": network["id"], "type": "network", "name": network.get("name"), "parent_id": f"{project}/networks",
            "parent_type": "folder", "project_id": project, "network_type": network.get("provider_network_type"),
            "segmentation_id": network.get("provider_segmentation_id"),
            "physical_network": network.get("provider_physical_network"), "mtu": network.get("mtu"),
            "external": bool(network.get("is_router_external")),
            "subnets": sorted(network.get("subnet_ids") or []),
            "cidrs": [cidrs[s] for s in network.get("subnet_ids") or [] if s in cidrs],
        })
    return docs


def ports(raw: RawOpenStack) -> list[Document]:
    check(raw, "ports")
    docs: list[Document] = []
    for port in raw.ports:
        docs.append(folder_document(port["network_id"], "network", "ports", "port"))
        docs.append({
            "id": port["id"], "type": "port", "name": port.get("name") or port["id"],
            "parent_id": f"{port['network_id']}/ports", "parent_type": "folder",
            "host": port.get("binding_host_id") or None, "network_id": port["network_id"],
            "mac_address": port.get("mac_address"), "device_owner": port.get("device_owner"),
            "device_id": port.get("device_id"), "binding_host": port.get("binding_host_id"),
            "vif_type": port.get("binding_vif_type"), "status": port.get("status"),
            "fixed_ips": [f.get("ip_address") for f in port.get("fixed_ips") or []],
        })
    return docs


def routers(raw: RawOpenStack) -> list[Document]:
    """Neutron routers under their project's routers folder (where each runs is its qrouter vservice)."""
    check(raw, "routers")
    docs: list[Document] = []
    for router in raw.routers:
        project = router.get("project_id") or "shared"
        gateway = router.get("external_gateway_info")
        docs.append(folder_document(project, "project", "routers", "router"))
        docs.append({
            "id": router["id"], "type": "router", "name": router.get("name") or router["id"],
            "parent_id": f"{project}/routers", "parent_type": "folder", "project_id": project,
            "status": router.get("status"), "admin_state_up": router.get("is_admin_state_up"),
            "gateway_network_id": gateway.get("network_id") if isinstance(gateway, dict) else None,
            "ha": router.get("is_ha"), "distributed": router.get("is_distributed"),
            "availability_zones": sorted(router.get("availability_zones") or []),
        })
    return docs


def agents(raw: RawOpenStack) -> list[Document]:
    check(raw, "agents")
    docs: list[Document] = []
    for agent in raw.agents:
        host = agent["host"]
        docs.append(folder_document(host, "host", "network_agents", "network_agent", host))
        docs.append({"id": agent["id"], "type": "network_agent", "name": agent.get("binary"),
                     "parent_id": f"{host}/network_agents", "parent_type": "folder", "host": host,
                     "agent_type": agent.get("agent_type"), "binary": agent.get("binary"),
                     "alive": agent.get("is_alive"), "configurations": agent.get("configuration") or {}})
    return docs


def dedupe(docs: list[Document]) -> list[Document]:
    """Folders are emitted once per child; keep the first of each id."""
    seen: dict[str, Document] = {}
    for doc in docs:
        seen.setdefault(doc["id"], doc)
    return list(seen.values())
