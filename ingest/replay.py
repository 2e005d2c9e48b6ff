"""`calipso scan replay SCAN_ID`: today's parsers and transforms on the outputs a scan kept.

The documents are made in memory by the scanner's own code (a throw-away environment: nothing is
written, no message recorded) and compared with what the scan stored, as the history had it when
the scan finished. No difference means today's code reproduces the scan exactly; a parser fix shows
as the documents it changes, checked on the very outputs that exposed the bug.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.environments import Environment
from core.stores import MongoDatabase
from ingest.hierarchy import fetch_host, openstack_documents
from ingest.recording import (
    Difference,
    Recording,
    ReplayError,
    ReplayTransport,
    compare_documents,
    link_key,
    load_recording,
    stored_as_of,
)
from ingest.records import Message, ScanRecords
from ingest.scanner import Scanner, ScanResult
from ingest.sources.host.facts import CommandFailure


@dataclass
class ReplayResult:
    """What a replay made and how it differs from what the scan stored."""

    scan_id: str
    environment: str
    scope: str | None
    objects: int
    links: int
    differences: list[Difference] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # what the replayed scan would have recorded

    @property
    def identical(self) -> bool:
        return not self.differences


class _ReplayScanner(Scanner):
    """The scanner, keeping its messages and errors to itself: a replay leaves no trace in the store."""

    def __init__(self, database: MongoDatabase, environment: Environment, recording: Recording) -> None:
        super().__init__(database, recording.environment, lambda: openstack_documents(recording.openstack),
                         ReplayTransport(recording), fetch_host, environment.cli.concurrency,
                         uplinks=environment.uplinks)
        self.messages: list[str] = []

    def _check_abort(self, scan_id: str, force: bool = False) -> None:
        pass

    def _message(self, message: Message) -> None:
        self.messages.append(f"{message.level}: {message.message}")

    def _host_error(self, scan_id: str, result: ScanResult, host: str, exc: Exception | CommandFailure) -> None:
        result.errors.append(f"{host}: {exc}")
        self.messages.append(f"error: {host}: {exc}")


def replay_scan(database: MongoDatabase, environment: Environment, scan_id: str) -> ReplayResult:
    """Replay scan `scan_id` of `environment` (its configuration: no credentials are needed)."""
    recording = load_recording(database, scan_id)
    if recording.environment != environment.name:
        raise ReplayError(f"scan {scan_id!r} is not a scan of environment {environment.name!r}")
    record = ScanRecords(database).get(scan_id)
    finished = record.get("finished_at") if record else None
    if not isinstance(finished, datetime):
        raise ReplayError(f"scan {scan_id!r} has not finished: there is nothing stored to compare with")
    scanner = _ReplayScanner(database, environment, recording)
    objects, links, _ = scanner.documents(scan_id, ScanResult(scan_id, "running"), lambda *_: None,
                                           recording.scope)
    stored_objects = stored_as_of(database, environment.name, "object", finished, recording.scope)
    stored_links = stored_as_of(database, environment.name, "link", finished)
    if recording.scope is not None:
        inside = {d["id"] for d in stored_objects}
        stored_links = [d for d in stored_links if d["source_id"] in inside or d["target_id"] in inside]
    differences = (compare_documents("object", stored_objects, objects.values(), lambda d: str(d["id"]))
                   + compare_documents("link", stored_links, links.values(), link_key))
    return ReplayResult(scan_id, environment.name, recording.scope, len(objects), len(links), differences,
                        scanner.messages)
