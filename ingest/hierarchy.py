"""The scan hierarchy, declared once: which object types are fetched under which parent, from which
source, by which function, for which variant; which link finder makes each link type, from what
evidence; which host commands are run, where.

The scanner is driven by these tuples, not merely described by them:

- `read_openstack` reads the API resources the OpenStack declarations name (fetch.API_RESOURCES order);
- `openstack_documents` runs the OpenStack producers in declaration order;
- `fetch_host` runs the host collectors (HOST_COLLECTORS order) on every host;
- `host_documents` runs, for one host, the producers of the host declarations in declaration order,
  then the link finders that run after them ("after"), each only where its condition matches the
  host's variant (its mechanism: the L2 agent Neutron lists on it; its type driver: the tunnel type
  of the agent's tunneling IP); and a vNIC is followed by the path finder VNIC_PATHS declares for
  the host's mechanism.

To add an object type: declare it in graphmodel/schema.py, write its producer (a pure function of
RawOpenStack, or a HostBuilder method) and, if it needs data nobody reads yet, its fetcher (an
entry of fetch.API_RESOURCES, or a collector here), then add one ObjectDeclaration below.
tests/unit/ingest/test_hierarchy.py checks the declarations against the schema.

`python -m ingest.hierarchy` prints the tree.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from graphmodel.schema import ENVIRONMENT, OBJECT_TYPES_BY_NAME
from graphmodel.tree import folder_document
from ingest.sources.host import fetch as host_fetch
from ingest.sources.host.facts import HostFacts
from ingest.sources.host.transform import HostBuilder, HostResult, OpenStackIndex, VnicPath
from ingest.sources.openstack import transform as api
from ingest.sources.openstack.fetch import API_RESOURCES, API_RESOURCES_BY_NAME, RawOpenStack, fetch_openstack
from ingest.transport import Transport

Document = dict[str, Any]

MECHANISMS = ("ovs", "lxb", "vpp", "sriov")
OVERLAYS = ("vxlan", "gre", "geneve")


# -- the declarations' vocabulary ---------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    """What a condition is evaluated against. For one host: the mechanism of its L2 agent, and the tunnel
    type of the agent's tunneling IP (None on a host without one: VLAN and flat)."""

    mechanism: str | None = None
    type_driver: str | None = None
    distribution: str | None = None


@dataclass(frozen=True)
class When:
    """A variant condition: each non-empty field must contain the variant's value; empty fields match
    anything ("ANY")."""

    mechanisms: tuple[str, ...] = ()
    type_drivers: tuple[str, ...] = ()
    distributions: tuple[str, ...] = ()

    def matches(self, variant: Variant) -> bool:
        return all(not wanted or value in wanted for wanted, value in (
            (self.mechanisms, variant.mechanism), (self.type_drivers, variant.type_driver),
            (self.distributions, variant.distribution)))

    def __str__(self) -> str:
        parts = [f"{label} {'|'.join(values)}" for label, values in (
            ("mechanism", self.mechanisms), ("type driver", self.type_drivers),
            ("distribution", self.distributions)) if values]
        return ", ".join(parts) or "ANY"


ANY = When()
#: Where an L2 agent runs (a vedge needs one).
L2_AGENT = When(mechanisms=MECHANISMS)
#: Where the agent tunnels (an OTEP needs one).
TUNNELS = When(type_drivers=OVERLAYS)


@dataclass(frozen=True)
class OpenStackSource:
    """The API resources (names of fetch.API_RESOURCES) an object type is built from."""

    resources: tuple[str, ...]

    def __str__(self) -> str:
        return "OpenStack " + ", ".join(f"{API_RESOURCES_BY_NAME[r].service} GET {API_RESOURCES_BY_NAME[r].path}"
                                        for r in self.resources)


@dataclass(frozen=True)
class HostSource:
    """The host collectors (names in HOST_COLLECTORS) whose facts an object type is built from, plus the
    OpenStack view every host transform reads (ports, networks, instances, agents)."""

    collectors: tuple[str, ...]

    def __str__(self) -> str:
        return "host " + ", ".join(self.collectors)


