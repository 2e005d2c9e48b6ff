"""The one place that connects to MongoDB and Neo4j.

Connections fail fast with a StoreUnavailable that says where and what to do, rather than
hanging; transient errors (a restarting server, a dropped connection) are retried a few times.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import neo4j
import neo4j.exceptions
import pymongo
import pymongo.errors
from pymongo.database import Database
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from core.errors import StoreUnavailable
from core.settings import Settings, redact_url

#: The MongoDB database Calipso works in (documents as dicts: the client's document_class).
MongoDatabase: TypeAlias = Database[dict[str, Any]]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How long a first contact with a store may take before we call it down.
CONNECT_TIMEOUT_S = 5.0
#: How long one MongoDB operation may wait for its answer (large batched writes included).
OPERATION_TIMEOUT_S = 120.0

_TRANSIENT_MONGO = (pymongo.errors.AutoReconnect, pymongo.errors.NetworkTimeout)
_TRANSIENT_NEO4J = (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired,
                    neo4j.exceptions.TransientError)


def retry_transient(func: Callable[..., T]) -> Callable[..., T]:
    """Retry a store call up to 4 times on errors that a moment's wait can cure."""
    return retry(
        retry=retry_if_exception_type(_TRANSIENT_MONGO + _TRANSIENT_NEO4J),
        stop=stop_after_attempt(4),
        wait=wait_exponential(multiplier=0.2, max=2.0),
        reraise=True,
    )(func)


def connect_mongo(settings: Settings) -> MongoDatabase:
    """The Calipso database on the configured MongoDB server (checked with a ping)."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        settings.mongo_uri,
        serverSelectionTimeoutMS=int(CONNECT_TIMEOUT_S * 1000),
        connectTimeoutMS=int(CONNECT_TIMEOUT_S * 1000),
        # A server that stops answering mid-operation gives an error, not a hang.
        socketTimeoutMS=int(OPERATION_TIMEOUT_S * 1000),
        tz_aware=True,
        uuidRepresentation="standard",
    )
    database = client[settings.mongo_database]
    try:
        client.admin.command("ping")
    except pymongo.errors.PyMongoError as exc:
        client.close()
        raise StoreUnavailable(
            f"MongoDB at {redact_url(settings.mongo_uri)} is not reachable: {_first_line(exc)}. "
            "Is the local stack up (`calipso stack up`), or is MONGO_URI right?") from exc
    return database


def connect_neo4j(settings: Settings) -> neo4j.Driver:
    """A Neo4j driver for the configured server, with connectivity and credentials checked."""
    driver = neo4j.GraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        connection_timeout=CONNECT_TIMEOUT_S,
        connection_acquisition_timeout=CONNECT_TIMEOUT_S * 2,
        max_transaction_retry_time=10.0,
        # Schema hints ("label does not exist") on a fresh database are noise in our logs.
        notifications_min_severity="OFF",
    )
    try:
        driver.verify_connectivity()
    except neo4j.exceptions.AuthError as exc:
        driver.close()
        raise StoreUnavailable(
            f"Neo4j at {settings.neo4j_uri} refused user {settings.neo4j_user!r}: check NEO4J_USER and "
            "NEO4J_PASSWORD") from exc
    except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, OSError) as exc:
        driver.close()
        raise StoreUnavailable(
            f"Neo4j at {settings.neo4j_uri} is not reachable: {_first_line(exc)}. "
            "Is the local stack up (`calipso stack up`), or is NEO4J_URI right?") from exc
    return driver


@dataclass
class StoreHealth:
    """One store's state as health checks and `/health` report it."""

    name: str
    ok: bool
    detail: str


def mongo_health(database: MongoDatabase) -> StoreHealth:
    try:
        info = database.client.server_info()
    except pymongo.errors.PyMongoError as exc:
        return StoreHealth("mongodb", False, _first_line(exc))
    return StoreHealth("mongodb", True, f"version {info.get('version', '?')}")


def neo4j_health(driver: neo4j.Driver) -> StoreHealth:
    try:
        info = driver.get_server_info()
    except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, OSError) as exc:
        return StoreHealth("neo4j", False, _first_line(exc))
    return StoreHealth("neo4j", True, f"{info.agent}")


class Stores:
    """Lazily opened connections to both stores; close() releases whatever was opened."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._mongo: MongoDatabase | None = None
        self._neo4j: neo4j.Driver | None = None

    @property
    def mongo(self) -> MongoDatabase:
        if self._mongo is None:
            self._mongo = connect_mongo(self.settings)
        return self._mongo

    @property
    def neo4j(self) -> neo4j.Driver:
        if self._neo4j is None:
            self._neo4j = connect_neo4j(self.settings)
        return self._neo4j

    def health(self) -> list[StoreHealth]:
        """Each store's state; never raises."""
        checks: tuple[tuple[str, Callable[[], StoreHealth]], ...] = (
            ("mongodb", lambda: mongo_health(self.mongo)), ("neo4j", lambda: neo4j_health(self.neo4j)))
        result = []
        for name, check in checks:
            try:
                result.append(check())
            except StoreUnavailable as exc:
                result.append(StoreHealth(name, False, str(exc)))
        return result

    def close(self) -> None:
        if self._mongo is not None:
            self._mongo.client.close()
            self._mongo = None
        if self._neo4j is not None:
            self._neo4j.close()
            self._neo4j = None

    def __enter__(self) -> Stores:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
