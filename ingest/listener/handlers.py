"""Notifications from the cloud's message bus -> what they ask of the inventory (pure).

`parse_notification` reads one message body as oslo.messaging sends it: the v2 envelope
{"oslo.version": "2.0", "oslo.message": "<JSON>"} or a v1 bare message {"event_type", "payload", ...}.
`plan_for` maps a notification to a `Plan`: inventory documents to write (built by the OpenStack
source's own transform, so the bus and a scan give one document shape), subtrees to delete, and
the hosts whose subtree must be rescanned (vNICs, vservices, bridges and links live there).
Unknown event types give None (ignored); a known type with a payload of the wrong shape raises
MalformedMessage, as does a body that is not a notification at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from core.errors import CalipsoError
from ingest.records import excerpt
from ingest.sources.openstack import fetch
from ingest.sources.openstack.fetch import RawOpenStack
from ingest.sources.openstack.transform import instances, networks_and_ports, routers

Document = dict[str, Any]


class MalformedMessage(CalipsoError):
    """A message on the bus that is not a notification we can read."""

    def __init__(self, reason: str, event_type: str | None = None, body_excerpt: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_type = event_type
        self.excerpt = body_excerpt


@dataclass(frozen=True)
class Notification:
    """One oslo.messaging notification."""

    exchange: str
    event_type: str
    payload: dict[str, Any]
    publisher_id: str | None = None
    message_id: str | None = None
    timestamp: str | None = None


def _text(body: Any) -> str:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body).decode("utf-8", errors="replace")
    return body if isinstance(body, str) else json.dumps(body, default=str)


def parse_notification(body: bytes | str | dict[str, Any], exchange: str) -> Notification:
    """The notification in a message body (raw bytes, text, or an already decoded dict)."""
    shown = excerpt(_text(body))
    document: Any = body
    if isinstance(body, (bytes, bytearray, memoryview)):
        try:
            document = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedMessage("the body is not UTF-8 text", body_excerpt=shown) from None
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            raise MalformedMessage("the body is not JSON", body_excerpt=shown) from None
    if not isinstance(document, dict):
        raise MalformedMessage("the body is not a JSON object", body_excerpt=shown)
    if "oslo.message" in document:  # the v2 envelope
        inner = document["oslo.message"]
        if isinstance(inner, str):
            try:
                inner = json.loads(inner)
            except ValueError:
                raise MalformedMessage("oslo.message is not JSON", body_excerpt=shown) from None
        if not isinstance(inner, dict):
            raise MalformedMessage("oslo.message is not a JSON object", body_excerpt=shown)
        document = inner
    event_type = document.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise MalformedMessage("the message has no event_type", body_excerpt=shown)
    payload = document.get("payload")
    if not isinstance(payload, dict):
        raise MalformedMessage(f"the payload of {event_type} is not an object", event_type, shown)
    return Notification(exchange=exchange, event_type=event_type, payload=payload,
                        publisher_id=_optional_str(document.get("publisher_id")),
                        message_id=_optional_str(document.get("message_id")),
                        timestamp=_optional_str(document.get("timestamp")))


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass
class Plan:
    """What one event asks of the inventory. Hosts named directly or through stored objects (ports,
    routers) are rescanned after the writes; `keep_stored` names, per written id, the fields the
    event does not carry (they keep their stored value instead of becoming empty)."""

    event_type: str
    subject_type: str
    subject_id: str
    subject_name: str | None = None
    write: list[Document] = field(default_factory=list)
    keep_stored: dict[str, tuple[str, ...]] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)
    reread_networks: list[str] = field(default_factory=list)
    reread_networks_of_subnets: list[str] = field(default_factory=list)
    refresh_hosts: list[str] = field(default_factory=list)
    refresh_hosts_of: list[str] = field(default_factory=list)
    refresh_routers: list[str] = field(default_factory=list)

    def describe(self) -> str:
        name = f" ({self.subject_name})" if self.subject_name and self.subject_name != self.subject_id else ""
        return f"{self.event_type}: {self.subject_type} {self.subject_id}{name}"


# -- Nova ------------------------------------------------------------------------------------------

#: Instance document fields and the legacy Nova payload key each comes from. A field whose key the
#: payload lacks is not known from the event (power_state: Nova sends a name, the API a number).
INSTANCE_FIELDS_FROM_PAYLOAD = {"name": "display_name", "local_name": "instance_name", "project_id": "tenant_id",
                                "vm_state": "state", "network_info": "fixed_ips", "flavor": "instance_type",
                                "image": "image_ref_url", "power_state": None}


def server_from_nova_payload(payload: dict[str, Any]) -> Document:
    """The server, in the shape a scan reads the Nova API's servers in (`fetch.server`), that a legacy
    compute.instance.* payload describes, as far as the payload tells."""
    addresses: dict[str, list[Document]] = {}
    for address in payload.get("fixed_ips") or []:
        if not isinstance(address, dict):
            continue
        addresses.setdefault(str(address.get("label")), []).append(
            {"addr": address.get("address"), "version": address.get("version"),
             "OS-EXT-IPS-MAC:mac_addr": address.get("vif_mac"), "OS-EXT-IPS:type": address.get("type", "fixed")})
    server: Document = {"id": payload["instance_id"], "name": payload.get("display_name"),
                        "compute_host": payload.get("host"), "hypervisor_hostname": payload.get("node"),
                        "instance_name": payload.get("instance_name"), "project_id": payload.get("tenant_id"),
                        "vm_state": payload.get("state"), "addresses": addresses}
    if payload.get("instance_type"):
        server["flavor"] = {"original_name": payload["instance_type"]}
    if isinstance(payload.get("image_ref_url"), str):
        server["image"] = {"id": payload["image_ref_url"].rstrip("/").rsplit("/", 1)[-1]}
    return server


def _instance_id(notification: Notification) -> str:
    instance_id = notification.payload.get("instance_id")
    if not isinstance(instance_id, str) or not instance_id:
        raise MalformedMessage(f"the payload of {notification.event_type} has no instance_id",
                               notification.event_type, excerpt(json.dumps(notification.payload, default=str)))
    return instance_id


#: Nova's vm_state once an instance is gone: its last compute.instance.update says so, before (or,
#: when the delete.end is lost, instead of) compute.instance.delete.end.
DELETED_STATES = frozenset({"deleted"})


def instance_upsert(notification: Notification) -> Plan:
    """create.end, rebuild.end, update: the instance as the payload tells it, then its host's subtree.
    An update saying the instance is deleted deletes it."""
    payload = notification.payload
    instance_id = _instance_id(notification)
    if str(payload.get("state", "")).lower() in DELETED_STATES:
        return instance_delete(notification)
    plan = Plan(notification.event_type, "instance", instance_id, payload.get("display_name"))
    docs = instances(RawOpenStack(region="", servers=[server_from_nova_payload(payload)]))
    if not docs:
        return plan  # not on a host yet (being scheduled): nothing to show
    plan.write = docs
    plan.keep_stored[instance_id] = tuple(field_name for field_name, key in INSTANCE_FIELDS_FROM_PAYLOAD.items()
                                          if key is None or key not in payload)
    plan.refresh_hosts = [docs[-1]["host"]]
    plan.refresh_hosts_of = [instance_id]  # moved (migration, evacuation): its old host too
    return plan


def instance_delete(notification: Notification) -> Plan:
    instance_id = _instance_id(notification)
    plan = Plan(notification.event_type, "instance", instance_id, notification.payload.get("display_name"),
                delete=[instance_id], refresh_hosts_of=[instance_id])
    if isinstance(notification.payload.get("host"), str):
        plan.refresh_hosts = [notification.payload["host"]]
    return plan


# -- Neutron ---------------------------------------------------------------------------------------

def _resource(notification: Notification, kind: str) -> Document:
    resource = notification.payload.get(kind)
    if not isinstance(resource, dict) or not isinstance(resource.get("id"), str):
        raise MalformedMessage(f"the payload of {notification.event_type} has no {kind} with an id",
                               notification.event_type, excerpt(json.dumps(notification.payload, default=str)))
    return resource


def _resource_id(notification: Notification, kind: str) -> str:
    """The id a delete event names: `<kind>_id`, or the id of the `<kind>` document newer releases send."""
    value = notification.payload.get(f"{kind}_id")
    if isinstance(value, str) and value:
        return value
    return str(_resource(notification, kind)["id"])


def port_upsert(notification: Notification) -> Plan:
    port = _resource(notification, "port")
    if not isinstance(port.get("network_id"), str):
        raise MalformedMessage(f"the port of {notification.event_type} has no network_id", notification.event_type,
                               excerpt(json.dumps(notification.payload, default=str)))
    raw = fetch.port(port)  # the shape a scan reads the Neutron API's ports in
    plan = Plan(notification.event_type, "port", port["id"], port.get("name") or None,
                write=networks_and_ports(RawOpenStack(region="", ports=[raw])), refresh_hosts_of=[port["id"]])
    if raw.get("binding_host_id"):
        plan.refresh_hosts = [raw["binding_host_id"]]
    return plan


def port_delete(notification: Notification) -> Plan:
    port_id = _resource_id(notification, "port")
    return Plan(notification.event_type, "port", port_id, delete=[port_id], refresh_hosts_of=[port_id])


def network_upsert(notification: Notification) -> Plan:
    """The payload lacks the CIDRs of the network's subnets: the network is read again from the API."""
    network = _resource(notification, "network")
    return Plan(notification.event_type, "network", network["id"], network.get("name"),
                reread_networks=[network["id"]])


