"""Apply a listener `Plan` to one environment's inventory (MongoDB, and the OpenStack APIs when the
event lacks data), through the one write path: `InventoryWriter`, with history and the changes feed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pymongo.database import Database

from graphmodel.inventory import OBJECTS, InventoryWriter, WriteStats, environment_write_lock, stored_ancestors
from graphmodel.pushdown import find_each
from graphmodel.schema import ENVIRONMENT
from graphmodel.tree import assign_paths
from ingest.listener.handlers import Plan, keep_stored_fields, renamed_descendants
from ingest.records import Message, record_message
from ingest.sources.openstack import fetch
from ingest.sources.openstack.fetch import RawOpenStack
from ingest.sources.openstack.transform import networks_and_ports

Document = dict[str, Any]
#: Reads one network and its subnets from the API (in the shapes `fetch_openstack` gives); None if it is gone.
NetworkReader = Callable[[str], tuple[Document, list[Document]] | None]

NETWORK_NODE_ROLE = "Network"


@dataclass
class Applied:
    """What applying a plan did: the write counts, and the hosts to rescan next."""

    written: WriteStats = field(default_factory=WriteStats)
    hosts: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)


def network_reader(connection: Any) -> NetworkReader:
    """A NetworkReader on an openstacksdk connection: the scan's own list reads, filtered to one network."""
    def read(network_id: str) -> tuple[Document, list[Document]] | None:
        networks = fetch.read_list(connection.network, "networks", "/networks", "networks", fetch.network,
                                   {"id": network_id})
        if not networks:
            return None
        subnets = fetch.read_list(connection.network, "subnets", "/subnets", "subnets", fetch.subnet,
                                  {"network_id": network_id, "limit": fetch.PAGE_SIZE})
        return networks[0], subnets
    return read


