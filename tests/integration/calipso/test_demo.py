import json
import os
import socket
import subprocess
import sys
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


def test_the_demo_scans_a_lab_answers_impact_and_rca_and_serves_the_same_impact_over_the_api(  # type: ignore[no-untyped-def]
        mongo_db) -> None:
    """The README's main command, end to end: stack up (already up here: left alone), lab served and
    scanned, graph built, impact and RCA answered, API serving; the API's impact equals the CLI's."""
    from cryptography.fernet import Fernet

    from lab.expected import vms_on_host
    from lab.world import load_world

    environment = {**os.environ, "CALIPSO_HOME": str(CHECKOUT / "var" / "test"), "MONGO_DATABASE": mongo_db.name,
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
    finally:
        process.terminate()
        process.wait(timeout=30)
        subprocess.run([CALIPSO, "lab", "down"], env=environment, capture_output=True, timeout=60)
