"""Exploring an environment a piece at a time: the subgraph around a focal point or a search hit
(with a cap on its size, so no client ever loads a whole environment), search by name, counts,
and the inventory tree one level at a time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import neo4j

from core.stores import MongoDatabase
from graphmodel.inventory import LINKS, OBJECTS, inventory_counts
from graphmodel.schema import ENVIRONMENT, LINK_TYPES, LINK_TYPES_BY_NAME, uid
from queries.loader import run_query
from queries.results import Tabular

MAX_HOPS = 4
MAX_NODES = 500
DEFAULT_NODES = 150
MESSAGES = "messages"  # the collection ingest.records writes (queries may not import ingest)

#: What a search looks in: names and ids, and the addresses a person pastes in (a VM's MAC or IP
#: is on its ports, vNICs and its network_info; hosts and tunnel endpoints have their own).
SEARCH_FIELDS = ("name", "id", "mac_address", "ip_address", "fixed_ips", "network_info.ip", "network_info.mac")
_SUMMARY_FIELDS = {"_id": 0, "id": 1, "type": 1, "name": 1, "host": 1, "name_path": 1, "status": 1}


def count(database: MongoDatabase, collection: str, query: dict[str, Any]) -> int:
    """How many documents match. The `count` command, not count_documents' $group pipeline:
    FerretDB answers it about twice as fast, and MongoDB answers both exactly (no transactions here)."""
    return int(database.command("count", collection, query=query)["n"])


@dataclass
class Subgraph(Tabular):
    """Objects and links around focal objects, and whether the cap cut it short."""

    environment: str
    focal: list[str]
    hops: int
    max_nodes: int
    truncated: bool
    nodes: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        return self.nodes


def relationship_types(link_types: Sequence[str] = (), tree: bool = False) -> list[str]:
    """Neo4j relationship types for the named link types (all declared ones when none), plus CONTAINS."""
    chosen = [LINK_TYPES_BY_NAME[name] for name in link_types] if link_types else list(LINK_TYPES)
    names = [t.relationship for t in chosen]
    return names + ["CONTAINS"] if tree else names


def subgraph(driver: neo4j.Driver, environment: str, focal_ids: Sequence[str], hops: int = 2,
             max_nodes: int = DEFAULT_NODES, link_types: Sequence[str] = (), tree: bool = False) -> Subgraph:
    """The objects within `hops` links of the focal objects (nearest first, at most `max_nodes`)
    and the links among them. Unknown link type names raise KeyError."""
    hops = max(0, min(hops, MAX_HOPS))
    max_nodes = max(1, min(max_nodes, MAX_NODES))
    types = relationship_types(link_types, tree)
    focal_uids = [uid(environment, f) for f in focal_ids]
    nodes = run_query(driver, "explore_subgraph_nodes", focal=focal_uids, hops=hops,
                      relationships="|".join(types), limit=max_nodes + 1) if focal_uids else []
    truncated = len(nodes) > max_nodes
    nodes = nodes[:max_nodes]
    uids = [n.pop("uid") for n in nodes]
    links = run_query(driver, "explore_subgraph_links", uids=uids, types=types) if uids else []
    degrees = {r["id"]: r["degree"] for r in run_query(driver, "explore_neighbour_counts", uids=uids, types=types)} \
        if uids else {}
    shown: dict[str, int] = {}
    for link in links:
        for end in (link["source"], link["target"]):
            shown[end] = shown.get(end, 0) + 1
    for node in nodes:
        node["focal"] = node["id"] in focal_ids
        # Links of this node the picture leaves out: what expanding it would add.
        node["hidden_links"] = max(0, degrees.get(node["id"], 0) - shown.get(node["id"], 0))
    return Subgraph(environment, list(focal_ids), hops, max_nodes, truncated, nodes, links)


def search_objects(database: MongoDatabase, environment: str, text: str, types: Sequence[str] = (),
                   limit: int = 20, skip: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Objects whose name, id, MAC or IP address contains `text` (case-insensitive; `text` is literal,
    not a pattern), exact matches first. Returns (one page, total)."""
    pattern = {"$regex": re.escape(text), "$options": "i"}
    query: dict[str, Any] = {"environment": environment,
                             "$or": [{field: pattern} for field in SEARCH_FIELDS]}
    if types:
        query["type"] = {"$in": list(types)}
    total = count(database, OBJECTS, query)
    found = list(database[OBJECTS].find(query, _SUMMARY_FIELDS).sort([("name", 1), ("id", 1)]).skip(skip).limit(limit))
    lowered = text.lower()
    found.sort(key=lambda d: (str(d.get("name", "")).lower() != lowered and str(d.get("id")).lower() != lowered))
    return found, total


def statistics(database: MongoDatabase, environment: str) -> dict[str, Any]:
    """Counts per object type, object status, link type, link state and message level."""

    def count_by(collection: str, key: str) -> dict[str, int]:
        rows = database[collection].aggregate([{"$match": {"environment": environment}},
                                               {"$group": {"_id": f"${key}", "count": {"$sum": 1}}}])
        return {str(r["_id"]) if r["_id"] is not None else "none": int(r["count"])
                for r in sorted(rows, key=lambda r: str(r["_id"]))}

    def kept_or_counted(kind: str, collection: str, key: str) -> dict[str, int]:
        # The writer's per-type counts (one document read) when it keeps them; else a count of the environment.
        kept = inventory_counts(database, environment, kind)
        return count_by(collection, key) if kept is None else {k: n for k, n in sorted(kept.items()) if n}

    objects_by_type = kept_or_counted("object", OBJECTS, "type")
    links_by_type = kept_or_counted("link", LINKS, "link_type")
    return {
        "environment": environment,
        "objects": sum(objects_by_type.values()),
        "links": sum(links_by_type.values()),
        "objects_by_type": objects_by_type,
        "objects_by_status": count_by(OBJECTS, "status"),
        "links_by_type": links_by_type,
        "links_by_state": count_by(LINKS, "state"),
        "messages_by_level": count_by(MESSAGES, "level"),
    }


def tree_children(database: MongoDatabase, environment: str, parent: str | None = None, limit: int = 50,
                  skip: int = 0) -> tuple[list[dict[str, Any]], int]:
    """One level of the inventory tree under `parent` (the environment's root when None), each
    child with how many children it has in turn. Returns (one page, total)."""
    query = {"environment": environment, "parent_id": parent or ENVIRONMENT}
    total = count(database, OBJECTS, query)
    children = list(database[OBJECTS].find(query, _SUMMARY_FIELDS).sort([("type", 1), ("name", 1), ("id", 1)])
                    .skip(skip).limit(limit))
    ids = [c["id"] for c in children]
    counts = {r["_id"]: int(r["count"]) for r in database[OBJECTS].aggregate([
        {"$match": {"environment": environment, "parent_id": {"$in": ids}}},
        {"$group": {"_id": "$parent_id", "count": {"$sum": 1}}}])} if ids else {}
    for child in children:
        child["children"] = counts.get(child["id"], 0)
    return children, total