@dataclass(frozen=True)
class WithChildren:
    """Made by the producer of its children, when it meets the first one (folders)."""

    def __str__(self) -> str:
        return "with its first child"


@dataclass(frozen=True)
class Kind:
    """One variant-specific form of an object type (e.g. the vconnector of OVS hybrid plugging)."""

    name: str
    when: When
    evidence: str


@dataclass(frozen=True)
class ObjectDeclaration:
    """One object type the scanner produces: under which parent type(s) (and the schema's folder), from
    which source, by which producer(s), where.

    `produce`: OpenStack producers take a RawOpenStack and return documents; host producers are HostBuilder
    methods. Empty when the type is made along the way by a link finder (`made_by`), e.g. a vconnector by the
    finder that follows a vNIC into its bridge."""

    type: str
    parents: tuple[str, ...]
    source: OpenStackSource | HostSource | WithChildren
    produce: tuple[Callable[..., Any], ...] = ()
    when: When = ANY
    made_by: tuple[Callable[..., Any], ...] = ()
    kinds: tuple[Kind, ...] = ()

    @property
    def folder(self) -> str | None:
        return OBJECT_TYPES_BY_NAME[self.type].folder if self.type in OBJECT_TYPES_BY_NAME else None


@dataclass(frozen=True)
class LinkFinder:
    """A link type, the function that finds it, the evidence it records as provenance, and where.

    `runs`: "along" when the finder is called by the producer or vNIC path that meets the objects;
    "after" when the scanner runs it itself once the host's objects exist."""

    link_type: str
    finder: Callable[..., Any]
    evidence: str
    when: When = ANY
    runs: str = "along"


@dataclass(frozen=True)
class HostCollector:
    """A group of host commands and the collector that runs and parses them into HostFacts.

    Which commands run on a host is decided by the host's own answers (`runs_where`: a tool that is missing
    exits 127 and means "not here"), so a host is read right whatever the environment claims; `when` states
    which variants' hosts have the tool."""

    name: str
    commands: tuple[str, ...]
    collect: Callable[[Transport, str, HostFacts], None]
    runs_where: str = "every host"
    when: When = ANY


@dataclass(frozen=True)
class VnicPathFinder:
    """How a vNIC is followed to its vconnector or vedge on a host of one mechanism."""

    finder: VnicPath
    when: When
    evidence: str


# -- host commands ------------------------------------------------------------------------------------

HOST_COLLECTORS: tuple[HostCollector, ...] = (
    HostCollector("interfaces", ("ip -d -j link (text: ip -d link show)", "ip -j addr (text: ip address show)"),
                  host_fetch.collect_interfaces),
    HostCollector("nics", ("ls -l /sys/class/net", "ethtool <PCI NIC>", "cat /proc/net/bonding/<bond>"),
                  host_fetch.collect_nic_details),
    HostCollector("vxlan_fdb", ("bridge -j fdb show (text: bridge fdb show)",), host_fetch.collect_vxlan_remotes,
                  "where a VXLAN device exists", When(mechanisms=("lxb",), type_drivers=("vxlan",))),
    HostCollector("namespaces", ("ip netns list", "ip netns exec <ns> ip -d -j link / ip -j addr"),
                  host_fetch.collect_namespaces),
    HostCollector("ovs", ("ovs-vsctl --format=json --columns=<used> list Bridge|Port|Interface (text: ovs-vsctl show)",),
                  host_fetch.collect_ovs, "where ovs-vsctl answers", When(mechanisms=("ovs",))),
    HostCollector("datapath", ("ovs-dpctl show (else: ovs-appctl dpif/show)",), host_fetch.collect_datapath,
                  "where ovs-vsctl answered", When(mechanisms=("ovs",))),
    HostCollector("openflow", ("ovs-ofctl dump-flows <bridge> table=<N> (the agent tables the mapping reads)",),
                  host_fetch.collect_openflow,
                  "where ovs-vsctl answered", When(mechanisms=("ovs",))),
    HostCollector("libvirt", ("virsh list --all", "virsh dumpxml <domain>"), host_fetch.collect_domains,
                  "where virsh answers"),
    HostCollector("vpp", ("vppctl show int", "vppctl show mode", "vppctl show hardware-interfaces"),
                  host_fetch.collect_vpp, "where vppctl answers", When(mechanisms=("vpp",))),
)
HOST_COLLECTORS_BY_NAME = {c.name: c for c in HOST_COLLECTORS}


