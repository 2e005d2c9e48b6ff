"""The listener under faults of the real servers: RabbitMQ restarted while events are being handled,
and FerretDB stopped and started while events flow. Every event published is applied, and none is
applied twice (one history version and one feed entry per booted VM), without restarting the listener.

The test stack is shared by every test (and other sessions): these tests stop and start servers of
their OWN, started on free loopback ports under the test's temporary directory (`stack.manager.Stack`
with settings of their own, as `calipso stack` runs the shared ones)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import kombu
from conftest import ServedLab, wait_for

from calipso.env_commands import enrol_lab_host_keys, lab_environment
from core.environments import Environment, EnvironmentStore
from core.settings import Settings, load_settings
from core.stores import Stores
from graphmodel.inventory import CHANGES, HISTORY, OBJECTS
from ingest.listener.consumer import ROUTING_KEY, Backoff, bind_notification_queue, declare_exchanges, queue_name
from ingest.listener.handlers import parse_notification, plan_for
from ingest.listener.run import build_listener
from ingest.records import MESSAGES
from ingest.run import scan_environment
from migrations.runner import apply_mongo
from stack.manager import Stack

CALIPSO = str(Path(sys.executable).with_name("calipso"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def private_server(settings: Settings, home: Path, name: str) -> Iterator[tuple[Settings, Stack]]:
    """One server of the stack on free ports under `home`, stopped afterwards (the shared one is untouched)."""
    overrides = {"calipso_home": str(home)}
    if name == "rabbitmq":
        overrides.update(amqp_url=f"amqp://guest:guest@127.0.0.1:{free_port()}//",
                         rabbitmq_dist_port=str(free_port()), epmd_port=str(free_port()))
    elif name == "ferretdb":
        overrides["mongo_uri"] = f"mongodb://127.0.0.1:{free_port()}/"
        # SQLite whatever the suite's backend: this FerretDB is stopped and started, its storage is not the point
        # (a PostgreSQL of its own could not run under pytest's tmp_path, which only root may enter).
        overrides["calipso_ferretdb_backend"] = "sqlite"
        # The test stack's build of FerretDB, copied with its time: built again only if its sources are newer.
        (home / "bin").mkdir(parents=True, exist_ok=True)
        shutil.copy2(settings.home / "bin" / "calipso-ferretdb", home / "bin" / "calipso-ferretdb")
    own = load_settings(**overrides)
    stack = Stack(own, [name])
    stack.up()
    try:
        yield own, stack
    finally:
        stack.down()


def add_environment(db, lab: ServedLab, name: str, amqp_url: str) -> Environment:  # type: ignore[no-untyped-def]
    store = EnvironmentStore(db, lab.secret_key)
    store.add(lab_environment(name, lab.settings))
    enrol_lab_host_keys(db, name, lab.settings)
    environment = store.decrypt(name)
    assert environment.amqp is not None
    environment.amqp.url = amqp_url.replace("guest:guest@", "guest@")  # the password stays in its own field
    return environment


def boot_vm(lab: ServedLab, database_name: str, amqp_url: str, name: str, host: str) -> None:
    """`calipso lab change boot-vm` on the served lab, its notifications published to `amqp_url`."""
    done = subprocess.run(
        [CALIPSO, "lab", "change", "boot-vm", str(lab.world_file), "--name", name, "--host", host,
         "--network", "net-2"],
        env={**lab.command_environment(database_name), "AMQP_URL": amqp_url}, capture_output=True, text=True,
        timeout=120)
    assert done.returncode == 0 and "not published" not in done.stderr, done.stdout + done.stderr


def applied_once(db, environment: str, vm_names: list[str]) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Per VM name found in the inventory: (history versions, feed upserts) of its instance object."""
    found = {}
    for doc in db[OBJECTS].find({"environment": environment, "type": "instance", "name": {"$in": vm_names}}):
        key = {"environment": environment, "kind": "object", "key": doc["id"]}
        found[doc["name"]] = (db[HISTORY].count_documents(key), db[CHANGES].count_documents({**key, "op": "upsert"}))
    return found


def queued(amqp_url: str, environment: str) -> int:
    with kombu.Connection(amqp_url, connect_timeout=5) as connection:
        return kombu.Queue(queue_name(environment), passive=True)(connection.default_channel).queue_declare(
            passive=True).message_count


EXCHANGES = ("nova", "neutron")


def bind_witness(amqp_url: str, name: str) -> None:
    """A second durable queue bound like the listener's: it keeps a copy of everything published
    (bound again after a RabbitMQ restart, which drops the transient exchanges and their bindings)."""
    with kombu.Connection(amqp_url, connect_timeout=5) as connection:
        declare_exchanges(connection, list(EXCHANGES))
        kombu.Queue(name, durable=True, auto_delete=False, bindings=[
            kombu.binding(kombu.Exchange(exchange, type="topic", passive=True), routing_key=ROUTING_KEY)
            for exchange in EXCHANGES])(connection.default_channel).declare()


def published_events(amqp_url: str, name: str) -> list[str]:
    """The message ids of the events the witness queue got that the listener acts on (it ignores others)."""
    ids = []
    with kombu.Connection(amqp_url, connect_timeout=5) as connection, connection.SimpleQueue(name) as witness:
        while True:
            try:
                message = witness.get(timeout=1)
            except witness.Empty:
                break
            notification = parse_notification(message.body, str(message.delivery_info.get("exchange")))
            if plan_for(notification) is not None:
                ids.append(str(notification.message_id))
            message.ack()
    with kombu.Connection(amqp_url, connect_timeout=5) as connection:
        kombu.Queue(name)(connection.default_channel).delete()
    return ids


