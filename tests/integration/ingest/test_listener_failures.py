"""An event the listener cannot apply: recorded, and the hosts it names rescanned instead of the event being dropped."""

from __future__ import annotations

import json
from typing import Any

from core.environments import Environment
from ingest.listener.consumer import Listener
from ingest.listener.handlers import Plan
from ingest.records import MESSAGES


class FailingApplier:
    """An applier whose store refuses every write (what a real one raises is any exception)."""

    def apply(self, plan: Plan) -> Any:
        raise ValueError("document rejected by the store")


class Delivered:
    """A delivered bus message: its body, and whether it was acknowledged."""

    def __init__(self, body: dict[str, Any], exchange: str) -> None:
        self.body, self.delivery_info, self.acked = body, {"exchange": exchange}, False

    def ack(self) -> None:
        self.acked = True


def nova_update(host: str) -> dict[str, Any]:
    message = {"message_id": "m-1", "publisher_id": f"compute.{host}", "event_type": "compute.instance.update",
               "priority": "INFO", "timestamp": "2026-12-03 07:00:00.000000",
               "payload": {"instance_id": "vm-9", "display_name": "vm-9", "host": host, "tenant_id": "p",
                           "state": "active"}}
    return {"oslo.version": "2.0", "oslo.message": json.dumps(message)}


def test_an_event_that_cannot_be_applied_is_recorded_and_its_host_rescanned(mongo_db, env_name: str) -> None:  # type: ignore[no-untyped-def]
    environment = Environment.parse({
        "name": env_name, "cli": {"user": "lab", "password": "unused"}, "amqp": {"url": "amqp://127.0.0.1:1//"},
        "openstack": {"auth_url": "http://127.0.0.1:1/v3", "username": "u", "password": "unused", "project": "p"}})
    rescanned: list[str] = []
    listener = Listener(mongo_db, environment, FailingApplier(),  # type: ignore[arg-type]
                        refresh_host=lambda host: rescanned.append(host) or "rescanned", window_s=0)
    message = Delivered(nova_update("compute-7"), "nova")
    listener._on_message(message)  # type: ignore[arg-type]
    assert listener.stats.failed == 1 and not message.acked  # it waits for the rescan of its host
    listener._refresh(listener.debouncer.take_all())
    assert rescanned == ["compute-7"] and message.acked
    recorded = mongo_db[MESSAGES].find_one({"environment": env_name, "level": "error"})
    assert recorded is not None and "could not be applied" in recorded["message"]
    assert "document rejected by the store" in recorded["message"] and "a rescan of compute-7 follows" in recorded["message"]
