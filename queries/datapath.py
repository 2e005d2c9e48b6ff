"""The datapath of VMs on their hosts, and what removing objects does to it: the engine behind
impact, what-if, root cause and path.

A VM's traffic leaves its host along the links of DESIGN §3 taken "upwards": vNIC -> bridge ->
switch -> tunnel endpoint -> physical NIC (each mechanism skips some of them). It has left the host
when it reaches a NIC that carries the vNIC's network (a HOST_PNIC_NETWORK link). Everything on a
VM's way out sits on the VM's own host, so the engine loads the datapath of the hosts concerned
(one query) and walks it in Python: cheap, and the same walk answers every question.

A bond is a NIC whose members are NICs too (`bond_members`, and `master` on each member): it forwards
while one member is live, so losing a member while another lives costs redundancy, not connectivity.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import neo4j

from core.errors import CalipsoError
from graphmodel.schema import LINK_TYPES_BY_NAME, uid
from queries.loader import run_query

Row = dict[str, Any]

#: The links on a VM's way out, and which way "out" is: forward follows source -> target.
UPLINK_LINKS: dict[str, str] = {
    "instance-vnic": "forward",
    "vservice-vnic": "forward",
    "vnic-vconnector": "forward",
    "vnic-vedge": "forward",
    "vconnector-vedge": "forward",
    "vconnector-host_pnic": "forward",
    "vedge-host_pnic": "forward",
    "vedge-otep": "forward",
    "otep-vconnector": "reverse",  # Linux bridge: the bridge's VXLAN device sends through the endpoint
    "otep-host_pnic": "forward",
    # Every hop an object: a VM's port on Open vSwitch, and what the switch sends out through (patch and tunnel
    # ports, a provider bridge's NIC); a Linux bridge's VXLAN device or VLAN sub-interface.
    "vnic-vedge_port": "forward",
    "vconnector-vedge_port": "forward",
    "vedge_port-vedge": "forward",
    "vedge-vedge_port": "forward",
    "vedge_port-vedge_port": "forward",
    "vedge_port-otep": "forward",
    "vedge_port-host_pnic": "forward",
    "vconnector-vconnector_member": "forward",
    "vconnector_member-otep": "forward",
    "vconnector_member-vedge_port": "forward",
    "vconnector_member-host_pnic": "forward",
    # SR-IOV: the VM's port is a VF of the NIC, and leaves by the NIC's port.
    "vnic-vf": "forward",
    "vf-host_pnic": "forward",
}
#: Object types that detail a summary link (a vnic-vedge is a tap that is an OVS port; an otep-vconnector is a
#: VXLAN device in the bridge): where one stands between the two ends of such a link, the walk goes through it.
DETAIL_TYPES = ("vedge_port", "vconnector_member", "vf")
SUMMARIES = {LINK_TYPES_BY_NAME[name].relationship
             for name in ("vnic-vedge", "vconnector-vedge", "otep-vconnector", "vconnector-host_pnic",
                          "vconnector-vedge_port")}
CARRIES = LINK_TYPES_BY_NAME["host_pnic-network"].relationship
RELATIONSHIPS = {LINK_TYPES_BY_NAME[name].relationship: direction for name, direction in UPLINK_LINKS.items()}
OWNERSHIP = {LINK_TYPES_BY_NAME[name].relationship for name in ("instance-vnic", "vservice-vnic")}
DATAPATH_TYPES = ("instance", "vservice", "vnic", "vconnector", "vedge", "otep", "host_pnic", "network_agent",
                  "vedge_port", "vconnector_member", "vf")
#: Monitoring statuses that mean an object or link is failing.
FAILING_STATUSES = {"error": 5, "critical": 5, "down": 5, "warning": 3}


class AnalysisError(CalipsoError):
    """An analysis cannot run: an unknown or ambiguous object, objects of the wrong kind."""


@dataclass(frozen=True)
class Edge:
    """One datapath link, oriented on the way out (`source` is nearer the VM)."""

    source: str
    target: str
    relationship: str
    state: str | None = None
    status: str | None = None
    network: str | None = None
    vlan_tag: int | None = None

    @property
    def down(self) -> bool:
        return self.state == "down" or (self.status or "").lower() in FAILING_STATUSES


@dataclass
class Datapath:
    """The datapath of some hosts: nodes by id, edges oriented outwards, and the networks each NIC carries."""

    nodes: dict[str, Row] = field(default_factory=dict)
    out: dict[str, list[Edge]] = field(default_factory=dict)
    carries: dict[str, dict[str, Edge]] = field(default_factory=dict)  # NIC id -> network id -> link
    networks: dict[str, Row] = field(default_factory=dict)  # network id -> {name, network_type, mtu}
    owners: dict[str, str] = field(default_factory=dict)  # vNIC id -> its instance or network service
    # a bridge that is one vNIC's plug into a switch (OVS's hybrid qbr) -> that vNIC: see _index_plugs
    plugs: dict[str, str] = field(default_factory=dict)

    def vnics_of(self, owner: str) -> list[str]:
        return [e.target for e in self.out.get(owner, []) if self.nodes.get(e.target, {}).get("type") == "vnic"]

    def bond_members(self, nic: str) -> list[str]:
        node = self.nodes.get(nic, {})
        host = node.get("host")
        return [f"{host}/{member}" for member in node.get("bond_members") or []]

    def owner_of(self, vnic: str) -> str | None:
        """The instance or network service a vNIC belongs to."""
        return self.owners.get(vnic)


def build_datapath(rows: Iterable[Mapping[str, Any]]) -> Datapath:
    """A Datapath from the rows of `datapath_of_hosts.cypher` (pure)."""
    datapath = Datapath()
    for row in rows:
        node = dict(row["node"])
        datapath.nodes[node["id"]] = node
        for link in row["links"] or []:
            relationship = link["relationship"]
            if relationship == CARRIES:
                datapath.carries.setdefault(link["source"], {})[link["target"]] = Edge(
                    link["source"], link["target"], relationship, link.get("state"), link.get("status"))
                datapath.networks[link["target"]] = {"name": link.get("target_name"),
                                                     "network_type": link.get("target_network_type"),
                                                     "mtu": link.get("target_mtu")}
                continue
            direction = RELATIONSHIPS.get(relationship)
            if direction is None:
                continue
            source, target = (link["source"], link["target"]) if direction == "forward" else \
                (link["target"], link["source"])
            if relationship in OWNERSHIP:
                datapath.owners[link["target"]] = link["source"]
            datapath.out.setdefault(source, []).append(Edge(source, target, relationship, link.get("state"),
                                                            link.get("status"), link.get("network"),
                                                            link.get("vlan_tag")))
    _walk_through_details(datapath)
    _index_plugs(datapath)
    return datapath


def _walk_through_details(datapath: Datapath) -> None:
    """Drop a summary edge A -> B (SUMMARIES) where an OVS port or a bridge member stands between A and B
    (A -> port -> B), or where an SR-IOV VF leads where B does (vNIC -> VF -> PF beside vNIC -> NIC switch ->
    PF): the walk then passes the port or VF, so that a path names it, removing it cuts the way, and RCA can
    blame it. The switch's own edges out (to its tunnel endpoint, to a provider NIC) stay the way out: a tunnel
    port or a provider bridge's port beside them is reached, not required."""
    for source, edges in datapath.out.items():
        via = {e.target for e in edges if datapath.nodes.get(e.target, {}).get("type") in DETAIL_TYPES}
        if not via:
            continue
        detailed = {e.target for hop in via for e in datapath.out.get(hop, [])}
        # A summary edge to a detail itself (qbr -> qvo) stays unless another detail leads there (qbr -> qvb -> qvo).
        datapath.out[source] = [e for e in edges if e.relationship not in SUMMARIES or not (
            e.target in detailed or e.target not in via
            and detailed & {after.target for after in datapath.out.get(e.target, [])})]