# -- object types -------------------------------------------------------------------------------------

B = HostBuilder

OBJECTS: tuple[ObjectDeclaration, ...] = (
    ObjectDeclaration("region", (ENVIRONMENT,), OpenStackSource(("regions",)), (api.regions,)),
    ObjectDeclaration("project", (ENVIRONMENT,), OpenStackSource(("projects",)), (api.projects,)),
    ObjectDeclaration("availability_zone", ("region",), OpenStackSource(("zones",)), (api.zones,)),
    ObjectDeclaration("aggregate", ("region",), OpenStackSource(("aggregates",)), (api.aggregates,)),
    ObjectDeclaration("host", ("availability_zone",), OpenStackSource(("zones", "hypervisors", "agents")),
                      (api.hosts,)),
    ObjectDeclaration("instance", ("host",), OpenStackSource(("servers",)), (api.instances,)),
    ObjectDeclaration("network", ("project",), OpenStackSource(("networks", "subnets")), (api.networks,)),
    ObjectDeclaration("router", ("project",), OpenStackSource(("routers",)), (api.routers,)),
    ObjectDeclaration("port", ("network",), OpenStackSource(("ports",)), (api.ports,)),
    ObjectDeclaration("network_agent", ("host",), OpenStackSource(("agents",)), (api.agents,)),
    ObjectDeclaration("host_pnic", ("host",), HostSource(("interfaces", "nics", "vpp")), (B.pnics,), kinds=(
        Kind("PCI NIC", ANY, "ls -l /sys/class/net (a PCI device), ethtool Link detected"),
        Kind("bond", ANY, "kind bond, /proc/net/bonding members"),
        Kind("VPP hardware interface", When(mechanisms=("vpp",)), "vppctl show hardware-interfaces"))),
    ObjectDeclaration("vedge", ("host",), HostSource(("ovs", "datapath", "openflow")), (B.vedge,), L2_AGENT, kinds=(
        Kind("Open vSwitch", When(mechanisms=("ovs",)), "Open vSwitch agent; OVSDB tunnel ports; datapath ports"),
        Kind("Linux bridge", When(mechanisms=("lxb",)), "Linux bridge agent"),
        Kind("VPP", When(mechanisms=("vpp",)), "VPP agent"),
        Kind("SR-IOV NIC switch", When(mechanisms=("sriov",)), "NIC Switch agent (device mappings)"))),
    ObjectDeclaration("otep", ("vedge",), HostSource(("interfaces", "vxlan_fdb", "ovs")), (B.otep,), TUNNELS,
                      kinds=(Kind("vxlan", When(type_drivers=("vxlan",)), "agent tunneling_ip; UDP port of the "
                                  "VXLAN devices; remotes from OVS tunnel ports or the FDB"),
                             Kind("gre", When(type_drivers=("gre",)), "agent tunneling_ip; OVS GRE ports"),
                             Kind("geneve", When(type_drivers=("geneve",)), "agent tunneling_ip"))),
    ObjectDeclaration("vedge_port", ("vedge",), HostSource(("ovs",)), (B.vedge_ports,), When(mechanisms=("ovs",)),
                      kinds=(Kind("VM port", ANY, "OVSDB Interface external_ids:iface-id (qvo, tap, internal)"),
                             Kind("patch", ANY, "Interface type patch, options:peer"),
                             Kind("tunnel", TUNNELS, "Interface type vxlan/gre/geneve, options:remote_ip"),
                             Kind("bridge's own and NIC ports", ANY, "internal port named as its bridge; a "
                                  "system port that is a host NIC"))),
    ObjectDeclaration("vconnector", ("host",), HostSource(("interfaces", "vpp")), (B.linux_bridges,),
                      made_by=(B.linux_bridge, B.bridge_domain), kinds=(
                          Kind("OVS hybrid qbr<port>", When(mechanisms=("ovs",)), "ip link: a bridge named qbr*"),
                          Kind("LXB brq<network>", When(mechanisms=("lxb",)), "ip link: a bridge named brq*"),
                          Kind("VPP bd-<bridge domain>", When(mechanisms=("vpp",)), "vppctl show mode"))),
    ObjectDeclaration("vconnector_member", ("vconnector",), HostSource(("interfaces",)), (),
                      When(mechanisms=("lxb", "ovs")), made_by=(B.member,), kinds=(
                          Kind("OVS hybrid qvb<port>", When(mechanisms=("ovs",)),
                               "ip -d link: veth in qbr<port> whose peer is an OVS port"),
                          Kind("VXLAN device", When(type_drivers=("vxlan",)), "ip -d link: vxlan id, local; master"),
                          Kind("VLAN sub-interface", ANY, "ip -d link: vlan id on its parent; master"))),
    ObjectDeclaration("vf", ("host_pnic",), HostSource(("interfaces",)), (B.vfs,), kinds=(
        Kind("SR-IOV VF in use", ANY, "ip -d link: the PF's `vf N MAC ..., vlan, spoof checking, link-state, "
             "trust` (JSON vfinfo_list); a VF with MAC 00:00:00:00:00:00 is free"),)),
    ObjectDeclaration("vnic", ("instance", "vservice"), HostSource(("libvirt", "namespaces", "interfaces")),
                      (B.instance_vnics, B.vservices), kinds=(
                          Kind("instance", ANY, "virsh dumpxml interface MAC of a domain Nova knows"),
                          Kind("vservice", ANY, "a device with a MAC in a qdhcp/qrouter namespace"))),
    ObjectDeclaration("vservice", ("host",), HostSource(("namespaces",)), (B.vservices,), kinds=(
        Kind("dhcp", ANY, "namespace qdhcp-<network>"), Kind("router", ANY, "namespace qrouter-<router>"))),
    ObjectDeclaration("folder", OBJECT_TYPES_BY_NAME["folder"].parents, WithChildren(),
                      made_by=(folder_document, HostBuilder.folder)),
)
OBJECTS_BY_TYPE = {d.type: d for d in OBJECTS}

