"""FerretDB on SQLite next to FerretDB on PostgreSQL: Calipso's own workloads, same machine, same run.

    .venv/bin/python benchmarks/ferretdb_backends.py --hosts 200 --vms-per-host 20

Starts two throw-away FerretDB servers with the stack's own code (stack/), each under its own
directory in a temporary home on free loopback ports: one with CALIPSO_FERRETDB_BACKEND=sqlite, one
with postgresql (and the PostgreSQL cluster it brings along). On each, in turn:

1. atomicity: 8 threads x 25 `find_one_and_update({$inc})` on one document; the final count (200 if
   no increment is lost);
2. the scan of one generated lab world (its APIs on loopback for the real openstacksdk, its hosts
   answering through the lab's in-process simulator), phases as the Scanner times them;
3. projection of that scan's changes feed into the Neo4j of the current settings (`calipso stack up`
   must have Neo4j running), and the same documents written again by raw batched `MERGE`: the ratio;
4. `GET /environments/E/inventory?type=instance` through the API (waitress, as `calipso serve`) under
   `--clients` concurrent clients: p50/p95;
5. `find_one` by `_id` and by the indexed (environment, id): p50/p95.

Prints one table, SQLite and PostgreSQL side by side; asserts nothing. Stops both servers and removes
their data, graphs and directory at the end. Not a test.
"""

from __future__ import annotations

import argparse
import logging
import random
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path, where api.py would stand in for the
# `api` package; the sibling benchmarks are imported by path below.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import pymongo  # noqa: E402
import requests  # noqa: E402
import waitress.server  # noqa: E402

from api import create_app  # noqa: E402
from api.auth import Identity, TokenStore  # noqa: E402
from calipso.lab_scan import connect_to_lab  # noqa: E402
from core.settings import Settings, get_settings, load_settings  # noqa: E402
from core.stores import Stores  # noqa: E402
from graphmodel.inventory import LINKS, OBJECTS  # noqa: E402
from graphmodel.projector import Projector  # noqa: E402
from ingest.hierarchy import fetch_host, openstack_documents  # noqa: E402
from ingest.scanner import Scanner  # noqa: E402
from ingest.sources.openstack.fetch import fetch_openstack  # noqa: E402
from ingest.transport import CallableTransport  # noqa: E402
from lab.cloud.server import serve  # noqa: E402
from lab.cloud.source import StaticWorldSource  # noqa: E402
from lab.generate import generate_world  # noqa: E402
from lab.hosts import LabResponder  # noqa: E402
from migrations.runner import apply_mongo, apply_neo4j  # noqa: E402
from stack.manager import Stack  # noqa: E402

sys.path.append(str(HERE))
from common import world_parser  # noqa: E402
from projection import drop_graph, raw_merge  # noqa: E402

BACKENDS = ("sqlite", "postgresql")
DATABASE = "calipso_bench_backends"

Row = dict[str, str]