def _index_plugs(datapath: Datapath) -> None:
    """Fill `datapath.plugs`: each Linux bridge that connects a single vNIC and plugs into a switch (OVS's
    hybrid qbr), with that vNIC, which RCA blames for it (rca.own_port). Built once here, on the final
    edges, so that asking it per suspect does not scan every edge of the datapath."""
    vnics_into: dict[str, list[str]] = {}
    for source, edges in datapath.out.items():
        if datapath.nodes.get(source, {}).get("type") != "vnic":
            continue
        for target in dict.fromkeys(e.target for e in edges):  # each vNIC once per bridge, in edge order
            if datapath.nodes.get(target, {}).get("type") == "vconnector":
                vnics_into.setdefault(target, []).append(source)
    for bridge, vnics in vnics_into.items():
        if len(vnics) == 1 and _plugs_into_switch(datapath, bridge):
            datapath.plugs[bridge] = vnics[0]


def _plugs_into_switch(datapath: Datapath, bridge: str) -> bool:
    """Whether a Linux bridge leaves through an OVS port, itself or through a member (the qvb-qvo cable)."""
    def to_switch(node: str) -> bool:
        return any(datapath.nodes.get(e.target, {}).get("type") == "vedge_port" for e in datapath.out.get(node, []))
    members = [e.target for e in datapath.out.get(bridge, [])
               if datapath.nodes.get(e.target, {}).get("type") == "vconnector_member"]
    return to_switch(bridge) or any(to_switch(m) for m in members)


