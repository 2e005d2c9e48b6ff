"""Neutron (network API v2.0), simulated: networks, subnets, ports, routers, agents, security groups.

Documents carry the attributes ML2 with the provider, external-net, binding, router and agent
extensions shows an admin. Lists filter by any attribute (repeated values match any), page
with limit/marker/page_reverse and `<resources>_links` as Neutron's native pagination does,
and keep only ?fields= when asked.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response, request

from lab.cloud.http import derived_id, json_response, public, query_lists, url_with
from lab.cloud.listing import Collection, Document, paginate, parse_limit, project, query_key, render_list, select
from lab.cloud.state import docs
from lab.world import Agent, Network, Port, Router, Subnet, World

blueprint = Blueprint("network", __name__, url_prefix="/network")

TIMESTAMP = "2026-01-01T00:00:00Z"
HEARTBEAT = "2026-01-01 00:00:00"  # agents' timestamps have a space and no zone
DEAD_HEARTBEAT = "2025-12-31 23:00:00"
#: Agent type -> its RPC topic, as the agent reports it.
TOPICS = {"DHCP agent": "dhcp_agent", "L3 agent": "l3_agent"}
#: Agents whose availability zone Neutron reports (the schedulable ones).
ZONED_AGENTS = {"DHCP agent", "L3 agent"}
EXTENSIONS = (
    ("agent", "agent", "The agent management extension."),
    ("binding", "Port Binding", "Expose port bindings of a virtual port to external application"),
    ("dhcp_agent_scheduler", "DHCP Agent Scheduler", "Schedule networks among dhcp agents"),
    ("external-net", "Neutron external network", "Adds external network attribute to network resource."),
    ("filter-validation", "Filter parameters validation", "Provides validation on filter parameters."),
    ("l3_agent_scheduler", "L3 Agent Scheduler", "Schedule routers among l3 agents"),
    ("network_availability_zone", "Network Availability Zone", "Availability zone support for network."),
    ("pagination", "Pagination support", "Extension that indicates that pagination is enabled."),
    ("port-security", "Port Security", "Provides port security"),
    ("project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled."),
    ("provider", "Provider Network", "Expose mapping of virtual networks to physical networks"),
    ("router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 Neutron networks "
                                    "and access to external networks via a NAT gateway."),
    ("router_availability_zone", "Router Availability Zone", "Availability zone support for router."),
    ("security-group", "security-group", "The security groups extension."),
    ("standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard "
                                                               "attributes"),
    ("standard-attr-revisions", "Resource revision numbers", "This extension will display the revision number "
                                                             "of neutron resources."),
    ("standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at fields to all Neutron "
                                                       "resources that have Neutron standard attributes."),
)

# The attributes of each resource, which are also the names a filter may use (filter-validation).
NETWORK_FIELDS = (
    "id", "name", "tenant_id", "admin_state_up", "mtu", "status", "subnets", "shared", "availability_zone_hints",
    "availability_zones", "ipv4_address_scope", "ipv6_address_scope", "router:external", "description",
    "port_security_enabled", "qos_policy_id", "l2_adjacency", "is_default", "tags", "created_at", "updated_at",
    "revision_number", "project_id", "provider:network_type", "provider:physical_network",
    "provider:segmentation_id")
SUBNET_FIELDS = (
    "id", "name", "tenant_id", "network_id", "ip_version", "subnetpool_id", "enable_dhcp", "ipv6_ra_mode",
    "ipv6_address_mode", "gateway_ip", "cidr", "allocation_pools", "host_routes", "dns_nameservers", "description",
    "service_types", "segment_id", "tags", "created_at", "updated_at", "revision_number", "project_id")
PORT_FIELDS = (
    "id", "name", "network_id", "tenant_id", "mac_address", "admin_state_up", "status", "device_id", "device_owner",
    "fixed_ips", "allowed_address_pairs", "extra_dhcp_opts", "security_groups", "description", "binding:vnic_type",
    "binding:profile", "binding:host_id", "binding:vif_type", "binding:vif_details", "port_security_enabled",
    "qos_policy_id", "qos_network_policy_id", "resource_request", "ip_allocation", "propagate_uplink_status", "tags",
    "created_at", "updated_at", "revision_number", "project_id")
ROUTER_FIELDS = (
    "id", "name", "tenant_id", "admin_state_up", "status", "external_gateway_info", "description",
    "availability_zones", "availability_zone_hints", "routes", "flavor_id", "distributed", "ha", "tags",
    "created_at", "updated_at", "revision_number", "project_id")
AGENT_FIELDS = (
    "id", "agent_type", "binary", "topic", "host", "admin_state_up", "created_at", "started_at",
    "heartbeat_timestamp", "alive", "description", "configurations", "availability_zone", "resources_synced")
SECURITY_GROUP_FIELDS = (
    "id", "name", "tenant_id", "description", "security_group_rules", "stateful", "shared", "tags", "created_at",
    "updated_at", "revision_number", "project_id")


def allocation_pools(cidr: str, gateway_ip: str | None) -> list[dict[str, str]]:
    """Neutron's default pools: every host address of the subnet except the gateway, as ranges."""
    network = ipaddress.ip_network(cidr)
    if network.num_addresses <= 2:
        return []
    # The network address is never handed out, nor is IPv4's broadcast address.
    first = int(network.network_address) + 1
    last = int(network.broadcast_address) - (1 if network.version == 4 else 0)
    gateway = int(ipaddress.ip_address(gateway_ip)) if gateway_ip else None
    if gateway is not None and first <= gateway <= last:
        ranges = [(first, gateway - 1), (gateway + 1, last)]
    else:
        ranges = [(first, last)]
    make = ipaddress.ip_address
    return [{"start": str(make(start)), "end": str(make(end))} for start, end in ranges if start <= end]


