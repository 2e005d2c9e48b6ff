"""`calipso run` as a real process on the test stack: it starts the API, a worker, the scheduler and
the projector as children; a child killed with kill -9 is started again; SIGTERM stops them all and
leaves no process of the run behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from conftest import wait_for

CALIPSO = str(Path(sys.executable).with_name("calipso"))
STARTED = re.compile(r"run: (\w+) started \(pid (\d+)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def processes_with(marker: str) -> list[int]:
    """Processes whose environment holds `marker` (this run's unique database name)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    state = next((line for line in (entry / "status").read_text().splitlines()
                                  if line.startswith("State:")), "")
                    if "Z" not in state.split()[1:2]:  # a zombie has already ended
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_run_restarts_a_killed_child_and_sigterm_stops_every_process(  # type: ignore[no-untyped-def]
        mongo_db, neo4j_driver, tmp_path: Path) -> None:
    port = free_port()
    environment = {**os.environ, "MONGO_DATABASE": mongo_db.name, "CALIPSO_HOME": str(tmp_path),
                   "CALIPSO_LOG_LEVEL": "INFO"}
    supervisor = subprocess.Popen([CALIPSO, "run", "--port", str(port)], env=environment,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(line.rstrip() for line in supervisor.stderr), daemon=True)
    reader.start()
    log = lambda: "\n".join(lines)  # noqa: E731

    def started() -> dict[str, list[int]]:
        pids: dict[str, list[int]] = {}
        for line in list(lines):
            if match := STARTED.search(line):
                pids.setdefault(match[1], []).append(int(match[2]))
        return pids

    try:
        wait_for("every child started", lambda: set(started()) == {"api", "worker", "scheduler", "projector"},
                 log=log)
        assert any("no environment has an amqp section" in line for line in lines)  # so no listener
        wait_for("the API answers", lambda: answers(f"http://127.0.0.1:{port}/api/v1/health"), log=log)
        from core.services import alive
        wait_for("worker, scheduler and projector beat", lambda: all(
            alive(mongo_db, kind) for kind in ("worker", "scheduler", "projector")), log=log)

        projector = started()["projector"][0]
        os.kill(projector, signal.SIGKILL)
        wait_for("the killed projector is started again", lambda: len(started()["projector"]) == 2, log=log)
        assert any(f"projector (pid {projector}) exited with -9" in line for line in lines)
        restarted = started()["projector"][1]
        assert restarted != projector and Path(f"/proc/{restarted}").exists()
        # The other children were left alone.
        assert all(len(pids) == 1 for name, pids in started().items() if name != "projector")
        assert answers(f"http://127.0.0.1:{port}/api/v1/health")
        assert processes_with(mongo_db.name)  # the marker finds the run's processes

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=90) == 0, log()
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
    reader.join(timeout=5)
    assert any("run: stopped" in line for line in lines), log()
    wait_for("no process of the run is left", lambda: not processes_with(mongo_db.name), deadline_s=10, log=log)
    assert not answers(f"http://127.0.0.1:{port}/api/v1/health")
    import kombu

    with kombu.Connection(os.environ["AMQP_URL"], connect_timeout=5) as connection:  # the worker's durable queue
        kombu.Queue(f"calipso.{mongo_db.name}.tasks")(connection.default_channel).delete()
