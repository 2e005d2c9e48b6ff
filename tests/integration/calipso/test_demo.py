import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from calipso.demo import smoke_round_trip
from core.settings import Settings, load_settings
from core.stores import Stores

CALIPSO = str(Path(sys.executable).with_name("calipso"))
CHECKOUT = Path(__file__).resolve().parents[3]


def test_round_trip_through_every_server(settings: Settings, stores: Stores) -> None:
    checks = smoke_round_trip(settings, stores)
    assert [(c.server, c.ok) for c in checks] == [
        ("mongodb", True), ("neo4j", True), ("rabbitmq", True), ("slapd", True)], checks


def test_a_server_that_is_down_is_reported_not_raised(settings: Settings, stores: Stores) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        unused = probe.getsockname()[1]
    broken = load_settings(amqp_url=f"amqp://guest:guest@127.0.0.1:{unused}//")
    checks = {check.server: check for check in smoke_round_trip(broken, stores)}
    assert checks["rabbitmq"].ok is False
    assert "Error" in checks["rabbitmq"].detail
    assert checks["mongodb"].ok and checks["slapd"].ok


def children_logs() -> str:
    """The last lines of each back-end child's log, for a failure's message."""
    logs = Path(os.environ["CALIPSO_HOME"]) / "logs" / "run"  # the suite's stack home (conftest sets it)
    return "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                     for log in sorted(logs.glob("*.log")))


def test_the_demo_scans_a_lab_answers_impact_and_rca_and_serves_the_same_impact_over_the_api(  # type: ignore[no-untyped-def]
        mongo_db) -> None:
    """The README's main command, end to end: stack up (already up here: left alone), lab served and
    scanned, graph built, impact and RCA answered, API serving; the API's impact equals the CLI's."""
    from cryptography.fernet import Fernet

    from lab.expected import vms_on_host
    from lab.world import load_world

    environment = {**os.environ, "MONGO_DATABASE": mongo_db.name,  # CALIPSO_HOME: the suite's stack home
                   "CALIPSO_SECRET_KEY": Fernet.generate_key().decode(), "CALIPSO_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([CALIPSO, "demo", "--port", "0", "--format", "json"], env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        assert line, process.stderr.read() if process.poll() is not None else "no output"  # type: ignore[union-attr]
        run = json.loads(line)
        world = load_world(Path(run["world_file"]))
        assert run["scan_status"] == "completed" and run["objects"] > 50 and run["links"] > 20
        assert run["impact_vms"] == vms_on_host(world, run["impact_target"])
        assert run["rca_top_suspects"][0] == run["fault_root_cause"]
        answer = requests.get(f"{run['api']}/environments/demo/analysis/impact",
                              params={"target": run["impact_target"]},
                              headers={"Authorization": f"Bearer {run['token']}"}, timeout=60)
        assert answer.status_code == 200, answer.text
        rows = answer.json()["rows"]
        assert sorted(r["vm"] for r in rows if r["impact"] == "down" and r["type"] == "instance") == run["impact_vms"]


        # The demo runs the back end (worker, listener, projector...): a VM booted in the lab reaches the
        # API's graph (Neo4j) through the bus, the listener and the projector, with no command run.
        compute = next(h.name for h in world.hosts if "compute" in h.roles)
        booted = subprocess.run([CALIPSO, "lab", "change", "boot-vm", run["world_file"], "--name", "bus-demo-vm",
                                 "--host", compute, "--network", world.networks[0].name], env=environment,
                                capture_output=True, text=True, timeout=120)
        assert booted.returncode == 0 and "not published" not in booted.stderr, booted.stdout + booted.stderr

        def in_graph() -> list[dict]:  # type: ignore[type-arg]
            answer = requests.get(f"{run['api']}/environments/demo/graph", params={"search": "bus-demo-vm", "hops": 1},
                                  headers={"Authorization": f"Bearer {run['token']}"}, timeout=60)
            assert answer.status_code == 200, answer.text
            return [n for n in answer.json()["nodes"] if n.get("name") == "bus-demo-vm"]
        deadline = time.monotonic() + 120
        while not in_graph():
            assert time.monotonic() < deadline, "the booted VM never reached the graph\n" + children_logs()
            time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(timeout=30)
        subprocess.run([CALIPSO, "lab", "down"], env=environment, capture_output=True, timeout=60)
