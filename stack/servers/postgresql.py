"""PostgreSQL 15 from Debian's package: FerretDB's storage when CALIPSO_FERRETDB_BACKEND=postgresql.

The stack runs a cluster of its own under its data directory, listening on 127.0.0.1 only (no Unix
socket), with trust authentication: it is a loopback development store like the stack's other servers.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

from core.settings import Settings
from stack.process import StackError, port_open, process_alive, run_checked
from stack.server import LocalServer, Tool

PG_BIN = Path("/usr/lib/postgresql/15/bin")
READY_LINE = "database system is ready to accept connections"
#: The cluster's superuser and the database FerretDB keeps its collections in (one schema per MongoDB database).
ROLE = "calipso"
DATABASE = "ferretdb"
#: PostgreSQL refuses to run as root; as root the stack runs it as Debian's `postgres` user.
RUN_AS = "postgres"


def postgresql_url(settings: Settings) -> str:
    """The URL FerretDB connects to (no password: the cluster trusts loopback connections)."""
    return f"postgres://{ROLE}@127.0.0.1:{settings.postgres_port}/{DATABASE}"


class PostgreSQLServer(LocalServer):
    name = "postgresql"
    tools = (Tool(str(PG_BIN / "postgres"), "apt-get install postgresql-15 (run `make bootstrap`)"),
             Tool(str(PG_BIN / "initdb"), "apt-get install postgresql-15 (run `make bootstrap`)"))
    start_timeout = 60.0

    @classmethod
    def wanted(cls, settings: Settings) -> bool:
        return settings.ferretdb_backend == "postgresql"

    @property
    def cluster_dir(self) -> Path:
        return self.data_dir / "cluster"

    def ports(self) -> dict[str, int]:
        return {"postgresql": self.settings.postgres_port}

    def prepare(self) -> None:
        owner = self._owner()
        if owner is not None:
            self._check_reachable(owner)
            os.chown(self.data_dir, owner.pw_uid, owner.pw_gid)
        initialised = self.data_dir / "initialised"
        if initialised.exists() and (self.cluster_dir / "PG_VERSION").exists():
            return
        # A half-made cluster (initdb or CREATE DATABASE interrupted) is made again from scratch.
        shutil.rmtree(self.cluster_dir, ignore_errors=True)
        run_checked(self._as_owner([str(PG_BIN / "initdb"), "-D", str(self.cluster_dir), "-U", ROLE,
                                    "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions"]),
                    "initialising the PostgreSQL cluster", cwd=self.data_dir)
        # Single-user mode creates FerretDB's database without starting a server.
        created = subprocess.run(
            self._as_owner([str(PG_BIN / "postgres"), "--single", "-D", str(self.cluster_dir), "-j", "postgres"]),
            input=f"CREATE DATABASE {DATABASE};\n", capture_output=True, text=True, timeout=120,
            cwd=self.data_dir, check=False)
        if created.returncode != 0 or "ERROR" in created.stderr:
            raise StackError(f"creating PostgreSQL database {DATABASE} failed:\n{created.stderr.strip()[-2000:]}")
        initialised.touch()

    def command(self) -> tuple[list[str], dict[str, str]]:
        return self._as_owner([
            str(PG_BIN / "postgres"), "-D", str(self.cluster_dir),
            "-c", f"port={self.settings.postgres_port}", "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=",  # TCP on loopback only
        ]), {}

    def is_ready(self) -> bool:
        return READY_LINE in self.log_since_start() and port_open("127.0.0.1", self.settings.postgres_port)

    def stop(self) -> bool:
        # SIGINT is PostgreSQL's fast shutdown: it ends the sessions and checkpoints. SIGTERM (what
        # the other servers get) waits for every client to disconnect.
        pid = self.process.pid()
        if pid is None:
            return False
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process_alive(pid):
            time.sleep(0.1)
        self.process.stop(timeout=5)  # removes the PID file; kills what is left, if anything
        return True

    # -- running as a user PostgreSQL accepts ----------------------------------------------------

    def _owner(self) -> pwd.struct_passwd | None:
        """The user to run PostgreSQL as when we are root (None: run as ourselves)."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(RUN_AS)
        except KeyError:
            raise StackError(f"postgresql: PostgreSQL does not run as root and user {RUN_AS!r} does not "
                             "exist; install postgresql-15 (it creates the user) or run as another user") from None

    def _as_owner(self, argv: list[str]) -> list[str]:
        owner = self._owner()
        if owner is None:
            return argv
        return ["setpriv", f"--reuid={owner.pw_uid}", f"--regid={owner.pw_gid}", "--clear-groups", *argv]

    def _check_reachable(self, owner: pwd.struct_passwd) -> None:
        """Every directory above the data directory must let the PostgreSQL user through."""
        for directory in self.data_dir.parents:
            info = directory.stat()
            if info.st_uid != owner.pw_uid and not info.st_mode & stat.S_IXOTH:
                raise StackError(f"postgresql runs as user {owner.pw_name}, who cannot enter {directory} "
                                 f"(mode {stat.filemode(info.st_mode)}); choose a CALIPSO_HOME outside it, "
                                 f"or `chmod o+x {directory}`")
