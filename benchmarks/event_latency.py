"""How soon an event on the bus shows in MongoDB and in Neo4j: the listener and the projector
service (`calipso projector`) running, p50/p95/p99 over N VM renames, and where the time goes.

    .venv/bin/python benchmarks/event_latency.py --hosts 20 --vms-per-host 10 --events 200

A lab world is scanned in process and projected; then the listener (ingest/listener, on the
stack's RabbitMQ, its host rescans through the lab's in-process hosts) runs in a thread and the
projector service `calipso projector` in a process of its own (`--projector follow`: `Projector.follow`
in a thread, as `calipso graph sync --follow` runs it). Each round renames a random VM in the
world and publishes the `compute.instance.update` notification OpenStack would send (lab/notify.py),
then takes the time the listener says it wrote the event (after its MongoDB writes; polling MongoDB
instead would load FerretDB, which scans the whole collection per query, and slow the listener it
measures) and polls until the new name is on the Neo4j node (an index seek).

Honest figures: the first --warmup events are not counted but printed apart (the first event after the
projector service starts pays its start-up: a service runs for days); one event at a time, each after
the previous one's host refresh and a random pause (up to --gap s), so events do not fall in step with
the projector's polls. Per phase, from taps that change nothing: bus (published -> the listener's consumer
got it), apply (-> its MongoDB writes done), record (-> its message recorded and said), to projector (->
the service says it applied the event's feed entry), to node (-> the benchmark saw the name on the node).
Needs the local stack (`calipso stack up`); everything it writes is removed at the end. Prints; asserts
nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import kombu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import load_average, spread, world_parser  # noqa: E402
from projection import drop_graph  # noqa: E402

from calipso.lab_scan import LAB_ADMIN, scan_world_in_process  # noqa: E402
from core.environments import Environment  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.stores import Stores  # noqa: E402
from graphmodel.inventory import OBJECTS, feed_counters  # noqa: E402
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
from lab.notify import ROUTING_KEY, envelope, payload_for  # noqa: E402
from migrations.runner import apply_mongo, apply_neo4j  # noqa: E402

DATABASE = "calipso_bench_events"
ENV = "bench-events"
POLL_S = 0.01
#: The exchange the benchmark publishes Nova's notifications on: its own, not `nova`, which every
#: other listener on the same RabbitMQ (tests, the demo) is bound to and would apply.
EXCHANGE = "calipso-bench-events-nova"


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
    parser.add_argument("--events", type=int, default=200, help="events measured (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=5, help="events before them, printed apart, not counted")
    parser.add_argument("--gap", type=float, default=1.0, help="a random pause of up to this many s between events")
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
            "amqp": {"url": settings.amqp_url, "exchanges": [EXCHANGE]},
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
        taps = Taps(listener)
        threads = [threading.Thread(target=listener.run, args=(stop,), daemon=True)]
        projector = None
        if args.projector == "follow":
            threads.append(threading.Thread(target=Projector(database, stores.neo4j, ENV).follow,
                                            args=(stop.is_set,), daemon=True))
        else:  # the projector service as deployed: `calipso projector`, a process of its own, every environment
            projector = subprocess.Popen(
                [str(Path(sys.executable).with_name("calipso")), "projector", "--poll-interval", str(args.poll_interval)],
                env={**os.environ, "MONGO_DATABASE": DATABASE, "CALIPSO_LOG_LEVEL": "WARNING"},
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            threads.append(threading.Thread(target=taps.follow_projector, args=(projector.stderr,), daemon=True))
        for thread in threads:
            thread.start()
        try:
            if not listening.wait(60):
                raise SystemExit("the listener did not connect to RabbitMQ within 60 s")
            print(f"load before: {load_average()}", flush=True)
            timelines = measure(args, world, database, stores, settings.amqp_url, said, taps)
            print(f"load after: {load_average()}", flush=True)
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
    report(timelines, args.warmup)


@dataclass
class Timeline:
    """When one event passed each point, in perf_counter seconds (None: not seen)."""

    published: float
    received: float | None = None  # the listener's consumer callback got the message
    applied: float | None = None  # the applier's MongoDB writes done (inventory, history, feed)
    said: float | None = None  # the listener said it wrote the event (after its message record)
    projected: float | None = None  # the projector service said it applied the event's feed entry
    in_graph: float | None = None  # the new name was on the Neo4j node


class Taps:
    """Times taken inside the listener (its consumer callback and its applier, wrapped) and from the
    projector service's own lines (`ENV: applied up to change N`), without changing what they do."""

    def __init__(self, listener) -> None:  # type: ignore[no-untyped-def]
        self.received: list[float] = []
        self.applied: list[tuple[float, float]] = []  # (started, done)
        self.projected: list[tuple[float, int]] = []  # (when, last change applied)
        on_message, apply = listener._on_message, listener.applier.apply

        def tapped_message(message):  # type: ignore[no-untyped-def]
            self.received.append(time.perf_counter())
            return on_message(message)

        def tapped_apply(plan):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return apply(plan)
            finally:
                self.applied.append((started, time.perf_counter()))
        listener._on_message = tapped_message  # looked up when run() makes its consumer
        listener.applier.apply = tapped_apply

    def follow_projector(self, stream) -> None:  # type: ignore[no-untyped-def]
        for raw in stream:
            line = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
            match = re.search(rf"{re.escape(ENV)}: applied up to change (\d+)", line)
            if match:
                self.projected.append((time.perf_counter(), int(match.group(1))))


