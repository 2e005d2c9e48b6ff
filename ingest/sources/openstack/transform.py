"""OpenStack API resources -> inventory documents (pure). Ids follow graphmodel/schema.py's id rules."""

from __future__ import annotations

from typing import Any

from graphmodel.tree import folder_document
from ingest.sources.openstack.fetch import RawOpenStack

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


def openstack_objects(raw: RawOpenStack) -> list[Document]:
    """Every object the APIs describe, with its folders, each type by its producer in the order
    ingest/hierarchy.py declares; tree paths are assigned later."""
    from ingest.hierarchy import openstack_documents  # the hierarchy names this module's producers

    return openstack_documents(raw)


def regions(raw: RawOpenStack) -> list[Document]:
    names = {r["id"] for r in raw.regions} | {raw.region}
    return [folder_document("", "environment", "regions", "region")] + [
        {"id": f"region:{name}", "type": "region", "name": name, "parent_id": "regions", "parent_type": "folder"}
        for name in sorted(names)]


def projects(raw: RawOpenStack) -> list[Document]:
    return [folder_document("", "environment", "projects", "project")] + [
        {"id": p["id"], "type": "project", "name": p["name"], "parent_id": "projects", "parent_type": "folder",
         "domain_id": p.get("domain_id"), "enabled": p.get("is_enabled", True)} for p in raw.projects]


def zones(raw: RawOpenStack) -> list[Document]:
    region = f"region:{raw.region}"
    return [{"id": f"az:{raw.region}:{zone['name']}", "type": "availability_zone", "name": zone["name"],
             "parent_id": region, "parent_type": "region", "hosts": sorted(zone.get("hosts") or {})}
            for zone in raw.zones]


def aggregates(raw: RawOpenStack) -> list[Document]:
    """Nova host aggregates under the region's aggregates folder; ids from Nova's immutable integer id."""
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
        agents.setdefault(agent["host"], set()).add(agent["agent_type"])
    ips = {h["name"]: h.get("host_ip") for h in raw.hypervisors}
    docs: list[Document] = []
    for host in sorted(set(services) | set(agents)):
        zone = zone_of.get(host, INTERNAL_ZONE)
        doc = {"id": host, "type": "host", "name": host, "parent_id": f"az:{raw.region}:{zone}",
               "parent_type": "availability_zone", "host": host,
               "host_type": host_types(services.get(host, set()), agents.get(host, set())),
               "services": sorted(services.get(host, set()))}
        if ips.get(host):
            doc["ip_address"] = ips[host]
        docs.append(doc)
    return docs


def instances(raw: RawOpenStack) -> list[Document]:
    docs: list[Document] = []
    for server in raw.servers:
        host = server.get("compute_host") or server.get("hypervisor_hostname")
        if not host:
            continue  # not scheduled yet: nothing on a host to discover
        docs.append(folder_document(host, "host", "instances", "instance", host))
        docs.append({
            "id": server["id"], "type": "instance", "name": server["name"], "parent_id": f"{host}/instances",
            "parent_type": "folder", "host": host, "uuid": server["id"], "local_name": server.get("instance_name"),
            "project_id": server.get("project_id"), "vm_state": server.get("vm_state"),
            "power_state": server.get("power_state"), "flavor": (server.get("flavor") or {}).get("original_name"),
            "image": (server.get("image") or {}).get("id"),
            "network_info": [{"network": label, "ip": address.get("addr"), "mac": address.get("OS-EXT-IPS-MAC:mac_addr")}
                             for label, addresses in (server.get("addresses") or {}).items() for address in addresses],
        })
    return docs


def networks_and_ports(raw: RawOpenStack) -> list[Document]:
    """Networks, then ports (the listener's one call for both)."""
    return networks(raw) + ports(raw)


def networks(raw: RawOpenStack) -> list[Document]:
    cidrs = {s["id"]: s.get("cidr") for s in raw.subnets}
    docs: list[Document] = []
    for network in raw.networks:
        project = network.get("project_id") or "shared"
        docs.append(folder_document(project, "project", "networks", "network"))
        docs.append({
            "id": network["id"], "type": "network", "name": network["name"], "parent_id": f"{project}/networks",
            "parent_type": "folder", "project_id": project, "network_type": network.get("provider_network_type"),
            "segmentation_id": network.get("provider_segmentation_id"),
            "physical_network": network.get("provider_physical_network"), "mtu": network.get("mtu"),
            "external": bool(network.get("is_router_external")),
            "subnets": sorted(network.get("subnet_ids") or []),
            "cidrs": [cidrs[s] for s in network.get("subnet_ids") or [] if s in cidrs],
        })
    return docs


def ports(raw: RawOpenStack) -> list[Document]:
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


def agents(raw: RawOpenStack) -> list[Document]:
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
