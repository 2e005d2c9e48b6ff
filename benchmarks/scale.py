"""The large-world figures in one run: scan, projection next to raw batched MERGE, analysis latency.

    .venv/bin/python benchmarks/scale.py --hosts 1000 --vms-per-host 20

1. Scan a generated OVS/VXLAN world (its APIs on loopback for the real openstacksdk, its hosts
   answering through the lab's in-process simulator instead of SSH) into a throw-away database.
   Prints total time, documents per second, each phase, the CPU the lab's simulator spent answering
   commands (on a real cloud: SSH round trips) against the CPU spent parsing and finding links, the
   MongoDB time per command, and the process's peak RSS after the scan.
2. Project the scan's changes feed into Neo4j with the Projector, then write the same inventory
   documents again with plain `UNWIND ... MERGE` statements into another environment: throughput of
   each and their ratio, on the same Neo4j in the same run.
3. p50/p95 latency of impact, rca and path on the projected scan (rca_accuracy.print_latency).

Needs the local stack (`calipso stack up`). Everything it writes is removed at the end. Prints;
asserts nothing.
"""

from __future__ import annotations

import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pymongo import monitoring

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import world_parser  # noqa: E402
from projection import drop_graph, raw_merge  # noqa: E402
from rca_accuracy import print_latency  # noqa: E402
from scan import CommandTimes  # noqa: E402

from calipso.lab_scan import connect_to_lab  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.stores import Stores  # noqa: E402
from graphmodel.inventory import LINKS, OBJECTS  # noqa: E402
from graphmodel.projector import Projector  # noqa: E402
from ingest.hierarchy import openstack_documents  # noqa: E402
from ingest.scanner import Scanner  # noqa: E402
from ingest.sources.openstack.fetch import fetch_openstack  # noqa: E402
from ingest.transport import CallableTransport, CommandResult  # noqa: E402
from lab.cloud.server import serve  # noqa: E402
from lab.cloud.source import StaticWorldSource  # noqa: E402
from lab.generate import generate_world  # noqa: E402
from lab.hosts import LabResponder  # noqa: E402
from migrations.runner import apply_mongo, apply_neo4j  # noqa: E402

DATABASE = "calipso_bench_scale"
ENV, RAW_ENV = "bench-scale", "bench-scale-raw"


