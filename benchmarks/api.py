"""Latency of the REST API's main endpoints, over HTTP through waitress (what `calipso serve` runs).

    .venv/bin/python benchmarks/api.py --hosts 50 --vms-per-host 10 --requests 200

A lab world's ground truth is written through InventoryWriter into a MongoDB database of its own
and projected into Neo4j (environment bench-api); the API is served by waitress on a free loopback
port, and each endpoint is called `--requests` times, one request at a time, with a bearer token.
Prints p50/p95/max per endpoint; asserts nothing. Needs the local stack (`calipso stack up`);
drops its database and graph at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, where this very file would stand in
# for the `api` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import requests  # noqa: E402
import waitress.server  # noqa: E402

from api import create_app  # noqa: E402
from api.auth import Identity, TokenStore  # noqa: E402
from core.settings import get_settings, load_settings  # noqa: E402
from core.stores import Stores  # noqa: E402
from graphmodel.inventory import InventoryWriter  # noqa: E402
from graphmodel.projector import Projector  # noqa: E402
from graphmodel.tree import assign_paths  # noqa: E402
from lab.generate import generate_world  # noqa: E402
from lab.truth import compute_truth  # noqa: E402
from migrations.runner import apply_mongo, apply_neo4j  # noqa: E402

ENVIRONMENT = "bench-api"


def seed(stores: Stores, hosts: int, vms_per_host: int) -> tuple[int, int, str, str]:
    world = generate_world(hosts, vms_per_host, max(2, hosts // 5), "ovs", "vxlan", seed=3)
    truth = compute_truth(world)
    objects = [{**{k: v for k, v in asdict(o).items() if k != "attributes"}, **o.attributes}
               for o in truth.objects.values()]
    links = [{**{k: v for k, v in asdict(l).items() if k != "attributes"}, **l.attributes}
             for l in truth.links.values()]
    assign_paths(objects)
    writer = InventoryWriter(stores.mongo, ENVIRONMENT)
    writer.write_objects(objects, "bench")
    writer.write_links(links, "bench")
    Projector(stores.mongo, stores.neo4j, ENVIRONMENT).sync()
    return len(objects), len(links), world.instances[0].id, world.instances[0].name


def measure(session: requests.Session, url: str, params: dict, count: int) -> list[float]:  # type: ignore[type-arg]
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        answer = session.get(url, params=params, timeout=60)
        timings.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{url} {params}: {answer.status_code} {answer.text[:300]}")
    return timings


def concurrently(token: str, url: str, params: dict, count: int, clients: int) -> list[float]:  # type: ignore[type-arg]
    """`count` requests shared by `clients` threads, each with a session of its own; every latency."""
    def client(share: int) -> list[float]:
        with requests.Session() as own:
            own.headers["Authorization"] = f"Bearer {token}"
            return measure(own, url, params, share)
    shares = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]
    with ThreadPoolExecutor(max_workers=clients) as pool:
        return [t for timings in pool.map(client, shares) for t in timings]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--vms-per-host", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=1,
                        help="concurrent clients, each with its own connection, sharing the --requests")
    parser.add_argument("--only", default="", help="measure only the endpoints whose label contains this")
    args = parser.parse_args()

    base = get_settings()
    settings = load_settings(mongo_uri=base.mongo_uri, mongo_database=f"bench_api_{uuid.uuid4().hex[:8]}")
    stores = Stores(settings)
    server = None
    try:
        apply_mongo(stores.mongo)
        apply_neo4j(stores.neo4j)
        started = time.perf_counter()
        objects, links, vm_id, vm_name = seed(stores, args.hosts, args.vms_per_host)
        print(f"seeded {objects} objects, {links} links in {time.perf_counter() - started:.1f}s")
        token, _ = TokenStore(stores.mongo).issue(Identity("bench", "issued", True))
        app = create_app(settings, stores)
        server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=args.threads)
        threading.Thread(target=server.run, daemon=True).start()
        root = f"http://127.0.0.1:{server.effective_port}/api/v1"
        env = f"{root}/environments/{ENVIRONMENT}"
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        cases = [
            ("health (no auth)", f"{root}/health", {}),
            ("inventory, first page of 50", f"{env}/inventory", {}),
            ("inventory, type=instance, 500", f"{env}/inventory", {"type": "instance", "page_size": 500}),
            ("inventory object by id", f"{env}/inventory/{vm_id}", {}),
            ("links, host=compute-1", f"{env}/links", {"host": "compute-1"}),
            ("search by name", f"{env}/search", {"q": vm_name}),
            ("graph, VM, 2 hops", f"{env}/graph", {"focal": vm_id, "hops": 2}),
            ("graph, VM, 4 hops, cap 150", f"{env}/graph", {"focal": vm_id, "hops": 4}),
            ("statistics", f"{env}/statistics", {}),
            ("tree, top level", f"{env}/tree", {}),
        ]
        print(f"{'endpoint':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  ({args.requests} requests each, "
              f"{args.clients} client(s), waitress {args.threads} threads)")
        for label, url, params in cases:
            if args.only not in label:
                continue
            measure(session, url, params, 3)  # warm-up
            timings = sorted(concurrently(token, url, params, args.requests, args.clients))
            p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
            print(f"{label:34} {statistics.median(timings):8.1f} {p95:8.1f} {timings[-1]:8.1f}")
    finally:
        if server is not None:
            server.close()
        with stores.neo4j.session() as session:  # CALL IN TRANSACTIONS needs an auto-commit transaction
            session.run("MATCH (n {env: $env}) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS",
                        env=ENVIRONMENT).consume()
        stores.mongo.client.drop_database(stores.mongo.name)
        stores.close()


if __name__ == "__main__":
    main()
