"""Nova (compute API v2.1), simulated: servers, hypervisors, availability zones, services, flavors, aggregates.

Documents are shaped as Nova 2024.1 returns them to an admin, at the microversion asked for
(2.1 to 2.96): servers gain and lose their microversioned attributes (the flavor by reference
before 2.47, pinned_availability_zone from 2.96, ...), hypervisors drop their usage figures
and gain uptime from 2.88.
Lists page as Nova does: newest server first, at most 1000 per page, and a `<key>_links` next
link whenever a page is full.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import Any

from flask import Blueprint, Response, g, request

from lab.cloud.http import derived_id, json_response, public, query_lists, url_with
from lab.cloud.identity import admin_user_id
from lab.cloud.listing import Collection, Document, paginate, parse_limit, render_list, select
from lab.cloud.state import docs, state
from lab.world import Host, Instance, World

blueprint = Blueprint("compute", __name__, url_prefix="/compute")

MIN_VERSION = (2, 1)
MAX_VERSION = (2, 96)  # Nova 2024.1 (Caracal)
MAX_LIMIT = 1000  # Nova's [api] max_limit
DEFAULT_ZONE = "nova"  # Nova's default_availability_zone: hosts in it need no aggregate
INTERNAL_ZONE = "internal"  # where Nova lists its control services
TIMESTAMP = "2026-01-01T00:00:00.000000"
#: Devstack's flavors: name -> (flavorid, vcpus, ram MB, disk GB).
FLAVORS = {
    "m1.tiny": ("1", 1, 512, 1), "m1.small": ("2", 1, 2048, 20), "m1.medium": ("3", 2, 4096, 40),
    "m1.large": ("4", 4, 8192, 80), "m1.xlarge": ("5", 8, 16384, 160), "m1.nano": ("42", 1, 128, 1),
    "m1.micro": ("84", 1, 192, 1), "cirros256": ("c1", 1, 256, 1), "ds512M": ("d1", 1, 512, 5),
    "ds1G": ("d2", 1, 1024, 10), "ds2G": ("d3", 2, 2048, 10), "ds4G": ("d4", 4, 4096, 20),
}
#: vm_state -> the status Nova shows (nova.api.openstack.common's state map, task_state unset).
STATUS_BY_VM_STATE = {
    "active": "ACTIVE", "building": "BUILD", "stopped": "SHUTOFF", "resized": "VERIFY_RESIZE",
    "paused": "PAUSED", "suspended": "SUSPENDED", "rescued": "RESCUE", "error": "ERROR",
    "deleted": "DELETED", "soft-delete": "SOFT_DELETED", "shelved": "SHELVED",
    "shelved_offloaded": "SHELVED_OFFLOADED",
}
#: Server attributes that microversions added -> the first microversion that shows them.
SERVER_ATTRIBUTES_SINCE = {
    "OS-EXT-SRV-ATTR:hostname": (2, 3), "OS-EXT-SRV-ATTR:reservation_id": (2, 3),
    "OS-EXT-SRV-ATTR:launch_index": (2, 3), "OS-EXT-SRV-ATTR:kernel_id": (2, 3),
    "OS-EXT-SRV-ATTR:ramdisk_id": (2, 3), "OS-EXT-SRV-ATTR:root_device_name": (2, 3),
    "OS-EXT-SRV-ATTR:user_data": (2, 3), "locked": (2, 9), "host_status": (2, 16), "description": (2, 19),
    "tags": (2, 26), "trusted_image_certificates": (2, 63), "locked_reason": (2, 73),
    "pinned_availability_zone": (2, 96),
}
FLAVOR_EMBEDDED_SINCE = (2, 47)  # before, a server names its flavor by id and link
SERVER_ATTRIBUTE_THRESHOLDS = sorted(set(SERVER_ATTRIBUTES_SINCE.values()) | {FLAVOR_EMBEDDED_SINCE})
#: Flavor attributes that microversions added; before 2.75 a swap of 0 reads "".
FLAVOR_ATTRIBUTES_SINCE = {"description": (2, 55), "extra_specs": (2, 61)}
SWAP_AS_NUMBER_SINCE = (2, 75)
#: From 2.75 a hypervisor listed ?with_servers=true has a servers list even when it is empty.
EMPTY_SERVERS_LISTED_SINCE = (2, 75)
#: Hypervisor usage figures, which 2.88 dropped (placement has them); 2.88 added uptime instead.
HYPERVISOR_USAGE_UNTIL = (2, 88)
HYPERVISOR_USAGE_ATTRIBUTES = (
    "vcpus", "vcpus_used", "memory_mb", "memory_mb_used", "free_ram_mb", "local_gb", "local_gb_used",
    "free_disk_gb", "disk_available_least", "current_workload", "running_vms")
#: Host role -> the Nova services it runs, as (binary, zone or None for the host's own zone).
SERVICES_BY_ROLE = {"controller": (("nova-scheduler", INTERNAL_ZONE), ("nova-conductor", INTERNAL_ZONE)),
                    "compute": (("nova-compute", None),)}


class MicroversionError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def version_text(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def requested_microversion(headers: Any) -> tuple[int, int]:
    """The compute microversion a request asks for (either header; none means 2.1), or MicroversionError."""
    raw = None
    for part in (headers.get("OpenStack-API-Version") or "").split(","):
        words = part.split()
        if len(words) == 2 and words[0].lower() == "compute":
            raw = words[1]
    if raw is None:
        raw = headers.get("X-OpenStack-Nova-API-Version")
    if raw is None:
        return MIN_VERSION
    if raw.strip().lower() == "latest":
        return MAX_VERSION
    match = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", raw)
    if not match:
        raise MicroversionError(400, f"Invalid API version request string: {raw}")
    version = (int(match.group(1)), int(match.group(2)))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise MicroversionError(406, f"Version {raw} is not supported by the API. Minimum is "
                                     f"{version_text(MIN_VERSION)} and maximum is {version_text(MAX_VERSION)}.")
    return version


def fault(code: int, message: str) -> Response:
    """Nova's error JSON: {"<fault name>": {"code", "message"}}."""
    names = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound", 405: "badMethod",
             409: "conflictingRequest", 413: "overLimit", 415: "badMediaType", 429: "overLimit",
             501: "notImplemented", 503: "serviceUnavailable"}
    return json_response({names.get(code, "computeFault"): {"code": code, "message": message}}, code)


