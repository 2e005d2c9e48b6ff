"""Impact: what loses connectivity (down) and what loses only redundancy (degraded) if some objects go
down, grouped by project, network and host; and what-if: which VMs' paths break if objects go away.

Both remove the targets and everything they contain (a host takes its VMs and NICs with it, a
project its networks, a switch port the NICs wired to it) from the datapath of the hosts concerned
and walk each vNIC's way out again (queries/datapath.py). A VM or network service is down when one
of its vNICs has no way out left, degraded when a way out or a live bond member was lost but one
remains. Objects that had no way out before are reported as already down, not blamed on the targets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import neo4j

from graphmodel.schema import uid
from queries.datapath import (
    AnalysisError,
    Datapath,
    Removal,
    VnicOutcome,
    load_datapath,
    names_of,
    removal_outcomes,
    resolve_objects,
    routes_out,
)
from queries.loader import run_query
from queries.results import Tabular

#: Objects whose removal changes no datapath (and targets that make no sense to remove).
NOT_REMOVABLE = ("folder",)
SEVERITY = {"down": 0, "degraded": 1}


@dataclass
class Affected:
    """A VM (or network service) that a removal cuts off or leaves without redundancy."""

    id: str
    type: str  # instance | vservice
    name: str | None
    host: str | None
    state: str  # down | degraded
    project_id: str | None = None
    project: str | None = None
    networks: list[str] = field(default_factory=list)  # names (ids where a name is unknown)
    cause: list[str] = field(default_factory=list)  # the targets that cut it (with the objects they took along)


@dataclass
class ImpactResult(Tabular):
    """The impact of some objects going down."""

    environment: str
    targets: list[dict[str, Any]]
    affected: list[Affected] = field(default_factory=list)
    already_down: list[str] = field(default_factory=list)
    removed: int = 0  # objects gone with the targets

    def rows(self) -> list[dict[str, Any]]:
        return [{"vm": a.id, "name": a.name, "type": a.type, "impact": a.state, "host": a.host,
                 "project": a.project or a.project_id, "networks": ", ".join(a.networks),
                 "cause": ", ".join(a.cause)} for a in self.affected]

    def ids(self, state: str, kind: str = "instance") -> list[str]:
        """The ids of the affected objects of one kind in one state (e.g. the VMs that are down)."""
        return sorted(a.id for a in self.affected if a.state == state and a.type == kind)

    @property
    def by_project(self) -> dict[str, dict[str, int]]:
        return _grouped(self.affected, lambda a: [a.project or a.project_id or "(none)"])

    @property
    def by_network(self) -> dict[str, dict[str, int]]:
        return _grouped(self.affected, lambda a: a.networks or ["(none)"])

    @property
    def by_host(self) -> dict[str, dict[str, int]]:
        return _grouped(self.affected, lambda a: [a.host or "(none)"])

    @property
    def summary(self) -> list[str]:
        vms = [a for a in self.affected if a.type == "instance"]
        lines = [f"VMs down: {sum(a.state == 'down' for a in vms)}, degraded: {sum(a.state == 'degraded' for a in vms)}",
                 f"network services down: {sum(a.state == 'down' for a in self.affected if a.type == 'vservice')}"]
        for label, groups in (("project", self.by_project), ("network", self.by_network), ("host", self.by_host)):
            for name, counts in sorted(groups.items()):
                lines.append(f"{label} {name}: {counts['down']} down, {counts['degraded']} degraded")
        if self.already_down:
            lines.append(f"already without a way out before (not counted): {', '.join(self.already_down)}")
        return lines

    @property
    def title(self) -> str:
        return "Impact of " + ", ".join(t["id"] for t in self.targets)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "by_project": self.by_project, "by_network": self.by_network,
                "by_host": self.by_host}

    def graph(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        nodes = [{"id": t["id"], "type": t["type"], "name": t.get("name"), "status": "removed"}
                 for t in self.targets]
        seen = {n["id"] for n in nodes}
        links = []
        for a in self.affected:
            if a.id not in seen:
                nodes.append({"id": a.id, "type": a.type, "name": a.name, "impact": a.state})
                seen.add(a.id)
            for cause in a.cause:
                if cause not in seen:
                    nodes.append({"id": cause, "status": "removed"})
                    seen.add(cause)
                links.append({"source": a.id, "target": cause})
        return nodes, links


def _grouped(affected: Sequence[Affected], keys: Any) -> dict[str, dict[str, int]]:
    groups: dict[str, dict[str, int]] = defaultdict(lambda: {"down": 0, "degraded": 0})
    for a in affected:
        for key in keys(a):
            groups[key][a.state] += 1
    return dict(groups)


@dataclass
class Scope:
    """What a removal touches: the targets as resolved, what goes with them, and the hosts concerned."""

    targets: list[dict[str, Any]]
    removal: Removal
    hosts: set[str]
    removed: int


def removal_scope(driver: neo4j.Driver, environment: str, references: Sequence[str]) -> Scope:
    """Resolve the targets (ids or unique names) and everything that goes away with them."""
    targets = resolve_objects(driver, environment, references)
    bad = [t["id"] for t in targets if t["type"] in NOT_REMOVABLE]
    if bad:
        raise AnalysisError(f"{', '.join(bad)}: a folder only groups objects; name the objects themselves")
    rows = run_query(driver, "removal_scope", uids=[uid(environment, t["id"]) for t in targets])
    removal = Removal()
    hosts: set[str] = set()
    removed = 0
    for row in rows:
        for gone in row["gone"]:
            removed += 1
            removal.origin.setdefault(gone["id"], row["id"])
            if gone["type"] == "network":
                removal.networks.add(gone["id"])
            else:
                removal.objects.add(gone["id"])
            if gone.get("host"):
                hosts.add(gone["host"])
        hosts.update(row["carrier_hosts"])
        if row.get("host"):
            hosts.add(row["host"])
    return Scope(targets, removal, hosts, removed)


def _outcomes(driver: neo4j.Driver, environment: str, scope: Scope) -> tuple[Datapath, list[VnicOutcome]]:
    datapath = load_datapath(driver, environment, scope.hosts)
    vnics = sorted(v for v, n in datapath.nodes.items() if n["type"] == "vnic" and datapath.owner_of(v))
    return datapath, removal_outcomes(datapath, scope.removal, vnics)


def impact(driver: neo4j.Driver, environment: str, targets: Sequence[str]) -> ImpactResult:
    """What loses connectivity or redundancy if `targets` (object ids or unique names) go down."""
    scope = removal_scope(driver, environment, targets)
    datapath, outcomes = _outcomes(driver, environment, scope)
    per_owner: dict[str, list[VnicOutcome]] = defaultdict(list)
    for outcome in outcomes:
        per_owner[str(outcome.owner)].append(outcome)
    labels = names_of(driver, environment, {str(n["project_id"]) for n in datapath.nodes.values() if n.get("project_id")}
                      | {o.network for o in outcomes if o.network})
    affected, already_down = [], []
    for owner, vnic_outcomes in sorted(per_owner.items()):
        states = {o.state for o in vnic_outcomes}
        if states == {"already_down"}:
            already_down.append(owner)
            continue
        state = "down" if "down" in states else "degraded" if "degraded" in states else None
        if state is None:
            continue
        node = datapath.nodes[owner]
        hit = [o for o in vnic_outcomes if o.state == state]
        affected.append(Affected(
            owner, node["type"], node.get("name"), node.get("host"), state, node.get("project_id"),
            (labels.get(node.get("project_id") or "") or {}).get("name"),
            sorted({(labels.get(o.network or "") or {}).get("name") or str(o.network) for o in hit}),
            scope.removal.targets_of(c for o in hit for c in o.cause)))
    affected.sort(key=lambda a: (SEVERITY[a.state], a.type != "instance", a.host or "", a.name or "", a.id))
    return ImpactResult(environment, scope.targets, affected, sorted(already_down), scope.removed)


# -- what-if -------------------------------------------------------------------------------------------------

@dataclass
class BrokenPath:
    """One vNIC's way out that a removal breaks or weakens."""

    vm: str
    type: str  # instance | vservice
    name: str | None
    host: str | None
    vnic: str
    network: str | None
    state: str  # down | degraded
    removed_on_path: list[str]
    path: list[str]  # the way out before the removal
    ways_out_before: int
    ways_out_after: int


