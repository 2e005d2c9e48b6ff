"""Where the simulated cloud gets its world from: a fixed World, or a YAML file reread when it changes."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from lab.world import World, WorldError, load_world

log = logging.getLogger(__name__)

#: A zero-argument callable returning the current world; called on every request.
WorldSource = Callable[[], World]


class StaticWorldSource:
    """Always the same world."""

    def __init__(self, world: World) -> None:
        self.world = world

    def __call__(self) -> World:
        return self.world


class FileWorldSource:
    """The world in a YAML file, reloaded when the file's mtime, size or inode changes.

    The same World object is returned until the file changes, so that callers can cache what
    they compute from it by identity. A file that fails to load after the first good one (an
    editor caught half-way through writing it) keeps the previous world; it is retried on the
    next call.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._world: World | None = None

    def __call__(self) -> World:
        try:
            stamp = self._file_stamp()
        except WorldError:
            if self._world is None:
                raise
            # Replaced by rename, or deleted for a moment: serve what we had.
            log.warning("world spec %s is unreadable; still serving the previous one", self.path)
            return self._world
        if stamp == self._stamp and self._world is not None:
            return self._world
        with self._lock:
            if stamp == self._stamp and self._world is not None:
                return self._world
            try:
                world = load_world(self.path)
            except WorldError:
                if self._world is None:
                    raise
                log.warning("world spec %s changed but does not load; still serving the previous one",
                            self.path, exc_info=True)
                return self._world
            self._world, self._stamp = world, stamp
            return world

    def _file_stamp(self) -> tuple[int, int, int]:
        try:
            status = os.stat(self.path)
        except OSError as exc:
            raise WorldError(f"cannot read world spec {self.path}: {exc.strerror}") from exc
        return status.st_mtime_ns, status.st_size, status.st_ino
