"""`calipso listen` against the real RabbitMQ and FerretDB of the test stack and a served lab: what
`calipso lab change` does to the cloud reaches the inventory, as a full rescan would have it."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import kombu
from conftest import ServedLab, relay, wait_for

from calipso.env_commands import enrol_lab_host_keys, lab_environment
from core.environments import Environment, EnvironmentStore
from core.settings import Settings
from graphmodel.inventory import CHANGES, HISTORY, LINKS, OBJECTS, content
from ingest.listener.consumer import Backoff, bind_notification_queue, queue_name
from ingest.listener.run import build_listener
from ingest.records import MESSAGES
from ingest.run import scan_environment
from lab.truth import compute_truth
from lab.world import World, load_world

CALIPSO = str(Path(sys.executable).with_name("calipso"))

Key = tuple[str, str, str]


def stored(db, environment: str) -> tuple[set[str], dict[Key, str]]:  # type: ignore[no-untyped-def]
    # Keystone's own admin project is not in the world spec: the one object the truth lacks.
    objects = {d["id"] for d in db[OBJECTS].find({"environment": environment})
               if not (d["type"] == "project" and d["name"] == "admin")}
    links = {(d["link_type"], d["source_id"], d["target_id"]): d["state"]
             for d in db[LINKS].find({"environment": environment})}
    return objects, links


def truth_of(world: World) -> tuple[set[str], dict[Key, str]]:
    truth = compute_truth(world)
    return set(truth.objects), {key: link.state for key, link in truth.links.items()}


def add_environment(db, lab: ServedLab, name: str) -> Environment:  # type: ignore[no-untyped-def]
    store = EnvironmentStore(db, lab.secret_key)
    store.add(lab_environment(name, lab.settings))
    enrol_lab_host_keys(db, name, lab.settings)  # as `env add --from-lab` does
    return store.decrypt(name)


def full_scan(db, environment: Environment) -> None:  # type: ignore[no-untyped-def]
    result = scan_environment(db, environment)
    assert result.status == "completed", result.errors


def lab_change(lab: ServedLab, db, *args: str) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run([CALIPSO, "lab", "change", args[0], str(lab.world_file), *args[1:]],
                          env=lab.command_environment(db.name), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "not published" not in done.stderr, done.stdout + done.stderr


def delete_queue(settings: Settings, environment: str) -> None:
    with kombu.Connection(settings.amqp_url, connect_timeout=5) as connection:
        kombu.Queue(queue_name(environment))(connection.default_channel).delete()


def queued(settings: Settings, environment: str) -> int:
    with kombu.Connection(settings.amqp_url, connect_timeout=5) as connection:
        return kombu.Queue(queue_name(environment), passive=True)(connection.default_channel).queue_declare(
            passive=True).message_count


class ListenProcess:
    """`calipso listen NAME` in the background, its stderr collected line by line."""

    def __init__(self, lab: ServedLab, db, environment: str, *options: str) -> None:  # type: ignore[no-untyped-def]
        self.lines: list[str] = []
        self.process = subprocess.Popen([CALIPSO, "listen", environment, *options],
                                        env=lab.command_environment(db.name), stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def log(self) -> str:
        return "\n".join(self.lines)

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self.reader.join(timeout=5)
        return code


def same_as_rescan(db, environment: str, rescanned: str, ids: set[str]) -> None:  # type: ignore[no-untyped-def]
    """The listener's documents for `ids` (and their links) equal those of a full scan of the same cloud."""
    def objects(name: str) -> dict[str, Any]:
        return {d["id"]: content({k: v for k, v in d.items() if k != "scan_id"})
                for d in db[OBJECTS].find({"environment": name, "id": {"$in": sorted(ids)}})}

    def links(name: str) -> dict[str, Any]:
        query = {"environment": name, "$or": [{"source_id": {"$in": sorted(ids)}}, {"target_id": {"$in": sorted(ids)}}]}
        return {d["key"]: content(d) for d in db[LINKS].find(query)}

    assert set(objects(environment)) == ids
    assert objects(environment) == objects(rescanned)
    assert links(environment) and links(environment) == links(rescanned)