def measure(args: argparse.Namespace, world, database, stores: Stores,  # type: ignore[no-untyped-def]
            amqp_url: str, said: list[tuple[float, str]], taps: Taps) -> list[Timeline]:
    """Rename random VMs one at a time (warm-up ones first); each one's Timeline."""
    chooser = random.Random(args.seed)
    timelines: list[Timeline] = []
    # One connection for every publish: opening one per event (about 20 ms) is not the bus's delay.
    with kombu.Connection(amqp_url, connect_timeout=5) as connection, connection.Producer() as producer:
        exchange = kombu.Exchange(EXCHANGE, type="topic", durable=False)
        producer.publish({}, exchange=exchange, routing_key="calipso.bench.none", declare=[exchange])  # declared once
        for number in range(args.warmup + args.events):
            vm = chooser.choice(world.instances)
            name = f"renamed-{number}"
            events = rename_vm(world, vm.id, name)
            bodies = [envelope(event, payload_for(world, event)) for event in events]
            heard, received, applied = len(said), len(taps.received), len(taps.applied)
            timeline = Timeline(published=time.perf_counter())
            for body in bodies:
                producer.publish(body, exchange=exchange, routing_key=ROUTING_KEY, serializer="json")

            def written() -> float | None:
                # The listener says "compute.instance.update: instance ID (NAME): ..." once it has written.
                return next((when for when, line in said[heard:] if f"{vm.id} ({name})" in line), None)
            wait_until(lambda: written() is not None, deadline_s=180)  # a loaded machine: slow, but measured
            timeline.said = written()
            timeline.received = taps.received[received] if len(taps.received) > received else None
            timeline.applied = taps.applied[applied][1] if len(taps.applied) > applied else None
            stored = (database[OBJECTS].find_one({"environment": ENV, "id": vm.id}, {"name": 1}) or {}).get("name")
            if stored != name:
                raise SystemExit(f"the listener said it wrote {vm.id} as {name!r}, but MongoDB has {stored!r}")
            last_change = feed_counters(database).get(ENV, 0)  # the event's entries: nothing else writes now

            def in_graph() -> bool:
                records, _, _ = stores.neo4j.execute_query("MATCH (n:Object {uid: $uid}) RETURN n.name AS name",
                                                           uid=uid(ENV, vm.id))
                return bool(records) and records[0]["name"] == name
            wait_until(in_graph, deadline_s=180)
            timeline.in_graph = time.perf_counter()
            timeline.projected = next((when for when, seq in taps.projected if seq >= last_change
                                       and when >= timeline.published), None)
            timelines.append(timeline)
            label = "warm-up" if number < args.warmup else f"{number - args.warmup + 1:3d}"
            print(f"  {label:>7s} {vm.id}: MongoDB {_ms(timeline.said, timeline):6.0f} ms, "
                  f"Neo4j {_ms(timeline.in_graph, timeline):6.0f} ms  ({_phases(timeline)})", flush=True)
            # One event at a time: wait for the debounced rescan of the VM's host (the listener handles
            # events and rescans in one thread, so the next event would queue behind it), then a random
            # pause, so that events do not fall in step with the projector's polls.
            wait_until(lambda: any(line.startswith(f"refreshed {vm.host}:") for _, line in said[heard:]),
                       deadline_s=args.window + 60)
            time.sleep(chooser.uniform(0, args.gap))
    return timelines


def _ms(when: float | None, timeline: Timeline, since: float | None = None) -> float:
    start = timeline.published if since is None else since
    return float("nan") if when is None or start is None else (when - start) * 1000


PHASES = (("bus", "published", "received"), ("apply", "received", "applied"), ("record", "applied", "said"),
          ("to projector", "said", "projected"), ("to node", "projected", "in_graph"))


def _phases(timeline: Timeline) -> str:
    return ", ".join(f"{name} {_ms(getattr(timeline, end), timeline, getattr(timeline, start)):.0f}"
                     for name, start, end in PHASES)


def report(timelines: list[Timeline], warmup: int) -> None:
    """The warm-up events one by one, then percentiles of the measured ones: end to end and per phase."""
    for number, timeline in enumerate(timelines[:warmup], 1):
        print(f"  warm-up {number} (not counted{'; the first event after start' if number == 1 else ''}): "
              f"MongoDB {_ms(timeline.said, timeline):.0f} ms, Neo4j {_ms(timeline.in_graph, timeline):.0f} ms")
    measured = timelines[warmup:]
    rows = [("bus -> MongoDB (said)", [t.said - t.published for t in measured if t.said]),
            ("bus -> Neo4j node", [t.in_graph - t.published for t in measured if t.in_graph])]
    rows += [(f"  phase: {name}", [getattr(t, end) - getattr(t, start) for t in measured
                                   if getattr(t, end) is not None and getattr(t, start) is not None])
             for name, start, end in PHASES]
    for label, values in rows:
        if values:
            print(f"  {label:26s} {spread(values, 0.95, 0.99, scale=1000)}   max {max(values) * 1000:7.1f} ms   "
                  f"({len(values)} events)")


def _delete_queue(amqp_url: str) -> None:
    """The benchmark's queue and its exchange."""
    with kombu.Connection(amqp_url, connect_timeout=5) as connection:
        kombu.Queue(queue_name(ENV))(connection.default_channel).delete()
        kombu.Exchange(EXCHANGE, type="topic")(connection.default_channel).delete()


if __name__ == "__main__":
    main()
