"""`calipso run`'s supervisor: the back end's processes as children, restarted when they crash.

Each child is a `calipso` command in a session of its own (so a terminal's Ctrl-C reaches only the
supervisor, which then stops the children in order, and stopping a child's session stops its own
helpers, e.g. a worker's pool processes). A child that exits while the supervisor runs is started
again after a backoff that doubles from 1 s up to 30 s, reset once the child has stayed up a minute.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: Backoff before a crashed child is started again: first, cap; reset after STABLE_S of uptime.
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
STABLE_S = 60.0
#: How long children get to stop after SIGTERM before SIGKILL.
STOP_GRACE_S = 30.0


def calipso_command() -> list[str]:
    """How to run `calipso` from here: the console script next to this Python, or the module."""
    script = Path(sys.executable).with_name("calipso")
    return [str(script)] if script.exists() else [sys.executable, "-m", "calipso.cli"]


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: list[str]
    log_file: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff_s: float = FIRST_BACKOFF_S
    restart_at: float | None = None
    history: list[int] = field(default_factory=list)  # exit codes seen


class Supervisor:
    """Starts the children, restarts those that exit, and stops them all when asked."""

    def __init__(self, children: list[Child], say: Callable[[str], None],
                 environment: dict[str, str] | None = None, stop_grace_s: float = STOP_GRACE_S) -> None:
        self.children, self.say, self.stop_grace_s = children, say, stop_grace_s
        self.environment = environment if environment is not None else dict(os.environ)

    def _start(self, child: Child) -> None:
        child.log_file.parent.mkdir(parents=True, exist_ok=True)
        with child.log_file.open("ab") as sink:
            child.process = subprocess.Popen(child.argv, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink,
                                             env=self.environment, start_new_session=True)
        child.started_at = time.monotonic()
        child.restart_at = None
        self.say(f"{child.name} started (pid {child.process.pid}, log {child.log_file})")

    def run(self, stop: Callable[[], bool], poll_s: float = 0.2) -> None:
        """Supervise until stop() is true, then stop every child."""
        for child in self.children:
            self._start(child)
        try:
            while not stop():
                now = time.monotonic()
                for child in self.children:
                    if child.restart_at is not None:
                        if now >= child.restart_at:
                            child.restarts += 1
                            self._start(child)
                        continue
                    assert child.process is not None
                    code = child.process.poll()
                    if code is None:
                        continue
                    child.history.append(code)
                    if now - child.started_at >= STABLE_S:
                        child.backoff_s = FIRST_BACKOFF_S
                    child.restart_at = now + child.backoff_s
                    self.say(f"{child.name} (pid {child.process.pid}) exited with {code}; "
                             f"restarting in {child.backoff_s:g}s")
                    _stop_session(child.process, signal.SIGKILL)  # what it left behind (pool processes)
                    child.backoff_s = min(child.backoff_s * 2, MAX_BACKOFF_S)
                time.sleep(poll_s)
        finally:
            self.stop_all()

    def stop_all(self) -> None:
        """SIGTERM every running child's session, wait for them, SIGKILL what is left."""
        running = [c for c in self.children if c.process is not None and c.process.poll() is None]
        for child in running:
            self.say(f"stopping {child.name} (pid {child.process.pid})")  # type: ignore[union-attr]
            _stop_session(child.process, signal.SIGTERM)  # type: ignore[arg-type]
        deadline = time.monotonic() + self.stop_grace_s
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{child.name} did not stop within {self.stop_grace_s:g}s: killed")
            _stop_session(child.process, signal.SIGKILL)
            child.process.wait(timeout=10)


def _stop_session(process: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
