"""What one simulated cloud app holds: its world source, tokens, and the documents of the current world."""

from __future__ import annotations

import threading
from collections import deque
from typing import TypeVar

from flask import current_app

from lab.cloud.http import base_url
from lab.cloud.source import WorldSource
from lab.cloud.tokens import TokenStore
from lab.world import World

EXTENSION = "lab.cloud"
REQUEST_LOG_SIZE = 10_000
Docs = TypeVar("Docs")


class WorldViews:
    """The API documents of one world as seen at one base URL, each service's built on first use."""

    def __init__(self, world: World, base: str) -> None:
        self.world = world
        self.base = base
        self._built: dict[type, object] = {}
        self._lock = threading.Lock()

    def get(self, kind: type[Docs]) -> Docs:
        """The documents of type kind (e.g. ComputeDocs), made by kind(world, base) once."""
        built = self._built.get(kind)
        if built is None:
            with self._lock:
                built = self._built.get(kind)
                if built is None:
                    built = kind(self.world, self.base)  # type: ignore[call-arg]
                    self._built[kind] = built
        return built  # type: ignore[return-value]


class CloudState:
    """The state behind one app: where the world comes from, the password, the issued tokens."""

    def __init__(self, world_source: WorldSource, password: str) -> None:
        self.world_source = world_source
        self.password = password
        self.tokens = TokenStore()
        self._lock = threading.Lock()
        self._world: World | None = None
        self._views: dict[str, WorldViews] = {}
        #: The requests served, oldest first, as "METHOD /path?query" (the newest REQUEST_LOG_SIZE):
        #: what a client asked for, for tests that check which reads a task makes.
        self.requests: deque[str] = deque(maxlen=REQUEST_LOG_SIZE)

    def views(self, base: str) -> WorldViews:
        """The documents of the current world; rebuilt only when the source returns another World."""
        world = self.world_source()
        with self._lock:
            if world is not self._world:
                # A new world: documents of the old one are never served again.
                self._world, self._views = world, {}
            views = self._views.get(base)
            if views is None:
                views = self._views[base] = WorldViews(world, base)
            return views


def state() -> CloudState:
    """The CloudState of the app handling this request."""
    return current_app.extensions[EXTENSION]


def docs(kind: type[Docs]) -> Docs:
    """This request's documents of one service, e.g. docs(ComputeDocs)."""
    return state().views(base_url()).get(kind)
