"""Live health: how soon a lab fault is a status (MongoDB), in the graph (Neo4j) and at a watch's webhook,
what a round costs per host, and how long one round takes on a large world.

    .venv/bin/python benchmarks/monitoring.py --hosts 6 --vms-per-host 3 --faults 12 --scale-hosts 1000

Part 1: a world scanned in process and projected; a watch (webhook: an http.server on 127.0.0.1) on
the VMs each fault affects. Per fault: inject, then one monitoring round (`Monitor.round`, the lab's
hosts in process), the projector's sync and the watches' evaluation, as `calipso monitor` runs them
back to back; the times are from the injection to the root cause's `status` critical in MongoDB, to
the Neo4j node, and to the webhook's arrival. A service waiting `--interval` between rounds adds up to
one interval to each (the fault may come just after a round started). Then the fault is cleared
(another round) before the next.
Part 2: the cost per host of those rounds (commands batched in the one session, this process's CPU ms
for the host: transport, the in-process simulated host and the parsing).
Part 3: one round's checks on a `--scale-hosts` world, in memory (plans from its ground truth, the
lab's hosts in process, 8 hosts at once): seconds for every host. With `--scale-workers 1,2`, the same
world's hosts checked by that many `calipso worker`s over SSH to the world served as a lab, one
`calipso.monitor_hosts` task per `--hosts-per-task` hosts. Needs the local stack (or set the test
stack's variables: `set -a; . tests/stack.env; set +a`); everything written is dropped.
Prints; asserts nothing.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import percentile, served_world, start_workers, stop_workers, world_parser  # noqa: E402

from calipso.lab_scan import scan_world_in_process  # noqa: E402
from core.settings import get_settings, load_settings  # noqa: E402
from core.stores import Stores  # noqa: E402
from graphmodel.inventory import OBJECTS  # noqa: E402
from graphmodel.projector import Projector  # noqa: E402
from ingest.monitoring.runner import Monitor  # noqa: E402
from ingest.transport import CallableTransport  # noqa: E402
from lab.faults import clear_fault, inject_fault  # noqa: E402
from lab.generate import generate_world  # noqa: E402
from lab.hosts import LabResponder  # noqa: E402
from lab.truth import compute_truth  # noqa: E402
from lab.world import World  # noqa: E402
from migrations.runner import apply_mongo, apply_neo4j  # noqa: E402
from queries.watches import WatchStore, evaluate_watches  # noqa: E402

DATABASE = "calipso_bench_monitoring"
KINDS = ["nic_down", "ovs_port_down", "ovs_port_missing", "tunnel_unreachable", "agent_dead", "dhcp_namespace_gone",
         "vlan_tag_mismatch", "mtu_mismatch"]


def show(name: str, values: list[float], unit: str = "ms") -> None:
    print(f"  {name:<34} p50 {percentile(values, 0.5):9.1f} {unit}   p95 {percentile(values, 0.95):9.1f} {unit}"
          f"   max {max(values):9.1f} {unit}   (n={len(values)})")


class Receiver:
    def __init__(self) -> None:
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        arrivals = self.arrivals

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                arrivals.append((time.perf_counter(), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def target_of(world: World, kind: str, rng: random.Random) -> tuple[str, list[str]]:
    computes = [h for h in world.hosts if "compute" in h.roles and any(i.host == h.name for i in world.instances)]
    host = rng.choice(computes)
    vms = sorted(i.id for i in world.instances if i.host == host.name)
    chosen = rng.choice(vms)
    vm = next(i for i in world.instances if i.id == chosen)
    if kind == "nic_down":
        return f"{host.name}/{next(n for n in host.nics if n.role in ('tunnel', 'provider')).name}", vms
    if kind == "tunnel_unreachable":
        return host.name, vms
    if kind == "agent_dead":
        return next(a.id for a in world.agents if a.host == host.name and "openvswitch" in a.binary), vms
    if kind == "dhcp_namespace_gone":
        network = world.port(vm.port_ids[0]).network_id
        return network, sorted({p.device_id for p in world.ports if p.network_id == network
                                and p.device_owner.startswith("compute:")})
    return vm.port_ids[0], [vm.id]


def latency(stores: Stores, hosts: int, vms_per_host: int, faults: int, seed: int) -> list[Any]:
    environment = f"bench-mon-{uuid.uuid4().hex[:6]}"
    world = generate_world(hosts, vms_per_host, 2, "ovs", "vxlan", seed=seed)
    scan_world_in_process(world, stores.mongo, environment)
    apply_neo4j(stores.neo4j)
    Projector(stores.mongo, stores.neo4j, environment).sync()
    monitor = Monitor(stores.mongo, environment, CallableTransport(LabResponder(world)))
    monitor.round()
    Projector(stores.mongo, stores.neo4j, environment).sync()
    receiver = Receiver()
    rng = random.Random(seed)
    to_status, to_graph, to_webhook, rounds, costs = [], [], [], [], []
    try:
        for number in range(faults):
            kind = KINDS[number % len(KINDS)]
            target, focal = target_of(world, kind, rng)
            started = time.perf_counter()
            fault = inject_fault(world, kind, target)
            watch = WatchStore(stores.mongo).add(environment, fault.down + fault.degraded or focal, receiver.url, "bench")
            receiver.arrivals.clear()
            result = monitor.round()
            doc = stores.mongo[OBJECTS].find_one({"environment": environment, "id": fault.root_cause}, {"status": 1})
            at_status = time.perf_counter()
            Projector(stores.mongo, stores.neo4j, environment).sync()
            at_graph = time.perf_counter()
            evaluate_watches(stores.mongo, stores.neo4j, environment)
            if doc and doc.get("status") == "critical" and receiver.arrivals:
                to_status.append((at_status - started) * 1000)
                to_graph.append((at_graph - started) * 1000)
                to_webhook.append((receiver.arrivals[0][0] - started) * 1000)
            else:
                print(f"  {kind} on {target}: root cause {fault.root_cause} is {doc and doc.get('status')}, "
                      f"{len(receiver.arrivals)} webhook calls")
            rounds.append(result.seconds * 1000)
            costs += result.hosts
            clear_fault(world, kind, target)
            costs += monitor.round().hosts
            Projector(stores.mongo, stores.neo4j, environment).sync()
            evaluate_watches(stores.mongo, stores.neo4j, environment)
            WatchStore(stores.mongo).delete(environment, watch["_id"])
    finally:
        receiver.server.shutdown()
        stores.neo4j.execute_query("MATCH (n {env: $env}) DETACH DELETE n", env=environment)
    print(f"fault -> status -> graph -> webhook, {faults} faults ({', '.join(KINDS)}) on {hosts} hosts "
          f"x {vms_per_host} VMs (one round right after the fault):")
    show("fault to status (MongoDB)", to_status)
    show("fault to Neo4j node", to_graph)
    show("fault to webhook", to_webhook)
    show("round with a change", rounds)
    print("check cost per host and round:")
    show("commands in the one session", [float(c.sections) for c in costs], "")
    show("CPU ms (transport+host+parsing)", [c.cpu_ms for c in costs])
    show("wall ms per host", [c.seconds * 1000 for c in costs])
    return costs


def scale(hosts: int, vms_per_host: int, seed: int, type_driver: str = "vxlan", rounds: int = 2) -> None:
    """One round's checks over every host of a large world, in memory: the plans built from its ground
    truth (what a scan would store), each host's batched command answered by the lab's in-process hosts
    (8 at once, as `Monitor` runs them) and evaluated. No MongoDB: writing a first round's status for tens
    of thousands of objects at once is the inventory writer's cost (see the small world's rounds), and a
    steady round writes only what changed."""
    from concurrent.futures import ThreadPoolExecutor

    from ingest.monitoring.checks import HostPlan, evaluate, verdicts
    from ingest.monitoring.runner import MONITORED_TYPES, PATH_LINKS, plans_from_documents

    started = time.perf_counter()
    world = generate_world(hosts, vms_per_host, max(2, hosts // 10), "ovs", type_driver, seed=seed)
    objects, links = truth_documents(world)
    print(f"  {hosts}-host {type_driver} world: {len(objects)} objects, {len(links)} links "
          f"(made in {time.perf_counter() - started:.0f} s)", flush=True)
    transport = CallableTransport(LabResponder(world))
    objects = [d for d in objects if d["type"] in (*MONITORED_TYPES, "network")]
    links = [d for d in links if d["link_type"] in PATH_LINKS]

    def check(plan: HostPlan) -> tuple[int, float, int]:
        cpu = time.thread_time()
        results = evaluate(plan, transport.run(plan.host, plan.command).stdout)
        return len(plan.sections), (time.thread_time() - cpu) * 1000, len(results)

    for number, label in enumerate(f"round {n + 1}" for n in range(rounds)):
        started = time.perf_counter()
        plans = plans_from_documents(objects, links, round_number=number)  # as load_plans makes them
        planned = time.perf_counter() - started
        with ThreadPoolExecutor(max_workers=8) as pool:
            done = list(pool.map(check, plans))
        seconds = time.perf_counter() - started
        cpu = [d[1] for d in done]
        print(f"  {label}: {len(done)} hosts planned in {planned:.1f} s and checked, {seconds:.1f} s in all "
              f"({sum(d[2] for d in done)} results; per host {statistics.mean(d[0] for d in done):.1f} commands, "
              f"CPU ms (host simulation included) p50 {percentile(cpu, 0.5):.1f} p95 {percentile(cpu, 0.95):.1f})",
              flush=True)
    sample = verdicts(evaluate(plans[0], transport.run(plans[0].host, plans[0].command).stdout))
    print(f"  (a host's verdicts, e.g. {plans[0].host}: {len(sample)}, "
          f"{sum(1 for v in sample if v.status != 'ok')} not ok)")


def truth_documents(world: World) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The objects and links a scan of `world` would store, from its ground truth (what monitoring reads)."""
    truth = compute_truth(world)
    objects = [{"id": o.id, "type": o.type, "name": o.name, "host": o.host, **o.attributes}
               for o in truth.objects.values()]
    links = [{"link_type": link.link_type, "source_id": link.source_id, "target_id": link.target_id,
              **link.attributes} for link in truth.links.values()]
    # The truth names what exists; what a scan reads on top (a tunnel endpoint's peers, an agent's binary):
    tunnel_ips = {h.name: h.tunnel_ip for h in world.hosts if h.tunnel_ip}
    binaries = {a.id: a.binary for a in world.agents}
    for doc in objects:
        if doc["type"] == "otep":
            doc["remote_ips"] = sorted(ip for name, ip in tunnel_ips.items() if name != doc["host"])
        elif doc["type"] == "network_agent":
            doc["binary"] = binaries.get(doc["id"])
    return objects, links


