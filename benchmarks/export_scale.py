"""Export sizes, times and memory on a large world.

    .venv/bin/python benchmarks/export_scale.py --hosts 1000 --vms-per-host 20

1. Generate an OVS/VXLAN world and write its ground truth (lab/truth.py: every object and link a scan
   would find) straight into the inventory and links collections of a throw-away database, with the
   tree fields a scan writes (`id_path`, `environment`). No scan: the exports only read MongoDB, and
   the scan is measured by benchmarks/scale.py. The lab has no physical switches, so one synthetic
   top-of-rack switch per `--rack-size` hosts is added, cabled to each host's first NIC, for NetBox's
   cables and Batfish's edges to have something to say.
2. Each format is written to a file by `queries.export.write_export` in a child process of its own:
   time, size, and the child's peak RSS next to a child that only imports and connects (what the
   export itself holds).

Uses the settings' MongoDB (`MONGO_URI`; the test stack: MONGO_URI=mongodb://127.0.0.1:27018/). The
database is dropped at the end. Prints; asserts nothing.
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import world_parser  # noqa: E402

from core.settings import get_settings, load_settings  # noqa: E402
from core.stores import Stores  # noqa: E402
from lab.generate import generate_world  # noqa: E402
from lab.truth import compute_truth  # noqa: E402
from queries.export import FORMATS  # noqa: E402

DATABASE = "calipso_bench_export"
ENV = "bench-export"
BATCH = 5000


def _settings() -> Any:
    return load_settings(mongo_uri=get_settings().mongo_uri, mongo_database=DATABASE)


def load(hosts: int, vms_per_host: int, rack_size: int, seed: int) -> tuple[int, int]:
    """Write the world's truth (and synthetic switches) into the database; (objects, links)."""
    world = generate_world(hosts, vms_per_host, max(2, hosts // 10), "ovs", "vxlan", seed=seed)
    truth = compute_truth(world)
    parents = {o.id: o.parent_id for o in truth.objects.values()}

    def id_path(object_id: str) -> list[str]:
        path = [object_id]
        while parents.get(path[-1]) in parents:
            path.append(parents[path[-1]])
        return path[::-1]

    objects = [{"environment": ENV, "id": o.id, "type": o.type, "name": o.name, "parent_id": o.parent_id,
                "parent_type": o.parent_type, "host": o.host, "id_path": id_path(o.id), **o.attributes}
               for o in truth.objects.values()]
    links = [{"environment": ENV, "link_type": l.link_type, "source_id": l.source_id, "target_id": l.target_id,
              "state": l.state, "host": l.host, **l.attributes} for l in truth.links.values()]
    host_names = sorted(h.name for h in world.hosts)
    for rack in range(0, len(host_names), rack_size):
        switch = f"switch:tor-{rack // rack_size}"
        objects.append({"environment": ENV, "id": switch, "type": "switch", "name": f"tor-{rack // rack_size}",
                        "parent_id": "environment", "parent_type": "environment", "model": "synthetic",
                        "id_path": [switch]})
        for port, host in enumerate(host_names[rack:rack + rack_size]):
            nic = next((o for o in truth.objects.values() if o.type == "host_pnic" and o.host == host
                        and not o.attributes.get("bond_members")), None)
            if nic is None:
                continue
            port_id = f"{switch}/Ethernet{port + 1}"
            objects.append({"environment": ENV, "id": port_id, "type": "switch_pnic", "name": f"Ethernet{port + 1}",
                            "parent_id": switch, "parent_type": "switch", "id_path": [switch, port_id]})
            links.append({"environment": ENV, "link_type": "host_pnic-switch_pnic", "source_id": nic.id,
                          "target_id": port_id, "state": "up", "host": host, "provenance": "synthetic"})
    with Stores(_settings()) as stores:
        stores.mongo.client.drop_database(DATABASE)
        for collection, docs in (("inventory", objects), ("links", links)):
            for start in range(0, len(docs), BATCH):
                stores.mongo[collection].insert_many(docs[start:start + BATCH], ordered=False)
        stores.mongo.inventory.create_index([("environment", 1), ("type", 1)])
        stores.mongo.inventory.create_index([("environment", 1), ("id", 1)])
        stores.mongo.links.create_index([("environment", 1), ("link_type", 1)])
    return len(objects), len(links)


def _child(output_format: str | None, path: str, answers: Any) -> None:
    """In a fresh process: write one export (or nothing, for the baseline) and report time and peak RSS."""
    from queries.export import write_export

    with Stores(_settings()) as stores:
        stores.mongo.inventory.find_one({"environment": ENV})  # connected, like the export
        started = time.perf_counter()
        written = 0
        if output_format:
            with open(path, "w", encoding="utf-8") as handle:
                written = write_export(stores.mongo, ENV, output_format, handle)
        seconds = time.perf_counter() - started
    answers.put((seconds, written, Path(path).stat().st_size if output_format else 0, peak_rss_mib()))


def peak_rss_mib() -> float:
    """This process's peak resident set (VmHWM). Not getrusage's ru_maxrss: Linux carries that over
    fork and exec, so a child would report the parent's peak (here, the whole world loaded)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def measure(output_format: str | None, path: str) -> tuple[float, int, int, float]:
    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    child = context.Process(target=_child, args=(output_format, path, answers))
    child.start()
    result = answers.get()
    child.join()
    return result  # type: ignore[no-any-return]


def main() -> None:
    parser = world_parser(__doc__, hosts=100, vms_per_host=20)
    parser.add_argument("--rack-size", type=int, default=40, help="hosts per synthetic top-of-rack switch")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    objects, links = load(args.hosts, args.vms_per_host, args.rack_size, args.seed)
    print(f"world {args.hosts} x {args.vms_per_host}: {objects:,} objects, {links:,} links written in "
          f"{time.perf_counter() - started:.1f} s")
    try:
        with tempfile.TemporaryDirectory(prefix="calipso-export-bench-") as work:
            _, _, _, baseline = measure(None, str(Path(work) / "none"))
            print(f"baseline child (imports, one query): peak RSS {baseline:.0f} MiB")
            print(f"{'format':<8} {'seconds':>8} {'MB':>8} {'MB/s':>7} {'peak RSS MiB':>13} {'over baseline':>14}")
            for output_format in FORMATS:
                path = str(Path(work) / f"export.{output_format}")
                seconds, _, size, rss = measure(output_format, path)
                Path(path).unlink()
                print(f"{output_format:<8} {seconds:>8.1f} {size / 1e6:>8.1f} {size / 1e6 / seconds:>7.1f} "
                      f"{rss:>13.0f} {rss - baseline:>14.0f}")
    finally:
        with Stores(_settings()) as stores:
            stores.mongo.client.drop_database(DATABASE)


if __name__ == "__main__":
    main()
