"""What the scanner learned about one host from its commands, parsed, before any object is made.

`fetch.py` fills a HostFacts from command output (through `parsers/`); `transform.py` turns
HostFacts plus the OpenStack view into objects and links. Keeping this middle form small and
plain is what lets the transform be pure and unit-tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the parsers import these facts
    from ingest.sources.host.parsers.openflow import Flow


@dataclass
class VirtualFunctionFact:
    """An SR-IOV VF as its physical function lists it (None: the driver does not report it)."""

    index: int
    mac: str
    vlan: int | None
    link_state: str = "auto"  # auto, enable, disable
    spoofchk: bool | None = None
    trust: bool | None = None
    qos: int | None = None


@dataclass
class InterfaceFact:
    """A kernel network device (root namespace, or the namespace in `namespace`)."""

    name: str
    kind: str | None  # None: a plain (physical) device; else bridge, veth, tun, vlan, vxlan, bond, openvswitch...
    mac: str | None
    mtu: int | None
    carrier: bool  # LOWER_UP and administratively up
    master: str | None = None
    admin_up: bool = True  # the UP flag (`ip link set DEV up`)
    physical: bool = False  # backed by a PCI device (ls -l /sys/class/net)
    namespace: str | None = None
    addresses: list[str] = field(default_factory=list)  # CIDRs
    peer: str | None = None  # veth: the other end's name when known
    vlan_id: int | None = None
    parent: str | None = None  # vlan: the device it rides on
    vxlan_id: int | None = None
    vxlan_local: str | None = None
    vxlan_port: int | None = None
    vxlan_remotes: list[str] = field(default_factory=list)  # remote VTEPs: `remote` of the device, fdb `dst`s
    link_detected: bool | None = None  # ethtool
    speed_mbps: int | None = None
    bond_members: list[str] = field(default_factory=list)
    vfs: list[VirtualFunctionFact] = field(default_factory=list)


@dataclass
class OvsPortFact:
    name: str
    bridge: str
    type: str = ""  # "" (system), internal, patch, vxlan, gre
    tag: int | None = None
    options: dict[str, str] = field(default_factory=dict)
    external_ids: dict[str, str] = field(default_factory=dict)
    link_state: str | None = None  # up, down, or None when OVSDB does not say
    ofport: int | None = None  # the OpenFlow port number (-1: the interface could not be created)
    admin_state: str | None = None  # up, down, or None when OVSDB does not say
    error: str | None = None  # why ovs-vswitchd could not create the interface (e.g. no such device)


@dataclass
class DatapathPortFact:
    """A port of the switch's datapath (kernel or userspace) and its number there."""

    name: str
    number: int
    type: str = "system"  # system, internal, tap, vxlan, gre, ...


@dataclass
class DomainInterfaceFact:
    type: str
    mac: str
    target: str | None = None
    source_bridge: str | None = None
    interface_id: str | None = None
    vlan: int | None = None
    mtu: int | None = None


@dataclass
class DomainFact:
    name: str
    uuid: str
    state: str
    interfaces: list[DomainInterfaceFact] = field(default_factory=list)


@dataclass
class VppInterfaceFact:
    name: str
    index: int
    up: bool
    mac: str | None = None
    bridge_domain: int | None = None
    link_up: bool | None = None  # hardware carrier


@dataclass
class CommandFailure:
    """A host command that failed (non-zero exit) or printed what its parser refused: the facts it
    would have given are missing (None, or left out), the host's other facts stand."""

    command: str
    reason: str
    excerpt: str = ""  # the start of the refused output, when there was output
    #: The tool is installed but this service of it is not running (e.g. "openvswitch"): on a host that
    #: does not use the service that is its normal state, not a missing fact.
    service_down: str | None = None

    def __str__(self) -> str:
        return f"`{self.command}` failed: {self.reason}"


@dataclass
class HostFacts:
    host: str
    interfaces: list[InterfaceFact] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    ovs_ports: list[OvsPortFact] | None = None  # None: no Open vSwitch on the host
    domains: list[DomainFact] = field(default_factory=list)
    vpp_interfaces: list[VppInterfaceFact] | None = None  # None: no VPP on the host
    datapath_ports: list[DatapathPortFact] | None = None  # None: no OVS, or neither datapath listing answered
    #: bridge -> its OpenFlow rules (parsers/openflow.py); None: not read (no OVS); a bridge whose dump
    #: failed is missing (its failure is in `failures`)
    openflow: dict[str, list[Flow]] | None = None
    failures: list[CommandFailure] = field(default_factory=list)  # commands whose facts are missing

    def interface(self, name: str, namespace: str | None = None) -> InterfaceFact | None:
        return next((i for i in self.interfaces if i.name == name and i.namespace == namespace), None)