def host_id(project_id: str, host: str) -> str:
    """Nova's hostId: an opaque per-project hash of the host name."""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


class ComputeDocs:
    """Nova's documents for one world, as seen at one base URL."""

    def __init__(self, world: World, base: str) -> None:
        self.root = f"{base}compute"
        self.v21 = f"{self.root}/v2.1"
        hosts = {h.name: h for h in world.hosts}
        self.user_id = admin_user_id()
        flavor_names = list(FLAVORS) + sorted({i.flavor for i in world.instances} - set(FLAVORS))
        self.flavor_specs = {name: FLAVORS.get(name, (derived_id("flavor", name), 1, 512, 1)) for name in flavor_names}
        flavors = sorted((self._flavor(name) for name in flavor_names), key=lambda f: f["id"])
        self.flavors = Collection(flavors, fields=flavors[0].keys())
        # Before 2.47 a server names its flavor by reference instead of embedding it.
        self.flavor_refs = {name: {"id": spec[0], "links": [{"href": f"{self.root}/flavors/{spec[0]}",
                                                              "rel": "bookmark"}]}
                            for name, spec in self.flavor_specs.items()}

        networks = {n.id: n for n in world.networks}
        ports = {p.id: p for p in world.ports}
        ordered = sorted(world.instances, key=lambda i: (i.created, i.id), reverse=True)
        servers = [self._server(i, hosts[i.host], networks, ports) for i in ordered]
        self.servers = Collection(servers, fields=servers[0].keys() if servers else (), extractors={
            "flavor": lambda doc: (self.flavor_specs[doc["flavor"]["original_name"]][0],),
            "image": lambda doc: (doc["image"]["id"],),
        })

        computes = [h for h in world.hosts if "compute" in h.roles]
        by_host: dict[str, list[Instance]] = {}
        for instance in world.instances:
            by_host.setdefault(instance.host, []).append(instance)
        hypervisors = [self._hypervisor(h, by_host.get(h.name, [])) for h in computes]
        self.hypervisor_servers = {h["id"]: [{"name": i.libvirt_name, "uuid": i.id} for i in by_host.get(name, [])]
                                   for h, name in zip(hypervisors, (c.name for c in computes), strict=True)}
        self.hypervisors = Collection(hypervisors, fields=hypervisors[0].keys() if hypervisors else ())

        self.services = [self._service(h, binary, zone or h.availability_zone)
                         for h in world.hosts for role in h.roles for binary, zone in SERVICES_BY_ROLE.get(role, ())]
        self.zones = self._zones(world)
        self.aggregates = self._aggregates(world)

    # -- documents -------------------------------------------------------------------------------

    def _links(self, kind: str, item_id: str) -> list[dict[str, str]]:
        return [{"href": f"{self.v21}/{kind}/{item_id}", "rel": "self"},
                {"href": f"{self.root}/{kind}/{item_id}", "rel": "bookmark"}]

    def _flavor(self, name: str) -> Document:
        flavor_id, vcpus, ram, disk = self.flavor_specs[name]
        return {"id": flavor_id, "name": name, "ram": ram, "disk": disk, "swap": 0,
                "OS-FLV-EXT-DATA:ephemeral": 0, "OS-FLV-DISABLED:disabled": False, "vcpus": vcpus,
                "os-flavor-access:is_public": True, "rxtx_factor": 1.0, "links": self._links("flavors", flavor_id),
                "description": None, "extra_specs": {}}

    def _server(self, instance: Instance, host: Host, networks: dict, ports: dict) -> Document:
        addresses: dict[str, list[dict[str, Any]]] = {}
        for port_id in instance.port_ids:
            port = ports[port_id]
            entries = addresses.setdefault(networks[port.network_id].name, [])
            for fixed in port.fixed_ips:
                entries.append({"version": ipaddress.ip_address(fixed.ip_address).version, "addr": fixed.ip_address,
                                "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": port.mac_address})
        _, vcpus, ram, disk = self.flavor_specs[instance.flavor]
        image_id = derived_id("image", instance.image)
        return {
            "id": instance.id,
            "name": instance.name,
            "status": STATUS_BY_VM_STATE.get(instance.vm_state, "UNKNOWN"),
            "tenant_id": instance.project_id,
            "user_id": self.user_id,
            "metadata": {},
            "hostId": host_id(instance.project_id, instance.host),
            "image": {"id": image_id, "links": [{"href": f"{self.root}/images/{image_id}", "rel": "bookmark"}]},
            "flavor": {"vcpus": vcpus, "ram": ram, "disk": disk, "ephemeral": 0, "swap": 0,
                       "original_name": instance.flavor, "extra_specs": {}},
            "created": instance.created,
            "updated": instance.created,
            "addresses": addresses,
            "accessIPv4": "",
            "accessIPv6": "",
            "links": self._links("servers", instance.id),
            "OS-DCF:diskConfig": "MANUAL",
            "progress": 0,
            "OS-EXT-AZ:availability_zone": host.availability_zone,
            "config_drive": "",
            "key_name": None,
            "OS-SRV-USG:launched_at": instance.created.rstrip("Z") + ".000000",
            "OS-SRV-USG:terminated_at": None,
            "OS-EXT-SRV-ATTR:host": instance.host,
            "OS-EXT-SRV-ATTR:instance_name": instance.libvirt_name,
            "OS-EXT-SRV-ATTR:hypervisor_hostname": instance.host,
            "OS-EXT-SRV-ATTR:reservation_id": "r-" + derived_id("reservation", instance.id, hex_only=True)[:8],
            "OS-EXT-SRV-ATTR:launch_index": 0,
            "OS-EXT-SRV-ATTR:hostname": re.sub(r"[^a-z0-9-]+", "-", instance.name.lower()).strip("-"),
            "OS-EXT-SRV-ATTR:kernel_id": "",
            "OS-EXT-SRV-ATTR:ramdisk_id": "",
            "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
            "OS-EXT-SRV-ATTR:user_data": None,
            "OS-EXT-STS:task_state": None,
            "OS-EXT-STS:vm_state": instance.vm_state,
            "OS-EXT-STS:power_state": instance.power_state,
            "os-extended-volumes:volumes_attached": [],
            "locked": False,
            "locked_reason": None,
            "description": None,
            "tags": [],
            "trusted_image_certificates": None,
            "host_status": "UP",
            "security_groups": [{"name": "default"}],
            "pinned_availability_zone": None,
        }

    def server_shape(self, version: tuple[int, int]) -> tuple[str, Callable[[Document], Document] | None]:
        """How a server document looks at a microversion: a variant name for caching, and the
        transform from the newest shape (None when it is the newest)."""
        bucket = max((since for since in SERVER_ATTRIBUTE_THRESHOLDS if since <= version), default=MIN_VERSION)
        if bucket == max(SERVER_ATTRIBUTE_THRESHOLDS):
            return "", None
        hidden = [name for name, since in SERVER_ATTRIBUTES_SINCE.items() if since > version]

        def shape(doc: Document) -> Document:
            shaped = {name: value for name, value in doc.items() if name not in hidden}
            if version < FLAVOR_EMBEDDED_SINCE:
                shaped["flavor"] = self.flavor_refs[doc["flavor"]["original_name"]]
            return shaped
        return version_text(bucket), shape

    @staticmethod
    def flavor_shape(version: tuple[int, int], detail: bool) -> tuple[str, Callable[[Document], Document]]:
        """How a flavor looks at a microversion (in the list form unless detail), and a variant name."""
        hidden = {name for name, since in FLAVOR_ATTRIBUTES_SINCE.items() if since > version}
        empty_swap = version < SWAP_AS_NUMBER_SINCE

        def shape(doc: Document) -> Document:
            if not detail:
                names = ("id", "links", "name", "description")
                return {name: doc[name] for name in names if name not in hidden}
            shaped = {name: value for name, value in doc.items() if name not in hidden}
            if empty_swap and not shaped["swap"]:
                shaped["swap"] = ""
            return shaped
        return f"detail={detail} hidden={sorted(hidden)} empty_swap={empty_swap}", shape

    @staticmethod
    def hypervisor_shape(version: tuple[int, int], detail: bool) -> Callable[[Document], Document]:
        """A hypervisor document at a microversion, in the list (not detail) form unless detail."""
        def shape(doc: Document) -> Document:
            if not detail:
                return {name: doc[name] for name in ("id", "hypervisor_hostname", "state", "status")}
            if version < HYPERVISOR_USAGE_UNTIL:
                return {name: value for name, value in doc.items() if name != "uptime"}
            return {name: value for name, value in doc.items() if name not in HYPERVISOR_USAGE_ATTRIBUTES}
        return shape

    def _hypervisor(self, host: Host, instances: list[Instance]) -> Document:
        vcpus_used = sum(self.flavor_specs[i.flavor][1] for i in instances)
        ram_used = 512 + sum(self.flavor_specs[i.flavor][2] for i in instances)  # 512: reserved_host_memory_mb
        disk_used = sum(self.flavor_specs[i.flavor][3] for i in instances)
        vcpus, ram, disk = 32, 131072, 1000
        return {
            "id": derived_id("compute-node", host.name),
            "hypervisor_hostname": host.name,
            "state": "up",
            "status": "enabled",
            "host_ip": host.ip_address,
            "hypervisor_type": "QEMU",
            "hypervisor_version": 6002000,
            "service": {"host": host.name, "id": derived_id("service", host.name, "nova-compute"),
                        "disabled_reason": None},
            "cpu_info": {"arch": "x86_64", "model": "Cascadelake-Server-noTSX", "vendor": "Intel",
                         "topology": {"cells": 2, "sockets": 1, "cores": 8, "threads": 2}, "features": [],
                         "maps": None},
            "vcpus": vcpus, "vcpus_used": vcpus_used,
            "memory_mb": ram, "memory_mb_used": ram_used, "free_ram_mb": ram - ram_used,
            "local_gb": disk, "local_gb_used": disk_used, "free_disk_gb": disk - disk_used,
            "disk_available_least": disk - disk_used, "current_workload": 0, "running_vms": len(instances),
            "uptime": " 00:00:00 up 42 days,  3:07,  0 users,  load average: 0.10, 0.12, 0.09",
        }

    def _service(self, host: Host, binary: str, zone: str) -> Document:
        return {"id": derived_id("service", host.name, binary), "binary": binary, "host": host.name, "zone": zone,
                "status": "enabled", "state": "up", "updated_at": TIMESTAMP, "disabled_reason": None,
                "forced_down": False}

    def _zones(self, world: World) -> list[Document]:
        """availabilityZoneInfo entries with their hosts and services (the detail form)."""
        hosts: dict[str, dict[str, dict[str, Any]]] = {}
        for service in self.services:
            services = hosts.setdefault(service["zone"], {}).setdefault(service["host"], {})
            services[service["binary"]] = {"available": True, "active": True, "updated_at": TIMESTAMP}
        names = sorted(hosts, key=lambda zone: (zone != INTERNAL_ZONE, zone))
        return [{"zoneName": zone, "zoneState": {"available": True}, "hosts": hosts[zone]} for zone in names]

    def _aggregates(self, world: World) -> list[Document]:
        """Nova's host aggregates (the spec's, else one per zone other than the default one), as 2.41+ shows
        them: integer id, uuid, availability zone, hosts, metadata."""
        return [{"id": a.id, "uuid": a.uuid or derived_id("aggregate", a.name), "name": a.name,
                 "availability_zone": a.availability_zone, "hosts": list(a.hosts), "metadata": dict(a.metadata),
                 "created_at": TIMESTAMP, "updated_at": None, "deleted_at": None, "deleted": False}
                for a in world.nova_aggregates()]


