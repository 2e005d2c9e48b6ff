"""Documents from MongoDB and Neo4j as JSON: times as ISO 8601, ids as strings, no internal `_id`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from bson import ObjectId


def jsonable(value: Any) -> Any:
    """A JSON-ready copy of `value` (dicts, lists, scalars)."""
    # Plain dicts, lists and scalars first, by exact type: most of a document, and a list of 190
    # instances spent ~14 ms here per request in isinstance checks. Subclasses take the general way.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): jsonable(v) for k, v in value.items() if k != "_id"}
    if kind is list:
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items() if k != "_id"}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "iso_format"):  # neo4j.time types
        return value.iso_format()
    return str(value)


def with_id(doc: Mapping[str, Any], name: str = "id") -> dict[str, Any]:
    """The document as JSON with its MongoDB `_id` kept, as `name` (for scans, messages)."""
    out = jsonable(doc)
    if "_id" in doc and name not in out:
        out = {name: str(doc["_id"]), **out}
    return out


def result_answer(result: Any) -> dict[str, Any]:
    """An analysis result (a queries.results.Tabular dataclass) as the API answers it: its fields,
    its table as `rows`, its `title`, and its `summary` when it has one."""
    out = jsonable(result.to_dict())
    out["rows"] = jsonable(result.rows())
    out["title"] = str(getattr(result, "title", "") or type(result).__name__)
    if hasattr(result, "summary"):
        out["summary"] = jsonable(result.summary)
    return out
