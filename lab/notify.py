"""Publish a lab change's notifications to RabbitMQ as OpenStack does.

oslo.messaging (v2 envelope) on topic exchanges `nova` and `neutron`, routing key
`notifications.info`: the message body is {"oslo.version": "2.0", "oslo.message": "<JSON>"} where
the inner JSON carries message_id, publisher_id, event_type, priority, payload and timestamp.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

import kombu
import kombu.exceptions

from core.errors import CalipsoError
from core.settings import redact_url
from lab.changes import Event
from lab.world import World

ROUTING_KEY = "notifications.info"


def envelope(event: Event, payload: dict[str, Any], when: datetime | None = None) -> dict[str, str]:
    """The oslo.messaging v2 envelope of one notification."""
    moment = (when or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M:%S.%f")
    message = {"message_id": str(uuid.uuid4()), "publisher_id": event.publisher, "event_type": event.event_type,
               "priority": "INFO", "payload": payload, "timestamp": moment,
               "_context_request_id": f"req-{uuid.uuid4()}", "_context_is_admin": True}
    return {"oslo.version": "2.0", "oslo.message": json.dumps(message)}


def payload_for(world: World, event: Event) -> dict[str, Any]:
    """The payload OpenStack sends for an event, built from the world after the change."""
    from lab.cloud import documents

    subject = event.subject
    if event.service == "nova":
        if event.event_type == "compute.instance.delete.end":
            deleted = subject["deleted"]
            return {"instance_id": deleted["id"], "display_name": deleted["name"], "host": deleted["host"],
                    "tenant_id": deleted["project_id"], "state": "deleted"}
        instance = next(i for i in world.instances if i.id == subject["instance_id"])
        return documents.nova_notification_payload(world, instance)
    if event.event_type.endswith(".delete.end") and "router.interface" not in event.event_type:
        resource = event.event_type.split(".")[0]
        return {f"{resource}_id": subject[f"{resource}_id"]}
    if event.event_type.startswith("router.interface."):
        return {"router_interface": {"id": subject["router_id"], "port_id": subject["port_id"],
                                     "subnet_id": subject["subnet_id"], "subnet_ids": [subject["subnet_id"]]}}
    resource = event.event_type.split(".")[0]
    return {resource: documents.neutron_document(world, resource, subject[f"{resource}_id"])}


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
                                 routing_key=ROUTING_KEY, declare=[exchange], serializer="json",
                                 content_type="application/json")
