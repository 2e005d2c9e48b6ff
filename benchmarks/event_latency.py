"""How soon an event on the bus shows in MongoDB and in Neo4j: the listener and the projector
service (`calipso projector`) running, p50/p95/p99 over N VM renames.

    .venv/bin/python benchmarks/event_latency.py --hosts 20 --vms-per-host 10 --events 40

A lab world is scanned in process and projected; then the listener (ingest/listener, on the
stack's RabbitMQ, its host rescans through the lab's in-process hosts) runs in a thread and the
projector service `calipso projector` in a process of its own (`--projector follow`: `Projector.follow`
in a thread, as `calipso graph sync --follow` runs it). Each round renames a random VM in the
world and publishes the `compute.instance.update` notification OpenStack would send (lab/notify.py),
then takes the time the listener says it wrote the event (after its MongoDB writes; polling MongoDB
instead would load FerretDB, which scans the whole collection per query, and slow the listener it
measures) and polls until the new name is on the Neo4j node (an index seek). Needs the local stack
(`calipso stack up`); everything it writes is removed at the end. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import spread, world_parser  # noqa: E402
from projection import drop_graph  # noqa: E402

from calipso.lab_scan import LAB_ADMIN, scan_world_in_process  # noqa: E402
from core.environments import Environment  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.stores import Stores  # noqa: E402
from graphmodel.inventory import OBJECTS  # noqa: E402
from graphmodel.projector import Projector  # noqa: E402
from graphmodel.schema import uid  # noqa: E402
from ingest.listener.consumer import queue_name  # noqa: E402
from ingest.listener.run import build_listener  # noqa: E402
from ingest.transport import CallableTransport  # noqa: E402
from lab.changes import rename_vm  # noqa: E402
from lab.cloud.server import serve  # noqa: E402
from lab.cloud.source import StaticWorldSource  # noqa: E402
from lab.generate import generate_world  # noqa: E402
from lab.hosts import LabResponder  # noqa: E402
from lab.notify import publish_events  # noqa: E402
from migrations.runner import apply_mongo, apply_neo4j  # noqa: E402

DATABASE = "calipso_bench_events"
ENV = "bench-events"
POLL_S = 0.01


def wait_until(condition: Callable[[], bool], deadline_s: float = 30.0) -> float:
    """Seconds until `condition()` held (polled every POLL_S); raises after `deadline_s`."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > deadline_s:
            raise TimeoutError(f"not within {deadline_s:g}s")
        time.sleep(POLL_S)
    return time.perf_counter() - started


