"""Root cause: given VMs that are broken, the ranked suspects on their paths, each with its evidence.

Every object a focal VM's traffic passes on its way out of its host (queries/datapath.py: the
vNIC, its bridges, the switch, the tunnel endpoint, the NIC or bond and the bond's members) and the
agents wiring that host are suspects. Each collects evidence:

- failing: its own state says so (a NIC without carrier, a dead agent, a failing monitoring status;
  a monitoring warning, such as a bond with a dead member, is evidence `degraded` and weighs less);
- down link: a link on the path is down; the blame goes to its far end when that end is failing
  itself and the near end is not, else to its near end (the VM's side: the port that lost its link);
- path ends here: the path stops at it without reaching a NIC that carries the VM's network;
- broken invariant: an invariant check blames it (the object that breaks the rule; the one nearest the
  VM when the check blames several);
- recent change: it or one of its links (a tag, a state) changed, or it was removed, since `since`
  (removed objects of the VM's network count too: a DHCP namespace that vanished is no longer on any
  path). A change that was undone (the object and its links are back to their state at `since`) is no
  evidence; a newer change weighs more than an older one (linearly, from its full weight now to a
  quarter of it at `since`).

A VM's own bridge (a bridge that connects only its vNIC, like OVS's hybrid qbr) stands for the vNIC:
the vNIC is its port. A suspect's score is the sum of its evidence weights, scaled by the share of
focal VMs whose paths hold it, so what all broken VMs share ranks first.

Some faults leave no trace in what Calipso reads (VPP does not print its tunnel source's address in
`show int`). After the suspects with evidence come the hops every focal VM's path shares, nearest
the VMs first, with score 0 and the evidence "common hop": where to look next, not a finding.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import neo4j

from graphmodel.schema import uid
from queries.datapath import DETAIL_TYPES, Datapath, load_datapath, node_failing, reach, resolve_objects
from queries.invariants import invariants
from queries.loader import run_query
from queries.results import Tabular

WEIGHTS = {"failing": 5.0, "degraded": 3.0, "path ends here": 4.0, "down link": 3.0, "broken invariant": 3.0,
           "removed recently": 2.0, "changed recently": 1.0, "common hop": 0.0}
DEFAULT_WINDOW = timedelta(hours=24)
#: Invariant checks that speak about a path (orphan taps are about what no path uses).
PATH_CHECKS = ("mtu_falling", "vlan_tag", "segmentation_id", "port_without_switch_port", "tunnel_without_peer",
               "bond_one_live_member", "tag_mismatch", "no_flood_tunnel", "asymmetric_mesh")
#: Evidence whose weight decays over the window: full weight for a change just now, OLDEST_SHARE of it at `since`.
RECENT_KINDS = ("removed recently", "changed recently")
OLDEST_SHARE = 0.25
AGENT_DEPTH = 90  # agents wire the host rather than sit on the path: after every hop
MEMBER_DEPTH = 1  # a bond's member sits just past its bond


@dataclass
class Suspect:
    """One object that may explain the focal VMs' trouble."""

    id: str
    type: str | None
    name: str | None
    host: str | None
    score: float = 0.0
    shared_by: int = 0  # how many focal VMs' paths hold it
    evidence: list[str] = field(default_factory=list)
    rank: int = 0


