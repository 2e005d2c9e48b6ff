"""`calipso stack purge`: remove a stopped stack's data, and PostgreSQL clusters whose stack is gone.

A stack's data lives under `<CALIPSO_HOME>/data`; its PostgreSQL cluster lives there too, or, when user
postgres cannot enter that directory, under CLUSTERS_ELSEWHERE/<key>, linked from
`<data dir>/postgresql/cluster`. Deleting the home leaves such a cluster behind: each of those directories
names the data directory it belongs to (OWNER_FILE), so that one whose data directory no longer exists
is recognised as an orphan. Directories made before that file existed have an unknown owner.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.settings import Settings
from stack.manager import SERVERS
from stack.process import StackError, process_alive
from stack.servers.postgresql import CLUSTERS_ELSEWHERE, OWNER_FILE, PostgreSQLServer, cluster_key

#: What a row of a purge is.
DATA = "data directory"
CLUSTER = "postgresql cluster"
ORPHAN = "orphan cluster"
UNKNOWN = "unknown owner"
RUNNING = "running cluster"


@dataclass
class Purged:
    """One directory a purge looked at: what it is, whose it is, and what was done with it."""

    path: str
    kind: str
    owner: str | None
    action: str  # removed | would remove | kept

    def row(self) -> dict[str, Any]:
        return asdict(self)


def running_servers(settings: Settings) -> list[str]:
    """The stack's servers that run (by their PID files under settings.home)."""
    return [name for name, cls in SERVERS.items() if cls(settings).process.pid() is not None]


def stack_plan(settings: Settings) -> list[Purged]:
    """What purging the stack of `settings` removes: its data directory and its cluster kept elsewhere.
    Refuses (StackError) while any of its servers runs."""
    running = running_servers(settings)
    if running:
        raise StackError(f"the stack under {settings.home} is running ({', '.join(running)}): nothing removed. "
                         "Stop it first with `calipso stack down`")
    data = settings.home / "data"
    plan = [Purged(str(data), DATA, None, "would remove")] if data.exists() or data.is_symlink() else []
    postgresql = PostgreSQLServer(settings).data_dir
    link = postgresql / "cluster"
    elsewhere = {CLUSTERS_ELSEWHERE / cluster_key(postgresql)}  # where it would be, even if the link is gone
    if link.is_symlink():
        target = link.resolve()
        if target.is_relative_to(CLUSTERS_ELSEWHERE) and target != CLUSTERS_ELSEWHERE:
            elsewhere.add(CLUSTERS_ELSEWHERE / target.relative_to(CLUSTERS_ELSEWHERE).parts[0])
    plan += [Purged(str(place), CLUSTER, str(postgresql.resolve()), "would remove")
             for place in sorted(elsewhere) if place.is_dir()]
    return plan


def orphans_plan(all_unknown: bool = False, root: Path = CLUSTERS_ELSEWHERE) -> list[Purged]:
    """Every cluster directory under `root`: an orphan (its data directory is gone) is to be removed; one of
    unknown owner (made before OWNER_FILE existed) only with `all_unknown`; one whose PostgreSQL runs, or
    whose data directory exists, is kept."""
    plan = []
    for place in sorted(root.iterdir()) if root.is_dir() else []:
        if not place.is_dir() or place.is_symlink():
            continue
        try:
            owner: str | None = (place / OWNER_FILE).read_text().strip() or None
        except OSError:
            owner = None
        if _postmaster_running(place / "cluster"):
            plan.append(Purged(str(place), RUNNING, owner, "kept"))
        elif owner is None:
            plan.append(Purged(str(place), UNKNOWN, None, "would remove" if all_unknown else "kept"))
        elif not Path(owner).exists():
            plan.append(Purged(str(place), ORPHAN, owner, "would remove"))
        else:
            plan.append(Purged(str(place), CLUSTER, owner, "kept"))
    return plan


def carry_out(plan: list[Purged]) -> list[Purged]:
    """Remove what the plan would remove; returns the plan with what was done."""
    for item in plan:
        if item.action != "would remove":
            continue
        path = Path(item.path)
        if path.is_symlink():
            path.unlink()
        else:
            shutil.rmtree(path)
        item.action = "removed"
    return plan


def _postmaster_running(cluster: Path) -> bool:
    """Whether a PostgreSQL server runs on that cluster (its postmaster.pid names a live process)."""
    try:
        pid = int((cluster / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return False
    return process_alive(pid)
