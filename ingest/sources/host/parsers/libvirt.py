"""libvirt: `virsh list --all` and `virsh dumpxml DOMAIN`, and the domain fact made of both.

The XML is read with the standard library's ElementTree (defusedxml is not a dependency of the
project). ElementTree never fetches external entities; to also rule out entity-expansion bombs
we refuse any document that declares a DOCTYPE or ENTITY, which libvirt never prints.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field

from ingest.sources.host.facts import DomainFact, DomainInterfaceFact
from ingest.sources.host.parsers.errors import ParseError, guarded, integer, require

_NOVA_NAMESPACE = re.compile(r"^\{http://openstack\.org/xmlns/libvirt/nova/[^}]+\}")


@dataclass
class Domain:
    """One row of `virsh list --all`: running domains have an id, shut-off ones None."""

    id: int | None
    name: str
    state: str  # running, paused, shut off, ... (as virsh prints it; localised if the host is)


@dataclass
class DomainInterface:
    """A guest NIC of the domain XML."""

    type: str  # bridge, network, vhostuser, hostdev, direct, ethernet, ...
    mac: str | None
    target: str | None = None  # the host-side device (tapXXXX)
    source_bridge: str | None = None
    source_network: str | None = None
    source_dev: str | None = None  # macvtap's lower device (type direct)
    virtualport_type: str | None = None  # openvswitch, 802.1Qbh, ...
    interface_id: str | None = None  # the Neutron port id on an openvswitch virtualport
    vhost_socket: str | None = None
    vhost_mode: str | None = None  # server | client
    hostdev_pci: str | None = None  # the VF's PCI address, e.g. 0000:05:10.0
    vlan: int | None = None
    mtu: int | None = None
    model: str | None = None
    alias: str | None = None


@dataclass
class DomainXml:
    """What `virsh dumpxml` tells about a domain: identity, Nova's name for it, its NICs."""

    uuid: str
    name: str
    display_name: str | None = None  # nova:name, the instance name the user chose
    project_id: str | None = None  # nova:owner/nova:project@uuid
    interfaces: list[DomainInterface] = field(default_factory=list)


_ROW = re.compile(r"^\s*(\d+|-)\s+(\S+)\s+(\S.*?)\s*$")


@guarded("virsh list --all")
def parse_virsh_list(text: str, command: str = "virsh list --all") -> list[Domain]:
    """`virsh list --all`: domains with their id (None when not running) and state."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    # the header words are translated on localised hosts; "Id" and the dashed rule are not
    require(lines[0].split()[:1] == ["Id"] and len(lines[0].split()) == 3, command,
            "no ` Id  Name  State` header", text)
    require(len(lines) >= 2 and set(lines[1].strip()) == {"-"}, command, "no dashed rule under the header", text)
    domains = []
    for line in lines[2:]:
        match = _ROW.match(line)
        require(match is not None, command, "a row is not `id name state`", line)
        assert match is not None
        domains.append(Domain(id=None if match.group(1) == "-" else integer(command, match.group(1), "Id", line),
                              name=match.group(2),
                              state=match.group(3)))
    return domains


def _int_attr(element: ElementTree.Element | None, name: str, command: str) -> int | None:
    """An integer attribute (decimal or 0x hex, as libvirt writes them); ParseError naming it when odd."""
    value = element.get(name) if element is not None else None
    if value in (None, ""):
        return None
    assert element is not None and value is not None
    return integer(command, value, f"<{element.tag} {name}=...>", f"<{element.tag} {name}={value!r:.40}>", base=0)


def _pci_address(address: ElementTree.Element | None, command: str) -> str | None:
    """<address type='pci' domain='0x0000' bus='0x05' slot='0x10' function='0x0'/> -> 0000:05:10.0"""
    if address is None or address.get("bus") is None:
        return None
    domain, bus = _int_attr(address, "domain", command) or 0, _int_attr(address, "bus", command) or 0
    slot, function = _int_attr(address, "slot", command) or 0, _int_attr(address, "function", command) or 0
    return f"{domain:04x}:{bus:02x}:{slot:02x}.{function:x}"


def _interface(element: ElementTree.Element, command: str) -> DomainInterface:
    kind = element.get("type", "")
    mac, source, target = element.find("mac"), element.find("source"), element.find("target")
    virtualport, parameters = element.find("virtualport"), element.find("virtualport/parameters")
    model, alias, vlan = element.find("model"), element.find("alias"), element.find("vlan/tag")
    interface = DomainInterface(
        type=kind, mac=mac.get("address") if mac is not None else None,
        target=target.get("dev") if target is not None else None,
        virtualport_type=virtualport.get("type") if virtualport is not None else None,
        interface_id=parameters.get("interfaceid") if parameters is not None else None,
        vlan=_int_attr(vlan, "id", command), mtu=_int_attr(element.find("mtu"), "size", command),
        model=model.get("type") if model is not None else None,
        alias=alias.get("name") if alias is not None else None)
    if source is not None:
        interface.source_bridge = source.get("bridge")
        interface.source_network = source.get("network")
        if kind == "vhostuser":
            interface.vhost_socket, interface.vhost_mode = source.get("path"), source.get("mode")
        elif kind == "hostdev":
            interface.hostdev_pci = _pci_address(source.find("address"), command)
        else:
            interface.source_dev = source.get("dev")
    return interface


@guarded("virsh dumpxml")
def parse_virsh_dumpxml(text: str, command: str = "virsh dumpxml") -> DomainXml:
    """`virsh dumpxml DOMAIN`: uuid, name, Nova's display name and project, and every <interface>."""
    require(bool(text.strip()), command, "empty output (no such domain?)", text)
    require("<!DOCTYPE" not in text and "<!ENTITY" not in text, command,
            "refusing a document with a DOCTYPE or ENTITY declaration", text)
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise ParseError(command, f"not XML ({exc})", text) from None
    uuid, name = root.findtext("uuid"), root.findtext("name")
    require(root.tag == "domain" and bool(uuid) and bool(name), command,
            "not a libvirt <domain> with <name> and <uuid>", text)
    assert uuid is not None and name is not None
    domain = DomainXml(uuid=uuid.strip(), name=name.strip())
    for instance in root.iterfind("metadata/*"):
        namespace = _NOVA_NAMESPACE.match(instance.tag)
        if namespace and instance.tag.endswith("}instance"):
            prefix = namespace.group(0)
            domain.display_name = instance.findtext(f"{prefix}name")
            project = instance.find(f"{prefix}owner/{prefix}project")
            domain.project_id = project.get("uuid") if project is not None else None
    domain.interfaces = [_interface(element, command) for element in root.iterfind("devices/interface")]
    return domain


def domain_fact(domain: DomainXml, state: str) -> DomainFact:
    """A domain as the link finders see it: its state from `virsh list`, its NICs that have a MAC."""
    return DomainFact(domain.name, domain.uuid, state, [
        DomainInterfaceFact(i.type, i.mac, i.target, i.source_bridge, i.interface_id, i.vlan, i.mtu)
        for i in domain.interfaces if i.mac])