def network_delete(notification: Notification) -> Plan:
    network_id = _resource_id(notification, "network")
    return Plan(notification.event_type, "network", network_id, delete=[network_id])


def subnet_upsert(notification: Notification) -> Plan:
    subnet = _resource(notification, "subnet")
    if not isinstance(subnet.get("network_id"), str):
        raise MalformedMessage(f"the subnet of {notification.event_type} has no network_id", notification.event_type,
                               excerpt(json.dumps(notification.payload, default=str)))
    return Plan(notification.event_type, "subnet", subnet["id"], subnet.get("name"),
                reread_networks=[subnet["network_id"]])


def subnet_delete(notification: Notification) -> Plan:
    subnet_id = _resource_id(notification, "subnet")
    return Plan(notification.event_type, "subnet", subnet_id, reread_networks_of_subnets=[subnet_id])


def router_change(notification: Notification) -> Plan:
    """The router object as the event tells it (written, or deleted), then a rescan of where it
    runs: its qrouter namespace (a vservice) on a network node."""
    if notification.event_type.startswith("router.interface."):
        router_id = str(_resource(notification, "router_interface")["id"])
        return Plan(notification.event_type, "router", router_id, refresh_routers=[router_id])
    if ".delete" in notification.event_type:
        router_id = _resource_id(notification, "router")
        return Plan(notification.event_type, "router", router_id, delete=[router_id], refresh_routers=[router_id])
    router = _resource(notification, "router")
    return Plan(notification.event_type, "router", router["id"], router.get("name"),
                write=routers(RawOpenStack(region="", routers=[fetch.router(router)])),
                refresh_routers=[router["id"]])