def load_datapath(driver: neo4j.Driver, environment: str, hosts: Iterable[str]) -> Datapath:
    """The datapath of these hosts, read from the graph in one query."""
    names = sorted({h for h in hosts if h})
    if not names:
        return Datapath()
    rows = run_query(driver, "datapath_of_hosts", env=environment, hosts=names, types=["host", *DATAPATH_TYPES],
                     relationships=[*RELATIONSHIPS, CARRIES])
    return build_datapath(rows)


# -- the walk (pure) -------------------------------------------------------------------------------------

@dataclass
class Removal:
    """What is gone: objects (with what they contain), and networks; plus bond members that are gone
    while their bond lives on."""

    objects: set[str] = field(default_factory=set)
    networks: set[str] = field(default_factory=set)
    origin: dict[str, str] = field(default_factory=dict)  # removed object or network -> the target it went with

    def targets_of(self, removed: Iterable[str]) -> list[str]:
        """The targets that took these objects with them."""
        return sorted({self.origin.get(r, r) for r in removed})


def node_failing(node: Mapping[str, Any]) -> str | None:
    """Why an object is failing by its own state, or None: a NIC without carrier, a dead agent, a
    failing monitoring status, a VM in error."""
    if node.get("type") == "host_pnic" and node.get("link_detected") is False:
        return "no carrier (link not detected)"
    if node.get("type") == "network_agent" and node.get("alive") is False:
        return "agent not alive"
    if node.get("type") == "instance" and node.get("vm_state") == "error":
        return "VM in error state"
    if node.get("type") == "vedge_port":
        if node.get("error"):
            return f"OVS interface error: {node['error']}"
        # A NIC's port follows the NIC's carrier: the NIC is what fails. (A bridge's own internal port is down
        # too, but on no VM's path.)
        if node.get("link_state") == "down" and not node.get("pnic"):
            return "OVS port link down" + (" (administratively down)" if node.get("admin_state") == "down" else "")
    if node.get("type") == "vf" and node.get("link_state") == "disable":
        return "VF link forced down (link-state disable)"
    if node.get("type") == "vconnector" and node.get("admin_state") == "down":
        return "Linux bridge administratively down"  # its members keep their carrier; it forwards nothing
    if node.get("type") == "vconnector_member" and node.get("link_state") == "down":
        return "bridge member down"  # lowerlayerdown: the device under it is what fails
    status = (node.get("status") or "").lower()
    if status in FAILING_STATUSES:
        return f"status {status}" + (f": {node['status_text']}" if node.get("status_text") else "")
    return None


def live_members(datapath: Datapath, nic: str, removal: Removal) -> tuple[list[str], list[str]]:
    """A bond's members that are live now, and those that are live and not removed."""
    members = datapath.bond_members(nic)
    live = [m for m in members if m in datapath.nodes and datapath.nodes[m].get("link_detected") is not False]
    return live, [m for m in live if m not in removal.objects]


def usable(datapath: Datapath, node_id: str, removal: Removal, respect_state: bool) -> bool:
    """Whether traffic can pass through an object: present, not removed, and (with respect_state)
    not failing; a bond passes while one member is live and not removed."""
    if node_id in removal.objects or node_id not in datapath.nodes:
        return False
    node = datapath.nodes[node_id]
    members = [m for m in datapath.bond_members(node_id) if m in datapath.nodes]
    if members:
        if respect_state:
            return bool(live_members(datapath, node_id, removal)[1])
        return any(m not in removal.objects for m in members)
    return not respect_state or node_failing(node) is None


@dataclass
class Route:
    """The way out of one vNIC: its hops from the vNIC to a NIC carrying its network."""

    vnic: str
    network: str | None
    hops: list[str]
    edges: list[Edge]


def routes_out(datapath: Datapath, vnic: str, removal: Removal | None = None,
               respect_state: bool = True) -> list[Route]:
    """The shortest way out of a vNIC through each NIC that carries its network (one route per NIC),
    avoiding removed objects and links (and, with respect_state, failing ones). Links of other
    networks are not followed."""
    removal = removal or Removal()
    network = datapath.nodes.get(vnic, {}).get("network_id")
    if network in removal.networks or not usable(datapath, vnic, removal, respect_state):
        return []
    previous: dict[str, Edge | None] = {vnic: None}
    queue = deque([vnic])
    routes = []
    while queue:
        here = queue.popleft()
        carried = datapath.carries.get(here, {}).get(network) if network else None
        if here != vnic and carried is not None and (not respect_state or not carried.down):
            routes.append(_route(vnic, network, here, previous))
            continue
        for edge in datapath.out.get(here, []):
            if edge.target in previous or (edge.network and network and edge.network != network):
                continue
            if respect_state and edge.down:
                continue
            if not usable(datapath, edge.target, removal, respect_state):
                continue
            previous[edge.target] = edge
            queue.append(edge.target)
    return routes


