"""A scan of one environment: OpenStack APIs, then every host over its transport, then the link
finders, then one batched write with history and the changes feed. What is fetched and made at each
step, in which order and for which variant, is declared in ingest/hierarchy.py.

Hosts are scanned concurrently (at most `concurrency` at once). A host that cannot be reached is
recorded as a message and makes the scan completed_with_errors; every other host's objects are
still written, and nothing of the failed host is closed (its objects keep their last known state
rather than vanish). A command that fails or prints something unparsable is a message naming the
command: the host's other facts are written, and the scan is completed_with_errors the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from pymongo.database import Database

from core.errors import CalipsoError
from graphmodel.inventory import (
    ANCESTOR_FIELDS,
    OBJECTS,
    InventoryWriter,
    WriteStats,
    environment_write_lock,
    stored_ancestors,
)
from graphmodel.tree import assign_paths
from ingest.hierarchy import host_documents
from ingest.records import Message, ScanRecords, excerpt, record_message
from ingest.sources.host.facts import CommandFailure, HostFacts
from ingest.sources.host.fetch import OVS_SERVICE
from ingest.sources.host.transform import L2_AGENTS, OpenStackIndex
from ingest.transport import Transport, TransportError

Document = dict[str, Any]
HostFetcher = Callable[[Transport, str], HostFacts]
Progress = Callable[[str, int, int], None]  # (phase, done, total)


class ScanAborted(CalipsoError):
    """Someone asked the scan to stop."""


@dataclass
class ScanResult:
    scan_id: str
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    written: WriteStats = field(default_factory=WriteStats)


#: The host service each mechanism's L2 agent needs running.
SERVICES_OF_MECHANISM = {"ovs": {OVS_SERVICE}}


def _unused_service(failure: CommandFailure, index: OpenStackIndex, host: str) -> bool:
    """Whether the failure is only a service being down that none of the host's network agents uses."""
    if failure.service_down is None:
        return False
    mechanisms = {L2_AGENTS.get(str(agent.get("binary"))) for agent in index.agents.get(host, [])}
    return not any(failure.service_down in SERVICES_OF_MECHANISM.get(str(m), set()) for m in mechanisms)


def _quiet(phase: str, done: int, total: int) -> None:
    pass


class ScopeError(CalipsoError):
    """A partial scan names an object the environment does not have."""


#: How often (seconds) a running scan reads its record to see whether an abort was asked (each read
#: costs a scan of the `scans` collection on FerretDB: measured 160 ms under load).
ABORT_POLL_S = 2.0


