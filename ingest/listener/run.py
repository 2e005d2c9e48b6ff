"""A listener for one stored environment: its MongoDB writes, its OpenStack API reads and its host
rescans wired from the environment's configuration (credentials revealed, never logged)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from pymongo.database import Database

from core.environments import Environment
from core.logging import redact
from core.settings import Settings
from ingest.listener.applier import Document, InventoryApplier, network_reader
from ingest.listener.consumer import Listener, Say
from ingest.records import ScanRecords
from ingest.run import CLOUD_ERRORS, CloudUnavailable, openstack_connection, scan_environment
from ingest.sources.openstack.fetch import RawOpenStack, fetch_host_openstack
from ingest.tasks import enqueue_scan, workers_alive
from ingest.transport import Transport

Read = TypeVar("Read")


class CloudReader:
    """Reads networks from the environment's APIs over one openstacksdk connection, made when first
    needed and made again after a failure."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self._connection: Any = None
        self._lock = threading.Lock()

    def network(self, network_id: str) -> tuple[Document, list[Document]] | None:
        return self._read(f"network {network_id}", lambda connection: network_reader(connection)(network_id))

    def host(self, host: str) -> RawOpenStack:
        """What the APIs say about one host, every request filtered to it (fetch_host_openstack)."""
        return self._read(f"host {host}", lambda connection: fetch_host_openstack(
            connection, self.environment.openstack.region, host))

    def _read(self, what: str, read: Callable[[Any], Read]) -> Read:
        with self._lock:
            try:
                if self._connection is None:
                    self._connection = openstack_connection(self.environment)
                return read(self._connection)
            except CLOUD_ERRORS as exc:
                self.close()
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
                raise CloudUnavailable(redact(f"environment {self.environment.name!r}: cannot read {what} "
                                              f"from {self.environment.openstack.auth_url}: {first}")) from None

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None


def build_listener(database: Database, environment: Environment, window_s: float = 2.0, say: Say | None = None,
                   transport: Transport | None = None, settings: Settings | None = None) -> Listener:
    """The listener of `environment` (credentials revealed: `EnvironmentStore.decrypt`). Host rescans go
    over SSH as scans do, or over `transport` (e.g. the lab's in-process hosts). With `settings`, a
    rescan is handed to the workers (`calipso worker`) whenever one is alive, so the listener goes on
    with the next events; it runs in the listener when none is."""
    environment.require_credentials()
    cloud = CloudReader(environment)

    def refresh_host(host: str) -> str:
        if settings is not None and transport is None and workers_alive(database):
            scan_id = ScanRecords(database).create(environment.name, scope=host, requested_by="listener")
            enqueue_scan(settings, database, scan_id, environment.name, object_id=host)
            return f"scan {scan_id} queued for the workers"
        # Only this host's OpenStack resources and its commands: a refresh costs the same in a cloud of
        # any size (a whole scan_environment read every API for one host).
        raw = cloud.host(host)
        scan_id = ScanRecords(database).create(environment.name, scope=host, requested_by="listener")
        result = scan_environment(database, environment, object_id=host, scan_id=scan_id, transport=transport,
                                  openstack_raw=raw)
        written = result.written
        return (f"scan {result.scan_id} {result.status} ({written.new} new, {written.changed} changed, "
                f"{written.deleted} deleted)")

    return Listener(database, environment, InventoryApplier(database, environment.name, cloud.network),
                    refresh_host, window_s=window_s, say=say or (lambda line: None))
