"""RCA on faults the kernel makes: the real lab, one real fault at a time, rescanned and projected.

    sudo .venv/bin/python benchmarks/rca_real.py [--variants ovs-hybrid-vxlan,lxb-flat] [--per-kind 1]

For each variant a small world (a controller and two computes) is built as a real lab in this process
(lab/real, root). It is scanned as a cloud (its APIs on loopback for openstacksdk, its hosts' commands
run in their namespaces, the veth NICs declared as uplinks) and projected into Neo4j. Then, for each
real fault kind (lab/real/faults.py) and up to --per-kind of its targets (on hosts with VMs where the
kind has any): the fault is made with real commands, the lab rescanned and projected (timed), RCA
asked from the VMs the fault breaks, and the rank of the expected root cause noted (the broken
device's own object when the inventory has one, else its nearest object: resolved against the
inventory as scanned); then the fault is undone and the lab rescanned and projected again. Prints a
table per fault kind (top-1, top-3), the misses with the suspects' evidence, and the time per
rescan + projection.
Needs the local stack (`calipso stack up`); uses a throw-away database and environment names.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calipso.lab_scan import real_lab_scanner  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.stores import Stores  # noqa: E402
from graphmodel.inventory import OBJECTS  # noqa: E402
from graphmodel.projector import Projector  # noqa: E402
from ingest.scanner import Scanner  # noqa: E402
from lab.generate import generate_world  # noqa: E402
from lab.real import RealLab, missing_prerequisites, real_lab_world  # noqa: E402
from lab.real.faults import (  # noqa: E402
    REAL_FAULT_KINDS,
    RealFaultError,
    broken_vms,
    clear_real_fault,
    fault_targets,
    inject_real_fault,
)
from migrations.runner import apply_mongo, apply_neo4j  # noqa: E402
from queries.datapath import AnalysisError  # noqa: E402
from queries.rca import rca  # noqa: E402

# name -> (mechanism, type driver, firewall)
VARIANTS = {"ovs-hybrid-vxlan": ("ovs", "vxlan", "hybrid"), "ovs-native-vxlan": ("ovs", "vxlan", "native"),
            "ovs-native-gre": ("ovs", "gre", "native"), "lxb-vxlan": ("lxb", "vxlan", "hybrid"),
            "lxb-flat": ("lxb", "flat", "hybrid")}


@dataclass
class Outcome:
    variant: str
    kind: str
    target: str
    root_cause: str
    rank: int | None
    top: list[str]
    evidence: dict[str, list[str]] = field(default_factory=dict)


class RealScan:
    """Rescan and project one real lab as environment `environment`; times each rescan + projection."""

    def __init__(self, scanner: Scanner, database: Any, driver: Any, environment: str) -> None:
        self.scanner, self.database, self.driver, self.environment = scanner, database, driver, environment
        self.seconds: list[float] = []

    def __call__(self) -> None:
        started = time.perf_counter()
        result = self.scanner.scan()
        Projector(self.database, self.driver, self.environment).sync()
        self.seconds.append(time.perf_counter() - started)
        if result.status != "completed":
            print(f"    scan {result.status}: {result.errors[:3]}", flush=True)

    def known(self) -> set[str]:
        return {d["id"] for d in self.database[OBJECTS].find({"environment": self.environment}, {"id": 1})}


def run_variant(variant: str, args: argparse.Namespace, stores: Stores, database: Any, chooser: random.Random,
                environments: list[str]) -> list[Outcome]:
    mechanism, type_driver, firewall = VARIANTS[variant]
    world = real_lab_world(generate_world(3, args.vms_per_host, 1 if type_driver == "flat" else 2, mechanism,
                                          type_driver, seed=args.seed, name=f"rca-{variant}", firewall=firewall))
    environment = f"bench-rca-real-{uuid.uuid4().hex[:6]}"
    environments.append(environment)
    outcomes = []
    started = time.perf_counter()
    with RealLab(world, f"rca-{os.getpid()}") as lab, real_lab_scanner(lab, database, environment) as scanner, \
            tempfile.TemporaryDirectory() as state_dir:
        print(f"{variant}: built in {time.perf_counter() - started:.1f}s", flush=True)
        scan = RealScan(scanner, database, stores.neo4j, environment)
        scan()
        for kind in REAL_FAULT_KINDS:
            if args.kinds and kind.name not in args.kinds:
                continue
            targets = [t for t in fault_targets(lab, kind.name) if broken_vms(lab, t)]  # faults a VM feels
            # on a VM's own host where the kind allows: RCA walks the datapath of the VMs asked about
            on_vm_hosts = [t for t in targets if any(i.host == t.split("/", 1)[0] for i in world.instances)]
            targets = on_vm_hosts or targets
            for target in chooser.sample(targets, min(args.per_kind, len(targets))):
                try:
                    fault = inject_real_fault(lab, Path(state_dir), kind.name, target, scan.known())
                except RealFaultError as exc:
                    print(f"  {kind.name} {target}: not made: {exc}", flush=True)
                    continue
                scan()
                try:
                    answer = rca(stores.neo4j, environment, broken_vms(lab, target))
                except AnalysisError as exc:
                    print(f"  {kind.name} {target}: RCA refused: {exc}", flush=True)
                    clear_real_fault(lab, Path(state_dir), kind.name, target)
                    scan()
                    continue
                top = answer.top(len(answer.suspects))
                rank = top.index(fault.root_cause) + 1 if fault.root_cause in top else None
                evidence = {s.id: s.evidence for s in answer.suspects[:3]}
                if fault.root_cause not in evidence:
                    evidence[fault.root_cause] = next((s.evidence for s in answer.suspects if s.id == fault.root_cause),
                                                      ["(not a suspect)"])
                outcomes.append(Outcome(variant, kind.name, target, fault.root_cause, rank, top[:3], evidence))
                print(f"  {kind.name:22s} {target:38s} rank {rank}", flush=True)
                clear_real_fault(lab, Path(state_dir), kind.name, target)
                scan()
        print(f"  rescan + projection: p50 {statistics.median(scan.seconds):.1f}s, "
              f"max {max(scan.seconds):.1f}s over {len(scan.seconds)}", flush=True)
    args.seconds.extend(scan.seconds)
    return outcomes


def report(outcomes: list[Outcome], seconds: list[float]) -> None:
    total = len(outcomes)
    if not total:
        print("no fault was made")
        return
    top1 = sum(o.rank == 1 for o in outcomes)
    top3 = sum(o.rank is not None and o.rank <= 3 for o in outcomes)
    print(f"\nRCA on {total} real faults: top-1 {100 * top1 / total:.1f}% ({top1}/{total}), "
          f"top-3 {100 * top3 / total:.1f}% ({top3}/{total})")
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.kind].append(outcome)
    print(f"\n{'fault kind':24s} {'faults':>6s} {'top-1':>6s} {'top-3':>6s}  ranks")
    for kind, kind_outcomes in sorted(by_kind.items()):
        ranks = ", ".join(f"{o.variant}:{o.rank or '-'}" for o in kind_outcomes)
        print(f"{kind:24s} {len(kind_outcomes):6d} {sum(o.rank == 1 for o in kind_outcomes):6d} "
              f"{sum(o.rank is not None and o.rank <= 3 for o in kind_outcomes):6d}  {ranks}")
    print(f"\nrescan + projection: p50 {statistics.median(seconds):.1f}s, p95 "
          f"{sorted(seconds)[max(0, int(len(seconds) * 0.95) - 1)]:.1f}s over {len(seconds)}")
    misses = [o for o in outcomes if o.rank != 1]
    if misses:
        print("\nmisses:")
    for o in misses:
        print(f"  {o.variant} {o.kind} {o.target}: expected {o.root_cause}, ranked {o.rank}; top 3 {o.top}")
        for suspect, evidence in o.evidence.items():
            print(f"      {suspect}: {'; '.join(evidence)[:300] or '(no evidence)'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--kinds", default="", help="comma-separated fault kinds (default: all)")
    parser.add_argument("--per-kind", type=int, default=1, help="targets per fault kind and variant")
    parser.add_argument("--vms-per-host", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    args.kinds = {k for k in args.kinds.split(",") if k}
    args.seconds = []
    missing = missing_prerequisites()
    if missing:
        raise SystemExit("the real lab needs: " + "; ".join(missing))
    chooser = random.Random(args.seed)
    outcomes: list[Outcome] = []
    with Stores(load_settings()) as stores:
        database = stores.mongo.client[f"calipso_bench_rca_real_{uuid.uuid4().hex[:6]}"]
        apply_mongo(database)
        apply_neo4j(stores.neo4j)
        environments: list[str] = []
        try:
            for variant in (v for v in args.variants.split(",") if v):
                if variant not in VARIANTS:
                    raise SystemExit(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
                outcomes += run_variant(variant, args, stores, database, chooser, environments)
            report(outcomes, args.seconds)
        finally:
            for environment in environments:
                stores.neo4j.execute_query("MATCH (n:Object {env: $env}) DETACH DELETE n", env=environment)
                stores.neo4j.execute_query("MATCH (c:ProjectorCheckpoint {env: $env}) DELETE c", env=environment)
            database.client.drop_database(database.name)


if __name__ == "__main__":
    main()