def free_port() -> int:
    """A free loopback port below the ephemeral range (where an outgoing connection may hold one)."""
    while True:
        port = random.randint(20000, 32000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = world_parser(__doc__, hosts=200, vms_per_host=20)
    parser.add_argument("--concurrency", type=int, default=8, help="hosts scanned at once")
    parser.add_argument("--batch-size", type=int, default=5000, help="rows per Neo4j transaction")
    parser.add_argument("--clients", type=int, default=20, help="concurrent API clients")
    parser.add_argument("--requests", type=int, default=10, help="API requests per client")
    parser.add_argument("--lookups", type=int, default=300, help="find_one calls per figure")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds an API call may take before it counts "
                        "as failed")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    base = get_settings()
    started = time.perf_counter()
    world = generate_world(args.hosts, args.vms_per_host, max(2, args.hosts // 10), "ovs", "vxlan", seed=args.seed)
    print(f"world: {len(world.hosts)} hosts, {len(world.instances)} VMs "
          f"(generated in {time.perf_counter() - started:.1f}s)", flush=True)
    # Mode 755, not a 0700 temporary directory: as root the stack runs PostgreSQL as user postgres.
    home = Path(tempfile.mkdtemp(prefix="calipso-bench-backends-"))
    home.chmod(0o755)
    results: dict[str, Row] = {}
    try:
        for backend in args.backends:
            settings = load_settings(
                calipso_home=str(home / backend), mongo_uri=f"mongodb://127.0.0.1:{free_port()}/",
                mongo_database=DATABASE, calipso_ferretdb_backend=backend, calipso_postgres_port=free_port())
            stack = Stack(settings, ["ferretdb"])
            print(f"\n== {backend}: starting {', '.join(s.name for s in stack.servers)} under {home / backend}",
                  flush=True)
            stack.up()
            try:
                results[backend] = run_backend(backend, settings, world, args)
            finally:
                stack.down()
    finally:
        shutil.rmtree(home, ignore_errors=True)
        with Stores(base) as stores:
            for backend in BACKENDS:
                drop_graph(stores, f"bench-{backend}")
                drop_graph(stores, f"bench-{backend}-raw")
    print_table(results)


def run_backend(backend: str, settings: Settings, world: Any, args: argparse.Namespace) -> Row:
    row: Row = {}
    env = f"bench-{backend}"
    with Stores(settings) as stores:
        database = stores.mongo
        apply_mongo(database)
        apply_neo4j(stores.neo4j)
        drop_graph(stores, env)
        drop_graph(stores, f"{env}-raw")

        final = atomic_increments(settings.mongo_uri, database.name)
        row["atomicity: $inc 8 x 25, final (of 200)"] = str(final)
        print(f"atomicity: {final} of 200", flush=True)

        result, total = scan(world, database, env, args.concurrency)
        documents = database[OBJECTS].count_documents({"environment": env}) + \
            database[LINKS].count_documents({"environment": env})
        row["scan: total s"] = f"{total:.1f}"
        for phase, seconds in result.timings.items():
            row[f"scan: {phase.removesuffix('_s')} s"] = f"{seconds:.1f}"
        row["scan: documents written"] = str(documents)
        print(f"scan {result.status} in {total:.1f}s: {result.timings}", flush=True)

        begun = time.perf_counter()
        stats = Projector(database, stores.neo4j, env, args.batch_size).sync()
        projector_s = time.perf_counter() - begun
        objects = list(database[OBJECTS].find({"environment": env}))
        # One read for both: a second long cursor over the inventory was lost (CursorNotFound) on a busy FerretDB.
        ids = [doc.pop("_id") for doc in objects]
        links = list(database[LINKS].find({"environment": env}, {"_id": 0}))
        begun = time.perf_counter()
        raw_merge(stores, f"{env}-raw", objects, links, args.batch_size)
        raw_s = time.perf_counter() - begun
        ratio = (stats.changes / projector_s) / ((len(objects) + len(links)) / raw_s)
        row["projection: changes/s"] = f"{stats.changes / projector_s:,.0f}"
        row["projection: feed read s"] = f"{stats.read_seconds:.1f}"
        row["projection: Neo4j write s"] = f"{stats.write_seconds:.1f}"
        row["projection / raw MERGE ratio"] = f"{ratio:.2f}"
        print(f"projection {stats.changes} changes in {projector_s:.1f}s, ratio {ratio:.2f}", flush=True)

        list_ms, failed = api_list(settings, stores, env, args.clients, args.requests, args.timeout)
        label = f"API inventory?type=instance, {args.clients} clients"
        # A call that failed or timed out counts as taking the timeout (a lower bound).
        list_ms += [args.timeout * 1000] * failed
        row[f"{label}: p50 ms"] = f"{statistics.median(list_ms):.0f}"
        row[f"{label}: p95 ms"] = f"{percentile(list_ms, 0.95):.0f}"
        row[f"{label}: failed (5xx or > {args.timeout:.0f} s)"] = f"{failed}/{len(list_ms)}"
        print(f"API list p50 {statistics.median(list_ms):.0f} ms, p95 {percentile(list_ms, 0.95):.0f} ms, "
              f"{failed} failed", flush=True)

        rng = random.Random(args.seed)
        picks = rng.sample(range(len(objects)), min(args.lookups, len(objects)))
        by_id = timed(lambda i: database[OBJECTS].find_one({"_id": ids[picks[i]]}), len(picks))
        by_key = timed(lambda i: database[OBJECTS].find_one({"environment": env, "id": objects[picks[i]]["id"]}),
                       len(picks))
        for label, values in (("find_one by _id", by_id), ("find_one by (environment, id)", by_key)):
            row[f"{label}: p50 ms"] = f"{statistics.median(values):.1f}"
            row[f"{label}: p95 ms"] = f"{percentile(values, 0.95):.1f}"
        print(f"find_one by _id p50 {statistics.median(by_id):.1f} ms; by (environment, id) "
              f"p50 {statistics.median(by_key):.1f} ms", flush=True)
    return row


def atomic_increments(uri: str, database: str, threads: int = 8, each: int = 25) -> int:
    """The counter after `threads` x `each` concurrent $inc through find_one_and_update, one client per thread."""
    with pymongo.MongoClient(uri) as client:
        counters = client[database].bench_counters
        counters.delete_many({})
        counters.insert_one({"_id": "counter", "n": 0})

        def work(_: int) -> None:
            with pymongo.MongoClient(uri) as own:
                for _ in range(each):
                    own[database].bench_counters.find_one_and_update({"_id": "counter"}, {"$inc": {"n": 1}})

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(work, range(threads)))
        return int(counters.find_one({"_id": "counter"})["n"])


def scan(world: Any, database: Any, env: str, concurrency: int) -> tuple[Any, float]:
    """Scan `world` into `env` as benchmarks/scale.py does; the result and its seconds."""
    responder = CallableTransport(LabResponder(world))
    with serve(StaticWorldSource(world)) as cloud:
        def documents() -> list[dict[str, Any]]:
            return openstack_documents(fetch_openstack(connect_to_lab(cloud.auth_url), "RegionOne"))

        scanner = Scanner(database, env, documents, responder, fetch_host, concurrency)
        begun = time.perf_counter()
        result = scanner.scan(lambda phase, done, total: None)
        return result, time.perf_counter() - begun


def api_list(settings: Settings, stores: Stores, env: str, clients: int, requests_each: int,
             timeout: float) -> tuple[list[float], int]:
    """Milliseconds of each `inventory?type=instance` call that answered 200, `clients` callers at once,
    and how many calls failed (an error status, or no answer within `timeout` seconds)."""
    token, _ = TokenStore(stores.mongo).issue(Identity("bench", "issued", True))
    # Failed calls are counted; the app's and waitress's tracebacks for each would bury the figures.
    logging.disable(logging.CRITICAL)
    server = waitress.server.create_server(create_app(settings, stores), host="127.0.0.1", port=0,
                                           threads=max(4, clients))
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}/api/v1/environments/{env}/inventory"
    try:
        def client(_: int) -> tuple[list[float], int]:
            with requests.Session() as session:
                session.headers["Authorization"] = f"Bearer {token}"
                timings, failed = [], 0
                for call in range(requests_each + 1):  # the first call of each client warms up
                    begun = time.perf_counter()
                    try:
                        ok = session.get(url, params={"type": "instance"}, timeout=timeout).status_code == 200
                    except requests.RequestException:
                        ok = False
                    if call == 0:
                        continue
                    if ok:
                        timings.append((time.perf_counter() - begun) * 1000)
                    else:
                        failed += 1
                return timings, failed

        with ThreadPoolExecutor(clients) as pool:
            answers = list(pool.map(client, range(clients)))
        return [ms for timings, _ in answers for ms in timings], sum(failed for _, failed in answers)
    finally:
        server.close()
        logging.disable(logging.NOTSET)


def timed(call: Callable[[int], Any], count: int) -> list[float]:
    """Milliseconds of each of `count` calls, one at a time."""
    values = []
    for index in range(count):
        begun = time.perf_counter()
        call(index)
        values.append((time.perf_counter() - begun) * 1000)
    return values


def print_table(results: dict[str, Row]) -> None:
    names = list(dict.fromkeys(name for row in results.values() for name in row))
    width = max(len(name) for name in names)
    print(f"\n{'':{width}}  " + "  ".join(f"{backend:>11}" for backend in results))
    for name in names:
        print(f"{name:{width}}  " + "  ".join(f"{row.get(name, '-'):>11}" for row in results.values()))


if __name__ == "__main__":
    main()
