"""Latency of the REST API's main endpoints, over HTTP through waitress (what `calipso serve` runs).

    .venv/bin/python benchmarks/api.py --hosts 50 --vms-per-host 10 --requests 200

A lab world's ground truth is written through InventoryWriter into a MongoDB database of its own
and projected into Neo4j (environment bench-api); the API is served on a free loopback port by
`calipso serve` in a process of its own, as it is deployed (`--server thread`: waitress in a thread
of this process, whose client threads then share one interpreter lock with the server), and each
endpoint is called `--requests` times by `--clients` client threads, with a bearer token. The API
process's CPU time per request is printed beside the latencies: on 2 shared cores, 20 closed-loop
clients see at least 20 x the machine's cost of one request.
Prints p50/p95/max per endpoint; asserts nothing. Needs the local stack (`calipso stack up`);
drops its database and graph at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
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
TIMEOUT_S = float(os.environ.get("BENCH_TIMEOUT_S", "60"))


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
        answer = session.get(url, params=params, timeout=TIMEOUT_S)
        timings.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{url} {params}: {answer.status_code} {answer.text[:300]}")
    return timings


def shared(count: int, parts: int) -> list[int]:
    """`count` split into `parts` shares that differ by one at most."""
    return [count // parts + (1 if i < count % parts else 0) for i in range(parts)]


def concurrently(token: str, url: str, params: dict, count: int, clients: int) -> list[float]:  # type: ignore[type-arg]
    """`count` requests shared by `clients` threads, each with a session of its own; every latency."""
    def client(share: int) -> list[float]:
        with requests.Session() as own:
            own.headers["Authorization"] = f"Bearer {token}"
            return measure(own, url, params, share)
    with ThreadPoolExecutor(max_workers=clients) as pool:
        return [t for timings in pool.map(client, shared(count, clients)) for t in timings]


def _in_a_process(job: tuple[str, str, dict, int, int]) -> list[float]:  # type: ignore[type-arg]
    return concurrently(*job)


def from_processes(token: str, url: str, params: dict, count: int, clients: int,  # type: ignore[type-arg]
                   processes: int) -> list[float]:
    """As `concurrently`, the clients spread over `processes` processes: 20 client threads in one
    interpreter queue for its lock, and that wait would count as the server's latency."""
    if processes <= 1:
        return concurrently(token, url, params, count, clients)
    jobs = [(token, url, params, n, c) for n, c in zip(shared(count, processes), shared(clients, processes))
            if n and c]
    with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
        return [t for timings in pool.map(_in_a_process, jobs) for t in timings]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_in_a_process(settings_database: str, threads: int) -> tuple[subprocess.Popen, str]:  # type: ignore[type-arg]
    """`calipso serve` on a free loopback port, reading the benchmark's database; (process, API root)."""
    port = free_port()
    calipso = Path(sys.executable).with_name("calipso")
    # Its log goes to a file: a pipe nobody reads would fill and stop the server at its next warning.
    log = tempfile.NamedTemporaryFile(prefix="bench-api-serve-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen([str(calipso), "serve", "--port", str(port), "--threads", str(threads)],
                               env={**os.environ, "MONGO_DATABASE": settings_database},
                               stdout=subprocess.DEVNULL, stderr=log)
    root = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"calipso serve ended: {Path(log.name).read_text()[-800:]}")
        try:
            if requests.get(f"{root}/health", timeout=2).status_code == 200:
                return process, root
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("calipso serve did not answer /health within 60 s")


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--vms-per-host", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=1,
                        help="concurrent clients, each with its own connection, sharing the --requests")
    parser.add_argument("--client-processes", type=int, default=4,
                        help="processes the client threads are spread over (1: all in this one)")
    parser.add_argument("--only", default="", help="measure only the endpoints whose label contains this")
    parser.add_argument("--server", choices=("process", "thread"), default="process",
                        help="`calipso serve` in a process of its own, or waitress in a thread of this one")
    args = parser.parse_args()

    base = get_settings()
    settings = load_settings(mongo_uri=base.mongo_uri, mongo_database=f"bench_api_{uuid.uuid4().hex[:8]}")
    stores = Stores(settings)
    server, process = None, None
    try:
        apply_mongo(stores.mongo)
        apply_neo4j(stores.neo4j)
        started = time.perf_counter()
        objects, links, vm_id, vm_name = seed(stores, args.hosts, args.vms_per_host)
        print(f"seeded {objects} objects, {links} links in {time.perf_counter() - started:.1f}s")
        token, _ = TokenStore(stores.mongo).issue(Identity("bench", "issued", True))
        if args.server == "process":
            process, root = serve_in_a_process(settings.mongo_database, args.threads)
        else:
            server = waitress.server.create_server(create_app(settings, stores), host="127.0.0.1", port=0,
                                                   threads=args.threads)
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
        print(f"{'endpoint':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'req/s':>7} {'API cpu ms/req':>14}  "
              f"({args.requests} requests each, {args.clients} client(s) in {args.client_processes} process(es), "
              f"waitress {args.threads} threads, "
              f"server in a {args.server}; load {os.getloadavg()[0]:.2f})")
        for label, url, params in cases:
            if args.only not in label:
                continue
            measure(session, url, params, 3)  # warm-up
            cpu_before, began = cpu_seconds(process.pid if process else os.getpid()), time.perf_counter()
            timings = sorted(from_processes(token, url, params, args.requests, args.clients, args.client_processes))
            elapsed = time.perf_counter() - began
            cpu = (cpu_seconds(process.pid) - cpu_before) * 1000 / args.requests if process else float("nan")
            p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
            print(f"{label:34} {statistics.median(timings):8.1f} {p95:8.1f} {timings[-1]:8.1f} "
                  f"{args.requests / elapsed:7.0f} {cpu:14.1f}")
    finally:
        if server is not None:
            server.close()
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        with stores.neo4j.session() as session:  # CALL IN TRANSACTIONS needs an auto-commit transaction
            session.run("MATCH (n {env: $env}) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS",
                        env=ENVIRONMENT).consume()
        stores.mongo.client.drop_database(stores.mongo.name)
        stores.close()


if __name__ == "__main__":
    main()
