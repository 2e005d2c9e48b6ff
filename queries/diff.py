"""What changed in an environment between two times: objects and links added, removed and changed
(with each changed field's old and new value), optionally only within N link hops of one object.

Read from MongoDB's history (DESIGN §3): every version of an object or link has `valid_from` and
`valid_to`, so the state at any time is the versions open at that time. Only the versions that opened
or closed between the two times can differ, so only those are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.errors import CalipsoError
from core.stores import MongoDatabase
from graphmodel.inventory import HISTORY, LINKS, OBJECTS, SLICE
from queries.results import Tabular

SCANS = "scans"  # ingest.records.SCANS (queries may not import ingest)
MAX_HOPS = 6
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

Document = dict[str, Any]


class DiffError(CalipsoError):
    """A diff cannot be computed: a time that is neither a time nor a scan, an unknown object, ..."""


@dataclass
class Change:
    """One object or link that differs between the two times."""

    kind: str  # object | link
    change: str  # added | removed | changed
    key: str  # object id, or link_type|source_id|target_id
    type: str  # object type or link type
    name: str | None
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # field -> {"old": ..., "new": ...}


@dataclass
class DiffResult(Tabular):
    """The changes between `t_from` and `t_to` (around one object when `around` is set)."""

    environment: str
    t_from: datetime
    t_to: datetime
    around: str | None
    hops: int
    changes: list[Change] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        return [{"kind": c.kind, "change": c.change, "type": c.type, "key": c.key, "name": c.name,
                 "fields": "; ".join(f"{k}: {_short(v['old'])} -> {_short(v['new'])}" for k, v in c.fields.items())}
                for c in self.changes]

    @property
    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for c in self.changes:
            counts[f"{c.kind}s {c.change}"] = counts.get(f"{c.kind}s {c.change}", 0) + 1
        return dict(sorted(counts.items()))

    @property
    def title(self) -> str:
        where = f" within {self.hops} hops of {self.around}" if self.around else ""
        return f"Changes in {self.environment}{where} from {self.t_from.isoformat()} to {self.t_to.isoformat()}"


def _short(value: Any, limit: int = 60) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


# -- pure parts -----------------------------------------------------------------------------------------

def as_utc(value: datetime) -> datetime:
    """A datetime in UTC; a naive one is taken to be UTC already (as MongoDB stores them)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def version_at(versions: Iterable[Mapping[str, Any]], at: datetime) -> Mapping[str, Any] | None:
    """The version open at `at`: valid_from <= at < valid_to (an open version has valid_to None)."""
    for version in versions:
        if as_utc(version["valid_from"]) <= at and (version.get("valid_to") is None or at < as_utc(version["valid_to"])):
            return version
    return None


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each field whose value differs, with its old and new value (None when absent)."""
    return {key: {"old": old.get(key), "new": new.get(key)} for key in sorted(set(old) | set(new))
            if old.get(key) != new.get(key)}


def compute_diff(versions: Iterable[Mapping[str, Any]], t_from: datetime, t_to: datetime) -> list[Change]:
    """The changes between two times from history versions (each {kind, key, valid_from, valid_to, doc});
    versions of one key that leave it as it was (changed and changed back) report nothing."""
    t_from, t_to = as_utc(t_from), as_utc(t_to)
    by_key: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for version in versions:
        by_key.setdefault((version["kind"], version["key"]), []).append(version)
    changes = []
    for (kind, key), group in by_key.items():
        before, after = version_at(group, t_from), version_at(group, t_to)
        if before is None and after is None:
            continue
        old, new = (before or {}).get("doc") or {}, (after or {}).get("doc") or {}
        doc = new or old
        type_ = str(doc.get("link_type") if kind == "link" else doc.get("type"))
        name = doc.get("link_name") if kind == "link" else doc.get("name")
        if before is None:
            changes.append(Change(kind, "added", key, type_, name))
        elif after is None:
            changes.append(Change(kind, "removed", key, type_, name))
        else:
            fields = changed_fields(old, new)
            if fields:
                changes.append(Change(kind, "changed", key, type_, name, fields))
    order = {"object": 0, "link": 1}
    return sorted(changes, key=lambda c: (order.get(c.kind, 2), c.change, c.type, c.key))


def link_ends(change: Change) -> tuple[str, str]:
    _, source, target = change.key.split("|", 2)
    return source, target


def restrict(changes: Sequence[Change], objects: set[str]) -> list[Change]:
    """The changes of those objects and of links touching them."""
    return [c for c in changes if (c.key in objects if c.kind == "object" else bool(set(link_ends(c)) & objects))]


def parse_time(value: str, now: datetime | None = None) -> datetime | None:
    """An ISO 8601 time (naive means UTC), "now", or a duration ago ("90s", "15m", "2h", "7d", "1w");
    None when `value` is none of these (it may be a scan id)."""
    now = as_utc(now or datetime.now(UTC))
    text = value.strip()
    if text.lower() == "now":
        return now
    duration = _DURATION.match(text.lower())
    if duration:
        try:
            return now - timedelta(**{_UNITS[duration.group(2)]: int(duration.group(1))})
        except OverflowError:  # further back than year 1
            raise DiffError(f"{value!r} reaches back before year 1; give a shorter duration") from None
    try:
        return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


# -- I/O --------------------------------------------------------------------------------------------------

def resolve_time(database: MongoDatabase, environment: str, value: str | datetime) -> datetime:
    """A time given as a datetime, an ISO time, "now", a duration ago, or a scan id (the time that scan
    finished: the environment as that scan left it)."""
    if isinstance(value, datetime):
        return as_utc(value)
    parsed = parse_time(value)
    if parsed is not None:
        return parsed
    # Scoped to the environment: a scan of another one is answered as unknown, never described.
    scan = database[SCANS].find_one({"_id": value.strip(), "environment": environment})
    if scan is None:
        raise DiffError(f"{value!r} is neither a time (ISO 8601, 'now', or a duration ago such as 2h or 7d) "
                        f"nor a scan id of environment {environment!r}")
    finished = scan.get("finished_at")
    if finished is None:
        raise DiffError(f"scan {value} has not finished (status {scan.get('status')})")
    return as_utc(finished)


def neighbourhood(database: MongoDatabase, environment: str, start: str, hops: int,
                  extra_links: Iterable[tuple[str, str]] = ()) -> set[str]:
    """The objects within `hops` links of `start`, over the current links and `extra_links` (the
    links the diff saw removed, so what was cut off still counts as near)."""
    extra: dict[str, set[str]] = {}
    for source, target in extra_links:
        extra.setdefault(source, set()).add(target)
        extra.setdefault(target, set()).add(source)
    seen, frontier = {start}, [start]
    for _ in range(hops):
        found: set[str] = set()
        for start_ in range(0, len(frontier), SLICE):
            chunk = frontier[start_:start_ + SLICE]
            for link in database[LINKS].find({"environment": environment, "$or": [
                    {"source_id": {"$in": chunk}}, {"target_id": {"$in": chunk}}]}, {"source_id": 1, "target_id": 1}):
                found.update((link["source_id"], link["target_id"]))
        for node in frontier:
            found |= extra.get(node, set())
        frontier = sorted(found - seen)
        seen |= found
        if not frontier:
            break
    return seen


def diff(database: MongoDatabase, environment: str, t_from: str | datetime, t_to: str | datetime = "now",
         around: str | None = None, hops: int = 1) -> DiffResult:
    """Objects and links added, removed and changed between two times (ISO times, durations ago, "now"
    or scan ids); with `around`, only those within `hops` links of that object."""
    start, end = resolve_time(database, environment, t_from), resolve_time(database, environment, t_to)
    if start > end:
        raise DiffError(f"--from ({start.isoformat()}) is after --to ({end.isoformat()})")
    if not 0 <= hops <= MAX_HOPS:
        raise DiffError(f"hops must be between 0 and {MAX_HOPS}, got {hops}")
    versions = list(database[HISTORY].find({"environment": environment, "$or": [
        {"valid_from": {"$gt": start, "$lte": end}}, {"valid_to": {"$gt": start, "$lte": end}}]}, {"_id": 0}))
    changes = compute_diff(versions, start, end)
    if around:
        known = database[OBJECTS].count_documents({"environment": environment, "id": around}, limit=1) or \
            database[HISTORY].count_documents({"environment": environment, "kind": "object", "key": around}, limit=1)
        if not known:
            raise DiffError(f"no object {around!r} in environment {environment!r}, now or in its history")
        removed_links = [link_ends(c) for c in changes if c.kind == "link"]
        changes = restrict(changes, neighbourhood(database, environment, around, hops, removed_links))
    return DiffResult(environment, start, end, around, hops, changes)