Handler = Callable[[Notification], Plan]


def _both(event_type: str, handler: Handler) -> dict[str, Handler]:
    """OpenStack releases differ on the `.end` suffix of some events (REFERENCE.md): accept both."""
    return {event_type: handler, f"{event_type}.end": handler}


HANDLERS: dict[str, Handler] = {
    "compute.instance.create.end": instance_upsert,
    "compute.instance.rebuild.end": instance_upsert,
    "compute.instance.update": instance_upsert,
    "compute.instance.delete.end": instance_delete,
    "network.create.end": network_upsert,
    **_both("network.update", network_upsert),
    **_both("network.delete", network_delete),
    **_both("subnet.create", subnet_upsert),
    **_both("subnet.update", subnet_upsert),
    **_both("subnet.delete", subnet_delete),
    **_both("port.create", port_upsert),
    **_both("port.update", port_upsert),
    **_both("port.delete", port_delete),
    **_both("router.create", router_change),
    **_both("router.update", router_change),
    **_both("router.delete", router_change),
    **_both("router.interface.create", router_change),
    **_both("router.interface.delete", router_change),
}


def plan_for(notification: Notification) -> Plan | None:
    """What the notification asks of the inventory; None for event types the listener ignores."""
    handler = HANDLERS.get(notification.event_type)
    return handler(notification) if handler is not None else None


# -- document helpers (pure) -------------------------------------------------------------------------

def keep_stored_fields(doc: Document, stored: Document | None, fields: Iterable[str]) -> Document:
    """The document with `fields` taken from the stored version (when there is one)."""
    if stored is None:
        return doc
    return {**doc, **{name: stored.get(name) for name in fields if name in stored}}


def renamed_descendants(renamed: Document, descendants: Iterable[Document]) -> list[Document]:
    """Descendants of a renamed object with the new name in their `name_path` (ids never change)."""
    depth = len(renamed["id_path"]) - 1
    updated = []
    for doc in descendants:
        if doc["id"] == renamed["id"] or len(doc.get("name_path") or []) <= depth:
            continue
        if doc["name_path"][depth] != renamed["name_path"][-1]:
            names = list(doc["name_path"])
            names[depth] = renamed["name_path"][-1]
            updated.append({**doc, "name_path": names})
    return updated
