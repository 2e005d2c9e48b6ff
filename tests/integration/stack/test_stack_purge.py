"""`calipso stack purge`: a stopped throw-away stack's data directory and its PostgreSQL cluster kept under
/var/lib/postgresql/calipso-clusters go; a running stack is refused; `--orphans` removes the clusters whose
data directory is gone and keeps those of unknown owner unless `--all-unknown`. Never the shared test stack:
every stack here has a home of its own under /tmp and free ports."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import load_settings
from stack.purge import carry_out, orphans_plan
from stack.servers.postgresql import CLUSTERS_ELSEWHERE, OWNER_FILE, PostgreSQLServer

CALIPSO = str(Path(sys.executable).with_name("calipso"))
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="clusters live elsewhere only when the stack runs as root")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stack_command(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CALIPSO, "stack", *args], env=environment, capture_output=True, text=True, timeout=120)


@pytest.fixture
def closed_home() -> Iterator[Path]:
    """A CALIPSO_HOME under a root-only directory (as a clone in `mktemp -d`): its cluster lives elsewhere."""
    outer = Path(tempfile.mkdtemp(prefix="calipso-purge-"))
    yield outer / "var"
    shutil.rmtree(outer, ignore_errors=True)


@as_root
def test_purge_removes_a_stopped_stacks_data_and_its_cluster_elsewhere_and_refuses_a_running_one(
        closed_home: Path) -> None:
    environment = {**os.environ, "CALIPSO_HOME": str(closed_home), "CALIPSO_FERRETDB_BACKEND": "postgresql",
                   "CALIPSO_POSTGRES_PORT": str(free_port()), "CALIPSO_LOG_LEVEL": "WARNING", "COLUMNS": "250"}
    data = closed_home / "data"
    link = data / "postgresql" / "cluster"
    try:
        up = stack_command(environment, "up", "--only", "postgresql")
        assert up.returncode == 0, up.stderr
        place = link.resolve().parent
        assert link.is_symlink() and place.parent == CLUSTERS_ELSEWHERE
        assert (place / OWNER_FILE).read_text().strip() == str((data / "postgresql").resolve())

        refused = stack_command(environment, "purge", "--yes")
        assert refused.returncode == 1
        assert "running (postgresql)" in refused.stderr and "calipso stack down" in refused.stderr, refused.stderr
        assert (link / "PG_VERSION").exists()

        assert stack_command(environment, "down").returncode == 0
        preview = stack_command(environment, "purge", "--format", "json")
        assert preview.returncode == 0, preview.stderr
        rows = json.loads(preview.stdout)
        assert {(row["path"], row["kind"], row["action"]) for row in rows} == {
            (str(data), "data directory", "would remove"), (str(place), "postgresql cluster", "would remove")}
        assert "--yes" in preview.stderr and (link / "PG_VERSION").exists()

        purged = stack_command(environment, "purge", "--yes", "--format", "json")
        assert purged.returncode == 0, purged.stderr
        assert {(row["path"], row["action"]) for row in json.loads(purged.stdout)} == {
            (str(data), "removed"), (str(place), "removed")}
        assert not data.exists() and not place.exists()
        assert (closed_home / "logs").is_dir()  # only the data directory goes
        again = stack_command(environment, "purge", "--yes", "--format", "json")
        assert json.loads(again.stdout) == [] and "nothing to remove" in again.stderr
    finally:
        stack_command(environment, "down")
        if link.is_symlink():
            shutil.rmtree(link.resolve().parent, ignore_errors=True)


@pytest.fixture
def fake_clusters() -> Iterator[dict[str, Path]]:
    """Cluster directories under CLUSTERS_ELSEWHERE: one whose data directory is gone, one whose data directory
    exists, one without an owner file (made before clusters recorded it)."""
    tag = uuid.uuid4().hex[:8]
    existing = Path(tempfile.mkdtemp(prefix="calipso-purge-owner-"))
    made = {}
    for kind, owner in (("orphan", f"/tmp/calipso-purge-gone-{tag}/data/postgresql"), ("owned", str(existing)),
                        ("unknown", None)):
        place = CLUSTERS_ELSEWHERE / f"test-{tag}-{kind}"
        (place / "cluster").mkdir(parents=True)
        (place / "cluster" / "PG_VERSION").write_text("15\n")
        if owner is not None:
            (place / OWNER_FILE).write_text(f"{owner}\n")
        made[kind] = place
    yield made
    for place in made.values():
        shutil.rmtree(place, ignore_errors=True)
    shutil.rmtree(existing, ignore_errors=True)


@as_root
def test_purge_orphans_removes_the_clusters_whose_data_directory_is_gone(fake_clusters: dict[str, Path]) -> None:
    environment = {**os.environ, "CALIPSO_HOME": tempfile.gettempdir() + "/calipso-purge-unused",
                   "CALIPSO_LOG_LEVEL": "WARNING"}
    done = stack_command(environment, "purge", "--orphans", "--yes", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = {row["path"]: row for row in json.loads(done.stdout)}
    assert rows[str(fake_clusters["orphan"])]["kind"] == "orphan cluster"
    assert rows[str(fake_clusters["orphan"])]["action"] == "removed"
    assert not fake_clusters["orphan"].exists()
    assert rows[str(fake_clusters["owned"])]["action"] == "kept" and fake_clusters["owned"].exists()
    assert rows[str(fake_clusters["unknown"])] == {"path": str(fake_clusters["unknown"]), "kind": "unknown owner",
                                                   "owner": None, "action": "kept"}
    assert fake_clusters["unknown"].exists()
    # never without --orphans
    misused = stack_command(environment, "purge", "--all-unknown", "--yes")
    assert misused.returncode == 2 and "--all-unknown goes with --orphans" in misused.stderr


def test_all_unknown_removes_clusters_of_unknown_owner_but_never_a_running_one(tmp_path: Path) -> None:
    # On a directory of its own: --all-unknown on the real one would take other stacks' older clusters.
    for name in ("old", "live"):
        (tmp_path / name / "cluster").mkdir(parents=True)
    (tmp_path / "live" / "cluster" / "postmaster.pid").write_text(f"{os.getpid()}\n/somewhere\n")
    kept = orphans_plan(root=tmp_path)
    assert {(Path(p.path).name, p.kind, p.action) for p in kept} == {
        ("old", "unknown owner", "kept"), ("live", "running cluster", "kept")}
    done = carry_out(orphans_plan(all_unknown=True, root=tmp_path))
    assert {(Path(p.path).name, p.action) for p in done} == {("old", "removed"), ("live", "kept")}
    assert not (tmp_path / "old").exists() and (tmp_path / "live").exists()


@as_root
def test_cluster_dir_is_decided_once_per_server(closed_home: Path) -> None:
    # A home postgres can reach keeps its cluster inside; the answer holds for the server object even when
    # the directory above closes afterwards (it is not worked out again on each use).
    outer = closed_home.parent
    outer.chmod(0o755)
    server = PostgreSQLServer(load_settings(calipso_home=str(closed_home)))
    server.data_dir.mkdir(parents=True)
    assert server.cluster_dir == server.data_dir / "cluster"
    outer.chmod(0o700)
    assert server.cluster_dir == server.data_dir / "cluster"
    assert PostgreSQLServer(load_settings(calipso_home=str(closed_home))).cluster_dir.is_relative_to(
        CLUSTERS_ELSEWHERE)