@dataclass
class RcaResult(Tabular):
    """Ranked suspects for some broken VMs."""

    environment: str
    focal: list[str]
    since: datetime
    suspects: list[Suspect] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        return [{"rank": s.rank, "object": s.id, "type": s.type, "name": s.name, "host": s.host,
                 "score": round(s.score, 2), "shared_by": f"{s.shared_by}/{len(self.focal)}",
                 "evidence": "; ".join(s.evidence)} for s in self.suspects]

    def top(self, count: int = 1) -> list[str]:
        return [s.id for s in self.suspects[:count]]

    @property
    def summary(self) -> list[str]:
        if not self.suspects or self.suspects[0].score == 0:
            return ["no evidence of a fault on these VMs' paths"] + (
                ["the hops they all share are listed, nearest the VMs first"] if self.suspects else [])
        best = self.suspects[0]
        return [f"most likely: {best.type} {best.name or best.id} ({'; '.join(best.evidence)})"]

    @property
    def title(self) -> str:
        return "Root cause for " + ", ".join(self.focal)

    def graph(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        nodes: list[dict[str, Any]] = [{"id": f, "type": "instance", "status": "focal"} for f in self.focal]
        nodes += [{"id": s.id, "type": s.type, "name": s.name,
                   "status": "error" if s.rank == 1 else "warning"} for s in self.suspects[:10]]
        return nodes, []


@dataclass
class _Path:
    """One focal VM's path: every object on it with its distance from the VM, and its networks."""

    focal: str
    depth: dict[str, int]
    networks: set[str]
    ends: set[str]  # where the path stops short of a NIC carrying its network


def focal_paths(datapath: Datapath, focal: str) -> _Path:
    """The objects a focal VM's traffic passes on its way out, with their distance (pure)."""
    depth: dict[str, int] = {focal: 0}
    networks: set[str] = set()
    ends: set[str] = set()
    for vnic in datapath.vnics_of(focal):
        network = datapath.nodes[vnic].get("network_id")
        if network:
            networks.add(network)
        reached = reach(datapath, vnic)
        for node, hops in reached.items():
            depth[node] = min(depth.get(node, hops + 1), hops + 1)
        for node, hops in list(reached.items()):
            for member in datapath.bond_members(node):
                if member in datapath.nodes:
                    depth.setdefault(member, hops + 1 + MEMBER_DEPTH)
        if not any(network in datapath.carries.get(n, {}) for n in reached if n != vnic):
            ends.update(n for n in reached
                        if datapath.nodes.get(n, {}).get("type") != "host_pnic"
                        and not any(not e.network or e.network == network for e in datapath.out.get(n, [])))
    host = datapath.nodes.get(focal, {}).get("host")
    for node_id, attributes in datapath.nodes.items():
        if attributes.get("type") == "network_agent" and attributes.get("host") == host:
            depth.setdefault(node_id, AGENT_DEPTH)
    return _Path(focal, depth, networks, ends)


def own_port(datapath: Datapath, node_id: str) -> str:
    """The object that stands for `node_id` as a suspect: a bridge that connects a single vNIC and
    plugs into a switch (OVS's hybrid qbr) is that vNIC's port; anything else stands for itself (a
    Linux bridge agent's bridge of a network has its own way out, even with one VM on the host). The
    datapath indexes those bridges when it is built (Datapath.plugs)."""
    return datapath.plugs.get(node_id, node_id)


def collect_evidence(datapath: Datapath, paths: Sequence[_Path]) -> dict[str, dict[str, list[str]]]:
    """Evidence from the graph's own state, per suspect id and kind (pure)."""
    evidence: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in paths:
        for node_id in path.depth:
            reason = node_failing(datapath.nodes.get(node_id, {}))
            if reason:
                # a monitoring warning (a bond with a dead member) weighs less than what is failing outright
                evidence[node_id]["degraded" if reason.startswith("status warning") else "failing"].append(reason)
            for edge in datapath.out.get(node_id, []):
                if edge.target not in path.depth or not edge.down:
                    continue
                # the far end when it fails and the near end does not; when both fail, the one nearer the VM
                # (whose loss explains the rest: a VM's port gone takes its bridge and switch port with it)
                far_failing = node_failing(datapath.nodes.get(edge.target, {}))
                near_failing = node_failing(datapath.nodes.get(edge.source, {}))
                blamed = edge.target if far_failing and not near_failing else own_port(datapath, edge.source)
                evidence[blamed]["down link"].append(
                    f"link {edge.relationship.lower()} {edge.source} -> {edge.target} is "
                    f"{edge.state or edge.status}")
        for end in path.ends:
            evidence[own_port(datapath, end)]["path ends here"].append(
                f"the path of {path.focal} stops at {datapath.nodes.get(end, {}).get('name') or end}, short of a NIC "
                "carrying its network")
    return evidence


@dataclass(frozen=True)
class NetChange:
    """One facet of an object (itself, or one of its outgoing links) that is not in the state it had at
    the start of a window: when it last changed and whether it is gone now."""

    facet: str  # "object", or "<RELATIONSHIP>><target uid>"
    at: datetime
    gone: bool


ABSENT = "absent"  # graphmodel.projector's state of a facet that went away


def net_changes(log: dict[str, list[list[Any]]], since: datetime) -> list[NetChange]:
    """The facets of a RecentChange log (graphmodel/projector.py: per facet its first state, then
    [epoch ms, state] per change) that changed since `since` and are not back to their state at `since`
    (pure). A facet changed and changed back within the window is no change."""
    since_ms = since.timestamp() * 1000
    found = []
    for facet, entries in log.items():
        if not entries or entries[-1][0] is None or entries[-1][0] < since_ms:
            continue
        then = [state for at, state in entries if at is None or at < since_ms] or [entries[0][1]]
        if then[-1] != entries[-1][1]:
            found.append(NetChange(facet, datetime.fromtimestamp(entries[-1][0] / 1000, UTC),
                                   entries[-1][1] == ABSENT))
    return found


def recency(at: datetime, since: datetime, now: datetime) -> float:
    """How much a change at `at` weighs within the window `since`..`now`: 1 now, OLDEST_SHARE at `since` (pure)."""
    window = (now - since).total_seconds()
    age = min(max((now - at).total_seconds(), 0.0), window) if window > 0 else 0.0
    return 1.0 - (1.0 - OLDEST_SHARE) * (age / window if window > 0 else 0.0)


def _net_changes_of(change: dict[str, Any], since: datetime) -> list[NetChange]:
    """A recent_changes row's net changes; a RecentChange written before the projector kept logs counts
    as one change of the object at its time."""
    if change.get("log"):
        return net_changes(json.loads(change["log"]), since)
    at = datetime.fromtimestamp(change["at_ms"] / 1000, UTC)
    return [NetChange("object", at, change["op"] == "removed")] if at >= since else []


def rca(driver: neo4j.Driver, environment: str, vms: Sequence[str],
        since: datetime | None = None) -> RcaResult:
    """Ranked suspects for the trouble of some VMs (ids or unique names), with their evidence."""
    now = datetime.now(UTC)
    since = since or now - DEFAULT_WINDOW
    focal = resolve_objects(driver, environment, vms, types=("instance", "vservice"))
    focal_ids = [f["id"] for f in focal]
    hosts = {f["host"] for f in focal if f.get("host")}
    # The invariant checks and the datapath are independent reads: run them side by side.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rca-invariants") as pool:
        checked = pool.submit(invariants, driver, environment, PATH_CHECKS, hosts=sorted(hosts))
        datapath = load_datapath(driver, environment, hosts)
        violations = checked.result().violations
    paths = [focal_paths(datapath, f) for f in focal_ids]
    evidence = collect_evidence(datapath, paths)
    on_paths = {node for path in paths for node in path.depth}

    # Broken invariants that touch these paths: blamed on the object that breaks the rule (the NIC whose
    # MTU is too small, the port with the wrong tag), the one nearest a VM when several do. One off the
    # paths (another VM's port with the wrong tag on the same switch) is a suspect of its own, shared by none.
    nearest = {node: min(p.depth.get(node, 10**6) for p in paths) for node in on_paths}
    for violation in violations:
        if not any(o in on_paths for o in violation.objects):
            continue
        culprits = [own_port(datapath, o) for o in violation.culprits]
        blamed = min(culprits, key=lambda o: (nearest.get(o, 10**6), culprits.index(o)))
        evidence[blamed]["broken invariant"].append(f"{violation.kind}: {violation.evidence}")

    # Recent changes (kept in the graph by the projector): objects on the paths that changed (being
    # created is no change), and objects of the VMs' networks removed on any host. The focal VMs' own
    # documents change with their ports: a symptom, not a suspect.
    networks = sorted({n for p in paths for n in p.networks})
    candidates = sorted(on_paths - set(focal_ids))
    removed: dict[str, dict[str, Any]] = {}
    weight: dict[str, float] = {}  # per suspect, how much its newest change weighs (recency)
    lost_links: dict[str, set[str]] = defaultdict(set)  # per suspect, the ends of its links that went away
    for change in run_query(driver, "recent_changes", env=environment, since=since, networks=networks,
                            hosts=sorted(hosts), uids=[uid(environment, c) for c in candidates]):
        changes = _net_changes_of(change, since)
        if not changes:
            continue  # undone: back to its state at `since`
        suspect = own_port(datapath, change["id"])
        for net in changes:
            when = net.at.isoformat()
            if net.facet == "object" and net.gone:
                removed[change["id"]] = change
                evidence[suspect]["removed recently"].append(f"removed at {when}")
            elif net.facet == "object":
                evidence[suspect]["changed recently"].append(f"changed at {when}")
            else:
                relationship, _, target = net.facet.partition(">")
                if net.gone:
                    lost_links[suspect].add(target.partition("|")[2])
                evidence[suspect]["changed recently"].append(
                    f"its {relationship.lower()} link to {target.partition('|')[2]} "
                    f"{'went away' if net.gone else 'changed'} at {when}")
        weight[suspect] = max(weight.get(suspect, 0.0), *(recency(n.at, since, now) for n in changes))
    holders = _fold_into_removed_parents(evidence, removed, weight)
    holders.update(_fold_removed_plugs(datapath, evidence, removed, lost_links, weight))
    for key in list(holders):  # a member folded into its bridge, the bridge into the vNIC: the last holder
        seen = {key}
        while holders[key] in holders and holders[key] not in seen:
            seen.add(holders[key])
            holders[key] = holders[holders[key]]
    # A NIC taken out of its Linux bridge is still there but gone from the bridge: what the bridge shows for
    # want of it (the path ends there) is the NIC's doing, as if it had been removed.
    left_bridge = {target: target for source, targets in lost_links.items()
                   if datapath.nodes.get(source, {}).get("type") == "vconnector"
                   for target in targets if datapath.nodes.get(target, {}).get("type") == "host_pnic"}
    explain_by_removals(evidence, lost_links, {**left_bridge, **{key: holders.get(key, key) for key in removed}})
    # Failing DHCP and router namespaces of the VMs' networks (monitoring status) and their devices
    # without carrier: they serve the network from elsewhere, so no path holds them; they count for
    # the VMs on their network.
    beside: dict[str, dict[str, Any]] = {}
    for service in run_query(driver, "failing_services", env=environment, networks=networks):
        if service["id"] not in on_paths:
            beside[service["id"]] = service
            reason = node_failing(service)
            if reason:
                evidence[service["id"]]["degraded" if service["status"] == "warning" else "failing"].append(reason)
    for port in run_query(driver, "down_service_ports", env=environment, networks=networks):
        if port["id"] not in on_paths:
            beside[port["id"]] = port
            evidence[port["id"]]["failing"].append(
                f"{port['name']} in namespace {port['namespace']} has no carrier"
                + (", and the router routes the VMs' network through it" if port["via_router"] else ""))
    for hop in common_hops(datapath, paths):
        if hop not in evidence:
            evidence[hop]["common hop"].append(f"on the path of all {len(paths)} VMs; no fault seen")

    suspects = []
    for object_id, kinds in evidence.items():
        shared = sum(1 for p in paths if object_id in p.depth) or \
            sum(1 for p in paths if (removed.get(object_id) or beside.get(object_id) or {}).get("network_id")
                in p.networks) or \
            sum(1 for p in paths if _removed_hop_on_host(removed.get(object_id), datapath, p.focal))
        node = datapath.nodes.get(object_id) or removed.get(object_id) or beside.get(object_id) or {}
        score = sum(WEIGHTS[kind] * (weight.get(object_id, 1.0) if kind in RECENT_KINDS else 1.0) for kind in kinds)
        score *= 0.5 + 0.5 * shared / max(len(paths), 1)
        suspects.append(Suspect(object_id, node.get("type"), node.get("name"), node.get("host"), score, shared,
                                [f"{kind}: {item}" for kind, items in kinds.items() for item in dict.fromkeys(items)]))
    suspects.sort(key=lambda s: (-s.score, -s.shared_by, nearest.get(s.id, 10**6), s.id))
    for rank, ranked in enumerate(suspects, 1):
        ranked.rank = rank
    return RcaResult(environment, focal_ids, since, suspects)


def _removed_hop_on_host(doc: dict[str, Any] | None, datapath: Datapath, focal: str) -> bool:
    """Whether a removed OVS port or bridge member (a patch or tunnel port: no network of its own) was on
    the focal VM's host, where its switch or bridge is."""
    if not doc:
        return False
    return doc.get("type") in DETAIL_TYPES and doc.get("host") == datapath.nodes.get(focal, {}).get("host")


def common_hops(datapath: Datapath, paths: Sequence[_Path]) -> list[str]:
    """The objects on every focal VM's path (not the VMs, not the agents beside the path), nearest
    the VMs first (pure)."""
    if not paths:
        return []
    shared = set.intersection(*(set(p.depth) for p in paths)) - {p.focal for p in paths}
    hops = {own_port(datapath, node) for node in shared
            if datapath.nodes.get(node, {}).get("type") != "network_agent"}
    return sorted(hops, key=lambda node: (max(p.depth.get(node, 0) for p in paths), node))


#: Evidence a removal explains: what a neighbour of a removed object shows because it is gone.
EXPLAINED_BY_REMOVAL = ("path ends here", "failing", "broken invariant")


def explain_by_removals(evidence: dict[str, dict[str, list[str]]], lost_links: dict[str, set[str]],
                        holder_of_removed: dict[str, str]) -> None:
    """What an object shows because a neighbour was removed is the removal's doing: a path that ends at
    an object which lost its link to something removed, a patch port failing for want of its removed
    peer, a tunnel endpoint breaking the mesh because its tunnel port to a peer was deleted. That
    evidence moves to the removed neighbour (or the removed parent that holds its evidence), so a
    deleted port or bridge outranks the objects left dangling around it (pure). Neighbours: the object
    lost its link to the removed one, or the removed one lost its link to the object."""
    neighbours: dict[str, set[str]] = defaultdict(set)
    for source, targets in lost_links.items():
        for target in targets:
            if target in holder_of_removed:
                neighbours[source].add(holder_of_removed[target])
            if source in holder_of_removed:
                neighbours[target].add(holder_of_removed[source])
    for suspect, kinds in list(evidence.items()):
        if suspect in holder_of_removed:
            continue  # removed itself: its own evidence stays
        holders = sorted(neighbours.get(suspect, set()) - {suspect})
        explained = [kind for kind in EXPLAINED_BY_REMOVAL if kinds.get(kind)]
        if not holders or not explained:
            continue
        for kind in explained:
            for holder in holders:
                evidence[holder][kind].extend(f"{item} (where {suspect} lost its link to it)" for item in kinds[kind])
            del kinds[kind]


def _fold_removed_plugs(datapath: Datapath, evidence: dict[str, dict[str, list[str]]],
                        removed: dict[str, dict[str, Any]], lost_links: dict[str, set[str]],
                        weight: dict[str, float]) -> dict[str, str]:
    """A VM's plug removed whole is the VM's port gone: its evidence moves to the one vNIC that lost its
    link to it, for which it stands (see own_port). The plug: an OVS hybrid bridge together with its OVS
    port (a bridge deleted alone, its OVS port still there, stays a suspect of its own), or an SR-IOV VF
    that no longer carries the port's MAC."""
    holders: dict[str, str] = {}
    for key, doc in removed.items():
        if doc.get("type") not in ("vconnector", "vf") or key not in evidence:
            continue
        vnics = [s for s, targets in lost_links.items()
                 if key in targets and datapath.nodes.get(s, {}).get("type") == "vnic"]
        port_gone = doc.get("type") == "vf" or any(removed.get(t, {}).get("type") == "vedge_port"
                                                   for t in lost_links.get(key, ()))
        if len(vnics) != 1 or not port_gone:
            continue
        for kind, items in evidence.pop(key).items():
            evidence[vnics[0]][kind].extend(f"{item} (its {doc.get('type')} {doc.get('name') or key})"
                                            for item in items)
        weight[vnics[0]] = max(weight.get(vnics[0], 0.0), weight.pop(key, 0.0))
        holders[key] = vnics[0]
    return holders


def _fold_into_removed_parents(evidence: dict[str, dict[str, list[str]]], removed: dict[str, dict[str, Any]],
                               weight: dict[str, float]) -> dict[str, str]:
    """A removed object whose parent was removed too is explained by its parent (a namespace took
    its interfaces with it): its evidence (and its recency) moves to the parent. An OVS port removed with
    the namespace device it was (a qdhcp tap, a qr- port) goes with that device first. Returns where each
    moved object's evidence went, one step each (a port -> its device -> its namespace): rca() follows the
    chains to their last holder."""
    holders: dict[str, str] = {}
    for key, doc in list(removed.items()):
        if doc.get("type") != "vedge_port" or key not in evidence:
            continue
        device = next((k for k, d in removed.items() if d.get("type") == "vnic" and d.get("host") == doc.get("host")
                       and d.get("name") == doc.get("name")), None)
        if device is not None:
            for kind, items in evidence.pop(key).items():
                evidence[device][kind].extend(f"{item} (with {key})" for item in items)
            weight[device] = max(weight.get(device, 0.0), weight.pop(key, 0.0))
            holders[key] = device
    for key, doc in list(removed.items()):
        ancestors = [a for a in doc.get("id_path") or [] if a != key and a in removed]
        if ancestors and key in evidence:
            parent = ancestors[-1]
            for kind, items in evidence.pop(key).items():
                evidence[parent][kind].extend(f"{item} (with {key})" for item in items)
            weight[parent] = max(weight.get(parent, 0.0), weight.pop(key, 0.0))
            holders[key] = parent
    return holders
