"""The product's main job, run by `make demo`: for now, the local stack up, migrated, and a round trip
through every server. Later issues grow it into the full demo (lab scanned, graph built, API served)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import kombu
import ldap3

from core.settings import Settings
from core.stores import Stores
from stack.servers.slapd import SEED_USERS


@dataclass
class SmokeCheck:
    server: str
    check: str
    ok: bool
    detail: str
    ms: float


def _timed(server: str, check: str, action: Callable[[], str]) -> SmokeCheck:
    started = time.perf_counter()
    try:
        detail, ok = action(), True
    except Exception as exc:  # noqa: BLE001 - a failed check is reported, not raised
        detail, ok = f"{type(exc).__name__}: {exc}", False
    return SmokeCheck(server, check, ok, detail, round((time.perf_counter() - started) * 1000, 1))


def smoke_round_trip(settings: Settings, stores: Stores) -> list[SmokeCheck]:
    """Write and read back through MongoDB, Neo4j, RabbitMQ, and bind to LDAP; never raises."""
    marker = f"smoke-{uuid.uuid4().hex[:8]}"

    def mongo() -> str:
        stores.mongo.smoke.insert_one({"_id": marker})
        found = stores.mongo.smoke.find_one_and_delete({"_id": marker})
        assert found == {"_id": marker}, found
        return "insert, read, delete"

    def neo4j() -> str:
        records, _, _ = stores.neo4j.execute_query(
            "CREATE (n:SmokeTest {marker: $marker}) WITH n DELETE n RETURN $marker AS marker", marker=marker)
        assert records[0]["marker"] == marker
        return "create, read, delete"

    def rabbitmq() -> str:
        with kombu.Connection(settings.amqp_url, connect_timeout=5) as connection:
            with connection.SimpleQueue(f"calipso-{marker}", queue_opts={"auto_delete": True}) as queue:
                queue.put({"marker": marker})
                message = queue.get(timeout=5)
                message.ack()
                assert message.payload == {"marker": marker}
        return "publish, consume"

    def ldap() -> str:
        user = SEED_USERS[0]
        dn = f"uid={user.uid},ou=people,{settings.ldap_base_dn}"
        with ldap3.Connection(ldap3.Server(settings.ldap_url, connect_timeout=5), dn, user.password,
                              auto_bind=True):
            return f"bind as {user.uid}"

    return [_timed("mongodb", "round trip", mongo), _timed("neo4j", "round trip", neo4j),
            _timed("rabbitmq", "round trip", rabbitmq), _timed("slapd", "login", ldap)]