def default_security_group_id(project_id: str) -> str:
    return derived_id("security-group", "default", project_id)


def vif_details(world: World, port: Port, network: Network, vf_number: int | None) -> tuple[dict, dict]:
    """The binding:vif_details and binding:profile ML2 sets for a port bound with its vif_type."""
    if port.vif_type == "ovs":
        hybrid = world.firewall == "hybrid" and world.mechanism_driver == "ovs"
        return ({"connectivity": "l2", "port_filter": True, "ovs_hybrid_plug": hybrid, "datapath_type": "system",
                 "bridge_name": "br-int"}, {})
    if port.vif_type == "bridge":
        return {"connectivity": "l2", "port_filter": True}, {}
    if port.vif_type == "vhostuser":
        return ({"vhostuser_socket": f"/var/run/vpp/vhost-{port.id[:11]}.sock", "vhostuser_mode": "server",
                 "port_filter": False}, {})
    if port.vif_type == "hw_veb":
        profile = {"pci_vendor_info": "8086:154c", "physical_network": network.physical_network}
        if vf_number is not None:
            profile["pci_slot"] = f"0000:05:10.{vf_number}"
        return ({"connectivity": "l2", "port_filter": False, "vlan": str(network.segmentation_id or 0)}, profile)
    return {}, {}