def test_lab_changes_reach_the_inventory_as_a_rescan_has_them_and_a_bad_message_is_recorded(  # type: ignore[no-untyped-def]
        mongo_db, served_lab: ServedLab, settings: Settings, env_name: str) -> None:
    environment = add_environment(mongo_db, served_lab, env_name)
    full_scan(mongo_db, environment)
    assert stored(mongo_db, env_name) == truth_of(load_world(served_lab.world_file))
    listener = ListenProcess(served_lab, mongo_db, env_name, "--window", "0.5")
    try:
        wait_for("the listener's queue is bound", lambda: listener.said("listening to"), 60, listener.log)
        converged = lambda: stored(mongo_db, env_name) == truth_of(load_world(served_lab.world_file))  # noqa: E731

        # Boot: the instance, its port, its vNIC and their links appear, as a full rescan has them.
        lab_change(served_lab, mongo_db, "boot-vm", "--name", "bus-vm", "--host", "compute-1", "--network", "net-1")
        world = load_world(served_lab.world_file)
        vm = next(i for i in world.instances if i.name == "bus-vm")
        port = world.port(vm.port_ids[0])
        wait_for("the booted VM equals the truth", converged, log=listener.log)
        vnic = f"compute-1/{port.mac_address}"
        assert mongo_db[OBJECTS].find_one({"environment": env_name, "id": vnic})["parent_id"] == f"{vm.id}/vnics"
        full_scan(mongo_db, add_environment(mongo_db, served_lab, f"{env_name}-rescan"))
        same_as_rescan(mongo_db, env_name, f"{env_name}-rescan", {vm.id, port.id, vnic, f"{vm.id}/vnics"})
        assert mongo_db[MESSAGES].find_one({"environment": env_name, "level": "info",
                                            "message": f"compute.instance.create.end: instance {vm.id} (bus-vm)"})

        # Delete: gone from the inventory, kept in history, announced on the changes feed.
        lab_change(served_lab, mongo_db, "delete-vm", "bus-vm")
        wait_for("the deleted VM is gone", converged, log=listener.log)
        assert not mongo_db[OBJECTS].find_one({"environment": env_name, "id": {"$in": [vm.id, vnic, port.id]}})

        def deletion_recorded() -> bool:  # the writer closes history and appends the feed after the state
            versions = list(mongo_db[HISTORY].find({"environment": env_name, "kind": "object", "key": vm.id}))
            deletions = {c["key"] for c in mongo_db[CHANGES].find({"environment": env_name, "op": "delete"})}
            return bool(versions) and all(v["valid_to"] is not None for v in versions) \
                and {vm.id, vnic, port.id} <= deletions
        wait_for("the deletion is in history and the feed", deletion_recorded, log=listener.log)

        # Rename: the new name, down the tree's name paths too.
        vm_1 = next(i for i in world.instances if i.name == "vm-1")
        lab_change(served_lab, mongo_db, "rename-vm", "vm-1", "renamed-vm")

        def renamed(name: str) -> bool:
            doc = mongo_db[OBJECTS].find_one({"environment": env_name, "id": vm_1.id}) or {}
            vnics = list(mongo_db[OBJECTS].find({"environment": env_name, "id_path": vm_1.id, "type": "vnic"}))
            return doc.get("name") == name and bool(vnics) and all(name in v["name_path"] for v in vnics)
        wait_for("vm-1 is renamed", lambda: renamed("renamed-vm"), log=listener.log)

        # A garbage message is recorded and acknowledged; the next good event is still handled.
        with kombu.Connection(settings.amqp_url, connect_timeout=5) as connection:
            with connection.Producer() as producer:
                producer.publish(b"\x00this is not a notification", exchange=kombu.Exchange("nova", type="topic",
                                                                                            durable=False),
                                 routing_key="notifications.info", content_type="text/plain",
                                 content_encoding="binary")
        lab_change(served_lab, mongo_db, "rename-vm", "renamed-vm", "vm-1")
        wait_for("vm-1 is named back after the garbage", lambda: renamed("vm-1"), log=listener.log)
        recorded = mongo_db[MESSAGES].find_one({"environment": env_name, "details.exchange": "nova",
                                                "level": "warning"})
        assert recorded and "unreadable notification on exchange nova" in recorded["message"], recorded
        assert "this is not a notification" in recorded["details"]["excerpt"]
        wait_for("everything equals the truth", converged, log=listener.log)
    finally:
        code = listener.stop()
    assert code == 0, listener.log()
    log = listener.log()
    assert "listener stopped" in log and "guest:guest" not in log and "lab-admin-pw" not in log
    assert queued(settings, env_name) == 0  # everything acknowledged
    delete_queue(settings, env_name)


