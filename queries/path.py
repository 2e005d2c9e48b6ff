"""Path: every hop from one VM to another, through bridges, switches, tunnel endpoints and NICs, with
the health of each hop and of the link into it.

The two VMs' ways out of their hosts (queries/datapath.py) over the first network they share, joined
by that network (the tunnel or VLAN segment between the two NICs); on one host the two ways meet at
the first bridge or switch they share and the path never leaves the host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import neo4j

from queries.datapath import (
    AnalysisError,
    Datapath,
    Edge,
    Route,
    load_datapath,
    names_of,
    node_failing,
    resolve_objects,
    routes_out,
)
from queries.results import Tabular


@dataclass
class Hop:
    """One object on the path, how healthy it is, and the state of the link that led to it."""

    hop: int
    id: str
    type: str | None
    name: str | None
    host: str | None
    health: str  # ok, or why it is failing
    link: str | None = None  # the relationship from the previous hop
    link_state: str | None = None  # up | down | unknown


@dataclass
class PathResult(Tabular):
    """The hops from `source` to `target` over `network`."""

    environment: str
    source: str
    target: str
    network: str | None
    hops: list[Hop] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        return [{"hop": h.hop, "id": h.id, "type": h.type, "name": h.name, "host": h.host, "health": h.health,
                 "link": h.link, "link_state": h.link_state} for h in self.hops]

    def ids(self) -> list[str]:
        return [h.id for h in self.hops]

    @property
    def healthy(self) -> bool:
        return all(h.health == "ok" and h.link_state in (None, "up") for h in self.hops)

    @property
    def summary(self) -> list[str]:
        bad = [h for h in self.hops if h.health != "ok" or h.link_state == "down"]
        return [f"{len(self.hops)} hops over network {self.network}; "
                + ("all healthy" if not bad else "unhealthy: " + ", ".join(h.name or h.id for h in bad))]

    @property
    def title(self) -> str:
        return f"Path from {self.source} to {self.target}"

    def graph(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        nodes = [{"id": h.id, "type": h.type, "name": h.name, "status": "ok" if h.health == "ok" else "error"}
                 for h in self.hops]
        links = [{"source": a.id, "target": b.id, "state": b.link_state} for a, b in zip(self.hops, self.hops[1:])]
        return nodes, links


def _way_out(datapath: Datapath, vm: str, network: str) -> Route:
    vnic = next(v for v in datapath.vnics_of(vm) if datapath.nodes[v].get("network_id") == network)
    routes = routes_out(datapath, vnic, respect_state=False)
    if not routes:
        raise AnalysisError(f"{vm}: no way out of its host found for network {network} from {vnic} "
                            "(run `calipso rca` on it to see where its path stops)")
    return routes[0]


def path(driver: neo4j.Driver, environment: str, vm_a: str, vm_b: str) -> PathResult:
    """Every hop from VM A to VM B (ids or unique names) over the first network they share."""
    a, b = resolve_objects(driver, environment, [vm_a, vm_b], types=("instance", "vservice"))
    datapath = load_datapath(driver, environment, {a["host"], b["host"]})
    networks_a = {datapath.nodes[v].get("network_id") for v in datapath.vnics_of(a["id"])}
    networks_b = {datapath.nodes[v].get("network_id") for v in datapath.vnics_of(b["id"])}
    shared = sorted(n for n in networks_a & networks_b if n)
    if not shared:
        raise AnalysisError(f"{a['id']} and {b['id']} share no network (their networks: "
                            f"{', '.join(sorted(n for n in networks_a if n)) or 'none'} and "
                            f"{', '.join(sorted(n for n in networks_b if n)) or 'none'}); paths through routers are "
                            "not traced yet")
    network = shared[0]
    up, down = _way_out(datapath, a["id"], network), _way_out(datapath, b["id"], network)
    a_hops, a_edges = _side(datapath, a["id"], up)
    b_hops, b_edges = _side(datapath, b["id"], down)
    # Each entry: a hop and the link that led to it. B's side was walked from B outwards; on the path
    # it comes backwards, so hop i of it is entered from hop i+1, by the link that entered hop i+1.
    if a["host"] == b["host"]:
        meet = next(hop for hop in a_hops if hop in b_hops)
        head = list(zip(a_hops, a_edges))[:a_hops.index(meet) + 1]
        tail = [(b_hops[i], b_edges[i + 1]) for i in reversed(range(b_hops.index(meet)))]
        sequence = head + tail
    else:
        nic_a, nic_b = a_hops[-1], b_hops[-1]
        tail = [(b_hops[i], b_edges[i + 1]) for i in reversed(range(len(b_hops) - 1))]
        sequence = [*zip(a_hops, a_edges), (network, datapath.carries[nic_a][network]),
                    (nic_b, datapath.carries[nic_b][network]), *tail]
    labels = names_of(driver, environment, [network])
    hops = []
    for index, (hop, edge) in enumerate(sequence):
        node = datapath.nodes.get(hop) or {**(labels.get(hop) or {}), "id": hop}
        reason = node_failing(node)
        hops.append(Hop(index, hop, node.get("type"), node.get("name"), node.get("host"), reason or "ok",
                        edge.relationship.lower() if edge else None,
                        (edge.state or "unknown") if edge else None))
    return PathResult(environment, a["id"], b["id"], network, hops)


def _side(datapath: Datapath, owner: str, route: Route) -> tuple[list[str], list[Edge | None]]:
    """One VM's side of the path: its hops from the VM to its NIC, and the link entering each."""
    into_vnic = next((e for e in datapath.out.get(owner, []) if e.target == route.hops[0]), None)
    return [owner, *route.hops], [None, into_vnic, *route.edges]
