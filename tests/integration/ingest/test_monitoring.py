"""Monitoring rounds on a scanned lab world, without rescans: for every lab fault kind, one round after
injecting it the fault's root cause is critical (in MongoDB and, projected, in Neo4j), one message says
so, RCA ranks it first, and a watch on the affected VMs calls its webhook (a real HTTP receiver on
loopback) with the root cause as top suspect; clearing it brings it back to ok with a message and the
watch's recovery call."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import scan_and_project

from graphmodel.inventory import HISTORY, OBJECTS
from graphmodel.projector import Projector
from ingest.monitoring.runner import Monitor
from ingest.records import MESSAGES
from ingest.transport import CallableTransport
from lab.faults import FAULT_KINDS, clear_fault, inject_fault
from lab.generate import generate_world
from lab.hosts import LabResponder
from lab.world import World
from queries.rca import rca
from queries.watches import WatchStore, evaluate_watches


class Receiver:
    """A webhook receiver: http.server on 127.0.0.1 in a thread, keeping every JSON body it gets."""

    def __init__(self) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received = self.received = []  # type: list[dict]

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def receiver():  # type: ignore[no-untyped-def]
    found = Receiver()
    yield found
    found.server.shutdown()


def fault_target(world: World, kind: str) -> tuple[str, list[str]]:
    """A target for a fault kind on the first compute host with VMs, and the VMs a user would start from
    (as tests/integration/queries/test_rca_path.py picks them)."""
    compute = next(h for h in world.hosts if "compute" in h.roles and any(i.host == h.name for i in world.instances))
    vms = sorted(i.id for i in world.instances if i.host == compute.name)
    vm = next(i for i in world.instances if i.host == compute.name)
    if kind in ("nic_down", "bond_member_down"):
        nic = next(n for n in compute.nics if n.role in ("tunnel", "provider"))
        return f"{compute.name}/{nic.name}", vms
    if kind == "tunnel_unreachable":
        return compute.name, vms
    if kind == "agent_dead":
        agent = next(a for a in world.agents if a.host == compute.name and a.binary.endswith(("openvswitch-agent",
                                                                                              "linuxbridge-agent")))
        return agent.id, vms
    if kind == "dhcp_namespace_gone":
        network = world.port(vm.port_ids[0]).network_id
        return network, sorted({p.device_id for p in world.ports
                                if p.network_id == network and p.device_owner.startswith("compute:")})
    return vm.port_ids[0], [vm.id]


#: Each fault kind, on the variant it belongs to (a tap missing from its bridge is Linux bridge's fault).
#: OpenFlow faults (a flood flow or a tunnel port gone) are what the invariants see, not a monitoring check.
CASES = [(kind.name, "lxb" if kind.name == "bridge_member_missing" else "ovs") for kind in FAULT_KINDS
         if kind.name not in ("flood_flow_missing", "tunnel_port_missing")]


@pytest.fixture(scope="module")
def worlds(stores):  # type: ignore[no-untyped-def]
    """One scanned and projected world per mechanism, in a database of its own, with a monitor."""
    import uuid

    from core.settings import load_settings
    from core.stores import Stores
    from migrations import runner


    made = {}
    for mechanism in ("ovs", "lxb"):
        settings = load_settings(mongo_uri=stores.settings.mongo_uri,
                                 mongo_database=f"test_monitor_{uuid.uuid4().hex[:8]}")
        opened = Stores(settings)
        runner.apply_mongo(opened.mongo)
        environment = f"test-mon-{uuid.uuid4().hex[:8]}"
        world = generate_world(3, 2, 2, mechanism, "vxlan", seed=53)
        scan_and_project(world, opened.mongo, stores.neo4j, environment)
        monitor = Monitor(opened.mongo, environment, CallableTransport(LabResponder(world)))
        monitor.round()
        Projector(opened.mongo, stores.neo4j, environment).sync()
        made[mechanism] = (world, opened, environment, monitor)
    yield made
    for _, opened, environment, _ in made.values():
        stores.neo4j.execute_query("MATCH (n {env: $env}) DETACH DELETE n", env=environment)
        opened.mongo.client.drop_database(opened.mongo.name)
        opened.close()


def test_a_healthy_world_is_all_ok_and_quiet(worlds) -> None:  # type: ignore[no-untyped-def]
    world, opened, environment, monitor = worlds["ovs"]
    # (a Neutron port's own `status` is ACTIVE/DOWN; monitoring's status comes with status_since)
    checked = list(opened.mongo[OBJECTS].find({"environment": environment, "status_since": {"$exists": True}}))
    assert {d["status"] for d in checked} == {"ok"}
    assert {d["type"] for d in checked} >= {"host", "host_pnic", "vnic", "vconnector", "vedge", "otep", "vservice",
                                            "network_agent"}
    before = opened.mongo[MESSAGES].count_documents({"environment": environment})
    history = opened.mongo[HISTORY].count_documents({"environment": environment})
    result = monitor.round()
    assert result.changes == [] and all(h.error is None and h.sections >= 1 for h in result.hosts)
    assert opened.mongo[MESSAGES].count_documents({"environment": environment}) == before
    assert opened.mongo[HISTORY].count_documents({"environment": environment}) == history  # nothing rewritten


@pytest.mark.parametrize(("kind", "mechanism"), CASES)
def test_every_fault_kind_turns_its_root_cause_critical_and_back(kind: str, mechanism: str, worlds, stores,
                                                                 receiver) -> None:  # type: ignore[no-untyped-def]
    world, opened, environment, monitor = worlds[mechanism]
    database = opened.mongo
    target, focal = fault_target(world, kind)
    injected = datetime.now(UTC)
    fault = inject_fault(world, kind, target)
    affected = fault.down + fault.degraded or focal
    watch = WatchStore(database).add(environment, affected, receiver.url, "test")
    receiver.received.clear()
    try:
        result = monitor.round()
        Projector(database, stores.neo4j, environment).sync()
        events = evaluate_watches(database, stores.neo4j, environment)
        assert [(e.event, e.delivery.delivered) for e in events] == [("degraded", True)]
        [call] = receiver.received
        assert call["event"] == "degraded" and call["watch_id"] == watch["_id"] and call["focal"] == affected
        assert call["suspects"][0]["id"] == fault.root_cause, [(s["id"], s["evidence"]) for s in call["suspects"][:2]]
        assert any(c["id"] == fault.root_cause and c["status"] == "critical" for c in call["changed"])
        assert {p["focal"] for p in call["paths"]} == set(affected) and call["health"] == "degraded"
        doc = database[OBJECTS].find_one({"environment": environment, "id": fault.root_cause})
        assert doc is not None and doc["status"] == "critical", (doc, [vars(c) for c in result.changes])
        assert doc["status_text"] and doc["status_since"]
        said = list(database[MESSAGES].find({"environment": environment, "related_object": fault.root_cause,
                                             "details.status": "critical", "timestamp": {"$gte": injected}}))
        assert len(said) == 1 and said[0]["source_system"] == "Calipso" and said[0]["level"] == "error"
        [node] = stores.neo4j.execute_query("MATCH (n:Object {uid: $uid}) RETURN n.status AS status",
                                            uid=f"{environment}|{fault.root_cause}").records
        assert node["status"] == "critical"
        ranked = rca(stores.neo4j, environment, affected)
        assert ranked.top(1) == [fault.root_cause], ranked.rows()[:3]
        assert any("status critical" in e for e in ranked.suspects[0].evidence)
    finally:
        clear_fault(world, kind, target)
    monitor.round()
    Projector(database, stores.neo4j, environment).sync()
    events = evaluate_watches(database, stores.neo4j, environment)
    WatchStore(database).delete(environment, watch["_id"])
    assert [e.event for e in events] == ["recovered"]
    assert [c["event"] for c in receiver.received] == ["degraded", "recovered"]
    assert receiver.received[1]["health"] == "ok" and receiver.received[1]["time_to_recovery_s"] >= 0
    doc = database[OBJECTS].find_one({"environment": environment, "id": fault.root_cause})
    assert doc["status"] == "ok"
    assert database[MESSAGES].count_documents({"environment": environment, "related_object": fault.root_cause,
                                               "details.previous": "critical", "details.status": "ok",
                                               "timestamp": {"$gte": injected}}) == 1
    left = list(database[OBJECTS].find({"environment": environment, "status_since": {"$exists": True},
                                        "status": {"$ne": "ok"}},
                                       {"id": 1, "status": 1, "status_text": 1}))
    assert left == [], left


def test_collectd_and_sensu_intake_set_and_clear_status(worlds) -> None:  # type: ignore[no-untyped-def]
    from ingest.monitoring.runner import intake

    world, opened, environment, _ = worlds["ovs"]
    database = opened.mongo
    vnic = database[OBJECTS].find_one({"environment": environment, "type": "vnic", "host": "compute-1",
                                       "name": {"$regex": "^tap"}})
    qvo = "qvo" + vnic["name"][3:]
    down = [{"values": [0], "dstypes": ["gauge"], "dsnames": ["value"], "time": 1764688000.0, "interval": 10.0,
             "host": "compute-1", "plugin": "ovs_events", "plugin_instance": qvo, "type": "gauge",
             "type_instance": "link_status"},
            {"values": [0], "dstypes": ["gauge"], "dsnames": ["value"], "time": 1764688000.0, "interval": 10.0,
             "host": "no-such-host", "plugin": "ovs_events", "plugin_instance": "eth9", "type": "gauge",
             "type_instance": "link_status"}]
    answer = intake(database, environment, "collectd", down)
    assert (answer["mapped"], answer["unmapped"]) == (1, 1)
    # the qvo is an object of its own, the VM's OVS port: its link status lands there
    port = database[OBJECTS].find_one({"environment": environment, "host": "compute-1", "name": qvo})
    assert port["type"] == "vedge_port" and port["id"] == f"compute-1/br-int/{qvo}"
    doc = database[OBJECTS].find_one({"environment": environment, "id": port["id"]})
    assert doc["status"] == "critical" and qvo in doc["status_text"]
    assert database[MESSAGES].count_documents({"environment": environment, "source_system": "collectd",
                                               "related_object": port["id"], "details.status": "critical"}) == 1
    assert database[MESSAGES].find_one({"environment": environment, "source_system": "collectd",
                                        "message": {"$regex": "no-such-host/eth9"}}) is not None
    down[0]["values"] = [1]
    intake(database, environment, "collectd", down[:1])
    assert database[OBJECTS].find_one({"environment": environment, "id": port["id"]})["status"] == "ok"

    event = {"entity": {"metadata": {"name": "compute-1"}},
             "check": {"metadata": {"name": "calipso-vnic-" + vnic["name"], "labels": {"calipso_object_id": vnic["id"]}},
                       "status": 1, "output": "packet loss 20%\n"}}
    assert intake(database, environment, "sensu", event)["mapped"] == 1
    doc = database[OBJECTS].find_one({"environment": environment, "id": vnic["id"]})
    assert doc["status"] == "warning" and doc["status_text"].endswith("packet loss 20%")
    event["check"]["status"] = 0
    intake(database, environment, "sensu", event)
    assert database[OBJECTS].find_one({"environment": environment, "id": vnic["id"]})["status"] == "ok"


def test_monitoring_config_commands(worlds) -> None:  # type: ignore[no-untyped-def]
    import json

    from conftest import calipso

    world, opened, environment, _ = worlds["ovs"]
    checks = [json.loads(line) for line in calipso(opened.mongo, "monitoring", "sensu-checks", environment,
                                                   "--url", "http://127.0.0.1:8080").stdout.splitlines()]
    assert checks[0]["type"] == "Handler" and f"/environments/{environment}/monitoring/sensu" in checks[0]["spec"]["command"]
    labelled = {c["metadata"]["labels"]["calipso_object_id"] for c in checks[1:]}
    nics = {d["id"] for d in opened.mongo[OBJECTS].find({"environment": environment, "type": "host_pnic"})}
    assert nics <= labelled and all(c["spec"]["subscriptions"][0].startswith("entity:") for c in checks[1:])
    config = calipso(opened.mongo, "monitoring", "collectd-config", environment, "compute-1").stdout
    peers = [h.tunnel_ip for h in world.hosts if h.tunnel_ip and h.name != "compute-1"]
    assert "LoadPlugin ovs_events" in config and all(f'Host "{ip}"' in config for ip in peers)
    assert f"/environments/{environment}/monitoring/collectd" in config and 'Format "JSON"' in config
    refused = calipso(opened.mongo, "monitoring", "collectd-config", environment, "nohost", check=False)
    assert refused.returncode != 0 and "no host 'nohost'" in refused.stderr


def test_a_rescan_keeps_the_status_until_the_next_round(worlds, stores) -> None:  # type: ignore[no-untyped-def]
    world, opened, environment, monitor = worlds["ovs"]
    target, _ = fault_target(world, "nic_down")
    fault = inject_fault(world, "nic_down", target)
    try:
        monitor.round()
        scan_and_project(world, opened.mongo, stores.neo4j, environment)
        doc = opened.mongo[OBJECTS].find_one({"environment": environment, "id": fault.root_cause})
        assert doc["status"] == "critical" and doc["link_detected"] is False  # the scan's fact and the health
    finally:
        clear_fault(world, "nic_down", target)
    monitor.round()
    assert opened.mongo[OBJECTS].find_one({"environment": environment, "id": fault.root_cause})["status"] == "ok"
