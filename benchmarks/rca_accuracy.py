"""Inject random lab faults one at a time and print root-cause accuracy, then impact/rca/path latency.

    .venv/bin/python benchmarks/rca_accuracy.py --faults 60 --latency-hosts 100

For each fault: inject it into a lab world, rescan the world (in process: its APIs on loopback, its
hosts through the lab's responder), project into Neo4j, ask `rca` from the VMs a user would start
from (the fault's down and degraded VMs, else the VMs on the faulty host), and note where the lab's
recorded root cause ranks; then clear the fault and rescan. Worlds cycle through the variants.
Prints top-1 and top-3 accuracy (overall and per fault kind), the misses, and p50/p95 latency of
impact, rca and path on a world of --latency-hosts hosts x --vms-per-host VMs.
Needs the local stack (`calipso stack up`); uses a throw-away database and environment names.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import spread  # noqa: E402

from calipso.lab_scan import scan_world_in_process  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.stores import Stores  # noqa: E402
from graphmodel.projector import Projector  # noqa: E402
from lab.faults import clear_fault, inject_fault  # noqa: E402
from lab.generate import generate_world  # noqa: E402
from lab.world import World  # noqa: E402
from migrations.runner import apply_mongo, apply_neo4j  # noqa: E402
from queries.impact import impact  # noqa: E402
from queries.path import path  # noqa: E402
from queries.rca import rca  # noqa: E402

VARIANTS = [("ovs", "vxlan"), ("lxb", "vlan"), ("vpp", "vxlan"), ("sriov", "vlan"), ("ovs", "vlan"), ("lxb", "vxlan"),
            ("ovs", "gre")]
L2_AGENTS = {"ovs": "openvswitch", "lxb": "linuxbridge", "vpp": "vpp", "sriov": "sriov"}
#: Faults the lab can inject but no source Calipso reads (host commands, OpenStack APIs) can show in
#: a real cloud: no RCA can name them, so they are left out of the accuracy figure, and said so.
UNOBSERVABLE = {
    ("sriov", "mtu_mismatch"): "a VF's MTU is set inside the guest: libvirt's hostdev XML has no <mtu>, the PF's "
                               "`ip link` and Neutron's port show none",
}


def candidate_faults(world: World) -> list[tuple[str, str, list[str]]]:
    """Every (kind, target, VMs a user would start from) this world allows, where some VM is affected."""
    mechanism = world.mechanism_driver
    computes = [h for h in world.hosts if "compute" in h.roles and any(i.host == h.name for i in world.instances)]
    candidates: list[tuple[str, str, list[str]]] = []
    for host in computes:
        on_host = sorted(i.id for i in world.instances if i.host == host.name)
        for nic in host.nics:
            if nic.role in ("tunnel", "provider"):
                candidates.append(("nic_down", f"{host.name}/{nic.name}", on_host))
                if nic.bond:
                    candidates.append(("bond_member_down", f"{host.name}/{nic.name}", on_host))
        if world.type_driver in ("vxlan", "gre") and host.tunnel_ip:
            candidates.append(("tunnel_unreachable", host.name, on_host))
        for agent in world.agents:
            if agent.host == host.name and L2_AGENTS[mechanism] in agent.binary:
                candidates.append(("agent_dead", agent.id, on_host))
    port_kinds = [kind for kind in ("ovs_port_down", "mtu_mismatch",
                                    "bridge_member_missing" if mechanism == "lxb" else "ovs_port_missing")
                  if (mechanism, kind) not in UNOBSERVABLE]
    if mechanism in ("ovs", "sriov"):
        port_kinds.append("vlan_tag_mismatch")
    for instance in world.instances:
        for port_id in instance.port_ids[:1]:
            candidates += [(kind, port_id, [instance.id]) for kind in port_kinds]
    for network in world.networks:
        vms = sorted({p.device_id for p in world.ports
                      if p.network_id == network.id and p.device_owner.startswith("compute:")})
        if vms and any(p.network_id == network.id and p.device_owner == "network:dhcp" for p in world.ports):
            candidates.append(("dhcp_namespace_gone", network.id, vms))
    if mechanism == "ovs" and world.type_driver in ("vxlan", "gre"):  # OpenFlow: flood flows, tunnel ports
        hosting = {h.name: {p.network_id for p in world.ports if p.binding_host == h.name} for h in world.hosts}
        for host in computes:
            for network_id in sorted(hosting[host.name]):
                vms = sorted({p.device_id for p in world.ports if p.binding_host == host.name
                              and p.network_id == network_id and p.device_owner.startswith("compute:")})
                if vms and any(network_id in hosting[h] for h in hosting if h != host.name):
                    candidates.append(("flood_flow_missing", f"{host.name}/{network_id}", vms))
            on_host = sorted(i.id for i in world.instances if i.host == host.name)
            candidates += [("tunnel_port_missing", f"{host.name}/{peer.name}", on_host) for peer in world.hosts
                           if peer.name != host.name and peer.tunnel_ip and hosting[host.name] & hosting[peer.name]]
    return candidates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=int, default=56,
                        help="faults to inject in all (at least 50 for the target; 0: latency only)")
    parser.add_argument("--per-world", type=int, default=8, help="faults per generated world")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--kinds", default="", help="comma-separated fault kinds to draw from (default: all)")
    parser.add_argument("--latency-hosts", type=int, default=20, help="hosts of the latency world (0: skip)")
    parser.add_argument("--vms-per-host", type=int, default=20)
    parser.add_argument("--samples", type=int, default=40, help="queries per latency figure")
    args = parser.parse_args()
    chooser = random.Random(args.seed)
    settings = load_settings()
    for (mechanism, kind), why in UNOBSERVABLE.items():
        print(f"left out: {kind} on {mechanism} ({why})")
    ranks: list[tuple[str, str, int | None, list[str]]] = []  # kind, root cause, rank, top 3
    with Stores(settings) as stores:
        database = stores.mongo.client[f"calipso_bench_rca_{uuid.uuid4().hex[:6]}"]
        apply_mongo(database)
        apply_neo4j(stores.neo4j)
        environments = []
        try:
            world_index = 0
            while len(ranks) < args.faults:
                mechanism, type_driver = VARIANTS[world_index % len(VARIANTS)]
                world = generate_world(4, 4, 2, mechanism, type_driver, seed=args.seed + world_index)
                environment = f"bench-rca-{uuid.uuid4().hex[:6]}"
                environments.append(environment)
                world_index += 1
                scan_world_in_process(world, database, environment)
                Projector(database, stores.neo4j, environment).sync()
                candidates = [c for c in candidate_faults(world) if not args.kinds or c[0] in args.kinds.split(",")]
                for kind, target, focal in chooser.sample(candidates, min(args.per_world, len(candidates))):
                    if len(ranks) >= args.faults:
                        break
                    fault = inject_fault(world, kind, target)
                    scan_world_in_process(world, database, environment)
                    Projector(database, stores.neo4j, environment).sync()
                    answer = rca(stores.neo4j, environment, fault.down + fault.degraded or focal)
                    top = answer.top(len(answer.suspects))
                    rank = top.index(fault.root_cause) + 1 if fault.root_cause in top else None
                    ranks.append((f"{mechanism}/{type_driver} {kind}", fault.root_cause, rank, top[:3]))
                    print(f"{len(ranks):3d} {mechanism}/{type_driver:5s} {kind:20s} rank {rank}", flush=True)
                    clear_fault(world, kind, target)
                    scan_world_in_process(world, database, environment)
                    Projector(database, stores.neo4j, environment).sync()
            if ranks:
                report_accuracy(ranks)
            if args.latency_hosts:
                environments.append(measure_latency(stores, database, args))
        finally:
            for environment in environments:
                stores.neo4j.execute_query("MATCH (n:Object {env: $env}) DETACH DELETE n", env=environment)
                stores.neo4j.execute_query("MATCH (c:ProjectorCheckpoint {env: $env}) DELETE c", env=environment)
            database.client.drop_database(database.name)


def report_accuracy(ranks: list[tuple[str, str, int | None, list[str]]]) -> None:
    total = len(ranks)
    top1 = sum(1 for r in ranks if r[2] == 1)
    top3 = sum(1 for r in ranks if r[2] is not None and r[2] <= 3)
    print(f"\nRCA over {total} faults: top-1 {100 * top1 / total:.1f}% ({top1}/{total}), "
          f"top-3 {100 * top3 / total:.1f}% ({top3}/{total})")
    by_kind: dict[str, list[int | None]] = defaultdict(list)
    for label, _, rank, _ in ranks:
        by_kind[label.split(" ")[1]].append(rank)
    for kind, kind_ranks in sorted(by_kind.items()):
        print(f"  {kind:20s} {sum(r == 1 for r in kind_ranks)}/{len(kind_ranks)} first")
    for label, root, rank, top in ranks:
        if rank != 1:
            print(f"  miss: {label}: root cause {root} ranked {rank}; top 3 {top}")


def measure_latency(stores: Stores, database: Any, args: argparse.Namespace) -> str:
    """Scan and project a --latency-hosts world, print impact/rca/path latency; the environment's name."""
    world = generate_world(args.latency_hosts, args.vms_per_host, max(2, args.latency_hosts // 10), "ovs", "vxlan",
                           seed=args.seed)
    environment = f"bench-rca-{uuid.uuid4().hex[:6]}"
    started = time.perf_counter()
    result = scan_world_in_process(world, database, environment)
    scanned = time.perf_counter() - started
    sync = Projector(database, stores.neo4j, environment).sync()
    objects = sum(result.counts.values())
    print(f"\nlatency world: {len(world.hosts)} hosts, {len(world.instances)} VMs, {objects} objects and "
          f"{result.counts.get('links', 0)} links; scan {scanned:.1f}s, projection {sync.seconds:.1f}s")
    print_latency(stores.neo4j, environment, world, args.samples, args.seed)
    return environment


def print_latency(driver: Any, environment: str, world: World, samples: int, seed: int) -> None:
    """p50/p95 of impact (a host, a NIC), rca (a VM, a host's VMs) and path (two VMs sharing a
    network) on an environment scanned from `world` and projected, over `samples` random picks."""
    chooser = random.Random(seed)
    computes = [h for h in world.hosts if "compute" in h.roles]
    networks = {i.id: {world.port(p).network_id for p in i.port_ids} for i in world.instances}
    by_network: dict[str, list[str]] = defaultdict(list)
    for vm, nets in networks.items():
        for net in nets:
            by_network[net].append(vm)
    vms_by_host: dict[str, list[str]] = defaultdict(list)
    for instance in world.instances:
        vms_by_host[instance.host].append(instance.id)
    timings: dict[str, list[float]] = defaultdict(list)

    def timed(name: str, call: Any) -> None:
        begun = time.perf_counter()
        call()
        timings[name].append(1000 * (time.perf_counter() - begun))

    for sample in range(samples + 1):  # the first round warms Neo4j's query plans up and is not counted
        if sample == 1:
            timings.clear()
        host = chooser.choice(computes)
        nic = next(n for n in host.nics if n.role in ("tunnel", "provider"))
        vm = chooser.choice(world.instances)
        peers = by_network[sorted(networks[vm.id])[0]]
        other = chooser.choice([p for p in peers if p != vm.id] or [vm.id])
        timed("impact (host)", lambda: impact(driver, environment, [host.name]))
        timed("impact (NIC)", lambda: impact(driver, environment, [f"{host.name}/{nic.name}"]))
        timed("rca (1 VM)", lambda: rca(driver, environment, [vm.id]))
        timed("rca (VMs of a host)", lambda: rca(driver, environment, sorted(vms_by_host[host.name])))
        if other != vm.id:
            timed("path", lambda: path(driver, environment, vm.id, other))
    for name, values in timings.items():
        print(f"  {name:20s} {spread(values, 0.95)}   ({len(values)} runs)", flush=True)


if __name__ == "__main__":
    main()