# -- listing -------------------------------------------------------------------------------------

def _summary(doc: Document) -> Document:
    return {"id": doc["id"], "links": doc["links"], "name": doc["name"]}


def _is_true(raw: str | None) -> bool:
    # Nova's is_all_tenants: a present parameter is true unless it says otherwise.
    return raw is not None and raw.strip().lower() not in ("0", "false", "f", "no", "n", "off")


def _page(collection: Collection, positions: Sequence[int], key: str, path: str,
          variant: str = "", transform: Callable[[Document], Document] | None = None) -> Response:
    """A Nova list response: the page after ?marker of at most ?limit (and MAX_LIMIT) items."""
    try:
        limit = parse_limit(request.args.get("limit"))
    except ValueError:
        return fault(400, f"limit param must be an integer: {request.args.get('limit')}")
    limit = MAX_LIMIT if limit is None else min(limit, MAX_LIMIT)
    marker = request.args.get("marker")
    after = None
    if marker is not None:
        after = collection.position.get(marker)
        if after is None:
            return fault(400, f"marker [{marker}] not found")
    page, _ = paginate(positions, after, limit)
    extra = None
    if page and len(page) == limit:
        # Nova links to a next page whenever this one is full, even if nothing follows.
        params = query_lists()
        params["marker"] = [str(collection.docs[page[-1]][collection.id_key])]
        extra = {f"{key}_links": [{"href": url_with(f"{docs(ComputeDocs).v21}/{path}", params), "rel": "next"}]}
    return json_response(render_list(key, (collection.encoded(p, variant, transform) for p in page), extra))


