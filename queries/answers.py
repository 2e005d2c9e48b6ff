"""Answers of inventory queries kept while an environment's inventory stands still.

Every change of an environment's objects and links (scans, the listener, monitoring) goes through
`InventoryWriter`, which numbers a changes-feed entry for it after writing the state, so the
environment's feed counter is a version of its whole inventory (`inventory_version`, which a purge
moves too): an answer computed after reading a version stays right until it moves. Reading it is one
lookup by `_id`; the
answer it saves is a query FerretDB answers by decoding every matching document (about 40 ms of its
CPU for 190 instances, so 20 clients queued for about a second on 2 cores).

Kept per process (each API process has its own), at most `MAX_ENTRIES` answers, least recently
used first out, each for at most `TTL_S` (a safety net for writes made past the writer).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from core.stores import MongoDatabase
from graphmodel.inventory import InventoryVersion, inventory_version

Answer = TypeVar("Answer")

MAX_ENTRIES = 512
TTL_S = 60.0


class InventoryAnswers:
    """A small least-recently-used store of answers keyed by (database, environment, version, question)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, ttl_s: float = TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries, self.ttl_s, self.clock = max_entries, ttl_s, clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}  # one computation per key at a time
        self.hits = self.misses = 0

    def answer(self, database: MongoDatabase, environment: str, question: Hashable,
               compute: Callable[[], Answer], version: InventoryVersion | None = None) -> Answer:
        """`compute()`'s answer to `question` about `environment`, reused while its inventory is unchanged
        (`version`: the inventory version, when the caller read it already). Answers are shared between
        callers: treat them as read-only."""
        if version is None:
            version = inventory_version(database, environment)
        key = (database.name, environment, version, question)
        kept = self._kept(key)
        if kept is not None:
            return kept[0]  # type: ignore[no-any-return]
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        # Clients asking the same question at once wait for one computation instead of each
        # making FerretDB decode the same documents.
        with computing:
            kept = self._kept(key)
            if kept is not None:
                return kept[0]  # type: ignore[no-any-return]
            with self._lock:
                self.misses += 1
            now = self.clock()
            value = compute()
            with self._lock:
                self._entries[key] = (now, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
                self._computing.pop(key, None)
        return value

    def _kept(self, key: Hashable) -> tuple[Any] | None:
        """The kept answer (in a 1-tuple, as an answer may be None), if it is young enough."""
        with self._lock:
            kept = self._entries.get(key)
            if kept is None or self.clock() - kept[0] > self.ttl_s:
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return (kept[1],)


#: This process's answers (the API's list and lookup endpoints use it).
inventory_answers = InventoryAnswers()