class CpuTally:
    """CPU seconds per label, summed over threads (thread CPU time: fair under the GIL)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seconds: dict[str, float] = {}

    def add(self, label: str, seconds: float) -> None:
        with self.lock:
            self.seconds[label] = self.seconds.get(label, 0.0) + seconds


def main() -> None:
    parser = world_parser(__doc__, hosts=100, vms_per_host=20)
    parser.add_argument("--concurrency", type=int, default=8, help="hosts scanned at once")
    parser.add_argument("--batch-size", type=int, default=5000, help="rows per Neo4j transaction")
    parser.add_argument("--samples", type=int, default=40, help="queries per latency figure")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    world = generate_world(args.hosts, args.vms_per_host, max(2, args.hosts // 10), "ovs", "vxlan", seed=args.seed)
    print(f"world: {len(world.hosts)} hosts, {len(world.instances)} VMs, {len(world.ports)} ports "
          f"(generated in {time.perf_counter() - started:.1f}s)", flush=True)
    times = CommandTimes()
    monitoring.register(times)  # before the client is made: it applies to clients created afterwards
    with Stores(load_settings()) as stores:
        database = stores.mongo.client[DATABASE]
        database.client.drop_database(DATABASE)
        apply_mongo(database)
        apply_neo4j(stores.neo4j)
        for env in (ENV, RAW_ENV):
            drop_graph(stores, env)
        try:
            scan(world, database, args.concurrency, times)
            project(stores, database, args.batch_size)
            print("\nlatency on the projected scan:", flush=True)
            print_latency(stores.neo4j, ENV, world, args.samples, args.seed)
        finally:
            for env in (ENV, RAW_ENV):
                drop_graph(stores, env)
            database.client.drop_database(DATABASE)


def scan(world: Any, database: Any, concurrency: int, times: CommandTimes) -> None:
    """Scan `world` into ENV and print where the time went."""
    cpu = CpuTally()
    responder = CallableTransport(LabResponder(world))

    class TimedTransport(CallableTransport):
        def run(self, host: str, command: str, timeout: float = 30.0) -> CommandResult:
            begun = time.thread_time()
            try:
                return responder.run(host, command, timeout)
            finally:
                cpu.add("simulator", time.thread_time() - begun)

    def fetch_host(transport: Any, host: str) -> Any:
        begun = time.thread_time()
        try:
            return fetch_host(transport, host)
        finally:
            cpu.add("host", time.thread_time() - begun)

    rss_before = _rss_mib()
    with serve(StaticWorldSource(world)) as cloud:
        def documents() -> list[dict[str, Any]]:
            return openstack_documents(fetch_openstack(connect_to_lab(cloud.auth_url), "RegionOne"))

        scanner = Scanner(database, ENV, documents, TimedTransport(responder.responder), fetch_host, concurrency)
        times.totals.clear()
        begun = time.perf_counter()
        last = [begun]

        def progress(phase: str, done: int, total: int) -> None:
            if time.perf_counter() - last[0] > 60:
                last[0] = time.perf_counter()
                print(f"  ... {phase} {done}/{total} at {last[0] - begun:.0f}s", flush=True)

        result = scanner.scan(progress)
        total = time.perf_counter() - begun
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    objects = sum(v for k, v in result.counts.items() if k != "links")
    links = database[LINKS].count_documents({"environment": ENV})
    print(f"\nscan {result.status}: {objects} objects, {links} links in {total:.1f}s "
          f"= {(objects + links) / total:.0f} documents/s; peak RSS {peak_mib:.0f} MiB "
          f"({rss_before:.0f} MiB before the scan: the world and the lab)")
    print("phases (wall): " + ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items()))
    simulator = cpu.seconds.get("simulator", 0.0)
    print(f"host phase CPU: lab simulator answering commands {simulator:.1f}s (SSH on a real cloud), "
          f"parsing and host facts {cpu.seconds.get('host', 0.0) - simulator:.1f}s")
    print(f"MongoDB time by command (seconds/calls): {times.report()}", flush=True)


def _rss_mib() -> float:
    """This process's resident memory now, in MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def project(stores: Stores, database: Any, batch_size: int) -> None:
    """Project ENV's feed, then raw-MERGE the same documents into RAW_ENV; print both and the ratio."""
    begun = time.perf_counter()
    stats = Projector(database, stores.neo4j, ENV, batch_size).sync()
    projector_s = time.perf_counter() - begun
    print(f"\nprojector: {stats.changes} changes in {projector_s:.1f}s = {stats.changes / projector_s:,.0f}/s "
          f"(reading the feed {stats.read_seconds:.1f}s, Neo4j transactions {stats.write_seconds:.1f}s)", flush=True)
    hidden = {"_id": 0}
    objects = list(database[OBJECTS].find({"environment": ENV}, hidden))
    links = list(database[LINKS].find({"environment": ENV}, hidden))
    begun = time.perf_counter()
    raw_merge(stores, RAW_ENV, objects, links, batch_size)
    raw_s = time.perf_counter() - begun
    rows = len(objects) + len(links)
    print(f"raw batched MERGE: {rows} rows in {raw_s:.1f}s = {rows / raw_s:,.0f}/s")
    print(f"projector / raw throughput ratio: {(stats.changes / projector_s) / (rows / raw_s):.2f} end to end, "
          f"{(stats.changes / stats.write_seconds) / (rows / raw_s):.2f} counting only the Neo4j writes", flush=True)


if __name__ == "__main__":
    main()