#: Server list filters matched exactly: query parameter -> document field.
SERVER_EXACT_FILTERS = {
    "host": "OS-EXT-SRV-ATTR:host", "node": "OS-EXT-SRV-ATTR:hypervisor_hostname", "uuid": "id",
    "vm_state": "OS-EXT-STS:vm_state", "power_state": "OS-EXT-STS:power_state",
    "availability_zone": "OS-EXT-AZ:availability_zone", "flavor": "flavor", "image": "image",
    "user_id": "user_id",
}


def _server_positions(compute: ComputeDocs) -> Sequence[int]:
    """Positions of the servers a list request selects, Nova's way: own project unless all_tenants."""
    args = request.args
    filters = [(field, args.getlist(name)) for name, field in SERVER_EXACT_FILTERS.items() if name in args]
    if "status" in args:
        filters.append(("status", [value.upper() for value in args.getlist("status")]))
    if _is_true(args.get("all_tenants")):
        project = args.get("project_id") or args.get("tenant_id")
        if project:
            filters.append(("tenant_id", [project]))
    else:
        token = state().tokens.get(request.headers.get("X-Auth-Token"))
        filters.append(("tenant_id", [token.project_id if token and token.project_id else ""]))
    positions = select(compute.servers, filters)
    # Nova matches name and ip as regular expressions, anywhere in the value.
    for name, values_of in (("name", lambda doc: (doc["name"],)),
                            ("ip", lambda doc: (a["addr"] for n in doc["addresses"].values() for a in n
                                                if a["version"] == 4)),
                            ("ip6", lambda doc: (a["addr"] for n in doc["addresses"].values() for a in n
                                                 if a["version"] == 6))):
        if args.get(name):
            try:
                pattern = re.compile(args[name])
            except re.error:
                pattern = re.compile(re.escape(args[name]))
            positions = [p for p in positions if any(pattern.search(v) for v in values_of(compute.servers.docs[p]))]
    return positions


