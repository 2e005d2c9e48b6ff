"""Liveness of Calipso's long-running processes (projector, worker, scheduler, listener).

Each process keeps one document in MongoDB's `services` collection fresh (a heartbeat every few
seconds from a daemon thread); `calipso status` and `calipso run` read them. A process that dies
without a word leaves a document that goes stale: it counts as dead once its heartbeat is older than
STALE_AFTER intervals. Only small documents, keyed by `_id`: cheap on any backend.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from core.stores import MongoDatabase

log = logging.getLogger(__name__)

SERVICES = "services"
#: Seconds between heartbeats.
INTERVAL_S = 2.0
#: A heartbeat older than this many intervals is a dead process.
STALE_AFTER = 3


def _now() -> datetime:
    return datetime.now(UTC)


class Heartbeat:
    """Keeps `services/<kind>:<host>:<pid>` fresh until stopped; `details` is merged into it on each beat."""

    def __init__(self, database: MongoDatabase, kind: str, interval_s: float = INTERVAL_S) -> None:
        self.db, self.kind, self.interval_s = database, kind, interval_s
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.id = f"{kind}:{self.host}:{self.pid}"
        self.details: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        self.db[SERVICES].update_one(
            {"_id": self.id},
            {"$set": {"kind": self.kind, "host": self.host, "pid": self.pid, "beat_at": _now(),
                      "interval_s": self.interval_s, **self.details},
             "$setOnInsert": {"started_at": _now()}}, upsert=True)

    def start(self) -> Heartbeat:
        self.beat()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{self.kind}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.beat()
            except Exception as exc:  # noqa: BLE001 - a missed beat is no reason to stop the service
                log.warning("heartbeat of %s failed: %s", self.id, exc)

    def stop(self) -> None:
        """Stop beating and remove the document (a clean exit is not a dead process)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.db[SERVICES].delete_one({"_id": self.id})
        except Exception as exc:  # noqa: BLE001
            log.warning("could not remove heartbeat %s: %s", self.id, exc)

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def is_alive(doc: dict[str, Any], now: datetime | None = None) -> bool:
    """Whether a services document's last heartbeat is recent enough (pure)."""
    beat = doc.get("beat_at")
    if beat is None:
        return False
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=UTC)
    interval = float(doc.get("interval_s") or INTERVAL_S)
    return bool((now or _now()) - beat <= timedelta(seconds=interval * STALE_AFTER))


def services(database: MongoDatabase, kind: str | None = None) -> list[dict[str, Any]]:
    """Every known process (optionally of one kind), each with `alive`."""
    query = {"kind": kind} if kind else {}
    now = _now()
    return [{**doc, "alive": is_alive(doc, now)} for doc in database[SERVICES].find(query)]


def alive(database: MongoDatabase, kind: str) -> list[dict[str, Any]]:
    """The live processes of one kind."""
    return [doc for doc in services(database, kind) if doc["alive"]]
