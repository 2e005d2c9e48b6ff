"""Collections of API documents and the list operations on them: filters, markers, limits, fields.

Everything here is pure or caches only what is computed from one immutable list of documents,
so that one Collection can serve concurrent requests for as long as its world is current.
"""

from __future__ import annotations

import bisect
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

Document = dict[str, Any]
#: Extra filterable values of a document that are not plain fields (e.g. a port's fixed IPs).
Extractor = Callable[[Document], Iterable[object]]

TRUE_WORDS = {"true", "1", "yes", "on", "t", "y"}
FALSE_WORDS = {"false", "0", "no", "off", "f", "n"}


def filter_key(value: object) -> str:
    """The string a document value is matched by: query strings are compared to this."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def query_key(value: str, boolean: bool) -> str:
    """A query string as filter_key would write the value it means."""
    if boolean:
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return "true"
        if word in FALSE_WORDS:
            return "false"
    return value


class Collection:
    """The documents of one resource type, in the API's order, with lookups by id and by value.

    The per-field value indexes and the JSON encoding of each document are built on first use
    and kept, so a listing costs a slice and a join rather than a scan and a dumps per request.
    """

    def __init__(self, docs: list[Document], id_key: str = "id", fields: Iterable[str] = (),
                 extractors: Mapping[str, Extractor] | None = None) -> None:
        self.docs = docs
        self.id_key = id_key
        self.position = {str(doc[id_key]): i for i, doc in enumerate(docs)}
        self.extractors = dict(extractors or {})
        #: The names a filter may use: the document fields (given, since a collection may be empty).
        self.fields = set(fields) | set(self.extractors)
        self._lock = threading.Lock()
        self._indexes: dict[str, tuple[dict[str, list[int]], bool]] = {}
        self._encoded: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self.docs)

    def get(self, doc_id: str) -> Document | None:
        index = self.position.get(doc_id)
        return None if index is None else self.docs[index]

    def value_index(self, field: str) -> tuple[dict[str, list[int]], bool]:
        """Positions of the documents by the filter_key of their value of field, and whether it is boolean.

        A list value is indexed under each of its elements (a network is found by any of its
        subnets); dict values are not indexed.
        """
        found = self._indexes.get(field)
        if found is not None:
            return found
        index: dict[str, list[int]] = {}
        boolean = False
        extractor = self.extractors.get(field)
        for position, doc in enumerate(self.docs):
            values: Iterable[object]
            if extractor is not None:
                values = extractor(doc)
            else:
                value = doc.get(field)
                if isinstance(value, dict):
                    continue
                values = value if isinstance(value, list) else (value,)
            for value in values:
                boolean = boolean or isinstance(value, bool)
                positions = index.setdefault(filter_key(value), [])
                if not positions or positions[-1] != position:
                    positions.append(position)
        with self._lock:
            self._indexes[field] = (index, boolean)
        return index, boolean

    def encoded(self, position: int, variant: str = "",
                transform: Callable[[Document], Document] | None = None) -> str:
        """The JSON text of one document (of one variant of it, made by transform)."""
        texts = self._encoded.get(variant)
        if texts is None:
            texts = self._encode_all(variant, transform)
        return texts[position]

    def _encode_all(self, variant: str, transform: Callable[[Document], Document] | None) -> list[str]:
        with self._lock:
            texts = self._encoded.get(variant)
            if texts is None:
                texts = [json.dumps(transform(doc) if transform else doc) for doc in self.docs]
                self._encoded[variant] = texts
            return texts


def select(collection: Collection, filters: Sequence[tuple[str, Sequence[str]]]) -> Sequence[int]:
    """Positions, in order, of the documents that match every filter (any of a filter's values)."""
    chosen: set[int] | None = None
    for field, values in filters:
        index, boolean = collection.value_index(field)
        hits: set[int] = set()
        for value in values:
            hits.update(index.get(query_key(value, boolean), ()))
        chosen = hits if chosen is None else chosen & hits
        if not chosen:
            return []
    if chosen is None:
        return range(len(collection))
    return sorted(chosen)


def paginate(positions: Sequence[int], after: int | None, limit: int | None,
             reverse: bool = False) -> tuple[Sequence[int], bool]:
    """The page of positions that follows position `after` (precedes it when reverse), and whether
    more lie beyond the page in that direction.

    `after` is the marker's place in the whole collection, so that a marker that the filters
    leave out still pages correctly.
    """
    if reverse:
        end = len(positions) if after is None else bisect.bisect_left(positions, after)
        start = 0 if limit is None else max(0, end - limit)
        return positions[start:end], start > 0
    start = 0 if after is None else bisect.bisect_right(positions, after)
    if limit is None:
        return positions[start:], False
    end = start + limit
    return positions[start:end], end < len(positions)


def project(doc: Document, fields: Sequence[str]) -> Document:
    """Only the named fields of a document (unknown names are ignored, as Neutron does)."""
    return {name: doc[name] for name in fields if name in doc}


def render_list(key: str, items: Iterable[str], extra: Mapping[str, object] | None = None) -> str:
    """A list response body from already-encoded items: {"<key>": [...], **extra}."""
    body = '{"' + key + '": [' + ", ".join(items) + "]"
    for name, value in (extra or {}).items():
        body += ", " + json.dumps(name) + ": " + json.dumps(value)
    return body + "}"


def parse_limit(raw: str | None) -> int | None:
    """A `limit` query value as an int, None when absent; ValueError when not a non-negative int."""
    if raw is None or raw == "":
        return None
    limit = int(raw)
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {raw}")
    return limit