def test_networks_subnets_dhcp_and_routers_follow_the_bus(  # type: ignore[no-untyped-def]
        mongo_db, served_lab: ServedLab, settings: Settings, env_name: str) -> None:
    environment = add_environment(mongo_db, served_lab, env_name)
    full_scan(mongo_db, environment)
    lines: list[str] = []
    listener = build_listener(mongo_db, environment, window_s=0.3, say=lines.append)
    stop = threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()
    log = lambda: "\n".join(lines)  # noqa: E731
    converged = lambda: stored(mongo_db, env_name) == truth_of(load_world(served_lab.world_file))  # noqa: E731
    try:
        wait_for("the listener's queue is bound", lambda: any("listening to" in line for line in lines), 60, log)
        lab_change(served_lab, mongo_db, "add-network", "--name", "net-bus", "--cidr", "10.77.0.0/24")
        wait_for("the new network, its DHCP port and namespace equal the truth", converged, log=log)
        world = load_world(served_lab.world_file)
        net = next(n for n in world.networks if n.name == "net-bus")
        dhcp = next(p for p in world.ports if p.network_id == net.id)
        stored_net = mongo_db[OBJECTS].find_one({"environment": env_name, "id": net.id})
        assert stored_net["cidrs"] == ["10.77.0.0/24"] and stored_net["subnets"] == [net.subnets[0].id]
        lab_change(served_lab, mongo_db, "add-router", "--name", "r-bus")
        lab_change(served_lab, mongo_db, "router-interface", "r-bus", "net-bus")
        wait_for("the router's namespace on the network node equals the truth", converged, log=log)
        router = next(r for r in load_world(served_lab.world_file).routers if r.name == "r-bus")
        assert mongo_db[OBJECTS].find_one({"environment": env_name, "router_id": router.id, "type": "vservice"})
        full_scan(mongo_db, add_environment(mongo_db, served_lab, f"{env_name}-rescan"))
        same_as_rescan(mongo_db, env_name, f"{env_name}-rescan", {net.id, f"{net.id}/ports", dhcp.id})

        lab_change(served_lab, mongo_db, "router-interface", "r-bus", "net-bus", "--remove")
        lab_change(served_lab, mongo_db, "delete-router", "r-bus")
        lab_change(served_lab, mongo_db, "delete-network", "net-bus")
        wait_for("router and network are gone", converged, log=log)
        assert not mongo_db[OBJECTS].find_one({"environment": env_name, "id_path": net.id})
        # The writer removes the current state first, then closes history: wait for the close too.
        closed_version = lambda: mongo_db[HISTORY].find_one(  # noqa: E731
            {"environment": env_name, "key": net.id, "valid_to": {"$ne": None}})
        wait_for("the network's history version is closed", lambda: closed_version() is not None, log=log)
        assert closed_version()["doc"]["name"] == "net-bus"
        assert listener.stats.failed == 0 and listener.stats.malformed == 0, log()
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive()
    delete_queue(settings, env_name)


def test_events_sent_while_no_listener_runs_wait_in_the_durable_queue_for_listen_once(  # type: ignore[no-untyped-def]
        mongo_db, served_lab: ServedLab, settings: Settings, env_name: str) -> None:
    environment = add_environment(mongo_db, served_lab, env_name)
    full_scan(mongo_db, environment)
    command = [CALIPSO, "listen", env_name, "--window", "0.2"]
    started = subprocess.run([*command, "--timeout", "1"], env=served_lab.command_environment(mongo_db.name),
                             capture_output=True, text=True, timeout=60)  # declares the queue, then stops
    assert started.returncode == 0 and "listener stopped" in started.stderr, started.stderr
    try:
        lab_change(served_lab, mongo_db, "rename-vm", "vm-2", "renamed-offline")
        assert queued(settings, env_name) == 1
        once = subprocess.run([*command, "--once"], env=served_lab.command_environment(mongo_db.name),
                              capture_output=True, text=True, timeout=120)
        assert once.returncode == 0, once.stderr
        assert "1 handled" in once.stderr and "refreshed compute-2" in once.stderr, once.stderr
        assert stored(mongo_db, env_name) == truth_of(load_world(served_lab.world_file))
        vm_2 = mongo_db[OBJECTS].find_one({"environment": env_name, "type": "instance", "host": "compute-2",
                                           "name": "renamed-offline"})
        assert vm_2 is not None
        assert queued(settings, env_name) == 0
        unknown = subprocess.run([CALIPSO, "listen", "no-such-env", "--once"],
                                 env=served_lab.command_environment(mongo_db.name), capture_output=True, text=True,
                                 timeout=60)
        assert unknown.returncode == 1 and "no-such-env" in unknown.stderr and "Traceback" not in unknown.stderr
    finally:
        lab_change(served_lab, mongo_db, "rename-vm", "renamed-offline", "vm-2")
        delete_queue(settings, env_name)


