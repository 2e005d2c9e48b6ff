"""Scan a generated lab world in process and print where the time goes.

    .venv/bin/python benchmarks/scan.py --hosts 1000 --vms-per-host 20

The world's OpenStack APIs are served on loopback (read by the real openstacksdk); its hosts answer
through the lab's in-process responder (the SSH hop is measured separately by the transport
benchmarks). Needs the local stack (`calipso stack up`); writes into a throw-away database.
Prints: total seconds, objects and links per second, seconds per phase (OpenStack fetch, host fetch,
parse+transform, write), the MongoDB time per command and collection (as the driver saw it, so it
includes the server's time), peak RSS of this process.
"""

from __future__ import annotations

import resource
import sys
import threading
import time
import warnings
from pathlib import Path

from pymongo import monitoring

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import world_parser  # noqa: E402

from core.settings import load_settings  # noqa: E402
from core.stores import Stores  # noqa: E402
from ingest.hierarchy import fetch_host, openstack_documents  # noqa: E402
from ingest.scanner import Scanner  # noqa: E402
from ingest.sources.openstack.fetch import fetch_openstack  # noqa: E402
from ingest.transport import CallableTransport  # noqa: E402
from lab.cloud.server import serve  # noqa: E402
from lab.cloud.source import StaticWorldSource  # noqa: E402
from lab.generate import generate_world  # noqa: E402
from lab.hosts import LabResponder  # noqa: E402
from migrations.runner import apply_mongo  # noqa: E402


class CommandTimes(monitoring.CommandListener):
    """Seconds and calls per (command, collection) of every MongoDB command this process sends."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.names: dict[tuple[int, int], tuple[str, str]] = {}
        self.totals: dict[tuple[str, str], list[float]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        target = event.command.get(event.command_name)
        with self.lock:
            self.names[(event.request_id, id(event.connection_id))] = (
                event.command_name, target if isinstance(target, str) else "")

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._done(event)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._done(event)

    def _done(self, event: monitoring.CommandSucceededEvent | monitoring.CommandFailedEvent) -> None:
        with self.lock:
            name = self.names.pop((event.request_id, id(event.connection_id)), (event.command_name, ""))
            total = self.totals.setdefault(name, [0.0, 0])
            total[0] += event.duration_micros / 1e6
            total[1] += 1

    def report(self, top: int = 8) -> str:
        ranked = sorted(self.totals.items(), key=lambda item: -item[1][0])[:top]
        return ", ".join(f"{command} {collection} {seconds:.1f}s/{int(calls)}"
                         for (command, collection), (seconds, calls) in ranked)


def main() -> None:
    parser = world_parser(__doc__, hosts=100, vms_per_host=20)
    parser.add_argument("--networks", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rescans", type=int, default=0,
                        help="scan the unchanged world again this many times (each printed)")
    args = parser.parse_args()

    import openstack

    started = time.perf_counter()
    world = generate_world(args.hosts, args.vms_per_host, args.networks, "ovs", "vxlan", 1)
    print(f"world: {len(world.hosts)} hosts, {len(world.instances)} VMs, {len(world.ports)} ports "
          f"(generated in {time.perf_counter() - started:.1f}s)", flush=True)
    settings = load_settings()
    times = CommandTimes()
    monitoring.register(times)  # before the client is made: it applies to clients created afterwards
    with Stores(settings) as stores, serve(StaticWorldSource(world)) as cloud:
        database = stores.mongo.client["calipso_bench_scan"]
        database.client.drop_database(database.name)
        apply_mongo(database)

        def docs() -> list[dict]:  # type: ignore[type-arg]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                connection = openstack.connect(  # the lab's fixed admin credentials
                    auth_url=cloud.auth_url, username="admin", password="lab-admin-pw", project_name="admin",
                    user_domain_name="Default", project_domain_name="Default", region_name="RegionOne")
                return openstack_documents(fetch_openstack(connection, "RegionOne"))

        scanner = Scanner(database, "bench", docs, CallableTransport(LabResponder(world)), fetch_host,
                          args.concurrency)
        for number in range(1 + args.rescans):
            times.totals.clear()
            begun = time.perf_counter()
            result = scanner.scan(lambda phase, done, total: None)
            total = time.perf_counter() - begun
            objects = sum(result.counts.values())
            links = result.counts.get("links", 0)
            print(f"{'first scan' if number == 0 else f'rescan {number} (nothing changed)'} {result.status}: "
                  f"{objects} objects and links in {total:.1f}s = {objects / total:.0f} documents/s", flush=True)
            print("  phases: " + ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items()))
            print(f"  MongoDB time by command (seconds/calls): {times.report()}")
            print(f"  written: {vars(result.written)}; {links} links", flush=True)
        database.client.drop_database(database.name)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
