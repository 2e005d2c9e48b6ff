"""Publish a lab change's notifications to RabbitMQ as OpenStack does.

oslo.messaging (v2 envelope) on topic exchanges `nova` and `neutron`, routing key
`notifications.info`: the message body is {"oslo.version": "2.0", "oslo.message": "<JSON>"} where
the inner JSON carries message_id, publisher_id, event_type, priority, payload and timestamp.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import kombu
import kombu.exceptions

from core.errors import CalipsoError
from core.settings import redact_url
from lab.changes import Event
from lab.world import World

ROUTING_KEY = "notifications.info"
BASE = "http://controller:9696/"  # links inside payloads name the cloud's public endpoint


def envelope(event: Event, payload: dict[str, Any], when: datetime | None = None) -> dict[str, str]:
    """The oslo.messaging v2 envelope of one notification."""
    moment = (when or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S.%f")
    message = {"message_id": str(uuid.uuid4()), "publisher_id": event.publisher, "event_type": event.event_type,
               "priority": "INFO", "payload": payload, "timestamp": moment,
               "_context_request_id": f"req-{uuid.uuid4()}", "_context_is_admin": True}
    return {"oslo.version": "2.0", "oslo.message": json.dumps(message)}


def payload_for(world: World, event: Event) -> dict[str, Any]:
    """The payload OpenStack sends for an event, built from the world after the change.

    Neutron sends the resource as its API shows it; Nova's legacy notifications carry the
    instance's main facts. Both come from the lab's API documents, so bus and API agree.
    """
    from lab.cloud.compute import ComputeDocs
    from lab.cloud.network import NetworkDocs

    subject = event.subject
    if event.service == "nova":
        if event.event_type == "compute.instance.delete.end":
            deleted = subject["deleted"]
            return {"instance_id": deleted["id"], "display_name": deleted["name"], "host": deleted["host"],
                    "tenant_id": deleted["project_id"], "state": "deleted", "instance_name": deleted["libvirt_name"]}
        server = ComputeDocs(world, BASE).servers.get(subject["instance_id"]) or {}
        return {"instance_id": server.get("id"), "display_name": server.get("name"),
                "host": server.get("OS-EXT-SRV-ATTR:host"), "node": server.get("OS-EXT-SRV-ATTR:hypervisor_hostname"),
                "instance_name": server.get("OS-EXT-SRV-ATTR:instance_name"), "tenant_id": server.get("tenant_id"),
                "user_id": server.get("user_id"), "state": server.get("OS-EXT-STS:vm_state"),
                "availability_zone": server.get("OS-EXT-AZ:availability_zone"),
                "fixed_ips": [{"address": address["addr"], "label": label, "vif_mac": address.get("OS-EXT-IPS-MAC:mac_addr"),
                               "version": address["version"], "type": address.get("OS-EXT-IPS:type", "fixed")}
                              for label, addresses in server.get("addresses", {}).items() for address in addresses]}
    if event.event_type.startswith("router.interface."):
        return {"router_interface": {"id": subject["router_id"], "port_id": subject["port_id"],
                                     "subnet_id": subject["subnet_id"], "subnet_ids": [subject["subnet_id"]]}}
    resource = event.event_type.split(".")[0]
    if event.event_type.endswith(".delete.end"):
        return {f"{resource}_id": subject[f"{resource}_id"]}
    collection = getattr(NetworkDocs(world, BASE), f"{resource}s")
    return {resource: collection.get(subject[f"{resource}_id"])}


class NotificationError(CalipsoError):
    """RabbitMQ could not be reached to publish notifications."""


def publish_events(amqp_url: str, world: World, events: list[Event]) -> None:
    """Publish each event to its service's exchange; NotificationError if RabbitMQ cannot be reached."""
    if not events:
        return
    with kombu.Connection(amqp_url, connect_timeout=5) as connection:
        try:
            connection.ensure_connection(max_retries=1)
        except (OSError, kombu.exceptions.OperationalError) as exc:
            raise NotificationError(f"RabbitMQ at {redact_url(amqp_url)} is not reachable: {exc}") from exc
        with connection.Producer() as producer:
            for event in events:
                exchange = kombu.Exchange(event.service, type="topic", durable=False)
                producer.publish(envelope(event, payload_for(world, event)), exchange=exchange,
                                 routing_key=ROUTING_KEY, declare=[exchange], serializer="json")