def test_with_a_worker_alive_host_refreshes_are_its_scans(  # type: ignore[no-untyped-def]
        mongo_db, served_lab: ServedLab, settings: Settings, env_name: str, started_workers) -> None:
    environment = served_lab.enrol(mongo_db, env_name).decrypt(env_name)
    full_scan(mongo_db, environment)
    bind_notification_queue(environment)
    [worker] = started_workers(served_lab, "worker-1")
    try:
        lab_change(served_lab, mongo_db, "rename-vm", "vm-2", "renamed-by-worker")
        once = subprocess.run([CALIPSO, "listen", env_name, "--window", "0.2", "--once"],
                              env=served_lab.command_environment(mongo_db.name), capture_output=True, text=True,
                              timeout=120)
        assert once.returncode == 0 and "1 handled" in once.stderr, once.stderr
        assert "refreshed compute-2: scan" in once.stderr and "queued for the workers" in once.stderr, once.stderr
        refresh = wait_for("the worker's host refresh", lambda: mongo_db["scans"].find_one(
            {"environment": env_name, "requested_by": "listener", "status": {"$in": ["completed", "failed"]}}),
            log=worker.log)
        assert refresh["status"] == "completed" and refresh["scope"] == "compute-2", refresh
        assert refresh.get("worker"), refresh  # a worker claimed it (a scan run in the listener has no worker)
        assert stored(mongo_db, env_name) == truth_of(load_world(served_lab.world_file))
    finally:
        lab_change(served_lab, mongo_db, "rename-vm", "renamed-by-worker", "vm-2")
        delete_queue(settings, env_name)


# -- RabbitMQ going away ------------------------------------------------------------------------------------

class TcpProxy:
    """A TCP relay to RabbitMQ that the test can cut (every connection dropped, new ones refused)
    and restore on the same port, so that only this test's listener sees the broker go away."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self.server: socket.socket | None = None
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(16)
        self.port = server.getsockname()[1]
        self.server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=relay, args=(source, sink), daemon=True).start()

    def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        with self.lock:
            for end in self.sockets:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()
            self.sockets = []


def test_a_queue_bound_before_any_listener_keeps_events_and_a_purge_drops_them(  # type: ignore[no-untyped-def]
        mongo_db, served_lab: ServedLab, settings: Settings, env_name: str) -> None:
    """What `calipso demo` does before it prints its address: a change made before the listener child
    is up waits in the queue; the purge of a new demo run drops what an older run left there."""
    environment = add_environment(mongo_db, served_lab, env_name)
    delete_queue(settings, env_name)
    bind_notification_queue(environment)
    try:
        lab_change(served_lab, mongo_db, "rename-vm", "vm-2", "renamed-early")
        assert queued(settings, env_name) == 1
        bind_notification_queue(environment)  # declaring again keeps what waits
        assert queued(settings, env_name) == 1
        bind_notification_queue(environment, purge=True)
        assert queued(settings, env_name) == 0
    finally:
        lab_change(served_lab, mongo_db, "rename-vm", "renamed-early", "vm-2")
        delete_queue(settings, env_name)


def test_listener_reconnects_when_rabbitmq_goes_away_and_gets_what_was_sent_meanwhile(  # type: ignore[no-untyped-def]
        mongo_db, served_lab: ServedLab, settings: Settings, env_name: str) -> None:
    environment = add_environment(mongo_db, served_lab, env_name)
    full_scan(mongo_db, environment)
    proxy = TcpProxy(settings.amqp_address)
    proxy.start()
    assert environment.amqp is not None
    environment.amqp.url = f"amqp://guest@127.0.0.1:{proxy.port}//"  # the password stays in its own field
    lines: list[str] = []
    listener = build_listener(mongo_db, environment, window_s=0.3, say=lines.append)
    listener.backoff = Backoff(0.2, 1.0)
    stop = threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()
    log = lambda: "\n".join(lines)  # noqa: E731
    try:
        wait_for("the listener's queue is bound", lambda: any("listening to" in line for line in lines), 60, log)
        proxy.cut()
        wait_for("the listener notices", lambda: any("connection lost" in line for line in lines), 60, log)
        # Sent while the listener is away: the durable queue keeps it.
        lab_change(served_lab, mongo_db, "boot-vm", "--name", "while-away", "--host", "compute-2", "--network", "net-2")
        proxy.start()
        wait_for("the listener is back and the VM is in",
                 lambda: stored(mongo_db, env_name) == truth_of(load_world(served_lab.world_file)), log=log)
        assert listener.stats.connections >= 2 and listener.stats.handled >= 2
    finally:
        stop.set()
        thread.join(timeout=60)
        proxy.cut()
    assert not thread.is_alive()
    assert all("guest:guest" not in line for line in lines)
    assert queued(settings, env_name) == 0
    delete_queue(settings, env_name)
    assert json.dumps(listener.stats.__dict__)
