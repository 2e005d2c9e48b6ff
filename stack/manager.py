"""`calipso stack up|down|status`: the local servers as one unit."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from core.settings import Settings
from stack.process import StackError, check_alive
from stack.server import LocalServer, ServerStatus
from stack.servers.ferretdb import FerretDBServer
from stack.servers.neo4j import Neo4jServer
from stack.servers.postgresql import PostgreSQLServer
from stack.servers.rabbitmq import RabbitMQServer
from stack.servers.slapd import SlapdServer

SERVERS: dict[str, type[LocalServer]] = {
    "neo4j": Neo4jServer,
    "postgresql": PostgreSQLServer,  # before FerretDB, which stores in it (postgresql backend only)
    "ferretdb": FerretDBServer,
    "rabbitmq": RabbitMQServer,
    "slapd": SlapdServer,
}

Report = Callable[[str, str], None]


def _quiet(server: str, message: str) -> None:
    pass


class Stack:
    """The local servers named by `only` (all those the settings use, by default) and the servers
    they need, under settings.home. A server the settings do not use is still included while it runs,
    so that `down` stops it after a change of settings."""

    def __init__(self, settings: Settings, only: Sequence[str] | None = None) -> None:
        unknown = sorted(set(only or ()) - set(SERVERS))
        if unknown:
            raise StackError(f"unknown server(s) {', '.join(unknown)}; choose from {', '.join(SERVERS)}")
        candidates = {name: cls(settings) for name, cls in SERVERS.items()}
        usable = {name for name, server in candidates.items()
                  if SERVERS[name].wanted(settings) or server.process.pid() is not None}
        unused = sorted(set(only or ()) - usable)
        if unused:
            raise StackError(f"{', '.join(unused)}: not used with these settings and not running "
                             f"(postgresql runs only with CALIPSO_FERRETDB_BACKEND=postgresql)")
        chosen = set(only or usable)
        for name in list(chosen):
            chosen.update(need for need in candidates[name].needs() if need in usable)
        self.servers = [candidates[name] for name in SERVERS if name in chosen]

    def check_tools(self) -> None:
        """Fail with one message listing every missing program and how to install it."""
        missing = [(server.name, tool) for server in self.servers for tool in server.missing_tools()]
        if missing:
            lines = [f"  {name}: `{tool.command}` not found — {tool.install_hint}" for name, tool in missing]
            raise StackError("Programs the local stack needs are missing:\n" + "\n".join(lines))

    def up(self, report: Report = _quiet) -> dict[str, float]:
        """Build and start every server that is not running, then wait until all are ready.

        Idempotent: running servers are left alone. Returns seconds to ready per started server.
        """
        self.check_tools()
        to_start = [server for server in self.servers if server.process.pid() is None]
        for server in to_start:
            server.check_address()
            report(server.name, "building")
            server.build()
        started_at: dict[str, float] = {}
        for server in to_start:
            report(server.name, "starting")
            server.start()
            started_at[server.name] = time.monotonic()
        ready_after: dict[str, float] = {}
        pending = list(self.servers)
        waiting_since = time.monotonic()
        for server in pending:
            report(server.name, "waiting until ready")
        while pending:  # poll every server each round, so each one's time to ready is its own
            for server in list(pending):
                if server.is_ready():
                    pending.remove(server)
                    if server.name in started_at:
                        ready_after[server.name] = time.monotonic() - started_at[server.name]
                    report(server.name, "ready")
                    continue
                waited = time.monotonic() - started_at.get(server.name, waiting_since)
                check_alive(server.process, "ready")
                if waited > server.start_timeout:
                    raise StackError(f"{server.name} was not ready after {server.start_timeout:.0f}s. Last lines "
                                     f"of {server.process.log_file}:\n{server.process.log_tail()}")
            time.sleep(0.1)
        return ready_after

    def down(self, report: Report = _quiet) -> list[str]:
        """Stop every server (and its helper processes); returns the names that were running."""
        stopped = []
        for server in reversed(self.servers):
            if server.stop():
                stopped.append(server.name)
                report(server.name, "stopped")
            server.after_stop()
        return stopped

    def status(self) -> list[ServerStatus]:
        return [server.status() for server in self.servers]
