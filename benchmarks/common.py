"""What several benchmarks share: the command line's world size, percentiles and how a latency line shows
them, the machine's load, and a lab world served to `calipso worker` processes. A helper module, not a
benchmark: the benchmarks import it as `from common import ...` (a script's own folder is on sys.path).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.settings import Settings, load_settings

CALIPSO = str(Path(sys.executable).with_name("calipso"))


def world_parser(doc: str | None, hosts: int, vms_per_host: int, whole_doc: bool = False) -> argparse.ArgumentParser:
    """A benchmark's argument parser: its docstring's first line as the description (`whole_doc`: all of
    it), and the size of the world it generates, --hosts and --vms-per-host, with its defaults."""
    description = (doc or "") if whole_doc else (doc or "").splitlines()[0]
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--hosts", type=int, default=hosts)
    parser.add_argument("--vms-per-host", type=int, default=vms_per_host)
    return parser


def percentile(values: Sequence[float], share: float) -> float:
    """The value at `share` (0 to 1) of the sorted values, at the nearest index."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def spread(values: Sequence[float], *shares: float, scale: float = 1.0) -> str:
    """A latency line's figures in ms: 'p50 ... ms   p95 ... ms', the median first, then percentile() at
    each share; `scale` multiplies them first (1000: seconds to ms)."""
    figures = [("p50", statistics.median(values))]
    figures += [(f"p{round(share * 100)}", percentile(values, share)) for share in shares]
    return "   ".join(f"{name} {value * scale:7.1f} ms" for name, value in figures)


def load_average() -> str:
    """The machine's load averages over 1, 5 and 15 minutes, as uptime shows them: figures measured on a
    shared machine mean little without them."""
    return str(Path("/proc/loadavg").read_text().split(" ", 3)[:3])


@dataclass
class ServedWorld:
    """A lab world served as `calipso lab up` serves it (its OpenStack APIs on loopback, its hosts over SSH
    through the lab's jump host: one process answers for every host) under a CALIPSO_HOME of its own."""

    home: Path
    secret: str
    settings: Settings
    service: Any  # lab.service.LabService

    def enrol(self, database: Any, environment: str) -> None:
        """Add the lab to `database` as `environment`, its hosts' SSH keys enrolled (`env add --from-lab`)."""
        from calipso.env_commands import enrol_lab_host_keys, lab_environment
        from core.environments import EnvironmentStore

        EnvironmentStore(database, self.secret).add(lab_environment(environment, self.settings))
        enrol_lab_host_keys(database, environment, self.settings)

    def command_environment(self, database: str, **variables: str) -> dict[str, str]:
        """Environment variables for a `calipso` process working on this lab and `database`."""
        return {**os.environ, "CALIPSO_HOME": str(self.home), "MONGO_DATABASE": database,
                "CALIPSO_SECRET_KEY": self.secret, "CALIPSO_LOG_LEVEL": "WARNING", **variables}


@contextmanager
def served_world(world: Any, timeout: float | None = None) -> Iterator[ServedWorld]:
    """Serve `world` (a lab.world.World) under a throw-away home with a new secret key; down at the end."""
    from cryptography.fernet import Fernet

    from lab.service import LabService
    from lab.world import save_world

    with tempfile.TemporaryDirectory(prefix="calipso-bench-") as home:
        secret = Fernet.generate_key().decode()
        settings = load_settings(calipso_home=home, calipso_secret_key=secret)
        world_file = Path(home) / "world.yaml"
        save_world(world, world_file)
        service = LabService(settings)
        service.up(world_file, timeout=timeout)
        try:
            yield ServedWorld(Path(home), secret, settings, service)
        finally:
            service.down()


def start_workers(database: Any, environment: dict[str, str], logs: Sequence[Path]) -> list[subprocess.Popen[bytes]]:
    """One `calipso worker` per log file, each in a session of its own, with `environment`; returns once
    `database` holds all their heartbeats (SystemExit after 2 minutes)."""
    from core.services import alive

    workers = []
    for log in logs:
        with log.open("a") as sink:
            workers.append(subprocess.Popen([CALIPSO, "worker"], env=environment, stdout=sink, stderr=sink,
                                            start_new_session=True))
    deadline = time.monotonic() + 120
    while {w.pid for w in workers} - {d["pid"] for d in alive(database, "worker")}:
        if time.monotonic() > deadline:
            stop_workers(workers)
            raise SystemExit(f"the workers did not start; see {', '.join(str(log) for log in logs)}")
        time.sleep(0.2)
    return workers


def stop_workers(workers: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to each worker's session; SIGKILL to one still there after a minute."""
    for worker in workers:
        os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