class InventoryApplier:
    """Writes what events say into one environment's inventory."""

    def __init__(self, database: Database, environment: str, read_network: NetworkReader) -> None:
        self.db = database
        self.environment = environment
        self.read_network = read_network
        self.writer = InventoryWriter(database, environment)
        self.lock_owner = f"listener:{os.getpid()}"

    def _find(self, query: dict[str, Any], fields: tuple[str, ...] | None = None) -> list[Document]:
        projection = {"_id": 0, **{name: 1 for name in fields}} if fields else {"_id": 0}
        return list(self.db[OBJECTS].find({"environment": self.environment, **query}, projection))

    def _find_each(self, field: str | tuple[str, ...], values: Iterable[Any], fields: tuple[str, ...] | None = None,
                   **query: Any) -> list[Document]:
        """`_find` of the objects whose `field` is one of `values` (asked so the store pushes it down)."""
        projection = {"_id": 1, **{name: 1 for name in fields}} if fields else None
        return find_each(self.db[OBJECTS], {"environment": self.environment, **query}, field, values, projection)

    def apply(self, plan: Plan) -> Applied:
        """Delete and write what the plan says; return the hosts whose subtree must be rescanned.

        Each stored object the event names is looked up once (every lookup is a round trip to the
        store, and an event's time is mostly round trips): the documents it writes, those whose hosts
        are to be refreshed and the hosts it names, in one lookup; the ancestors that place the
        written documents come from their stored paths (`_ancestors`)."""
        applied = Applied()
        hosts = set(plan.refresh_hosts) | self._router_hosts(plan.refresh_routers)
        docs = list(plan.write) + self._reread_networks(plan)
        with environment_write_lock(self.db, self.environment, owner=self.lock_owner):
            # Read under the lock, before anything is deleted or moved: what a scan wrote meanwhile counts.
            named = [d["id"] for d in docs] + plan.refresh_hosts_of + sorted(hosts)
            stored = {d["id"]: d for d in self._find_each("id", named)}
            hosts |= {stored[i]["host"] for i in plan.refresh_hosts_of if stored.get(i, {}).get("host")}
            if plan.delete:
                applied.written += self._delete_subtrees(plan.delete)
            if docs:
                applied.orphans = self._write(docs, plan.keep_stored, applied, stored)
        known_hosts = {host for host in hosts if stored.get(host, {}).get("type") == "host"}
        if hosts - stored.keys():  # found through a stored object (a VM's previous host)
            known_hosts |= {d["id"] for d in self._find_each("id", sorted(hosts - stored.keys()), ("id",), type="host")}
        applied.hosts = sorted(hosts & known_hosts)
        return applied

    # -- reading what the event lacks ----------------------------------------------------------------

    def _router_hosts(self, router_ids: list[str]) -> set[str]:
        """Where the routers' qrouter namespaces are; for a router not seen yet, every network node."""
        if not router_ids:
            return set()
        found = self._find_each("router_id", router_ids, ("router_id", "host"), type="vservice")
        hosts = {d["host"] for d in found if d.get("host")}
        if {d["router_id"] for d in found} != set(router_ids):
            hosts |= {d["id"] for d in self._find({"type": "host", "host_type": NETWORK_NODE_ROLE}, ("id",))}
        return hosts

    def _reread_networks(self, plan: Plan) -> list[Document]:
        network_ids = list(plan.reread_networks)
        if plan.reread_networks_of_subnets:
            network_ids += [d["id"] for d in self._find_each("subnets", plan.reread_networks_of_subnets, ("id",),
                                                              type="network")]
        docs: list[Document] = []
        for network_id in dict.fromkeys(network_ids):
            found = self.read_network(network_id)
            if found is None:
                continue  # deleted meanwhile: its own delete event follows
            network, subnets = found
            docs += networks_and_ports(RawOpenStack(region="", networks=[network], subnets=subnets))
        return docs

    # -- writing -------------------------------------------------------------------------------------

    def _ancestors(self, docs: list[Document], stored: dict[str, Document]) -> dict[str, Document]:
        """The stored objects that place `docs` (assign_paths' `known`). A document stored under the
        same parent names every ancestor in its stored `id_path` and `name_path` (written with them,
        under the write lock, and rewritten by whatever renamed or moved one of them): a VM's folder
        gives its host, zone, region and root without a lookup each. The others' are read
        (`stored_ancestors`)."""
        in_batch = {d["id"] for d in docs}
        known: dict[str, Document] = {}
        unplaced: list[Document] = []
        for doc in docs:
            parent = doc.get("parent_id")
            if not parent or parent == ENVIRONMENT or parent in in_batch:
                continue
            before = stored.get(doc["id"]) or {}
            ids, names = list(before.get("id_path") or []), list(before.get("name_path") or [])
            if before.get("parent_id") != parent or len(ids) < 2 or len(ids) != len(names) or ids[-2] != parent:
                unplaced.append(doc)
                continue
            for depth, (ancestor, name) in enumerate(zip(ids[:-1], names[:-1], strict=True)):
                known.setdefault(ancestor, {"id": ancestor, "name": name,
                                            "parent_id": ids[depth - 1] if depth else ENVIRONMENT})
        if unplaced:
            known.update(stored_ancestors(self.db, self.environment, unplaced))
        return known

    def _write(self, docs: list[Document], keep_stored: dict[str, tuple[str, ...]], applied: Applied,
               stored: dict[str, Document]) -> list[str]:
        """Write `docs` over the `stored` documents of their ids; returns the orphans."""
        ids = [d["id"] for d in docs]
        docs = [keep_stored_fields(d, stored.get(d["id"]), keep_stored.get(d["id"], ())) for d in docs]
        orphans = assign_paths(docs, self._ancestors(docs, stored))
        for orphan in orphans:
            record_message(self.db, Message(self.environment, "Calipso", "warning",
                                            f"object {orphan} has no known parent", related_object=orphan,
                                            details={"source": "listener"}))
        descendants: list[Document] = []
        for doc in docs:
            before = stored.get(doc["id"])
            if before is not None and before.get("name_path") != doc["name_path"]:
                below = self._find({"id_path": doc["id"], "id": {"$nin": ids}})
                descendants += [{k: v for k, v in d.items() if k not in ("environment", "first_seen", "last_seen")}
                                for d in renamed_descendants(doc, below)]
        applied.written += self.writer.write_objects(docs + descendants)
        return orphans

    def _delete_subtrees(self, roots: list[str]) -> WriteStats:
        """Delete the objects, everything under them and every link touching those; then folders left
        empty by it (a full scan does not emit a folder without children)."""
        gone = self._find_each(("id", "id_path"), roots, ("id", "parent_id", "type"))
        if not gone:
            return WriteStats()
        stats = self.writer.delete_objects([d["id"] for d in gone])
        gone_ids = {d["id"] for d in gone}
        parents = {d["parent_id"] for d in gone if d.get("parent_id") and d["parent_id"] not in gone_ids}
        while parents:
            folders = [d["id"] for d in self._find_each("id", sorted(parents), ("id",), type="folder")]
            still_used = {d["parent_id"] for d in self._find_each("parent_id", folders, ("parent_id",))}
            empty = [f for f in folders if f not in still_used]
            if not empty:
                break
            parent_of = {d["id"]: d.get("parent_id") for d in self._find_each("id", empty, ("id", "parent_id"))}
            stats += self.writer.delete_objects(empty)
            parents = {p for p in parent_of.values() if p}
        return stats
