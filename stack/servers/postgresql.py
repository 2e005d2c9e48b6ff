"""PostgreSQL 15 from Debian's package: FerretDB's storage (the default CALIPSO_FERRETDB_BACKEND=postgresql).

The stack runs a cluster of its own under its data directory, listening on 127.0.0.1 only (no Unix
socket), with trust authentication: it is a loopback development store like the stack's other servers.
As root it runs as Debian's `postgres` user; when that user cannot reach the data directory (a home
under a root-only directory: /root, a `mktemp -d` clone), the cluster lives under `postgres`'s own
home instead, one per data directory, and `<data dir>/cluster` links to it.
"""

from __future__ import annotations

import functools
import hashlib
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
#: Where clusters live whose data directory the PostgreSQL user cannot reach (under its Debian home).
CLUSTERS_ELSEWHERE = Path("/var/lib/postgresql/calipso-clusters")
#: In each directory under CLUSTERS_ELSEWHERE: the path of the data directory its cluster belongs to, so that
#: `calipso stack purge --orphans` recognises a cluster whose data directory is gone.
OWNER_FILE = "data-dir"


def cluster_key(data_dir: Path) -> str:
    """The name of a data directory's place under CLUSTERS_ELSEWHERE."""
    return hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]

#: Why: FerretDB 1.24 pushes an equality down as `_jsonb->'field' @> value`, which its own btree
#: indexes on `(_jsonb->'field')` cannot serve, so every pushed-down lookup scanned its table
#: (15 ms for one `_id` among 20,000 documents; 0.04 ms with this index). For each btree index
#: FerretDB makes on document fields (the indexes migrations declare), an event trigger adds a GIN
#: index (`jsonb_path_ops`, which serves `@>`) on the same fields; existing ones are added at start.
#: The trigger ignores the GIN indexes it makes itself. Statements end with ";" and a blank line.
LOOKUP_INDEXES_SQL = """
CREATE OR REPLACE FUNCTION calipso_add_lookup_index(btree oid) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  entry pg_index%ROWTYPE;
  method text;
  columns text[] := '{}';
  expression text;
BEGIN
  SELECT * INTO entry FROM pg_index WHERE indexrelid = btree;
  SELECT am.amname INTO method FROM pg_class c JOIN pg_am am ON am.oid = c.relam WHERE c.oid = btree;
  IF NOT FOUND OR method IS DISTINCT FROM 'btree' THEN
    RETURN;
  END IF;
  FOR k IN 1..entry.indnatts LOOP
    expression := pg_get_indexdef(btree, k, true);
    IF expression !~ '^[(]?_jsonb -> ''[^'']+''::text[)]?$' THEN
      RETURN;
    END IF;
    columns := columns || ('(' || expression || ') jsonb_path_ops');
  END LOOP;
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin (%s)', 'calipso_lookup_' || md5(btree::regclass::text),
                 entry.indrelid::regclass, array_to_string(columns, ', '));
END
$fn$;

CREATE OR REPLACE FUNCTION calipso_lookup_index_trigger() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE
  created record;
BEGIN
  FOR created IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index' LOOP
    PERFORM calipso_add_lookup_index(created.objid);
  END LOOP;
END
$fn$;

DROP EVENT TRIGGER IF EXISTS calipso_lookup_indexes;

CREATE EVENT TRIGGER calipso_lookup_indexes ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION calipso_lookup_index_trigger();

SELECT count(calipso_add_lookup_index(i.indexrelid)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast');

"""


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

    @functools.cached_property
    def cluster_dir(self) -> Path:
        """Where the cluster lives: under the data directory, or under CLUSTERS_ELSEWHERE when the PostgreSQL
        user cannot reach it. Decided once per server object (it stats every directory above the data dir)."""
        owner = self._owner()
        if owner is None or self._unreachable_directory(owner) is None:
            return self.data_dir / "cluster"
        return CLUSTERS_ELSEWHERE / cluster_key(self.data_dir) / "cluster"

    def ports(self) -> dict[str, int]:
        return {"postgresql": self.settings.postgres_port}

    def prepare(self) -> None:
        owner = self._owner()
        cluster = self.cluster_dir
        if owner is not None:
            for directory in (self.data_dir, cluster.parent):
                directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                os.chown(directory, owner.pw_uid, owner.pw_gid)
            if cluster.parent != self.data_dir:
                self._link_cluster(cluster)
                (cluster.parent / OWNER_FILE).write_text(f"{self.data_dir.resolve()}\n")
        initialised = self.data_dir / "initialised"
        if not (initialised.exists() and (cluster / "PG_VERSION").exists()):
            # A half-made cluster (initdb or CREATE DATABASE interrupted), or one left by an earlier data
            # directory of the same path, is made again from scratch.
            shutil.rmtree(cluster, ignore_errors=True)
            run_checked(self._as_owner([str(PG_BIN / "initdb"), "-D", str(cluster), "-U", ROLE,
                                        "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions"]),
                        "initialising the PostgreSQL cluster", cwd=cluster.parent)
            self._single_user("postgres", f"CREATE DATABASE {DATABASE};\n", f"creating PostgreSQL database {DATABASE}")
            initialised.touch()
        # Every start: clusters made before the lookup indexes existed get them too.
        self._single_user(DATABASE, LOOKUP_INDEXES_SQL, "adding FerretDB's lookup indexes")

    def _single_user(self, database: str, sql: str, what: str) -> None:
        """Run SQL in single-user mode (no server running; statements end with a semicolon and a blank line)."""
        cluster = self.cluster_dir
        done = subprocess.run(
            self._as_owner([str(PG_BIN / "postgres"), "--single", "-D", str(cluster), "-j", database]),
            input=sql, capture_output=True, text=True, timeout=120, cwd=cluster.parent, check=False)
        if done.returncode != 0 or "ERROR" in done.stderr:
            raise StackError(f"{what} failed:\n{done.stderr.strip()[-2000:]}")

    def command(self) -> tuple[list[str], dict[str, str]]:
        return self._as_owner([
            str(PG_BIN / "postgres"), "-D", str(self.cluster_dir),
            "-c", f"port={self.settings.postgres_port}", "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=",  # TCP on loopback only
            # FerretDB runs a transaction per statement (a delete of 1,000 documents by `_id` is 1,000
            # commits): not waiting for each commit's WAL flush halved an unchanged rescan's deletes.
            # A crash may lose the last moments of writes, never consistency; the next scan repeats them.
            "-c", "synchronous_commit=off",
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

    def _unreachable_directory(self, owner: pwd.struct_passwd) -> Path | None:
        """The first directory above the data directory the PostgreSQL user cannot enter, if any."""
        for directory in reversed(self.data_dir.resolve().parents):
            info = directory.stat()
            if info.st_uid != owner.pw_uid and not info.st_mode & stat.S_IXOTH:
                return directory
        return None

    def _link_cluster(self, cluster: Path) -> None:
        """`<data dir>/cluster` names the cluster kept elsewhere, so that a person finds it."""
        link = self.data_dir / "cluster"
        if link.is_symlink() and link.resolve() == cluster.resolve():
            return
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.is_dir():
            shutil.rmtree(link)  # a cluster made when the data directory was still reachable
        link.symlink_to(cluster, target_is_directory=True)
