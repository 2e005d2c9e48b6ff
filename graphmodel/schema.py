"""The model, declared once: object types, link types and clique types.

Everything else derives from these declarations: MongoDB indexes, Neo4j labels and
relationship types, the API's type lists, the lab's ground truth, the UI's legend. Adding a
type is one declaration here plus its fetcher or link finder.

Ids are deterministic and stable under renames: each object type documents the immutable
facts its id is built from (`id_rule`), and `object_id()` below is the one function that
builds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

ENVIRONMENT = "environment"


@dataclass(frozen=True)
class ObjectType:
    """A kind of object in the inventory tree."""

    name: str
    parents: tuple[str, ...]
    folder: str | None
    id_rule: str
    attributes: tuple[str, ...] = ()
    description: str = ""

    @property
    def label(self) -> str:
        """The Neo4j label: host_pnic -> HostPnic."""
        return "".join(part.capitalize() for part in self.name.split("_"))


@dataclass(frozen=True)
class LinkType:
    """A single-hop, directed link between two object types."""

    source: str
    target: str
    rule: str
    attributes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.source}-{self.target}"

    @property
    def relationship(self) -> str:
        """The Neo4j relationship type: instance-vnic -> INSTANCE_VNIC."""
        return self.name.replace("-", "_").upper()


@dataclass(frozen=True)
class CliqueType:
    """From a focal point, the ordered link types that make up its clique, for one variant.

    `mechanism_driver` and `type_driver` are "ANY" when the clique fits every value; the most
    specific match wins.
    """

    name: str
    focal_point_type: str
    link_types: tuple[str, ...]
    mechanism_driver: str = "ANY"
    type_driver: str = "ANY"
    distribution: str = "ANY"
    constraints: tuple[str, ...] = field(default=("network",))


#: Fields every object has (DESIGN §3: its type and name, its place in the tree) besides its type's
#: attributes; `host` where it lives on one, the monitoring status where monitoring wrote one.
OBJECT_REQUIRED_FIELDS: tuple[str, ...] = ("id", "type", "name", "parent_id", "parent_type")
OBJECT_FIELDS: tuple[str, ...] = (*OBJECT_REQUIRED_FIELDS, "host", "id_path", "name_path",
                                  "status", "status_text", "status_since")
#: Fields every link has besides its type's attributes: its ends, its state from real evidence and
#: where that came from; `host` where it lives on one, `link_name`, the monitoring status.
LINK_REQUIRED_FIELDS: tuple[str, ...] = ("link_type", "source_id", "target_id", "state", "provenance")
LINK_FIELDS: tuple[str, ...] = (*LINK_REQUIRED_FIELDS, "host", "link_name", "status", "status_text", "status_since")

OBJECT_TYPES: tuple[ObjectType, ...] = (
    ObjectType("region", (ENVIRONMENT,), "regions", "region:<keystone region id>", ("endpoints",)),
    ObjectType("folder", (ENVIRONMENT, "region", "project", "host", "instance", "vservice", "network", "vedge",
                          "vconnector", "host_pnic"), None,
               "<parent id>/<folder name> (top-level folders: the folder name)", ("folder_of",),
               "groups a parent's children of one type, as in the tree a user browses"),
    ObjectType("project", (ENVIRONMENT,), "projects", "<keystone project id>", ("domain_id", "enabled")),
    ObjectType("availability_zone", ("region",), None, "az:<region>:<zone name>", ("hosts",)),
    ObjectType("aggregate", ("region",), "aggregates", "aggregate:<region>:<nova aggregate id>", ("hosts",)),
    ObjectType("host", ("availability_zone",), None, "<hostname>",
               ("host_type", "ip_address", "services", "os_id")),
    ObjectType("instance", ("host",), "instances", "<nova server uuid>",
               ("uuid", "local_name", "project_id", "flavor", "image", "vm_state", "power_state",
                "network_info")),
    ObjectType("vnic", ("instance", "vservice"), "vnics",
               "<host>/<MAC address> (the Neutron port's MAC: the one fact every mechanism shows)",
               ("mac_address", "port_id", "network_id", "addresses", "mtu", "vnic_type")),
    ObjectType("vservice", ("host",), "vservices", "<host>/<namespace name> (qdhcp-<net id>, qrouter-<router id>)",
               ("service_type", "network_id", "router_id")),
    ObjectType("host_pnic", ("host",), "pnics", "<host>/<interface name>",
               ("mac_address", "speed", "duplex", "link_detected", "ip_address", "mtu", "bond_members",
                "master")),
    ObjectType("vconnector", ("host",), "vconnectors",
               "<host>/<bridge name> (OVS hybrid qbr<port>, LXB brq<network>; VPP: <host>/bd-<bridge domain id>)",
               ("interfaces", "network_id", "link_state", "admin_state", "mtu")),
    ObjectType("vedge", ("host",), "vedges", "<host>/vedge-<mechanism: ovs, lxb, vpp, sriov>",
               ("mechanism", "agent_type", "configurations", "ports", "tunnel_ports",
                # OVS agent flows: {network id: local VLAN}, {network id: [remote tunnel IPs it floods to]}
                "local_vlans", "flood_tunnels")),
    ObjectType("vedge_port", ("vedge",), "ports",
               "<host>/<OVS bridge>/<port name> (qvo<port>, tap<port>, patch-tun, vxlan-c0a86416, br-int, eth1...)",
               ("bridge", "port_type", "ofport", "vlan_tag", "link_state", "admin_state", "error", "peer",
                "remote_ip", "local_ip", "port_id", "network_id", "pnic", "mtu"),
               "an Open vSwitch port with its interface, as OVSDB describes it (port_type: system, internal, "
               "patch, vxlan, gre, geneve); `pnic`: the host NIC a system port is; `mtu`: its kernel device's"),
    ObjectType("vconnector_member", ("vconnector",), "members",
               "<host>/<bridge name>/<device name> (vxlan-<VNI>, <NIC>.<VLAN>, qvb<port>)",
               ("member_type", "link_state", "vni", "local_ip", "vlan_id", "lower", "network_id", "mtu"),
               "a Linux bridge's member that is neither a VM's tap nor a NIC: a VXLAN device, a VLAN "
               "sub-interface or an OVS hybrid plug's qvb veth end (link_state: up, down, or lowerlayerdown when "
               "the device under it is down)"),
    ObjectType("vf", ("host_pnic",), "vfs", "<host>/<physical function>/vf-<VF index>",
               ("pf", "vf_index", "mac_address", "vlan", "qos", "spoofchk", "trust", "link_state", "port_id",
                "network_id"),
               "an SR-IOV virtual function as its physical function (the host_pnic) lists it in `ip link`: the "
               "MAC and VLAN the VM's port was given, spoof checking, trust, and link_state (auto: follows the "
               "PF's link; enable; disable: forced down); a VF without a MAC is free and not listed"),
    ObjectType("otep", ("vedge",), "oteps", "<host>/otep-<overlay type>",
               ("overlay_type", "ip_address", "udp_port", "remote_ips")),
    ObjectType("network", ("project",), "networks", "<neutron network uuid>",
               ("project_id", "network_type", "segmentation_id", "physical_network", "cidrs", "mtu", "external",
                "subnets")),
    ObjectType("router", ("project",), "routers", "<neutron router uuid>",
               ("project_id", "status", "admin_state_up", "gateway_network_id", "ha", "distributed",
                "availability_zones"),
               "a Neutron router as the API declares it; where it runs is its qrouter vservice"),
    ObjectType("port", ("network",), "ports", "<neutron port uuid>",
               ("network_id", "mac_address", "device_owner", "device_id", "binding_host", "vif_type", "fixed_ips",
                "status")),
    ObjectType("network_agent", ("host",), "network_agents", "<neutron agent uuid>",
               ("agent_type", "binary", "alive", "configurations")),
    ObjectType("switch", (ENVIRONMENT,), "switches", "switch:<chassis id>", ("model",)),
    ObjectType("switch_pnic", ("switch",), "ports", "<switch id>/<port name>", ("mac_address", "speed")),
)

LINK_TYPES: tuple[LinkType, ...] = (
    LinkType("instance", "vnic", "the vNIC belongs to the instance (libvirt domain uuid, port MAC)"),
    LinkType("vnic", "vconnector", "the vNIC's tap is a member of the bridge (OVS hybrid qbr, LXB brq); "
             "VPP: by MAC", ("network",)),
    LinkType("vconnector", "vedge", "hybrid plug: bridge member qvb is the veth peer of OVS port qvo; "
             "VPP: by name", ("network", "vlan_tag")),
    LinkType("vnic", "vedge", "tap plugged straight into the switch (OVS native, VPP vhost-user, SR-IOV VF)",
             ("network", "vlan_tag")),
    LinkType("vedge", "host_pnic", "a switch port is the physical NIC (bridge mappings for VLAN/flat)",
             ("physical_network",)),
    LinkType("vedge", "otep", "the vedge's tunnel endpoint"),
    # SR-IOV: the VM's port is a VF of the NIC; the vnic-vedge link above stays as its summary.
    LinkType("vnic", "vf", "SR-IOV: the VM's port is the VF with its MAC (REFERENCE: SR-IOV VF by MAC)",
             ("network", "vlan_tag")),
    LinkType("vf", "host_pnic", "SR-IOV: the VF is a function of the physical NIC and leaves by its port"),
    # Every hop an object: the ports of Open vSwitch and the members of Linux bridges. The links above
    # (vconnector-vedge, vnic-vedge, otep-vconnector, vconnector-host_pnic) stay as the summary monitoring,
    # cliques and invariants read; the datapath walk goes through the port or member that details them.
    LinkType("vconnector", "vedge_port", "hybrid plug: bridge member qvb is the veth peer of OVS port qvo",
             ("network",)),
    LinkType("vnic", "vedge_port", "the tap (OVS native) or the namespace's internal device is the OVS port",
             ("network",)),
    LinkType("vedge_port", "vedge", "a port towards the VMs (or a bridge's own port) on the switch, with the "
             "port's local VLAN", ("network", "vlan_tag")),
    LinkType("vedge", "vedge_port", "a port towards the outside: patch, tunnel, a provider bridge's NIC"),
    LinkType("vedge_port", "vedge_port", "patch port and its peer"),
    LinkType("vedge_port", "otep", "a tunnel port sends through the endpoint (`remote_ip`: its peer)",
             ("remote_ip",)),
    LinkType("vedge_port", "host_pnic", "a provider bridge's system port is the NIC"),
    LinkType("vconnector", "vconnector_member", "the device is a member of the Linux bridge", ("network",)),
    LinkType("vconnector_member", "vedge_port", "OVS hybrid plug: the bridge's qvb veth end is the peer of OVS port "
             "qvo", ("network",)),
    LinkType("vconnector_member", "otep", "LXB: the bridge's VXLAN device sends through the endpoint",
             ("network", "segmentation_id")),
    LinkType("vconnector_member", "host_pnic", "LXB: the bridge's VLAN sub-interface rides on the NIC",
             ("network", "vlan_tag")),
    LinkType("otep", "vconnector", "LXB: a bridge whose VXLAN device sends through the endpoint",
             ("network", "segmentation_id")),
    LinkType("otep", "host_pnic", "the physical NIC (or bond) holding the tunneling IP, or under the Linux bridge "
             "or VLAN sub-interface holding it (`via`: the devices passed; `vlan_tag`: the VLAN they add)",
             ("via", "vlan_tag")),
    LinkType("vconnector", "host_pnic", "LXB: the bridge's physical member (a VLAN sub-interface counts)",
             ("network", "vlan_tag")),
    LinkType("host_pnic", "network", "networks with ports bound on that host that the NIC carries",
             ("segmentation_id", "network_type")),
    LinkType("vservice", "vnic", "the namespace's interface", ("network",)),
    LinkType("host_pnic", "switch_pnic", "MAC match in the switch's forwarding table"),
    LinkType("switch_pnic", "switch_pnic", "LLDP neighbours"),
    LinkType("switch", "switch_pnic", "the switch's port"),
)

#: Every attribute a link type declares (network, vlan_tag, ...): the only link fields a filter may name.
LINK_ATTRIBUTES: tuple[str, ...] = tuple(sorted({name for link_type in LINK_TYPES for name in link_type.attributes}))

#: The type of every declared field, one table per type (a name means one thing wherever it is used: `mtu` is
#: an int on a NIC, a vNIC and a network). A field may also hold None: not known, or not applicable here.
#: "list[dict]" is a list of small records (a vedge's datapath ports, an instance's addresses).
FIELD_TYPES_BY_KIND: dict[str, tuple[str, ...]] = {
    "str": ("id", "type", "name", "parent_id", "parent_type", "host", "id_path", "name_path", "status",
            "status_text", "link_type", "source_id", "target_id", "state", "provenance", "link_name", "folder_of",
            "domain_id", "ip_address", "os_id", "uuid", "local_name", "project_id", "flavor", "image", "vm_state",
            "mac_address", "port_id", "network_id", "vnic_type", "service_type", "router_id", "duplex", "master",
            "mechanism", "agent_type", "bridge", "port_type", "link_state", "admin_state", "error", "peer",
            "remote_ip", "local_ip", "pnic", "member_type", "lower", "pf", "overlay_type", "network_type",
            "physical_network", "gateway_network_id", "device_owner", "device_id", "binding_host", "vif_type",
            "binary", "model", "network"),
    "int": ("power_state", "mtu", "speed", "ofport", "vlan_tag", "vni", "vlan_id", "vf_index", "vlan", "qos",
            "udp_port", "segmentation_id"),
    "float": (),
    "bool": ("enabled", "link_detected", "spoofchk", "trust", "external", "admin_state_up", "ha", "distributed",
             "alive"),
    "list[str]": ("hosts", "host_type", "services", "addresses", "bond_members", "interfaces", "remote_ips", "cidrs",
                  "subnets", "availability_zones", "fixed_ips", "via"),
    "list[dict]": ("network_info", "ports", "tunnel_ports"),
    "dict": ("endpoints", "configurations", "local_vlans", "flood_tunnels"),
    "datetime": ("status_since",),
}
FIELD_TYPES: dict[str, str] = {name: kind for kind, names in FIELD_TYPES_BY_KIND.items() for name in names}

#: The hops of a VM's own port on its switch or bridge (OVS port, Linux bridge member), walked before the
#: summary links they detail so that a clique goes outwards from the VM and never back to other ports.
_OVS_PORT = ("vconnector-vconnector_member", "vconnector_member-vedge_port", "vconnector-vedge_port",
             "vnic-vedge_port", "vedge_port-vedge")
_LXB_MEMBER = ("vconnector-vconnector_member", "vconnector_member-otep", "vconnector_member-host_pnic")

CLIQUE_TYPES: tuple[CliqueType, ...] = (
    CliqueType("instance", "instance", ("instance-vnic", "vnic-vconnector", *_OVS_PORT, "vconnector-vedge",
                                        "vedge-otep", *_LXB_MEMBER, "otep-vconnector", "vconnector-host_pnic",
                                        "host_pnic-network")),
    CliqueType("instance-ovs-tunnel", "instance",
               ("instance-vnic", "vnic-vconnector", *_OVS_PORT, "vconnector-vedge", "vnic-vedge", "vedge-otep",
                "otep-host_pnic", "host_pnic-network"), mechanism_driver="ovs"),
    CliqueType("instance-ovs-vlan", "instance",
               ("instance-vnic", "vnic-vconnector", *_OVS_PORT, "vconnector-vedge", "vnic-vedge", "vedge-host_pnic",
                "host_pnic-network"), mechanism_driver="ovs", type_driver="vlan"),
    CliqueType("instance-ovs-flat", "instance",
               ("instance-vnic", "vnic-vconnector", *_OVS_PORT, "vconnector-vedge", "vnic-vedge", "vedge-host_pnic",
                "host_pnic-network"), mechanism_driver="ovs", type_driver="flat"),
    CliqueType("instance-lxb-vxlan", "instance",
               ("instance-vnic", "vnic-vconnector", *_LXB_MEMBER, "vconnector-vedge", "vedge-otep", "otep-vconnector",
                "otep-host_pnic", "host_pnic-network"), mechanism_driver="lxb", type_driver="vxlan"),
    CliqueType("instance-lxb", "instance",
               ("instance-vnic", "vnic-vconnector", *_LXB_MEMBER, "vconnector-host_pnic", "host_pnic-network"),
               mechanism_driver="lxb"),
    CliqueType("instance-vpp", "instance",
               ("instance-vnic", "vnic-vconnector", "vconnector-vedge", "vedge-otep", "otep-host_pnic",
                "vedge-host_pnic", "host_pnic-network"), mechanism_driver="vpp"),
    CliqueType("instance-sriov", "instance",
               ("instance-vnic", "vnic-vf", "vf-host_pnic", "vnic-vedge", "vedge-host_pnic", "host_pnic-network"),
               mechanism_driver="sriov", type_driver="vlan"),
    CliqueType("vservice", "vservice", ("vservice-vnic", "vnic-vconnector", *_OVS_PORT, "vconnector-vedge",
                                        "vnic-vedge", "vedge-otep", *_LXB_MEMBER, "otep-vconnector",
                                        "otep-host_pnic", "vconnector-host_pnic", "vedge-host_pnic",
                                        "host_pnic-network")),
    CliqueType("network", "network", ("host_pnic-network", "vedge-host_pnic", "vconnector-host_pnic",
                                      "vconnector_member-host_pnic", "otep-host_pnic", "vedge-otep",
                                      "otep-vconnector", "vconnector_member-otep", "vconnector-vconnector_member",
                                      "vconnector-vedge", "vedge_port-vedge", "vconnector-vedge_port",
                                      "vnic-vedge_port", "vf-host_pnic", "vnic-vf", "vnic-vedge", "vnic-vconnector",
                                      "instance-vnic",
                                      "vservice-vnic")),
)

OBJECT_TYPES_BY_NAME = {t.name: t for t in OBJECT_TYPES}
LINK_TYPES_BY_NAME = {t.name: t for t in LINK_TYPES}


def object_id(*parts: str) -> str:
    """An object id from immutable facts, joined with '/' (e.g. object_id(host, "eth0"))."""
    if not parts or not all(parts):
        raise ValueError(f"every part of an object id must be non-empty: {parts!r}")
    return "/".join(parts)


# -- the ids of the host-side types, by their `id_rule`: the scanner and the lab's truth both build them here --

def host_pnic_id(host: str, interface: str) -> str:
    return object_id(host, interface)


def vnic_id(host: str, mac: str) -> str:
    return object_id(host, mac)


def vedge_id(host: str, mechanism: str) -> str:
    return object_id(host, f"vedge-{mechanism}")


def otep_id(host: str, overlay: str) -> str:
    return object_id(host, f"otep-{overlay}")


def vconnector_id(host: str, bridge: str) -> str:
    """A Linux bridge (qbr, brq) or, for VPP, `bd-<bridge domain id>`."""
    return object_id(host, bridge)


def vservice_id(host: str, namespace: str) -> str:
    return object_id(host, namespace)


def vedge_port_id(host: str, bridge: str, port: str) -> str:
    """An Open vSwitch port with its interface, on its bridge."""
    return object_id(host, bridge, port)


def vconnector_member_id(host: str, bridge: str, device: str) -> str:
    """A Linux bridge's member that is not a tap (VXLAN device, VLAN sub-interface)."""
    return object_id(host, bridge, device)


