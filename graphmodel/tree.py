"""The inventory tree: folder objects and the materialised `id_path` / `name_path` of every object."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphmodel.schema import ENVIRONMENT, folder_id

Document = dict[str, Any]


def folder_document(parent_id: str, parent_type: str, folder: str, child_type: str,
                    host: str | None = None) -> Document:
    """A folder object grouping a parent's children of one type (top-level: parent_id "")."""
    return {"id": folder if not parent_id else folder_id(parent_id, folder), "type": "folder",
            "name": folder.replace("_", " ").title(), "parent_id": parent_id or ENVIRONMENT,
            "parent_type": parent_type, "host": host, "folder_of": child_type}


def assign_paths(docs: Iterable[Document], known: dict[str, Document] | None = None) -> list[str]:
    """Set `id_path` and `name_path` (lists, root first, the object last) on every document.

    Parents are looked up among the documents and in `known` (already stored objects).
    Returns the ids whose chain does not reach the environment (a parent is missing).
    """
    docs = list(docs)
    by_id = {**(known or {}), **{d["id"]: d for d in docs}}
    orphans = []
    for doc in docs:
        ids, names, seen = [], [], set()
        current: dict[str, Any] | None = doc
        while current is not None and current["id"] not in seen:
            seen.add(current["id"])
            ids.append(current["id"])
            names.append(current.get("name") or current["id"])
            parent = current.get("parent_id")
            if parent == ENVIRONMENT:
                break
            current = by_id.get(parent)
        else:
            orphans.append(doc["id"])
        doc["id_path"], doc["name_path"] = ids[::-1], names[::-1]
    return orphans