# -- routes --------------------------------------------------------------------------------------

def _version(base: str) -> Document:
    return {"id": "v2.1", "status": "CURRENT", "version": version_text(MAX_VERSION),
            "min_version": version_text(MIN_VERSION), "updated": "2013-07-23T11:33:21Z",
            "links": [{"rel": "self", "href": f"{base}compute/v2.1/"},
                      {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.compute+json;version=2.1"}]}


@blueprint.before_request
def _negotiate() -> Response | None:
    try:
        g.compute_version = requested_microversion(request.headers)
    except MicroversionError as exc:
        g.compute_version = MIN_VERSION
        return fault(exc.code, exc.message)
    return None


@blueprint.after_request
def _version_headers(response: Response) -> Response:
    version = version_text(getattr(g, "compute_version", MIN_VERSION))
    response.headers["OpenStack-API-Version"] = f"compute {version}"
    response.headers["X-OpenStack-Nova-API-Version"] = version
    response.headers["Vary"] = "OpenStack-API-Version, X-OpenStack-Nova-API-Version"
    return response


@blueprint.get("/", strict_slashes=False)
@public
def versions() -> Response:
    current = _version(request.url_root)
    del current["media-types"]
    current["links"] = current["links"][:1]
    return json_response({"versions": [current]})


@blueprint.get("/v2.1", strict_slashes=False)
@public
def version() -> Response:
    return json_response({"version": _version(request.url_root)})


@blueprint.get("/v2.1/servers")
def servers() -> Response:
    compute = docs(ComputeDocs)
    return _page(compute.servers, _server_positions(compute), "servers", "servers", "summary", _summary)


@blueprint.get("/v2.1/servers/detail")
def servers_detail() -> Response:
    compute = docs(ComputeDocs)
    variant, shape = compute.server_shape(g.compute_version)
    return _page(compute.servers, _server_positions(compute), "servers", "servers/detail", variant, shape)


@blueprint.get("/v2.1/servers/<server_id>")
def server(server_id: str) -> Response:
    compute = docs(ComputeDocs)
    doc = compute.servers.get(server_id)
    if doc is None:
        return fault(404, f"Instance {server_id} could not be found.")
    _, shape = compute.server_shape(g.compute_version)
    if shape is not None:
        doc = shape(doc)
    if g.compute_version >= (2, 71):  # only a single server shows its groups
        doc = {**doc, "server_groups": []}
    return json_response({"server": doc})


@blueprint.get("/v2.1/flavors")
def flavors() -> Response:
    compute = docs(ComputeDocs)
    variant, shape = compute.flavor_shape(g.compute_version, detail=False)
    return _page(compute.flavors, _flavor_positions(compute), "flavors", "flavors", variant, shape)


@blueprint.get("/v2.1/flavors/detail")
def flavors_detail() -> Response:
    compute = docs(ComputeDocs)
    variant, shape = compute.flavor_shape(g.compute_version, detail=True)
    return _page(compute.flavors, _flavor_positions(compute), "flavors", "flavors/detail", variant, shape)


def _flavor_positions(compute: ComputeDocs) -> Sequence[int]:
    positions: Sequence[int] = range(len(compute.flavors))
    for name, field in (("minRam", "ram"), ("minDisk", "disk")):
        if request.args.get(name, "").isdigit():
            minimum = int(request.args[name])
            positions = [p for p in positions if compute.flavors.docs[p][field] >= minimum]
    return positions


@blueprint.get("/v2.1/flavors/<flavor_id>")
def flavor(flavor_id: str) -> Response:
    doc = docs(ComputeDocs).flavors.get(flavor_id)
    if doc is None:
        return fault(404, f"Flavor {flavor_id} could not be found.")
    _, shape = ComputeDocs.flavor_shape(g.compute_version, detail=True)
    return json_response({"flavor": shape(doc)})


def _hypervisor_positions(compute: ComputeDocs) -> Sequence[int]:
    """Every hypervisor, or those whose name contains ?hypervisor_hostname_pattern (a substring, as Nova
    matches it; Nova pages no pattern search and answers 404 when nothing matches: see the views)."""
    pattern = request.args.get("hypervisor_hostname_pattern")
    if not pattern:
        return range(len(compute.hypervisors))
    return [p for p, doc in enumerate(compute.hypervisors.docs) if pattern in doc["hypervisor_hostname"]]


def _hypervisor_list(path: str, detail: bool) -> Response:
    compute = docs(ComputeDocs)
    pattern = request.args.get("hypervisor_hostname_pattern")
    if pattern is not None and ("limit" in request.args or "marker" in request.args):
        return fault(400, "Paging over hypervisors with the host name pattern is not supported.")
    positions = _hypervisor_positions(compute)
    if pattern and not positions:
        return fault(404, f"No hypervisor matching '{pattern}' could be found.")
    variant, shape = _hypervisor_shape(compute, detail=detail)
    return _page(compute.hypervisors, positions, "hypervisors", path, variant, shape)


def _hypervisor_shape(compute: ComputeDocs, detail: bool) -> tuple[str, Callable[[Document], Document]]:
    """This request's hypervisor shape (microversion, detail, ?with_servers) and its cache variant name."""
    with_servers = _is_true(request.args.get("with_servers"))
    shape = compute.hypervisor_shape(g.compute_version, detail)
    list_empty = g.compute_version >= EMPTY_SERVERS_LISTED_SINCE
    variant = (f"detail={detail} usage={g.compute_version < HYPERVISOR_USAGE_UNTIL} servers={with_servers} "
               f"empty={list_empty}")
    if not with_servers:
        return variant, shape

    def with_their_servers(doc: Document) -> Document:
        shaped = shape(doc)
        # Before 2.75 Nova leaves the key out for a host without servers.
        if compute.hypervisor_servers[doc["id"]] or list_empty:
            shaped["servers"] = compute.hypervisor_servers[doc["id"]]
        return shaped
    return variant, with_their_servers


@blueprint.get("/v2.1/os-hypervisors")
def hypervisors() -> Response:
    return _hypervisor_list("os-hypervisors", detail=False)


@blueprint.get("/v2.1/os-hypervisors/detail")
def hypervisors_detail() -> Response:
    return _hypervisor_list("os-hypervisors/detail", detail=True)


@blueprint.get("/v2.1/os-hypervisors/<hypervisor_id>")
def hypervisor(hypervisor_id: str) -> Response:
    compute = docs(ComputeDocs)
    doc = compute.hypervisors.get(hypervisor_id)
    if doc is None:
        return fault(404, f"Hypervisor with ID {hypervisor_id} could not be found.")
    _, shape = _hypervisor_shape(compute, detail=True)
    return json_response({"hypervisor": shape(doc)})


@blueprint.get("/v2.1/os-availability-zone")
def availability_zones() -> Response:
    zones = [{"zoneName": z["zoneName"], "zoneState": z["zoneState"], "hosts": None}
             for z in docs(ComputeDocs).zones if z["zoneName"] != INTERNAL_ZONE]
    return json_response({"availabilityZoneInfo": zones})


@blueprint.get("/v2.1/os-availability-zone/detail")
def availability_zones_detail() -> Response:
    return json_response({"availabilityZoneInfo": docs(ComputeDocs).zones})


@blueprint.get("/v2.1/os-services")
def services() -> Response:
    found = docs(ComputeDocs).services
    for name in ("host", "binary"):
        if name in request.args:
            found = [s for s in found if s[name] == request.args[name]]
    return json_response({"services": found})


@blueprint.get("/v2.1/os-aggregates")
def aggregates() -> Response:
    return json_response({"aggregates": docs(ComputeDocs).aggregates})


@blueprint.get("/v2.1/os-aggregates/<aggregate_id>")
def aggregate(aggregate_id: str) -> Response:
    found = next((a for a in docs(ComputeDocs).aggregates if str(a["id"]) == aggregate_id), None)
    if found is None:
        return fault(404, f"Aggregate {aggregate_id} could not be found.")
    return json_response({"aggregate": found})
