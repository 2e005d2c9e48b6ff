"""A scan split into host batches across 1 and across 2 `calipso worker` processes, side by side.

    set -a; . tests/stack.env; set +a      # or any running stack (`calipso stack up`)
    .venv/bin/python benchmarks/scan_workers.py --hosts 60 --vms-per-host 5 --batch 10 --workers 1,2

A generated lab world is served as `calipso lab up` serves it (its OpenStack APIs on loopback, its hosts
over SSH through the lab's jump host: one process answers for every host), added as an environment of a
throw-away database, and scanned by `calipso worker`s: the `calipso.scan` task reads the APIs and hands
the hosts to `calipso.fetch_hosts` tasks of `--batch` hosts, whose callback writes. The first scan
(`warm-up`, one worker) writes the whole inventory; the compared scans find it unchanged, so they
differ only in how the host fetch is shared. Prints, per worker count, the scan record's phases:
OpenStack read, host fetch (from the batches' queueing to the writer's start), replay (the writer
re-parsing the staged answers), transform, write, total; and how many workers fetched.
The machine's load (uptime) is printed before and after: on a shared 2-core machine the lab's SSH
process, FerretDB and the workers compete for the same cores. Asserts nothing.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import load_average, served_world, start_workers, stop_workers, world_parser  # noqa: E402

from core.settings import get_settings, load_settings  # noqa: E402
from core.stores import Stores  # noqa: E402
from ingest.records import ScanRecords  # noqa: E402
from ingest.tasks import enqueue_scan, wait_for_scan  # noqa: E402
from lab.generate import generate_world  # noqa: E402
from migrations.runner import apply_mongo  # noqa: E402

DATABASE = "calipso_bench_scan_workers"
PHASES = ("openstack_s", "hosts_fetch_s", "replay_s", "transform_s", "write_s")


def process_cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) a process has used so far."""
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the machine so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def scan_with(count: int, stores: Stores, settings, environment: dict[str, str], name: str,  # type: ignore[no-untyped-def]
              logs: Path, lab_pid: int | None) -> dict:  # type: ignore[type-arg]
    workers = start_workers(stores.mongo, environment, [logs / f"worker-{number}.log" for number in range(count)])
    try:
        scan_id = ScanRecords(stores.mongo).create(name, requested_by="benchmark")
        begun, lab_cpu, busy = time.perf_counter(), process_cpu_s(lab_pid), machine_busy()
        enqueue_scan(settings, stores.mongo, scan_id, name)
        doc = wait_for_scan(stores.mongo, scan_id, poll_s=0.2)
        doc["wall_s"] = time.perf_counter() - begun
        doc["lab_cpu_s"] = process_cpu_s(lab_pid) - lab_cpu
        after = machine_busy()
        doc["busy"] = (after[0] - busy[0]) / max(1, after[1] - busy[1])
        return doc
    finally:
        stop_workers(workers)


def main() -> None:
    parser = world_parser(__doc__, hosts=60, vms_per_host=5)
    parser.add_argument("--networks", type=int, default=10)
    parser.add_argument("--batch", type=int, default=10, help="hosts per calipso.fetch_hosts task")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare, e.g. 1,2")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]

    settings = load_settings(mongo_uri=get_settings().mongo_uri, mongo_database=DATABASE)
    print(f"load before: {load_average()}", flush=True)
    world = generate_world(args.hosts, args.vms_per_host, args.networks, "ovs", "vxlan", seed=7)
    print(f"world: {len(world.hosts)} hosts, {len(world.instances)} VMs, {len(world.ports)} ports; "
          f"batches of {args.batch} hosts", flush=True)
    with Stores(settings) as stores, served_world(world) as lab:
        stores.mongo.client.drop_database(DATABASE)
        try:
            apply_mongo(stores.mongo)
            name = "bench"
            lab.enrol(stores.mongo, name)
            environment = lab.command_environment(DATABASE, CALIPSO_SCAN_HOST_BATCH=str(args.batch))
            logs = lab.home
            lab_pid = lab.service.process.pid()
            rows = [("warm-up (1 worker)", scan_with(1, stores, settings, environment, name, logs, lab_pid))]
            rows += [(f"{count} worker{'s' if count > 1 else ''}", scan_with(count, stores, settings, environment,
                                                                             name, logs, lab_pid)) for count in counts]
        finally:
            stores.mongo.client.drop_database(DATABASE)
    print(f"{'':<20}" + "".join(f"{p.removesuffix('_s'):>12}" for p in PHASES)
          + f"{'total':>9}{'fetchers':>9}{'lab CPU':>9}{'busy':>6}  status")
    for label, doc in rows:
        timings = doc.get("timings") or {}
        print(f"{label:<20}" + "".join(f"{timings.get(p, float('nan')):>11.1f}s" for p in PHASES)
              + f"{doc['wall_s']:>8.1f}s{int(timings.get('fetch_workers', 0)):>9}{doc['lab_cpu_s']:>8.1f}s"
              f"{doc['busy']:>6.0%}  {doc['status']}")
    print("(lab CPU: the one process answering every host's SSH session; busy: the machine's CPUs during the scan)")
    print(f"load after: {load_average()}")


if __name__ == "__main__":
    main()
