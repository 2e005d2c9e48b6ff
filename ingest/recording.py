"""What a scan read, kept: the OpenStack API resources and every host command's output, so that
`calipso scan replay SCAN_ID` can re-parse them with today's parsers and show what would differ.

A scan's outputs are stored compressed in `scan_outputs`, one document per part (`openstack`, and one
per host), capped per scan (a scan that reads more keeps what fits and is marked `truncated`: it cannot
be replayed). Each environment keeps the outputs of its last `scan_outputs.keep` scans (0: none kept).
A replay computes the documents in memory — a throw-away environment that is never written — and
compares them with what the scan stored (the history as of the scan's end).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bson.binary import Binary
from pymongo import DESCENDING

from core.errors import CalipsoError
from core.stores import MongoDatabase
from graphmodel.inventory import HISTORY, MONITORING_FIELDS, content
from ingest.sources.openstack.fetch import RawOpenStack
from ingest.transport import CommandResult, Transport, TransportError

SCAN_OUTPUTS = "scan_outputs"
OPENSTACK_PART = "openstack"
META_PART = "_meta"

Document = dict[str, Any]


class ReplayError(CalipsoError):
    """A scan cannot be replayed: unknown, its outputs were not kept, or they were cut at the cap."""


def _pack(value: Any) -> Binary:
    return Binary(zlib.compress(json.dumps(value, default=str, separators=(",", ":")).encode(), 6))


def _unpack(data: bytes) -> Any:
    return json.loads(zlib.decompress(data))


class ScanRecorder:
    """Collects what one scan reads; thread-safe (hosts are scanned concurrently)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.openstack: Document | None = None
        self.commands: dict[str, list[list[Any]]] = {}  # host -> [command, exit status, stdout, stderr]

    def record_openstack(self, raw: RawOpenStack) -> None:
        self.openstack = dataclasses.asdict(raw)

    def record_command(self, host: str, command: str, result: CommandResult) -> None:
        with self._lock:
            self.commands.setdefault(host, []).append([command, result.exit_status, result.stdout, result.stderr])

    def save(self, database: MongoDatabase, environment: str, scan_id: str, scope: str | None,
             keep: int, max_bytes: int) -> bool:
        """Store the outputs of scan `scan_id` (at most `max_bytes` compressed), then drop the outputs of
        the environment's scans beyond the last `keep`. Returns False when the cap cut them short."""
        if keep <= 0:
            return True
        parts: list[tuple[str, Binary]] = []
        if self.openstack is not None:
            parts.append((OPENSTACK_PART, _pack(self.openstack)))
        with self._lock:
            parts += [(host, _pack(commands)) for host, commands in sorted(self.commands.items())]
        total, truncated, docs = 0, False, []
        for part, data in parts:
            if total + len(data) > max_bytes:
                truncated = True
                break
            total += len(data)
            docs.append({"_id": f"{scan_id}/{part}", "scan_id": scan_id, "environment": environment, "part": part,
                         "data": data, "bytes": len(data)})
        for start in range(0, len(docs), 100):  # one statement per slice, not per host
            database[SCAN_OUTPUTS].insert_many(docs[start:start + 100], ordered=False)
        database[SCAN_OUTPUTS].insert_one({
            "_id": f"{scan_id}/{META_PART}", "scan_id": scan_id, "environment": environment, "part": META_PART,
            "scope": scope, "truncated": truncated, "bytes": total, "hosts": sorted(self.commands),
            "at": datetime.now().astimezone()})
        _retain(database, environment, keep)
        return not truncated


def _retain(database: MongoDatabase, environment: str, keep: int) -> None:
    metas = list(database[SCAN_OUTPUTS].find({"environment": environment, "part": META_PART}, {"scan_id": 1})
                 .sort("at", DESCENDING))
    for old in metas[keep:]:
        database[SCAN_OUTPUTS].delete_many({"scan_id": old["scan_id"]})


class RecordingTransport:
    """A transport that passes each command on and records what came back."""

    def __init__(self, inner: Transport, recorder: ScanRecorder) -> None:
        self.inner = inner
        self.recorder = recorder

    def run(self, host: str, command: str, timeout: float = 30.0) -> CommandResult:
        result = self.inner.run(host, command, timeout)
        self.recorder.record_command(host, command, result)
        return result

    def close(self) -> None:
        self.inner.close()


@dataclass
class Recording:
    """A stored scan's outputs, read back."""

    scan_id: str
    environment: str
    scope: str | None
    openstack: RawOpenStack
    commands: dict[str, dict[str, CommandResult]] = field(default_factory=dict)  # host -> command -> result