def vf_id(host: str, pf: str, index: int) -> str:
    """An SR-IOV virtual function, by its physical function and its index there (fixed by the NIC)."""
    return object_id(host, pf, f"vf-{index}")


def folder_id(parent_id: str, folder: str) -> str:
    """The id of a folder object under its parent, e.g. compute-1/instances."""
    return f"{parent_id}/{folder}"


def uid(environment: str, object_id_: str) -> str:
    """The Neo4j node key: environment and object id."""
    return f"{environment}|{object_id_}"


def undeclared_fields(doc: dict[str, object]) -> list[str]:
    """What a scanned object or link document holds that the schema does not declare, or lacks that it
    requires, each as a message naming the field (pure); [] when it conforms."""
    if "link_type" in doc:
        link_type = LINK_TYPES_BY_NAME.get(str(doc["link_type"]))
        if link_type is None:
            return [f"link type {doc['link_type']!r} is not declared"]
        declared, required, what = set(LINK_FIELDS) | set(link_type.attributes), LINK_REQUIRED_FIELDS, link_type.name
    else:
        object_type = OBJECT_TYPES_BY_NAME.get(str(doc.get("type")))
        if object_type is None:
            return [f"object type {doc.get('type')!r} is not declared"]
        declared, required, what = (set(OBJECT_FIELDS) | set(object_type.attributes), OBJECT_REQUIRED_FIELDS,
                                    object_type.name)
    return ([f"{what}: undeclared field {name!r}" for name in sorted(set(doc) - declared)]
            + [f"{what}: missing field {name!r}" for name in required if name not in doc])


def _has_type(value: object, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)  # True is an int to Python, not to us
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind.startswith("list["):
        item = {"list[str]": str, "list[dict]": dict}[kind]
        return isinstance(value, list) and all(isinstance(v, item) for v in value)
    return isinstance(value, {"str": str, "bool": bool, "dict": dict, "datetime": datetime}[kind])


def field_type_errors(doc: dict[str, object]) -> list[str]:
    """Each field of a scanned object or link document whose value is not of its declared type
    (FIELD_TYPES; None is always allowed), as a message naming the type, the field, the value's type and
    the expected one (pure); [] when every value fits."""
    what = str(doc.get("link_type") or doc.get("type"))
    problems = []
    for name, value in sorted(doc.items()):
        kind = FIELD_TYPES.get(name)
        if value is None or kind is None or _has_type(value, kind):
            continue
        found = type(value).__name__
        if isinstance(value, list):
            found = "list[" + ", ".join(sorted({type(v).__name__ for v in value})) + "]"
        problems.append(f"{what}: field {name!r} is {found} ({value!r:.60}), declared {kind}")
    return problems
