"""Host refreshes, debounced, and the messages that wait for them before they are acknowledged (pure).

A burst of events about one host (a VM boot sends port.create.end then compute.instance.create.end)
asks for one rescan of that host: the first request opens a window, later requests inside it join
it. A message is acknowledged only once every refresh it asked for has run, so a crash before
that leaves it on the queue to be delivered again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Clock = Callable[[], float]
M = TypeVar("M")


class Debouncer:
    """Host refreshes due at the end of a window opened by the first request."""

    def __init__(self, window_s: float, clock: Clock = time.monotonic) -> None:
        self.window_s = window_s
        self.clock = clock
        self._due: dict[str, float] = {}

    def request(self, host: str) -> bool:
        """Ask for a refresh of `host`; False if one is already waiting (this request joins it)."""
        if host in self._due:
            return False
        self._due[host] = self.clock() + self.window_s
        return True

    def take_due(self) -> list[str]:
        """Hosts whose window has ended, in the order they were asked for; they are no longer pending."""
        now = self.clock()
        due = [host for host, at in self._due.items() if at <= now]
        for host in due:
            del self._due[host]
        return due

    def take_all(self) -> list[str]:
        """Every pending host, window ended or not (the listener is stopping or the queue is idle)."""
        hosts = list(self._due)
        self._due.clear()
        return hosts

    def seconds_to_next(self) -> float | None:
        """How long until the next window ends; None when nothing is pending."""
        if not self._due:
            return None
        return max(0.0, min(self._due.values()) - self.clock())

    def pending(self) -> list[str]:
        return list(self._due)

    def clear(self) -> None:
        self._due.clear()


@dataclass
class _Waiting(Generic[M]):
    message: M
    hosts: set[str] = field(default_factory=set)


class AckQueue(Generic[M]):
    """Messages waiting for host refreshes, released in arrival order once all of theirs have run."""

    def __init__(self) -> None:
        self._waiting: list[_Waiting[M]] = []

    def add(self, message: M, hosts: Iterable[str]) -> None:
        self._waiting.append(_Waiting(message, set(hosts)))

    def refreshed(self, host: str) -> list[M]:
        """`host` was refreshed: the messages that no longer wait for anything."""
        for waiting in self._waiting:
            waiting.hosts.discard(host)
        ready = [w.message for w in self._waiting if not w.hosts]
        self._waiting = [w for w in self._waiting if w.hosts]
        return ready

    def __len__(self) -> int:
        return len(self._waiting)

    def clear(self) -> None:
        """Forget every waiting message (its channel is gone; the broker delivers it again)."""
        self._waiting.clear()