class NetworkDocs:
    """Neutron's documents for one world, as seen at one base URL."""

    def __init__(self, world: World, base: str) -> None:
        self.v20 = f"{base}network/v2.0"
        hosts = {h.name: h for h in world.hosts}
        networks = {n.id: n for n in world.networks}
        zones_of_network: dict[str, set[str]] = {}
        vf_numbers: dict[str, int] = {}
        vfs_per_host: dict[str, int] = {}
        for port in world.ports:
            if port.device_owner == "network:dhcp" and port.binding_host in hosts:
                zones_of_network.setdefault(port.network_id, set()).add(hosts[port.binding_host].availability_zone)
            if port.vnic_type == "direct":
                # The host's VFs are numbered in port order (as lab.hostmodel numbers them).
                vf_numbers[port.id] = vfs_per_host.get(port.binding_host, 0)
                vfs_per_host[port.binding_host] = vf_numbers[port.id] + 1
        gateway_ports = {p.device_id: p for p in world.ports if p.device_owner == "network:router_gateway"}

        self.networks = Collection([self._network(n, sorted(zones_of_network.get(n.id, ()))) for n in world.networks],
                                   fields=NETWORK_FIELDS)
        self.subnets = Collection([self._subnet(s, n) for n in world.networks for s in n.subnets],
                                  fields=SUBNET_FIELDS)
        self.ports = Collection(
            [self._port(world, p, networks[p.network_id], vf_numbers.get(p.id)) for p in world.ports],
            fields=PORT_FIELDS,
            extractors={"ip_address": lambda doc: [f["ip_address"] for f in doc["fixed_ips"]],
                        "subnet_id": lambda doc: [f["subnet_id"] for f in doc["fixed_ips"]]})
        self.routers = Collection(
            [self._router(r, gateway_ports.get(r.id), hosts[r.host].availability_zone) for r in world.routers],
            fields=ROUTER_FIELDS)
        self.agents = Collection([self._agent(a, hosts[a.host].availability_zone) for a in world.agents],
                                 fields=AGENT_FIELDS)
        self.security_groups = Collection([self._security_group(p.id) for p in world.projects],
                                          fields=SECURITY_GROUP_FIELDS)

    @staticmethod
    def _standard(project_id: str) -> dict[str, Any]:
        """Attributes every Neutron resource with standard attributes has."""
        return {"tags": [], "created_at": TIMESTAMP, "updated_at": TIMESTAMP, "revision_number": 1,
                "project_id": project_id}

    def _network(self, network: Network, zones: list[str]) -> Document:
        return {
            "id": network.id, "name": network.name, "tenant_id": network.project_id,
            "admin_state_up": network.admin_state_up, "mtu": network.mtu,
            "status": "ACTIVE" if network.admin_state_up else "DOWN",
            "subnets": [s.id for s in network.subnets], "shared": network.shared,
            "availability_zone_hints": [], "availability_zones": zones,
            "ipv4_address_scope": None, "ipv6_address_scope": None, "router:external": network.external,
            "description": "", "port_security_enabled": True, "qos_policy_id": None, "l2_adjacency": True,
            "is_default": False, **self._standard(network.project_id),
            "provider:network_type": network.network_type, "provider:physical_network": network.physical_network,
            "provider:segmentation_id": network.segmentation_id,
        }

    def _subnet(self, subnet: Subnet, network: Network) -> Document:
        return {
            "id": subnet.id, "name": subnet.name, "tenant_id": network.project_id, "network_id": network.id,
            "ip_version": subnet.ip_version, "subnetpool_id": None, "enable_dhcp": subnet.enable_dhcp,
            "ipv6_ra_mode": None, "ipv6_address_mode": None, "gateway_ip": subnet.gateway_ip, "cidr": subnet.cidr,
            "allocation_pools": allocation_pools(subnet.cidr, subnet.gateway_ip), "host_routes": [],
            "dns_nameservers": [], "description": "", "service_types": [], "segment_id": None,
            **self._standard(network.project_id),
        }

    def _port(self, world: World, port: Port, network: Network, vf_number: int | None) -> Document:
        details, profile = vif_details(world, port, network, vf_number)
        compute = port.device_owner.startswith("compute:")
        return {
            "id": port.id, "name": port.name, "network_id": port.network_id, "tenant_id": port.project_id,
            "mac_address": port.mac_address, "admin_state_up": port.admin_state_up, "status": port.status,
            "device_id": port.device_id, "device_owner": port.device_owner,
            "fixed_ips": [{"subnet_id": f.subnet_id, "ip_address": f.ip_address} for f in port.fixed_ips],
            "allowed_address_pairs": [], "extra_dhcp_opts": [],
            # Only VM ports get the project's default security group; Neutron's own ports have none.
            "security_groups": [default_security_group_id(port.project_id)] if compute else [],
            "description": "", "binding:vnic_type": port.vnic_type, "binding:profile": profile,
            "binding:host_id": port.binding_host, "binding:vif_type": port.vif_type, "binding:vif_details": details,
            "port_security_enabled": compute, "qos_policy_id": None, "qos_network_policy_id": None,
            "resource_request": None, "ip_allocation": "immediate", "propagate_uplink_status": False,
            **self._standard(port.project_id),
        }

    def _router(self, router: Router, gateway: Port | None, zone: str) -> Document:
        info = None
        if router.gateway_network_id:
            info = {"network_id": router.gateway_network_id, "enable_snat": True,
                    "external_fixed_ips": [{"subnet_id": f.subnet_id, "ip_address": f.ip_address}
                                           for f in (gateway.fixed_ips if gateway else [])]}
        return {
            "id": router.id, "name": router.name, "tenant_id": router.project_id,
            "admin_state_up": router.admin_state_up, "status": "ACTIVE" if router.admin_state_up else "DOWN",
            "external_gateway_info": info, "description": "", "availability_zones": [zone],
            "availability_zone_hints": [], "routes": [], "flavor_id": None, "distributed": False, "ha": False,
            **self._standard(router.project_id),
        }

    @staticmethod
    def _agent(agent: Agent, zone: str) -> Document:
        return {
            "id": agent.id, "agent_type": agent.agent_type, "binary": agent.binary,
            "topic": TOPICS.get(agent.agent_type, "N/A"), "host": agent.host, "admin_state_up": agent.admin_state_up,
            "created_at": HEARTBEAT, "started_at": HEARTBEAT,
            "heartbeat_timestamp": HEARTBEAT if agent.alive else DEAD_HEARTBEAT, "alive": agent.alive,
            "description": None, "configurations": agent.configurations,
            "availability_zone": zone if agent.agent_type in ZONED_AGENTS else None, "resources_synced": None,
        }

    def _security_group(self, project_id: str) -> Document:
        return {"id": default_security_group_id(project_id), "name": "default", "tenant_id": project_id,
                "description": "Default security group", "security_group_rules": [], "stateful": True,
                "shared": False, **self._standard(project_id)}