#: Schema types the scanner does not produce, and why.
NOT_SCANNED: dict[str, str] = {
    "switch": "physical switches come from an optional Cisco ACI source, not built",
    "switch_pnic": "physical switches come from an optional Cisco ACI source, not built",
    "host_pnic-switch_pnic": "ACI: MAC match, not built",
    "switch_pnic-switch_pnic": "ACI: LLDP, not built",
    "switch-switch_pnic": "ACI, not built",
}


# -- links --------------------------------------------------------------------------------------------

LINK_FINDERS: tuple[LinkFinder, ...] = (
    LinkFinder("instance-vnic", B.instance_vnics, "libvirt domain <name> interface <MAC>; up while it runs"),
    LinkFinder("vservice-vnic", B.vservices, "<device> in namespace <ns>"),
    LinkFinder("vnic-vconnector", B.linux_bridge, "<tap> is a member of <bridge>; state: the tap's carrier",
               When(mechanisms=("ovs", "lxb"))),
    LinkFinder("vnic-vconnector", B.vpp_path, "VPP <interface> (MAC) is in bridge domain <id>; state: its admin "
               "state", When(mechanisms=("vpp",))),
    LinkFinder("vconnector-vedge", B.linux_bridge, "<qvb> is the veth peer of OVS port <qvo>; state: OVSDB "
               "link_state", When(mechanisms=("ovs",))),
    LinkFinder("vconnector-vedge", B.bridge_domain, "VPP bridge domain <id>", When(mechanisms=("vpp",))),
    LinkFinder("vnic-vedge", B.kernel_path, "<tap> is a port of <OVS bridge> (or an OVS internal port in the "
               "namespace); state: OVSDB link_state", When(mechanisms=("ovs",))),
    LinkFinder("vnic-vedge", B.vf_path, "VF <n> of <PF> has the vNIC's MAC; state: the VF's link state",
               When(mechanisms=("sriov",))),
    LinkFinder("vnic-vf", B.vf_path, "VF <n> of <PF> has the vNIC's MAC; state: the VF's link state",
               When(mechanisms=("sriov",))),
    LinkFinder("vf-host_pnic", B.vfs, "VF <n> of <PF> (ip link); state: the PF's Link detected"),
    LinkFinder("vedge-otep", B.otep, "agent configuration tunneling_ip", TUNNELS),
    LinkFinder("vconnector-vedge_port", B.linux_bridge, "<qvb> is the veth peer of OVS port <qvo>; state: OVSDB "
               "link_state", When(mechanisms=("ovs",))),
    LinkFinder("vnic-vedge_port", B.kernel_path, "<tap> (or the namespace's internal device) is the OVS port; "
               "state: OVSDB link_state", When(mechanisms=("ovs",))),
    LinkFinder("vedge_port-vedge", B.vedge_ports, "<port> is a port of <OVS bridge> (towards the VMs, or the "
               "bridge's own)", When(mechanisms=("ovs",))),
    LinkFinder("vedge-vedge_port", B.vedge_ports, "patch, tunnel or NIC port <port> of <OVS bridge>",
               When(mechanisms=("ovs",))),
    LinkFinder("vedge_port-vedge_port", B.vedge_ports, "<patch port> options:peer=<peer>; state: OVSDB link_state",
               When(mechanisms=("ovs",))),
    LinkFinder("vedge_port-otep", B.vedge_ports, "<tunnel port> options:local_ip/remote_ip; state: OVSDB "
               "link_state", When(mechanisms=("ovs",), type_drivers=OVERLAYS)),
    LinkFinder("vedge_port-host_pnic", B.vedge_ports, "OVS system port <NIC> is the host NIC; state: Link detected",
               When(mechanisms=("ovs",))),
    LinkFinder("vconnector-vconnector_member", B.member, "<device> is a member of <brq or qbr> (ip link master)",
               When(mechanisms=("lxb", "ovs"))),
    LinkFinder("vconnector_member-vedge_port", B.linux_bridge, "<qvb> is the veth peer of OVS port <qvo>; state: "
               "OVSDB link_state", When(mechanisms=("ovs",))),
    LinkFinder("vconnector_member-otep", B.lxb_uplink, "<vxlan device> (VNI, local IP) is in <brq>",
               When(mechanisms=("lxb",), type_drivers=("vxlan",))),
    LinkFinder("vconnector_member-host_pnic", B.lxb_uplink, "<NIC.VLAN> rides on <NIC>; state: Link detected",
               When(mechanisms=("lxb",))),
    LinkFinder("otep-host_pnic", B.otep_pnic, "<NIC> holds the tunneling IP (VPP: its first uplink); state: "
               "Link detected", TUNNELS),
    LinkFinder("otep-vconnector", B.lxb_uplink, "<vxlan device> (VNI, local IP) is in <brq>",
               When(mechanisms=("lxb",), type_drivers=("vxlan",))),
    LinkFinder("vconnector-host_pnic", B.lxb_uplink, "<NIC or VLAN sub-interface> is in <brq>; state: Link "
               "detected", When(mechanisms=("lxb",))),
    LinkFinder("vedge-host_pnic", B.uplinks, "physical network <physnet> maps to <NIC> (agent bridge, "
               "interface, physnet or device mappings); state: Link detected",
               When(mechanisms=("ovs", "vpp", "sriov")), runs="after"),
    LinkFinder("host_pnic-network", B.uplinks, "ports of <network> are bound here and <NIC> carries its traffic "
               "(tunnel NIC or provider mapping); state: Link detected", runs="after"),
)

