"""`calipso projector` survives a Neo4j stop and start: writes made while Neo4j is away reach the graph
once it is back, without restarting the projector, and `graph verify` is clean.

The Neo4j stopped here is one of the test's own (free loopback ports, data under the test's temporary
directory), never the shared test stack's."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from conftest import wait_for

from core.settings import Settings, load_settings
from core.stores import Stores
from graphmodel.inventory import CHANGES, InventoryWriter
from graphmodel.projector import CHECKPOINT_LABEL, verify
from migrations.runner import apply_mongo
from stack.manager import Stack

CALIPSO = str(Path(sys.executable).with_name("calipso"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def vnics(first: int, count: int) -> list[dict]:  # type: ignore[type-arg]
    return [{"id": f"h1/vnic-{n}", "type": "vnic", "name": f"v{n}", "parent_id": "h1", "mtu": 1450}
            for n in range(first, first + count)]


def checkpoint(settings: Settings, environment: str) -> int:
    with Stores(settings) as stores:
        records, _, _ = stores.neo4j.execute_query(
            f"MATCH (c:{CHECKPOINT_LABEL} {{env: $env}}) RETURN c.seq AS seq", env=environment)
        return int(records[0]["seq"]) if records else 0


def last_seq(database, environment: str) -> int:  # type: ignore[no-untyped-def]
    newest = database[CHANGES].find_one({"environment": environment}, sort=[("seq", -1)])
    return int(newest["seq"]) if newest else 0


def test_projector_survives_a_neo4j_stop_and_start_and_catches_up(  # type: ignore[no-untyped-def]
        mongo_db, settings: Settings, env_name: str, tmp_path: Path) -> None:
    bolt, http = free_port(), free_port()
    own = load_settings(calipso_home=str(tmp_path / "neo4j-home"), neo4j_uri=f"bolt://127.0.0.1:{bolt}",
                        neo4j_http_port=http, mongo_uri=settings.mongo_uri, mongo_database=mongo_db.name)
    neo4j_server = Stack(own, ["neo4j"])
    neo4j_server.up()
    log_file = tmp_path / "projector.log"
    process = None
    try:
        apply_mongo(mongo_db)
        writer = InventoryWriter(mongo_db, env_name)
        writer.write_objects(vnics(0, 30))
        environment = {**os.environ, "MONGO_DATABASE": mongo_db.name, "NEO4J_URI": own.neo4j_uri,
                       "NEO4J_HTTP_PORT": str(http), "CALIPSO_LOG_LEVEL": "INFO"}
        with log_file.open("a") as sink:
            process = subprocess.Popen([CALIPSO, "projector", "--poll-interval", "0.05"], env=environment,
                                       stdout=sink, stderr=sink, start_new_session=True)
        log = log_file.read_text
        wait_for("the first writes projected", lambda: checkpoint(own, env_name) == last_seq(mongo_db, env_name),
                 120, log)

        neo4j_server.down()
        # Written while Neo4j is away: they wait in the feed.
        writer.write_objects(vnics(30, 20))
        writer.write_objects([{**vnics(0, 1)[0], "name": "renamed-while-neo4j-is-down"}])
        writer.delete_objects(["h1/vnic-1"])
        wait_for("the projector notices", lambda: "unavailable" in log() or "failed" in log(), 60, log)
        assert process.poll() is None, log()
        neo4j_server.up()

        target = last_seq(mongo_db, env_name)
        wait_for("the projector catches up", lambda: checkpoint(own, env_name) == target, 120, log)
        assert process.poll() is None, log()  # the same process: nobody restarted it
        with Stores(own) as stores:
            result = verify(mongo_db, stores.neo4j, env_name)
            assert result.ok, result.differences
            records, _, _ = stores.neo4j.execute_query("MATCH (n:Object {env: $env}) RETURN count(n) AS n",
                                                       env=env_name)
            assert records[0]["n"] == 30 + 20 - 1
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        neo4j_server.down()