def scale_workers(stores: Stores, hosts: int, vms_per_host: int, seed: int, counts: list[int], batch: int,
                  type_driver: str = "vxlan", rounds: int = 2) -> None:
    """The check phase of a round on a `hosts`-host world by `calipso worker`s: the world served as `calipso lab
    up` serves it (its hosts over SSH through the lab's jump host, one process answering for all), its
    inventory inserted from the ground truth (no history: only what monitoring reads), and each round's
    hosts handed out as `calipso.monitor_hosts` tasks of `batch` hosts (ingest.tasks.worker_checks). Two
    rounds per worker count (the first opens the workers' SSH sessions). Only the checks are timed: a steady
    round writes only what changed, and writing a first round's status for every object is the inventory
    writer's cost, measured on the small world above."""
    from graphmodel.inventory import LINKS
    from ingest.monitoring.runner import MONITORED_TYPES, PATH_LINKS, load_plans
    from ingest.tasks import worker_checks

    world = generate_world(hosts, vms_per_host, max(2, hosts // 10), "ovs", type_driver, seed=seed)
    objects, links = truth_documents(world)
    objects = [d for d in objects if d["type"] in (*MONITORED_TYPES, "network")]  # what monitoring reads
    links = [d for d in links if d["link_type"] in PATH_LINKS]
    environment = "bench-mon-workers"
    for start in range(0, len(objects), 1000):
        stores.mongo[OBJECTS].insert_many([{**d, "environment": environment} for d in objects[start:start + 1000]])
    for start in range(0, len(links), 1000):
        stores.mongo[LINKS].insert_many([{**d, "environment": environment} for d in links[start:start + 1000]])
    with served_world(world, timeout=600) as lab:
        lab.enrol(stores.mongo, environment)
        plans = load_plans(stores.mongo, environment)
        command_env = lab.command_environment(DATABASE)
        check = worker_checks(stores.settings, environment, batch)
        print(f"  {len(plans)} hosts checked by calipso workers over SSH, tasks of {batch} hosts:", flush=True)
        for count in counts:
            workers = start_workers(stores.mongo, command_env,
                                    [lab.home / f"worker-{count}-{number}.log" for number in range(count)])
            try:
                for label in (f"round {n + 1}" for n in range(rounds)):
                    started = time.perf_counter()
                    outcomes = check(plans, 0)
                    seconds = time.perf_counter() - started
                    costs = [cost for cost, _ in outcomes]
                    cpu = [c.cpu_ms for c in costs]
                    print(f"  {count} worker(s), {label}: {len(costs)} hosts in {seconds:.1f} s "
                          f"({sum(len(r) for _, r in outcomes)} results, {sum(1 for c in costs if c.error)} "
                          f"errors; per host {statistics.mean(c.sections for c in costs):.1f} commands, worker "
                          f"CPU ms p50 {percentile(cpu, 0.5):.1f} p95 {percentile(cpu, 0.95):.1f}, wall ms p50 "
                          f"{percentile([c.seconds * 1000 for c in costs], 0.5):.0f}; "
                          f"{len({c.checked_by for c in costs})} processes)", flush=True)
            finally:
                stop_workers(workers)


def main() -> None:
    parser = world_parser(__doc__, hosts=6, vms_per_host=3)
    parser.add_argument("--faults", type=int, default=12)
    parser.add_argument("--scale-hosts", type=int, default=0, help="also time a round on a world this large (0: skip)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--scale-workers", default="", metavar="1,2",
                        help="also check the --scale-hosts world's hosts by this many calipso workers (over SSH)")
    parser.add_argument("--hosts-per-task", type=int, default=50)
    parser.add_argument("--scale-rounds", type=int, default=2, help="rounds timed on the large world (each way)")
    parser.add_argument("--scale-type-driver", default="vxlan", choices=["vxlan", "vlan"],
                        help="the large world's type driver (vxlan: a full tunnel mesh, a port per peer on every host)")
    parser.add_argument("--skip-latency", action="store_true", help="skip parts 1 and 2")
    args = parser.parse_args()
    settings = load_settings(mongo_uri=get_settings().mongo_uri, mongo_database=DATABASE)
    with Stores(settings) as stores:
        stores.mongo.client.drop_database(DATABASE)
        apply_mongo(stores.mongo)
        try:
            if not args.skip_latency:
                latency(stores, args.hosts, args.vms_per_host, args.faults, args.seed)
            if args.scale_hosts:
                print(f"one round's checks at {args.scale_hosts} hosts, in memory (this process, 8 hosts at once):",
                      flush=True)
                scale(args.scale_hosts, 2, args.seed, args.scale_type_driver, args.scale_rounds)
            if args.scale_hosts and args.scale_workers:
                scale_workers(stores, args.scale_hosts, 2, args.seed,
                              [int(n) for n in args.scale_workers.split(",")], args.hosts_per_task,
                              args.scale_type_driver, args.scale_rounds)
        finally:
            stores.mongo.client.drop_database(DATABASE)


if __name__ == "__main__":
    main()
