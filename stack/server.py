"""What every local server of the stack looks like to the stack manager."""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from core.settings import Settings
from stack.process import ManagedProcess, StackError, port_open

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Tool:
    """A program a server needs, and how to get it when it is missing."""

    command: str
    install_hint: str


@dataclass
class ServerStatus:
    name: str
    running: bool
    ready: bool
    pid: int | None
    ports: dict[str, int] = field(default_factory=dict)
    log: str = ""


class LocalServer(ABC):
    """One server of the local stack: its tools, build, start command and readiness check.

    Subclasses declare `name`, `tools`, and implement `ports`, `command` and `is_ready`;
    `build` and `prepare` are optional steps before the first start.
    """

    name: str
    tools: tuple[Tool, ...] = ()
    start_timeout: float = 120.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home: Path = settings.home
        self.data_dir = self.home / "data" / self.name
        self.process = ManagedProcess(self.name, self.home / "run" / f"{self.name}.pid",
                                      self.home / "logs" / f"{self.name}.log")

    # -- what subclasses provide --------------------------------------------------------------

    @classmethod
    def wanted(cls, settings: Settings) -> bool:
        """Whether these settings use this server at all (e.g. PostgreSQL only as FerretDB's backend)."""
        return True

    def needs(self) -> tuple[str, ...]:
        """Other servers this one needs running, by name; `--only` this server brings them along."""
        return ()

    @abstractmethod
    def ports(self) -> dict[str, int]:
        """The TCP ports this server listens on, by role (e.g. {'bolt': 7687, 'http': 7474})."""

    @abstractmethod
    def command(self) -> tuple[list[str], dict[str, str]]:
        """argv and extra environment that run the server in the foreground."""

    @abstractmethod
    def is_ready(self) -> bool:
        """True once the server answers requests."""

    def host(self) -> str:
        return "127.0.0.1"

    def build(self) -> None:
        """Compile or fetch what the server runs (idempotent, quick when already done)."""

    def prepare(self) -> None:
        """Create data directories and configuration files before a start."""

    def after_stop(self) -> None:
        """Clean up helper processes after the main process has stopped."""

    # -- shared behaviour ---------------------------------------------------------------------

    def missing_tools(self) -> list[Tool]:
        return [tool for tool in self.tools if shutil.which(tool.command) is None]

    def check_address(self) -> None:
        if self.host() not in LOOPBACK:
            raise StackError(f"{self.name}: the settings point at {self.host()}, not at this machine; "
                             "`calipso stack` only runs servers on loopback")
        for role, port in self.ports().items():
            if port_open(self.host(), port):
                raise StackError(f"{self.name}: port {port} ({role}) is already in use by another "
                                 "process; stop it or choose another port in the settings")

    def stop(self) -> bool:
        """Stop the main process; True if it was running."""
        return self.process.stop()

    def start(self) -> int:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.prepare()
        argv, env = self.command()
        return self.process.start(argv, env, cwd=self.data_dir)

    def status(self) -> ServerStatus:
        pid = self.process.pid()
        return ServerStatus(self.name, pid is not None, pid is not None and self.is_ready(), pid,
                            self.ports(), str(self.process.log_file))

    def log_since_start(self) -> str:
        return self.process.log_since_start()