class Scanner:
    """Scans one environment into MongoDB: all of it, or the subtree of one object."""

    def __init__(self, database: Database, environment: str, openstack_docs: Callable[[], list[Document]],
                 transport: Transport, fetch_host: HostFetcher, concurrency: int = 8,
                 uplinks: Mapping[str, Sequence[str]] | None = None,
                 fetched_elsewhere: Mapping[str, float] | None = None) -> None:
        """`fetched_elsewhere`: timings of phases run before or by other processes (a split scan's
        `openstack_s`, `hosts_fetch_s`, ...); they replace the scanner's own (its reading of answers staged by
        others is then `replay_s`)."""
        self.db = database
        self.fetched_elsewhere = dict(fetched_elsewhere or {})
        self.uplinks = uplinks  # the environment's declared uplinks (ingest/sources/host/uplinks.py)
        self.environment = environment
        self.openstack_docs = openstack_docs
        self.transport = transport
        self.fetch_host = fetch_host
        self.concurrency = concurrency
        self.records = ScanRecords(database)
        self._abort_checked = 0.0

    def scan(self, progress: Progress = _quiet, scan_id: str | None = None,
             object_id: str | None = None) -> ScanResult:
        """A full scan (everything seen is written; a clean one closes what it no longer sees), or
        with `object_id` a rescan of that object's subtree only: only hosts inside it (or the host
        it lives on) are asked, and only objects and links inside it are written or closed."""
        scan_id = scan_id or self.records.create(self.environment, scope=object_id)
        self.records.start(scan_id)
        result = ScanResult(scan_id, "running")
        try:
            self._scan(scan_id, result, progress, object_id)
        except ScanAborted:
            result.status = "aborted"
        except Exception as exc:  # noqa: BLE001 - recorded as the scan's failure, then raised
            result.status = "failed"
            result.errors.append(f"{type(exc).__name__}: {exc}")
            self.records.add_error(scan_id, result.errors[-1])
            self.records.finish(scan_id, "failed", result.counts, result.timings)
            raise
        self.records.finish(scan_id, result.status, result.counts, result.timings)  # type: ignore[arg-type]
        return result

    def _check_abort(self, scan_id: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._abort_checked < ABORT_POLL_S:
            return
        self._abort_checked = now
        if self.records.abort_requested(scan_id):
            raise ScanAborted(scan_id)

    def _scan(self, scan_id: str, result: ScanResult, progress: Progress, object_id: str | None) -> None:
        objects, links, failed_hosts = self.documents(scan_id, result, progress, object_id)
        write_started = time.perf_counter()
        writer = InventoryWriter(self.db, self.environment)
        progress("writing", 0, 2)
        with environment_write_lock(self.db, self.environment, owner=f"scan:{scan_id}"):
            result.written += writer.write_objects(list(objects.values()), scan_id)
            progress("writing", 1, 2)
            result.written += writer.write_links(list(links.values()), scan_id)
            progress("writing", 2, 2)
            if not failed_hosts:
                result.written += writer.close_unseen(scan_id, subtree=object_id)
        result.timings["write_s"] = time.perf_counter() - write_started
        if "hosts_fetch_s" in self.fetched_elsewhere:
            result.timings["replay_s"] = result.timings.get("hosts_fetch_s", 0.0)
        result.timings.update(self.fetched_elsewhere)

        for doc in objects.values():
            result.counts[doc["type"]] = result.counts.get(doc["type"], 0) + 1
        result.counts["links"] = len(links)
        result.status = "completed_with_errors" if failed_hosts else "completed"

    def documents(self, scan_id: str, result: ScanResult, progress: Progress, object_id: str | None
                   ) -> tuple[dict[str, Document], dict[tuple[str, str, str], Document], list[str]]:
        """Read the APIs and the hosts and make the documents: (objects by id, links by key, hosts
        not seen whole). Nothing is written but messages."""
        started = time.perf_counter()
        self._check_abort(scan_id, force=True)
        progress("OpenStack APIs", 0, 1)
        docs = self.openstack_docs()
        result.timings["openstack_s"] = time.perf_counter() - started
        progress("OpenStack APIs", 1, 1)
        self._check_abort(scan_id, force=True)
        index = OpenStackIndex(docs, self.uplinks)
        objects = {d["id"]: d for d in docs}
        if object_id is None:
            known = {d["id"]: d for d in self.db[OBJECTS].find({"environment": self.environment},
                                                              {"_id": 0, **{name: 1 for name in ANCESTOR_FIELDS}})}
        else:  # a subtree: what places the scope and its documents, not the whole inventory
            known = stored_ancestors(self.db, self.environment, objects.values(), also=[object_id])
        hosts = sorted(d["id"] for d in docs if d["type"] == "host")
        if object_id is not None:
            hosts = self._hosts_in_scope(object_id, objects, known, hosts)
        links: dict[tuple[str, str, str], Document] = {}
        failed_hosts: list[str] = []

        fetch_started = time.perf_counter()
        transform_s = 0.0

        def add_host_documents(host_facts: HostFacts) -> None:
            # Each host's facts become documents as soon as they arrive and are dropped: a host in
            # a full VXLAN mesh has a tunnel port per peer, too many to keep for every host.
            nonlocal transform_s
            begun = time.perf_counter()
            found = host_documents(host_facts, index)
            for doc in found.objects:
                objects.setdefault(doc["id"], doc)
            for link in found.links:
                links[(link["link_type"], link["source_id"], link["target_id"])] = link
            transform_s += time.perf_counter() - begun

        progress("hosts", 0, len(hosts))
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="scan-host") as pool:
            futures = {pool.submit(self.fetch_host, self.transport, host): host for host in hosts}
            try:
                for done, future in enumerate(as_completed(futures), 1):
                    host = futures.pop(future)
                    try:
                        host_facts = future.result()
                        add_host_documents(host_facts)
                        # a host with failed commands is written with its other facts, but it was not
                        # seen whole: like a failed host, it keeps the scan from closing what was unseen.
                        # A service the host does not use being down (OVS installed on a Linux-bridge
                        # host) hides nothing: a warning, and the host counts as seen whole.
                        missing = [f for f in host_facts.failures if not _unused_service(f, index, host)]
                        for failure in host_facts.failures:
                            if failure in missing:
                                self._host_error(scan_id, result, host, failure)
                            else:
                                self._host_warning(scan_id, host, failure)
                        if missing:
                            failed_hosts.append(host)
                    except (TransportError, CalipsoError, ValueError) as exc:
                        # ValueError: facts an id cannot be built from (graphmodel.schema.object_id)
                        failed_hosts.append(host)
                        self._host_error(scan_id, result, host, exc)
                    progress("hosts", done, len(hosts))
                    self._check_abort(scan_id)
            except ScanAborted:
                # Hosts not started yet are dropped; the few being asked finish their commands.
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        result.timings["hosts_fetch_s"] = time.perf_counter() - fetch_started - transform_s

        transform_started = time.perf_counter() - transform_s
        if object_id is not None:
            known.update(stored_ancestors(self.db, self.environment, objects.values()))
        orphans = assign_paths(objects.values(), known)
        if object_id is not None:
            objects = {i: d for i, d in objects.items() if object_id in d["id_path"]}
            links = {k: link for k, link in links.items()
                     if link["source_id"] in objects or link["target_id"] in objects}
            orphans = [o for o in orphans if o in objects]
        for orphan in orphans:
            self._message(Message(self.environment, "Calipso", "warning", f"object {orphan} has no known parent",
                                  related_object=orphan, scan_id=scan_id))
        result.timings["transform_s"] = time.perf_counter() - transform_started
        self._check_abort(scan_id, force=True)
        return objects, links, failed_hosts

    def _hosts_in_scope(self, object_id: str, objects: dict[str, Document], known: dict[str, Document],
                        hosts: list[str]) -> list[str]:
        """The hosts a subtree rescan asks: those inside the subtree, and the one it lives on."""
        if object_id not in objects and object_id not in known:
            raise ScopeError(f"environment {self.environment!r} has no object {object_id!r} "
                             "(rescan a known object, or run a full scan first)")
        assign_paths(objects.values(), known)
        path = objects[object_id]["id_path"] if object_id in objects else known[object_id].get("id_path") or []
        return [h for h in hosts if h in path or object_id in objects[h]["id_path"]]

    def _message(self, message: Message) -> None:
        record_message(self.db, message)

    def _host_warning(self, scan_id: str, host: str, failure: CommandFailure) -> None:
        self._message(Message(
            self.environment, "Calipso", "warning", f"{host}: {failure} (the host's network agent does not use it)",
            related_object=host, related_object_type="host", scan_id=scan_id,
            details={"host": host, "command": failure.command}))

    def _host_error(self, scan_id: str, result: ScanResult, host: str, exc: Exception | CommandFailure) -> None:
        command = getattr(exc, "command", None)
        text = f"{host}: {exc}"
        result.errors.append(text)
        self.records.add_error(scan_id, text)
        self._message(Message(
            self.environment, "Calipso", "error", text, related_object=host, related_object_type="host",
            scan_id=scan_id, details={"host": host, "command": command,
                                      "excerpt": excerpt(getattr(exc, "excerpt", "") or "")}))