VNIC_PATHS: tuple[VnicPathFinder, ...] = (
    VnicPathFinder(B.vf_path, When(mechanisms=("sriov",)), "the VF with the vNIC's MAC"),
    VnicPathFinder(B.vpp_path, When(mechanisms=("vpp",)), "the VPP interface with the vNIC's MAC"),
    VnicPathFinder(B.kernel_path, When(mechanisms=("ovs", "lxb")),
                   "the tap's Linux bridge (qbr, brq), else the OVS port of that name"),
)


# -- the drivers --------------------------------------------------------------------------------------

def _unique(items: Iterable[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def openstack_resources() -> tuple[str, ...]:
    """The API resources the OpenStack declarations name, in fetch.API_RESOURCES order."""
    named = {r for d in OBJECTS if isinstance(d.source, OpenStackSource) for r in d.source.resources}
    return tuple(r.name for r in API_RESOURCES if r.name in named)


def read_openstack(connection: Any, region: str) -> RawOpenStack:
    """Read the resources the hierarchy needs from the cloud's APIs (I/O)."""
    return fetch_openstack(connection, region, resources=openstack_resources())


def openstack_documents(raw: RawOpenStack) -> list[Document]:
    """Every object the APIs describe, each type by its declared producer(s), in declaration order."""
    producers = _unique(p for d in OBJECTS if isinstance(d.source, OpenStackSource) for p in d.produce)
    docs: list[Document] = []
    for produce in producers:
        docs += produce(raw)
    return api.dedupe(docs)


def host_collectors() -> list[HostCollector]:
    """The collectors host declarations name, in HOST_COLLECTORS order."""
    named = {c for d in OBJECTS if isinstance(d.source, HostSource) for c in d.source.collectors}
    return [c for c in HOST_COLLECTORS if c.name in named]


def fetch_host(transport: Transport, host: str) -> HostFacts:
    """Run the declared collectors on one host (I/O): everything the host producers and finders read."""
    facts = HostFacts(host)
    for collector in host_collectors():
        collector.collect(transport, host, facts)
    return facts


def host_steps(objects: Sequence[ObjectDeclaration] = OBJECTS, finders: Sequence[LinkFinder] = LINK_FINDERS
               ) -> list[tuple[Callable[[HostBuilder], None], tuple[When, ...]]]:
    """(step, the conditions under which it runs): the host producers and the link finders that run after
    them, each after the steps that produce what it needs (transform.step); among steps free to go, the
    one declared first. A step runs where any declaration naming it matches."""
    steps: dict[Callable[..., Any], list[When]] = {}
    for declaration in objects:
        if isinstance(declaration.source, HostSource):
            for produce in declaration.produce:
                steps.setdefault(produce, []).append(declaration.when)
    for finder in finders:
        if finder.runs == "after":
            steps.setdefault(finder.finder, []).append(finder.when)
    return [(method, tuple(steps[method])) for method in ordered_steps(list(steps))]


def _needs(method: Callable[..., Any]) -> tuple[str, ...]:
    return tuple(getattr(method, "needs"))  # noqa: B009 - set by transform.step, unknown to the type


def _produces(method: Callable[..., Any]) -> tuple[str, ...]:
    return tuple(getattr(method, "produces"))  # noqa: B009


def ordered_steps(steps: list[Callable[..., Any]]) -> list[Callable[..., Any]]:
    """The steps with each one after every step producing what it needs, otherwise in the given order
    (pure). A step without a declaration, or needing what no step produces, is a ValueError."""
    undeclared = [s.__name__ for s in steps if not hasattr(s, "needs") or not hasattr(s, "produces")]
    if undeclared:
        raise ValueError(f"host steps without @step(needs=..., produces=...): {', '.join(undeclared)}")
    producers = {state for s in steps for state in _produces(s)}
    missing = {f"{s.__name__} needs {need}" for s in steps for need in _needs(s) if need not in producers}
    if missing:
        raise ValueError("no host step produces what another needs: " + "; ".join(sorted(missing)))
    ordered: list[Callable[..., Any]] = []
    produced: set[str] = set()
    waiting = list(steps)
    while waiting:
        ready = next((s for s in waiting
                      if set(_needs(s)) <= produced
                      and not any(set(_needs(s)) & set(_produces(other)) for other in waiting if other is not s)), None)
        if ready is None:
            raise ValueError("host steps need each other: " + ", ".join(s.__name__ for s in waiting))
        ordered.append(ready)
        produced |= set(_produces(ready))
        waiting.remove(ready)
    return ordered


def vnic_path_finder(mechanism: str | None) -> VnicPath | None:
    """The declared path finder for vNICs on a host of this mechanism (None: no L2 agent, no path)."""
    variant = Variant(mechanism=mechanism)
    return next((p.finder for p in VNIC_PATHS if p.when.matches(variant)), None)


def host_documents(facts: HostFacts, index: OpenStackIndex,
                   steps: list[tuple[Callable[[HostBuilder], None], tuple[When, ...]]] | None = None) -> HostResult:
    """One host's objects and links from its facts and the OpenStack view (pure), by the declared steps
    (`steps`: host_steps() of other declarations)."""
    builder = HostBuilder(facts, index, vnic_path_finder)
    variant = Variant(mechanism=builder.mechanism, type_driver=builder.overlay)
    for step, conditions in steps if steps is not None else host_steps():
        if any(when.matches(variant) for when in conditions):
            step(builder)
    return builder.result


# -- printing -----------------------------------------------------------------------------------------

def _name(function: Callable[..., Any]) -> str:
    module = function.__module__.removeprefix("ingest.sources.")
    return f"{module}.{function.__qualname__}"


def print_hierarchy(out: TextIO = sys.stdout) -> None:
    """The tree of declared object types (parent -> children, folder, source, producer, condition, kinds),
    then the link finders and the host commands."""
    children: dict[str, list[ObjectDeclaration]] = {}
    for declaration in OBJECTS:
        if declaration.type != "folder":
            for parent in declaration.parents:
                children.setdefault(parent, []).append(declaration)

    def walk(parent: str, depth: int, seen: tuple[str, ...]) -> None:
        for declaration in children.get(parent, []):
            indent = "    " * depth
            folder = f"{declaration.folder}/ " if declaration.folder else ""
            made = declaration.produce or declaration.made_by
            how = ", ".join(_name(f) for f in made)
            out.write(f"{indent}- {folder}{declaration.type}  [{declaration.source}]  by {how}"
                      f"{'' if declaration.when == ANY else f'  when {declaration.when}'}\n")
            for kind in declaration.kinds:
                out.write(f"{indent}      * {kind.name} ({kind.when}): {kind.evidence}\n")
            if declaration.type not in seen:
                walk(declaration.type, depth + 1, (*seen, declaration.type))

    out.write("Scan hierarchy (object types under their parents)\n")
    out.write(f"{ENVIRONMENT}\n")
    walk(ENVIRONMENT, 1, (ENVIRONMENT,))
    out.write("\nLink finders (link type <- finder: evidence recorded as provenance)\n")
    for finder in LINK_FINDERS:
        out.write(f"    {finder.link_type:<22} <- {_name(finder.finder)} [{finder.when}; runs {finder.runs}]: "
                  f"{finder.evidence}\n")
    out.write("\nvNIC paths (per mechanism)\n")
    for path in VNIC_PATHS:
        out.write(f"    {str(path.when):<22} {_name(path.finder)}: {path.evidence}\n")
    out.write("\nHost commands (collectors, in order)\n")
    for collector in HOST_COLLECTORS:
        out.write(f"    {collector.name:<11} {collector.runs_where} [{collector.when}]: "
                  f"{'; '.join(collector.commands)}\n")
    out.write("\nOpenStack API resources read\n")
    for name in openstack_resources():
        resource = API_RESOURCES_BY_NAME[name]
        out.write(f"    {name:<11} {resource.service} GET {resource.path}\n")
    if NOT_SCANNED:
        out.write("\nIn the schema, not scanned\n")
        for name, why in NOT_SCANNED.items():
            out.write(f"    {name}: {why}\n")


if __name__ == "__main__":
    print_hierarchy()
