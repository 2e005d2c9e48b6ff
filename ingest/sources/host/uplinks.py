"""A host's uplinks as deployments declare them, for NICs the scanner cannot tell physical from sysfs.

The scanner counts a device as a physical NIC when sysfs shows a PCI device behind it. Some real
NICs have none (paravirtual or unusual drivers, NICs of a nested cloud, veth cables of a lab built
from namespaces). What a deployment declares names them anyway:

- the Neutron L2 agent's configuration, read from the API (network_agent objects): the OVS agent's
  `bridge_mappings` (the plain ports of each mapped bridge), the Linux bridge agent's
  `interface_mappings`, and the tunneling IP (`tunneling_ip`, `local_ip` in the agent's file): the
  device holding it, followed down through Linux bridges and VLAN sub-interfaces;
- the environment's `uplinks` setting: host name (or glob pattern) -> device names (or glob patterns),
  e.g. `{"*": ["eth*"]}` or `{"compute-1": ["ens3", "ens4"]}`.

Only devices of the host's own namespace that can be a NIC are taken (a plain device, a veth cable
or a bond), never a bridge, a VLAN sub-interface, a tunnel device or a switch's internal port.
Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from ingest.sources.host.facts import HostFacts, InterfaceFact

#: Device kinds an uplink can be (None: a plain device, what a physical NIC's driver shows).
NIC_KINDS = (None, "veth", "bond")
TUNNEL_IP_KEYS = ("tunneling_ip", "local_ip")

UplinkSetting = Mapping[str, Sequence[str]]


def declared_uplinks(facts: HostFacts, agent_config: Mapping[str, Any] | None,
                     setting: UplinkSetting | None = None) -> set[str]:
    """The names of the host's devices its L2 agent's configuration or the environment's `uplinks` setting
    declare as uplinks (see the module docstring)."""
    names = agent_uplinks(facts, agent_config or {}) | setting_uplinks(facts, setting or {})
    return {name for name in names if _can_be_nic(facts.interface(name))}


def agent_uplinks(facts: HostFacts, config: Mapping[str, Any]) -> set[str]:
    """The devices the agent's mappings and tunneling IP name (followed down to the NICs under them)."""
    names: set[str] = set()
    bridges = _values(config.get("bridge_mappings"))
    for port in facts.ovs_ports or []:
        if port.bridge in bridges and port.type == "":
            names.add(port.name)
    for device in _values(config.get("interface_mappings")):
        names |= set(lower_devices(facts, device))
    for key in TUNNEL_IP_KEYS:
        ip = config.get(key)
        holder = address_holder(facts, ip) if isinstance(ip, str) and ip else None
        if holder is not None:
            names |= set(lower_devices(facts, holder))
    return names


def setting_uplinks(facts: HostFacts, setting: UplinkSetting) -> set[str]:
    """The host's devices the `uplinks` setting names: patterns of every host pattern matching the host."""
    patterns = [pattern for host_pattern, listed in setting.items() if fnmatchcase(facts.host, host_pattern)
                for pattern in ([listed] if isinstance(listed, str) else listed)]
    return {i.name for i in facts.interfaces if i.namespace is None
            and any(fnmatchcase(i.name, pattern) for pattern in patterns)}


def address_holder(facts: HostFacts, ip: str) -> str | None:
    """The root-namespace device holding `ip` (any prefix length), or None."""
    return next((i.name for i in facts.interfaces if i.namespace is None
                 and any(cidr.split("/", 1)[0] == ip for cidr in i.addresses)), None)


def lower_devices(facts: HostFacts, name: str) -> list[str]:
    """The devices under `name`: a Linux bridge's ports and a VLAN sub-interface's parent, followed down;
    any other device is its own lower device. Cycles in odd facts are cut."""
    found: list[str] = []

    def down(device: str, seen: tuple[str, ...]) -> None:
        if device in seen:
            return
        iface = facts.interface(device)
        if iface is not None and iface.kind == "bridge":
            for port in sorted(i.name for i in facts.interfaces if i.master == device and i.namespace is None):
                down(port, (*seen, device))
        elif iface is not None and iface.kind == "vlan" and iface.parent:
            down(iface.parent, (*seen, device))
        elif device not in found:
            found.append(device)

    down(name, ())
    return found


def _values(mapping: object) -> set[str]:
    """The values of an agent's `physnet: device` mapping (a dict, or "a:b,c:d" as some agents report)."""
    if isinstance(mapping, Mapping):
        return {str(v) for v in mapping.values() if v}
    if isinstance(mapping, str):
        return {part.split(":", 1)[1].strip() for part in mapping.split(",") if ":" in part}
    if isinstance(mapping, Iterable):
        return {str(part).split(":", 1)[-1].strip() for part in mapping}
    return set()


def _can_be_nic(iface: InterfaceFact | None) -> bool:
    return iface is not None and iface.namespace is None and iface.kind in NIC_KINDS