def load_recording(database: MongoDatabase, scan_id: str) -> Recording:
    """The outputs scan `scan_id` kept; ReplayError says why they cannot be replayed."""
    meta = database[SCAN_OUTPUTS].find_one({"_id": f"{scan_id}/{META_PART}"})
    if meta is None:
        raise ReplayError(f"scan {scan_id!r} kept no outputs (unknown scan, one older than the environment's "
                          "`scan_outputs.keep` last scans, or scanned before outputs were kept)")
    if meta.get("truncated"):
        raise ReplayError(f"scan {scan_id!r} read more than its environment's `scan_outputs.max_mb`: its outputs "
                          "were cut short and cannot reproduce it")
    openstack: RawOpenStack | None = None
    commands: dict[str, dict[str, CommandResult]] = {}
    for doc in database[SCAN_OUTPUTS].find({"scan_id": scan_id, "part": {"$ne": META_PART}}):
        value = _unpack(doc["data"])
        if doc["part"] == OPENSTACK_PART:
            openstack = RawOpenStack(**value)
        else:
            # The last answer to a command wins (a command asked twice answers the same in a replay).
            commands[doc["part"]] = {command: CommandResult(status, stdout, stderr)
                                     for command, status, stdout, stderr in value}
    if openstack is None:
        raise ReplayError(f"scan {scan_id!r} kept no OpenStack API outputs: it cannot be replayed")
    return Recording(scan_id, str(meta["environment"]), meta.get("scope"), openstack, commands)


class ReplayTransport:
    """Answers each command with what the recorded scan got; a command it never asked fails the host."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording

    def run(self, host: str, command: str, timeout: float = 30.0) -> CommandResult:
        answers = self.recording.commands.get(host)
        if answers is None:
            raise TransportError(host, command, f"scan {self.recording.scan_id} did not reach this host")
        if command not in answers:
            raise TransportError(host, command, f"scan {self.recording.scan_id} did not run this command "
                                                "(today's scanner asks something the recorded one did not)")
        return answers[command]

    def close(self) -> None:
        pass


# -- the comparison (pure) --------------------------------------------------------------------------------

@dataclass
class Difference:
    """One document the replay makes differently from what the scan stored."""

    kind: str  # object or link
    key: str
    change: str  # added (only in the replay), removed (only stored), changed
    fields: dict[str, list[Any]] = field(default_factory=dict)  # name -> [stored, replayed]


def _comparable(doc: Document) -> Document:
    return {k: v for k, v in content(doc).items() if k not in MONITORING_FIELDS and k != "status_since"}


def _plain(value: Any) -> Any:
    """JSON's view of a value: stored documents come back with datetimes and tuples as lists."""
    return json.loads(json.dumps(value, default=str))


def compare_documents(kind: str, stored: Iterable[Document], replayed: Iterable[Document],
                      key: Callable[[Document], str]) -> list[Difference]:
    """What differs between the stored documents and the replayed ones, by key (pure)."""
    before = {key(d): _plain(_comparable(d)) for d in stored}
    after = {key(d): _plain(_comparable(d)) for d in replayed}
    found: list[Difference] = []
    for name in sorted(before.keys() | after.keys()):
        if name not in before:
            found.append(Difference(kind, name, "added"))
        elif name not in after:
            found.append(Difference(kind, name, "removed"))
        elif before[name] != after[name]:
            fields = {f: [before[name].get(f), after[name].get(f)]
                      for f in sorted(before[name].keys() | after[name].keys())
                      if before[name].get(f) != after[name].get(f)}
            found.append(Difference(kind, name, "changed", fields))
    return found


def link_key(doc: Document) -> str:
    return f"{doc['link_type']}|{doc['source_id']}|{doc['target_id']}"


def stored_as_of(database: MongoDatabase, environment: str, kind: str, at: datetime,
                 subtree: str | None = None) -> list[Document]:
    """The environment's objects or links as they were at `at` (from the history)."""
    query: dict[str, Any] = {"environment": environment, "kind": kind, "valid_from": {"$lte": at},
                             "$or": [{"valid_to": None}, {"valid_to": {"$gt": at}}]}
    docs = [d["doc"] for d in database[HISTORY].find(query, {"doc": 1})]
    if subtree is not None and kind == "object":
        docs = [d for d in docs if subtree in (d.get("id_path") or "")]
    return docs