def main() -> None:
    parser = world_parser(__doc__, hosts=20, vms_per_host=10)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--window", type=float, default=2.0, help="the listener's host-rescan debounce window (s)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--verbose", action="store_true", help="print what the listener says")
    parser.add_argument("--projector", choices=["service", "follow"], default="service",
                        help="service: `calipso projector` as a process (default); follow: Projector.follow in a thread")
    parser.add_argument("--poll-interval", type=float, default=0.2, help="the projector service's --poll-interval")
    args = parser.parse_args()

    settings = load_settings()
    world = generate_world(args.hosts, args.vms_per_host, max(2, args.hosts // 10), "ovs", "vxlan", seed=args.seed)
    with Stores(settings) as stores, serve(StaticWorldSource(world)) as cloud:
        database = stores.mongo.client[DATABASE]
        database.client.drop_database(DATABASE)
        apply_mongo(database)
        apply_neo4j(stores.neo4j)
        drop_graph(stores, ENV)
        environment = Environment.parse({
            "name": ENV, "mechanism_drivers": ["ovs"], "type_drivers": ["vxlan"],
            "openstack": {"auth_url": cloud.auth_url, "username": LAB_ADMIN["username"],
                          "password": LAB_ADMIN["password"], "project": LAB_ADMIN["project_name"]},
            "cli": {"user": "lab", "password": "unused: hosts answer in process"},
            "amqp": {"url": settings.amqp_url, "exchanges": ["nova", "neutron"]},
        })
        scanned = scan_world_in_process(world, database, ENV)
        Projector(database, stores.neo4j, ENV).sync()
        print(f"world: {len(world.hosts)} hosts, {len(world.instances)} VMs, "
              f"{sum(scanned.counts.values())} objects and links scanned and projected", flush=True)

        stop = threading.Event()
        listening = threading.Event()
        said: list[tuple[float, str]] = []  # (when, line): what the listener says, as it says it

        def hear(line: str) -> None:
            said.append((time.perf_counter(), line))
            if args.verbose:
                print(f"  {time.strftime('%H:%M:%S')} listener: {line}", flush=True)
            if "listening to" in line:
                listening.set()
        listener = build_listener(database, environment, window_s=args.window, say=hear,
                                  transport=CallableTransport(LabResponder(world)))
        threads = [threading.Thread(target=listener.run, args=(stop,), daemon=True)]
        projector = None
        if args.projector == "follow":
            threads.append(threading.Thread(target=Projector(database, stores.neo4j, ENV).follow,
                                            args=(stop.is_set,), daemon=True))
        else:  # the projector service as deployed: `calipso projector`, a process of its own, every environment
            projector = subprocess.Popen(
                [str(Path(sys.executable).with_name("calipso")), "projector", "--poll-interval", str(args.poll_interval)],
                env={**os.environ, "MONGO_DATABASE": DATABASE, "CALIPSO_LOG_LEVEL": "WARNING"},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for thread in threads:
            thread.start()
        try:
            if not listening.wait(60):
                raise SystemExit("the listener did not connect to RabbitMQ within 60 s")
            to_mongo, to_neo4j = measure(args, world, database, stores, settings.amqp_url, said)
        finally:
            stop.set()
            if projector is not None:
                projector.terminate()
                projector.wait(timeout=60)
            for thread in threads:
                thread.join(timeout=60)
            drop_graph(stores, ENV)
            database.client.drop_database(DATABASE)
            _delete_queue(settings.amqp_url)
    for label, values in (("bus -> MongoDB inventory", to_mongo), ("bus -> Neo4j node", to_neo4j)):
        print(f"  {label:26s} {spread(values, 0.95, 0.99, scale=1000)}   max {max(values) * 1000:7.1f} ms   "
              f"({len(values)} events)")


def measure(args: argparse.Namespace, world, database, stores: Stores,  # type: ignore[no-untyped-def]
            amqp_url: str, said: list[tuple[float, str]]) -> tuple[list[float], list[float]]:
    """Rename random VMs one at a time; seconds from publishing to MongoDB and to Neo4j, each."""
    chooser = random.Random(args.seed)
    to_mongo: list[float] = []
    to_neo4j: list[float] = []
    for number in range(args.events):
        vm = chooser.choice(world.instances)
        name = f"renamed-{number}"
        events = rename_vm(world, vm.id, name)
        heard = len(said)
        started = time.perf_counter()
        publish_events(amqp_url, world, events)
        if args.verbose:
            print(f"  {time.strftime('%H:%M:%S')} published {len(events)} events: {vm.id} renamed {name}", flush=True)

        def written() -> float | None:
            # The listener says "compute.instance.update: instance ID (NAME): ..." once it has written.
            return next((when for when, line in said[heard:] if f"{vm.id} ({name})" in line), None)
        wait_until(lambda: written() is not None, deadline_s=180)  # a loaded machine: slow, but measured
        to_mongo.append(written() - started)  # type: ignore[operator]
        stored = (database[OBJECTS].find_one({"environment": ENV, "id": vm.id}, {"name": 1}) or {}).get("name")
        if stored != name:
            raise SystemExit(f"the listener said it wrote {vm.id} as {name!r}, but MongoDB has {stored!r}")

        def in_graph() -> bool:
            records, _, _ = stores.neo4j.execute_query("MATCH (n:Object {uid: $uid}) RETURN n.name AS name",
                                                       uid=uid(ENV, vm.id))
            return bool(records) and records[0]["name"] == name
        wait_until(in_graph, deadline_s=180)
        to_neo4j.append(time.perf_counter() - started)
        print(f"  {number + 1:3d} {vm.id}: MongoDB {to_mongo[-1] * 1000:6.0f} ms, Neo4j {to_neo4j[-1] * 1000:6.0f} ms",
              flush=True)
        # One event at a time: wait for the debounced rescan of the VM's host (the listener handles
        # events and rescans in one thread, so the next event would queue behind it).
        wait_until(lambda: any(line.startswith(f"refreshed {vm.host}:") for _, line in said[heard:]),
                   deadline_s=args.window + 60)
    return to_mongo, to_neo4j


def _delete_queue(amqp_url: str) -> None:
    import kombu

    with kombu.Connection(amqp_url, connect_timeout=5) as connection:
        kombu.Queue(queue_name(ENV))(connection.default_channel).delete()


if __name__ == "__main__":
    main()