def applied_events(db, environment: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The message ids of the events the listener applied (each recorded as an info message)."""
    return [str((doc.get("details") or {}).get("message_id"))
            for doc in db[MESSAGES].find({"environment": environment, "display_context": "listener", "level": "info"})]


class RunningListener:
    """The environment's listener in a thread (as `calipso listen` runs it), its lines collected."""

    def __init__(self, db, environment: Environment, window_s: float) -> None:  # type: ignore[no-untyped-def]
        self.lines: list[str] = []
        self.listener = build_listener(db, environment, window_s=window_s, say=self.lines.append)
        self.listener.backoff = Backoff(0.2, 1.0)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.listener.run, args=(self.stop,), daemon=True)
        self.thread.start()

    def log(self) -> str:
        return "\n".join(self.lines)

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), self.log()


def test_rabbitmq_restarted_while_events_are_handled_loses_none_and_applies_none_twice(  # type: ignore[no-untyped-def]
        mongo_db, served_lab: ServedLab, settings: Settings, env_name: str, tmp_path: Path) -> None:
    with private_server(settings, tmp_path / "rabbit", "rabbitmq") as (own, rabbitmq):
        environment = add_environment(mongo_db, served_lab, env_name, own.amqp_url)
        apply_mongo(mongo_db)
        assert scan_environment(mongo_db, environment).status == "completed"
        bind_notification_queue(environment)
        bind_witness(own.amqp_url, "witness")
        # A long debounce window: handled events stay unacknowledged until their host is refreshed,
        # so the restart below catches some written to MongoDB but not acknowledged (delivered again).
        running = RunningListener(mongo_db, environment, window_s=4.0)
        before = [f"before-restart-{n}" for n in range(2)]
        after = [f"after-restart-{n}" for n in range(2)]
        try:
            wait_for("the listener's queue is bound", lambda: running.count("listening to") >= 1, 60, running.log)
            for name in before:
                boot_vm(served_lab, mongo_db.name, own.amqp_url, name, "compute-2")
            wait_for("the first VMs written (their acks wait for the host refresh)",
                     lambda: len(applied_once(mongo_db, env_name, before)) == len(before), 60, running.log)
            rabbitmq.down()
            wait_for("the listener notices", lambda: running.count("connection lost") >= 1, 60, running.log)
            rabbitmq.up()
            wait_for("the listener reconnects", lambda: running.count("listening to") >= 2, 120, running.log)
            bind_witness(own.amqp_url, "witness")
            for name in after:
                boot_vm(served_lab, mongo_db.name, own.amqp_url, name, "compute-1")
            wait_for("every VM applied",
                     lambda: len(applied_once(mongo_db, env_name, before + after)) == len(before + after),
                     60, running.log)
            wait_for("the queue drained", lambda: queued(own.amqp_url, env_name) == 0, 60, running.log)
        finally:
            running.close()
        # N published = N applied (events delivered again after the restart are applied again: a no-op)
        published, applied = published_events(own.amqp_url, "witness"), applied_events(mongo_db, env_name)
        assert published and len(set(published)) == len(published)
        assert set(applied) == set(published), (sorted(published), sorted(applied))
        # ... and none twice in history: per VM the event's version and its host refresh's, at most,
        # each with its one feed entry (an event applied again after the refresh would add a third).
        versions = applied_once(mongo_db, env_name, before + after)
        assert all(1 <= history == feed <= 2 for history, feed in versions.values()), versions
        assert running.listener.stats.connections >= 2
        assert running.listener.stats.failed == 0, running.log()


def test_ferretdb_stopped_and_started_under_the_listener_loses_no_event(  # type: ignore[no-untyped-def]
        served_lab: ServedLab, settings: Settings, env_name: str, tmp_path: Path) -> None:
    with private_server(settings, tmp_path / "ferret", "ferretdb") as (own, ferretdb), \
            Stores(load_settings(mongo_uri=own.mongo_uri, mongo_database="faults")) as stores:
        db = stores.mongo
        apply_mongo(db)
        environment = add_environment(db, served_lab, env_name, settings.amqp_url)
        assert scan_environment(db, environment).status == "completed"
        bind_notification_queue(environment, purge=True)
        witness = f"witness-{env_name}"
        bind_witness(settings.amqp_url, witness)
        running = RunningListener(db, environment, window_s=0.3)
        names = [f"ferret-{n}" for n in range(3)]
        try:
            wait_for("the listener's queue is bound", lambda: running.count("listening to") >= 1, 60, running.log)
            boot_vm(served_lab, db.name, settings.amqp_url, names[0], "compute-2")
            wait_for("the first VM applied", lambda: len(applied_once(db, env_name, names[:1])) == 1, 60, running.log)
            ferretdb.down()
            # Published while MongoDB is away: the listener cannot write, so the events stay in the queue.
            boot_vm(served_lab, db.name, settings.amqp_url, names[1], "compute-1")
            wait_for("the listener notices", lambda: running.count("MongoDB") >= 1, 120, running.log)
            ferretdb.up()
            boot_vm(served_lab, db.name, settings.amqp_url, names[2], "compute-2")
            wait_for("every VM applied", lambda: len(applied_once(db, env_name, names)) == len(names), 120,
                     running.log)
            wait_for("the queue drained", lambda: queued(settings.amqp_url, env_name) == 0, 60, running.log)
        finally:
            running.close()
            with kombu.Connection(settings.amqp_url, connect_timeout=5) as connection:
                kombu.Queue(queue_name(env_name))(connection.default_channel).delete()
        published, applied = published_events(settings.amqp_url, witness), applied_events(db, env_name)
        assert published and set(applied) == set(published), (sorted(published), sorted(applied))
        versions = applied_once(db, env_name, names)
        assert all(1 <= history == feed <= 2 for history, feed in versions.values()), versions
        assert running.listener.stats.failed == 0, running.log()
