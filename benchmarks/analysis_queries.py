"""Latency of the inspection queries (clique, invariants, diff) on a lab world, p50/p95 over N runs.

    .venv/bin/python benchmarks/analysis_queries.py --hosts 100 --vms-per-host 20 --runs 100

The inventory is a lab world's ground truth written through InventoryWriter (as a scan would write
it), then written again after a fault and a few VMs' renames, so that the diff has something to
find; both are projected into Neo4j. Each query runs `--runs` times (cliques on random VMs). Needs
the local stack (`calipso stack up`); uses an environment named bench-analysis, removed at the end.
Prints; asserts nothing.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from common import world_parser

from core.settings import get_settings
from core.stores import Stores
from graphmodel.inventory import InventoryWriter
from graphmodel.projector import Projector
from lab.faults import inject_fault
from lab.generate import generate_world
from lab.truth import compute_truth
from lab.world import World
from migrations.runner import apply_mongo, apply_neo4j
from queries.clique import clique
from queries.diff import diff
from queries.invariants import CHECKS, invariants

ENV = "bench-analysis"


def documents(world: World) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    truth = compute_truth(world)
    objects = [{**{k: v for k, v in asdict(o).items() if k != "attributes"}, **o.attributes}
               for o in truth.objects.values()]
    links = [{**{k: v for k, v in asdict(l).items() if k != "attributes"}, **l.attributes}
             for l in truth.links.values()]
    return objects, links


def timed(label: str, runs: int, call: Callable[[int], Any]) -> None:
    call(0)  # warm-up: query plans, connections
    samples = []
    for run in range(runs):
        started = time.perf_counter()
        call(run)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * len(samples))) - 1)]
    print(f"{label:36s} {runs:4d} runs  p50 {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms   "
          f"max {samples[-1]:7.1f} ms", flush=True)


def main() -> None:
    parser = world_parser(__doc__, hosts=50, vms_per_host=10, whole_doc=True)
    parser.add_argument("--networks", type=int, default=10)
    parser.add_argument("--mechanism", default="ovs")
    parser.add_argument("--type-driver", default="vxlan")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--diff-runs", type=int, default=20,
                        help="Runs of the diffs (on FerretDB every filter but _id scans the collection: slow).")
    args = parser.parse_args()

    world = generate_world(args.hosts, args.vms_per_host, args.networks, args.mechanism, args.type_driver, seed=1)
    objects, links = documents(world)
    print(f"world: {len(world.hosts)} hosts, {len(world.instances)} VMs -> {len(objects)} objects, {len(links)} links")
    with Stores(get_settings()) as stores:
        apply_mongo(stores.mongo)
        apply_neo4j(stores.neo4j)
        _drop(stores)
        try:
            writer = InventoryWriter(stores.mongo, ENV)
            writer.write_objects(objects, "bench-1")
            writer.write_links(links, "bench-1")
            first = datetime.now(UTC)
            time.sleep(0.01)
            compute = next(h.name for h in world.hosts if "compute" in h.roles)
            inject_fault(world, "bond_member_down", f"{compute}/eth1")
            for instance in world.instances[:10]:
                instance.name = f"{instance.name}-renamed"
            objects, links = documents(world)
            writer.write_objects(objects, "bench-2")
            writer.write_links(links, "bench-2")
            second = datetime.now(UTC)
            started = time.perf_counter()
            Projector(stores.mongo, stores.neo4j, ENV).sync()
            print(f"projected in {time.perf_counter() - started:.1f}s", flush=True)

            vms = [i.id for i in world.instances]
            networks = [n.id for n in world.networks if not n.external]
            pick = random.Random(7)
            timed("clique of a VM", args.runs,
                  lambda _: clique(stores.neo4j, stores.mongo, ENV, pick.choice(vms)))
            timed("clique of a network", args.runs,
                  lambda _: clique(stores.neo4j, stores.mongo, ENV, pick.choice(networks)))
            for check in CHECKS:
                timed(f"invariant {check.kind}", args.runs, lambda _, kind=check.kind: invariants(stores.neo4j, ENV, [kind]))
            timed("invariants (all 7)", args.runs, lambda _: invariants(stores.neo4j, ENV))
            timed("diff between the two writes", args.diff_runs, lambda _: diff(stores.mongo, ENV, first, second))
            timed("diff around a VM, 2 hops", args.diff_runs,
                  lambda _: diff(stores.mongo, ENV, first, second, around=pick.choice(vms[:10]), hops=2))
            found = invariants(stores.neo4j, ENV)
            print(f"(invariants found {len(found.violations)} violation(s): {found.summary}; "
                  f"diff found {len(diff(stores.mongo, ENV, first, second).changes)} change(s))")
        finally:
            _drop(stores)


def _drop(stores: Stores) -> None:
    with stores.neo4j.session() as session:
        session.run("MATCH (n:Object {env: $env}) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
                    env=ENV).consume()
        session.run("MATCH (c:ProjectorCheckpoint {env: $env}) DELETE c", env=ENV).consume()
    for collection in ("inventory", "links", "history", "changes"):
        stores.mongo[collection].delete_many({"environment": ENV})


if __name__ == "__main__":
    main()
