"""Real collectd (Debian's collectd-core) on a real lab host posts to Calipso's intake.

A 2-host OVS/VXLAN world is built from real kernel objects (lab.real.RealLab) and scanned into a
database of its own (the simulator answers the scan: both hold the same devices by name). The REST
API serves that database on loopback (waitress, as `calipso serve`); collectd runs in compute-1's
namespace with the configuration `calipso monitoring collectd-config` prints for it (connectivity for
the NICs' and taps' link state, ovs_events on the host's private ovsdb-server, write_http with an
edit user's token). Taking real devices down with `ip link set ... down` turns their objects
critical through collectd alone (no `calipso monitor` runs), and bringing them up turns them ok.

Needs root and the packages of scripts/install-system-packages.sh: skipped, naming what is missing,
without them.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import calipso, scan_and_project, wait_for

from graphmodel.inventory import OBJECTS
from ingest.records import MESSAGES
from lab.generate import generate_world
from lab.real import RealLab, missing_prerequisites, real_lab_world

pytestmark = pytest.mark.integration

HOST = "compute-1"


@pytest.fixture(autouse=True)
def prerequisites() -> None:
    missing = missing_prerequisites()
    if shutil.which("collectd") is None:
        missing.append("collectd (Debian package collectd-core)")
    if missing:
        pytest.skip("real collectd in the real lab needs " + "; ".join(missing)
                    + " — run scripts/install-system-packages.sh as root")


@pytest.fixture
def served(mongo_db, neo4j_driver, env_name, settings) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The real lab up, its world scanned into mongo_db as env_name, the API on a loopback port, an edit
    user's token."""
    import waitress.server

    from api import create_app
    from api.auth import UserStore
    from core.settings import load_settings
    from core.stores import Stores
    from migrations import runner

    world = real_lab_world(generate_world(2, 1, 1, "ovs", "vxlan", seed=3))
    lab = RealLab(world, f"collectd-{os.getpid()}")
    lab.up()
    isolated = load_settings(mongo_uri=settings.mongo_uri, mongo_database=mongo_db.name)
    opened = Stores(isolated)
    server = None
    try:
        runner.apply_mongo(mongo_db)
        result = scan_and_project(world, mongo_db, neo4j_driver, env_name)
        assert result.status == "completed", result.errors
        app = create_app(isolated, opened)
        users = UserStore(mongo_db)
        users.add("collector", "collector-pw")
        users.grant("collector", env_name, "edit")
        answer = app.test_client().post("/api/v1/auth/tokens", json={"username": "collector",
                                                                     "password": "collector-pw"})
        assert answer.status_code == 201, answer.get_json()
        server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=4)
        threading.Thread(target=server.run, name="api-server", daemon=True).start()
        yield {"lab": lab, "world": world, "port": int(server.effective_port), "token": answer.get_json()["token"]}
    finally:
        if server is not None:
            server.close()
        opened.close()
        lab.down()


def test_collectd_turns_a_downed_device_critical_and_back(served, mongo_db, env_name) -> None:  # type: ignore[no-untyped-def]
    from lab.real.collectd import LabCollectd

    lab: RealLab = served["lab"]
    socket_path = lab.base / HOST / "ovs" / "db.sock"
    config = calipso(mongo_db, "monitoring", "collectd-config", env_name, HOST, "--url",
                     f"http://127.0.0.1:{served['port']}", "--interval", "1", "--ovs-socket", str(socket_path)).stdout
    assert "LoadPlugin connectivity" in config and "LoadPlugin ovs_events" in config
    objects = {(d["type"], d.get("name")): d for d in mongo_db[OBJECTS].find({"environment": env_name, "host": HOST})}
    nic = objects[("host_pnic", "eth1")]
    vnic = next(d for (kind, name), d in objects.items() if kind == "vnic" and str(name).startswith("tap")
                and d.get("port_id"))
    qvb = "qvb" + vnic["name"][3:]  # the hybrid plug: the VM's tap on qbr, qvb-qvo into br-int

    def status(doc: dict[str, Any]) -> tuple[str | None, str | None]:
        # the inventory writer replaces a document by a delete and an insert: a read may fall in between
        found = wait_for(f"{doc['id']} readable", lambda: mongo_db[OBJECTS].find_one(
            {"environment": env_name, "id": doc["id"]}), 10, interval_s=0.02)
        return found.get("status"), found.get("status_text")

    def log() -> str:  # what collectd said, and what the intake made of it
        said = [m["message"] for m in mongo_db[MESSAGES].find({"environment": env_name})]
        return collectd.log()[-3000:] + "\nmessages:\n" + "\n".join(said[-20:])

    with LabCollectd(lab, HOST, config, served["port"], served["token"]) as collectd:
        assert status(nic)[0] is None and status(vnic)[0] is None  # nothing has set a status yet
        lab.run(HOST, "ip link set eth1 down")
        wait_for("eth1 critical through collectd's connectivity plugin", lambda: status(nic)[0] == "critical",
                 30, log)
        assert "link of eth1 is down" in status(nic)[1]
        lab.run(HOST, f"ip link set {qvb} down")  # its peer qvo, on the switch, loses its link
        wait_for("the VM's vNIC critical through ovs_events (qvo's iface-id)", lambda: status(vnic)[0] == "critical",
                 30, log)
        assert "ovs_events" in status(vnic)[1] and "down" in status(vnic)[1]
        lab.run(HOST, f"ip link set eth1 up; ip link set {qvb} up")
        wait_for("both ok again", lambda: status(nic)[0] == status(vnic)[0] == "ok", 30, log)
    said = [m["message"] for m in mongo_db[MESSAGES].find({"environment": env_name, "source_system": "collectd",
                                                            "related_object": {"$in": [nic["id"], vnic["id"]]}})]
    assert any("-> critical" in m for m in said) and any("critical -> ok" in m for m in said), said
