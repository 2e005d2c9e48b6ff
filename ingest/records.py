"""Scan records and messages in MongoDB: what the scanner did, and what it found wrong.

A scan goes pending -> running -> completed | completed_with_errors | failed | aborted. A message
(REFERENCE.md "Messages") records one thing worth a human's attention: a host that did not answer,
output that did not parse, a state change seen by monitoring.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pymongo import ReturnDocument
from pymongo.database import Database

from core.logging import redact
from graphmodel.inventory import mark_messages_changed

SCANS = "scans"
MESSAGES = "messages"

ScanStatus = Literal["pending", "running", "completed", "completed_with_errors", "failed", "aborted"]
FINISHED: tuple[str, ...] = ("completed", "completed_with_errors", "failed", "aborted")
Level = Literal["info", "warning", "error"]

#: How much of a tool's output a message quotes.
EXCERPT_CHARS = 300


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Message:
    environment: str
    source_system: str  # OpenStack | Calipso | Sensu | Kubernetes
    level: Level
    message: str
    related_object: str | None = None
    related_object_type: str | None = None
    display_context: str | None = None
    scan_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    timestamp: datetime = field(default_factory=_now)
    viewed: bool = False


def record_message(database: Database, message: Message) -> None:
    """Store a message; its text and details never carry credentials."""
    doc = asdict(message)
    doc["message"] = _storable(redact(doc["message"]))
    doc["details"] = {k: _storable(redact(v)) if isinstance(v, str) else v for k, v in doc["details"].items()}
    database[MESSAGES].insert_one(doc)
    mark_messages_changed(database, message.environment)  # what readers kept of the messages is not right any more


def _storable(text: str) -> str:
    """The text with NUL characters shown as U+FFFD: a message quotes what a host or the bus sent, and
    FerretDB on PostgreSQL cannot store a NUL (jsonb refuses \\u0000: the insert fails, and the
    listener with it)."""
    return text.replace("\x00", "\ufffd")


def excerpt(text: str) -> str:
    """The start of a tool's output, short enough for a message."""
    text = text.strip()
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"


class ScanRecords:
    """The `scans` collection: one document per scan with status, counts, errors and timing."""

    def __init__(self, database: Database) -> None:
        self.collection = database[SCANS]

    def create(self, environment: str, scope: str | None = None, requested_by: str = "cli") -> str:
        scan_id = uuid.uuid4().hex
        self.collection.insert_one({"_id": scan_id, "environment": environment, "status": "pending",
                                    "scope": scope, "requested_by": requested_by, "created_at": _now(),
                                    "started_at": None, "finished_at": None, "counts": {}, "errors": [],
                                    "abort_requested": False})
        return scan_id

    def start(self, scan_id: str) -> None:
        self.collection.update_one({"_id": scan_id, "status": "pending"},
                                   {"$set": {"status": "running", "started_at": _now()}})

    def claim(self, scan_id: str, worker: dict[str, Any]) -> None:
        """Note which worker process runs the scan (a task redelivered to another worker adds an attempt)."""
        self.collection.update_one({"_id": scan_id}, {"$set": {"worker": worker},
                                                      "$push": {"attempts": {**worker, "at": _now()}}})

    def add_error(self, scan_id: str, error: str) -> None:
        self.collection.update_one({"_id": scan_id}, {"$push": {"errors": redact(error)}})

    def request_abort(self, scan_id: str) -> bool:
        """Ask a pending or running scan to stop; True if it was still going."""
        result = self.collection.update_one({"_id": scan_id, "status": {"$in": ["pending", "running"]}},
                                            {"$set": {"abort_requested": True}})
        return result.modified_count == 1

    def abort_requested(self, scan_id: str) -> bool:
        doc = self.collection.find_one({"_id": scan_id}, {"abort_requested": 1})
        return bool(doc and doc.get("abort_requested"))

    def finish(self, scan_id: str, status: ScanStatus, counts: dict[str, int],
               timings: dict[str, float] | None = None) -> dict[str, Any]:
        if status not in FINISHED:
            raise ValueError(f"not a final status: {status}")
        finished = _now()
        doc = self.collection.find_one_and_update(
            {"_id": scan_id}, {"$set": {"status": status, "finished_at": finished, "counts": counts,
                                        "timings": timings or {}}},
            return_document=ReturnDocument.AFTER)
        if doc and doc.get("started_at"):
            duration = (finished - doc["started_at"]).total_seconds()
            self.collection.update_one({"_id": scan_id}, {"$set": {"duration_s": duration}})
            doc["duration_s"] = duration
        return doc or {}

    def get(self, scan_id: str) -> dict[str, Any] | None:
        return self.collection.find_one({"_id": scan_id})

    def list(self, environment: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        query = {"environment": environment} if environment else {}
        return list(self.collection.find(query).sort("created_at", -1).limit(limit))