def reach(datapath: Datapath, vnic: str) -> dict[str, int]:
    """Every object a vNIC's traffic could pass on its way out, whatever its state, with its distance
    in hops from the vNIC (the structure, not the health: for root cause)."""
    network = datapath.nodes.get(vnic, {}).get("network_id")
    depth = {vnic: 0}
    queue = deque([vnic])
    while queue:
        here = queue.popleft()
        if here != vnic and network in datapath.carries.get(here, {}):
            continue
        for edge in datapath.out.get(here, []):
            if edge.target in depth or (edge.network and network and edge.network != network):
                continue
            depth[edge.target] = depth[here] + 1
            queue.append(edge.target)
    return depth


def _route(vnic: str, network: str | None, end: str, previous: Mapping[str, Edge | None]) -> Route:
    hops, edges = [end], []
    edge = previous[end]
    while edge is not None:
        edges.append(edge)
        hops.append(edge.source)
        edge = previous[edge.source]
    return Route(vnic, network, list(reversed(hops)), list(reversed(edges)))


# -- a removal's effect on each vNIC (pure) --------------------------------------------------------------

@dataclass
class VnicOutcome:
    """What a removal does to one vNIC's way out."""

    vnic: str
    owner: str | None
    network: str | None
    state: str  # down | degraded | already_down | unaffected
    cause: list[str]  # the removed objects on its way out (or the removed owner/network)
    routes_before: int
    routes_after: int


def removal_outcomes(datapath: Datapath, removal: Removal, vnics: Sequence[str]) -> list[VnicOutcome]:
    """For each vNIC: down (no way out left, or its VM, itself or its network removed), degraded (a
    way out, or a live member of a bond on its way, lost while one remains), already_down (no way out
    even before), or unaffected."""
    outcomes = []
    for vnic in vnics:
        owner = datapath.owner_of(vnic)
        network = datapath.nodes.get(vnic, {}).get("network_id")
        before = routes_out(datapath, vnic)
        after = routes_out(datapath, vnic, removal) if before else []
        structure = {hop for route in routes_out(datapath, vnic, respect_state=False) for hop in route.hops}
        bonds = {hop for route in before for hop in route.hops if datapath.nodes[hop].get("bond_members")}
        lost_members = sorted(m for bond in bonds for m in live_members(datapath, bond, Removal())[0]
                              if m in removal.objects)
        cause = sorted(hop for hop in structure | {owner} if hop in removal.objects) + lost_members
        if network in removal.networks:
            cause.append(network)
        removed_itself = vnic in removal.objects or owner in removal.objects or network in removal.networks
        if not before:
            state = "already_down"
        elif removed_itself or not after:
            state = "down"
        elif len(after) < len(before) or lost_members:
            state = "degraded"
        else:
            state = "unaffected"
        outcomes.append(VnicOutcome(vnic, owner, network, state, cause, len(before), len(after)))
    return outcomes


# -- resolving what a user named ---------------------------------------------------------------------------

def resolve_objects(driver: neo4j.Driver, environment: str, references: Sequence[str],
                    types: Sequence[str] | None = None) -> list[Row]:
    """The objects a user named, by id or by a unique name (of one of `types` when given); an
    AnalysisError names every reference that is unknown or ambiguous."""
    if not references:
        raise AnalysisError("name at least one object")
    rows = run_query(driver, "objects_by_reference", env=environment, refs=list(references))
    found, problems = [], []
    for row in rows:
        exact = row["exact"]
        named = [n for n in row["named"] if not types or n["type"] in types]
        if exact is not None and (not types or exact["type"] in types):
            found.append(exact)
        elif len(named) == 1:
            found.append(named[0])
        elif named:
            problems.append(f"{row['ref']!r} names {len(named)} objects ("
                            + ", ".join(f"{n['type']} {n['id']}" for n in named[:5]) + "); give the id")
        elif exact is not None:
            problems.append(f"{row['ref']!r} is a {exact['type']}, expected {' or '.join(types or [])}")
        else:
            problems.append(f"no object {row['ref']!r} in environment {environment!r}"
                            + (f" (of type {' or '.join(types)})" if types else ""))
    if problems:
        raise AnalysisError("; ".join(problems))
    return found


def names_of(driver: neo4j.Driver, environment: str, ids: Iterable[str]) -> dict[str, Row]:
    """Name, type (and a network's type and MTU) of some objects, by id."""
    uids = sorted({uid(environment, i) for i in ids if i})
    if not uids:
        return {}
    return {row["id"]: row for row in run_query(driver, "object_names", uids=uids)}
