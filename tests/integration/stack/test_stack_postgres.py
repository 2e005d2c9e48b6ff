"""FerretDB on the stack's own PostgreSQL (CALIPSO_FERRETDB_BACKEND=postgresql), in a throw-away stack.

The stack here runs under a fresh directory on free ports, never the shared test stack of tests/stack.env.
The directory is made under /tmp with mode 755 rather than with pytest's tmp_path: as root the stack runs
PostgreSQL as the `postgres` user, who cannot enter pytest's 0700 base directory.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pymongo
import pytest

from stack.process import port_open
from stack.servers.postgresql import CLUSTERS_ELSEWHERE, DATABASE, PG_BIN, ROLE

CALIPSO = str(Path(sys.executable).with_name("calipso"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def pg_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="calipso-pg-stack-"))
    home.chmod(0o755)
    yield home
    shutil.rmtree(home, ignore_errors=True)


def stack_command(environment: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([CALIPSO, "stack", *args], env=environment, capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, f"calipso stack {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done


def processes_under(directory: Path) -> list[str]:
    """Command lines of running processes that mention the directory (our servers name their data dirs)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command_line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(directory) in command_line:
            found.append(f"{entry.name}: {command_line}")
    return found


def test_ferretdb_on_postgresql_up_write_read_status_down(pg_home: Path) -> None:
    mongo_port, pg_port = free_port(), free_port()
    environment = {**os.environ, "CALIPSO_HOME": str(pg_home), "MONGO_URI": f"mongodb://127.0.0.1:{mongo_port}/",
                   "CALIPSO_FERRETDB_BACKEND": "postgresql", "CALIPSO_POSTGRES_PORT": str(pg_port),
                   "CALIPSO_LOG_LEVEL": "WARNING"}
    try:
        # --only ferretdb brings the PostgreSQL it stores in along.
        stack_command(environment, "up", "--only", "ferretdb")
        rows = {row["name"]: row for row in json.loads(
            stack_command(environment, "status", "--format", "json").stdout)}
        assert set(rows) == {"neo4j", "postgresql", "ferretdb", "rabbitmq", "slapd"}
        for name, port in (("postgresql", {"postgresql": pg_port}), ("ferretdb", {"mongodb": mongo_port})):
            assert rows[name]["running"] and rows[name]["ready"] and rows[name]["ports"] == port
        assert not rows["neo4j"]["running"]

        with pymongo.MongoClient(environment["MONGO_URI"], serverSelectionTimeoutMS=10_000) as client:
            collection = client.calipso_pg_probe.things
            collection.insert_many([{"_id": f"t{i}", "n": i} for i in range(20)])
            collection.update_one({"_id": "t7"}, {"$set": {"n": 700}})
            assert collection.find_one({"_id": "t7"}) == {"_id": "t7", "n": 700}
            assert sorted(doc["n"] for doc in collection.find({"n": {"$gte": 18}})) == [18, 19, 700]

        # The documents are rows in the stack's PostgreSQL (one schema per MongoDB database), not SQLite files.
        tables = subprocess.run(
            [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(pg_port), "-U", ROLE, "-d", DATABASE, "-Atc",
             "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'calipso_pg_probe'"],
            capture_output=True, text=True, timeout=30, check=True)
        assert int(tables.stdout.strip()) >= 1
        assert not (pg_home / "data" / "ferretdb" / "sqlite").exists()
    finally:
        down = stack_command(environment, "down", check=False)
    assert down.returncode == 0, down.stderr
    assert "ferretdb: stopped" in down.stderr and "postgresql: stopped" in down.stderr
    assert not port_open("127.0.0.1", mongo_port) and not port_open("127.0.0.1", pg_port)
    assert processes_under(pg_home) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="PostgreSQL runs as another user only when the stack runs as root")
def test_a_home_the_postgresql_user_cannot_enter_keeps_its_cluster_under_postgres_home() -> None:
    # A clone in `mktemp -d` (mode 0700, root's): the user `postgres` cannot enter it.
    outer = Path(tempfile.mkdtemp(prefix="calipso-pg-closed-"))
    home = outer / "var"
    mongo_port, pg_port = free_port(), free_port()
    environment = {**os.environ, "CALIPSO_HOME": str(home), "MONGO_URI": f"mongodb://127.0.0.1:{mongo_port}/",
                   "CALIPSO_FERRETDB_BACKEND": "postgresql", "CALIPSO_POSTGRES_PORT": str(pg_port),
                   "CALIPSO_LOG_LEVEL": "WARNING"}
    link = home / "data" / "postgresql" / "cluster"
    try:
        assert outer.stat().st_mode & 0o777 == 0o700
        for _ in range(2):  # the second start finds the cluster and the documents the first one wrote
            stack_command(environment, "up", "--only", "ferretdb")
            with pymongo.MongoClient(environment["MONGO_URI"], serverSelectionTimeoutMS=10_000) as client:
                client.calipso_pg_probe.things.update_one({"_id": "starts"}, {"$inc": {"n": 1}}, upsert=True)
                starts = client.calipso_pg_probe.things.find_one({"_id": "starts"})
            stack_command(environment, "down")
        assert starts is not None and starts["n"] == 2
        assert link.is_symlink() and link.resolve().is_relative_to(CLUSTERS_ELSEWHERE)
        assert (link / "PG_VERSION").exists()
    finally:
        stack_command(environment, "down", check=False)
        if link.is_symlink():
            shutil.rmtree(link.resolve().parent, ignore_errors=True)
        shutil.rmtree(outer, ignore_errors=True)


def test_backend_setting_is_checked_at_start_up(pg_home: Path) -> None:
    environment = {**os.environ, "CALIPSO_HOME": str(pg_home), "CALIPSO_FERRETDB_BACKEND": "mysql"}
    done = stack_command(environment, "status", check=False)
    assert done.returncode != 0
    assert "CALIPSO_FERRETDB_BACKEND" in done.stderr and "'sqlite' or 'postgresql'" in done.stderr


def test_postgresql_alone_is_refused_with_the_sqlite_backend(pg_home: Path) -> None:
    environment = {**os.environ, "CALIPSO_HOME": str(pg_home), "CALIPSO_FERRETDB_BACKEND": "sqlite"}
    done = stack_command(environment, "up", "--only", "postgresql", check=False)
    assert done.returncode != 0
    assert "CALIPSO_FERRETDB_BACKEND=postgresql" in done.stderr
    assert processes_under(pg_home) == []