# -- listing -------------------------------------------------------------------------------------

def neutron_error(code: int, kind: str, message: str) -> Response:
    """Neutron's error JSON: {"NeutronError": {"type", "message", "detail"}}."""
    return json_response({"NeutronError": {"type": kind, "message": message, "detail": ""}}, code)


def _not_found(kind: str, item_id: str) -> Response:
    return neutron_error(404, f"{kind}NotFound", f"{kind} {item_id} could not be found.")


#: Query parameters that steer a listing instead of filtering it.
CONTROL_PARAMETERS = {"fields", "limit", "marker", "page_reverse", "sort_key", "sort_dir"}


def list_filters(collection: Collection, params: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    """The (attribute, values) filters of a list request; ValueError names an unknown attribute.

    `fixed_ips=ip_address=10.0.0.5` (and subnet_id=) filters ports by one of their fixed IPs.
    """
    filters = []
    for name, values in params.items():
        if name in CONTROL_PARAMETERS:
            continue
        if name == "fixed_ips":
            for value in values:
                key, _, wanted = value.partition("=")
                if key not in ("ip_address", "subnet_id") or key not in collection.fields:
                    raise ValueError(f"[{name}] is invalid attribute for filtering")
                filters.append((key, [wanted]))
            continue
        if name not in collection.fields:
            raise ValueError(f"[{name}] is invalid attribute for filtering")
        filters.append((name, values))
    return filters


def _list(collection: Collection, key: str, kind: str) -> Response:
    params = query_lists()
    try:
        filters = list_filters(collection, params)
        limit = parse_limit(request.args.get("limit")) or None  # limit=0 means no limit
    except ValueError as exc:
        return neutron_error(400, "HTTPBadRequest", str(exc))
    reverse = query_key(request.args.get("page_reverse", "false"), boolean=True) == "true"
    marker = request.args.get("marker")
    after = None
    if marker is not None:
        after = collection.position.get(marker)
        if after is None:
            return _not_found(kind, marker)
    page, _ = paginate(select(collection, filters), after, limit, reverse=reverse)
    fields = params.get("fields", [])
    if fields:
        items = (json.dumps(project(collection.docs[p], fields)) for p in page)
    else:
        items = (collection.encoded(p) for p in page)
    extra = None
    if limit:
        extra = {f"{key}_links": pagination_links(f"{docs(NetworkDocs).v20}/{key.replace('_', '-')}", params,
                                                  [str(collection.docs[p]["id"]) for p in page], limit, reverse)}
    return json_response(render_list(key, items, extra))


def pagination_links(url: str, params: dict[str, list[str]], ids: Sequence[str], limit: int,
                     reverse: bool) -> list[dict[str, str]]:
    """Neutron's next and previous links for a page holding ids.

    Neutron links to the next page whenever this one is full (so the last full page links to an
    empty one), and to the previous page always, except backwards from a page that is not full.
    """
    marker = params.get("marker", [""])[0]
    links = []
    if not (len(ids) < limit and not reverse):
        forward = {k: v for k, v in params.items() if k not in ("marker", "page_reverse")}
        forward["marker"] = [ids[-1] if ids else marker]
        links.append({"rel": "next", "href": url_with(url, forward)})
    if not (len(ids) < limit and reverse):
        backward = {k: v for k, v in params.items() if k not in ("marker", "page_reverse")}
        backward["marker"] = [ids[0] if ids else marker]
        backward["page_reverse"] = ["True"]
        links.append({"rel": "previous", "href": url_with(url, backward)})
    return links


def _show(collection: Collection, key: str, kind: str, item_id: str) -> Response:
    doc = collection.get(item_id)
    if doc is None:
        return _not_found(kind, item_id)
    fields = request.args.getlist("fields")
    return json_response({key: project(doc, fields) if fields else doc})


# -- routes --------------------------------------------------------------------------------------

#: (collection attribute of NetworkDocs, plural key and path, singular key, NotFound kind)
RESOURCES = (
    ("networks", "networks", "network", "Network"),
    ("subnets", "subnets", "subnet", "Subnet"),
    ("ports", "ports", "port", "Port"),
    ("routers", "routers", "router", "Router"),
    ("agents", "agents", "agent", "Agent"),
    ("security_groups", "security_groups", "security_group", "SecurityGroup"),
)


def _register(attribute: str, plural: str, singular: str, kind: str) -> None:
    path = plural.replace("_", "-")

    def list_view() -> Response:
        return _list(getattr(docs(NetworkDocs), attribute), plural, kind)

    def show_view(item_id: str) -> Response:
        return _show(getattr(docs(NetworkDocs), attribute), singular, kind, item_id)

    blueprint.add_url_rule(f"/v2.0/{path}", f"list_{attribute}", list_view)
    blueprint.add_url_rule(f"/v2.0/{path}/<item_id>", f"show_{attribute}", show_view)


for _resource in RESOURCES:
    _register(*_resource)


@blueprint.get("/", strict_slashes=False)
@public
def versions() -> Response:
    return json_response({"versions": [{"id": "v2.0", "status": "CURRENT",
                                        "links": [{"rel": "self", "href": f"{request.url_root}network/v2.0/"}]}]})


@blueprint.get("/v2.0", strict_slashes=False)
def version() -> Response:
    v20 = f"{request.url_root}network/v2.0"
    resources = [{"name": singular, "collection": plural,
                  "links": [{"rel": "self", "href": f"{v20}/{plural.replace('_', '-')}"}]}
                 for _, plural, singular, _ in RESOURCES]
    return json_response({"resources": resources})


@blueprint.get("/v2.0/extensions")
def extensions() -> Response:
    return json_response({"extensions": [{"alias": alias, "name": name, "description": description,
                                          "updated": "2024-01-01T10:00:00-00:00", "links": []}
                                         for alias, name, description in EXTENSIONS]})

