"""Watches by e-mail: a watch with an address gets the webhook's content by mail through a real SMTP
server on loopback (aiosmtpd) when its VM's path degrades and when it recovers; deliveries are recorded
like webhooks', and a server that does not answer is retried and recorded as not delivered."""

from __future__ import annotations

import email
import json
import socket
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from conftest import scan_and_project

from core.settings import load_settings
from graphmodel.projector import Projector
from ingest.monitoring.runner import Monitor
from ingest.transport import CallableTransport
from lab.faults import clear_fault, inject_fault
from lab.generate import generate_world
from lab.hosts import LabResponder
from queries.watches import DELIVERIES, WatchStore, evaluate_watches, smtp_mailer

pytestmark = pytest.mark.integration


class Inbox:
    """aiosmtpd's handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def _attachment(message: Message) -> dict[str, Any]:
    [part] = [p for p in message.walk() if p.get_filename() == "watch.json"]
    return json.loads(part.get_payload(decode=True))  # type: ignore[arg-type]


def test_a_watch_mails_degradation_and_recovery(mongo_db, neo4j_driver, env_name, smtp) -> None:  # type: ignore[no-untyped-def]
    from migrations import runner

    inbox, port = smtp
    runner.apply_mongo(mongo_db)
    world = generate_world(2, 1, 1, "ovs", "vxlan", seed=67)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    monitor = Monitor(mongo_db, env_name, CallableTransport(LabResponder(world)))

    def round_and_watches() -> list[Any]:
        monitor.round()
        Projector(mongo_db, neo4j_driver, env_name).sync()
        mailer = smtp_mailer(load_settings(calipso_smtp_host="127.0.0.1", calipso_smtp_port=port,
                                           calipso_smtp_from="calipso@example.org"))
        return evaluate_watches(mongo_db, neo4j_driver, env_name, mail_fn=mailer)

    round_and_watches()
    compute = next(h for h in world.hosts if "compute" in h.roles and any(i.host == h.name for i in world.instances))
    vm = next(i for i in world.instances if i.host == compute.name)
    nic = next(n for n in compute.nics if n.role in ("tunnel", "provider"))
    watch = WatchStore(mongo_db).add(env_name, [vm.id], None, "test", email="ops@example.org")
    round_and_watches()  # healthy: no mail
    assert inbox.messages == []
    fault = inject_fault(world, "nic_down", f"{compute.name}/{nic.name}")
    try:
        [event] = round_and_watches()
    finally:
        clear_fault(world, "nic_down", f"{compute.name}/{nic.name}")
    assert event.event == "degraded" and event.mail is not None and event.mail.delivered and event.delivery is None
    [(to, message)] = inbox.messages
    assert to == ["ops@example.org"] and message["From"] == "calipso@example.org"
    assert "degraded" in message["Subject"] and vm.name in message["Subject"]
    body = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert fault.root_cause.split("/")[-1] in body and "Root-cause suspects:" in body
    sent = _attachment(message)
    assert sent["event"] == "degraded" and sent["watch_id"] == watch["_id"]
    assert sent["suspects"][0]["id"] == fault.root_cause  # the webhook's content: RCA's top suspect first
    [recovered] = round_and_watches()
    assert recovered.event == "recovered" and recovered.mail is not None and recovered.mail.delivered
    assert "time_to_recovery_s" in _attachment(inbox.messages[1][1])
    recorded = list(mongo_db[DELIVERIES].find({"watch_id": watch["_id"]}).sort("at", 1))
    assert [(d["event"], d["channel"], d["url"], d["delivered"]) for d in recorded] == [
        ("degraded", "email", "mailto:ops@example.org", True), ("recovered", "email", "mailto:ops@example.org", True)]


def test_an_unreachable_smtp_server_is_retried_and_recorded() -> None:
    waits: list[float] = []
    mailer = smtp_mailer(load_settings(calipso_smtp_host="127.0.0.1", calipso_smtp_port=_free_port(),
                                       calipso_smtp_from="calipso@example.org"),
                         retries=2, backoff_s=0.5, sleep=waits.append)
    assert mailer is not None
    payload = {"event": "degraded", "watch_id": "w1", "environment": "e", "at": "now", "focal": ["vm"],
               "health": "degraded", "changed": [], "paths": []}
    failed = mailer("ops@example.org", payload)
    assert not failed.delivered and len(failed.attempts) == 3 and waits == [0.5, 1.0]
    assert all("ConnectionRefusedError" in a["error"] for a in failed.attempts)
    assert smtp_mailer(load_settings()) is None  # no CALIPSO_SMTP_HOST: no mail