@dataclass
class WhatIfResult(Tabular):
    """Which VMs' paths break (or lose redundancy) if some objects are removed."""

    environment: str
    removed: list[dict[str, Any]]
    paths: list[BrokenPath] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        return [{"vm": p.vm, "type": p.type, "name": p.name, "host": p.host, "vnic": p.vnic, "network": p.network,
                 "breaks": p.state, "removed_on_path": ", ".join(p.removed_on_path), "path": " > ".join(p.path)}
                for p in self.paths]

    def vms(self, state: str = "down", kind: str = "instance") -> list[str]:
        """The VMs (or, with kind="vservice", network services) whose paths break (or weaken)."""
        return sorted({p.vm for p in self.paths if p.state == state and p.type == kind})

    @property
    def summary(self) -> list[str]:
        return [f"paths broken: {sum(p.state == 'down' for p in self.paths)} "
                f"({len(self.vms('down'))} VMs, {len(self.vms('down', 'vservice'))} network services)",
                f"paths left without redundancy: {sum(p.state == 'degraded' for p in self.paths)}"]

    @property
    def title(self) -> str:
        return "What if " + ", ".join(r["id"] for r in self.removed) + " went away"

    def graph(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The broken ways out, hop by hop, the removed hops marked."""
        gone = {hop for p in self.paths for hop in p.removed_on_path}
        nodes: dict[str, dict[str, Any]] = {}
        links = []
        for p in self.paths:
            for hop in p.path:
                nodes.setdefault(hop, {"id": hop, "status": "removed" if hop in gone else None,
                                       **({"type": p.type, "name": p.name, "impact": p.state} if hop == p.vm else {})})
            links += [{"source": a, "target": b} for a, b in zip(p.path, p.path[1:])]
        return list(nodes.values()), links


def whatif(driver: neo4j.Driver, environment: str, remove: Sequence[str]) -> WhatIfResult:
    """The VMs' (and network services') ways out that removing `remove` would break or weaken."""
    scope = removal_scope(driver, environment, remove)
    datapath, outcomes = _outcomes(driver, environment, scope)
    paths = []
    for outcome in outcomes:
        if outcome.state not in ("down", "degraded"):
            continue
        owner = datapath.nodes.get(outcome.owner or "", {})
        before = routes_out(datapath, outcome.vnic)
        paths.append(BrokenPath(str(outcome.owner), owner.get("type", "instance"), owner.get("name"), owner.get("host"),
                                outcome.vnic,
                                outcome.network, outcome.state, outcome.cause,
                                [str(outcome.owner), *before[0].hops] if before else [],
                                outcome.routes_before, outcome.routes_after))
    paths.sort(key=lambda p: (SEVERITY[p.state], p.host or "", p.vm, p.vnic))
    return WhatIfResult(environment, scope.targets, paths)
